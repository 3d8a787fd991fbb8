//! Timestamps: RFC 3339 with an explicit offset on the wire, UTC microseconds inside.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 timestamp with an explicit offset (`Z` or `+08:00`) and
/// at most microsecond precision into UTC microseconds since the epoch.
pub fn parse_rfc3339_micros(s: &str) -> Result<i64, String> {
    let dt = DateTime::parse_from_rfc3339(s).map_err(|e| {
        format!("not an RFC 3339 timestamp with an explicit offset (e.g. 2021-02-21T10:15:02.100+08:00): {e}")
    })?;
    if dt.timestamp_subsec_nanos() >= 1_000_000_000 {
        // chrono would carry it into the next second's key, silently.
        return Err(
            "a leap second (:60) is not accepted: times count UTC seconds without them".into(),
        );
    }
    if dt.timestamp_subsec_nanos() % 1_000 != 0 {
        return Err("more than microsecond precision".into());
    }
    Ok(dt.timestamp_micros())
}

/// Formats UTC microseconds as RFC 3339 UTC (`...Z`), microseconds only when present.
pub fn format_utc(t_us: i64) -> String {
    match DateTime::<Utc>::from_timestamp_micros(t_us) {
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => format!("invalid time {t_us}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_to_the_same_instant() {
        let a = parse_rfc3339_micros("2021-02-21T10:15:02.100+08:00").unwrap();
        let b = parse_rfc3339_micros("2021-02-21T02:15:02.1Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_utc(a), "2021-02-21T02:15:02.100Z");
    }

    #[test]
    fn rejects_missing_offset_and_nanoseconds() {
        assert!(parse_rfc3339_micros("2021-02-21T10:15:02").is_err());
        assert!(parse_rfc3339_micros("2021-02-21T10:15:02.123456789Z").is_err());
        assert!(parse_rfc3339_micros("2021-02-21T10:15:02.123456Z").is_ok());
    }

    #[test]
    fn rejects_leap_seconds_rather_than_moving_them() {
        let err = parse_rfc3339_micros("2016-12-31T23:59:60Z").unwrap_err();
        assert!(err.contains("leap second"), "{err}");
        assert!(parse_rfc3339_micros("2017-01-01T07:59:60.5+08:00").is_err());
    }
}
