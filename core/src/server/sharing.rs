//! Sharing: an owner grants a third party of their choice (an insurer, a
//! repair shop, a lawyer, family) a scope of one vehicle's data, and
//! revokes it at will. Recipients read through the same gate as everyone
//! (`authz`, `Principal::Recipient`); every read, every refusal, every
//! grant made and ended is in the audit chain, on the owner's access page.

use super::authz::{signed_in_account, Principal, Reading};
use super::cases::{bound, required_text};
use super::error::ServiceError;
use super::ingest::{hash_token, new_token};
use super::localtime::{day_start, instant, parse_in_zone, zone};
use super::store::{AccountId, GrantRecord, NewGrant, StoredVehicle, TimeRange};
use super::{now_us, query, Portal};
use crate::domain::audit::AuditAction;
use crate::domain::export::LocationRedaction;
use crate::domain::sharing::{
    DataClass, GrantStatus, GrantSummary, IssuedGrant, NewGrantRequest, RecipientKind,
};

/// Grant tokens start with this (ingest tokens with `pit_`).
pub const GRANT_TOKEN_PREFIX: &str = "vdg_";
/// The longest a grant may last: a year (a date a year ahead, to its end).
pub const MAX_GRANT_DAYS: i64 = 366;
const DAY_US: i64 = 86_400_000_000;

/// The link a recipient opens in a browser: the token signs them in.
pub fn grant_link(token: &str) -> String {
    format!("/shared/{token}")
}

pub(crate) fn grant_summary(g: &GrantRecord, now: i64) -> GrantSummary {
    let zone = g.timezone.as_str();
    GrantSummary {
        id: g.id,
        vin: g.vin.clone(),
        recipient: g.recipient.clone(),
        kind: g.kind,
        purpose: g.purpose.clone(),
        classes: g.classes.clone(),
        location: g.location,
        from: bound(g.window.from_us),
        to: bound(g.window.to_us),
        continuous: g.continuous,
        created: instant(g.created_us, zone, None),
        expires: instant(g.expires_us, zone, None),
        status: if g.revoked_us.is_some() {
            GrantStatus::Revoked
        } else if now >= g.expires_us {
            GrantStatus::Expired
        } else {
            GrantStatus::Active
        },
        revoked: g.revoked_us.map(|t| instant(t, zone, None)),
        revoked_because: g.revoked_because,
    }
}

/// The expiry as typed: a date (to the end of that day in the vehicle's
/// zone), a vehicle-local time, or RFC 3339.
fn expiry(value: &str, timezone: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return day_start(date.succ_opt()?, zone(timezone));
    }
    parse_in_zone(value, timezone)
}

/// A grant request of `owner` on `vehicle`, checked against the vehicle's
/// zone and `now`: the grant to store, with its token's hash.
fn checked(
    request: &NewGrantRequest,
    vehicle: &StoredVehicle,
    owner: AccountId,
    token_sha256: String,
    now: i64,
) -> Result<NewGrant, ServiceError> {
    let timezone = vehicle.vehicle.timezone.as_str();
    let recipient = required_text("recipient", &request.recipient)?;
    let kind = RecipientKind::parse(request.kind.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "invalid_kind",
            "kind",
            "kind is one of insurer, repairer, lawyer, family, other",
        )
    })?;
    let purpose = required_text("purpose", &request.purpose)?;
    let mut classes = Vec::new();
    for name in &request.classes {
        let class = DataClass::parse(name.trim()).ok_or_else(|| {
            ServiceError::invalid(
                "invalid_class",
                "classes",
                format!("`{name}` is not a data class: telemetry, events or crash"),
            )
        })?;
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
    if classes.is_empty() {
        return Err(ServiceError::invalid(
            "missing_field",
            "classes",
            "choose at least one data class: telemetry, events or crash",
        ));
    }
    let location = query::one(
        "location",
        request.location.as_deref().filter(|l| !l.is_empty()),
        LocationRedaction::parse,
        "none, coarse or full",
    )?
    .unwrap_or(LocationRedaction::None);
    if location != LocationRedaction::None && !classes.contains(&DataClass::Telemetry) {
        return Err(ServiceError::invalid(
            "location_without_telemetry",
            "location",
            "positions are part of telemetry: grant telemetry to share a location",
        ));
    }
    let from = request.from.as_deref().filter(|s| !s.is_empty());
    let to = request.to.as_deref().filter(|s| !s.is_empty());
    let window = if request.continuous {
        if from.is_some() || to.is_some() {
            return Err(ServiceError::invalid(
                "continuous_with_window",
                "from",
                "a continuous grant covers everything from now on: give no from or to",
            ));
        }
        TimeRange {
            from_us: now,
            to_us: i64::MAX,
        }
    } else {
        let (Some(_), Some(_)) = (from, to) else {
            let missing = if from.is_none() { "from" } else { "to" };
            return Err(ServiceError::invalid(
                "missing_field",
                missing,
                "a fixed window needs both from and to (or choose continuous)",
            ));
        };
        query::range_in_zone(from, to, timezone)?
    };
    let expires_us = expiry(&request.expires, timezone).ok_or_else(|| {
        ServiceError::invalid(
            "invalid_expiry",
            "expires",
            "expires is a date (2027-03-01) or a time (2027-03-01T18:00)",
        )
    })?;
    if expires_us <= now {
        return Err(ServiceError::invalid(
            "expiry_past",
            "expires",
            "the expiry must be in the future",
        ));
    }
    if expires_us - now > MAX_GRANT_DAYS * DAY_US {
        return Err(ServiceError::invalid(
            "expiry_too_far",
            "expires",
            "a grant lasts at most one year",
        ));
    }
    Ok(NewGrant {
        vehicle_id: vehicle.id,
        owner_account_id: owner,
        recipient,
        kind,
        purpose,
        classes,
        location,
        window,
        continuous: request.continuous,
        expires_us,
        token_sha256,
        created_us: now,
    })
}

/// Names the grant in an audit record's details: the owner's access page
/// shows every read, export and refusal with the grant behind it.
pub(crate) fn name_grant(grant: &GrantRecord, details: &mut serde_json::Value) {
    details["grant_id"] = grant.id.into();
    details["recipient"] = grant.recipient.clone().into();
    details["recipient_kind"] = grant.kind.as_str().into();
    details["purpose"] = grant.purpose.clone().into();
}

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/grants`: the owner's grants on the
    /// vehicle, newest first (staff and recipients: not found).
    pub async fn grants(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<Vec<GrantSummary>, ServiceError> {
        let access = self
            .authorize(who, vin, Reading::OwnerOnly, TimeRange::ALL)
            .await?;
        let owner = signed_in_account(who)?;
        let now = now_us();
        Ok(self
            .store
            .grants_of(access.vehicle.id, owner.account_id)
            .await?
            .iter()
            .map(|g| grant_summary(g, now))
            .collect())
    }

    /// `POST /api/v1/vehicles/{vin}/grants`: a new grant; its token is in
    /// the reply and nowhere else.
    pub async fn create_grant(
        &self,
        who: Option<&Principal>,
        vin: &str,
        request: &NewGrantRequest,
    ) -> Result<IssuedGrant, ServiceError> {
        let access = self
            .authorize(who, vin, Reading::OwnerOnly, TimeRange::ALL)
            .await?;
        let owner = signed_in_account(who)?;
        let now = now_us();
        let token = new_token(GRANT_TOKEN_PREFIX);
        let new = checked(
            request,
            &access.vehicle,
            owner.account_id,
            hash_token(&token),
            now,
        )?;
        let grant = self.store.create_grant(&new).await?;
        let summary = grant_summary(&grant, now);
        let details = serde_json::json!({
            "classes": grant.classes,
            "location": grant.location,
            "from": summary.from,
            "to": summary.to,
            "expires": summary.expires.t,
        });
        self.audit_grant(&grant, owner.actor(), AuditAction::GrantCreated, details)
            .await?;
        Ok(IssuedGrant {
            grant: summary,
            link: grant_link(&token),
            token,
        })
    }

    /// `DELETE /api/v1/vehicles/{vin}/grants/{id}`: ends a grant at once
    /// (the recipient's next request is refused).
    pub async fn revoke_grant(
        &self,
        who: Option<&Principal>,
        vin: &str,
        id: i64,
    ) -> Result<(), ServiceError> {
        let access = self
            .authorize(who, vin, Reading::OwnerOnly, TimeRange::ALL)
            .await?;
        let owner = signed_in_account(who)?;
        let grant = self
            .store
            .grant(id)
            .await?
            .filter(|g| g.vehicle_id == access.vehicle.id && g.owner_account_id == owner.account_id)
            .ok_or(ServiceError::NotFound)?;
        if !self
            .store
            .revoke_grant(grant.id, owner.account_id, now_us())
            .await?
        {
            return Err(ServiceError::Conflict {
                code: "grant_ended",
                message: "this grant has already ended".into(),
            });
        }
        let details = serde_json::json!({});
        self.audit_grant(&grant, owner.actor(), AuditAction::GrantRevoked, details)
            .await
    }

    /// The recipient a grant token stands for (`Authorization: Bearer`, or
    /// the link), whatever the grant's state: the gate refuses a revoked
    /// or expired grant and records it. `None` for a token of no grant.
    pub async fn recipient(&self, token: &str) -> Result<Option<Principal>, ServiceError> {
        Ok(self
            .store
            .grant_by_token(&hash_token(token))
            .await?
            .map(Principal::Recipient))
    }

    /// The recipient of grant `id` (a browser session opened by the link).
    pub async fn recipient_by_id(&self, id: i64) -> Result<Option<Principal>, ServiceError> {
        Ok(self.store.grant(id).await?.map(Principal::Recipient))
    }

    /// Records something about a grant on its vehicle, for its owner:
    /// done by `actor` (the owner, or the recipient as `grant:ID`).
    pub(crate) async fn audit_grant(
        &self,
        grant: &GrantRecord,
        actor: String,
        action: AuditAction,
        mut details: serde_json::Value,
    ) -> Result<(), ServiceError> {
        name_grant(grant, &mut details);
        self.audit(actor, action, Some(&grant.vin), details)
            .await
            .map(drop)
    }
}
