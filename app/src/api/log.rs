//! Server function for the transparency log's page; `GET /log/overview` is
//! its REST twin. Open to anyone, signed in or not.

use leptos::prelude::*;
use portal_core::domain::transparency::{LogOverview, LogSince};

#[server(endpoint = "transparency_log")]
pub async fn transparency_log() -> Result<LogOverview, ServerFnError> {
    let (portal, _) = super::auth::ssr::context().await?;
    portal
        .log_overview()
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}

/// The newest checkpoint, and the check of one the reader kept.
#[server(endpoint = "checkpoint_kept")]
pub async fn checkpoint_kept(
    #[server(default)] seen_size: Option<u64>,
    #[server(default)] seen_root: Option<String>,
) -> Result<LogSince, ServerFnError> {
    let (portal, _) = super::auth::ssr::context().await?;
    let seen = seen_size.zip(seen_root.as_deref().filter(|r| !r.is_empty()));
    portal
        .log_since(seen)
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}
