//! Drives: samples split wherever the car recorded nothing for more than
//! `GAP_US`. Found chunk by chunk, so the first page of a long history does
//! not scan all of it.

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::localtime::{instant, viewer_zone};
use super::query;
use super::store::{DriveSummary, TimeRange};
use super::Portal;
pub use crate::domain::browse::DriveQuery;
use crate::domain::browse::{DriveItem, DrivePage};
use crate::domain::sharing::DataClass;

/// A distance as the drives list gives it: to 0.1 km.
pub(crate) fn tenth_km(km: f64) -> f64 {
    (km * 10.0).round() / 10.0
}

/// A pause longer than this ends a drive.
pub const GAP_US: i64 = 5 * 60 * 1_000_000;
/// How much history one store query looks at.
const CHUNK_US: i64 = 3 * 24 * 3600 * 1_000_000;

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/drives`, oldest first.
    pub async fn drives(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &DriveQuery,
    ) -> Result<DrivePage, ServiceError> {
        let limit = query::limit(q.limit)?;
        let after = query::time_cursor(q.cursor.as_deref())?;
        let viewer = viewer_zone(q.tz.as_deref())?;
        let access = self
            .authorize_range(
                who,
                vin,
                Reading::Telemetry,
                q.from.as_deref(),
                q.to.as_deref(),
            )
            .await?;
        let mut found: Vec<DriveSummary> = Vec::new();
        for r in &access.ranges {
            let start = r
                .from_us
                .max(after.map_or(i64::MIN, |a| a.saturating_add(1)));
            let range = TimeRange {
                from_us: start,
                to_us: r.to_us,
            };
            if start >= r.to_us || found.len() > limit as usize {
                continue;
            }
            self.drives_in(&access, range, limit as usize + 1, &mut found)
                .await?;
        }
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_cursor = more
            .then(|| found.last().map(|d| d.last_us.to_string()))
            .flatten();
        let zone = access.vehicle.vehicle.timezone.clone();
        let items = self
            .drive_items(&access, &found, &zone, viewer.as_deref())
            .await?;
        Ok(DrivePage { items, next_cursor })
    }

    /// What a reader sees of each drive: its times, distance, the events
    /// inside it (counted only for a reader who may read events) and how
    /// many of its samples a vehicle seal covers.
    pub(crate) async fn drive_items(
        &self,
        access: &Access,
        found: &[DriveSummary],
        zone: &str,
        viewer: Option<&str>,
    ) -> Result<Vec<DriveItem>, ServiceError> {
        let vehicle = access.vehicle.id;
        let events = match (found.first(), found.last()) {
            (Some(a), Some(b)) if access.may_read(DataClass::Events) => {
                access
                    .store()
                    .events(
                        vehicle,
                        TimeRange {
                            from_us: a.first_us,
                            to_us: b.last_us + 1,
                        },
                    )
                    .await?
            }
            _ => Vec::new(),
        };
        let mut items = Vec::with_capacity(found.len());
        for d in found {
            let sealed_samples = access
                .store()
                .sealed_sample_count(vehicle, d.first_us, d.last_us)
                .await?;
            let inside: Vec<_> = events
                .iter()
                .filter(|e| d.first_us <= e.t_us && e.t_us <= d.last_us)
                .collect();
            items.push(DriveItem {
                start: instant(d.first_us, zone, viewer),
                end: instant(d.last_us, zone, viewer),
                duration_s: (d.last_us - d.first_us) / 1_000_000,
                samples: d.samples,
                distance_km: d.distance_km.map(tenth_km),
                max_speed_kmh: d.max_speed_kmh,
                events: inside.len() as u64,
                brake_events: inside.iter().filter(|e| e.event_type.is_brake()).count() as u64,
                crash_events: inside.iter().filter(|e| e.event_type.is_crash()).count() as u64,
                sealed_samples,
            });
        }
        Ok(items)
    }

    /// Appends the drives starting in `range` until `found` holds `want`.
    pub(crate) async fn drives_in(
        &self,
        access: &Access,
        range: TimeRange,
        want: usize,
        found: &mut Vec<DriveSummary>,
    ) -> Result<(), ServiceError> {
        let vehicle = access.vehicle.id;
        // Start at the first sample, so chunks follow the data, not the calendar.
        let Some(first) = access
            .store()
            .samples(vehicle, range, 1)
            .await?
            .first()
            .map(|s| s.t_us)
        else {
            return Ok(());
        };
        let (mut from_us, mut chunk_us) = (first, CHUNK_US);
        while from_us < range.to_us && found.len() < want {
            let to_us = from_us.saturating_add(chunk_us).min(range.to_us);
            // One spare: the chunk's last drive may go on past its end.
            let ask = (want - found.len() + 1) as u32;
            let mut drives = access
                .store()
                .drives(vehicle, TimeRange { from_us, to_us }, GAP_US, ask)
                .await?;
            let cut_short = to_us < range.to_us && drives.len() < ask as usize;
            if cut_short {
                match drives.pop() {
                    // Read the last drive again, whole, with the next chunk.
                    Some(last) if !drives.is_empty() => {
                        found.extend(drives);
                        from_us = last.first_us;
                    }
                    // One drive fills the chunk: look further at once.
                    Some(_) => chunk_us = chunk_us.saturating_mul(2),
                    None => from_us = to_us,
                }
                continue;
            }
            found.extend(drives);
            from_us = to_us;
        }
        Ok(())
    }
}
