//! One event: the ±15 s charts with the event marked, the same data as a
//! table, and for a crash its EDR record with limitations and cross-check.

use crate::api::browse::vehicle_event;
use crate::components::browse::{
    offset_secs, readable, severity_label, shown, BrowseError, SealedBy, VehicleNav,
};
use crate::components::chart::ChartPanel;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use portal_core::domain::browse::{CrashRecord, EventDetail, Limitation};
use portal_core::domain::chart::{Chart, ChartChannel, ChartPoint, Series};
use portal_core::domain::log_format::CHANNELS;
use portal_core::domain::time::format_utc;

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
    let trigger = e
        .trigger
        .as_ref()
        .map(|t| format!("{} = {} (≥ {})", t.metric, t.value, t.threshold));
    let rows = d.samples.clone();
    view! {
        <section class="event" data-testid="event-detail">
            <h1>{t!(i18n, event_title)} ": " {e.event_type.as_str()}</h1>
            <p>
                <strong>{shown(&e.at, tz.as_deref())}</strong> " · " {severity_label(e.severity)}
                {trigger.map(|t| view! { " · " {t} })}
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
                <div class="table-scroll">
                <table class="data">
                    <thead><tr>
                        <th scope="col">{t!(i18n, col_time)}</th>
                        {WINDOW_COLUMNS.iter().map(|c| {
                            let unit = CHANNELS.iter().find(|(n, _)| n == c).map(|(_, u)| *u).unwrap_or("");
                            view! { <th scope="col">{*c} {(!unit.is_empty()).then(|| format!(" ({unit})"))}</th> }
                        }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! {
                            <tr>
                                <td class="time">{row.get("t_local").and_then(|v| v.as_str()).map(readable).unwrap_or_default()}</td>
                                {WINDOW_COLUMNS.iter().map(|c| view! {
                                    <td class="num">{row.get(*c).map(|v| match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }).unwrap_or_default()}</td>
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </details>
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
    let dv = edr_chart(
        r.t0_us,
        ChartChannel::Speed,
        r.delta_v
            .samples
            .iter()
            .map(|s| (s.t_ms, s.long_kmh))
            .collect(),
    );
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
    let yes_no = move |b: bool| {
        if b {
            t!(i18n, yes).into_any()
        } else {
            t!(i18n, no).into_any()
        }
    };
    let airbags = r
        .airbags
        .iter()
        .map(|a| format!("{} {} ms", a.position, a.deploy_ms))
        .collect::<Vec<_>>()
        .join(", ");
    let cc = c.cross_check.clone();
    view! {
        <section class="crash card" id="edr" data-testid="crash-record">
            <h2>{t!(i18n, crash_title)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, col_sealed)}</dt><dd><SealedBy key=c.sealed_by.clone() /></dd>
                <dt>{t!(i18n, crash_standard)}</dt><dd>{r.standard.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>{t!(i18n, crash_t0)}</dt><dd>{shown(&c.t0, tz.as_deref())}</dd>
                <dt>{t!(i18n, crash_max_dv)}</dt><dd data-testid="max-dv">{num(r.max_delta_v_long_kmh)}</dd>
                <dt>{t!(i18n, crash_max_dv_time)}</dt><dd>{num(r.time_max_delta_v_ms)}</dd>
                <dt>{t!(i18n, crash_max_dv_lat)}</dt><dd>{num(r.max_delta_v_lat_kmh)}</dd>
                <dt>{t!(i18n, crash_ignition)}</dt><dd>{num(r.ignition_cycle_crash.map(|v| v as f64))} " / " {num(r.ignition_cycle_download.map(|v| v as f64))}</dd>
                <dt>{t!(i18n, crash_belt)}</dt><dd>{r.belt_driver.map(|b| b.as_str()).unwrap_or("—")}</dd>
                <dt>{t!(i18n, crash_airbags)}</dt><dd>{airbags}</dd>
                <dt>{t!(i18n, crash_locked)}</dt><dd>{yes_no(r.locked)}</dd>
                <dt>{t!(i18n, crash_complete)}</dt><dd>{yes_no(r.complete)}</dd>
            </dl>
            <h3>{t!(i18n, limitations_title)}</h3>
            <ul class="limitations" data-testid="limitations">
                {c.limitations.iter().map(|l| match l {
                    Limitation::PreCrashRate { hz } => view! { <li>{t!(i18n, lim_pre_crash_rate)} " " {*hz}</li> }.into_any(),
                    Limitation::DeltaVRate { hz } => view! { <li>{t!(i18n, lim_delta_v_rate)} " " {*hz}</li> }.into_any(),
                    Limitation::NotSynchronised => view! { <li>{t!(i18n, lim_not_synchronised)}</li> }.into_any(),
                    Limitation::Incomplete => view! { <li>{t!(i18n, lim_incomplete)}</li> }.into_any(),
                    Limitation::Absent { channels } => view! { <li>{t!(i18n, lim_absent)} " " {channels.join(", ")}</li> }.into_any(),
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
                    <thead><tr><th scope="col">{t!(i18n, col_t_ms)}</th><th scope="col">{t!(i18n, col_long_kmh)}</th><th scope="col">{t!(i18n, col_lat_kmh)}</th></tr></thead>
                    <tbody>{r.delta_v.samples.iter().map(|s| view! {
                        <tr><td class="num">{s.t_ms}</td><td class="num">{num(s.long_kmh)}</td><td class="num">{num(s.lat_kmh)}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            </details>
        </section>
    }
}
