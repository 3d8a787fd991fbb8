//! Where the car went. Location is sensitive personal data, so a reader's
//! pages show it only after their account chose to (`show_location`, off by
//! default); the route of a range goes through the gate like every read.

use super::authz::{signed_in_account, Principal, Reading};
use super::error::ServiceError;
use super::query;
use super::store::{TimeRange, TrackPoint};
use super::Portal;
use crate::domain::browse::{Route, RouteEvent, RoutePoint, RouteQuery};
use crate::domain::export::LocationRedaction;
use crate::domain::sharing::DataClass;

/// At most this many points draw a route (a point per equal span of time).
pub const ROUTE_POINTS: u32 = 2_000;
/// The longest range a route is drawn for.
pub const ROUTE_MAX_DAYS: i64 = 31;
/// An event further than this from every point of the route is not placed.
const PLACE_WITHIN_US: i64 = 5 * 60 * 1_000_000;

impl Portal {
    /// Whether `who` chose to see locations on their pages (a recipient:
    /// whether their grant gives any location).
    pub async fn show_location(&self, who: Option<&Principal>) -> Result<bool, ServiceError> {
        match who.ok_or(ServiceError::Unauthenticated)? {
            Principal::Account(who) => Ok(self.store.show_location(who.account_id).await?),
            Principal::Recipient(grant) => Ok(grant.location != LocationRedaction::None),
        }
    }

    /// The reader's own choice; it changes nothing anyone else sees.
    pub async fn set_show_location(
        &self,
        who: Option<&Principal>,
        show: bool,
    ) -> Result<(), ServiceError> {
        let who = signed_in_account(who)?;
        Ok(self.store.set_show_location(who.account_id, show).await?)
    }

    /// `GET /api/v1/vehicles/{vin}/route?from&to`.
    pub async fn route(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &RouteQuery,
    ) -> Result<Route, ServiceError> {
        let (Some(from), Some(to)) = (q.from.as_deref(), q.to.as_deref()) else {
            let missing = if q.from.is_none() { "from" } else { "to" };
            return Err(query::bad(
                missing,
                "a route needs both ends of its range (`from` and `to`)".into(),
            ));
        };
        let access = self
            .authorize_range(who, vin, Reading::Route, Some(from), Some(to))
            .await?;
        if !self.show_location(who).await? {
            return Ok(Route::default());
        }
        let whole = TimeRange {
            from_us: access.ranges[0].from_us,
            to_us: access.ranges[access.ranges.len() - 1].to_us,
        };
        if whole.to_us.saturating_sub(whole.from_us) > ROUTE_MAX_DAYS * 86_400_000_000 {
            return Err(query::bad(
                "to",
                format!("a route covers at most {ROUTE_MAX_DAYS} days"),
            ));
        }
        let bucket_us = super::store::track_bucket_us(whole, ROUTE_POINTS);
        let vehicle = access.vehicle.id;
        let mut points: Vec<TrackPoint> = Vec::new();
        let mut events = Vec::new();
        for range in &access.ranges {
            let share =
                ((range.to_us - range.from_us) / bucket_us).clamp(1, i64::from(ROUTE_POINTS));
            points.extend(access.store().track(vehicle, *range, share as u32).await?);
            if access.may_read(DataClass::Events) {
                events.extend(access.store().events(vehicle, *range).await?);
            }
        }
        // Nobody sees a point inside a privacy zone; a recipient granted
        // `coarse` sees every other point rounded (about 1 km).
        let positions = access.positions();
        let points: Vec<TrackPoint> = points
            .into_iter()
            .filter_map(|p| match positions.show(Some(p.lat), Some(p.lon)) {
                (Some(lat), Some(lon)) => Some(TrackPoint { lat, lon, ..p }),
                _ => None,
            })
            .collect();
        let placed = events
            .iter()
            .filter(|e| e.event_type.is_brake() || e.event_type.is_crash())
            .filter_map(|e| {
                let p = nearest(&points, e.t_us)?;
                Some(RouteEvent {
                    id: e.id.clone(),
                    event_type: e.event_type,
                    group: e.event_type.group(),
                    t_us: e.t_us,
                    lat: p.lat,
                    lon: p.lon,
                })
            })
            .collect();
        Ok(Route {
            shown: true,
            points: points
                .iter()
                .map(|p| RoutePoint {
                    t_us: p.t_us,
                    lat: p.lat,
                    lon: p.lon,
                })
                .collect(),
            bucket_us,
            events: placed,
        })
    }
}

/// The point of `points` (in time order) nearest in time to `t_us`, when
/// one is near enough to say where the car was.
fn nearest(points: &[TrackPoint], t_us: i64) -> Option<TrackPoint> {
    let i = points.partition_point(|p| p.t_us < t_us);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|k| points.get(k))
        .min_by_key(|p| (p.t_us - t_us).abs())
        .filter(|p| (p.t_us - t_us).abs() <= PLACE_WITHIN_US)
        .copied()
}
