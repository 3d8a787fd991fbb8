//! The authorization gate. Every read of vehicle data passes through
//! `Portal::authorize`: (principal, VIN, requested range) → the permitted
//! ranges, or not-found. A VIN the caller may not see answers exactly like
//! one that does not exist.

use super::error::ServiceError;
use super::store::{AccountId, CaseRecord, StoredVehicle, TimeRange};
use super::Portal;
use crate::domain::account::Role;
use crate::domain::audit::AuditAction;
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;

/// Who is asking (a signed-in account).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub account_id: AccountId,
    pub account: String,
    pub role: Role,
    /// The account's session epoch when this session signed in.
    pub session_epoch: i64,
    /// Staff only: the case they are reading in (set per request, never stored).
    pub case: Option<String>,
}

impl Principal {
    /// The same staff member, reading within `case_no`.
    pub fn in_case(&self, case_no: &str) -> Principal {
        Principal {
            case: Some(case_no.to_string()),
            ..self.clone()
        }
    }
}

/// What the gate lets a caller read: one vehicle, within these ranges only.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub vehicle: StoredVehicle,
    /// Non-empty, sorted, each within the requested range.
    pub ranges: Vec<TimeRange>,
}

pub(crate) fn intersect(a: TimeRange, b: TimeRange) -> Option<TimeRange> {
    let r = TimeRange {
        from_us: a.from_us.max(b.from_us),
        to_us: a.to_us.min(b.to_us),
    };
    (r.from_us < r.to_us).then_some(r)
}

impl Portal {
    /// The gate: the ranges of `vin` that `who` may read within `requested`.
    /// Owners read inside their ownership periods; staff only inside an open
    /// case on this vehicle, within what the case covers, and every such
    /// read is recorded (the owner sees it on the access page).
    pub async fn authorize(
        &self,
        who: Option<&Principal>,
        vin: &str,
        requested: TimeRange,
    ) -> Result<Access, ServiceError> {
        self.authorize_in_zone(who, vin, |_| Ok(requested)).await
    }

    /// The gate for a query whose `from`/`to` are RFC 3339 with an offset,
    /// or vehicle-local times (`2021-02-21T10:15`) as a form sends them.
    pub async fn authorize_range(
        &self,
        who: Option<&Principal>,
        vin: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Access, ServiceError> {
        self.authorize_in_zone(who, vin, |zone| super::query::range_in_zone(from, to, zone))
            .await
    }

    /// The gate itself. `requested` reads the range in the vehicle's zone,
    /// and only once the caller may see the vehicle at all: a VIN the caller
    /// may not see is a 404 whatever else the request says.
    async fn authorize_in_zone(
        &self,
        who: Option<&Principal>,
        vin: &str,
        requested: impl FnOnce(&str) -> Result<TimeRange, ServiceError>,
    ) -> Result<Access, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        let vin = Vin::parse(vin).map_err(|_| ServiceError::NotFound)?;
        let vehicle = self
            .store
            .vehicle(&vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let (permitted, case) = self.permitted(who, &vehicle).await?;
        if permitted.is_empty() {
            return Err(ServiceError::NotFound);
        }
        let requested = requested(&vehicle.vehicle.timezone)?;
        let ranges: Vec<TimeRange> = permitted
            .into_iter()
            .filter_map(|r| intersect(r, requested))
            .collect();
        if ranges.is_empty() {
            return Err(ServiceError::NotFound);
        }
        if let Some(case) = case {
            use super::cases::bound;
            let details = serde_json::json!({
                "from": bound(ranges[0].from_us),
                "to": bound(ranges[ranges.len() - 1].to_us),
            });
            self.audit_case(who, &case, AuditAction::StaffRead, details)
                .await?;
        }
        Ok(Access { vehicle, ranges })
    }

    /// Everything of `vehicle` that `who` may read (not recorded: callers
    /// that read data go through `authorize`), and the case it is read in.
    pub(crate) async fn permitted(
        &self,
        who: &Principal,
        vehicle: &StoredVehicle,
    ) -> Result<(Vec<TimeRange>, Option<CaseRecord>), ServiceError> {
        match who.role {
            Role::Owner => Ok((
                self.store
                    .ownership_of_vehicle(vehicle.id)
                    .await?
                    .into_iter()
                    .filter(|p| p.account_id == who.account_id)
                    .map(|p| p.range())
                    .collect(),
                None,
            )),
            Role::Support | Role::Admin => {
                let Some(case_no) = who.case.as_deref() else {
                    return Ok((Vec::new(), None));
                };
                let case = self.store.case_by_no(case_no).await?;
                match case {
                    Some(case)
                        if case.vehicle_id == vehicle.id && case.status == CaseStatus::Open =>
                    {
                        Ok((self.case_coverage(&case).await?, Some(case)))
                    }
                    _ => Ok((Vec::new(), None)),
                }
            }
        }
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
