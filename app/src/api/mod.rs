//! Server functions: thin wrappers that call the server-side services.
pub mod auth;
pub mod browse;
pub mod locale;
pub mod staff;
