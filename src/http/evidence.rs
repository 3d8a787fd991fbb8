//! Evidence endpoints anyone may call, signed in or not: the public signing
//! key, and verification of a bundle (JSON for scripts, a form for the page).
//!
//! Both verify routes are open to anyone, so their work is bounded: the
//! upload is spooled to a temporary file up to `Portal::verify_max_bytes`
//! (413 above), the strict reader refuses archives beyond its bounds before
//! inflating anything, and at most [`VERIFY_SLOTS`] checks run at once.

use super::error::{error_response, ApiError};
use super::json::Json;
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::{Stream, TryStreamExt};
use portal_core::server::error::ServiceError;
use portal_core::server::seal::VehicleCa;
use portal_core::server::signing::PublicKey;
use portal_core::server::tlog::cosign::WitnessKey;
use portal_core::server::verify::{verify_bundle_file, LogTrust, Trust};
use portal_core::server::Portal;
use std::io::Write;
use std::sync::OnceLock;

/// Checks running at once; further requests wait their turn.
pub const VERIFY_SLOTS: usize = 2;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/portal-signing-key", get(signing_key))
        .route("/.well-known/vehicle-ca", get(vehicle_cas))
        .route("/api/v1/verify", post(verify_api))
        .route("/verify", post(verify_form))
        // The multipart extractor's own 2 MB default would cut bundles short;
        // `spool` applies the portal's limit instead.
        .layer(DefaultBodyLimit::disable())
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

/// The vehicle CAs this portal trusts, as configured (an empty list: none).
async fn vehicle_cas(State(portal): State<Portal>) -> Json<Vec<VehicleCa>> {
    Json(portal.vehicle_cas.published())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(ServiceError::Internal(e.to_string()))
}

/// Why an upload was not spooled whole.
enum Spool {
    Empty,
    TooLarge,
    Broken(String),
}

/// Writes an upload to a temporary file, refusing it past `limit` bytes.
async fn spool(
    chunks: impl Stream<Item = Result<Bytes, Spool>>,
    limit: u64,
) -> Result<Result<tempfile::NamedTempFile, Spool>, ApiError> {
    let mut file = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut size = 0u64;
    futures::pin_mut!(chunks);
    loop {
        match chunks.try_next().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    return Ok(Err(Spool::TooLarge));
                }
                file.write_all(&chunk).map_err(internal)?;
            }
            Ok(None) if size == 0 => return Ok(Err(Spool::Empty)),
            Ok(None) => break,
            Err(e) => return Ok(Err(e)),
        }
    }
    file.flush().map_err(internal)?;
    Ok(Ok(file))
}

fn verify_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(VERIFY_SLOTS))
}

/// Checks a spooled bundle off the async runtime, a bounded number at a time.
/// The vehicle seals in it are checked against the vehicle CAs this portal trusts.
/// Its log proof with the log key its manifest names, and against `witnesses`
/// (the reader's, from the page's form) when given.
async fn check(
    file: tempfile::NamedTempFile,
    key: PublicKey,
    vehicle_cas: std::sync::Arc<portal_core::server::seal::TrustAnchors>,
    witnesses: Vec<WitnessKey>,
) -> Result<portal_core::domain::export::Verification, ApiError> {
    let _slot = verify_slots().acquire().await.map_err(internal)?;
    tokio::task::spawn_blocking(move || {
        let file = file.reopen()?;
        let trust = Trust {
            vehicle_cas: (!vehicle_cas.is_empty()).then_some(&*vehicle_cas),
            log: LogTrust {
                log_key: None,
                witnesses: &witnesses,
            },
        };
        Ok::<_, std::io::Error>(verify_bundle_file(&file, &key, &trust))
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// `POST /api/v1/verify` with the zip as the body: `{valid, problems, …}`.
async fn verify_api(
    State(portal): State<Portal>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = public_key(&portal)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let limit = portal.verify_max_bytes;
    let spooled = if declared.is_some_and(|n| n > limit) {
        Err(Spool::TooLarge)
    } else {
        spool(
            body.into_data_stream()
                .map_err(|e| Spool::Broken(e.to_string())),
            limit,
        )
        .await?
    };
    let file = match spooled {
        Ok(file) => file,
        Err(Spool::Empty) => {
            return Ok(error_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty_body",
                "send the bundle (a zip file) as the request body",
            ))
        }
        Err(Spool::TooLarge) => {
            return Ok(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!(
                    "bundles over {limit} bytes are not checked here; run `portal verify BUNDLE.zip --key KEY.json`"
                ),
            ))
        }
        Err(Spool::Broken(e)) => {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                &format!("the bundle could not be read whole: {e}"),
            ))
        }
    };
    Ok(Json(check(file, key, portal.vehicle_cas.clone(), Vec::new()).await?).into_response())
}

/// The `/verify` page's form (multipart, field `bundle`): back to the page
/// with the result in its address, so it works without JavaScript.
async fn verify_form(
    State(portal): State<Portal>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let key = public_key(&portal)?;
    let mut spooled = Err(Spool::Empty);
    let mut witnesses = Vec::new();
    loop {
        match form.next_field().await {
            // Before the bundle in the form: the witnesses the reader trusts,
            // one NAME=KEY a line.
            Ok(Some(field)) if field.name() == Some("witnesses") => {
                let text = field.text().await.unwrap_or_default();
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    match WitnessKey::parse_config(line) {
                        Ok(key) => witnesses.push(key),
                        Err(_) => {
                            return Ok(Redirect::to("/verify?result=bad_witness").into_response())
                        }
                    }
                }
            }
            Ok(Some(field)) if field.name() == Some("bundle") => {
                let chunks = field.map_err(|e| match e.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Spool::TooLarge,
                    _ => Spool::Broken(e.body_text()),
                });
                spooled = spool(chunks, portal.verify_max_bytes).await?;
                break;
            }
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                spooled = Err(Spool::TooLarge);
                break;
            }
            Err(e) => {
                spooled = Err(Spool::Broken(e.body_text()));
                break;
            }
        }
    }
    let file = match spooled {
        Ok(file) => file,
        Err(Spool::TooLarge) => return Ok(Redirect::to("/verify?result=too_large").into_response()),
        Err(Spool::Empty | Spool::Broken(_)) => {
            return Ok(Redirect::to("/verify?result=empty").into_response())
        }
    };
    let v = check(file, key, portal.vehicle_cas.clone(), witnesses).await?;
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
    if let Some(s) = &v.sealed {
        let summary = format!(
            "{}.{}.{}.{}.{}.{}",
            s.seals,
            s.verified,
            s.withheld,
            s.unsealed,
            s.missing_batches.len(),
            u8::from(s.ca_checked)
        );
        param("sealed", &summary);
        param("keys", &s.keys.join(" "));
    }
    // `log=size.imports.disclosure.witnessed size.witnessed imports.checked`.
    if let Some(l) = &v.log {
        let witnessed = l.witnessed.as_ref();
        param(
            "log",
            &format!(
                "{}.{}.{}.{}.{}.{}",
                l.size,
                l.imports,
                l.disclosure.unwrap_or_default(),
                witnessed.map_or(0, |w| w.size),
                witnessed.map_or(0, |w| w.imports),
                u8::from(l.witnesses_checked)
            ),
        );
        for c in witnessed.iter().flat_map(|w| &w.cosigned_by) {
            param("cosigned", &format!("{} {}", c.name, c.at));
        }
    }
    // The address stays short: the API and `portal verify` list every problem.
    for p in v.problems.iter().take(20) {
        param("problem", &p.short());
    }
    Ok(Redirect::to(&target).into_response())
}
