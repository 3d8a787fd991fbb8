//! The REST API under `/api/v1` (`shared/spec/api.md`). Handlers are thin:
//! they read the request, call `Portal`, and shape the reply.

use super::download::Download;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::json::Json;
use super::principal::{MaybeSignedIn, SignedIn};
use super::AppState;
use app::client::ClientAddress;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use portal_core::domain::browse::{PageQuery, RouteQuery, ZoneQuery};
use portal_core::domain::export::ExportQuery;
use portal_core::server::charts::ChartQuery;
use portal_core::server::drives::DriveQuery;
use portal_core::server::events::EventQuery;
use portal_core::server::telemetry::SampleQuery;
use portal_core::server::Portal;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(sign_up))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/vehicles", post(bind_vehicle))
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/me/location", put(set_show_location))
        .route("/api/v1/vehicles", get(vehicles))
        .route("/api/v1/vehicles/{vin}", get(overview))
        .route("/api/v1/vehicles/{vin}/samples", get(samples))
        .route("/api/v1/vehicles/{vin}/events", get(events))
        .route("/api/v1/vehicles/{vin}/events/{id}", get(event_detail))
        .route("/api/v1/vehicles/{vin}/drives", get(drives))
        .route("/api/v1/vehicles/{vin}/activity", get(activity))
        .route("/api/v1/vehicles/{vin}/route", get(route))
        .route("/api/v1/vehicles/{vin}/chart", get(chart))
        .route("/api/v1/vehicles/{vin}/export", get(export))
        .route("/api/v1/vehicles/{vin}/exports", post(start_export_job))
        .route("/api/v1/exports/{id}", get(export_job))
        .route("/api/v1/exports/{id}/file", get(export_job_file))
        .route("/api/v1/vehicles/{vin}/access-log", get(access_log))
        .route("/api/v1/vehicles/{vin}/dictionary", get(dictionary))
        .route("/api/v1/openapi.json", get(openapi))
}

async fn openapi() -> Json<&'static serde_json::Value> {
    Json(portal_core::server::openapi::document())
}

#[derive(Deserialize)]
struct SignUp {
    account: String,
    password: String,
    vin: String,
    claim_code: String,
}

async fn sign_up(
    State(portal): State<Portal>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<impl IntoResponse, ApiError> {
    let account = portal
        .sign_up(
            &body.account,
            &body.password,
            &body.vin,
            &body.claim_code,
            &address,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "account": account }))))
}

#[derive(Deserialize)]
struct SignIn {
    account: String,
    password: String,
    /// Staff second factor (their authenticator's code); ignored for owners.
    #[serde(default)]
    totp: Option<String>,
}

async fn sign_in(
    State(portal): State<Portal>,
    ClientAddress(address): ClientAddress,
    session: Session,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<StatusCode, ApiError> {
    let who = portal
        .sign_in(
            &body.account,
            &body.password,
            body.totp.as_deref(),
            &address,
        )
        .await?;
    app::session::start(&session, &who).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sign_out(session: Session) -> Result<StatusCode, ApiError> {
    app::session::end(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(
    State(portal): State<Portal>,
    SignedIn(who): SignedIn,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.me(&who).await?))
}

#[derive(Deserialize)]
struct Bind {
    vin: String,
    claim_code: String,
}

async fn bind_vehicle(
    State(portal): State<Portal>,
    SignedIn(who): SignedIn,
    ApiJson(body): ApiJson<Bind>,
) -> Result<impl IntoResponse, ApiError> {
    let period = portal
        .bind_vehicle(&who, &body.vin, &body.claim_code)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "vin": period.vin }))))
}

#[derive(Deserialize)]
struct PasswordChange {
    current: String,
    new: String,
}

async fn change_password(
    State(portal): State<Portal>,
    SignedIn(who): SignedIn,
    session: Session,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let epoch = portal
        .change_password(&who, &body.current, &body.new)
        .await?;
    app::session::renew_epoch(&session, epoch).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct LocationChoice {
    show: bool,
}

async fn set_show_location(
    State(portal): State<Portal>,
    SignedIn(who): SignedIn,
    ApiJson(body): ApiJson<LocationChoice>,
) -> Result<StatusCode, ApiError> {
    portal.set_show_location(Some(&who), body.show).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn vehicles(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        json!({ "items": portal.my_vehicles(who.as_ref()).await?, "next_cursor": null }),
    ))
}

async fn overview(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.overview(who.as_ref(), &vin).await?))
}

async fn samples(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<SampleQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.samples(who.as_ref(), &vin, &query).await?))
}

async fn events(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.events(who.as_ref(), &vin, &query).await?))
}

async fn event_detail(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path((vin, id)): Path<(String, String)>,
    ApiQuery(zone): ApiQuery<ZoneQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        portal
            .event_detail(who.as_ref(), &vin, &id, zone.tz.as_deref())
            .await?,
    ))
}

async fn drives(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<DriveQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.drives(who.as_ref(), &vin, &query).await?))
}

async fn activity(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(zone): ApiQuery<ZoneQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        portal
            .activity(who.as_ref(), &vin, zone.tz.as_deref())
            .await?,
    ))
}

async fn route(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<RouteQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.route(who.as_ref(), &vin, &query).await?))
}

async fn chart(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<ChartQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.chart(who.as_ref(), &vin, &query).await?))
}

async fn export(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let export = portal.export(who.as_ref(), &vin, &query).await?;
    // What each column or field is: the data dictionary (RFC 8288 link).
    let dictionary = format!("</api/v1/vehicles/{vin}/dictionary>; rel=\"describedby\"");
    Ok(([(axum::http::header::LINK, dictionary)], Download(export)))
}

/// Starts a background export. A browser form (urlencoded) is sent on to
/// the job's progress page; an API client gets 202 and the job's status.
async fn start_export_job(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    use axum::extract::FromRequest;
    use axum::http::header;
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let query: ExportQuery = if is_form {
        match axum::Form::<ExportQuery>::from_request(request, &()).await {
            Ok(axum::Form(q)) => q,
            Err(rejection) => return Ok(invalid_body(rejection.body_text())),
        }
    } else {
        match ApiJson::<ExportQuery>::from_request(request, &()).await {
            Ok(ApiJson(q)) => q,
            Err(response) => return Ok(response),
        }
    };
    let status = portal.start_export_job(who.as_ref(), &vin, &query).await?;
    let page = format!("/vehicles/{}/exports/{}", status.vin, status.id);
    if is_form {
        return Ok(axum::response::Redirect::to(&page).into_response());
    }
    let location = format!("/api/v1/exports/{}", status.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(status),
    )
        .into_response())
}

fn invalid_body(message: String) -> axum::response::Response {
    super::error::error_response(StatusCode::BAD_REQUEST, "invalid_body", &message)
}

async fn export_job(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.export_job(who.as_ref(), &id).await?))
}

async fn export_job_file(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(id): Path<String>,
) -> Result<Download, ApiError> {
    Ok(Download(portal.export_job_file(who.as_ref(), &id).await?))
}

async fn dictionary(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(portal.data_dictionary(who.as_ref(), &vin).await?))
}

async fn access_log(
    State(portal): State<Portal>,
    MaybeSignedIn(who): MaybeSignedIn,
    Path(vin): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        portal
            .access_log(who.as_ref(), &vin, page.cursor.as_deref(), page.limit)
            .await?,
    ))
}
