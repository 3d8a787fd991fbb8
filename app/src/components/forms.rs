//! Form pieces shared by the account pages.

use crate::i18n::{t, use_i18n};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The translated message for a service error code (see `ServiceError::code`).
#[component]
pub fn ErrorMessage(code: String) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || match code.as_str() {
        "invalid_credentials" => t!(i18n, error_invalid_credentials).into_any(),
        "throttled" => t!(i18n, error_throttled).into_any(),
        "password_too_short" => t!(i18n, error_password_too_short).into_any(),
        "password_too_long" => t!(i18n, error_password_too_long).into_any(),
        "password_common" => t!(i18n, error_password_common).into_any(),
        "invalid_account" => t!(i18n, error_invalid_account).into_any(),
        "invalid_vin" => t!(i18n, error_invalid_vin).into_any(),
        "claim_not_valid" => t!(i18n, error_claim_not_valid).into_any(),
        "vehicle_owned" => t!(i18n, error_vehicle_owned).into_any(),
        "account_exists" => t!(i18n, error_account_exists).into_any(),
        "sign_up_refused" => t!(i18n, error_sign_up_refused).into_any(),
        "wrong_password" => t!(i18n, error_wrong_password).into_any(),
        "missing_field" => t!(i18n, error_missing_field).into_any(),
        "not_found" => t!(i18n, error_not_found).into_any(),
        "forbidden" => t!(i18n, error_forbidden).into_any(),
        "expiry_too_far" => t!(i18n, error_expiry_too_far).into_any(),
        "expiry_past" => t!(i18n, error_expiry_past).into_any(),
        "invalid_expiry" => t!(i18n, error_invalid_expiry).into_any(),
        "location_without_telemetry" => t!(i18n, error_location_without_telemetry).into_any(),
        "continuous_with_window" => t!(i18n, error_continuous_with_window).into_any(),
        "grant_ended" => t!(i18n, error_grant_ended).into_any(),
        "invalid_kind" => t!(i18n, error_invalid_kind).into_any(),
        "too_long" => t!(i18n, error_too_long).into_any(),
        "zone_too_small" => t!(i18n, error_zone_too_small).into_any(),
        "zone_too_large" => t!(i18n, error_zone_too_large).into_any(),
        "invalid_coordinate" => t!(i18n, error_invalid_coordinate).into_any(),
        "too_many_zones" => t!(i18n, error_too_many_zones).into_any(),
        "gpx_without_location" => t!(i18n, error_gpx_without_location).into_any(),
        "include_needs_bundle" => t!(i18n, error_include_needs_bundle).into_any(),
        "invalid_query" | "invalid_class" => t!(i18n, error_grant_invalid).into_any(),
        _ => t!(i18n, error_generic).into_any(),
    };
    view! { <p class="form-error" role="alert" data-testid="form-error">{text}</p> }
}

/// Shows `?error=<code>` from the URL, as the form server functions report it.
#[component]
pub fn QueryError() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("error"))
            .map(|code| view! { <ErrorMessage code /> })
    }
}

/// A labelled input.
#[component]
pub fn Field(
    label: Signal<String>,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input type=kind name=name autocomplete=autocomplete required />
        </label>
    }
}
