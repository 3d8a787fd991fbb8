//! The Leptos application: pages, components, server functions and shared
//! types; with the `ssr` feature also the server-side services and the store.
#![recursion_limit = "256"]

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub mod api;
mod app;
pub mod components;
pub mod domain;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod session;

pub use app::{shell, App};
