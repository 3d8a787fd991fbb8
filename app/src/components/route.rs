//! The route of a range, drawn as SVG from the stored positions alone: no
//! map tiles, nothing fetched from anywhere. Start, end, brake and crash
//! events marked; a scale bar and a north arrow. Shown only to a reader whose
//! account chose to see locations; others get a line saying where to.

use crate::api::browse::vehicle_route;
use crate::components::browse::{clock_label, event_type_label, BrowseError};
use crate::components::chart::tenth;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use portal_core::domain::browse::{Route, RouteQuery};
use portal_core::domain::log_format::EventGroup;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 360.0;
const PAD: f64 = 28.0;
/// Metres per degree of latitude (and of longitude at the equator).
const METRES_PER_DEGREE: f64 = 111_320.0;
/// A route narrower than this (in degrees) is drawn as if it were this wide.
const MIN_SPAN_DEG: f64 = 0.002;
/// A pause longer than this lifts the pen (a new drive).
const PAUSE_US: i64 = 5 * 60 * 1_000_000;

#[component]
pub fn RouteMap(
    vin: String,
    from: String,
    to: String,
    offset_secs: i32,
    name: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let route = Resource::new(
        move || (vin.clone(), from.clone(), to.clone()),
        |(vin, from, to)| {
            vehicle_route(
                vin,
                RouteQuery {
                    from: Some(from),
                    to: Some(to),
                },
            )
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match route.await {
                    Ok(r) if !r.shown => view! {
                        <p class="muted" data-testid="route-hidden">
                            {t!(i18n, route_hidden)} " " <A href="/account#location">{t!(i18n, route_settings)}</A>
                        </p>
                    }.into_any(),
                    Ok(r) if r.points.is_empty() => view! {
                        <p class="muted" data-testid="route-none">{t!(i18n, route_none)}</p>
                    }.into_any(),
                    Ok(r) => view! { <RouteFigure r offset_secs name /> }.into_any(),
                    Err(error) => view! { <BrowseError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Longitude scaled by the cosine of the route's latitude, so a kilometre
/// east is as long as a kilometre north (good for the few kilometres of a drive).
struct Projection {
    k: f64,
    min_x: f64,
    min_y: f64,
    scale: f64,
    dx: f64,
    dy: f64,
}

impl Projection {
    fn new(r: &Route) -> Self {
        let lat0 = r.points.iter().map(|p| p.lat).sum::<f64>() / r.points.len() as f64;
        let k = lat0.to_radians().cos().max(0.01);
        let xs = r.points.iter().map(|p| p.lon * k);
        let ys = r.points.iter().map(|p| p.lat);
        let (min_x, max_x) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
        let (min_y, max_y) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
        let (w, h) = (
            (max_x - min_x).max(MIN_SPAN_DEG),
            (max_y - min_y).max(MIN_SPAN_DEG),
        );
        let scale = ((WIDTH - 2.0 * PAD) / w).min((HEIGHT - 2.0 * PAD) / h);
        Projection {
            k,
            min_x,
            min_y,
            scale,
            // Centre the route in the drawing.
            dx: (WIDTH - 2.0 * PAD - (max_x - min_x) * scale) / 2.0,
            dy: (HEIGHT - 2.0 * PAD - (max_y - min_y) * scale) / 2.0,
        }
    }

    fn at(&self, lat: f64, lon: f64) -> (f64, f64) {
        let x = PAD + self.dx + (lon * self.k - self.min_x) * self.scale;
        let y = HEIGHT - PAD - self.dy - (lat - self.min_y) * self.scale;
        (tenth(x), tenth(y))
    }

    /// A scale bar of a round length near a quarter of the width: (units, label).
    fn scale_bar(&self) -> (f64, String) {
        let metres_per_unit = METRES_PER_DEGREE / self.scale;
        let target = WIDTH / 4.0 * metres_per_unit;
        let magnitude = 10f64.powf(target.log10().floor());
        let metres = [5.0, 2.0, 1.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|&m| m <= target)
            .unwrap_or(magnitude);
        let label = if metres >= 1000.0 {
            format!("{} km", metres / 1000.0)
        } else {
            format!("{metres} m")
        };
        (metres / metres_per_unit, label)
    }
}

#[component]
fn RouteFigure(r: Route, offset_secs: i32, name: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let projection = Projection::new(&r);
    let pause = PAUSE_US.max(2 * r.bucket_us);
    let mut d = String::new();
    let mut last_t = None;
    for p in &r.points {
        let (x, y) = projection.at(p.lat, p.lon);
        let pen = match last_t {
            Some(t) if p.t_us - t <= pause => 'L',
            _ => 'M',
        };
        d.push_str(&format!("{pen}{x:.1},{y:.1}"));
        last_t = Some(p.t_us);
    }
    let first = r.points[0];
    let last = r.points[r.points.len() - 1];
    let (sx, sy) = projection.at(first.lat, first.lon);
    let (ex, ey) = projection.at(last.lat, last.lon);
    let (bar, bar_label) = projection.scale_bar();
    let (start_time, end_time) = (
        clock_label(first.t_us, offset_secs),
        clock_label(last.t_us, offset_secs),
    );
    let count = r.points.len();
    let events = r.events.clone();
    let label = {
        let (a, b) = (start_time.clone(), end_time.clone());
        move || format!("{} {a} – {b}", t_string!(i18n, route_title))
    };
    view! {
        <figure class="route" data-testid="route" data-route=name role="group" aria-labelledby=format!("route-{name}")>
            <figcaption id=format!("route-{name}")>
                {t!(i18n, route_title)} <span class="muted">" · " {count} " " {t!(i18n, route_positions)} " · " {t!(i18n, route_lead)}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="route-svg" role="img" aria-label=label>
                <path class="route-line" d=d />
                {events.into_iter().map(|e| {
                    let (x, y) = projection.at(e.lat, e.lon);
                    let when = clock_label(e.t_us, offset_secs);
                    let shape = if e.group == EventGroup::Crash {
                        view! { <path class="route-crash" d=format!("M{},{}l12,12m0,-12l-12,12", x - 6.0, y - 6.0) /> }.into_any()
                    } else {
                        view! { <path class="route-brake" d=format!("M{x},{}l6,10h-12z", y - 6.0) /> }.into_any()
                    };
                    view! {
                        <g class="route-event" data-event-type=e.event_type.as_str()>
                            <title>{event_type_label(e.event_type)} " " {when}</title>
                            {shape}
                        </g>
                    }
                }).collect_view()}
                <g class="route-start" data-testid="route-start"><title>{t!(i18n, route_start)} " " {start_time.clone()}</title><circle cx=sx cy=sy r="6" /></g>
                <g class="route-end" data-testid="route-end"><title>{t!(i18n, route_end)} " " {end_time.clone()}</title><rect x=ex - 5.0 y=ey - 5.0 width="10" height="10" /></g>
                <g class="route-north" transform=format!("translate({},{})", WIDTH - 20.0, 26.0)>
                    <path d="M0,-14l6,14h-12z" />
                    <text y="14" text-anchor="middle">{t!(i18n, route_north)}</text>
                </g>
                <g class="route-scale" data-testid="route-scale">
                    <path d=format!("M{PAD},{}v6h{bar:.1}v-6", HEIGHT - 14.0) />
                    <text x=PAD + bar + 6.0 y=HEIGHT - 8.0>{bar_label}</text>
                </g>
            </svg>
            <p class="route-legend muted">
                <span class="key start">"●"</span> " " {t!(i18n, route_start)} " " {start_time} " · "
                <span class="key end">"■"</span> " " {t!(i18n, route_end)} " " {end_time} " · "
                <span class="key brake">"▲"</span> " " {t!(i18n, brake_short)} " · "
                <span class="key crash">"✕"</span> " " {t!(i18n, crash_short)}
            </p>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::domain::browse::RoutePoint;

    fn route(points: &[(f64, f64)]) -> Route {
        Route {
            shown: true,
            points: points
                .iter()
                .enumerate()
                .map(|(i, &(lat, lon))| RoutePoint {
                    t_us: i as i64,
                    lat,
                    lon,
                })
                .collect(),
            bucket_us: 1,
            events: Vec::new(),
        }
    }

    #[test]
    fn north_is_up_east_is_right_and_the_scale_bar_is_a_round_length() {
        // About 2.2 km north and 1.9 km east of the start, in Shanghai.
        let r = route(&[(31.20, 121.40), (31.22, 121.42)]);
        let p = Projection::new(&r);
        let (x0, y0) = p.at(31.20, 121.40);
        let (x1, y1) = p.at(31.22, 121.42);
        assert!(x1 > x0 && y1 < y0, "({x0},{y0}) → ({x1},{y1})");
        // A kilometre east is as long as a kilometre north.
        let east = (x1 - x0) / (0.02 * 31.21f64.to_radians().cos());
        let north = (y0 - y1) / 0.02;
        assert!((east / north - 1.0).abs() < 0.01, "{east} vs {north}");
        let (bar, label) = p.scale_bar();
        assert_eq!(label, "500 m");
        let metres = bar * METRES_PER_DEGREE / p.scale;
        assert!((metres - 500.0).abs() < 1.0, "{metres}");
        assert!(bar > 0.0 && bar <= WIDTH / 4.0);
    }

    #[test]
    fn a_route_standing_still_is_drawn_at_the_centre() {
        let r = route(&[(31.2, 121.4), (31.2, 121.4)]);
        let (x, y) = Projection::new(&r).at(31.2, 121.4);
        assert_eq!((x, y), (WIDTH / 2.0, HEIGHT / 2.0));
    }
}
