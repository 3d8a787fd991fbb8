//! One module per page.
pub mod access;
pub mod account;
pub mod api_reference;
pub mod case;
pub mod drives;
pub mod event;
pub mod events;
pub mod export;
pub mod export_job;
pub mod home;
pub mod not_found;
pub mod sign_in;
pub mod sign_up;
pub mod staff;
pub mod telemetry;
pub mod vehicle;
pub mod verify;
