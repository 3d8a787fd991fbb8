//! Evidence endpoints anyone may call, signed in or not: the public signing
//! key, and verification of a bundle (JSON for scripts, a form for the page).

use super::error::{error_response, ApiError};
use super::AppState;
use app::server::error::ServiceError;
use app::server::signing::PublicKey;
use app::server::verify::verify_bundle;
use app::server::Portal;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::TryStreamExt;
use std::io::Write;

/// Bundles up to this size are checked.
pub const BUNDLE_LIMIT: usize = 2 * 1024 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/portal-signing-key", get(signing_key))
        .route("/api/v1/verify", post(verify_api))
        .route("/verify", post(verify_form))
}

fn public_key(portal: &Portal) -> Result<PublicKey, ApiError> {
    portal
        .signer
        .as_ref()
        .map(|s| s.public_key())
        .ok_or_else(|| ApiError(ServiceError::Internal("no signing key is loaded".into())))
}

async fn signing_key(State(portal): State<Portal>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(public_key(&portal)?))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(ServiceError::Internal(e.to_string()))
}

/// Checks a spooled bundle off the async runtime.
async fn check(
    file: tempfile::NamedTempFile,
    key: PublicKey,
) -> Result<app::domain::export::Verification, ApiError> {
    tokio::task::spawn_blocking(move || {
        let reader = std::io::BufReader::new(file.reopen()?);
        Ok::<_, std::io::Error>(verify_bundle(reader, &key))
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// `POST /api/v1/verify` with the zip as the body: `{valid, problems, …}`.
async fn verify_api(State(portal): State<Portal>, body: Body) -> Result<Response, ApiError> {
    let key = public_key(&portal)?;
    let mut file = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut size = 0usize;
    loop {
        match stream.try_next().await {
            Ok(Some(chunk)) => {
                size += chunk.len();
                file.write_all(&chunk).map_err(internal)?;
            }
            Ok(None) => break,
            Err(e) => {
                return Ok(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    &format!("the bundle could not be read whole: {e}"),
                ))
            }
        }
    }
    if size == 0 {
        return Ok(error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_body",
            "send the bundle (a zip file) as the request body",
        ));
    }
    file.flush().map_err(internal)?;
    Ok(Json(check(file, key).await?).into_response())
}

/// The `/verify` page's form (multipart, field `bundle`): back to the page
/// with the result in its address, so it works without JavaScript.
async fn verify_form(
    State(portal): State<Portal>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let key = public_key(&portal)?;
    let mut file = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut size = 0usize;
    while let Ok(Some(mut field)) = form.next_field().await {
        if field.name() != Some("bundle") {
            continue;
        }
        while let Ok(Some(chunk)) = field.chunk().await {
            size += chunk.len();
            file.write_all(&chunk).map_err(internal)?;
        }
    }
    if size == 0 {
        return Ok(Redirect::to("/verify?result=empty").into_response());
    }
    file.flush().map_err(internal)?;
    let v = check(file, key).await?;
    let mut target = format!(
        "/verify?result={}",
        if v.valid { "valid" } else { "invalid" }
    );
    let mut param = |k: &str, value: &str| {
        target.push_str(&format!(
            "&{k}={}",
            app::components::browse::encode_query_value(value)
        ))
    };
    if let Some(id) = &v.bundle_id {
        param("bundle", id);
    }
    if let Some(vin) = &v.vin {
        param("vin", vin);
    }
    if let Some(sha) = &v.manifest_sha256 {
        param("manifest", sha);
    }
    for p in &v.problems {
        param("problem", &p.short());
    }
    Ok(Redirect::to(&target).into_response())
}
