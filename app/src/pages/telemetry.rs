//! The telemetry browser. Its whole state is the URL (a plain GET form), so
//! reload, back and forward keep it, and it works without JavaScript.

use crate::api::browse::vehicle_telemetry;
use crate::components::browse::{
    encode_query_value, lang, offset_secs, readable, shown, BrowseError, FilterFold, SealedBy,
    VehicleNav,
};
use crate::components::chart::ChartPanel;
use crate::components::layout::PageTitle;
use crate::components::route::RouteMap;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use portal_core::domain::browse::{SampleQuery, TelemetryView};
use portal_core::domain::log_format::{AebState, Gear, CHANNELS};
use portal_core::domain::time::format_utc;
use portal_core::domain::vocabulary;

/// Columns shown until the reader picks others.
const DEFAULT_COLUMNS: &[&str] = &[
    "speed_kmh",
    "accel_pedal_pct",
    "brake_pedal",
    "brake_pressure_bar",
    "steering_angle_deg",
    "abs_active",
    "aeb_state",
    "gear",
];

/// Zones offered besides the vehicle's and UTC.
const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Urumqi",
    "Asia/Tokyo",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
];

/// The reader's own zone as the browser reports it (known after hydration).
fn browser_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

fn columns(q: &ParamsMap) -> Vec<String> {
    let picked = q.get_all("col").unwrap_or_default();
    if picked.is_empty() {
        DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect()
    } else {
        picked
    }
}

fn non_empty(q: &ParamsMap, key: &str) -> Option<String> {
    q.get(key).filter(|v| !v.is_empty())
}

fn sample_query(q: &ParamsMap) -> SampleQuery {
    let flag = |key: &str| non_empty(q, key).and_then(|v| v.parse::<bool>().ok());
    let number = |key: &str| non_empty(q, key).and_then(|v| v.parse::<f64>().ok());
    SampleQuery {
        from: non_empty(q, "from"),
        to: non_empty(q, "to"),
        min_speed_kmh: number("min_speed_kmh"),
        max_speed_kmh: number("max_speed_kmh"),
        brake_pedal: flag("brake_pedal"),
        abs_active: flag("abs_active"),
        aeb_state: non_empty(q, "aeb_state"),
        gear: non_empty(q, "gear"),
        fields: Some(columns(q).join(",")),
        order: non_empty(q, "order"),
        limit: Some(100),
        cursor: non_empty(q, "cursor"),
        tz: non_empty(q, "tz").filter(|z| z != "vehicle"),
    }
}

/// The current URL's query with some keys replaced (`None`: removed).
fn with(q: &ParamsMap, changes: &[(&str, Option<&str>)]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in q.clone().into_iter() {
        if !changes.iter().any(|(c, _)| *c == k) {
            pairs.push((k.to_string(), v));
        }
    }
    for (k, v) in changes {
        if let Some(v) = v {
            pairs.push((k.to_string(), v.to_string()));
        }
    }
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
        .collect();
    encoded.join("&")
}

#[component]
pub fn TelemetryPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let view_data = Resource::new(
        move || (vin.get(), query.with(sample_query)),
        |(vin, q)| vehicle_telemetry(vin, q),
    );
    view! {
        <PageTitle text=move || t_string!(i18n, telemetry_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section class="telemetry">
            <h1>{t!(i18n, telemetry_title)}</h1>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(v) => view! { <Browser v q=query.get_untracked() vin=vin.get_untracked() /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Browser(v: TelemetryView, q: ParamsMap, vin: String) -> impl IntoView {
    let i18n = use_i18n();
    // Offered once hydrated (an effect runs in the browser only); without
    // JavaScript the list of zones remains.
    let own_zone = RwSignal::new(None::<String>);
    let vehicle_zone = v.timezone.clone();
    Effect::new(move |_| {
        own_zone.set(browser_zone().filter(|z| !ZONES.contains(&z.as_str()) && *z != vehicle_zone));
    });
    let base = format!("/vehicles/{vin}/telemetry");
    let cols = columns(&q);
    let tz = non_empty(&q, "tz").filter(|z| z != "vehicle");
    let current = |key: &str| q.get(key).unwrap_or_default();
    let q_summary = q.clone();
    let day = format!(
        "{base}?{}",
        with(
            &q,
            &[
                ("from", Some(&v.day_from)),
                ("to", Some(&v.day_to)),
                ("cursor", None)
            ]
        )
    );
    let week = format!(
        "{base}?{}",
        with(
            &q,
            &[
                ("from", Some(&v.week_from)),
                ("to", Some(&v.day_to)),
                ("cursor", None)
            ]
        )
    );
    // A span selected on the chart becomes the page's range (a new history
    // entry: the back button returns to the wider view).
    let zoom = {
        let (q, base) = (q.clone(), base.clone());
        let navigate = leptos_router::hooks::use_navigate();
        Callback::new(move |(from_us, to_us): (i64, i64)| {
            let (from, to) = (format_utc(from_us), format_utc(to_us));
            let query = with(
                &q,
                &[("from", Some(&from)), ("to", Some(&to)), ("cursor", None)],
            );
            navigate(&format!("{base}?{query}"), Default::default());
        })
    };
    let export = {
        let mut pairs = vec![
            ("from", v.from_input.clone()),
            ("to", v.to_input.clone()),
            ("fields", cols.join(",")),
        ];
        for key in [
            "min_speed_kmh",
            "max_speed_kmh",
            "brake_pedal",
            "abs_active",
            "aeb_state",
            "gear",
        ] {
            if let Some(value) = non_empty(&q, key) {
                pairs.push((key, value));
            }
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
            .collect();
        format!("/vehicles/{vin}/export?{}", query.join("&"))
    };
    let next = v
        .page
        .next_cursor
        .as_ref()
        .map(|c| format!("{base}?{}", with(&q, &[("cursor", Some(c))])));
    let first = q
        .get("cursor")
        .map(|_| format!("{base}?{}", with(&q, &[("cursor", None)])));
    let select = move |name: &'static str, options: Vec<(String, AnyView)>| {
        let chosen = current(name);
        view! {
            <select name=name id=name>
                {options.into_iter().map(|(value, label)| {
                    let selected = value == chosen;
                    view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }
    };
    let yes_no = move |name: &'static str| {
        select(
            name,
            vec![
                (String::new(), t!(i18n, any).into_any()),
                (
                    "true".into(),
                    (move || vocabulary::flag(true).get(lang(i18n))).into_any(),
                ),
                (
                    "false".into(),
                    (move || vocabulary::flag(false).get(lang(i18n))).into_any(),
                ),
            ],
        )
    };
    let chosen_tz = current("tz");
    let zone_option = {
        let chosen_tz = StoredValue::new(chosen_tz.clone());
        move |value: String, label: AnyView| {
            let chosen_tz = chosen_tz.get_value();
            let selected = value == chosen_tz;
            view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
        }
    };
    let offset = offset_secs(&v.from.t_local);
    let rows = v.page.items.clone();
    view! {
        <p class="range" data-testid="range">
            {t!(i18n, showing_range)} ": " {shown(&v.from, tz.as_deref())} " – " {shown(&v.to, tz.as_deref())}
            " · " <A href=day>{t!(i18n, preset_day)}</A> " · " <A href=week>{t!(i18n, preset_week)}</A>
            " · " <A href=export attr:data-testid="export-view">{t!(i18n, export_view)}</A>
        </p>
        // On a phone the form folds behind one button that says what is
        // filtered (a checkbox and CSS: it works without JavaScript).
        <FilterFold summary=Signal::derive(move || active_filters(lang(i18n), &q_summary)) />
        <form method="get" action=base.clone() class="filters card" data-testid="filters">
            <label class="field"><span>{t!(i18n, range_from)}</span>
                <input type="datetime-local" step="1" name="from" value=v.from_input.clone() prop:value=v.from_input.clone() /></label>
            <label class="field"><span>{t!(i18n, range_to)}</span>
                <input type="datetime-local" step="1" name="to" value=v.to_input.clone() prop:value=v.to_input.clone() /></label>
            <label class="field"><span>{t!(i18n, filter_min_speed)}</span>
                <input type="number" step="any" name="min_speed_kmh" value=current("min_speed_kmh") prop:value=current("min_speed_kmh") /></label>
            <label class="field"><span>{t!(i18n, filter_max_speed)}</span>
                <input type="number" step="any" name="max_speed_kmh" value=current("max_speed_kmh") prop:value=current("max_speed_kmh") /></label>
            <label class="field"><span>{t!(i18n, filter_brake_pedal)}</span>{yes_no("brake_pedal")}</label>
            <label class="field"><span>{t!(i18n, filter_abs)}</span>{yes_no("abs_active")}</label>
            <label class="field"><span>{t!(i18n, filter_aeb)}</span>
                {select("aeb_state", std::iter::once((String::new(), t!(i18n, any).into_any()))
                    .chain(AebState::ALL.iter().map(|a| (a.as_str().to_string(), (move || vocabulary::aeb(*a).get(lang(i18n))).into_any())))
                    .collect())}</label>
            <label class="field"><span>{t!(i18n, filter_gear)}</span>
                {select("gear", std::iter::once((String::new(), t!(i18n, any).into_any()))
                    .chain(Gear::ALL.iter().map(|g| (g.as_str().to_string(), (move || vocabulary::gear(*g).get(lang(i18n))).into_any())))
                    .collect())}</label>
            <label class="field"><span>{t!(i18n, order)}</span>
                {select("order", vec![
                    ("asc".into(), t!(i18n, order_asc).into_any()),
                    ("desc".into(), t!(i18n, order_desc).into_any()),
                ])}</label>
            <label class="field"><span>{t!(i18n, time_zone)}</span>
                <select name="tz" id="tz">
                    <option value="vehicle" selected=chosen_tz.is_empty() || chosen_tz == "vehicle">
                        {t!(i18n, zone_vehicle)} " (" {v.timezone.clone()} ")"
                    </option>
                    {zone_option("UTC".into(), t!(i18n, zone_utc).into_any())}
                    {move || own_zone.get().map(|z| zone_option(z.clone(), view! { {t!(i18n, zone_yours)} " (" {z} ")" }.into_any()))}
                    {ZONES.iter().map(|z| zone_option(z.to_string(), z.into_any())).collect_view()}
                </select></label>
            <fieldset class="columns">
                <legend>{t!(i18n, columns)}</legend>
                {CHANNELS.iter().map(|channel| {
                    let checked = cols.iter().any(|c| c == channel.name);
                    let about = move || channel.about.get(lang(i18n));
                    view! { <label title=about><input type="checkbox" name="col" value=channel.name checked=checked prop:checked=checked />" " {move || channel.label.get(lang(i18n))}</label> }
                }).collect_view()}
            </fieldset>
            <p class="actions">
                <button type="submit">{t!(i18n, apply)}</button>
                " " <A href=base.clone()>{t!(i18n, reset)}</A>
            </p>
        </form>
        <ChartPanel chart=v.chart.clone() offset_secs=offset name="range" zoom />
        <RouteMap vin=vin.clone() from=format_utc(v.chart.from_us) to=format_utc(v.chart.to_us)
            offset_secs=offset name="range" />
        {if rows.is_empty() {
            view! { <p class="notice" data-testid="no-rows">{t!(i18n, no_rows)}</p> }.into_any()
        } else {
            let count = rows.len();
            view! {
                <p class="muted">{count} " " {t!(i18n, rows_on_page)}</p>
                <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                <table class="data" data-testid="samples">
                    <thead><tr>
                        <th scope="col">{t!(i18n, col_time)}</th>
                        {cols.iter().map(|c| {
                            let name = c.clone();
                            let about = vocabulary::channel(c).map(|t| move || t.about.get(lang(i18n)));
                            view! { <th scope="col" data-channel=c.clone() title=about>{move || vocabulary::channel_heading(lang(i18n), &name)}</th> }
                        }).collect_view()}
                        <th scope="col">{t!(i18n, col_sealed)}</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| {
                            let time = match tz.as_deref() {
                                Some("UTC") => row.get("t"),
                                Some(_) => row.get("t_viewer"),
                                None => row.get("t_local"),
                            }.and_then(|v| v.as_str()).map(readable).unwrap_or_default();
                            view! {
                                <tr>
                                    <td class="time">{time}</td>
                                    {cols.iter().map(|c| {
                                        let value = row.get(c).cloned().unwrap_or_default();
                                        let name = c.clone();
                                        let raw = value_text(&value);
                                        view! { <td class="num" data-value=raw>{move || vocabulary::channel_value(lang(i18n), &name, &value)}</td> }
                                    }).collect_view()}
                                    <td><SealedBy key=row.get("sealed_by").and_then(|k| k.as_str()).map(String::from) /></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
        <p class="pager">
            {first.map(|href| view! { <A href=href>{t!(i18n, first_page)}</A> " " })}
            {next.map(|href| view! { <A href=href attr:data-testid="next-page">{t!(i18n, next_page)}</A> })}
        </p>
    }
}

/// A cell's value as the data carries it (for tools and tests; the cell
/// itself reads in the reader's language).
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The filters a query applies, in the reader's words ("Speed ≥ 50 km/h ·
/// ABS active: Yes"), for the folded form's button.
fn active_filters(lang: vocabulary::Lang, q: &ParamsMap) -> Vec<String> {
    let label = |name: &'static str| vocabulary::channel(name).map_or(name, |c| c.label.get(lang));
    let mut parts = Vec::new();
    if let Some(v) = non_empty(q, "min_speed_kmh") {
        parts.push(format!("{} ≥ {v} km/h", label("speed_kmh")));
    }
    if let Some(v) = non_empty(q, "max_speed_kmh") {
        parts.push(format!("{} ≤ {v} km/h", label("speed_kmh")));
    }
    for name in ["brake_pedal", "abs_active", "aeb_state", "gear"] {
        if let Some(v) = non_empty(q, name) {
            let value = match v.parse::<bool>() {
                Ok(b) => serde_json::Value::Bool(b),
                Err(_) => serde_json::Value::String(v),
            };
            parts.push(format!(
                "{}: {}",
                label(name),
                vocabulary::channel_value(lang, name, &value)
            ));
        }
    }
    parts
}
