//! The transparency log, open to anyone (witnesses, auditors, owners'
//! tools): the newest signed checkpoint, the log's verifier key, proofs and
//! the leaf hashes. Leaves themselves (who did what) stay private; their
//! hashes commit to them without saying anything (each holds a nonce).

use super::error::{ApiError, ApiQuery};
use super::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use portal_core::server::error::ServiceError;
use portal_core::server::tlog::{ConsistencyProof, InclusionProof, LeafPage};
use portal_core::server::Portal;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/key", get(key))
        .route("/log/proof/inclusion", get(inclusion))
        .route("/log/proof/consistency", get(consistency))
        .route("/log/leaves", get(leaves))
}

const TEXT: &str = "text/plain; charset=utf-8";

/// The newest checkpoint as a signed note (C2SP `tlog-checkpoint`).
async fn checkpoint(State(portal): State<Portal>) -> Result<impl IntoResponse, ApiError> {
    let checkpoint = portal.log_checkpoint().await?;
    Ok((
        [
            (header::CONTENT_TYPE, TEXT),
            (header::CACHE_CONTROL, "no-store"),
        ],
        checkpoint.note,
    ))
}

/// The log's verifier key, `<origin>+<key id>+<base64 key>`, one line.
async fn key(State(portal): State<Portal>) -> Result<impl IntoResponse, ApiError> {
    let key = portal
        .log
        .as_ref()
        .ok_or_else(|| ServiceError::Internal("no log key is loaded".into()))?;
    Ok((
        [(header::CONTENT_TYPE, TEXT)],
        format!("{}\n", key.verifier().encode()),
    ))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

async fn inclusion(
    State(portal): State<Portal>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    Ok(Json(portal.inclusion_proof(q.index, q.size).await?))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(
    State(portal): State<Portal>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    Ok(Json(portal.consistency_proof(q.old, q.new).await?))
}

#[derive(Deserialize)]
struct LeavesQuery {
    #[serde(default)]
    from: u64,
}

async fn leaves(
    State(portal): State<Portal>,
    ApiQuery(q): ApiQuery<LeavesQuery>,
) -> Result<Json<LeafPage>, ApiError> {
    Ok(Json(portal.leaf_page(q.from).await?))
}
