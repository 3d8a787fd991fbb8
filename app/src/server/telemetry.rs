//! Telemetry pages for `GET /api/v1/vehicles/{vin}/samples`, through the gate.

use super::authz::Principal;
use super::error::ServiceError;
use super::localtime::{instant, viewer_zone};
use super::query;
use super::store::{PageRequest, SampleFilter, TimeRange};
use super::Portal;
use crate::domain::log_format::{AebState, Gear, SampleChannels};
use crate::domain::records::Sample;
use serde::{Deserialize, Serialize};

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
    /// The reader's zone for `t_viewer` (IANA name or `UTC`).
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SamplePage {
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    pub next_cursor: Option<String>,
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
    viewer_zone: Option<String>,
}

impl SampleQuery {
    fn parse(&self) -> Result<ParsedQuery, ServiceError> {
        let range = query::range(self.from.as_deref(), self.to.as_deref())?;
        let aeb_state = query::one(
            "aeb_state",
            self.aeb_state.as_deref(),
            AebState::parse,
            "off, standby, warning or braking",
        )?;
        let gear = query::one("gear", self.gear.as_deref(), Gear::parse, "P, R, N or D")?;
        let fields = query::list(
            "fields",
            self.fields.as_deref(),
            |f| channel_names().contains(&f.to_string()).then(|| f.to_string()),
            "channel names of the log format",
        )?;
        let filter = SampleFilter {
            min_speed_kmh: self.min_speed_kmh,
            max_speed_kmh: self.max_speed_kmh,
            brake_pedal: self.brake_pedal,
            abs_active: self.abs_active,
            aeb_state,
            gear,
        };
        let page = PageRequest {
            descending: query::descending(self.order.as_deref())?,
            after_us: query::time_cursor(self.cursor.as_deref())?,
            limit: query::limit(self.limit)?,
        };
        Ok(ParsedQuery {
            range,
            filter,
            page,
            fields,
            viewer_zone: viewer_zone(self.tz.as_deref())?,
        })
    }
}

/// One sample as a reply row: its instant, then the channels (absent ones
/// absent), only `fields` when given.
pub(crate) fn sample_item(
    s: &Sample,
    timezone: &str,
    viewer_zone: Option<&str>,
    fields: Option<&[String]>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut item = serde_json::Map::new();
    let at = instant(s.t_us, timezone, viewer_zone);
    item.insert("t".into(), at.t.into());
    item.insert("t_local".into(), at.t_local.into());
    if let Some(v) = at.t_viewer {
        item.insert("t_viewer".into(), v.into());
    }
    if let Ok(serde_json::Value::Object(channels)) = serde_json::to_value(&s.channels) {
        for (k, v) in channels {
            if fields.is_none_or(|f| f.contains(&k)) {
                item.insert(k, v);
            }
        }
    }
    item
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
            viewer_zone,
        } = query.parse()?;
        let access = self.authorize(who, vin, range).await?;
        let tz = &access.vehicle.vehicle.timezone;
        let rows = self
            .store
            .sample_page(access.vehicle.id, &access.ranges, &filter, page)
            .await?;
        let next_cursor = (rows.len() == page.limit as usize)
            .then(|| rows.last().map(|s| s.t_us.to_string()))
            .flatten();
        let items = rows
            .iter()
            .map(|s| sample_item(s, tz, viewer_zone.as_deref(), fields.as_deref()))
            .collect();
        Ok(SamplePage { items, next_cursor })
    }
}
