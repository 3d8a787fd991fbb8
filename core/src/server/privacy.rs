//! Privacy zones (`/api/v1/me/privacy-zones`) and how every reader sees
//! positions: at most their location level, and nothing inside the zones of
//! the owners whose periods they read. Only an owner's own export with
//! `location=full` shows positions inside the owner's zones.

use super::authz::{signed_in_account, AccountPrincipal, Principal};
use super::cases::required_text;
use super::error::ServiceError;
use super::export::redact;
use super::store::NewZone;
use super::{now_us, Portal};
use crate::domain::account::Role;
use crate::domain::export::LocationRedaction;
use crate::domain::privacy::{
    NewZoneRequest, PrivacyZone, MAX_ZONES, MAX_ZONE_RADIUS_M, MIN_ZONE_RADIUS_M,
};

/// How one reader sees positions: at most `level`, and none inside `zones`.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionView {
    pub level: LocationRedaction,
    pub zones: Vec<PrivacyZone>,
}

impl PositionView {
    /// Whether a position lies in one of the zones.
    pub fn hides(&self, lat: f64, lon: f64) -> bool {
        self.zones.iter().any(|z| z.contains(lat, lon))
    }

    /// The coordinates as this reader sees them: neither inside a zone,
    /// rounded for `coarse`, none for `none`.
    pub fn show(&self, lat: Option<f64>, lon: Option<f64>) -> (Option<f64>, Option<f64>) {
        if let (Some(a), Some(o)) = (lat, lon) {
            if self.hides(a, o) {
                return (None, None);
            }
        }
        (redact(self.level, lat), redact(self.level, lon))
    }

    /// Whether zones changed what this reader gets: some are in force and
    /// positions are shown at all (a manifest says so, never where).
    pub fn zones_applied(&self) -> bool {
        self.level != LocationRedaction::None && !self.zones.is_empty()
    }
}

/// Zones are the owners' own: staff and recipients have none (403).
fn owner(who: Option<&Principal>) -> Result<&AccountPrincipal, ServiceError> {
    let who = signed_in_account(who)?;
    if who.role != Role::Owner {
        return Err(ServiceError::Forbidden);
    }
    Ok(who)
}

fn coordinate(field: &'static str, value: Option<f64>, limit: f64) -> Result<f64, ServiceError> {
    value
        .filter(|v| v.is_finite() && v.abs() <= limit)
        .ok_or_else(|| {
            ServiceError::invalid(
                "invalid_coordinate",
                field,
                format!("{field} is a number of decimal degrees between -{limit} and {limit}"),
            )
        })
}

/// A zone request checked: the zone to keep.
fn checked(request: &NewZoneRequest, account: &AccountPrincipal) -> Result<NewZone, ServiceError> {
    let name = required_text("name", &request.name)?;
    let lat = coordinate("lat", request.lat, 90.0)?;
    let lon = coordinate("lon", request.lon, 180.0)?;
    let radius_m = request.radius_m.filter(|r| r.is_finite()).ok_or_else(|| {
        ServiceError::invalid(
            "missing_field",
            "radius_m",
            "radius_m is required, in metres",
        )
    })?;
    if radius_m < MIN_ZONE_RADIUS_M {
        return Err(ServiceError::invalid(
            "zone_too_small",
            "radius_m",
            format!("a privacy zone's radius is at least {MIN_ZONE_RADIUS_M} m"),
        ));
    }
    if radius_m > MAX_ZONE_RADIUS_M {
        return Err(ServiceError::invalid(
            "zone_too_large",
            "radius_m",
            format!("a privacy zone's radius is at most {MAX_ZONE_RADIUS_M} m"),
        ));
    }
    Ok(NewZone {
        account_id: account.account_id,
        name,
        lat,
        lon,
        radius_m,
        created_us: now_us(),
    })
}

impl Portal {
    /// `GET /api/v1/me/privacy-zones`: the owner's zones, oldest first.
    pub async fn privacy_zones(
        &self,
        who: Option<&Principal>,
    ) -> Result<Vec<PrivacyZone>, ServiceError> {
        let who = owner(who)?;
        Ok(self.store.zones_of(&[who.account_id]).await?)
    }

    /// `POST /api/v1/me/privacy-zones`: a new zone, in force from the next
    /// request on, for every reader of the owner's periods.
    pub async fn add_privacy_zone(
        &self,
        who: Option<&Principal>,
        request: &NewZoneRequest,
    ) -> Result<PrivacyZone, ServiceError> {
        let who = owner(who)?;
        let zone = checked(request, who)?;
        self.store
            .add_zone(&zone, MAX_ZONES)
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                code: "too_many_zones",
                message: format!("an account keeps at most {MAX_ZONES} privacy zones"),
            })
    }

    /// `DELETE /api/v1/me/privacy-zones/{id}`.
    pub async fn remove_privacy_zone(
        &self,
        who: Option<&Principal>,
        id: i64,
    ) -> Result<(), ServiceError> {
        let who = owner(who)?;
        if !self.store.remove_zone(id, who.account_id).await? {
            return Err(ServiceError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> PrivacyZone {
        PrivacyZone {
            id: 1,
            name: "Home".into(),
            lat: 31.2304,
            lon: 121.4737,
            radius_m: 300.0,
        }
    }

    #[test]
    fn a_position_inside_a_zone_is_shown_at_no_level() {
        for level in LocationRedaction::ALL {
            let view = PositionView {
                level: *level,
                zones: vec![home()],
            };
            assert_eq!(view.show(Some(31.2310), Some(121.4740)), (None, None));
        }
    }

    #[test]
    fn outside_the_zones_the_level_decides() {
        let view = |level| PositionView {
            level,
            zones: vec![home()],
        };
        let far = (Some(31.3012), Some(121.5049));
        assert_eq!(view(LocationRedaction::Full).show(far.0, far.1), far);
        assert_eq!(
            view(LocationRedaction::Coarse).show(far.0, far.1),
            (Some(31.3), Some(121.5))
        );
        assert_eq!(
            view(LocationRedaction::None).show(far.0, far.1),
            (None, None)
        );
        assert!(view(LocationRedaction::Full).zones_applied());
        assert!(!view(LocationRedaction::None).zones_applied());
    }
}
