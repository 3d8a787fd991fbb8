//! The support console's REST API (`/api/v1/staff/…`). Every handler is
//! thin: staff reads of a vehicle call the owners' services as the staff
//! member acting in the case, so they pass the same gate.

use super::download::Download;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::json::Json;
use super::principal::MaybeSignedIn;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use portal_core::domain::staff::{CaseExportRequest, CaseListQuery, LookupQuery, NewCaseRequest};
use portal_core::server::events::EventQuery;
use portal_core::server::telemetry::SampleQuery;
use portal_core::server::Portal;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/lookup", get(lookup))
        .route("/api/v1/staff/accounts", post(add_staff))
        .route("/api/v1/staff/cases", get(list_cases).post(open_case))
        .route("/api/v1/staff/cases/{case_no}", get(case_view))
        .route("/api/v1/staff/cases/{case_no}/notes", post(add_note))
        .route("/api/v1/staff/cases/{case_no}/status", post(set_status))
        .route("/api/v1/staff/cases/{case_no}/samples", get(samples))
        .route("/api/v1/staff/cases/{case_no}/events", get(events))
        .route(
            "/api/v1/staff/cases/{case_no}/events/{id}",
            get(event_detail),
        )
        .route("/api/v1/staff/cases/{case_no}/exports", post(export))
        .route(
            "/api/v1/staff/cases/{case_no}/exports/{bundle_id}",
            get(export_file),
        )
}

async fn lookup(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    ApiQuery(query): ApiQuery<LookupQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.lookup(who.as_ref(), &query.q).await?))
}

#[derive(Deserialize)]
struct NewStaffBody {
    account: String,
    role: String,
}

/// Admins only (support gets 403): a staff account and its enrolment, once.
async fn add_staff(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    ApiJson(body): ApiJson<NewStaffBody>,
) -> Result<impl IntoResponse, ApiError> {
    let by = who.as_ref().ok_or(ApiError(
        portal_core::server::error::ServiceError::Unauthenticated,
    ))?;
    let staff = portal
        .add_staff(Some(by), &body.account, &body.role)
        .await?;
    Ok((StatusCode::CREATED, Json(staff)))
}

async fn list_cases(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    ApiQuery(filter): ApiQuery<CaseListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let items = portal
        .case_list(who.as_ref(), filter.status.as_deref())
        .await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn open_case(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    ApiJson(body): ApiJson<NewCaseRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let case = portal.open_case(who.as_ref(), &body).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

async fn case_view(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.case_view(who.as_ref(), &case_no).await?))
}

#[derive(Deserialize)]
struct Note {
    text: String,
}

async fn add_note(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
    ApiJson(body): ApiJson<Note>,
) -> Result<StatusCode, ApiError> {
    portal.case_note(who.as_ref(), &case_no, &body.text).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct NewStatus {
    status: String,
}

async fn set_status(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
    ApiJson(body): ApiJson<NewStatus>,
) -> Result<StatusCode, ApiError> {
    portal
        .set_case_status(who.as_ref(), &case_no, &body.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn samples(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
    ApiQuery(query): ApiQuery<SampleQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (reader, vin) = portal.in_case(who.as_ref(), &case_no).await?;
    Ok(Json(portal.samples(Some(&reader), &vin, &query).await?))
}

async fn events(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (reader, vin) = portal.in_case(who.as_ref(), &case_no).await?;
    Ok(Json(portal.events(Some(&reader), &vin, &query).await?))
}

async fn event_detail(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path((case_no, id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let (reader, vin) = portal.in_case(who.as_ref(), &case_no).await?;
    Ok(Json(
        portal.event_detail(Some(&reader), &vin, &id, None).await?,
    ))
}

async fn export(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(case_no): Path<String>,
    ApiJson(body): ApiJson<CaseExportRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let attached = portal.export_to_case(who.as_ref(), &case_no, &body).await?;
    Ok((StatusCode::CREATED, Json(attached)))
}

async fn export_file(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path((case_no, bundle_id)): Path<(String, String)>,
) -> Result<Download, ApiError> {
    Ok(Download(
        portal
            .case_export_file(who.as_ref(), &case_no, &bundle_id)
            .await?,
    ))
}
