//! "What happened lately": per local day of the last 90, the drives that
//! started, how far they went and the events; the newest drive, brake event
//! and crash event. Drives are found as the drives list finds them, so a day
//! here and the same day on the drives page agree.

use super::authz::{Access, Principal, Reading};
use super::drives::tenth_km;
use super::error::ServiceError;
use super::events::paged_event_item;
use super::localtime::{day_start, local_date, viewer_zone, zone};
use super::store::{EventFilter, EventPageRequest, PageRequest, SampleFilter, TimeRange};
use super::{now_us, Portal};
use crate::domain::browse::{Activity, DayActivity, EventItem};
use crate::domain::log_format::{EventGroup, EventType};
use crate::domain::sharing::DataClass;
use chrono::{Duration, NaiveDate};

/// How many days the strip shows.
pub const ACTIVITY_DAYS: i64 = 90;
/// More drives than a day can hold, however short: a bound, not a page size.
const MAX_DRIVES: usize = 90 * 24 * 12;

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/activity`.
    pub async fn activity(
        &self,
        who: Option<&Principal>,
        vin: &str,
        tz: Option<&str>,
    ) -> Result<Activity, ServiceError> {
        let viewer = viewer_zone(tz)?;
        let access = self
            .authorize(who, vin, Reading::Telemetry, TimeRange::ALL)
            .await?;
        let vehicle = access.vehicle.id;
        let timezone = access.vehicle.vehicle.timezone.clone();
        let tz = zone(&timezone);
        let local_date = |t_us: i64| local_date(t_us, tz);
        let today = local_date(now_us()).unwrap_or_default();
        let newest = self.newest_record(&access).await?;
        let last_day = match newest.and_then(local_date) {
            Some(day) if day < today - Duration::days(ACTIVITY_DAYS - 1) || day > today => day,
            _ => today,
        };
        let dates: Vec<NaiveDate> = (0..ACTIVITY_DAYS)
            .rev()
            .map(|back| last_day - Duration::days(back))
            .collect();
        let start = |date: NaiveDate| day_start(date, tz).unwrap_or(i64::MIN);
        let window = TimeRange {
            from_us: start(dates[0]),
            to_us: start(last_day + Duration::days(1)),
        };
        let mut days: Vec<DayActivity> = dates
            .iter()
            .map(|&date| {
                let day = TimeRange {
                    from_us: start(date),
                    to_us: start(date + Duration::days(1)),
                };
                DayActivity {
                    date: date.format("%Y-%m-%d").to_string(),
                    readable: access
                        .ranges
                        .iter()
                        .any(|r| r.from_us < day.to_us && day.from_us < r.to_us),
                    drives: 0,
                    distance_km: None,
                    events: 0,
                    brake_events: 0,
                    crash_events: 0,
                }
            })
            .collect();
        let count = days.len();
        let index = |t_us: i64| {
            local_date(t_us)
                .and_then(|d| usize::try_from((d - dates[0]).num_days()).ok())
                .filter(|&i| i < count)
        };

        let mut drives = Vec::new();
        let mut events = Vec::new();
        if let Ok(recent) = access.narrow(window) {
            for range in &recent.ranges {
                self.drives_in(&access, *range, MAX_DRIVES, &mut drives)
                    .await?;
                if access.may_read(DataClass::Events) {
                    events.extend(access.store().events(vehicle, *range).await?);
                }
            }
        }
        for d in &drives {
            if let Some(day) = index(d.first_us).map(|i| &mut days[i]) {
                day.drives += 1;
                // Each drive as the drives list shows it, so the two add up.
                if let Some(km) = d.distance_km.map(tenth_km) {
                    day.distance_km = Some(day.distance_km.unwrap_or(0.0) + km);
                }
            }
        }
        for e in &events {
            if let Some(day) = index(e.t_us).map(|i| &mut days[i]) {
                day.events += 1;
                day.brake_events += u32::from(e.event_type.is_brake());
                day.crash_events += u32::from(e.event_type.is_crash());
            }
        }
        for day in &mut days {
            day.distance_km = day.distance_km.map(tenth_km);
        }
        let latest_drive = match drives.last() {
            Some(last) => self
                .drive_items(
                    &access,
                    std::slice::from_ref(last),
                    &timezone,
                    viewer.as_deref(),
                )
                .await?
                .pop(),
            None => None,
        };
        let (latest_brake, latest_crash) = match access.may_read(DataClass::Events) {
            true => (
                self.newest_event(&access, EventGroup::Brake, viewer.as_deref())
                    .await?,
                self.newest_event(&access, EventGroup::Crash, viewer.as_deref())
                    .await?,
            ),
            false => (None, None),
        };
        Ok(Activity {
            latest_brake,
            latest_crash,
            timezone,
            days,
            latest_drive,
        })
    }

    /// The time of the newest sample or event the reader may see.
    async fn newest_record(&self, access: &Access) -> Result<Option<i64>, ServiceError> {
        let vehicle = access.vehicle.id;
        let sample = access
            .store()
            .sample_page(
                vehicle,
                &access.ranges,
                &SampleFilter::default(),
                PageRequest {
                    descending: true,
                    after_us: None,
                    limit: 1,
                },
            )
            .await?
            .first()
            .map(|s| s.t_us);
        let event = access
            .store()
            .event_page(
                vehicle,
                &access.ranges,
                &EventFilter::default(),
                &newest_only(),
            )
            .await?
            .first()
            .map(|p| p.event.t_us);
        Ok(sample.max(event))
    }

    async fn newest_event(
        &self,
        access: &Access,
        group: EventGroup,
        viewer: Option<&str>,
    ) -> Result<Option<EventItem>, ServiceError> {
        let filter = EventFilter {
            types: EventType::ALL
                .iter()
                .copied()
                .filter(|t| t.group() == group)
                .collect(),
            severity: None,
        };
        let newest = access
            .store()
            .event_page(access.vehicle.id, &access.ranges, &filter, &newest_only())
            .await?;
        let zone = &access.vehicle.vehicle.timezone;
        Ok(newest
            .into_iter()
            .next()
            .map(|p| paged_event_item(p, zone, viewer)))
    }
}

fn newest_only() -> EventPageRequest {
    EventPageRequest {
        descending: true,
        after: None,
        limit: 1,
    }
}
