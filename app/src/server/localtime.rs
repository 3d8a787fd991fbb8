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

/// Appends `t_us` as RFC 3339 in `tz` (with its offset) to `out`.
pub fn write_local_rfc3339(out: &mut String, t_us: i64, tz: chrono_tz::Tz) {
    use std::fmt::Write;
    if let Some(utc) = Utc.timestamp_micros(t_us).single() {
        let _ = write!(
            out,
            "{}",
            utc.with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
    }
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
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())?;
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

/// Midnight starting the vehicle-local day that holds `t_us`.
pub fn start_of_local_day(t_us: i64, zone: &str) -> i64 {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let Some(utc) = Utc.timestamp_micros(t_us).single() else {
        return t_us;
    };
    let day = utc.with_timezone(&tz).date_naive();
    day.and_hms_opt(0, 0, 0)
        .and_then(|m| tz.from_local_datetime(&m).earliest())
        .map_or(t_us, |t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
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
