//! One event: the ±15 s charts with the event marked, the same data as a
//! table, and for a crash its EDR record with limitations and cross-check.

use crate::api::browse::vehicle_event;
use crate::components::browse::{
    lang, offset_secs, readable, severity_label, shown, BrowseError, SealedBy, VehicleNav,
};
use crate::components::chart::ChartPanel;
use crate::components::layout::PageTitle;
use crate::components::route::RouteMap;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use portal_core::domain::browse::{CrashRecord, EventDetail, Limitation};
use portal_core::domain::chart::{relative_ticks, Chart, ChartChannel, ChartPoint, Series};
use portal_core::domain::time::format_utc;
use portal_core::domain::vocabulary;

/// The route on an event's page: this long before and after it.
const ROUTE_AROUND_US: i64 = 2 * 60 * 1_000_000;

/// The window table's columns: the charted channels.
const WINDOW_COLUMNS: &[&str] = &[
    "speed_kmh",
    "accel_pedal_pct",
    "brake_pedal",
    "brake_pressure_bar",
    "steering_angle_deg",
    "abs_active",
    "aeb_state",
];

#[component]
pub fn EventPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let tz = move || query.with(|q| q.get("tz").filter(|z| !z.is_empty() && z != "vehicle"));
    let detail = Resource::new(
        move || (vin.get(), id(), tz()),
        |(vin, id, tz)| vehicle_event(vin, id, tz),
    );
    view! {
        <PageTitle text=move || t_string!(i18n, event_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d vin=vin.get_untracked() tz=tz() /> }.into_any(),
                    Err(error) => view! { <BrowseError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The event view; within a case (`case_no`), its links stay in the case.
#[component]
pub fn Detail(
    d: EventDetail,
    vin: String,
    tz: Option<String>,
    #[prop(optional, into)] case_no: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let e = d.event.clone();
    let browse = format!(
        "/vehicles/{vin}/telemetry?from={}&to={}",
        format_utc(d.window_from.t_us),
        format_utc(d.window_to.t_us + 1)
    );
    let offset = offset_secs(&d.window_from.t_local);
    let owner_view = case_no.is_none();
    let trigger = e.trigger.clone();
    let event_type = e.event_type;
    let rows = d.samples.clone();
    view! {
        <section class="event" data-testid="event-detail">
            <h1 data-event-type=event_type.as_str()>{move || vocabulary::event_type(event_type).get(lang(i18n))}</h1>
            <p>
                <strong>{shown(&e.at, tz.as_deref())}</strong> " · " {severity_label(e.severity)}
                {trigger.map(|t| view! { " · " <span data-testid="trigger">{move || vocabulary::trigger(lang(i18n), &t)}</span> })}
                " · " <SealedBy key=e.sealed_by.clone() />
            </p>
            <p>
                {match case_no {
                    None => view! {
                        <A href=format!("/vehicles/{vin}/events")>{t!(i18n, back_to_events)}</A> " · "
                        <A href=browse attr:data-testid="browse-range">{t!(i18n, browse_range)}</A>
                    }.into_any(),
                    Some(no) => view! { <A href=format!("/staff/cases/{no}")>{t!(i18n, back_to_case)}</A> }.into_any(),
                }}
                {d.edr.is_some().then(|| view! { " · " <a href="#edr">{t!(i18n, view_crash_record)}</a> })}
            </p>
            <h2>{t!(i18n, event_window)}</h2>
            <ChartPanel chart=d.chart.clone() offset_secs=offset name="window" />
            <details class="window-table">
                <summary>{t!(i18n, data_table)} " (" {rows.len()} ")"</summary>
                <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                <table class="data">
                    <thead><tr>
                        <th scope="col">{t!(i18n, col_time)}</th>
                        {WINDOW_COLUMNS.iter().map(|c| view! {
                            <th scope="col" data-channel=*c>{move || vocabulary::channel_heading(lang(i18n), c)}</th>
                        }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! {
                            <tr>
                                <td class="time">{row.get("t_local").and_then(|v| v.as_str()).map(readable).unwrap_or_default()}</td>
                                {WINDOW_COLUMNS.iter().map(|c| {
                                    let value = row.get(*c).cloned().unwrap_or_default();
                                    view! { <td class="num">{move || vocabulary::channel_value(lang(i18n), c, &value)}</td> }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </details>
            // Where it happened: two minutes either side (owners only; staff
            // read inside a case and see no map).
            {owner_view.then(|| view! {
                <RouteMap vin=vin.clone() from=format_utc(e.at.t_us - ROUTE_AROUND_US)
                    to=format_utc(e.at.t_us + ROUTE_AROUND_US) offset_secs=offset name="event" />
            })}
            {d.edr.clone().map(|c| view! { <CrashView c tz=tz.clone() /> })}
        </section>
    }
}

/// A series built from EDR samples (time in ms relative to time zero).
fn edr_chart(t0_us: i64, channel: ChartChannel, points: Vec<(i32, Option<f64>)>) -> Chart {
    let to_us = |ms: i32| t0_us + ms as i64 * 1000;
    let from = points.iter().map(|(ms, _)| *ms).min().unwrap_or(0);
    let to = points.iter().map(|(ms, _)| *ms).max().unwrap_or(0);
    let series = Series {
        channel,
        points: points
            .iter()
            .filter_map(|(ms, v)| {
                v.map(|v| ChartPoint {
                    t_us: to_us(*ms),
                    min: v,
                    max: v,
                })
            })
            .collect(),
    };
    Chart {
        from_us: to_us(from),
        to_us: to_us(to).max(to_us(from) + 1),
        bucket_us: 0,
        samples: points.len() as u64,
        series: vec![series],
        marker_us: Some(t0_us),
        ticks: Vec::new(),
    }
}

#[component]
fn CrashView(c: CrashRecord, tz: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let r = c.record.clone();
    let offset = offset_secs(&c.t0.t_local);
    let pre = &r.pre_crash.samples;
    let pre_chart =
        |channel, value: fn(&portal_core::domain::log_format::PreCrashSample) -> Option<f64>| {
            edr_chart(
                r.t0_us,
                channel,
                pre.iter().map(|s| (s.t_ms, value(s))).collect(),
            )
        };
    let pre_charts = vec![
        (
            "pre-crash-speed",
            pre_chart(ChartChannel::Speed, |s| s.speed_kmh),
        ),
        (
            "pre-crash-accel",
            pre_chart(ChartChannel::AccelPedal, |s| s.accel_pedal_pct),
        ),
        (
            "pre-crash-brake",
            pre_chart(ChartChannel::BrakePedal, |s| {
                s.brake_pedal.map(|b| if b { 1.0 } else { 0.0 })
            }),
        ),
        (
            "pre-crash-pressure",
            pre_chart(ChartChannel::BrakePressure, |s| s.brake_pressure_bar),
        ),
    ];
    let mut dv = edr_chart(
        r.t0_us,
        ChartChannel::Speed,
        r.delta_v
            .samples
            .iter()
            .map(|s| (s.t_ms, s.long_kmh))
            .collect(),
    );
    // The crash pulse lasts a few hundred milliseconds: its axis counts them.
    dv.ticks = relative_ticks(dv.from_us, dv.to_us, r.t0_us, true);
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
    let yes_no = move |b: bool| move || vocabulary::flag(b).get(lang(i18n));
    let deployed: Vec<(String, f64)> = r
        .airbags
        .iter()
        .map(|a| (a.position.clone(), a.deploy_ms))
        .collect();
    let airbags = move || {
        deployed
            .iter()
            .map(|(position, ms)| {
                format!(
                    "{} {} ms",
                    vocabulary::airbag_in(lang(i18n), position),
                    vocabulary::number(*ms, 1)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let field = move |name: &'static str| move || vocabulary::crash_heading(lang(i18n), name);
    let belt = r.belt_driver;
    let cc = c.cross_check.clone();
    view! {
        <section class="crash card" id="edr" data-testid="crash-record">
            <h2>{t!(i18n, crash_title)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, col_sealed)}</dt><dd><SealedBy key=c.sealed_by.clone() /></dd>
                <dt>{field("standard")}</dt><dd>{r.standard.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>{field("t0")}</dt><dd>{shown(&c.t0, tz.as_deref())}</dd>
                <dt>{field("max_delta_v_long_kmh")}</dt><dd data-testid="max-dv">{num(r.max_delta_v_long_kmh)}</dd>
                <dt>{field("time_max_delta_v_ms")}</dt><dd>{num(r.time_max_delta_v_ms)}</dd>
                <dt>{field("max_delta_v_lat_kmh")}</dt><dd>{num(r.max_delta_v_lat_kmh)}</dd>
                <dt>{field("ignition_cycles")}</dt><dd>{num(r.ignition_cycle_crash.map(|v| v as f64))} " / " {num(r.ignition_cycle_download.map(|v| v as f64))}</dd>
                <dt>{field("belt_driver")}</dt><dd>{move || belt.map_or("—", |b| vocabulary::belt(b).get(lang(i18n)))}</dd>
                <dt>{field("airbags")}</dt><dd data-testid="airbags">{airbags}</dd>
                <dt>{field("locked")}</dt><dd>{yes_no(r.locked)}</dd>
                <dt>{field("complete")}</dt><dd>{yes_no(r.complete)}</dd>
            </dl>
            <h3>{t!(i18n, limitations_title)}</h3>
            <ul class="limitations" data-testid="limitations">
                {c.limitations.iter().map(|l| match l {
                    Limitation::PreCrashRate { hz } => view! { <li>{t!(i18n, lim_pre_crash_rate)} " " {*hz}</li> }.into_any(),
                    Limitation::DeltaVRate { hz } => view! { <li>{t!(i18n, lim_delta_v_rate)} " " {*hz}</li> }.into_any(),
                    Limitation::NotSynchronised => view! { <li>{t!(i18n, lim_not_synchronised)}</li> }.into_any(),
                    Limitation::Incomplete => view! { <li>{t!(i18n, lim_incomplete)}</li> }.into_any(),
                    Limitation::Absent { channels } => {
                        let channels = channels.clone();
                        let named = move || channels.iter().map(|c| vocabulary::channel(c).map_or(c.as_str(), |t| t.label.get(lang(i18n)))).collect::<Vec<_>>().join(", ");
                        view! { <li>{t!(i18n, lim_absent)} " " {named}</li> }.into_any()
                    }
                }).collect_view()}
            </ul>
            <h3>{t!(i18n, cross_check_title)}</h3>
            <div data-testid="cross-check">
                <p>{t!(i18n, cross_check_compared)} " " {cc.compared} " · " {t!(i18n, cross_check_tolerance)} " " {cc.tolerance_kmh}</p>
                {if cc.compared == 0 {
                    view! { <p>{t!(i18n, cross_check_none)}</p> }.into_any()
                } else if cc.disagreements.is_empty() {
                    view! { <p>{t!(i18n, cross_check_ok)}</p> }.into_any()
                } else {
                    view! {
                        <p class="form-error">{t!(i18n, cross_check_disagree)}</p>
                        <table class="data">
                            <thead><tr><th scope="col">{t!(i18n, col_t_ms)}</th><th scope="col">{t!(i18n, col_edr_speed)}</th><th scope="col">{t!(i18n, col_telemetry_speed)}</th></tr></thead>
                            <tbody>{cc.disagreements.iter().map(|x| view! {
                                <tr><td class="num">{x.t_ms}</td><td class="num">{x.edr_speed_kmh}</td><td class="num">{x.telemetry_speed_kmh}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }}
            </div>
            <h3>{t!(i18n, crash_pre_crash)}</h3>
            {pre_charts.into_iter().map(|(name, chart)| view! { <ChartPanel chart offset_secs=offset name /> }).collect_view()}
            <h3>{t!(i18n, crash_delta_v)}</h3>
            <ChartPanel chart=dv offset_secs=offset name="delta-v" />
            <details>
                <summary>{t!(i18n, data_table)} " (" {t!(i18n, crash_delta_v)} ")"</summary>
                <table class="data">
                    <thead><tr><th scope="col">{field("t_ms")}</th><th scope="col">{field("long_kmh")}</th><th scope="col">{field("lat_kmh")}</th></tr></thead>
                    <tbody>{r.delta_v.samples.iter().map(|s| view! {
                        <tr><td class="num">{s.t_ms}</td><td class="num">{num(s.long_kmh)}</td><td class="num">{num(s.lat_kmh)}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            </details>
        </section>
    }
}
