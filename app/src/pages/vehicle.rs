//! "What we hold": per data class, how much, from when to when, how often,
//! how long it is kept, and what is under legal hold.

use crate::api::browse::vehicle_overview;
use crate::components::activity::ActivityStrip;
use crate::components::browse::{readable, BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use portal_core::domain::browse::{ClassSummary, Overview};

pub fn use_vin() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("vin").unwrap_or_default()))
}

#[component]
pub fn VehiclePage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let overview = Resource::new(move || vin.get(), vehicle_overview);
    view! {
        <PageTitle text=move || t_string!(i18n, overview_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! {
                        <OverviewTable o />
                        <ActivityStrip vin=vin.get_untracked() />
                    }.into_any(),
                    Err(error) => view! { <BrowseError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewTable(o: Overview) -> impl IntoView {
    let i18n = use_i18n();
    let vin = o.vin.clone();
    let empty = o.telemetry.count == 0 && o.events.count == 0 && o.crash_records.count == 0;
    let row = move |label: AnyView, c: ClassSummary, href: String, testid: &'static str| {
        let rates = c
            .rates
            .iter()
            .map(|r| format!("{} Hz ({:.0} %)", r.hz, r.share * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <tr data-testid=testid>
                <th scope="row">{label}</th>
                <td class="num">{c.count}</td>
                <td class="num">{c.sealed} {(c.count > c.sealed).then(|| view! {
                    <span class="muted">" · " {c.count - c.sealed} " " {t!(i18n, unsealed_records)}</span>
                })} {(c.withheld > 0).then(|| view! {
                    <span class="muted" data-testid="withheld">" · " {c.withheld} " " {t!(i18n, withheld_records)}</span>
                })}</td>
                <td>{c.first.map(|f| readable(&f.t_local)).unwrap_or_default()}</td>
                <td>{c.last.map(|l| readable(&l.t_local)).unwrap_or_default()}</td>
                <td>{rates}</td>
                <td>{c.retention_days} " " {t!(i18n, days)}</td>
                <td>{if c.held > 0 {
                    view! { {c.held} " " {t!(i18n, held_records)} }.into_any()
                } else {
                    t!(i18n, none).into_any()
                }}</td>
                <td>{(c.count > 0).then(|| view! { <A href=href>{t!(i18n, open_view)}</A> })}</td>
            </tr>
        }
    };
    view! {
        <section class="overview">
            <h1>{t!(i18n, overview_title)}</h1>
            <p class="muted">{o.model.clone().unwrap_or_default()} " · " {o.timezone.clone()}</p>
            <p class="muted">{t!(i18n, overview_lead)}</p>
            <p>
                {t!(i18n, overview_periods)} ": "
                {o.periods.iter().map(|p| view! {
                    <span class="period">
                        {match &p.from { Some(from) => readable(&from.t_local).into_any(), None => t!(i18n, period_start_of_data).into_any() }} " – "
                        {match &p.to { Some(to) => readable(&to.t_local).into_any(), None => t!(i18n, period_open).into_any() }}
                    </span>
                }).collect_view()}
            </p>
            {empty.then(|| view! { <p class="notice" data-testid="no-data">{t!(i18n, no_data)}</p> })}
            <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                <table class="data">
                    <thead><tr>
                        <th scope="col">{t!(i18n, class)}</th>
                        <th scope="col">{t!(i18n, col_count)}</th>
                        <th scope="col">{t!(i18n, col_sealed)}</th>
                        <th scope="col">{t!(i18n, col_first)}</th>
                        <th scope="col">{t!(i18n, col_last)}</th>
                        <th scope="col">{t!(i18n, col_rates)}</th>
                        <th scope="col">{t!(i18n, col_retention)}</th>
                        <th scope="col">{t!(i18n, col_hold)}</th>
                        <th scope="col"></th>
                    </tr></thead>
                    <tbody>
                        {row(t!(i18n, class_telemetry).into_any(), o.telemetry.clone(), format!("/vehicles/{vin}/telemetry"), "class-telemetry")}
                        {row(t!(i18n, class_location).into_any(), o.location.clone(), format!("/vehicles/{vin}/telemetry?col=lat&col=lon&col=heading_deg&col=speed_kmh"), "class-location")}
                        {row(t!(i18n, class_events).into_any(), o.events.clone(), format!("/vehicles/{vin}/events"), "class-events")}
                        {row(t!(i18n, class_crash_records).into_any(), o.crash_records.clone(), format!("/vehicles/{vin}/events?group=crash"), "class-crash")}
                    </tbody>
                </table>
            </div>
            {(!o.missing_batches.is_empty()).then(|| view! {
                <div class="notice" data-testid="missing-batches">
                    <p><strong>{t!(i18n, missing_batches_title)}</strong></p>
                    <ul>
                        {o.missing_batches.iter().map(|m| view! {
                            <li>
                                {t!(i18n, missing_key)} " " <code>{m.key.clone()}</code> " · "
                                {t!(i18n, missing_seals)} " " {m.from_seq} "–" {m.to_seq} " · "
                                {m.after.as_deref().map(readable).unwrap_or_default()} " – " {readable(&m.before)}
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
        </section>
    }
}
