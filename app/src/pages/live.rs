//! The live view: the vehicle's newest samples, and in the browser every
//! new one within about a second of reaching the portal (server-sent
//! events from `/api/v1/vehicles/{vin}/live`). Without JavaScript it is a
//! plain page of the newest samples when it loaded, with a reload link.

use crate::api::sharing::live_samples;
use crate::components::browse::{lang, readable, BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use portal_core::domain::vocabulary;
use serde_json::Value;

/// The channels the live table shows.
const COLUMNS: &[&str] = &[
    "speed_kmh",
    "accel_pedal_pct",
    "brake_pressure_bar",
    "gear",
    "soc_pct",
];
/// Where the stream is, as the browser's code learns it: `live` once it is
/// open, `ended` once the portal said this reader may not go on. On the
/// server (and without JavaScript) both stay false: the plain page.
#[derive(Clone, Copy)]
struct Stream {
    live: RwSignal<bool>,
    ended: RwSignal<bool>,
}

#[component]
pub fn LivePage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let newest = Resource::new(move || vin.get(), live_samples);
    let arrived = RwSignal::new(Vec::<Value>::new());
    let stream = Stream {
        live: RwSignal::new(false),
        ended: RwSignal::new(false),
    };
    #[cfg(feature = "hydrate")]
    follow(&vin.get_untracked(), arrived, stream);
    let status = move || {
        match (stream.ended.get(), stream.live.get()) {
        (false, true) => view! { <p class="notice" role="status" data-testid="live-on">{t!(i18n, live_connected)}</p> }.into_any(),
        (true, _) => view! { <p class="notice notice-error" role="alert" data-testid="live-ended">{t!(i18n, live_ended)}</p> }.into_any(),
        (false, false) => view! {
            <p class="muted" data-testid="live-static">
                {t!(i18n, live_static)} " " <a href=format!("/vehicles/{}/live", vin.get_untracked())>{t!(i18n, live_reload)}</a>
            </p>
        }.into_any(),
    }
    };
    view! {
        <PageTitle text=move || t_string!(i18n, live_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section>
            <h1>{t!(i18n, live_title)}</h1>
            <p class="muted">{t!(i18n, live_lead)}</p>
            {status}
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match newest.await {
                        Ok(page) => view! { <LiveTable arrived rows=page.items.into_iter().map(Value::Object).collect() /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// New samples first (as they arrive), then those of the page's load.
#[component]
fn LiveTable(arrived: RwSignal<Vec<Value>>, rows: Vec<Value>) -> impl IntoView {
    let i18n = use_i18n();
    let row = move |sample: Value| {
        let time = sample["t_local"].as_str().map(readable).unwrap_or_default();
        view! {
            <tr>
                <td class="time">{time}</td>
                {COLUMNS.iter().map(|c| {
                    let value = sample.get(*c).cloned().unwrap_or_default();
                    view! { <td class="num">{move || vocabulary::channel_value(lang(i18n), c, &value)}</td> }
                }).collect_view()}
            </tr>
        }
    };
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
        <table class="data" data-testid="live-samples">
            <thead><tr>
                <th scope="col">{t!(i18n, col_time)}</th>
                {COLUMNS.iter().map(|c| view! { <th scope="col">{move || vocabulary::channel_heading(lang(i18n), c)}</th> }).collect_view()}
            </tr></thead>
            <tbody data-testid="live-arrived">
                {move || arrived.get().into_iter().map(row).collect_view()}
            </tbody>
            <tbody>
                {rows.into_iter().map(row).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// Opens the stream and puts each new sample on top (the browser only).
#[cfg(feature = "hydrate")]
fn follow(vin: &str, arrived: RwSignal<Vec<Value>>, stream: Stream) {
    /// Rows kept on screen.
    const KEEP: usize = 50;
    use codee::string::JsonSerdeCodec;
    use leptos_use::core::ConnectionReadyState;
    use leptos_use::{use_event_source_with_options, UseEventSourceOptions, UseEventSourceReturn};
    let UseEventSourceReturn {
        ready_state,
        message,
        close,
        ..
    } = use_event_source_with_options::<Vec<Value>, JsonSerdeCodec>(
        format!("/api/v1/vehicles/{vin}/live").as_str(),
        UseEventSourceOptions::default().named_events(["changes".to_string(), "end".to_string()]),
    );
    Effect::new(move |_| {
        if ready_state.get() == ConnectionReadyState::Open {
            stream.live.set(true);
        }
    });
    Effect::new(move |_| {
        let Some(message) = message.get() else { return };
        if message.event_type == "end" {
            // No reconnecting: the portal said this reader may not go on.
            close();
            stream.ended.set(true);
            return;
        }
        arrived.update(|rows| {
            for item in message.data.into_iter().filter(|i| i["kind"] == "sample") {
                rows.insert(0, item);
            }
            rows.truncate(KEEP);
        });
    });
}
