//! Checks shared by every list query: range, order, limit, cursor. Each
//! failure names the parameter and says what is expected.

use super::error::ServiceError;
use super::localtime::parse_in_zone;
use super::store::TimeRange;
use crate::domain::time::parse_rfc3339_micros;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

pub fn bad(field: &'static str, message: String) -> ServiceError {
    ServiceError::invalid("invalid_query", field, message)
}

fn time_param(
    field: &'static str,
    value: Option<&str>,
    zone: Option<&str>,
) -> Result<Option<i64>, ServiceError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| match zone.and_then(|z| parse_in_zone(v, z)) {
            Some(t) => Ok(t),
            None => parse_rfc3339_micros(v).map_err(|e| bad(field, format!("{field}: {e}"))),
        })
        .transpose()
}

/// `from`/`to` (RFC 3339 with offset), unbounded where absent.
pub fn range(from: Option<&str>, to: Option<&str>) -> Result<TimeRange, ServiceError> {
    checked_range(time_param("from", from, None)?, time_param("to", to, None)?)
}

/// `from`/`to` as RFC 3339 with offset or as local times in `zone`.
pub fn range_in_zone(
    from: Option<&str>,
    to: Option<&str>,
    zone: &str,
) -> Result<TimeRange, ServiceError> {
    checked_range(
        time_param("from", from, Some(zone))?,
        time_param("to", to, Some(zone))?,
    )
}

fn checked_range(from: Option<i64>, to: Option<i64>) -> Result<TimeRange, ServiceError> {
    let range = TimeRange {
        from_us: from.unwrap_or(i64::MIN),
        to_us: to.unwrap_or(i64::MAX),
    };
    if range.from_us >= range.to_us {
        return Err(bad("to", "`to` must be after `from`".into()));
    }
    Ok(range)
}

/// `asc` (default) or `desc`: true when descending.
pub fn descending(order: Option<&str>) -> Result<bool, ServiceError> {
    match order {
        None | Some("") | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => Err(bad(
            "order",
            format!("order `{other}`: expected asc or desc"),
        )),
    }
}

pub fn limit(limit: Option<u32>) -> Result<u32, ServiceError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad("limit", format!("limit must be 1–{MAX_LIMIT}")));
    }
    Ok(limit)
}

pub fn cursor_error() -> ServiceError {
    bad(
        "cursor",
        "cursor: use the next_cursor of the previous page".into(),
    )
}

/// A time cursor (microseconds).
pub fn time_cursor(cursor: Option<&str>) -> Result<Option<i64>, ServiceError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<i64>().map_err(|_| cursor_error()))
        .transpose()
}

/// A comma list of names, each known to `parse`; `None` when absent or empty.
pub fn list<T>(
    field: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<Vec<T>>, ServiceError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    value
        .split(',')
        .map(|item| {
            let item = item.trim();
            parse(item).ok_or_else(|| bad(field, format!("{field} `{item}`: expected {expected}")))
        })
        .collect::<Result<Vec<T>, _>>()
        .map(Some)
}

/// One name known to `parse`; `None` when absent or empty.
pub fn one<T>(
    field: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, ServiceError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| bad(field, format!("{field} `{v}`: expected {expected}"))),
    }
}
