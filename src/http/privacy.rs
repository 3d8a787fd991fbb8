//! Privacy zones over HTTP (`/api/v1/me/privacy-zones`): thin, the service
//! in `portal_core::server::privacy` decides.

use super::error::{ApiError, ApiJson};
use super::json::Json;
use super::principal::MaybeSignedIn;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::Router;
use portal_core::domain::privacy::NewZoneRequest;
use portal_core::server::Portal;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/privacy-zones", get(zones).post(add_zone))
        .route("/api/v1/me/privacy-zones/{id}", delete(remove_zone))
}

async fn zones(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
) -> Result<impl IntoResponse, ApiError> {
    let items = portal.privacy_zones(who.as_ref()).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn add_zone(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    ApiJson(body): ApiJson<NewZoneRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let zone = portal.add_privacy_zone(who.as_ref(), &body).await?;
    Ok((StatusCode::CREATED, Json(zone)))
}

async fn remove_zone(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    portal.remove_privacy_zone(who.as_ref(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
