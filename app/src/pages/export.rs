//! Export: format, location redaction and range, with an estimate; the
//! download is a plain GET of the API, so it works without JavaScript.

use crate::api::browse::export_estimate;
use crate::components::browse::{BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use portal_core::domain::export::ExportQuery;

/// Sample filters carried over from the telemetry view.
const KEPT: &[&str] = &[
    "min_speed_kmh",
    "max_speed_kmh",
    "brake_pedal",
    "abs_active",
    "aeb_state",
    "gear",
    "fields",
    "type",
    "group",
    "severity",
];

fn export_query(q: &ParamsMap) -> ExportQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    ExportQuery {
        from: get("from"),
        to: get("to"),
        min_speed_kmh: get("min_speed_kmh").and_then(|v| v.parse().ok()),
        max_speed_kmh: get("max_speed_kmh").and_then(|v| v.parse().ok()),
        brake_pedal: get("brake_pedal").and_then(|v| v.parse().ok()),
        abs_active: get("abs_active").and_then(|v| v.parse().ok()),
        aeb_state: get("aeb_state"),
        gear: get("gear"),
        fields: get("fields"),
        event_type: get("type"),
        group: get("group"),
        severity: get("severity"),
        ..ExportQuery::default()
    }
}

pub(crate) fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[component]
pub fn ExportPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let info = Resource::new(
        move || (vin.get(), query.with(export_query)),
        |(vin, q)| export_estimate(vin, q),
    );
    let q = query.get_untracked();
    let kept: Vec<(String, String)> = KEPT
        .iter()
        .filter_map(|k| {
            q.get(k)
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        })
        .collect();
    let action = format!("/api/v1/vehicles/{}/export", vin.get_untracked());
    let background = format!("/api/v1/vehicles/{}/exports", vin.get_untracked());
    let radio = move |name: &'static str, value: &'static str, checked: bool, label: AnyView| {
        view! {
            <label class="choice">
                <input type="radio" name=name value=value checked=checked />
                " " {label}
            </label>
        }
    };
    view! {
        <PageTitle text=move || t_string!(i18n, export_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section class="export">
            <h1>{t!(i18n, export_title)}</h1>
            <p class="muted">{t!(i18n, export_lead)}</p>
            <p><A href=format!("/vehicles/{}/dictionary", vin.get_untracked()) attr:data-testid="dictionary-link">{t!(i18n, dictionary_link)}</A></p>
            <form method="get" action=action class="card form-wide" data-testid="export-form">
                <fieldset>
                    <legend>{t!(i18n, export_format)}</legend>
                    {radio("format", "csv", true, t!(i18n, format_csv).into_any())}
                    {radio("format", "ndjson", false, t!(i18n, format_ndjson).into_any())}
                    {radio("format", "bundle", false, t!(i18n, format_bundle).into_any())}
                    {radio("format", "pdf", false, t!(i18n, format_pdf).into_any())}
                    {radio("format", "parquet", false, t!(i18n, format_parquet).into_any())}
                    {radio("format", "gpx", false, t!(i18n, format_gpx).into_any())}
                    <label class="field"><span>{t!(i18n, export_include)}</span>
                        <select name="include">
                            <option value="">{t!(i18n, include_nothing)}</option>
                            <option value="parquet">{t!(i18n, include_parquet)}</option>
                            <option value="gpx">{t!(i18n, include_gpx)}</option>
                            <option value="parquet,gpx">{t!(i18n, include_both)}</option>
                        </select>
                    </label>
                </fieldset>
                <fieldset>
                    <legend>{t!(i18n, export_location)}</legend>
                    {radio("location", "none", true, t!(i18n, location_none).into_any())}
                    {radio("location", "coarse", false, t!(i18n, location_coarse).into_any())}
                    {radio("location", "full", false, t!(i18n, location_full).into_any())}
                    <p class="muted">{t!(i18n, export_zones_note)}</p>
                </fieldset>
                <div class="filters">
                    <label class="field"><span>{t!(i18n, range_from)}</span>
                        <input type="datetime-local" step="1" name="from" value=q.get("from").unwrap_or_default() /></label>
                    <label class="field"><span>{t!(i18n, range_to)}</span>
                        <input type="datetime-local" step="1" name="to" value=q.get("to").unwrap_or_default() /></label>
                </div>
                {(!kept.is_empty()).then(|| view! {
                    <p class="muted">
                        {t!(i18n, export_filters_kept)} " "
                        {kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}
                    </p>
                })}
                {kept.iter().map(|(k, v)| view! { <input type="hidden" name=k.clone() value=v.clone() /> }).collect_view()}
                <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                    {move || {
                        let background = background.clone();
                        Suspend::new(async move {
                        match info.await {
                            Ok(info) => view! {
                                <p data-testid="export-estimate">
                                    {t!(i18n, export_estimate)} " " {info.samples} " " {t!(i18n, export_rows)}
                                    ", " {t!(i18n, export_size)} " " {megabytes(info.approx_bytes)}
                                </p>
                                <p class="muted">{t!(i18n, export_large_note)}</p>
                                <p class="actions">
                                    <button type="submit">{t!(i18n, export_submit)}</button>
                                    " "
                                    <button type="submit" class="secondary" formmethod="post" formaction=background data-testid="export-background">
                                        {t!(i18n, export_background)}
                                    </button>
                                </p>
                                <section class="signing-key">
                                    <h2>{t!(i18n, signing_key_title)}</h2>
                                    <p class="muted">{t!(i18n, signing_key_lead)}</p>
                                    <p>{t!(i18n, fingerprint)} ": " <code data-testid="fingerprint">{info.fingerprint.unwrap_or_default()}</code></p>
                                    <p>
                                        <a href="/.well-known/portal-signing-key" rel="external">{t!(i18n, public_key_link)}</a>
                                        " · " <A href="/verify">{t!(i18n, nav_verify)}</A>
                                    </p>
                                </section>
                            }.into_any(),
                            Err(error) => view! { <BrowseError error /> }.into_any(),
                        }
                    })}}
                </Suspense>
            </form>
        </section>
    }
}
