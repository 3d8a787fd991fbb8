//! Server functions for the privacy zones page: each calls the same service
//! as its `/api/v1/me/privacy-zones` twin. The forms redirect back (with
//! `?error=<code>` on failure), so they work before hydration too.

use leptos::prelude::*;
use portal_core::domain::privacy::PrivacyZone;

/// The page the forms return to.
pub const ZONES_PAGE: &str = "/account/privacy-zones";

#[server(endpoint = "privacy_zones")]
pub async fn privacy_zones() -> Result<Vec<PrivacyZone>, ServerFnError> {
    let (portal, who) = super::browse::reader().await?;
    portal
        .privacy_zones(who.as_ref())
        .await
        .map_err(|e| super::auth::ssr::fail(&e))
}

/// The form's fields as typed; a number that does not read as one is
/// refused by the service like a missing one, naming the field.
#[server(endpoint = "add_privacy_zone")]
pub async fn add_privacy_zone(
    name: String,
    lat: String,
    lon: String,
    radius_m: String,
) -> Result<(), ServerFnError> {
    use portal_core::domain::privacy::NewZoneRequest;
    let (portal, who) = super::browse::reader().await?;
    // A decimal comma (31,2304) reads like a decimal point.
    let number = |v: &str| v.trim().replace(',', ".").parse::<f64>().ok();
    let request = NewZoneRequest {
        name,
        lat: number(&lat),
        lon: number(&lon),
        radius_m: number(&radius_m),
    };
    match portal.add_privacy_zone(who.as_ref(), &request).await {
        Ok(zone) => leptos_axum::redirect(&format!("{ZONES_PAGE}?added={}", zone.id)),
        Err(e) => super::auth::ssr::back_with_error(ZONES_PAGE, &e),
    }
    Ok(())
}

#[server(endpoint = "remove_privacy_zone")]
pub async fn remove_privacy_zone(id: i64) -> Result<(), ServerFnError> {
    let (portal, who) = super::browse::reader().await?;
    match portal.remove_privacy_zone(who.as_ref(), id).await {
        Ok(()) => leptos_axum::redirect(&format!("{ZONES_PAGE}?removed={id}")),
        Err(e) => super::auth::ssr::back_with_error(ZONES_PAGE, &e),
    }
    Ok(())
}
