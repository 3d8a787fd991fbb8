//! Charts drawn as SVG on the server (readable without JavaScript), each with
//! a title, axis units, and the same data as a table for screen readers.

use crate::components::browse::{channel_label, clock_label};
use crate::i18n::{t, use_i18n};
use leptos::prelude::*;
use portal_core::domain::chart::{
    relative_ticks, stroke_starts, value_ticks, Chart, ChartChannel, ChartPoint, Series, TimeTick,
};

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

/// Where a time and a value fall in the drawing.
#[derive(Clone, Copy)]
struct Scale {
    from_us: i64,
    span_us: f64,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn new(chart: &Chart, lo: f64, hi: f64) -> Self {
        Scale {
            from_us: chart.from_us,
            span_us: (chart.to_us - chart.from_us).max(1) as f64,
            lo,
            hi,
        }
    }

    /// Positions to a tenth of a unit: finer than a pixel, short in the page.
    fn x(self, t_us: i64) -> f64 {
        tenth(LEFT + (t_us - self.from_us) as f64 / self.span_us * (WIDTH - LEFT))
    }

    fn y(self, v: f64) -> f64 {
        tenth(TOP + (1.0 - (v - self.lo) / (self.hi - self.lo)) * (HEIGHT - TOP - BOTTOM))
    }
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The SVG path: each point's min then max; a pause lifts the pen.
fn path(chart: &Chart, points: &[ChartPoint], scale: Scale) -> String {
    let starts = stroke_starts(points, chart.bucket_us);
    let mut d = String::new();
    for (p, starts) in points.iter().zip(starts) {
        let pen = if starts { 'M' } else { 'L' };
        let x = scale.x(p.t_us);
        d.push_str(&format!("{pen}{x:.1},{:.1}", scale.y(p.min)));
        if p.max != p.min {
            d.push_str(&format!("L{x:.1},{:.1}", scale.y(p.max)));
        }
    }
    d
}

/// The time axis's ticks: the server's round instants in the reader's zone;
/// around a marked instant, seconds before and after it; else the two ends.
fn time_ticks(chart: &Chart, offset_secs: i32) -> Vec<TimeTick> {
    if !chart.ticks.is_empty() {
        return chart.ticks.clone();
    }
    if let Some(zero) = chart.marker_us {
        return relative_ticks(chart.from_us, chart.to_us, zero, false);
    }
    [chart.from_us, chart.to_us]
        .into_iter()
        .map(|t_us| TimeTick {
            t_us,
            label: clock_label(t_us, offset_secs),
        })
        .collect()
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
    let scale = Scale::new(&chart, lo, hi);
    let d = path(&chart, &series.points, scale);
    let marker = chart.marker_us.map(|t| scale.x(t));
    let value_grid = value_ticks(lo, hi, 4);
    let time_grid = time_ticks(&chart, offset_secs);
    let empty = series.points.is_empty();
    let fmt = |v: f64| portal_core::domain::vocabulary::number(v, 2);
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
                        {value_grid.into_iter().map(|(v, label)| {
                            let y = scale.y(v);
                            view! {
                                <line class="grid" x1=LEFT y1=y x2=WIDTH y2=y />
                                <text class="tick" x=LEFT - 4.0 y=y + 3.0 text-anchor="end">{label}</text>
                            }
                        }).collect_view()}
                        {time_grid.into_iter().map(|tick| {
                            let x = scale.x(tick.t_us);
                            let anchor = if x < LEFT + 24.0 { "start" } else if x > WIDTH - 24.0 { "end" } else { "middle" };
                            view! {
                                <line class="grid" x1=x y1=TOP x2=x y2=HEIGHT - BOTTOM />
                                <text class="tick" x=x y=HEIGHT - 6.0 text-anchor=anchor>{tick.label}</text>
                            }
                        }).collect_view()}
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
