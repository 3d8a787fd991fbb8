//! Times in a vehicle's own zone, for display (the zone database stays on the server).

use super::error::ServiceError;
use crate::domain::browse::Instant;
use crate::domain::time::format_utc;
use chrono::{TimeZone, Utc};

/// `2021-02-21 10:15 +08:00` in the named IANA zone (UTC if the name is unknown).
pub fn format_local(t_us: i64, timezone: &str) -> String {
    let Some(utc) = Utc.timestamp_micros(t_us).single() else {
        return format!("invalid time {t_us}");
    };
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string(),
        Err(_) => utc.format("%Y-%m-%d %H:%M +00:00").to_string(),
    }
}

/// RFC 3339 in the named zone with its offset, e.g. `2021-02-21T10:15:02.100+08:00`.
pub fn format_local_rfc3339(t_us: i64, timezone: &str) -> String {
    let Some(utc) = Utc.timestamp_micros(t_us).single() else {
        return format!("invalid time {t_us}");
    };
    let format = chrono::SecondsFormat::AutoSi;
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc.with_timezone(&tz).to_rfc3339_opts(format, true),
        Err(_) => utc.to_rfc3339_opts(format, true),
    }
}

/// A vehicle's zone, parsed once for many timestamps (UTC if unknown).
pub fn zone(timezone: &str) -> chrono_tz::Tz {
    timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// Writes many RFC 3339 times of one zone, as chrono's
/// `to_rfc3339_opts(AutoSi, true)` does but several times faster: an export
/// writes two per row. The zone's offset is looked up once per hour of data
/// (no zone changes its offset twice within an hour), and the digits are
/// written directly. Offsets with seconds (local mean time before 1900) and
/// years outside 0–9999 go through chrono.
pub struct TimeWriter {
    tz: chrono_tz::Tz,
    /// The hour (µs since the epoch / 3,600 s) whose offset is known.
    hour: i64,
    offset_s: Option<i32>,
}

const US_PER_HOUR: i64 = 3_600_000_000;

impl TimeWriter {
    pub fn new(tz: chrono_tz::Tz) -> Self {
        TimeWriter {
            tz,
            hour: i64::MIN,
            offset_s: None,
        }
    }

    fn offset_at(&self, t_us: i64) -> Option<i32> {
        use chrono::Offset;
        let utc = Utc.timestamp_micros(t_us).single()?;
        Some(utc.with_timezone(&self.tz).offset().fix().local_minus_utc())
    }

    /// The zone's offset at `t_us`, from the cache when its hour has one.
    fn offset(&mut self, t_us: i64) -> Option<i32> {
        let hour = t_us.div_euclid(US_PER_HOUR);
        if hour == self.hour {
            return self.offset_s;
        }
        let start = hour.checked_mul(US_PER_HOUR)?;
        let first = self.offset_at(start);
        // Cached only when the whole hour has one offset.
        if first == self.offset_at(start + (US_PER_HOUR - 1)) {
            self.hour = hour;
            self.offset_s = first;
            first
        } else {
            self.offset_at(t_us)
        }
    }

    /// Appends `t_us` in the zone, with its offset (`Z` at zero offset).
    pub fn write_local(&mut self, out: &mut String, t_us: i64) {
        match self.offset(t_us) {
            Some(offset) if write_rfc3339(out, t_us, offset) => {}
            _ => {
                if let Some(utc) = Utc.timestamp_micros(t_us).single() {
                    let local = utc.with_timezone(&self.tz);
                    out.push_str(&local.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
                }
            }
        }
    }

    /// Appends `t_us` in UTC (`…Z`).
    pub fn write_utc(out: &mut String, t_us: i64) {
        if !write_rfc3339(out, t_us, 0) {
            out.push_str(&format_utc(t_us));
        }
    }
}

/// `YYYY-MM-DDThh:mm:ss[.mmm|.uuuuuu](Z|±hh:mm)`; false (writing nothing)
/// where chrono must do it: a year outside 0–9999 or an offset with seconds.
fn write_rfc3339(out: &mut String, t_us: i64, offset_s: i32) -> bool {
    if offset_s % 60 != 0 {
        return false;
    }
    let Some(local_us) = t_us.checked_add(i64::from(offset_s) * 1_000_000) else {
        return false;
    };
    let (secs, micros) = (
        local_us.div_euclid(1_000_000),
        local_us.rem_euclid(1_000_000),
    );
    let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return false;
    }
    digits(out, year, 4);
    out.push('-');
    digits(out, month, 2);
    out.push('-');
    digits(out, day, 2);
    out.push('T');
    digits(out, second_of_day / 3600, 2);
    out.push(':');
    digits(out, second_of_day / 60 % 60, 2);
    out.push(':');
    digits(out, second_of_day % 60, 2);
    // AutoSi: no fraction, milliseconds or microseconds, whichever is exact.
    if micros % 1000 != 0 {
        out.push('.');
        digits(out, micros, 6);
    } else if micros != 0 {
        out.push('.');
        digits(out, micros / 1000, 3);
    }
    if offset_s == 0 {
        out.push('Z');
    } else {
        out.push(if offset_s < 0 { '-' } else { '+' });
        let minutes = i64::from(offset_s.abs() / 60);
        digits(out, minutes / 60, 2);
        out.push(':');
        digits(out, minutes % 60, 2);
    }
    true
}

/// Appends the `width` lowest decimal digits of `value` (≥ 0), zero-padded.
fn digits(out: &mut String, value: i64, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10i64.pow(i) % 10) as u8));
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One instant for a reply: UTC, the vehicle's zone, and the reader's zone if asked.
pub fn instant(t_us: i64, vehicle_zone: &str, viewer_zone: Option<&str>) -> Instant {
    Instant {
        t: format_utc(t_us),
        t_local: format_local_rfc3339(t_us, vehicle_zone),
        t_viewer: viewer_zone.map(|z| format_local_rfc3339(t_us, z)),
        t_us,
    }
}

/// Checks a reader's zone (`tz`): `UTC` or an IANA name.
pub fn viewer_zone(tz: Option<&str>) -> Result<Option<String>, ServiceError> {
    match tz.filter(|z| !z.is_empty()) {
        None => Ok(None),
        Some(z) if z.parse::<chrono_tz::Tz>().is_ok() => Ok(Some(z.to_string())),
        Some(z) => Err(ServiceError::invalid(
            "invalid_query",
            "tz",
            format!("tz `{z}`: expected an IANA zone such as Asia/Shanghai, or UTC"),
        )),
    }
}

/// A time as typed in a form or link: RFC 3339 with an offset, or a
/// `datetime-local` value (`2021-02-21T10:15[:02]`) read in the vehicle's zone.
pub fn parse_in_zone(s: &str, zone: &str) -> Option<i64> {
    if let Ok(t) = crate::domain::time::parse_rfc3339_micros(s) {
        return Some(t);
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        // No leap seconds (`:60`): they would become the next second.
        .filter(|t| t.and_utc().timestamp_subsec_nanos() < 1_000_000_000)?;
    let tz: chrono_tz::Tz = zone.parse().ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_micros())
}

/// The `datetime-local` form value of an instant in the vehicle's zone.
pub fn input_value(t_us: i64, zone: &str) -> String {
    let Some(utc) = Utc.timestamp_micros(t_us).single() else {
        return String::new();
    };
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
        Err(_) => utc.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// The first instant of a local day: midnight, or where a zone skips
/// midnight (a DST change at 00:00), the first hour that exists.
pub fn day_start(date: chrono::NaiveDate, tz: chrono_tz::Tz) -> Option<i64> {
    (0..3).find_map(|h| {
        let naive = date.and_hms_opt(h, 0, 0)?;
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.timestamp_micros())
    })
}

/// The start of the vehicle-local day that holds `t_us` (see `day_start`).
pub fn start_of_local_day(t_us: i64, zone: &str) -> i64 {
    let tz = self::zone(zone);
    local_date(t_us, tz)
        .and_then(|day| day_start(day, tz))
        .unwrap_or(t_us)
}

/// The local date, in `tz`, of an instant.
pub fn local_date(t_us: i64, tz: chrono_tz::Tz) -> Option<chrono::NaiveDate> {
    Utc.timestamp_micros(t_us)
        .single()
        .map(|t| t.with_timezone(&tz).date_naive())
}

#[cfg(test)]
mod tests {
    use super::TimeWriter;
    use chrono::{SecondsFormat, TimeZone, Utc};

    fn chrono_local(t_us: i64, tz: chrono_tz::Tz) -> String {
        let utc = Utc.timestamp_micros(t_us).single().unwrap();
        utc.with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// The fast writer says exactly what chrono says, in zones with DST,
    /// half- and quarter-hour offsets, and local mean time before 1900.
    #[test]
    fn the_time_writer_matches_chrono_byte_for_byte() {
        use rand::{Rng, SeedableRng};
        let zones = [
            "UTC",
            "Asia/Shanghai",
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Pacific/Chatham",
            "Europe/Amsterdam",
            "Africa/Monrovia",
        ];
        let year_2021 = Utc
            .with_ymd_and_hms(2021, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp_micros();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for name in zones {
            let tz: chrono_tz::Tz = name.parse().unwrap();
            let mut writer = TimeWriter::new(tz);
            let mut check = |t_us: i64| {
                let (mut local, mut utc) = (String::new(), String::new());
                writer.write_local(&mut local, t_us);
                TimeWriter::write_utc(&mut utc, t_us);
                assert_eq!(local, chrono_local(t_us, tz), "{name} at {t_us} µs");
                assert_eq!(
                    utc,
                    crate::domain::time::format_utc(t_us),
                    "UTC at {t_us} µs"
                );
            };
            // A year in time order, every 7 minutes and some odd µs: every DST change.
            for step in 0..(366 * 24 * 60 / 7) {
                let fraction = [0, 100_000, 123_000, 123_456, 999_999][step % 5];
                check(year_2021 + step as i64 * 7 * 60_000_000 + fraction);
            }
            // Anywhere from 1800 to 2200, in no order.
            for _ in 0..20_000 {
                check(rng.gen_range(-5_364_662_400_000_000i64..7_258_118_400_000_000));
            }
            // The ends of the years it writes itself, and past them.
            for t_us in [
                -62_167_219_200_000_000,
                253_402_300_799_999_999,
                253_402_300_800_000_000,
            ] {
                check(t_us);
            }
        }
    }

    /// The fast path itself writes (the test above would also pass if
    /// everything fell back to chrono), and declines where it should.
    #[test]
    fn the_fast_path_writes_and_declines_what_it_cannot() {
        let t = crate::domain::time::parse_rfc3339_micros("2021-02-21T02:15:02.1Z").unwrap();
        let mut out = String::new();
        assert!(super::write_rfc3339(&mut out, t, 8 * 3600));
        assert_eq!(out, "2021-02-21T10:15:02.100+08:00");
        out.clear();
        assert!(super::write_rfc3339(
            &mut out,
            t + 23,
            -(3 * 3600 + 30 * 60)
        ));
        assert_eq!(out, "2021-02-20T22:45:02.100023-03:30");
        assert!(
            !super::write_rfc3339(&mut out, t, 1172),
            "an offset with seconds"
        );
        assert!(
            !super::write_rfc3339(&mut out, i64::MAX, 0),
            "a year past 9999"
        );
        assert_eq!(
            out, "2021-02-20T22:45:02.100023-03:30",
            "nothing written when declining"
        );
    }

    #[test]
    fn formats_with_the_offset_spelled_out() {
        let t = crate::domain::time::parse_rfc3339_micros("2021-02-21T02:15:00Z").unwrap();
        assert_eq!(
            super::format_local(t, "Asia/Shanghai"),
            "2021-02-21 10:15 +08:00"
        );
        assert_eq!(
            super::format_local(t, "Europe/Berlin"),
            "2021-02-21 03:15 +01:00"
        );
    }
}
