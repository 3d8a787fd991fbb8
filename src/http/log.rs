//! The transparency log, open to anyone (witnesses, auditors, owners'
//! tools): signed checkpoints with their witnesses' cosignatures, the log's
//! verifier key, proofs, the leaf hashes and an overview; witnesses post
//! their cosignatures here. Leaves themselves (who did what) stay private;
//! their hashes commit to them without saying anything (each holds a nonce).

use super::error::{ApiError, ApiQuery};
use super::json::Json;
use super::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use portal_core::domain::transparency::{CosignatureKept, LogOverview, LogSince};
use portal_core::server::error::ServiceError;
use portal_core::server::tlog::{ConsistencyProof, InclusionProof, LeafPage};
use portal_core::server::Portal;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/cosignatures", post(cosignatures))
        .route("/log/overview", get(overview))
        .route("/log/since", get(since))
        .route("/log/key", get(key))
        .route("/log/proof/inclusion", get(inclusion))
        .route("/log/proof/consistency", get(consistency))
        .route("/log/leaves", get(leaves))
}

const TEXT: &str = "text/plain; charset=utf-8";

#[derive(Deserialize)]
struct CheckpointQuery {
    size: Option<u64>,
}

/// The newest checkpoint (or the one of `?size=` leaves) as a signed note
/// (C2SP `tlog-checkpoint`): the log's signature, then the cosignatures of
/// the witnesses this portal expects.
async fn checkpoint(
    State(portal): State<Portal>,
    ApiQuery(q): ApiQuery<CheckpointQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let note = portal.checkpoint_note(q.size).await?;
    Ok((
        [
            (header::CONTENT_TYPE, TEXT),
            (header::CACHE_CONTROL, "no-store"),
        ],
        note,
    ))
}

/// A witness posts a checkpoint note carrying its cosignature.
async fn cosignatures(
    State(portal): State<Portal>,
    body: Bytes,
) -> Result<Json<Vec<CosignatureKept>>, ApiError> {
    let note = std::str::from_utf8(&body).map_err(|_| {
        ServiceError::invalid("not_a_cosigned_checkpoint", "note", "the note is not UTF-8")
    })?;
    Ok(Json(portal.add_cosignature(note).await?))
}

async fn overview(State(portal): State<Portal>) -> Result<Json<LogOverview>, ApiError> {
    Ok(Json(portal.log_overview().await?))
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

#[derive(Deserialize)]
struct SinceQuery {
    size: Option<u64>,
    root: Option<String>,
}

/// The newest checkpoint, and with `?size=&root=` (a checkpoint kept
/// before) whether the log still extends it, with the proof.
async fn since(
    State(portal): State<Portal>,
    ApiQuery(q): ApiQuery<SinceQuery>,
) -> Result<Json<LogSince>, ApiError> {
    let seen = match (q.size, q.root.as_deref()) {
        (Some(size), Some(root)) => Some((size, root)),
        (None, None) => None,
        _ => {
            return Err(ServiceError::invalid(
                "incomplete_checkpoint",
                "size",
                "give both the size and the root of the checkpoint kept",
            )
            .into())
        }
    };
    Ok(Json(portal.log_since(seen).await?))
}
