//! The store and import on real SQLite files, one test binary.

mod common;

mod import;
mod store;
