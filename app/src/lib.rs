//! The Leptos application: pages, components and server functions. The
//! types they share with the server, and the services the server functions
//! call, are in `portal-core`; with `ssr`, `session` and `client` are the
//! request glue the server functions share with the REST handlers.
#![recursion_limit = "256"]

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub mod api;
mod app;
#[cfg(feature = "ssr")]
pub mod client;
pub mod components;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod session;

pub use app::{shell, App};
