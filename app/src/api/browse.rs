//! Server functions for the browsing pages: each calls the same service as
//! its `/api/v1` twin. Errors reach the page as `code` or `code:field`.

use leptos::prelude::*;
use portal_core::domain::browse::{
    Activity, DrivePage, DriveQuery, EventDetail, EventPage, EventQuery, Overview, Route,
    RouteQuery, SampleQuery, TelemetryView,
};
use portal_core::domain::export::{AccessPage, ExportInfo, ExportQuery};

/// The portal and whoever is signed in (shared by the server functions).
#[cfg(feature = "ssr")]
pub(crate) async fn reader() -> Result<
    (
        portal_core::server::Portal,
        Option<portal_core::server::authz::Principal>,
    ),
    ServerFnError,
> {
    let (portal, session) = super::auth::ssr::context().await?;
    let who = super::auth::ssr::principal(&portal, &session).await?;
    Ok((portal, who))
}

#[cfg(feature = "ssr")]
fn fail(e: portal_core::server::error::ServiceError) -> ServerFnError {
    use portal_core::server::error::ServiceError;
    match &e {
        ServiceError::Invalid {
            code,
            field: Some(field),
            ..
        } => ServerFnError::new(format!("{code}:{field}")),
        _ => super::auth::ssr::fail(&e),
    }
}

#[server(endpoint = "vehicle_overview")]
pub async fn vehicle_overview(vin: String) -> Result<Overview, ServerFnError> {
    let (portal, who) = reader().await?;
    portal.overview(who.as_ref(), &vin).await.map_err(fail)
}

#[server(endpoint = "vehicle_activity")]
pub async fn vehicle_activity(vin: String) -> Result<Activity, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .activity(who.as_ref(), &vin, None)
        .await
        .map_err(fail)
}

#[server(endpoint = "vehicle_route")]
pub async fn vehicle_route(vin: String, query: RouteQuery) -> Result<Route, ServerFnError> {
    let (portal, who) = reader().await?;
    portal.route(who.as_ref(), &vin, &query).await.map_err(fail)
}

#[server(endpoint = "vehicle_drives")]
pub async fn vehicle_drives(vin: String, query: DriveQuery) -> Result<DrivePage, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .drives(who.as_ref(), &vin, &query)
        .await
        .map_err(fail)
}

#[server(endpoint = "vehicle_telemetry")]
pub async fn vehicle_telemetry(
    vin: String,
    query: SampleQuery,
) -> Result<TelemetryView, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .telemetry_view(who.as_ref(), &vin, &query)
        .await
        .map_err(fail)
}

#[server(endpoint = "vehicle_events")]
pub async fn vehicle_events(vin: String, query: EventQuery) -> Result<EventPage, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .events(who.as_ref(), &vin, &query)
        .await
        .map_err(fail)
}

#[server(endpoint = "vehicle_event")]
pub async fn vehicle_event(
    vin: String,
    id: String,
    tz: Option<String>,
) -> Result<EventDetail, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .event_detail(who.as_ref(), &vin, &id, tz.as_deref())
        .await
        .map_err(fail)
}

#[server(endpoint = "export_estimate")]
pub async fn export_estimate(vin: String, query: ExportQuery) -> Result<ExportInfo, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .export_info(who.as_ref(), &vin, &query)
        .await
        .map_err(fail)
}

#[server(endpoint = "disclosures")]
pub async fn disclosures(vin: String, cursor: Option<String>) -> Result<AccessPage, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .access_log(who.as_ref(), &vin, cursor.as_deref(), Some(100))
        .await
        .map_err(fail)
}

#[server(endpoint = "export_job")]
pub async fn export_job(
    id: String,
) -> Result<portal_core::domain::export::ExportJobStatus, ServerFnError> {
    let (portal, who) = reader().await?;
    portal.export_job(who.as_ref(), &id).await.map_err(fail)
}

#[server(endpoint = "vehicle_dictionary")]
pub async fn vehicle_dictionary(
    vin: String,
) -> Result<portal_core::domain::dictionary::DataDictionary, ServerFnError> {
    let (portal, who) = reader().await?;
    portal
        .data_dictionary(who.as_ref(), &vin)
        .await
        .map_err(fail)
}
