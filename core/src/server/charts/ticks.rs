//! Time ticks for a chart's axis, at round intervals of the zone the reader
//! reads in: seconds, minutes, hours, days, months or years, as the range
//! needs. Ticks sit on round local wall-clock times, so a zone with a
//! half-hour offset gets its own round hours, and across a DST change the
//! ticks stay on round local times (the repeated hour of an autumn change is
//! ticked twice, as it was lived twice; the skipped spring hour not at all).

use crate::domain::chart::TimeTick;
use crate::server::localtime::day_start;
use chrono::{DateTime, Datelike, Months, NaiveDate, Offset, Utc};
use chrono_tz::Tz;

const SECOND_US: i64 = 1_000_000;
const DAY_S: i64 = 86_400;

/// The intervals a tick may step by, from one second to ten years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Up to twelve hours, placed by local seconds since midnight.
    Seconds(i64),
    /// Local midnights (weeks start on Monday; fortnights in even ISO weeks).
    Days(i64),
    /// The first of a month at local midnight.
    Months(u32),
}

const STEPS: &[Step] = &[
    Step::Seconds(1),
    Step::Seconds(2),
    Step::Seconds(5),
    Step::Seconds(10),
    Step::Seconds(15),
    Step::Seconds(30),
    Step::Seconds(60),
    Step::Seconds(120),
    Step::Seconds(300),
    Step::Seconds(600),
    Step::Seconds(900),
    Step::Seconds(1800),
    Step::Seconds(3600),
    Step::Seconds(7200),
    Step::Seconds(10800),
    Step::Seconds(21600),
    Step::Seconds(43200),
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
];

impl Step {
    /// Roughly how long it is, to choose one for a range.
    fn approx_secs(self) -> i64 {
        match self {
            Step::Seconds(s) => s,
            Step::Days(d) => d * DAY_S,
            Step::Months(m) => m as i64 * 2_629_746,
        }
    }

    fn label_format(self) -> &'static str {
        match self {
            Step::Seconds(s) if s < 60 => "%H:%M:%S",
            Step::Seconds(_) => "%H:%M",
            Step::Days(_) => "%m-%d",
            Step::Months(m) if m < 12 => "%Y-%m",
            Step::Months(_) => "%Y",
        }
    }
}

/// Ticks for `from_us..=to_us` (UTC microseconds) in `zone` (an IANA name;
/// UTC when unknown), at most `max_ticks` of them and at least two where the
/// range allows. A tick of a sub-day step at local midnight is labelled
/// with its date, so a range over several days says which.
pub fn time_ticks(from_us: i64, to_us: i64, zone: &str, max_ticks: usize) -> Vec<TimeTick> {
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    let span_s = ((to_us - from_us).max(1) as f64 / SECOND_US as f64).ceil() as i64;
    let max_ticks = max_ticks.max(2) as i64;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span_s / s.approx_secs() < max_ticks)
        .unwrap_or(Step::Months(120));
    let times = match step {
        Step::Seconds(s) => sub_day(from_us, to_us, s, tz),
        Step::Days(d) => days(from_us, to_us, d, tz),
        Step::Months(m) => months(from_us, to_us, m, tz),
    };
    times
        .into_iter()
        .map(|t_us| {
            let local = local(t_us, tz);
            let midnight = local.time() == chrono::NaiveTime::MIN;
            let format = match step {
                Step::Seconds(_) if midnight => "%m-%d",
                other => other.label_format(),
            };
            TimeTick {
                t_us,
                label: local.format(format).to_string(),
            }
        })
        .collect()
}

fn local(t_us: i64, tz: Tz) -> DateTime<Tz> {
    DateTime::<Utc>::from_timestamp_micros(t_us)
        .unwrap_or_default()
        .with_timezone(&tz)
}

fn offset_secs(t_us: i64, tz: Tz) -> i64 {
    local(t_us, tz).offset().fix().local_minus_utc() as i64
}

/// The first instant at or after `t_us` whose local wall-clock time is a
/// whole multiple of `step_s` seconds since local midnight.
fn next_round(t_us: i64, step_s: i64, tz: Tz) -> i64 {
    let mut t = t_us;
    // Twice at most: a candidate across an offset change is re-placed once.
    for _ in 0..3 {
        let offset = offset_secs(t, tz);
        let local_us = t + offset * SECOND_US;
        let step_us = step_s * SECOND_US;
        let rounded = local_us.div_euclid(step_us) * step_us;
        let rounded = if rounded < local_us {
            rounded + step_us
        } else {
            rounded
        };
        let candidate = rounded - offset * SECOND_US;
        let actual = offset_secs(candidate, tz);
        if actual == offset || (candidate + actual * SECOND_US).rem_euclid(step_us) == 0 {
            return candidate;
        }
        t = candidate;
    }
    t
}

fn sub_day(from_us: i64, to_us: i64, step_s: i64, tz: Tz) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = next_round(from_us, step_s, tz);
    while t <= to_us {
        out.push(t);
        t = next_round(t + SECOND_US, step_s, tz);
    }
    out
}

fn days(from_us: i64, to_us: i64, step_d: i64, tz: Tz) -> Vec<i64> {
    let mut date = local(from_us, tz).date_naive();
    if step_d % 7 == 0 {
        // Weeks start on Monday; fortnights in even ISO weeks.
        date -= chrono::Duration::days(date.weekday().num_days_from_monday() as i64);
        if step_d == 14 && date.iso_week().week() % 2 == 1 {
            date -= chrono::Duration::days(7);
        }
    }
    day_starts(from_us, to_us, date, tz, |d| {
        d.checked_add_signed(chrono::Duration::days(step_d))
    })
}

fn months(from_us: i64, to_us: i64, step_m: u32, tz: Tz) -> Vec<i64> {
    let first = local(from_us, tz)
        .date_naive()
        .with_day(1)
        .unwrap_or_default();
    // Steps of months start in January, of years in a year divisible by them.
    let index = first.year() as i64 * 12 + first.month0() as i64;
    let aligned = index.div_euclid(step_m as i64) * step_m as i64;
    let date = NaiveDate::from_ymd_opt((aligned / 12) as i32, (aligned % 12) as u32 + 1, 1)
        .unwrap_or(first);
    day_starts(from_us, to_us, date, tz, |d| {
        d.checked_add_months(Months::new(step_m))
    })
}

/// The starts of the local days from `date` on, stepping with `next`,
/// that fall within `from_us..=to_us`.
fn day_starts(
    from_us: i64,
    to_us: i64,
    mut date: NaiveDate,
    tz: Tz,
    next: impl Fn(NaiveDate) -> Option<NaiveDate>,
) -> Vec<i64> {
    let mut out = Vec::new();
    while let Some(start) = day_start(date, tz) {
        if start > to_us {
            break;
        }
        if start >= from_us {
            out.push(start);
        }
        match next(date) {
            Some(following) => date = following,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> i64 {
        crate::domain::time::parse_rfc3339_micros(rfc3339).unwrap()
    }

    fn labels(ticks: &[TimeTick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    /// The labels of the ticks from `from` to `to` in `zone`.
    fn ticked(from: &str, to: &str, zone: &str, max: usize) -> Vec<String> {
        time_ticks(at(from), at(to), zone, max)
            .into_iter()
            .map(|t| t.label)
            .collect()
    }

    #[test]
    fn ten_seconds_tick_every_second_or_two() {
        let from = at("2021-02-21T10:15:02.100+08:00");
        let ticks = time_ticks(from, from + 10 * SECOND_US, "Asia/Shanghai", 8);
        assert_eq!(
            labels(&ticks),
            ["10:15:04", "10:15:06", "10:15:08", "10:15:10", "10:15:12"]
        );
        assert!(ticks
            .iter()
            .all(|t| t.t_us >= from && t.t_us <= from + 10 * SECOND_US));
    }

    #[test]
    fn a_day_ticks_round_hours_with_the_date_at_midnight() {
        assert_eq!(
            ticked(
                "2021-02-21T06:20:00+08:00",
                "2021-02-22T06:20:00+08:00",
                "Asia/Shanghai",
                10
            ),
            ["09:00", "12:00", "15:00", "18:00", "21:00", "02-22", "03:00", "06:00"]
        );
    }

    #[test]
    fn three_years_tick_years() {
        let (from, to) = ("2020-05-01T00:00:00Z", "2023-05-01T00:00:00Z");
        assert_eq!(
            ticked(from, to, "UTC", 8),
            ["2020-07", "2021-01", "2021-07", "2022-01", "2022-07", "2023-01"]
        );
        assert_eq!(ticked(from, to, "UTC", 4), ["2021", "2022", "2023"]);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let from = "2021-02-03T00:00:00+08:00";
        assert_eq!(
            ticked(from, "2021-03-15T00:00:00+08:00", "Asia/Shanghai", 8),
            ["02-08", "02-15", "02-22", "03-01", "03-08", "03-15"]
        );
        assert_eq!(
            ticked(from, "2021-08-22T00:00:00+08:00", "Asia/Shanghai", 8),
            ["2021-03", "2021-04", "2021-05", "2021-06", "2021-07", "2021-08"]
        );
    }

    #[test]
    fn half_hour_and_three_quarter_offsets_tick_their_own_round_hours() {
        let from = at("2021-02-21T00:10:00Z");
        let to = at("2021-02-21T06:10:00Z");
        for zone in ["Asia/Kolkata", "Asia/Kathmandu"] {
            let ticks = time_ticks(from, to, zone, 8);
            assert!(ticks.len() >= 5, "{zone}: {ticks:?}");
            for t in &ticks {
                let local = local(t.t_us, zone.parse().unwrap());
                assert_eq!(local.format("%M:%S").to_string(), "00:00", "{zone}: {t:?}");
            }
        }
    }

    #[test]
    fn a_dst_change_keeps_ticks_on_round_local_hours() {
        // Berlin, 2021-03-28: 02:00 becomes 03:00.
        assert_eq!(
            ticked(
                "2021-03-27T22:30:00Z",
                "2021-03-28T04:30:00Z",
                "Europe/Berlin",
                8
            ),
            ["03-28", "01:00", "03:00", "04:00", "05:00", "06:00"]
        );
        // 2021-10-31: 03:00 becomes 02:00 again; the hour lived twice is ticked twice.
        let from = at("2021-10-30T23:30:00Z");
        let to = at("2021-10-31T03:30:00Z");
        let autumn = time_ticks(from, to, "Europe/Berlin", 8);
        assert_eq!(labels(&autumn), ["02:00", "02:00", "03:00", "04:00"]);
        let gaps: Vec<i64> = autumn.windows(2).map(|w| w[1].t_us - w[0].t_us).collect();
        assert!(gaps.iter().all(|g| *g == 3600 * SECOND_US), "{gaps:?}");
    }

    #[test]
    fn every_range_from_ten_seconds_to_three_years_gets_a_few_ordered_ticks() {
        let from = at("2021-02-21T10:15:02.123456+08:00");
        let mut span = 10 * SECOND_US;
        while span <= 3 * 366 * DAY_S * SECOND_US {
            for zone in ["Asia/Shanghai", "Europe/Berlin", "America/St_Johns", "UTC"] {
                let ticks = time_ticks(from, from + span, zone, 8);
                assert!(
                    (2..=8).contains(&ticks.len()),
                    "{zone}, {span} µs: {} ticks",
                    ticks.len()
                );
                assert!(ticks.windows(2).all(|w| w[0].t_us < w[1].t_us));
                assert!(ticks.iter().all(|t| !t.label.contains('.')));
            }
            span = span * 3 / 2;
        }
    }
}
