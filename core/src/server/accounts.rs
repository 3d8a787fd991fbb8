//! Owner accounts: sign-up with a claim code, sign-in (throttled, same reply
//! and timing whether or not the account exists), password change, binding
//! further vehicles, and what an owner sees about themselves.

use super::authz::{AccountPrincipal, Principal};
use super::claims::hash_claim_code;
use super::error::ServiceError;
use super::password;
use super::store::{AccountId, AuditEntry, ClaimRefusal, NewAuditEntry, OwnershipPeriod};
use super::throttle::{account_key, address_key};
use super::Portal;
use crate::domain::account::{Me, Role, VehicleBinding};
use crate::domain::audit::AuditAction;
use crate::domain::export::LocationRedaction;
use crate::domain::time::format_utc;
use crate::domain::Vin;
use crate::server::localtime::format_local;

/// Normalises an account name: an e-mail address (lower-cased) or a phone
/// number (E.164; an 11-digit mainland mobile number gets +86).
pub fn normalize_account(input: &str) -> Result<String, ServiceError> {
    let s = input.trim();
    let invalid = || {
        ServiceError::invalid(
            "invalid_account",
            "account",
            "enter an e-mail address or a phone number",
        )
    };
    if s.contains('@') {
        let lowered = s.to_lowercase();
        let (local, domain) = lowered.rsplit_once('@').ok_or_else(invalid)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && lowered.len() <= 254
            && !lowered.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.contains('@');
        return if ok { Ok(lowered) } else { Err(invalid()) };
    }
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let (plus, rest) = match digits.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, digits.as_str()),
    };
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    if plus && (8..=15).contains(&rest.len()) {
        return Ok(format!("+{rest}"));
    }
    if !plus && rest.len() == 11 && rest.starts_with('1') {
        return Ok(format!("+86{rest}"));
    }
    if let Some(international) = rest
        .strip_prefix("00")
        .filter(|r| (8..=15).contains(&r.len()))
    {
        return Ok(format!("+{international}"));
    }
    Err(invalid())
}

fn parse_vin(input: &str) -> Result<Vin, ServiceError> {
    Vin::parse(input).map_err(|e| ServiceError::invalid("invalid_vin", "vin", e.to_string()))
}

fn claim_refused(refusal: ClaimRefusal) -> ServiceError {
    match refusal {
        // Deliberately one answer for "no such VIN", "wrong code", "used" and "expired".
        ClaimRefusal::NoMatchingCode => ServiceError::invalid(
            "claim_not_valid",
            "claim_code",
            "the VIN and claim code do not match an unused, unexpired code",
        ),
        ClaimRefusal::AccountExists => ServiceError::Conflict {
            code: "account_exists",
            message: "an account with this name exists".into(),
        },
        ClaimRefusal::VehicleOwned => ServiceError::Conflict {
            code: "vehicle_owned",
            message:
                "this vehicle has a current owner; it must be transferred before it can be claimed"
                    .into(),
        },
    }
}

/// Sign-up's one answer for "the account exists" and "the code does not
/// match", so that sign-up cannot be used to learn which accounts exist.
fn sign_up_refused(refusal: ClaimRefusal) -> ServiceError {
    match refusal {
        ClaimRefusal::AccountExists | ClaimRefusal::NoMatchingCode => ServiceError::Invalid {
            code: "sign_up_refused",
            field: None,
            message: "no account was created: the VIN and claim code must match an unused, \
                      unexpired code, and the account must be new (with an account already, \
                      sign in and add the vehicle on the account page)"
                .into(),
        },
        other => claim_refused(other),
    }
}

/// The longest account name kept as typed (an e-mail address is at most 254).
const MAX_ACCOUNT_INPUT: usize = 254;

/// What an unparseable account name is recorded as: at most
/// [`MAX_ACCOUNT_INPUT`] characters of it, trimmed and lower-cased, with its
/// length when it was longer.
fn bounded_stand_in(input: &str) -> String {
    let trimmed = input.trim().to_lowercase();
    let chars = trimmed.chars().count();
    if chars <= MAX_ACCOUNT_INPUT {
        return trimmed;
    }
    let head: String = trimmed.chars().take(MAX_ACCOUNT_INPUT).collect();
    format!("{head}… ({chars} characters)")
}

impl Portal {
    /// Creates an owner account holding the claimed vehicle. Failures count
    /// towards the client address's sign-in throttle.
    pub async fn sign_up(
        &self,
        account: &str,
        password: &str,
        vin: &str,
        claim_code: &str,
        client_address: &str,
    ) -> Result<String, ServiceError> {
        let account = normalize_account(account)?;
        password::check_policy(password)?;
        let vin = parse_vin(vin)?;
        let attempt = self
            .throttle
            .admit(&*self.store, vec![address_key(client_address)])
            .await?;
        let hash = self.passwords.hash(password.to_string()).await?;
        let now = chrono::Utc::now().timestamp_micros();
        let (id, period) = self
            .store
            .sign_up_with_claim(&account, &hash, &vin, &hash_claim_code(claim_code), now)
            .await?
            .map_err(sign_up_refused)?;
        self.throttle.succeeded(&*self.store, attempt).await?;
        self.audit(
            format!("account:{id}"),
            AuditAction::SignUp,
            Some(&period.vin),
            serde_json::json!({"from_us": period.from_us}),
        )
        .await?;
        Ok(account)
    }

    /// Checks the credentials. Unknown account and wrong password answer the
    /// same, after the same work.
    ///
    /// Staff also need their TOTP code (`totp`); a missing, wrong or replayed
    /// code fails the same way as a wrong password.
    pub async fn sign_in(
        &self,
        account: &str,
        password: &str,
        totp: Option<&str>,
        client_address: &str,
    ) -> Result<AccountPrincipal, ServiceError> {
        // Whatever was typed is kept only as a normalised account or a short,
        // bounded stand-in (it reaches the failure table and the audit record).
        let name = normalize_account(account).unwrap_or_else(|_| bounded_stand_in(account));
        let attempt = self
            .throttle
            .admit(
                &*self.store,
                vec![account_key(&name), address_key(client_address)],
            )
            .await?;
        let record = self.store.account_by_name(&name).await?;
        let ok = self
            .passwords
            .verify(
                password.to_string(),
                record.as_ref().map(|r| r.password_hash.clone()),
            )
            .await?;
        let ok = match &record {
            Some(r) if ok && r.role.is_staff() => self.second_factor(r.id, totp).await?,
            _ => ok,
        };
        match record {
            Some(r) if ok => {
                self.throttle.succeeded(&*self.store, attempt).await?;
                self.audit(
                    format!("account:{}", r.id),
                    AuditAction::SignIn,
                    None,
                    serde_json::json!({"address": client_address}),
                )
                .await?;
                Ok(AccountPrincipal {
                    account_id: r.id,
                    account: r.account,
                    role: r.role,
                    session_epoch: r.session_epoch,
                    case: None,
                })
            }
            _ => {
                // The attempt was counted as a failure when it was admitted.
                self.audit(
                    "anonymous".into(),
                    AuditAction::SignInFailed,
                    None,
                    serde_json::json!({"account": name, "address": client_address}),
                )
                .await?;
                Err(ServiceError::InvalidCredentials)
            }
        }
    }

    /// Changes the password; every session of the account ends (the caller
    /// keeps its own by storing the returned epoch).
    pub async fn change_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<i64, ServiceError> {
        let who = who.account()?;
        let record = self
            .store
            .account_by_id(who.account_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        if !self
            .passwords
            .verify(current.to_string(), Some(record.password_hash))
            .await?
        {
            return Err(ServiceError::invalid(
                "wrong_password",
                "current",
                "the current password is wrong",
            ));
        }
        password::check_policy(new)?;
        let hash = self.passwords.hash(new.to_string()).await?;
        let epoch = self.store.set_password(who.account_id, &hash).await?;
        self.audit(
            who.actor(),
            AuditAction::PasswordChanged,
            None,
            serde_json::json!({}),
        )
        .await?;
        Ok(epoch)
    }

    /// Binds another vehicle to a signed-in owner.
    pub async fn bind_vehicle(
        &self,
        who: &Principal,
        vin: &str,
        claim_code: &str,
    ) -> Result<OwnershipPeriod, ServiceError> {
        let who = who.account()?;
        if who.role != Role::Owner {
            return Err(ServiceError::NotFound);
        }
        let vin = parse_vin(vin)?;
        let now = chrono::Utc::now().timestamp_micros();
        let period = self
            .store
            .redeem_claim(who.account_id, &vin, &hash_claim_code(claim_code), now)
            .await?
            .map_err(claim_refused)?;
        self.audit(
            who.actor(),
            AuditAction::VehicleBound,
            Some(&period.vin),
            serde_json::json!({"from_us": period.from_us}),
        )
        .await?;
        Ok(period)
    }

    /// The signed-in account and its vehicles with their ownership periods.
    /// A recipient appears by the grant's recipient name, with no vehicles
    /// of their own and the grant they read under (`shared`).
    pub async fn me(&self, who: &Principal) -> Result<Me, ServiceError> {
        let who = match who {
            Principal::Account(who) => who,
            Principal::Recipient(grant) => {
                return Ok(Me {
                    account: grant.recipient.clone(),
                    role: Role::Owner,
                    vehicles: Vec::new(),
                    show_location: grant.location != LocationRedaction::None,
                    shared: Some(super::sharing::grant_summary(grant, super::now_us())),
                });
            }
        };
        Ok(Me {
            account: who.account.clone(),
            role: who.role,
            vehicles: self.bindings(who.account_id).await?,
            show_location: self.store.show_location(who.account_id).await?,
            shared: None,
        })
    }

    pub async fn bindings(&self, account: AccountId) -> Result<Vec<VehicleBinding>, ServiceError> {
        let mut out = Vec::new();
        for period in self.store.ownership_of_account(account).await? {
            let vin = Vin::parse(&period.vin).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let vehicle = self
                .store
                .vehicle(&vin)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let tz = vehicle.vehicle.timezone.as_str();
            let from = (period.from_us != i64::MIN).then_some(period.from_us);
            out.push(VehicleBinding {
                vin: period.vin,
                model: vehicle.vehicle.model.clone(),
                timezone: vehicle.vehicle.timezone.clone(),
                from: from.map(format_utc),
                to: period.to_us.map(format_utc),
                from_local: from.map(|t| format_local(t, tz)),
                to_local: period.to_us.map(|t| format_local(t, tz)),
            });
        }
        Ok(out)
    }

    /// Creates an owner account holding `vins` from their first record (the
    /// demo owner; the same steps as a claim-code sign-up).
    pub async fn create_owner_with_vehicles(
        &self,
        account: &str,
        password: &str,
        vins: &[Vin],
    ) -> Result<String, ServiceError> {
        let account = normalize_account(account)?;
        password::check_policy(password)?;
        let hash = self.passwords.hash(password.to_string()).await?;
        let id = self
            .store
            .create_account(&account, &hash, Role::Owner)
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                code: "account_exists",
                message: format!("{account} exists already"),
            })?;
        let now = chrono::Utc::now().timestamp_micros();
        for vin in vins {
            let issued = self.issue_claim_code(vin, None).await?;
            self.store
                .redeem_claim(id, vin, &hash_claim_code(&issued.code), now)
                .await?
                .map_err(claim_refused)?;
        }
        Ok(account)
    }

    pub(crate) async fn audit(
        &self,
        actor: String,
        action: AuditAction,
        vin: Option<&str>,
        details: serde_json::Value,
    ) -> Result<AuditEntry, ServiceError> {
        Ok(self
            .store
            .append_audit(&NewAuditEntry {
                actor,
                action,
                vin: vin.map(str::to_string),
                details,
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_account;

    #[test]
    fn normalises_emails_and_phone_numbers() {
        assert_eq!(
            normalize_account(" Owner@Example.COM ").unwrap(),
            "owner@example.com"
        );
        assert_eq!(
            normalize_account("138 0013 8000").unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_account("+86 138-0013-8000").unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_account("0049 30 1234567").unwrap(),
            "+49301234567"
        );
        for bad in [
            "",
            "owner@",
            "@example.com",
            "owner@example",
            "12345",
            "call me",
            "a b@example.com",
        ] {
            assert!(normalize_account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unparseable_account_is_kept_only_in_bounded_form() {
        let huge = "x".repeat(900_000);
        let kept = super::bounded_stand_in(&huge);
        assert!(kept.chars().count() < 300, "{}", kept.len());
        assert!(kept.ends_with("(900000 characters)"), "{kept}");
        assert_eq!(super::bounded_stand_in(" Someone "), "someone");
    }
}
