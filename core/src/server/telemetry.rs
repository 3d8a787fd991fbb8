//! Telemetry pages for `GET /api/v1/vehicles/{vin}/samples`, through the gate.

use super::authz::{Access, Principal, Reading};
use super::charts::{time_ticks, ChartQuery, TIME_TICKS};
use super::error::ServiceError;
use super::localtime::{input_value, instant, parse_in_zone, start_of_local_day, viewer_zone};
use super::privacy::PositionView;
use super::query;
use super::store::{PageRequest, SampleFilter, SealedClass, TimeRange};
use super::Portal;
pub use crate::domain::browse::{SamplePage, SampleQuery, TelemetryView};
use crate::domain::export::LocationRedaction;
use crate::domain::log_format::{AebState, Gear, CHANNELS};
use crate::domain::records::Sample;
use std::collections::HashMap;

/// A checked query.
/// A sample query's filters; its range is read by the gate, in the
/// vehicle's zone (`Portal::authorize_range`).
pub(crate) struct ParsedQuery {
    pub filter: SampleFilter,
    pub page: PageRequest,
    /// `None`: every channel.
    pub fields: Option<Vec<String>>,
    pub viewer_zone: Option<String>,
}

impl SampleQuery {
    pub(crate) fn parse(&self) -> Result<ParsedQuery, ServiceError> {
        for (field, value) in [
            ("min_speed_kmh", self.min_speed_kmh),
            ("max_speed_kmh", self.max_speed_kmh),
        ] {
            if value.is_some_and(|v| !v.is_finite()) {
                return Err(query::bad(
                    field,
                    format!("{field} must be a finite number"),
                ));
            }
        }
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
            |f| CHANNELS.iter().any(|c| c.name == f).then(|| f.to_string()),
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
            filter,
            page,
            fields,
            viewer_zone: viewer_zone(self.tz.as_deref())?,
        })
    }
}

/// One sample as a reply row: its instant, then the channels (absent ones
/// absent), only `fields` when given.
/// One sample as the API shows it, its position as `positions` allows (a
/// recipient's grant may allow none, or only about 1 km; nobody sees one
/// inside a privacy zone).
pub(crate) fn sample_item(
    s: &Sample,
    timezone: &str,
    viewer_zone: Option<&str>,
    fields: Option<&[String]>,
    positions: &PositionView,
) -> serde_json::Map<String, serde_json::Value> {
    let mut item = serde_json::Map::new();
    let at = instant(s.t_us, timezone, viewer_zone);
    item.insert("t".into(), at.t.into());
    item.insert("t_local".into(), at.t_local.into());
    if let Some(v) = at.t_viewer {
        item.insert("t_viewer".into(), v.into());
    }
    let mut channels = s.channels.clone();
    (channels.lat, channels.lon) = positions.show(channels.lat, channels.lon);
    if positions.level == LocationRedaction::None {
        channels.heading_deg = None;
    }
    if let Ok(serde_json::Value::Object(channels)) = serde_json::to_value(&channels) {
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
            filter,
            page,
            fields,
            viewer_zone,
        } = query.parse()?;
        let access = self
            .authorize_range(
                who,
                vin,
                Reading::Telemetry,
                query.from.as_deref(),
                query.to.as_deref(),
            )
            .await?;
        let tz = &access.vehicle.vehicle.timezone;
        let rows = access
            .store()
            .sample_page(access.vehicle.id, &access.ranges, &filter, page)
            .await?;
        let next_cursor = (rows.len() == page.limit as usize)
            .then(|| rows.last().map(|s| s.t_us.to_string()))
            .flatten();
        let positions = access.positions();
        let mut items: Vec<_> = rows
            .iter()
            .map(|s| sample_item(s, tz, viewer_zone.as_deref(), fields.as_deref(), &positions))
            .collect();
        self.mark_sealed_samples(&access, &rows, &mut items).await?;
        Ok(SamplePage { items, next_cursor })
    }

    /// Per event id, the key of the vehicle seal covering the events (or
    /// crash records) of `class` in `[from, to]`.
    pub(crate) async fn sealed_keys(
        &self,
        access: &Access,
        class: SealedClass,
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, String>, ServiceError> {
        let sealed = access
            .store()
            .sealed_records(access.vehicle.id, class, from, to)
            .await?;
        Ok(sealed.into_iter().map(|r| (r.event_id, r.key)).collect())
    }

    /// Adds `sealed_by` (the vehicle key whose seal covers it) to the row
    /// `sample_item` made of each sealed sample of `rows` (in time order).
    pub(crate) async fn mark_sealed_samples(
        &self,
        access: &Access,
        rows: &[Sample],
        items: &mut [serde_json::Map<String, serde_json::Value>],
    ) -> Result<(), ServiceError> {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let (from, to) = (first.t_us.min(last.t_us), first.t_us.max(last.t_us));
        let sealed: HashMap<i64, String> = access
            .store()
            .sealed_records(access.vehicle.id, SealedClass::Samples, from, to)
            .await?
            .into_iter()
            .map(|r| (r.t_us, r.key))
            .collect();
        for (row, item) in rows.iter().zip(items.iter_mut()) {
            if let Some(key) = sealed.get(&row.t_us) {
                item.insert("sealed_by".into(), key.clone().into());
            }
        }
        Ok(())
    }
}

const DAY_US: i64 = 24 * 3600 * 1_000_000;

impl Portal {
    /// The telemetry browser: `from`/`to` may be typed in the vehicle's zone;
    /// without them, the last day with data. Rows and chart pass the gate.
    pub async fn telemetry_view(
        &self,
        who: Option<&Principal>,
        vin: &str,
        query: &SampleQuery,
    ) -> Result<TelemetryView, ServiceError> {
        let access = self
            .authorize(who, vin, Reading::Telemetry, TimeRange::ALL)
            .await?;
        let zone = access.vehicle.vehicle.timezone.clone();
        let parse = |field: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| {
                    parse_in_zone(v, &zone).ok_or_else(|| {
                        query::bad(field, format!("{field} `{v}`: expected a date and time"))
                    })
                })
                .transpose()
        };
        let (from, to) = (parse("from", &query.from)?, parse("to", &query.to)?);
        let (from_us, to_us) = match (from, to) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, f + DAY_US),
            (None, Some(t)) => (t - DAY_US, t),
            (None, None) => {
                let last = access
                    .store()
                    .sample_page(
                        access.vehicle.id,
                        &access.ranges,
                        &SampleFilter::default(),
                        PageRequest {
                            descending: true,
                            after_us: None,
                            limit: 1,
                        },
                    )
                    .await?;
                let day = start_of_local_day(last.first().map_or(0, |s| s.t_us), &zone);
                (day, day + DAY_US)
            }
        };
        let rfc = |t| crate::domain::time::format_utc(t);
        let rows = SampleQuery {
            from: Some(rfc(from_us)),
            to: Some(rfc(to_us)),
            ..query.clone()
        };
        let page = self.samples(who, vin, &rows).await?;
        let mut chart = self
            .chart(
                who,
                vin,
                &ChartQuery {
                    from: rows.from.clone(),
                    to: rows.to.clone(),
                    channels: Some("speed_kmh,brake_pressure_bar".into()),
                },
            )
            .await?;
        let viewer = viewer_zone(query.tz.as_deref())?;
        if let Some(viewer) = &viewer {
            chart.ticks = time_ticks(chart.from_us, chart.to_us, viewer, TIME_TICKS);
        }
        let day = start_of_local_day(from_us, &zone);
        Ok(TelemetryView {
            from: instant(from_us, &zone, viewer.as_deref()),
            to: instant(to_us, &zone, viewer.as_deref()),
            from_input: input_value(from_us, &zone),
            to_input: input_value(to_us, &zone),
            day_from: input_value(day, &zone),
            day_to: input_value(day + DAY_US, &zone),
            week_from: input_value(day - 6 * DAY_US, &zone),
            page,
            chart,
            timezone: zone,
        })
    }
}
