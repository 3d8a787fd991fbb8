//! Events: filter by group, type, severity and range; each row shows its
//! trigger and opens the event's detail.

use crate::api::browse::vehicle_events;
use crate::components::browse::{
    event_type_label, lang, severity_label, shown, BrowseError, FilterFold, SealedBy, VehicleNav,
};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use portal_core::domain::browse::EventQuery;
use portal_core::domain::log_format::{EventGroup, EventType, Severity};
use portal_core::domain::vocabulary;

fn event_query(q: &ParamsMap) -> EventQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    EventQuery {
        from: get("from"),
        to: get("to"),
        event_type: get("type"),
        group: get("group"),
        severity: get("severity"),
        order: get("order"),
        limit: Some(100),
        cursor: get("cursor"),
        tz: get("tz").filter(|z| z != "vehicle"),
    }
}

/// The export page with this view's event filters and range.
fn export_link(q: &ParamsMap, vin: &str) -> String {
    let mut kept = ParamsMap::new();
    for key in ["from", "to", "type", "group", "severity"] {
        if let Some(v) = q.get(key).filter(|v| !v.is_empty()) {
            kept.insert(key, v);
        }
    }
    format!("/vehicles/{vin}/export{}", kept.to_query_string())
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let events = Resource::new(
        move || (vin.get(), query.with(event_query)),
        |(vin, q)| vehicle_events(vin, q),
    );
    // Read reactively: back and forward change the URL without a new page.
    let current = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let select = move |name: &'static str, options: Vec<(String, AnyView)>| {
        view! {
            <select name=name>
                <option value="">{t!(i18n, any)}</option>
                {options.into_iter().map(|(value, label)| {
                    let selected = Signal::derive({
                        let value = value.clone();
                        move || current(name) == value
                    });
                    view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }
    };
    let groups = EventGroup::ALL
        .iter()
        .map(|g| {
            let g = *g;
            let label = move || vocabulary::event_group(g).get(lang(i18n));
            (g.as_str().to_string(), label.into_any())
        })
        .collect();
    let types = EventType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), event_type_label(*t).into_any()))
        .collect();
    let severities = Severity::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), severity_label(*s).into_any()))
        .collect();
    let base = move || format!("/vehicles/{}/events", vin.get_untracked());
    view! {
        <PageTitle text=move || t_string!(i18n, events_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section>
            <h1>{t!(i18n, events_title)}</h1>
            <FilterFold summary=Signal::derive(move || query.with(|q| active_filters(lang(i18n), q))) />
            <form method="get" action=base() class="filters card" data-testid="event-filters">
                <label class="field"><span>{t!(i18n, filter_group)}</span>{select("group", groups)}</label>
                <label class="field"><span>{t!(i18n, filter_type)}</span>{select("type", types)}</label>
                <label class="field"><span>{t!(i18n, filter_severity)}</span>{select("severity", severities)}</label>
                <label class="field"><span>{t!(i18n, range_from)}</span>
                    <input type="datetime-local" step="1" name="from" value=move || current("from") prop:value=move || current("from") /></label>
                <label class="field"><span>{t!(i18n, range_to)}</span>
                    <input type="datetime-local" step="1" name="to" value=move || current("to") prop:value=move || current("to") /></label>
                <p class="actions">
                    <button type="submit">{t!(i18n, apply)}</button>
                    " " <A href=base()>{t!(i18n, reset)}</A>
                    " · " <A href=move || export_link(&query.get(), &vin.get()) attr:data-testid="export-view">{t!(i18n, export_view)}</A>
                </p>
            </form>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    let tz = query.with_untracked(event_query).tz;
                    match events.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="notice" data-testid="no-events">{t!(i18n, no_events)}</p> }.into_any(),
                        Ok(page) => {
                            let vin = vin.get_untracked();
                            let next = page.next_cursor.clone().map(|c| {
                                let mut q = query.get_untracked();
                                q.replace("cursor", c);
                                format!("{}?{}", base(), q.to_query_string().trim_start_matches('?'))
                            });
                            view! {
                                <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                                <table class="data" data-testid="events">
                                    <thead><tr>
                                        <th scope="col">{t!(i18n, col_time)}</th>
                                        <th scope="col">{t!(i18n, col_type)}</th>
                                        <th scope="col">{t!(i18n, col_severity)}</th>
                                        <th scope="col">{t!(i18n, col_trigger)}</th>
                                        <th scope="col">{t!(i18n, col_sealed)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|e| {
                                            let href = format!("/vehicles/{vin}/events/{}", e.id);
                                            let at = shown(&e.at, tz.as_deref());
                                            let trigger = e.trigger.clone().map(|t| move || vocabulary::trigger(lang(i18n), &t));
                                            view! {
                                                <tr class=format!("severity-{}", e.severity.as_str())>
                                                    <td><A href=href>{at}</A></td>
                                                    <td data-event-type=e.event_type.as_str()>{event_type_label(e.event_type)}</td>
                                                    <td>{severity_label(e.severity)}</td>
                                                    <td>{trigger}</td>
                                                    <td><SealedBy key=e.sealed_by.clone() /></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                <p class="pager">{next.map(|href| view! { <A href=href>{t!(i18n, next_page)}</A> })}</p>
                            }.into_any()
                        }
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The filters a query applies, in the reader's words, for the folded form's button.
fn active_filters(lang: vocabulary::Lang, q: &leptos_router::params::ParamsMap) -> Vec<String> {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    let mut parts = Vec::new();
    if let Some(g) = get("group").and_then(|g| EventGroup::parse(&g)) {
        parts.push(vocabulary::event_group(g).get(lang).to_string());
    }
    if let Some(t) = get("type").and_then(|t| EventType::parse(&t)) {
        parts.push(vocabulary::event_type(t).get(lang).to_string());
    }
    if let Some(s) = get("severity").and_then(|s| Severity::parse(&s)) {
        parts.push(vocabulary::severity(s).get(lang).to_string());
    }
    match (get("from"), get("to")) {
        (None, None) => {}
        (from, to) => parts.push(format!(
            "{} – {}",
            from.unwrap_or_default().replace('T', " "),
            to.unwrap_or_default().replace('T', " ")
        )),
    }
    parts
}
