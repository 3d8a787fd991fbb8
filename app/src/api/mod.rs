//! Server functions: thin wrappers that call the server-side services.
pub mod auth;
pub mod browse;
pub mod locale;
pub mod log;
pub mod privacy;
pub mod sharing;
pub mod staff;

/// Where server functions are served (`/api/<endpoint>`); the REST API
/// lives apart, under `/api/v1`.
pub const SERVER_FN_PREFIX: &str = "/api/";
