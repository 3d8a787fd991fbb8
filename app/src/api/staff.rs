//! Server functions for the support console pages. Each calls the same
//! service as its `/api/v1/staff` twin; the forms redirect back (with
//! `?error=<code>` on failure), so they work before hydration too.

use leptos::prelude::*;
use portal_core::domain::browse::{EventDetail, EventPage};
use portal_core::domain::staff::{CaseSummary, CaseView, Lookup, OperationLine};

#[cfg(feature = "ssr")]
use super::browse::reader as staff;

#[cfg(feature = "ssr")]
fn fail(e: portal_core::server::error::ServiceError) -> ServerFnError {
    super::auth::ssr::fail(&e)
}

#[server(endpoint = "staff_lookup")]
pub async fn staff_lookup(q: String) -> Result<Lookup, ServerFnError> {
    let (portal, who) = staff().await?;
    portal.lookup(who.as_ref(), &q).await.map_err(fail)
}

#[server(endpoint = "api_reference")]
pub async fn api_reference() -> Result<Vec<OperationLine>, ServerFnError> {
    let (portal, who) = staff().await?;
    portal.api_reference(who.as_ref()).map_err(fail)
}

#[server(endpoint = "staff_cases")]
pub async fn staff_cases() -> Result<Vec<CaseSummary>, ServerFnError> {
    let (portal, who) = staff().await?;
    portal.case_list(who.as_ref(), None).await.map_err(fail)
}

#[server(endpoint = "staff_case")]
pub async fn staff_case(case_no: String) -> Result<CaseView, ServerFnError> {
    let (portal, who) = staff().await?;
    portal.case_view(who.as_ref(), &case_no).await.map_err(fail)
}

/// The case vehicle's events (a read within the case: recorded).
#[server(endpoint = "case_events")]
pub async fn case_events(case_no: String) -> Result<EventPage, ServerFnError> {
    let (portal, who) = staff().await?;
    let (reader, vin) = portal.in_case(who.as_ref(), &case_no).await.map_err(fail)?;
    let query = portal_core::domain::browse::EventQuery {
        limit: Some(1000),
        ..portal_core::domain::browse::EventQuery::default()
    };
    portal
        .events(Some(&reader), &vin, &query)
        .await
        .map_err(fail)
}

#[server(endpoint = "case_event")]
pub async fn case_event(case_no: String, id: String) -> Result<EventDetail, ServerFnError> {
    let (portal, who) = staff().await?;
    let (reader, vin) = portal.in_case(who.as_ref(), &case_no).await.map_err(fail)?;
    portal
        .event_detail(Some(&reader), &vin, &id, None)
        .await
        .map_err(fail)
}

#[server(endpoint = "open_case")]
pub async fn open_case(
    vin: String,
    subject: String,
    purpose: String,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<(), ServerFnError> {
    let (portal, who) = staff().await?;
    let request = portal_core::domain::staff::NewCaseRequest {
        vin,
        subject,
        purpose,
        from,
        to,
    };
    match portal.open_case(who.as_ref(), &request).await {
        Ok(case) => leptos_axum::redirect(&format!("/staff/cases/{}", case.case_no)),
        Err(e) => super::auth::ssr::back_with_error("/staff", &e),
    }
    Ok(())
}

#[server(endpoint = "case_note")]
pub async fn case_note(case_no: String, text: String) -> Result<(), ServerFnError> {
    let (portal, who) = staff().await?;
    let page = format!("/staff/cases/{case_no}");
    match portal.case_note(who.as_ref(), &case_no, &text).await {
        Ok(()) => leptos_axum::redirect(&page),
        Err(e) => super::auth::ssr::back_with_error(&page, &e),
    }
    Ok(())
}

#[server(endpoint = "case_status")]
pub async fn case_status(case_no: String, status: String) -> Result<(), ServerFnError> {
    let (portal, who) = staff().await?;
    let page = format!("/staff/cases/{case_no}");
    match portal
        .set_case_status(who.as_ref(), &case_no, &status)
        .await
    {
        Ok(()) => leptos_axum::redirect(&page),
        Err(e) => super::auth::ssr::back_with_error(&page, &e),
    }
    Ok(())
}

#[server(endpoint = "export_to_case")]
pub async fn export_to_case(
    case_no: String,
    recipient: String,
    legal_basis: String,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] location: Option<String>,
) -> Result<(), ServerFnError> {
    let (portal, who) = staff().await?;
    let page = format!("/staff/cases/{case_no}");
    let request = portal_core::domain::staff::CaseExportRequest {
        format: Some("bundle".into()),
        from,
        to,
        location,
        recipient,
        legal_basis,
    };
    match portal
        .export_to_case(who.as_ref(), &case_no, &request)
        .await
    {
        Ok(x) => leptos_axum::redirect(&format!("{page}?exported={}", x.bundle_id)),
        Err(e) => super::auth::ssr::back_with_error(&page, &e),
    }
    Ok(())
}
