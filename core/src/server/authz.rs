//! The authorization gate. Every read of vehicle data passes through
//! `Portal::authorize`: (principal, VIN, what is read, requested range) →
//! the permitted ranges, or not-found. A VIN the caller may not see answers
//! exactly like one that does not exist.

use super::error::ServiceError;
use super::privacy::PositionView;
use super::store::{
    AccountId, CaseRecord, GrantRecord, OwnershipPeriod, Store, StoredVehicle, TimeRange,
};
use super::{now_us, Portal};
use crate::domain::account::Role;
use crate::domain::audit::AuditAction;
use crate::domain::export::LocationRedaction;
use crate::domain::privacy::PrivacyZone;
use crate::domain::sharing::DataClass;
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;
use std::sync::Arc;

/// Who is asking: a signed-in account, or a third party under an owner's grant.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    Account(AccountPrincipal),
    /// The grant as stored when the request came in (revoked or expired
    /// ones too: the gate refuses them, and records that it did).
    Recipient(GrantRecord),
}

/// A signed-in account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPrincipal {
    pub account_id: AccountId,
    pub account: String,
    pub role: Role,
    /// The account's session epoch when this session signed in.
    pub session_epoch: i64,
    /// Staff only: the case they are reading in (set per request, never stored).
    pub case: Option<String>,
}

impl AccountPrincipal {
    /// How the audit chain names this account.
    pub fn actor(&self) -> String {
        format!("account:{}", self.account_id)
    }

    /// The same staff member, reading within `case_no`.
    pub fn in_case(&self, case_no: &str) -> Principal {
        Principal::Account(AccountPrincipal {
            case: Some(case_no.to_string()),
            ..self.clone()
        })
    }
}

impl Principal {
    /// The account behind the request; a recipient may not use what only
    /// accounts may (403).
    pub fn account(&self) -> Result<&AccountPrincipal, ServiceError> {
        match self {
            Principal::Account(a) => Ok(a),
            Principal::Recipient(_) => Err(ServiceError::Forbidden),
        }
    }

    /// How the audit chain names this principal.
    pub fn actor(&self) -> String {
        match self {
            Principal::Account(a) => a.actor(),
            Principal::Recipient(g) => format!("grant:{}", g.id),
        }
    }
}

/// The signed-in account, or why not: signed out (401), a recipient (403).
pub fn signed_in_account(who: Option<&Principal>) -> Result<&AccountPrincipal, ServiceError> {
    who.ok_or(ServiceError::Unauthenticated)?.account()
}

/// What a request reads, as the gate weighs it against a grant's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// What is held per class (counts and spans): any grant.
    Overview,
    /// Samples, charts, drives and the calendar of recorded days.
    Telemetry,
    /// The events list and an event's details.
    Events,
    /// A crash record.
    Crash,
    /// Where the car went (a route): a grant with a location level.
    Route,
    /// An export of every class the reader may read (NDJSON, bundles,
    /// reports) with this location level: a grant of at least that level.
    Export(LocationRedaction),
    /// An export of samples only (CSV, Parquet, GPX) with this location level: a
    /// grant of telemetry and at least that level.
    SamplesExport(LocationRedaction),
    /// The changes feed: the owner, or a recipient of a continuous grant.
    Changes,
    /// The owner's own access log and grants: never a recipient.
    OwnerOnly,
}

impl Reading {
    fn as_str(self) -> &'static str {
        match self {
            Reading::Overview => "overview",
            Reading::Telemetry => "telemetry",
            Reading::Events => "events",
            Reading::Crash => "crash",
            Reading::Route => "route",
            Reading::Export(_) | Reading::SamplesExport(_) => "export",
            Reading::Changes => "changes",
            Reading::OwnerOnly => "owner_only",
        }
    }

    /// Whether what is read may hold positions (the privacy zones matter).
    fn shows_positions(self) -> bool {
        match self {
            Reading::Telemetry | Reading::Events | Reading::Route | Reading::Changes => true,
            Reading::Export(level) | Reading::SamplesExport(level) => {
                level != LocationRedaction::None
            }
            Reading::Overview | Reading::Crash | Reading::OwnerOnly => false,
        }
    }

    /// Whether a grant's scope covers this reading.
    fn within(self, grant: &GrantRecord) -> bool {
        let has = |c| grant.classes.contains(&c);
        let level = |l: LocationRedaction| match l {
            LocationRedaction::None => 0,
            LocationRedaction::Coarse => 1,
            LocationRedaction::Full => 2,
        };
        match self {
            Reading::Overview => true,
            Reading::Telemetry => has(DataClass::Telemetry),
            Reading::Events => has(DataClass::Events),
            Reading::Crash => has(DataClass::Crash),
            Reading::Route => {
                has(DataClass::Telemetry) && grant.location != LocationRedaction::None
            }
            Reading::Export(location) => level(location) <= level(grant.location),
            Reading::SamplesExport(location) => {
                has(DataClass::Telemetry) && level(location) <= level(grant.location)
            }
            Reading::Changes => grant.continuous,
            Reading::OwnerOnly => false,
        }
    }
}

/// What the gate lets a caller read: one vehicle, within these ranges only.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub vehicle: StoredVehicle,
    /// Non-empty, sorted, each within the requested range.
    pub ranges: Vec<TimeRange>,
    /// The most of a position the caller may see: `full` for accounts,
    /// the grant's level for a recipient.
    pub location: LocationRedaction,
    /// The data classes the caller may read (all of them for accounts).
    pub classes: Vec<DataClass>,
    /// The privacy zones of every owner whose periods `ranges` reach into.
    pub zones: Vec<PrivacyZone>,
    /// The caller reads as the owner of every range (their own data).
    pub own: bool,
    /// Where the vehicle data this access allows is read.
    pub source: DataSource,
}

/// The store a request reads vehicle data from: the primary, or a current
/// read replica (`replicas.rs` says why a replica never shows more than the
/// gate allows). Everything else a request reads or writes stays on the
/// primary (`Portal::store`).
#[derive(Clone)]
pub struct DataSource {
    store: Arc<dyn Store>,
    replica: bool,
}

impl DataSource {
    pub fn primary(store: Arc<dyn Store>) -> Self {
        DataSource {
            store,
            replica: false,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

impl std::fmt::Debug for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.replica { "replica" } else { "primary" })
    }
}

impl PartialEq for DataSource {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.store), Arc::as_ptr(&other.store))
    }
}

impl Access {
    /// The store to read this access's vehicle data from.
    pub fn store(&self) -> &dyn Store {
        &**self.source.store()
    }

    /// Whether the caller may read `class` (parts of a page drop what not).
    pub fn may_read(&self, class: DataClass) -> bool {
        self.classes.contains(&class)
    }

    /// Positions as pages, feeds and the live view show them: the zones
    /// hide what is inside them from everyone, the owner included.
    pub fn positions(&self) -> PositionView {
        PositionView {
            level: self.location,
            zones: self.zones.clone(),
        }
    }

    /// Positions as an export at `level` holds them: the zones apply unless
    /// the owner asks for `full` in their own export.
    pub fn exported_positions(&self, level: LocationRedaction) -> PositionView {
        let zones = if self.own && level == LocationRedaction::Full {
            Vec::new()
        } else {
            self.zones.clone()
        };
        PositionView { level, zones }
    }
}

pub(crate) fn intersect(a: TimeRange, b: TimeRange) -> Option<TimeRange> {
    let r = TimeRange {
        from_us: a.from_us.max(b.from_us),
        to_us: a.to_us.min(b.to_us),
    };
    (r.from_us < r.to_us).then_some(r)
}

/// What `permitted` found: the ranges, and what stands behind them.
pub(crate) enum Permit {
    /// An owner's own periods (or nothing).
    Owner(Vec<TimeRange>),
    /// Staff within an open case.
    Case(Vec<TimeRange>, CaseRecord),
    /// A recipient within a live grant's scope.
    Grant(Vec<TimeRange>),
    /// A recipient refused, and why (recorded for the owner).
    Refused(&'static str),
    Nothing,
}

impl Permit {
    /// The ranges permitted (none for a refusal).
    pub(crate) fn ranges(self) -> Vec<TimeRange> {
        match self {
            Permit::Owner(r) | Permit::Grant(r) | Permit::Case(r, _) => r,
            Permit::Refused(_) | Permit::Nothing => Vec::new(),
        }
    }
}

impl Portal {
    /// The gate: the ranges of `vin` that `who` may read within `requested`.
    /// Owners read inside their ownership periods; staff only inside an open
    /// case on this vehicle, within what the case covers; recipients within
    /// a live grant's scope and window, inside the granting owner's periods.
    /// Every staff and recipient read (and every refused recipient request)
    /// is recorded: the owner sees it on the access page.
    pub async fn authorize(
        &self,
        who: Option<&Principal>,
        vin: &str,
        reading: Reading,
        requested: TimeRange,
    ) -> Result<Access, ServiceError> {
        self.authorize_in_zone(who, vin, reading, |_| Ok(requested))
            .await
    }

    /// The gate for a query whose `from`/`to` are RFC 3339 with an offset,
    /// or vehicle-local times (`2021-02-21T10:15`) as a form sends them.
    pub async fn authorize_range(
        &self,
        who: Option<&Principal>,
        vin: &str,
        reading: Reading,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Access, ServiceError> {
        self.authorize_in_zone(who, vin, reading, |zone| {
            super::query::range_in_zone(from, to, zone)
        })
        .await
    }

    /// The gate itself. `requested` reads the range in the vehicle's zone,
    /// and only once the caller may see the vehicle at all: a VIN the caller
    /// may not see is a 404 whatever else the request says.
    async fn authorize_in_zone(
        &self,
        who: Option<&Principal>,
        vin: &str,
        reading: Reading,
        requested: impl FnOnce(&str) -> Result<TimeRange, ServiceError>,
    ) -> Result<Access, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        let found = match Vin::parse(vin) {
            Ok(vin) => self.store.vehicle_and_ownership(&vin).await?,
            Err(_) => None,
        };
        let Some((vehicle, periods)) = found else {
            self.refuse(who, reading, "other_vehicle").await?;
            return Err(ServiceError::NotFound);
        };
        let permitted = match self.permit(who, &vehicle, &periods, reading).await? {
            Permit::Refused(why) => {
                self.refuse(who, reading, why).await?;
                return Err(ServiceError::NotFound);
            }
            permit => permit,
        };
        let own = matches!(permitted, Permit::Owner(_));
        let (permitted, case) = match permitted {
            Permit::Owner(r) | Permit::Grant(r) => (r, None),
            Permit::Case(r, case) => (r, Some(case)),
            Permit::Refused(_) | Permit::Nothing => (Vec::new(), None),
        };
        if permitted.is_empty() {
            return Err(ServiceError::NotFound);
        }
        let requested = requested(&vehicle.vehicle.timezone)?;
        let ranges: Vec<TimeRange> = permitted
            .into_iter()
            .filter_map(|r| intersect(r, requested))
            .collect();
        if ranges.is_empty() {
            self.refuse(who, reading, "outside_window").await?;
            return Err(ServiceError::NotFound);
        }
        let details = || {
            use super::cases::bound;
            serde_json::json!({
                "from": bound(ranges[0].from_us),
                "to": bound(ranges[ranges.len() - 1].to_us),
            })
        };
        let (location, classes) = match who {
            Principal::Account(staff) => {
                if let Some(case) = case {
                    self.audit_case(staff, &case, AuditAction::StaffRead, details())
                        .await?;
                }
                (LocationRedaction::Full, DataClass::ALL.to_vec())
            }
            Principal::Recipient(grant) => {
                let mut details = details();
                details["reading"] = reading.as_str().into();
                self.audit_grant(grant, who.actor(), AuditAction::GrantRead, details)
                    .await?;
                (grant.location, grant.classes.clone())
            }
        };
        let zones = match reading.shows_positions() && location != LocationRedaction::None {
            true => self.zones_over(who, own, &periods, &ranges).await?,
            false => Vec::new(),
        };
        Ok(Access {
            vehicle,
            ranges,
            location,
            classes,
            zones,
            own,
            source: self.data_source(reading),
        })
    }

    /// Browsing and exports read from a current replica when there is one;
    /// the continuous-access feed (whose cursor must never skip what the
    /// primary holds) and owner-only reads stay on the primary.
    fn data_source(&self, reading: Reading) -> DataSource {
        let replica = match reading {
            Reading::Changes | Reading::OwnerOnly => None,
            _ => self.replicas.as_ref().and_then(|r| r.pick()),
        };
        match replica {
            Some(store) => DataSource {
                store,
                replica: true,
            },
            None => DataSource::primary(self.store.clone()),
        }
    }

    /// The privacy zones of the owners of the periods `ranges` reach into:
    /// an owner's and a recipient's ranges lie in one owner's periods
    /// (known without a query); a case's may span several owners.
    async fn zones_over(
        &self,
        who: &Principal,
        own: bool,
        periods: &[OwnershipPeriod],
        ranges: &[TimeRange],
    ) -> Result<Vec<PrivacyZone>, ServiceError> {
        let single = match who {
            Principal::Recipient(grant) => Some(grant.owner_account_id),
            Principal::Account(account) if own => Some(account.account_id),
            Principal::Account(_) => None,
        };
        if let Some(owner) = single {
            return Ok(self.store.zones_of(&[owner]).await?);
        }
        let mut owners: Vec<AccountId> = periods
            .iter()
            .filter(|p| ranges.iter().any(|r| intersect(p.range(), *r).is_some()))
            .map(|p| p.account_id)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        Ok(self.store.zones_of(&owners).await?)
    }

    /// Records a recipient's refused request against the grant's own
    /// vehicle (accounts' refusals are plain not-founds, not recorded).
    async fn refuse(
        &self,
        who: &Principal,
        reading: Reading,
        why: &'static str,
    ) -> Result<(), ServiceError> {
        let Principal::Recipient(grant) = who else {
            return Ok(());
        };
        let details = serde_json::json!({"reading": reading.as_str(), "refused": why});
        self.audit_grant(grant, who.actor(), AuditAction::GrantRefused, details)
            .await
    }

    /// Everything of `vehicle` that `who` may read (not recorded: callers
    /// that read data go through `authorize`), and what permits it.
    pub(crate) async fn permitted(
        &self,
        who: &Principal,
        vehicle: &StoredVehicle,
        reading: Reading,
    ) -> Result<Permit, ServiceError> {
        let periods = self.store.ownership_of_vehicle(vehicle.id).await?;
        self.permit(who, vehicle, &periods, reading).await
    }

    /// What `who` may read of `vehicle`, whose ownership periods are `periods`.
    async fn permit(
        &self,
        who: &Principal,
        vehicle: &StoredVehicle,
        periods: &[OwnershipPeriod],
        reading: Reading,
    ) -> Result<Permit, ServiceError> {
        let periods_of = |owner: AccountId| {
            periods
                .iter()
                .filter(move |p| p.account_id == owner)
                .map(|p| p.range())
        };
        let who = match who {
            Principal::Recipient(grant) => {
                let refused = if grant.vehicle_id != vehicle.id {
                    Some("other_vehicle")
                } else if grant.revoked_us.is_some() {
                    Some("revoked")
                } else if now_us() >= grant.expires_us {
                    Some("expired")
                } else if !reading.within(grant) {
                    Some("outside_scope")
                } else {
                    None
                };
                if let Some(why) = refused {
                    return Ok(Permit::Refused(why));
                }
                let ranges = periods_of(grant.owner_account_id)
                    .filter_map(|p| intersect(p, grant.window))
                    .collect();
                return Ok(Permit::Grant(ranges));
            }
            Principal::Account(who) => who,
        };
        match who.role {
            _ if matches!(reading, Reading::OwnerOnly | Reading::Changes)
                && who.role != Role::Owner =>
            {
                Ok(Permit::Nothing)
            }
            Role::Owner => Ok(Permit::Owner(periods_of(who.account_id).collect())),
            Role::Support | Role::Admin => {
                let Some(case_no) = who.case.as_deref() else {
                    return Ok(Permit::Nothing);
                };
                let case = self.store.case_by_no(case_no).await?;
                match case {
                    Some(case)
                        if case.vehicle_id == vehicle.id && case.status == CaseStatus::Open =>
                    {
                        Ok(Permit::Case(self.case_coverage(&case).await?, case))
                    }
                    _ => Ok(Permit::Nothing),
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
            ranges,
            ..self.clone()
        })
    }
}
