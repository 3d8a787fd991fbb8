//! Server functions for the sharing page: each calls the same service as
//! its `/api/v1/vehicles/{vin}/grants` twin. The forms redirect back (with
//! `?error=<code>` on failure), so they work before hydration too; a new
//! grant's token waits in the owner's session until the page shows it once.

// A plain form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use portal_core::domain::sharing::{GrantSummary, IssuedGrant};

#[server(endpoint = "vehicle_grants")]
pub async fn vehicle_grants(vin: String) -> Result<Vec<GrantSummary>, ServerFnError> {
    let (portal, who) = super::browse::reader().await?;
    portal
        .grants(who.as_ref(), &vin)
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}

/// The grant just made, once: reading it removes it from the session.
#[server(endpoint = "take_issued_grant")]
pub async fn take_issued_grant() -> Result<Option<IssuedGrant>, ServerFnError> {
    let (_, session) = super::auth::ssr::context().await?;
    crate::session::take_issued_grant(&session)
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}

/// The form's fields (each class a checkbox of its own, so no list syntax
/// is needed in a plain form post).
#[server(endpoint = "create_grant")]
pub async fn create_grant(
    vin: String,
    recipient: String,
    kind: String,
    purpose: String,
    #[server(default)] telemetry: Option<String>,
    #[server(default)] events: Option<String>,
    #[server(default)] crash: Option<String>,
    #[server(default)] location: Option<String>,
    #[server(default)] window: Option<String>,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    expires: String,
) -> Result<(), ServerFnError> {
    use portal_core::domain::sharing::{DataClass, NewGrantRequest};
    let (portal, session) = super::auth::ssr::context().await?;
    let who = super::auth::ssr::principal(&portal, &session).await?;
    let continuous = window.as_deref() == Some("continuous");
    let classes = [
        (telemetry, DataClass::Telemetry),
        (events, DataClass::Events),
        (crash, DataClass::Crash),
    ]
    .into_iter()
    .filter(|(on, _)| on.is_some())
    .map(|(_, class)| class.as_str().to_string())
    .collect();
    let request = NewGrantRequest {
        recipient,
        kind,
        purpose,
        classes,
        location,
        from: from.filter(|_| !continuous),
        to: to.filter(|_| !continuous),
        continuous,
        expires,
    };
    let page = format!("/vehicles/{vin}/sharing");
    match portal.create_grant(who.as_ref(), &vin, &request).await {
        Ok(issued) => {
            crate::session::keep_issued_grant(&session, &issued)
                .await
                .map_err(|e| super::auth::ssr::fail(&e))?;
            leptos_axum::redirect(&format!("{page}?issued={}", issued.grant.id));
        }
        Err(e) => super::auth::ssr::back_with_error(&page, &e),
    }
    Ok(())
}

#[server(endpoint = "revoke_grant")]
pub async fn revoke_grant(vin: String, id: i64) -> Result<(), ServerFnError> {
    let (portal, who) = super::browse::reader().await?;
    let page = format!("/vehicles/{vin}/sharing");
    match portal.revoke_grant(who.as_ref(), &vin, id).await {
        Ok(()) => leptos_axum::redirect(&format!("{page}?revoked={id}")),
        Err(e) => super::auth::ssr::back_with_error(&page, &e),
    }
    Ok(())
}

/// The newest samples the reader may see, newest first: what the live view
/// shows before (or, without JavaScript, instead of) its stream.
#[server(endpoint = "live_samples")]
pub async fn live_samples(
    vin: String,
) -> Result<portal_core::domain::browse::SamplePage, ServerFnError> {
    let (portal, who) = super::browse::reader().await?;
    let query = portal_core::domain::browse::SampleQuery {
        order: Some("desc".into()),
        limit: Some(20),
        ..Default::default()
    };
    portal
        .samples(who.as_ref(), &vin, &query)
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}
