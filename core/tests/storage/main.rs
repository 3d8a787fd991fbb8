//! The store and import on real databases (SQLite files, or PostgreSQL with
//! `PORTAL_TEST_BACKEND=postgres`), one test binary.

mod common;

mod batches;
mod import;
mod jobs;
mod sealed;
mod store;
mod vocabulary;
