//! Sharing over HTTP: an owner's grants (`/api/v1/vehicles/{vin}/grants`),
//! the link a recipient opens (`/shared/{token}`) and the changes feed
//! (`…/changes`) for continuous access. Thin: the services
//! in `portal_core::server::sharing` decide.

use super::error::{ApiError, ApiJson, ApiQuery};
use super::json::Json;
use super::principal::MaybeSignedIn;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get};
use axum::Router;
use portal_core::domain::browse::PageQuery;
use portal_core::domain::sharing::NewGrantRequest;
use portal_core::server::authz::Principal;
use portal_core::server::error::ServiceError;
use portal_core::server::Portal;
use serde_json::json;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/vehicles/{vin}/grants",
            get(grants).post(create_grant),
        )
        .route("/api/v1/vehicles/{vin}/grants/{id}", delete(revoke_grant))
        .route("/api/v1/vehicles/{vin}/changes", get(changes))
        .route("/shared/{token}", get(open_shared))
}

async fn grants(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let items = portal.grants(who.as_ref(), &vin).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn create_grant(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiJson(body): ApiJson<NewGrantRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let issued = portal.create_grant(who.as_ref(), &vin, &body).await?;
    Ok((
        StatusCode::CREATED,
        // The token is in this reply only: no cache may keep it.
        [(header::CACHE_CONTROL, "no-store")],
        Json(issued),
    ))
}

async fn revoke_grant(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path((vin, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    portal.revoke_grant(who.as_ref(), &vin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The changes feed: what was stored since the cursor, in import order.
async fn changes(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.changes(who.as_ref(), &vin, &page).await?))
}

/// The grant's link: opens a recipient's session (under a fresh id, any
/// account on this browser signed out) and shows the vehicle. The gate
/// decides every page from there on, so a revoked or expired grant's link
/// leads to not-found pages, each refusal recorded for the owner.
async fn open_shared(
    State(portal): State<Portal>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Some(Principal::Recipient(grant)) = portal.recipient(&token).await? else {
        return Err(ApiError(ServiceError::NotFound));
    };
    app::session::start_shared(&session, grant.id).await?;
    Ok((
        // The link holds the token: keep it out of the next page's referrer.
        [(header::REFERRER_POLICY, "no-referrer")],
        Redirect::to(&format!("/vehicles/{}", grant.vin)),
    )
        .into_response())
}
