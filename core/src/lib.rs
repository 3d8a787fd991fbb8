//! The portal's core, with no web framework in it.
//!
//! - `domain`: the types the server and the browser share (records, the
//!   interchange format's vocabulary, pages of results, the bundle manifest).
//!   Always compiled, also to WebAssembly.
//! - `server` (feature `server`): the services, the one authorization gate
//!   (`server::authz`), the store traits and their SQLite and PostgreSQL
//!   backends, import, export and bundle verification.
//!
//! Pages, components, server functions and the web glue they share with the
//! REST handlers (the session, the client address) live in the `app` crate;
//! axum wiring and the CLI in the `portal` crate. See `docs/architecture.md`.

pub mod domain;
#[cfg(feature = "server")]
pub mod server;
