//! Types shared by the server and the browser.
pub mod account;
pub mod audit;
pub mod browse;
pub mod chart;
pub mod dictionary;
pub mod export;
pub mod log_format;
pub mod manifest;
pub mod privacy;
pub mod records;
pub mod sealed;
pub mod sharing;
pub mod staff;
pub mod time;
pub mod transparency;
pub mod vin;
pub mod vocabulary;

pub use vin::{Vin, VinError};
