//! Events: the filtered list, and one event with its ±15 s window of samples
//! and, for a crash, its EDR record weighed against the telemetry.

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::localtime::{instant, viewer_zone};
use super::query;
use super::store::{
    EventFilter, EventPageRequest, PageRequest, PagedEvent, SampleFilter, SealedClass, TimeRange,
};
use super::telemetry::sample_item;
use super::Portal;
pub use crate::domain::browse::EventQuery;
use crate::domain::browse::{
    CrashRecord, CrossCheck, Disagreement, EventDetail, EventItem, EventPage, Limitation,
};
use crate::domain::chart::{Chart, ChartChannel};
use crate::domain::log_format::{EventGroup, EventType, PreCrashSample, Severity};
use crate::domain::records::{EdrRecord, Event, Sample};
use crate::domain::sharing::DataClass;

/// The window shown around an event, each side.
pub const WINDOW_US: i64 = 15_000_000;
/// Pre-crash speed and telemetry speed further apart than this are flagged.
pub const CROSS_CHECK_TOLERANCE_KMH: f64 = 3.0;
/// Telemetry counts as "the same instant" within this distance.
const SAME_INSTANT_US: i64 = 50_000;
/// The most samples one event window returns (±15 s at up to 100 Hz).
const WINDOW_SAMPLE_LIMIT: u32 = 3_001;

/// An event of a page as a list shows it, with its seal's key.
pub(crate) fn paged_event_item(p: PagedEvent, timezone: &str, viewer: Option<&str>) -> EventItem {
    EventItem {
        sealed_by: p.sealed_by,
        ..event_item(&p.event, timezone, viewer)
    }
}

pub(crate) fn event_item(e: &Event, timezone: &str, viewer: Option<&str>) -> EventItem {
    EventItem {
        id: e.id.clone(),
        at: instant(e.t_us, timezone, viewer),
        event_type: e.event_type,
        group: e.event_type.group(),
        severity: e.severity,
        trigger: e.trigger.clone(),
        note: e.note.clone(),
        sealed_by: None,
    }
}

impl EventQuery {
    pub(crate) fn filter(&self) -> Result<EventFilter, ServiceError> {
        let types = query::list(
            "type",
            self.event_type.as_deref(),
            EventType::parse,
            "event types of the log format (e.g. hard_brake)",
        )?;
        let groups = query::list(
            "group",
            self.group.as_deref(),
            EventGroup::parse,
            "brake, crash, warning or other",
        )?;
        // Types and groups narrow each other; both absent means every type.
        let mut wanted: Vec<EventType> = EventType::ALL
            .iter()
            .copied()
            .filter(|t| types.as_ref().is_none_or(|l| l.contains(t)))
            .filter(|t| groups.as_ref().is_none_or(|g| g.contains(&t.group())))
            .collect();
        if wanted.len() == EventType::ALL.len() {
            wanted.clear();
        } else if wanted.is_empty() {
            return Err(query::bad(
                "type",
                "no event type is in both `type` and `group`".into(),
            ));
        }
        Ok(EventFilter {
            types: wanted,
            severity: query::one(
                "severity",
                self.severity.as_deref(),
                Severity::parse,
                "info, warning or critical",
            )?,
        })
    }

    fn page(&self) -> Result<EventPageRequest, ServiceError> {
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let (t, id) = c.split_once(':').ok_or_else(query::cursor_error)?;
                Some((
                    t.parse().map_err(|_| query::cursor_error())?,
                    id.to_string(),
                ))
            }
        };
        Ok(EventPageRequest {
            descending: query::descending(self.order.as_deref())?,
            after,
            limit: query::limit(self.limit)?,
        })
    }
}

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/events`.
    pub async fn events(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &EventQuery,
    ) -> Result<EventPage, ServiceError> {
        let (filter, page) = (q.filter()?, q.page()?);
        let viewer = viewer_zone(q.tz.as_deref())?;
        let access = self
            .authorize_range(
                who,
                vin,
                Reading::Events,
                q.from.as_deref(),
                q.to.as_deref(),
            )
            .await?;
        let tz = &access.vehicle.vehicle.timezone;
        let rows = access
            .store()
            .event_page(access.vehicle.id, &access.ranges, &filter, &page)
            .await?;
        let next_cursor = (rows.len() == page.limit as usize)
            .then(|| {
                rows.last()
                    .map(|p| format!("{}:{}", p.event.t_us, p.event.id))
            })
            .flatten();
        let items = rows
            .into_iter()
            .map(|p| paged_event_item(p, tz, viewer.as_deref()))
            .collect();
        Ok(EventPage { items, next_cursor })
    }

    /// `GET /api/v1/vehicles/{vin}/events/{id}`: the event must lie inside the
    /// reader's periods; its window is clipped to them.
    pub async fn event_detail(
        &self,
        who: Option<&Principal>,
        vin: &str,
        event_id: &str,
        tz: Option<&str>,
    ) -> Result<EventDetail, ServiceError> {
        let viewer = viewer_zone(tz)?;
        let access = self
            .authorize(who, vin, Reading::Events, TimeRange::ALL)
            .await?;
        let event = access
            .store()
            .event(access.vehicle.id, event_id)
            .await?
            .filter(|e| {
                access
                    .ranges
                    .iter()
                    .any(|r| r.from_us <= e.t_us && e.t_us < r.to_us)
            })
            .ok_or(ServiceError::NotFound)?;
        let window = TimeRange {
            from_us: event.t_us - WINDOW_US,
            to_us: event.t_us + WINDOW_US + 1,
        };
        // One pass of the gate per request (a staff read is recorded once);
        // the window and the cross-check narrow what it let through.
        let all = access;
        let access = all.narrow(window)?;
        let zone = access.vehicle.vehicle.timezone.clone();
        // A recipient sees the window's samples only with telemetry in their
        // grant, and a crash record only with crash records.
        let telemetry = access.may_read(DataClass::Telemetry);
        let samples = match telemetry {
            true => self.first_samples(&access, WINDOW_SAMPLE_LIMIT).await?,
            false => Vec::new(),
        };
        let chart = match telemetry {
            true => {
                let channels = [
                    ChartChannel::Speed,
                    ChartChannel::AccelPedal,
                    ChartChannel::BrakePedal,
                    ChartChannel::BrakePressure,
                    ChartChannel::Steering,
                    ChartChannel::Abs,
                    ChartChannel::Aeb,
                ];
                self.chart_for(&access, &channels, Some(event.t_us)).await?
            }
            false => Chart {
                from_us: window.from_us,
                to_us: window.to_us,
                bucket_us: 0,
                samples: 0,
                series: Vec::new(),
                marker_us: Some(event.t_us),
                ticks: Vec::new(),
            },
        };
        let edr = match access
            .store()
            .edr_record(access.vehicle.id, &event.id)
            .await?
        {
            Some(record) if access.may_read(DataClass::Crash) => Some(
                self.crash_record(&all, record, &zone, viewer.as_deref())
                    .await?,
            ),
            _ => None,
        };
        let clipped_from = access.ranges[0].from_us;
        let clipped_to = access.ranges[access.ranges.len() - 1].to_us - 1;
        let mut item = event_item(&event, &zone, viewer.as_deref());
        item.sealed_by = self
            .sealed_keys(&access, SealedClass::Events, event.t_us, event.t_us)
            .await?
            .remove(&event.id);
        let rows = samples;
        let positions = access.positions();
        let mut samples: Vec<_> = rows
            .iter()
            .map(|s| sample_item(s, &zone, viewer.as_deref(), None, &positions))
            .collect();
        self.mark_sealed_samples(&access, &rows, &mut samples)
            .await?;
        Ok(EventDetail {
            event: item,
            window_from: instant(clipped_from, &zone, viewer.as_deref()),
            window_to: instant(clipped_to, &zone, viewer.as_deref()),
            samples,
            chart,
            edr,
            timezone: zone,
        })
    }

    /// The first `limit` samples the access covers, unfiltered, in time order.
    async fn first_samples(
        &self,
        access: &Access,
        limit: u32,
    ) -> Result<Vec<Sample>, ServiceError> {
        Ok(access
            .store()
            .sample_page(
                access.vehicle.id,
                &access.ranges,
                &SampleFilter::default(),
                PageRequest {
                    descending: false,
                    after_us: None,
                    limit,
                },
            )
            .await?)
    }

    /// An EDR record with its limitations and a cross-check of pre-crash
    /// speed against telemetry recorded at the same instants.
    async fn crash_record(
        &self,
        access: &super::authz::Access,
        record: EdrRecord,
        zone: &str,
        viewer: Option<&str>,
    ) -> Result<CrashRecord, ServiceError> {
        let first_ms = record
            .pre_crash
            .samples
            .iter()
            .map(|s| s.t_ms)
            .min()
            .unwrap_or(0);
        let span = TimeRange {
            from_us: record.t0_us + first_ms as i64 * 1000 - SAME_INSTANT_US,
            to_us: record.t0_us + SAME_INSTANT_US + 1,
        };
        let telemetry = match access.narrow(span) {
            Ok(access) => self.first_samples(&access, WINDOW_SAMPLE_LIMIT * 2).await?,
            Err(ServiceError::NotFound) => Vec::new(),
            Err(e) => return Err(e),
        };
        let sealed_by = self
            .sealed_keys(
                access,
                SealedClass::CrashRecords,
                record.t0_us,
                record.t0_us,
            )
            .await?
            .remove(&record.event_id);
        Ok(CrashRecord {
            sealed_by,
            t0: instant(record.t0_us, zone, viewer),
            limitations: limitations(&record),
            cross_check: cross_check(&record, &telemetry),
            record,
        })
    }
}

pub(crate) fn limitations(record: &EdrRecord) -> Vec<Limitation> {
    let mut out = vec![
        Limitation::PreCrashRate {
            hz: record.pre_crash.rate_hz,
        },
        Limitation::DeltaVRate {
            hz: record.delta_v.rate_hz,
        },
        Limitation::NotSynchronised,
    ];
    if !record.complete {
        out.push(Limitation::Incomplete);
    }
    let recorded = |f: fn(&PreCrashSample) -> bool| record.pre_crash.samples.iter().any(f);
    let absent: Vec<String> = [
        ("speed_kmh", recorded(|s| s.speed_kmh.is_some())),
        ("accel_pedal_pct", recorded(|s| s.accel_pedal_pct.is_some())),
        ("brake_pedal", recorded(|s| s.brake_pedal.is_some())),
        (
            "brake_pressure_bar",
            recorded(|s| s.brake_pressure_bar.is_some()),
        ),
        (
            "steering_angle_deg",
            recorded(|s| s.steering_angle_deg.is_some()),
        ),
        ("abs_active", recorded(|s| s.abs_active.is_some())),
        ("aeb_state", recorded(|s| s.aeb_state.is_some())),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(name, _)| name.to_string())
    .collect();
    if !absent.is_empty() {
        out.push(Limitation::Absent { channels: absent });
    }
    out
}

/// Compares each pre-crash speed with the telemetry sample nearest the same
/// instant (within 50 ms), flagging differences above the tolerance.
fn cross_check(record: &EdrRecord, telemetry: &[Sample]) -> CrossCheck {
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for p in &record.pre_crash.samples {
        let Some(edr_speed) = p.speed_kmh else {
            continue;
        };
        let at = record.t0_us + p.t_ms as i64 * 1000;
        let i = telemetry.partition_point(|s| s.t_us < at);
        let nearest = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| telemetry.get(j))
            .filter(|s| (s.t_us - at).abs() <= SAME_INSTANT_US)
            .filter_map(|s| s.channels.speed_kmh.map(|v| ((s.t_us - at).abs(), v)))
            .min_by_key(|(distance, _)| *distance);
        if let Some((_, telemetry_speed)) = nearest {
            compared += 1;
            if (edr_speed - telemetry_speed).abs() > CROSS_CHECK_TOLERANCE_KMH {
                disagreements.push(Disagreement {
                    t_ms: p.t_ms,
                    edr_speed_kmh: edr_speed,
                    telemetry_speed_kmh: telemetry_speed,
                });
            }
        }
    }
    CrossCheck {
        tolerance_kmh: CROSS_CHECK_TOLERANCE_KMH,
        compared,
        disagreements,
    }
}
