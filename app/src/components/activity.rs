//! "What happened lately" on the vehicle overview: a calendar strip of the
//! last 90 days (a column per week, Monday on top), each day shaded by how
//! far the car went and marked for brake and crash events, then the newest
//! drive and the newest brake and crash events as links. Plain links and a
//! table: it reads the same without JavaScript and to a screen reader.

use crate::api::browse::vehicle_activity;
use crate::components::browse::{event_type_label, lang, readable, BrowseError};
use crate::i18n::{t, t_string, use_i18n};
use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;
use leptos_router::components::A;
use portal_core::domain::browse::{Activity, DayActivity, DriveItem, EventItem};
use portal_core::domain::time::format_utc;
use portal_core::domain::vocabulary::{self, Lang};

#[component]
pub fn ActivityStrip(vin: String) -> impl IntoView {
    let i18n = use_i18n();
    let activity = Resource::new(move || vin.clone(), vehicle_activity);
    view! {
        <section class="activity" aria-labelledby="activity-title" data-testid="activity">
            <h2 id="activity-title">{t!(i18n, activity_title)}</h2>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match activity.await {
                        Ok(a) => view! { <ActivityView a /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ActivityView(a: Activity) -> impl IntoView {
    let i18n = use_i18n();
    let vin = crate::pages::vehicle::use_vin().get_untracked();
    let readable_days = a.days.iter().filter(|d| d.readable);
    let (drives, events, brakes, crashes, km) = readable_days.fold(
        (0u32, 0u32, 0u32, 0u32, None::<f64>),
        |(n, e, b, c, km), d| {
            let km = match (km, d.distance_km) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            (
                n + d.drives,
                e + d.events,
                b + d.brake_events,
                c + d.crash_events,
                km,
            )
        },
    );
    let last_date = a.days.last().map(|d| d.date.clone()).unwrap_or_default();
    view! {
        <p class="muted">{t!(i18n, activity_lead)}</p>
        <p data-testid="activity-total">
            <strong>{t!(i18n, activity_total)}</strong> {move || punctuation(lang(i18n)).0} {t!(i18n, activity_to)} " "
            {move || long_date(lang(i18n), &last_date)} {move || punctuation(lang(i18n)).1}
            <span data-testid="activity-drives">{drives}</span> " " {t!(i18n, activity_drives)} " · "
            {km.map(|k| format!("{k:.1} km")).unwrap_or_else(|| "– km".into())} " · "
            <span data-testid="activity-events">{events}</span> " " {t!(i18n, activity_events)}
            {(brakes + crashes > 0).then(|| view! {
                " (" {brakes} " " {t!(i18n, brake_short)} ", " {crashes} " " {t!(i18n, crash_short)} ")"
            })}
        </p>
        <Calendar days=a.days vin=vin.clone() />
        <dl class="latest">
            <dt>{t!(i18n, latest_drive)}</dt>
            <dd data-testid="latest-drive">{latest_drive(&vin, a.latest_drive)}</dd>
            <dt>{t!(i18n, latest_brake)}</dt>
            <dd data-testid="latest-brake">{latest_event(&vin, a.latest_brake)}</dd>
            <dt>{t!(i18n, latest_crash)}</dt>
            <dd data-testid="latest-crash">{latest_event(&vin, a.latest_crash)}</dd>
        </dl>
    }
}

/// Weeks as columns (Monday on top), so 90 days fit a phone's width.
#[component]
fn Calendar(days: Vec<DayActivity>, vin: String) -> impl IntoView {
    let i18n = use_i18n();
    let Some(first) = days.first().and_then(|d| parse_date(&d.date)) else {
        return ().into_any();
    };
    let offset = weekday_from_monday(first) as usize;
    let weeks = (offset + days.len()).div_ceil(7);
    let cell = |week: usize, weekday: usize| {
        (week * 7 + weekday)
            .checked_sub(offset)
            .filter(|&i| i < days.len())
    };
    // A month's name above the week its first day falls in (and the first week).
    let month_row = (0..weeks)
        .map(|week| {
            let month = (0..7).filter_map(|wd| cell(week, wd)).find_map(|i| {
                let date = parse_date(&days[i].date)?;
                (date.day() == 1 || i == 0).then_some(date.month())
            });
            match month {
                Some(m) => view! {
                    <th scope="col" class="month">{move || word(t_string!(i18n, activity_months), m as usize - 1)}</th>
                }
                .into_any(),
                None => view! { <td></td> }.into_any(),
            }
        })
        .collect_view();
    let rows = (0..7)
        .map(|weekday| {
            let cells = (0..weeks)
                .map(|week| match cell(week, weekday) {
                    Some(i) => {
                        let next = days.get(i + 1).map(|d| d.date.clone());
                        view! { <td><Day day=days[i].clone() next vin=vin.clone() /></td> }.into_any()
                    }
                    None => view! { <td></td> }.into_any(),
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row" class="weekday">{move || word(t_string!(i18n, activity_weekdays), weekday)}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, calendar_region)>
            <table class="calendar" data-testid="calendar">
                <thead><tr><td></td>{month_row}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn Day(day: DayActivity, next: Option<String>, vin: String) -> impl IntoView {
    let i18n = use_i18n();
    let level = match (day.drives, day.distance_km) {
        (0, _) => 0,
        (_, Some(km)) if km >= 150.0 => 4,
        (_, Some(km)) if km >= 50.0 => 3,
        (_, Some(km)) if km >= 10.0 => 2,
        _ => 1,
    };
    let mut class = format!("day level-{level}");
    if !day.readable {
        class.push_str(" outside");
    }
    if day.brake_events > 0 {
        class.push_str(" brake");
    }
    if day.crash_events > 0 {
        class.push_str(" crash");
    }
    let label = {
        let day = day.clone();
        move || day_label(i18n, &day)
    };
    if day.readable && (day.drives > 0 || day.events > 0) {
        let mut href = format!("/vehicles/{vin}/drives?from={}T00:00", day.date);
        if let Some(next) = next {
            href.push_str(&format!("&to={next}T00:00"));
        }
        view! {
            <a class=class href=href aria-label=label.clone() title=label data-date=day.date.clone()
                data-drives=day.drives data-events=day.events></a>
        }
        .into_any()
    } else {
        view! {
            <span class=class role="img" aria-label=label.clone() title=label data-date=day.date.clone()></span>
        }
        .into_any()
    }
}

/// `3 Nov 2026 — drives: 2, distance: 34.5 km, events: 1 (brake 1)`.
fn day_label(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, day: &DayActivity) -> String {
    let date = long_date(lang(i18n), &day.date);
    if !day.readable {
        return format!("{date} — {}", t_string!(i18n, activity_outside));
    }
    if day.drives == 0 && day.events == 0 {
        return format!("{date} — {}", t_string!(i18n, activity_nothing));
    }
    let (colon, comma) = match lang(i18n) {
        Lang::ZhCn => ("：", "，"),
        Lang::En => (": ", ", "),
    };
    let mut s = format!(
        "{date} — {}{colon}{}",
        t_string!(i18n, activity_drives),
        day.drives
    );
    if let Some(km) = day.distance_km {
        s.push_str(&format!(
            "{comma}{}{colon}{} km",
            t_string!(i18n, activity_distance),
            vocabulary::number(km, 1)
        ));
    }
    s.push_str(&format!(
        "{comma}{}{colon}{}",
        t_string!(i18n, activity_events),
        day.events
    ));
    if day.brake_events + day.crash_events > 0 {
        s.push_str(&format!(
            " ({} {}{comma}{} {})",
            t_string!(i18n, brake_short),
            day.brake_events,
            t_string!(i18n, crash_short),
            day.crash_events
        ));
    }
    s
}

fn latest_drive(vin: &str, drive: Option<DriveItem>) -> AnyView {
    let i18n = use_i18n();
    let Some(d) = drive else {
        return t!(i18n, none).into_any();
    };
    let href = format!(
        "/vehicles/{vin}/telemetry?from={}&to={}",
        format_utc(d.start.t_us),
        format_utc(d.end.t_us + 1)
    );
    let duration = format!(
        "{}:{:02}:{:02}",
        d.duration_s / 3600,
        d.duration_s / 60 % 60,
        d.duration_s % 60
    );
    view! {
        <A href=href>{readable(&d.start.t_local)}</A>
        " · " {duration}
        {d.distance_km.map(|k| format!(" · {} km", vocabulary::number(k, 1)))}
    }
    .into_any()
}

fn latest_event(vin: &str, event: Option<EventItem>) -> AnyView {
    let i18n = use_i18n();
    let Some(e) = event else {
        return t!(i18n, none).into_any();
    };
    let href = format!("/vehicles/{vin}/events/{}", e.id);
    view! {
        <A href=href>{readable(&e.at.t_local)}</A> " · "
        <span data-event-type=e.event_type.as_str()>{event_type_label(e.event_type)}</span>
    }
    .into_any()
}

/// Around the strip's end date: ` (` and `): `, or full-width in Chinese.
fn punctuation(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::ZhCn => ("（", "）："),
        Lang::En => (" (", "): "),
    }
}

/// `2026-11-03` as `3 Nov 2026` or `2026年11月3日`.
fn long_date(lang: Lang, date: &str) -> String {
    let Some(day) = parse_date(date) else {
        return date.to_string();
    };
    match lang {
        Lang::ZhCn => day.format("%Y年%-m月%-d日").to_string(),
        Lang::En => day.format("%-d %b %Y").to_string(),
    }
}

/// The `n`th word of a space-separated list (the locale's month and day names).
fn word(list: &str, n: usize) -> String {
    list.split(' ').nth(n).unwrap_or_default().to_string()
}

/// A strip's `YYYY-MM-DD`.
fn parse_date(date: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Monday 0 … Sunday 6.
fn weekday_from_monday(date: NaiveDate) -> u32 {
    date.weekday().num_days_from_monday()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_and_dates_read_right() {
        let day = |s| parse_date(s).unwrap();
        assert_eq!(weekday_from_monday(day("2026-12-04")), 4); // a Friday
        assert_eq!(weekday_from_monday(day("2024-02-29")), 3); // a Thursday
        assert_eq!(weekday_from_monday(day("2021-01-04")), 0); // a Monday
        assert_eq!(weekday_from_monday(day("2000-01-02")), 6); // a Sunday
        assert_eq!(long_date(Lang::En, "2026-11-03"), "3 Nov 2026");
        assert_eq!(long_date(Lang::ZhCn, "2026-11-03"), "2026年11月3日");
        assert_eq!(long_date(Lang::En, "bad"), "bad");
    }
}
