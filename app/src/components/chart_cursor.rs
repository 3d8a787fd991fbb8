//! A chart's cursor, once hydrated: the pointer (or the arrow keys, one
//! sample at a time) puts a line across every lane and reads each channel's
//! value there; dragging across the chart (or Shift with the arrows, then
//! Enter) selects a span, which the page zooms to by changing its URL, so
//! the back button returns. Without JavaScript none of this is drawn.

use super::chart::{Lane, Scale, LEFT, WIDTH};
use crate::components::browse::{clock_label, lang};
use crate::i18n::{t, use_i18n};
use leptos::prelude::*;
use portal_core::domain::chart::ChartChannel;
use portal_core::domain::log_format::AebState;
use portal_core::domain::vocabulary::{self, Lang};

/// A selection narrower than this (in drawing units) is a click, not a span.
const MIN_SPAN: f64 = 6.0;

struct Drawing {
    /// Every instant any series has a point at, in order.
    times: Vec<i64>,
    lanes: Vec<Lane>,
    /// The time axis (any lane's scale: they share it).
    scale: Option<Scale>,
}

#[derive(Clone, Copy)]
pub struct Cursor {
    pub svg: NodeRef<leptos::svg::Svg>,
    /// The instant under the cursor, as an index into `times`.
    at: RwSignal<Option<usize>>,
    /// Where a selection started.
    anchor: RwSignal<Option<usize>>,
    drawing: StoredValue<Drawing>,
    zoom: Option<Callback<(i64, i64)>>,
}

impl Cursor {
    pub(super) fn new(lanes: Vec<Lane>, zoom: Option<Callback<(i64, i64)>>) -> Self {
        let mut times: Vec<i64> = lanes
            .iter()
            .flat_map(|l| l.series.points.iter().map(|p| p.t_us))
            .collect();
        times.sort_unstable();
        times.dedup();
        let scale = lanes.first().map(|l| l.scale);
        Cursor {
            svg: NodeRef::new(),
            at: RwSignal::new(None),
            anchor: RwSignal::new(None),
            drawing: StoredValue::new(Drawing {
                times,
                lanes,
                scale,
            }),
            zoom,
        }
    }

    fn time(&self, i: usize) -> Option<i64> {
        self.drawing.with_value(|d| d.times.get(i).copied())
    }

    fn x(&self, i: usize) -> Option<f64> {
        let t = self.time(i)?;
        self.drawing.with_value(|d| d.scale.map(|s| s.x(t)))
    }

    /// The sample nearest to where the pointer is.
    fn index_at(&self, ev: &leptos::ev::PointerEvent) -> Option<usize> {
        let svg = self.svg.get_untracked()?;
        let width = f64::from(svg.client_width());
        if width <= 0.0 {
            return None;
        }
        let x = (f64::from(ev.offset_x()) / width * WIDTH).max(LEFT);
        self.drawing.with_value(|d| {
            let t = d.scale?.t(x);
            nearest(&d.times, t)
        })
    }

    pub fn pointer_move(&self, ev: &leptos::ev::PointerEvent) {
        if let Some(i) = self.index_at(ev) {
            self.at.set(Some(i));
        }
    }

    pub fn pointer_down(&self, ev: &leptos::ev::PointerEvent) {
        if self.zoom.is_some() {
            self.anchor.set(self.index_at(ev));
        }
    }

    pub fn pointer_up(&self, ev: &leptos::ev::PointerEvent) {
        if let Some(i) = self.index_at(ev) {
            self.at.set(Some(i));
        }
        self.zoom_to_selection();
        self.anchor.set(None);
    }

    pub fn leave(&self) {
        self.at.set(None);
        self.anchor.set(None);
    }

    pub fn key(&self, ev: &leptos::ev::KeyboardEvent) {
        let last = self.drawing.with_value(|d| d.times.len().saturating_sub(1));
        let at = self.at.get_untracked();
        // With Shift the cursor drags a selection from where it was.
        let go = |next: usize| {
            if ev.shift_key() && self.zoom.is_some() {
                if self.anchor.get_untracked().is_none() {
                    self.anchor.set(Some(at.unwrap_or(next)));
                }
            } else {
                self.anchor.set(None);
            }
            self.at.set(Some(next));
        };
        let by = |step: i64| match at {
            Some(i) => (i as i64 + step).clamp(0, last as i64) as usize,
            None if step > 0 => 0,
            None => last,
        };
        match ev.key().as_str() {
            "ArrowRight" => go(by(1)),
            "ArrowLeft" => go(by(-1)),
            "PageDown" => go(by(10)),
            "PageUp" => go(by(-10)),
            "Home" => go(0),
            "End" => go(last),
            "Enter" => {
                self.zoom_to_selection();
                self.anchor.set(None);
            }
            "Escape" => self.leave(),
            _ => return,
        }
        ev.prevent_default();
    }

    /// The selected span, when it is wide enough to be one.
    fn selection(&self) -> Option<(usize, usize)> {
        let (a, b) = (self.anchor.get()?, self.at.get()?);
        let (from, to) = (a.min(b), a.max(b));
        ((self.x(to)? - self.x(from)?) >= MIN_SPAN).then_some((from, to))
    }

    fn zoom_to_selection(&self) {
        let (Some(zoom), Some((from, to))) = (self.zoom, self.selection()) else {
            return;
        };
        if let (Some(from_us), Some(to_us)) = (self.time(from), self.time(to)) {
            zoom.run((from_us, to_us + 1));
        }
    }

    /// Each lane's value at the cursor, in the reader's words.
    fn values(&self, lang: Lang, i: usize) -> Vec<(f64, String, String)> {
        let Some(t) = self.time(i) else {
            return Vec::new();
        };
        self.drawing.with_value(|d| {
            d.lanes
                .iter()
                .map(|lane| {
                    let channel = lane.series.channel;
                    let name = vocabulary::channel(channel.as_str())
                        .map_or(channel.as_str(), |c| c.label.get(lang))
                        .to_string();
                    let points = &lane.series.points;
                    // Points are in time order: found by halving, not by a scan.
                    let value = points.binary_search_by_key(&t, |p| p.t_us).map_or_else(
                        |_| "–".to_string(),
                        |k| {
                            let p = points[k];
                            if p.min == p.max {
                                value_words(lang, channel, p.min)
                            } else {
                                format!(
                                    "{} … {}",
                                    value_words(lang, channel, p.min),
                                    value_words(lang, channel, p.max)
                                )
                            }
                        },
                    );
                    (lane.top(), name, value)
                })
                .collect()
        })
    }
}

/// A channel's value as the tables write it: a number with its unit, a
/// yes or no, an AEB state.
fn value_words(lang: Lang, channel: ChartChannel, v: f64) -> String {
    match channel {
        ChartChannel::BrakePedal | ChartChannel::Abs => {
            vocabulary::flag(v >= 0.5).get(lang).to_string()
        }
        ChartChannel::Aeb => AebState::ALL.get(v.round().max(0.0) as usize).map_or_else(
            || vocabulary::number(v, 0),
            |s| vocabulary::aeb(*s).get(lang).to_string(),
        ),
        _ => format!("{} {}", vocabulary::number(v, 1), channel.unit())
            .trim_end()
            .to_string(),
    }
}

/// The index in `times` (sorted) nearest to `t`.
fn nearest(times: &[i64], t: i64) -> Option<usize> {
    let after = times.partition_point(|&x| x < t);
    match (after.checked_sub(1), times.get(after)) {
        (Some(before), Some(&next)) if next - t < t - times[before] => Some(after),
        (Some(before), _) => Some(before),
        (None, Some(_)) => Some(0),
        (None, None) => None,
    }
}

/// The line across every lane, the values beside it, the selection.
#[component]
pub fn CursorLayer(cursor: Cursor, top: f64, bottom: f64, offset_secs: i32) -> impl IntoView {
    let i18n = use_i18n();
    let selection = move || {
        let (from, to) = cursor.selection()?;
        let (x1, x2) = (cursor.x(from)?, cursor.x(to)?);
        Some(view! { <rect class="selection" x=x1 y=top width=x2 - x1 height=bottom - top /> })
    };
    let line = move || {
        let i = cursor.at.get()?;
        let (x, t) = (cursor.x(i)?, cursor.time(i)?);
        let values = cursor.values(lang(i18n), i);
        let label_anchor = if x > WIDTH - 80.0 { "end" } else { "start" };
        Some(view! {
            <g class="cursor" data-testid="chart-cursor">
                <line class="cursor-line" x1=x y1=top x2=x y2=bottom />
                {values.into_iter().map(|(lane_top, _, value)| view! {
                    <text class="cursor-value" x=WIDTH y=lane_top - 5.0 text-anchor="end">{value}</text>
                }).collect_view()}
                <text class="cursor-time" x=x + if label_anchor == "start" { 4.0 } else { -4.0 } y=top + 12.0
                    text-anchor=label_anchor>{clock_label(t, offset_secs)}</text>
            </g>
        })
    };
    view! { {selection} {line} }
}

/// The cursor's reading in words, announced as it moves.
#[component]
pub fn CursorReadout(cursor: Cursor, id: String, offset_secs: i32) -> impl IntoView {
    let i18n = use_i18n();
    let reading = move || {
        let i = cursor.at.get()?;
        let t = cursor.time(i)?;
        let values = cursor
            .values(lang(i18n), i)
            .into_iter()
            .map(|(_, name, value)| format!("{name}: {value}"))
            .collect::<Vec<_>>()
            .join(" · ");
        let selected = cursor.selection().and_then(|(from, to)| {
            Some(view! {
                <span class="selected">
                    " · " {t!(i18n, chart_selected)} " " {clock_label(cursor.time(from)?, offset_secs)}
                    " – " {clock_label(cursor.time(to)?, offset_secs)} " (" {t!(i18n, chart_enter_zooms)} ")"
                </span>
            })
        });
        Some(view! { <strong>{clock_label(t, offset_secs)}</strong> " · " {values} {selected} })
    };
    view! { <p class="cursor-readout" id=id aria-live="polite" data-testid="cursor-readout">{reading}</p> }
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn the_nearest_sample_is_found_on_either_side() {
        let times = [10, 20, 40];
        assert_eq!(nearest(&times, 0), Some(0));
        assert_eq!(nearest(&times, 14), Some(0));
        assert_eq!(nearest(&times, 16), Some(1));
        assert_eq!(nearest(&times, 31), Some(2));
        assert_eq!(nearest(&times, 99), Some(2));
        assert_eq!(nearest(&[], 5), None);
    }
}
