//! The axum application: Leptos pages and server functions, the REST API,
//! sessions, and the request-safety layers around all of them.

mod api;
mod assets;
mod download;
pub mod error;
mod evidence;
mod health;
mod ingest;
mod json;
mod live;
mod log;
mod principal;
mod privacy;
pub mod security;
pub mod sessions;
mod sharing;
mod staff;

use app::{shell, App};
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use portal_core::server::Portal;
use sessions::Sessions;

/// Request bodies above this are refused (413) unless a route allows more.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub portal: Portal,
}

/// Builds the whole application. `secure` turns on Secure/`__Host-` cookies
/// and HSTS (the default; off only for plain-http local use).
pub fn router(state: AppState, sessions: Sessions, secure: bool) -> Router {
    let routes = page_routes();
    let provide = {
        let portal = state.portal.clone();
        move || provide_context(portal.clone())
    };
    let mut app = Router::new()
        .merge(api::routes())
        .merge(sharing::routes())
        .merge(privacy::routes())
        .merge(live::routes())
        .merge(staff::routes())
        .merge(health::routes())
        .merge(assets::routes())
        .leptos_routes_with_context(&state, routes, provide.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide, shell))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        // Bundles to verify may be large (bounded by the routes themselves).
        .merge(evidence::routes())
        .merge(log::routes())
        // Ingest bodies are streamed and limited by the portal's own setting.
        .merge(ingest::routes())
        .with_state(state)
        .layer(sessions.layer(secure))
        .layer(middleware::from_fn(error::json_error_bodies))
        .layer(middleware::from_fn(security::same_origin_mutations))
        .layer(middleware::from_fn(security::security_headers));
    if secure {
        app = app.layer(axum::Extension(security::Hsts));
    }
    app
}

/// The pages' routes, listed once per process. Leptos lists them by running
/// the app with resource loading switched off for the whole process, and a
/// page that starts loading meanwhile never finishes (leptos-rs/leptos#4773):
/// a second router (another listener, every test's server) must not list
/// them again while pages render.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Resolves when the process is asked to stop (SIGTERM or Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
