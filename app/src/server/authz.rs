//! The authorization gate. Every read of vehicle data passes through
//! `Portal::authorize`: (principal, VIN, requested range) → the permitted
//! ranges, or not-found. A VIN the caller may not see answers exactly like
//! one that does not exist.

use super::error::ServiceError;
use super::store::{AccountId, StoredVehicle, TimeRange};
use super::Portal;
use crate::domain::account::Role;
use crate::domain::Vin;

/// Who is asking (a signed-in account).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub account_id: AccountId,
    pub account: String,
    pub role: Role,
    /// The account's session epoch when this session signed in.
    pub session_epoch: i64,
}

/// What the gate lets a caller read: one vehicle, within these ranges only.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub vehicle: StoredVehicle,
    /// Non-empty, sorted, each within the requested range.
    pub ranges: Vec<TimeRange>,
}

fn intersect(a: TimeRange, b: TimeRange) -> Option<TimeRange> {
    let r = TimeRange {
        from_us: a.from_us.max(b.from_us),
        to_us: a.to_us.min(b.to_us),
    };
    (r.from_us < r.to_us).then_some(r)
}

impl Portal {
    pub async fn authorize(
        &self,
        who: Option<&Principal>,
        vin: &str,
        requested: TimeRange,
    ) -> Result<Access, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        let vin = Vin::parse(vin).map_err(|_| ServiceError::NotFound)?;
        let vehicle = self
            .store
            .vehicle(&vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let ranges: Vec<TimeRange> = match who.role {
            Role::Owner => self
                .store
                .ownership_of_vehicle(vehicle.id)
                .await?
                .into_iter()
                .filter(|p| p.account_id == who.account_id)
                .filter_map(|p| intersect(p.range(), requested))
                .collect(),
            // Staff read only inside a case (support-console issue); until then, nothing.
            Role::Support | Role::Admin => Vec::new(),
        };
        if ranges.is_empty() {
            return Err(ServiceError::NotFound);
        }
        Ok(Access { vehicle, ranges })
    }
}

impl Access {
    /// The same access within `range` only; not-found when nothing is left.
    pub fn narrow(&self, range: TimeRange) -> Result<Access, ServiceError> {
        let ranges: Vec<TimeRange> = self
            .ranges
            .iter()
            .filter_map(|r| intersect(*r, range))
            .collect();
        if ranges.is_empty() {
            return Err(ServiceError::NotFound);
        }
        Ok(Access {
            vehicle: self.vehicle.clone(),
            ranges,
        })
    }
}

impl Portal {
    /// The gate for a list query whose `from`/`to` are RFC 3339 with an
    /// offset, or vehicle-local times as a form sends them.
    pub async fn authorize_range(
        &self,
        who: Option<&Principal>,
        vin: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Access, ServiceError> {
        let access = self.authorize(who, vin, TimeRange::ALL).await?;
        let range = super::query::range_in_zone(from, to, &access.vehicle.vehicle.timezone)?;
        access.narrow(range)
    }
}
