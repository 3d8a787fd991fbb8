//! `POST /api/v1/ingest`: the data center's pipeline pushes NDJSON (or gzip)
//! with a bearer token. The body is streamed into the same import the CLI
//! runs, never buffered whole: 200 with the summary, 422 with the errors
//! and nothing stored, 413 over the configured size.

use super::error::{error_response, ApiError, ImportFailure};
use super::json::Json;
use super::principal::bearer;
use super::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::{StreamExt, TryStreamExt};
use portal_core::server::Portal;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/ingest", post(ingest))
}

/// The read error a body over the limit ends with (mapped to 413).
#[derive(Debug, thiserror::Error)]
#[error("the body is larger than {limit} bytes")]
pub struct BodyTooLarge {
    pub limit: u64,
}

fn unauthenticated() -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "send a live ingest token: Authorization: Bearer pit_…",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

fn too_large(limit: u64) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &BodyTooLarge { limit }.to_string(),
    )
}

async fn ingest(
    State(portal): State<Portal>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(secret) = bearer(&headers) else {
        return Ok(unauthenticated());
    };
    let token = match portal.ingest_token(secret).await {
        Ok(token) => token,
        Err(portal_core::server::error::ServiceError::Unauthenticated) => {
            return Ok(unauthenticated())
        }
        Err(e) => return Err(e.into()),
    };
    let limit = portal.ingest_max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(too_large(limit));
    }
    // Count as the bytes arrive: a chunked body has no length to check first.
    let mut received = 0u64;
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .map(move |chunk| {
            let chunk = chunk?;
            received += chunk.len() as u64;
            if received > limit {
                return Err(std::io::Error::other(BodyTooLarge { limit }));
            }
            Ok(chunk)
        });
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    match portal.ingest(&token, reader).await {
        Ok(summary) => Ok((StatusCode::OK, Json(summary)).into_response()),
        Err(e) => Ok(ImportFailure(e).into_response()),
    }
}
