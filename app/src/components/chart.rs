//! Charts drawn as SVG on the server (readable without JavaScript): every
//! channel of a chart in one drawing, stacked on one shared time axis, so a
//! vertical line reads all of them at one instant; each channel's data also
//! as a table. Once hydrated, `chart_cursor.rs` adds a readout under the pointer
//! or the arrow keys, and selecting a span zooms to it.

use super::chart_cursor::{Cursor, CursorLayer, CursorReadout};
use crate::components::browse::{channel_label, clock_label, lang};
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use portal_core::domain::chart::{
    relative_ticks, stroke_starts, value_ticks, Chart, ChartChannel, ChartPoint, Series, TimeTick,
};
use portal_core::domain::vocabulary;

pub(super) const WIDTH: f64 = 720.0;
pub(super) const LEFT: f64 = 56.0;
/// Above each lane: its title, and the cursor's readout of it.
const TITLE: f64 = 18.0;
const GAP: f64 = 10.0;
/// Below the last lane: the time labels.
const AXIS: f64 = 22.0;

/// One channel's band of the drawing.
#[derive(Clone)]
pub(super) struct Lane {
    pub series: Series,
    /// The chart's bucket width (0: every sample drawn), for telling pauses.
    pub bucket_us: i64,
    /// Where the plot lies (below its title) and how its values map into it.
    pub scale: Scale,
}

impl Lane {
    pub fn top(&self) -> f64 {
        self.scale.top
    }

    pub fn bottom(&self) -> f64 {
        self.scale.top + self.scale.height
    }
}

/// How tall a channel's plot is: on/off and state channels need less.
fn plot_height(channel: ChartChannel) -> f64 {
    match channel {
        ChartChannel::BrakePedal | ChartChannel::Abs => 34.0,
        ChartChannel::Aeb => 50.0,
        _ => 96.0,
    }
}

fn lanes(chart: &Chart) -> Vec<Lane> {
    let mut y = 0.0;
    chart
        .series
        .iter()
        .map(|s| {
            let top = y + TITLE;
            let height = plot_height(s.channel);
            y = top + height + GAP;
            let (lo, hi) = value_range(s.channel, &s.points);
            Lane {
                series: s.clone(),
                bucket_us: chart.bucket_us,
                scale: Scale {
                    from_us: chart.from_us,
                    span_us: (chart.to_us - chart.from_us).max(1) as f64,
                    lo,
                    hi,
                    top,
                    height,
                },
            }
        })
        .collect()
}

/// Every series of `chart` stacked in one SVG on one time axis. `name`
/// keeps element ids unique when a page shows several panels; `zoom`, when
/// given, is called with a span the reader selected.
#[component]
pub fn ChartPanel(
    chart: Chart,
    offset_secs: i32,
    name: &'static str,
    #[prop(optional)] zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let downsampled = chart.bucket_us > 0;
    let lanes = lanes(&chart);
    // Grid lines and the marker run from the first plot's top to the last one's axis.
    let (first, last) = (
        lanes.first().map_or(0.0, Lane::top),
        lanes.last().map_or(0.0, Lane::bottom),
    );
    let height = last + AXIS;
    let cursor = Cursor::new(lanes.clone(), zoom);
    let id = format!("chart-{name}");
    let caption_id = id.clone();
    let channels = chart.series.iter().map(|s| s.channel).collect::<Vec<_>>();
    let names = move || {
        channels
            .iter()
            .map(|c| vocabulary::channel_heading(lang(i18n), c.as_str()))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let drawn = chart.series.iter().any(|s| !s.points.is_empty());
    let time_grid = time_ticks(&chart, offset_secs);
    let marker = chart.marker_us;
    let x_of = lanes.first().map(|l| l.scale);
    view! {
        <figure class="chart chart-panel" role="group" aria-labelledby=id data-chart=name>
            <figcaption id=caption_id>
                {names.clone()}
                <span class="muted chart-note">
                    " · " {chart.samples} " " {t!(i18n, chart_samples)}
                    {downsampled.then(|| view! { " · " {t!(i18n, chart_downsampled)} })}
                    {chart.marker_us.map(|_| view! { " " {t!(i18n, event_marked)} })}
                    {zoom.is_some().then(|| view! { <span class="chart-hint">" · " {t!(i18n, chart_zoom_hint)}</span> })}
                </span>
            </figcaption>
            {if !drawn {
                view! { <p class="muted">{t!(i18n, chart_empty)}</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" class="chart-svg"
                        aria-label=move || format!("{}: {}", t_string!(i18n, chart_of), names())
                        aria-describedby=format!("{id}-readout")
                        tabindex="0" node_ref=cursor.svg
                        on:pointermove=move |ev| cursor.pointer_move(&ev)
                        on:pointerdown=move |ev| cursor.pointer_down(&ev)
                        on:pointerup=move |ev| cursor.pointer_up(&ev)
                        on:pointerleave=move |_| cursor.leave()
                        on:keydown=move |ev| cursor.key(&ev)>
                        {lanes.iter().map(|lane| view! { <LaneView lane=lane.clone() /> }).collect_view()}
                        {x_of.map(|scale| time_grid.into_iter().enumerate().map(|(i, tick)| {
                            let x = scale.x(tick.t_us);
                            let anchor = if x < LEFT + 24.0 { "start" } else if x > WIDTH - 24.0 { "end" } else { "middle" };
                            let class = if i % 2 == 1 { "tick time odd" } else { "tick time" };
                            view! {
                                <line class="grid" x1=x y1=first x2=x y2=last />
                                <text class=class x=x y=height - 6.0 text-anchor=anchor>{tick.label}</text>
                            }
                        }).collect_view())}
                        {marker.zip(x_of).map(|(t, scale)| {
                            let x = scale.x(t);
                            view! { <line class="marker" x1=x y1=first x2=x y2=last /> }
                        })}
                        <CursorLayer cursor top=first bottom=last offset_secs />
                    </svg>
                    <CursorReadout cursor id=format!("{id}-readout") offset_secs />
                    {chart.series.iter().map(|s| view! {
                        <SeriesTable series=s.clone() ranged=downsampled offset_secs />
                    }).collect_view()}
                }.into_any()
            }}
        </figure>
    }
}

/// One channel's band: its title, value grid and labels, and its line.
#[component]
fn LaneView(lane: Lane) -> impl IntoView {
    let i18n = use_i18n();
    let channel = lane.series.channel;
    let scale = lane.scale;
    let d = path(&lane.series.points, lane.bucket_us, scale);
    let flag = matches!(channel, ChartChannel::BrakePedal | ChartChannel::Abs);
    let ticks: Vec<(f64, Signal<String>)> = if flag {
        [false, true]
            .into_iter()
            .map(|on| {
                let word = Signal::derive(move || vocabulary::flag(on).get(lang(i18n)).to_string());
                (f64::from(u8::from(on)), word)
            })
            .collect()
    } else {
        value_ticks(scale.lo, scale.hi, if scale.height >= 80.0 { 4 } else { 2 })
            .into_iter()
            .map(|(v, label)| (v, Signal::stored(label)))
            .collect()
    };
    let about =
        move || vocabulary::channel(channel.as_str()).map_or("", |c| c.about.get(lang(i18n)));
    view! {
        <g class="lane" data-channel=channel.as_str()>
            <title>{about}</title>
            <text class="lane-title" x=LEFT y=lane.top() - 5.0>{move || channel_label(i18n, channel)}</text>
            <line class="axis" x1=LEFT y1=lane.top() x2=LEFT y2=lane.bottom() />
            <line class="axis" x1=LEFT y1=lane.bottom() x2=WIDTH y2=lane.bottom() />
            {ticks.into_iter().map(|(v, label)| {
                let y = scale.y(v);
                view! {
                    <line class="grid" x1=LEFT y1=y x2=WIDTH y2=y />
                    <text class="tick" x=LEFT - 4.0 y=y + 3.0 text-anchor="end">{label}</text>
                }
            }).collect_view()}
            <path class="series" d=d />
        </g>
    }
}

/// One channel's data as a table, for screen readers and for exact values.
#[component]
fn SeriesTable(series: Series, ranged: bool, offset_secs: i32) -> impl IntoView {
    let i18n = use_i18n();
    let channel = series.channel;
    let unit = channel.unit();
    let fmt = |v: f64| vocabulary::number(v, 2);
    view! {
        <details class="chart-table" data-channel=channel.as_str()>
            <summary>{t!(i18n, data_table)} ": " {move || vocabulary::channel_heading(lang(i18n), channel.as_str())}</summary>
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
                    {series.points.into_iter().map(|p| view! {
                        <tr>
                            <td>{clock_label(p.t_us, offset_secs)}</td>
                            <td>{fmt(p.min)}</td>
                            {ranged.then(|| view! { <td>{fmt(p.max)}</td> })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
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

/// Where a time and a value fall in a lane.
#[derive(Clone, Copy)]
pub(super) struct Scale {
    pub from_us: i64,
    pub span_us: f64,
    pub lo: f64,
    pub hi: f64,
    pub top: f64,
    pub height: f64,
}

impl Scale {
    /// Positions to a tenth of a unit: finer than a pixel, short in the page.
    pub fn x(self, t_us: i64) -> f64 {
        tenth(LEFT + (t_us - self.from_us) as f64 / self.span_us * (WIDTH - LEFT))
    }

    /// The instant at a horizontal position of the drawing.
    pub fn t(self, x: f64) -> i64 {
        self.from_us + ((x - LEFT) / (WIDTH - LEFT) * self.span_us).round() as i64
    }

    pub fn y(self, v: f64) -> f64 {
        tenth(self.top + (1.0 - (v - self.lo) / (self.hi - self.lo)) * self.height)
    }
}

/// A coordinate to a tenth of a unit: finer than a pixel, short in the page.
pub(super) fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The SVG path: each point's min then max; a pause lifts the pen.
fn path(points: &[ChartPoint], bucket_us: i64, scale: Scale) -> String {
    let starts = stroke_starts(points, bucket_us);
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
