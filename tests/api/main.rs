//! The server over real HTTP, one test binary (shared helpers compile once).

mod helpers;
#[path = "../support/serve.rs"]
mod serve;

mod accounts;
mod activity;
mod browse;
mod changes;
mod evidence;
mod export;
mod formats;
mod hardening;
mod http;
mod ingest;
mod location;
mod log;
mod log_evidence;
mod openapi;
mod privacy;
mod replica;
mod report;
mod scale;
mod sealed;
mod sharing;
mod staff;
mod telemetry;
mod witness;
