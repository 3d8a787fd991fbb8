//! Telemetry pages for `GET /api/v1/vehicles/{vin}/samples`, through the gate.

use super::authz::Principal;
use super::error::ServiceError;
use super::localtime::format_local_rfc3339;
use super::store::{PageRequest, SampleFilter, TimeRange};
use super::Portal;
use crate::domain::log_format::{AebState, Gear, SampleChannels};
use crate::domain::time::{format_utc, parse_rfc3339_micros};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// The query as it arrives (strings as typed); `parse` checks every part.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SampleQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<String>,
    pub gear: Option<String>,
    /// Comma list of channels to return (default: all).
    pub fields: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SamplePage {
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    pub next_cursor: Option<String>,
}

fn bad(field: &'static str, message: String) -> ServiceError {
    ServiceError::invalid("invalid_query", field, message)
}

fn time_param(field: &'static str, value: &Option<String>) -> Result<Option<i64>, ServiceError> {
    value
        .as_deref()
        .map(|v| parse_rfc3339_micros(v).map_err(|e| bad(field, format!("{field}: {e}"))))
        .transpose()
}

/// Every channel name, in the spec's order.
fn channel_names() -> Vec<String> {
    let all = SampleChannels {
        speed_kmh: Some(0.0),
        accel_pedal_pct: Some(0.0),
        brake_pedal: Some(false),
        brake_pressure_bar: Some(0.0),
        steering_angle_deg: Some(0.0),
        long_accel_mps2: Some(0.0),
        lat_accel_mps2: Some(0.0),
        yaw_rate_dps: Some(0.0),
        gear: Some(Gear::P),
        abs_active: Some(false),
        esc_active: Some(false),
        aeb_state: Some(AebState::Off),
        fcw: Some(false),
        adas_state: Some(crate::domain::log_format::AdasState::Off),
        motor_torque_nm: Some(0.0),
        odometer_km: Some(0.0),
        soc_pct: Some(0.0),
        belt_driver: Some(false),
        lat: Some(0.0),
        lon: Some(0.0),
        heading_deg: Some(0.0),
    };
    match serde_json::to_value(all) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A checked query.
struct ParsedQuery {
    range: TimeRange,
    filter: SampleFilter,
    page: PageRequest,
    /// `None`: every channel.
    fields: Option<Vec<String>>,
}

impl SampleQuery {
    fn parse(&self) -> Result<ParsedQuery, ServiceError> {
        let range = TimeRange {
            from_us: time_param("from", &self.from)?.unwrap_or(i64::MIN),
            to_us: time_param("to", &self.to)?.unwrap_or(i64::MAX),
        };
        if range.from_us >= range.to_us {
            return Err(bad("to", "`to` must be after `from`".into()));
        }
        let aeb_state = self
            .aeb_state
            .as_deref()
            .map(|v| {
                AebState::parse(v).ok_or_else(|| {
                    bad(
                        "aeb_state",
                        format!("aeb_state `{v}`: expected off, standby, warning or braking"),
                    )
                })
            })
            .transpose()?;
        let gear = self
            .gear
            .as_deref()
            .map(|v| {
                Gear::parse(v)
                    .ok_or_else(|| bad("gear", format!("gear `{v}`: expected P, R, N or D")))
            })
            .transpose()?;
        let descending = match self.order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(bad(
                    "order",
                    format!("order `{other}`: expected asc or desc"),
                ))
            }
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad("limit", format!("limit must be 1–{MAX_LIMIT}")));
        }
        let after_us = self
            .cursor
            .as_deref()
            .map(|c| {
                c.parse::<i64>().map_err(|_| {
                    bad(
                        "cursor",
                        "cursor: use the next_cursor of the previous page".into(),
                    )
                })
            })
            .transpose()?;
        let fields = match self.fields.as_deref() {
            None | Some("") => None,
            Some(list) => {
                let known = channel_names();
                let wanted: Vec<String> = list.split(',').map(|f| f.trim().to_string()).collect();
                if let Some(unknown) = wanted.iter().find(|f| !known.contains(f)) {
                    return Err(bad("fields", format!("unknown channel `{unknown}`")));
                }
                Some(wanted)
            }
        };
        let filter = SampleFilter {
            min_speed_kmh: self.min_speed_kmh,
            max_speed_kmh: self.max_speed_kmh,
            brake_pedal: self.brake_pedal,
            abs_active: self.abs_active,
            aeb_state,
            gear,
        };
        let page = PageRequest {
            descending,
            after_us,
            limit,
        };
        Ok(ParsedQuery {
            range,
            filter,
            page,
            fields,
        })
    }
}

impl Portal {
    /// A page of the vehicle's samples the caller may see: times in UTC and
    /// in the vehicle's zone, absent channels absent.
    pub async fn samples(
        &self,
        who: Option<&Principal>,
        vin: &str,
        query: &SampleQuery,
    ) -> Result<SamplePage, ServiceError> {
        let ParsedQuery {
            range,
            filter,
            page,
            fields,
        } = query.parse()?;
        let access = self.authorize(who, vin, range).await?;
        let tz = access.vehicle.vehicle.timezone.clone();
        let rows = self
            .store
            .sample_page(access.vehicle.id, &access.ranges, &filter, page)
            .await?;
        let next_cursor = (rows.len() == page.limit as usize)
            .then(|| rows.last().map(|s| s.t_us.to_string()))
            .flatten();
        let items = rows
            .into_iter()
            .map(|s| {
                let mut item = serde_json::Map::new();
                item.insert("t".into(), format_utc(s.t_us).into());
                item.insert("t_local".into(), format_local_rfc3339(s.t_us, &tz).into());
                if let Ok(serde_json::Value::Object(channels)) = serde_json::to_value(&s.channels) {
                    for (k, v) in channels {
                        if fields.as_ref().is_none_or(|f| f.contains(&k)) {
                            item.insert(k, v);
                        }
                    }
                }
                item
            })
            .collect();
        Ok(SamplePage { items, next_cursor })
    }
}
