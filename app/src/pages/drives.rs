//! Drives: start and end in vehicle time, duration, distance, top speed,
//! events; each opens the telemetry browser on its range, and downloads as
//! a GPX track.

use crate::api::browse::vehicle_drives;
use crate::components::browse::{shown, BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::sharing::LocationLabel;
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use portal_core::domain::browse::DriveQuery;
use portal_core::domain::export::LocationRedaction;
use portal_core::domain::time::format_utc;

#[component]
pub fn DrivesPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let params = move || {
        query.with(|q| DriveQuery {
            from: q.get("from"),
            to: q.get("to"),
            limit: Some(50),
            cursor: q.get("cursor"),
            tz: q.get("tz").filter(|z| z != "vehicle"),
        })
    };
    let drives = Resource::new(
        move || (vin.get(), params()),
        |(vin, q)| vehicle_drives(vin, q),
    );
    view! {
        <PageTitle text=move || t_string!(i18n, drives_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section>
            <h1>{t!(i18n, drives_title)}</h1>
            <p class="muted">{t!(i18n, drives_lead)}</p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    let tz = params().tz;
                    match drives.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="notice">{t!(i18n, no_drives)}</p> }.into_any(),
                        Ok(page) => {
                            let vin = vin.get_untracked();
                            let next = page.next_cursor.clone().map(|c| format!("/vehicles/{vin}/drives?cursor={c}"));
                            view! {
                                <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                                <table class="data" data-testid="drives">
                                    <thead><tr>
                                        <th scope="col">{t!(i18n, col_start)}</th>
                                        <th scope="col">{t!(i18n, col_end)}</th>
                                        <th scope="col">{t!(i18n, col_duration)}</th>
                                        <th scope="col">{t!(i18n, col_distance)}</th>
                                        <th scope="col">{t!(i18n, col_max_speed)}</th>
                                        <th scope="col">{t!(i18n, col_events)}</th>
                                        <th scope="col">{t!(i18n, col_sealed)}</th>
                                        <th scope="col">{t!(i18n, col_track)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|d| {
                                            let (from, to) = (format_utc(d.start.t_us), format_utc(d.end.t_us + 1));
                                            let href = format!("/vehicles/{vin}/telemetry?from={from}&to={to}");
                                            let start = shown(&d.start, tz.as_deref());
                                            let end = shown(&d.end, tz.as_deref());
                                            let duration = format!("{}:{:02}:{:02}", d.duration_s / 3600, d.duration_s / 60 % 60, d.duration_s % 60);
                                            view! {
                                                <tr>
                                                    <td><A href=href>{start}</A></td>
                                                    <td>{end}</td>
                                                    <td class="num">{duration}</td>
                                                    <td class="num">{d.distance_km.map(|k| format!("{k:.1}")).unwrap_or_default()}</td>
                                                    <td class="num">{d.max_speed_kmh.map(|v| format!("{v:.0}")).unwrap_or_default()}</td>
                                                    <td>
                                                        {d.events}
                                                        {(d.brake_events > 0).then(|| view! { " · " {d.brake_events} " " {t!(i18n, brake_short)} })}
                                                        {(d.crash_events > 0).then(|| view! { " · " <strong>{d.crash_events} " " {t!(i18n, crash_short)}</strong> })}
                                                    </td>
                                                    <td class="num" data-testid="drive-sealed">
                                                        {format!("{:.0} %", d.sealed_samples as f64 * 100.0 / d.samples.max(1) as f64)}
                                                    </td>
                                                    <td><GpxForm vin=vin.clone() from to /></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                <p class="pager">
                                    {next.map(|href| view! { <A href=href>{t!(i18n, next_page)}</A> })}
                                </p>
                            }.into_any()
                        }
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A drive's GPX track: a plain GET of the export, at the location level
/// the reader picks (a track needs positions: coarse or full).
#[component]
fn GpxForm(vin: String, from: String, to: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="get" action=format!("/api/v1/vehicles/{vin}/export") class="inline-form" data-testid="gpx-form">
            <input type="hidden" name="format" value="gpx" />
            <input type="hidden" name="from" value=from />
            <input type="hidden" name="to" value=to />
            <select name="location" aria-label=move || t_string!(i18n, export_location)>
                <option value="coarse"><LocationLabel location=LocationRedaction::Coarse /></option>
                <option value="full"><LocationLabel location=LocationRedaction::Full /></option>
            </select>
            " "
            <button type="submit" class="secondary">{t!(i18n, gpx_download)}</button>
        </form>
    }
}
