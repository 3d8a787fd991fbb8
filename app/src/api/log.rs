//! Server function for the transparency log's page; `GET /log/overview` is
//! its REST twin. Open to anyone, signed in or not.

use leptos::prelude::*;
use portal_core::domain::transparency::LogOverview;

#[server(endpoint = "transparency_log")]
pub async fn transparency_log() -> Result<LogOverview, ServerFnError> {
    let (portal, _) = super::auth::ssr::context().await?;
    portal
        .log_overview()
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}
