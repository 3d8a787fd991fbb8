//! Charts drawn as SVG on the server (readable without JavaScript), each with
//! a title, axis units, and the same data as a table for screen readers.

use crate::components::browse::{channel_label, clock_label};
use crate::i18n::{t, use_i18n};
use leptos::prelude::*;
use portal_core::domain::chart::{Chart, ChartChannel, ChartPoint, Series};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;

/// One small chart per series of `chart`, sharing the time axis. `name`
/// keeps element ids unique when a page shows several panels.
#[component]
pub fn ChartPanel(chart: Chart, offset_secs: i32, name: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let downsampled = chart.bucket_us > 0;
    let series = chart.series.clone();
    view! {
        <div class="chart-panel">
            <p class="muted chart-note">
                {chart.samples} " " {t!(i18n, chart_samples)}
                {downsampled.then(|| view! { " · " {t!(i18n, chart_downsampled)} })}
                {chart.marker_us.map(|_| view! { " " {t!(i18n, event_marked)} })}
            </p>
            {series
                .into_iter()
                .map(|s| view! { <SeriesChart chart=chart.clone() series=s offset_secs name /> })
                .collect_view()}
        </div>
    }
}

fn value_range(channel: ChartChannel, points: &[ChartPoint]) -> (f64, f64) {
    if let Some(fixed) = channel.fixed_range() {
        return fixed;
    }
    let lo = points.iter().map(|p| p.min).fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.max)
        .fold(f64::NEG_INFINITY, f64::max);
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) if hi > lo => (lo.min(0.0), hi),
        (true, true) => (lo - 1.0, hi + 1.0),
        _ => (0.0, 1.0),
    }
}

/// The SVG path: each point's min then max; a gap in the data lifts the pen.
fn path(chart: &Chart, points: &[ChartPoint], lo: f64, hi: f64) -> String {
    let span = (chart.to_us - chart.from_us).max(1) as f64;
    let x = |t: i64| LEFT + (t - chart.from_us) as f64 / span * (WIDTH - LEFT);
    let y = |v: f64| TOP + (1.0 - (v - lo) / (hi - lo)) * (HEIGHT - TOP - BOTTOM);
    let gap = (chart.bucket_us * 2).max(5_000_000);
    let mut d = String::new();
    let mut previous: Option<i64> = None;
    for p in points {
        let pen = if previous.is_some_and(|t| p.t_us - t <= gap) {
            'L'
        } else {
            'M'
        };
        d.push_str(&format!("{pen}{:.1},{:.1}", x(p.t_us), y(p.min)));
        if p.max != p.min {
            d.push_str(&format!("L{:.1},{:.1}", x(p.t_us), y(p.max)));
        }
        previous = Some(p.t_us);
    }
    d
}

#[component]
fn SeriesChart(
    chart: Chart,
    series: Series,
    offset_secs: i32,
    name: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let channel = series.channel;
    let unit = channel.unit();
    let title = move || channel_label(i18n, channel);
    let about = move || {
        portal_core::domain::vocabulary::channel(channel.as_str())
            .map_or("", |c| c.about.get(crate::components::browse::lang(i18n)))
    };
    let (lo, hi) = value_range(channel, &series.points);
    let d = path(&chart, &series.points, lo, hi);
    let span = (chart.to_us - chart.from_us).max(1) as f64;
    let marker = chart
        .marker_us
        .map(|t| LEFT + (t - chart.from_us) as f64 / span * (WIDTH - LEFT));
    let empty = series.points.is_empty();
    let fmt = |v: f64| format!("{}", (v * 100.0).round() / 100.0);
    let id = format!("chart-{name}-{}", channel.as_str());
    let caption_id = id.clone();
    let rows = series.points.clone();
    let ranged = chart.bucket_us > 0;
    view! {
        <figure class="chart" role="group" aria-labelledby=id data-chart=name data-channel=channel.as_str()>
            <figcaption id=caption_id title=about>{title}</figcaption>
            {if empty {
                view! { <p class="muted">{t!(i18n, chart_empty)}</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title class="chart-svg">
                        <line class="axis" x1=LEFT y1=TOP x2=LEFT y2=HEIGHT - BOTTOM />
                        <line class="axis" x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM />
                        <text class="tick" x=LEFT - 4.0 y=TOP + 10.0 text-anchor="end">{fmt(hi)}</text>
                        <text class="tick" x=LEFT - 4.0 y=HEIGHT - BOTTOM text-anchor="end">{fmt(lo)}</text>
                        <text class="tick" x=LEFT y=HEIGHT - 6.0>{clock_label(chart.from_us, offset_secs)}</text>
                        <text class="tick" x=WIDTH y=HEIGHT - 6.0 text-anchor="end">{clock_label(chart.to_us, offset_secs)}</text>
                        {marker.map(|mx| view! { <line class="marker" x1=mx y1=TOP x2=mx y2=HEIGHT - BOTTOM /> })}
                        <path class="series" d=d />
                    </svg>
                    <details class="chart-table">
                        <summary>{t!(i18n, data_table)}</summary>
                        <table>
                            <thead><tr>
                                <th scope="col">{t!(i18n, col_time)}</th>
                                {if ranged {
                                    view! { <th scope="col">{t!(i18n, col_min)} " " {unit}</th><th scope="col">{t!(i18n, col_max)} " " {unit}</th> }.into_any()
                                } else {
                                    view! { <th scope="col">{t!(i18n, col_value)} " " {unit}</th> }.into_any()
                                }}
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|p| view! {
                                    <tr>
                                        <td>{clock_label(p.t_us, offset_secs)}</td>
                                        <td>{fmt(p.min)}</td>
                                        {ranged.then(|| view! { <td>{fmt(p.max)}</td> })}
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                }.into_any()
            }}
        </figure>
    }
}
