//! Pieces shared by the vehicle views: the view tabs, time display in the
//! chosen zone, channel names, and errors from the browse server functions.

use super::layout::CurrentReader;
use crate::i18n::{t, t_string, use_i18n, Locale};
use portal_core::domain::browse::Instant;
use portal_core::domain::chart::ChartChannel;
use portal_core::domain::log_format::{AebState, EventType, Severity};
use portal_core::domain::vocabulary::{self, Lang};

type I18nContext = leptos_i18n::I18nContext<Locale>;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn VehicleNav(vin: String) -> impl IntoView {
    let i18n = use_i18n();
    // The router marks the link to the current page with aria-current; the
    // overview's link must match exactly, or it would light up on every view.
    let link = move |exact: bool, href: String, label: AnyView| {
        view! { <li><A href=href exact=exact>{label}</A></li> }
    };
    view! {
        <nav class="vehicle-nav" aria-label=move || t_string!(i18n, vehicle_nav).to_string()>
            <p class="vin" data-testid="vin">{vin.clone()}</p>
            <ul>
                {link(true, format!("/vehicles/{vin}"), t!(i18n, nav_overview).into_any())}
                {link(false, format!("/vehicles/{vin}/drives"), t!(i18n, nav_drives).into_any())}
                {link(false, format!("/vehicles/{vin}/telemetry"), t!(i18n, nav_telemetry).into_any())}
                {link(false, format!("/vehicles/{vin}/events"), t!(i18n, nav_events).into_any())}
                {link(false, format!("/vehicles/{vin}/live"), t!(i18n, nav_live).into_any())}
                {link(false, format!("/vehicles/{vin}/export"), t!(i18n, nav_export).into_any())}
                // The owner's own pages: a recipient has neither.
                <Transition fallback=|| ()>
                    {move || {
                        let vin = vin.clone();
                        Suspend::new(async move {
                            let recipient = match use_context::<CurrentReader>() {
                                Some(reader) => reader.is_recipient().await,
                                None => false,
                            };
                            (!recipient).then(|| view! {
                                {link(false, format!("/vehicles/{vin}/access"), t!(i18n, nav_access).into_any())}
                                {link(false, format!("/vehicles/{vin}/sharing"), t!(i18n, nav_sharing).into_any())}
                            })
                        })
                    }}
                </Transition>
            </ul>
        </nav>
    }
}

/// An RFC 3339 time for reading: `2021-02-21 10:15:02.1 +08:00`, or `… UTC`.
pub fn readable(rfc3339: &str) -> String {
    let s = rfc3339.replacen('T', " ", 1);
    if let Some(utc) = s.strip_suffix('Z') {
        return format!("{utc} UTC");
    }
    match s
        .char_indices()
        .skip(19)
        .find(|(_, c)| *c == '+' || *c == '-')
    {
        Some((i, _)) => format!("{} {}", &s[..i], &s[i..]),
        None => s,
    }
}

/// An instant in the zone the reader chose (`tz`): the vehicle's (default), UTC, or theirs.
pub fn shown(at: &Instant, tz: Option<&str>) -> String {
    match tz {
        Some("UTC") => readable(&at.t),
        Some(_) => readable(at.t_viewer.as_deref().unwrap_or(&at.t_local)),
        None => readable(&at.t_local),
    }
}

/// The UTC offset (seconds) an RFC 3339 local time carries.
pub fn offset_secs(rfc3339: &str) -> i32 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.offset().local_minus_utc())
        .unwrap_or(0)
}

/// A short clock time for chart axes and tables, at a fixed offset.
pub fn clock_label(t_us: i64, offset_secs: i32) -> String {
    let Some(offset) = chrono::FixedOffset::east_opt(offset_secs) else {
        return String::new();
    };
    match chrono::DateTime::from_timestamp_micros(t_us) {
        Some(t) => t
            .with_timezone(&offset)
            .format(if t_us % 1_000_000 == 0 {
                "%m-%d %H:%M:%S"
            } else {
                // Milliseconds: what a 10 Hz recording resolves, without
                // the microseconds a clock's rounding leaves behind.
                "%m-%d %H:%M:%S%.3f"
            })
            .to_string(),
        None => String::new(),
    }
}

/// The data vocabulary's language for the reader's locale (reactive).
pub fn lang(i18n: I18nContext) -> Lang {
    match i18n.get_locale() {
        Locale::en => Lang::En,
        Locale::zh_CN => Lang::ZhCn,
    }
}

/// A chart's title: the channel's words and unit; the AEB chart also says
/// what its levels mean.
pub fn channel_label(i18n: I18nContext, channel: ChartChannel) -> String {
    let lang = lang(i18n);
    let title = vocabulary::channel_heading(lang, channel.as_str());
    if channel == ChartChannel::Aeb {
        let scale = AebState::ALL
            .iter()
            .enumerate()
            .map(|(level, state)| format!("{level} {}", vocabulary::aeb(*state).get(lang)))
            .collect::<Vec<_>>()
            .join(" · ");
        format!("{title}: {scale}")
    } else {
        title
    }
}

/// A browse server function's error (`code` or `code:field`), translated.
#[component]
pub fn BrowseError(error: ServerFnError) -> impl IntoView {
    let i18n = use_i18n();
    let message = match &error {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    };
    let (code, field) = message.split_once(':').unwrap_or((message.as_str(), ""));
    let text = match code {
        "not_found" => t!(i18n, error_not_found).into_any(),
        "forbidden" => t!(i18n, error_forbidden).into_any(),
        "unauthenticated" => view! {
            {t!(i18n, sign_in_required)} " " <A href="/signin">{t!(i18n, nav_sign_in)}</A>
        }
        .into_any(),
        "invalid_query" => {
            view! { {t!(i18n, error_invalid_query)} " " <code>{field.to_string()}</code> }
                .into_any()
        }
        _ => t!(i18n, error_generic).into_any(),
    };
    view! { <section class="notice" role="alert" data-testid="browse-error"><p>{text}</p></section> }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A severity in the reader's language.
#[component]
pub fn SeverityLabel(severity: Severity) -> impl IntoView {
    let i18n = use_i18n();
    move || vocabulary::severity(severity).get(lang(i18n))
}

pub fn severity_label(severity: Severity) -> impl IntoView {
    view! { <SeverityLabel severity /> }
}

/// An event type in the reader's language.
#[component]
pub fn EventTypeLabel(event_type: EventType) -> impl IntoView {
    let i18n = use_i18n();
    move || vocabulary::event_type(event_type).get(lang(i18n))
}

pub fn event_type_label(event_type: EventType) -> impl IntoView {
    view! { <EventTypeLabel event_type /> }
}

/// Whether a record is signed by the vehicle itself, and by which key
/// (format 1.1 seals); shown in every table of records and on each record.
#[component]
pub fn SealedBy(key: Option<String>) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    match key {
        Some(key) => view! {
            <span class="sealed" data-testid="sealed-by">
                {crate::i18n::t!(i18n, sealed_by_key)} " " <code>{key}</code>
            </span>
        }
        .into_any(),
        None => {
            view! { <span class="muted unsealed">{crate::i18n::t!(i18n, unsealed_short)}</span> }
                .into_any()
        }
    }
}

/// The button a filter form folds behind on a phone, listing what is
/// filtered. Placed right before the form (`form.filters`), which a checkbox
/// and CSS fold: it works without JavaScript; on a wider screen the form is
/// always open and the button hidden.
#[component]
pub fn FilterFold(#[prop(into)] summary: Signal<Vec<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let listed = move || {
        let parts = summary.get();
        if parts.is_empty() {
            t_string!(i18n, filters_none).to_string()
        } else {
            parts.join(" · ")
        }
    };
    view! {
        <input type="checkbox" id="fold-filters" class="fold-toggle" />
        <label for="fold-filters" class="fold-button" data-testid="filters-fold">
            <span>{t!(i18n, filters)}</span>
            <span class="muted">{listed}</span>
        </label>
    }
}
