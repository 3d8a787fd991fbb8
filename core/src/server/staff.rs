//! Staff accounts and lookups. Staff are created by an operator (`portal
//! admin add-staff`) or an admin, never by sign-up; lookups return metadata
//! only (cases, vehicles, ownership periods), never log data.

use super::accounts::normalize_account;
use super::authz::Principal;
use super::cases::{require_staff, summary};
use super::error::ServiceError;
use super::{totp, Portal};
use crate::domain::account::Role;
use crate::domain::audit::AuditAction;
use crate::domain::staff::{AccountMeta, Lookup, NewStaff, PeriodMeta, VehicleMeta};
use crate::domain::time::format_utc;
use crate::domain::Vin;
use serde_json::json;

/// A first password nobody chose: 20 characters from an unambiguous alphabet.
fn initial_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Portal {
    /// Creates a staff account with a first password and a TOTP secret.
    /// `by` is the admin doing it, or `None` for the operator's command line.
    pub async fn add_staff(
        &self,
        by: Option<&Principal>,
        account: &str,
        role: &str,
    ) -> Result<NewStaff, ServiceError> {
        let actor = match by {
            None => "operator".to_string(),
            Some(p) => match p.account()? {
                admin if admin.role == Role::Admin => admin.actor(),
                _ => return Err(ServiceError::Forbidden),
            },
        };
        let role = Role::parse(role.trim())
            .filter(|r| r.is_staff())
            .ok_or_else(|| ServiceError::invalid("invalid_role", "role", "support or admin"))?;
        let account = normalize_account(account)?;
        let first = initial_password();
        let hash = self.passwords.hash(first.clone()).await?;
        let id = self
            .store
            .create_account(&account, &hash, role)
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                code: "account_exists",
                message: "an account with this name exists".into(),
            })?;
        let secret = totp::new_secret();
        self.store.set_totp_secret(id, &secret).await?;
        self.audit(
            actor,
            AuditAction::RoleChange,
            None,
            json!({"account": account, "role": role.as_str(), "change": "staff account created"}),
        )
        .await?;
        Ok(NewStaff {
            otpauth_url: totp::provisioning_url(&secret, &account)?,
            account,
            role: role.as_str().into(),
            initial_password: first,
            totp_secret: secret,
        })
    }

    /// Checks a staff member's one-time code: it must match now (±1 step)
    /// and its step must not have been used before.
    pub(crate) async fn second_factor(
        &self,
        account: super::store::AccountId,
        code: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let (Some(code), Some(secret)) = (code, self.store.totp_secret(account).await?) else {
            return Ok(false);
        };
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        match totp::matching_step(&secret, code, now)? {
            Some(step) => Ok(self.store.use_totp_step(account, step as i64).await?),
            None => Ok(false),
        }
    }

    /// `GET /api/v1/staff/lookup?q=`: a case number, a VIN or an account.
    /// The API reference for support tooling (staff only).
    pub fn api_reference(
        &self,
        who: Option<&Principal>,
    ) -> Result<Vec<crate::domain::staff::OperationLine>, ServiceError> {
        require_staff(who)?;
        Ok(super::openapi::operation_lines())
    }

    pub async fn lookup(&self, who: Option<&Principal>, q: &str) -> Result<Lookup, ServiceError> {
        let who = require_staff(who)?;
        let q = q.trim();
        if q.is_empty() {
            return Err(ServiceError::invalid(
                "invalid_query",
                "q",
                "enter a case number, a VIN or an account",
            ));
        }
        // Lookups are audited with what was asked: bounded like an account name.
        if q.chars().count() > 254 {
            return Err(ServiceError::invalid(
                "too_long",
                "q",
                "a case number, VIN or account is at most 254 characters",
            ));
        }
        let mut cases = Vec::new();
        let mut accounts = Vec::new();
        let mut vehicles = Vec::new();
        if let Some(case) = self.store.case_by_no(&q.to_uppercase()).await? {
            vehicles.push(case.vin.clone());
            cases.push(case);
        } else if let Ok(vin) = Vin::parse(&q.to_uppercase()) {
            if let Some(v) = self.store.vehicle(&vin).await? {
                vehicles.push(v.vehicle.vin.to_string());
                cases = self.store.cases(Some(v.id), None, 200).await?;
            }
        } else if let Some(account) = match normalize_account(q) {
            Ok(name) => self.store.account_by_name(&name).await?,
            Err(_) => None,
        } {
            let periods = self.store.ownership_of_account(account.id).await?;
            vehicles.extend(periods.iter().map(|p| p.vin.clone()));
            cases = self.store.cases_of_owner(account.id).await?;
            accounts.push(AccountMeta {
                account: account.account,
                role: account.role.as_str().into(),
                vins: periods.into_iter().map(|p| p.vin).collect(),
            });
        }
        vehicles.sort_unstable();
        vehicles.dedup();
        let mut lookup = Lookup {
            accounts,
            ..Lookup::default()
        };
        for vehicle in vehicles {
            lookup.vehicles.push(self.vehicle_meta(&vehicle).await?);
        }
        for case in &cases {
            let zone = lookup
                .vehicles
                .iter()
                .find(|v| v.vin == case.vin)
                .map_or("UTC", |v| v.timezone.as_str());
            lookup.cases.push(summary(case, zone));
        }
        self.audit(
            format!("account:{}", who.account_id),
            AuditAction::StaffLookup,
            None,
            json!({"q": q, "role": who.role.as_str(), "cases": lookup.cases.len(), "vehicles": lookup.vehicles.len()}),
        )
        .await?;
        Ok(lookup)
    }

    async fn vehicle_meta(&self, vin: &str) -> Result<VehicleMeta, ServiceError> {
        let vin = Vin::parse(vin).map_err(|_| ServiceError::NotFound)?;
        let stored = self
            .store
            .vehicle(&vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let periods = self.store.ownership_of_vehicle(stored.id).await?;
        let mut metas = Vec::with_capacity(periods.len());
        for p in periods {
            let account = self.store.account_by_id(p.account_id).await?;
            metas.push(PeriodMeta {
                account: account.map(|a| a.account).unwrap_or_default(),
                // Open at the start: "from the first record" (no time to show).
                from: super::cases::bound(p.from_us),
                to: p.to_us.map(format_utc),
            });
        }
        Ok(VehicleMeta {
            vin: stored.vehicle.vin.to_string(),
            model: stored.vehicle.model,
            timezone: stored.vehicle.timezone,
            periods: metas,
        })
    }
}
