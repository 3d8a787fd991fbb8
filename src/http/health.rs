//! Probes for the load balancer and the orchestrator: `/healthz` says the
//! process serves (it touches nothing); `/readyz` says it can do its work
//! (the database answers and every migration is applied), 503 otherwise.

use super::json::Json;
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use portal_core::server::Portal;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(portal): State<Portal>) -> (StatusCode, Json<Value>) {
    let r = portal.readiness().await;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if r.ready { "ready" } else { "not_ready" },
        "database": if r.database { "ok" } else { "unreachable" },
        "migrations": {"applied": r.migrations_applied, "known": r.migrations_known},
    });
    (status, Json(body))
}
