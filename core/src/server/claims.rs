//! Claim codes (a vehicle's next owner proves it with VIN + code) and
//! ownership transfers. Codes are random, shown once, stored only hashed.

use super::error::ServiceError;
use super::Portal;
use crate::domain::audit::AuditAction;
use crate::domain::Vin;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Crockford base32: no I, L, O or U, so codes read aloud unambiguously.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CLAIM_CODE_DAYS: i64 = 30;

/// A new code: 12 characters (60 random bits) in groups of four.
pub fn new_claim_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a code as typed: case, dashes and spaces ignored,
/// O read as 0 and I/L as 1.
pub fn hash_claim_code(input: &str) -> String {
    let normalized: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// An issued code, to hand to the new owner.
#[derive(Debug, Clone)]
pub struct IssuedClaim {
    pub code: String,
    pub since_us: i64,
    pub expires_us: i64,
}

impl Portal {
    /// Issues a one-time code for the VIN's next owner. Their period starts at
    /// `since` (default: the end of the last period, or the beginning of the data).
    pub async fn issue_claim_code(
        &self,
        vin: &Vin,
        since_us: Option<i64>,
    ) -> Result<IssuedClaim, ServiceError> {
        let vehicle = self
            .store
            .vehicle(vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let periods = self.store.ownership_of_vehicle(vehicle.id).await?;
        if periods.iter().any(|p| p.to_us.is_none()) {
            return Err(ServiceError::Conflict {
                code: "vehicle_owned",
                message: format!(
                    "{vin} has a current owner; run `portal admin transfer {vin} --at DATE` first"
                ),
            });
        }
        let last_end = periods.iter().filter_map(|p| p.to_us).max();
        let since_us = match (since_us, last_end) {
            (Some(s), Some(end)) if s < end => {
                return Err(ServiceError::invalid(
                    "since_overlaps",
                    "since",
                    format!(
                        "the previous owner's period ends at {}; the next one cannot start earlier",
                        crate::domain::time::format_utc(end)
                    ),
                ))
            }
            (Some(s), _) => s,
            (None, Some(end)) => end,
            (None, None) => i64::MIN,
        };
        let now = chrono::Utc::now().timestamp_micros();
        let expires_us = now + CLAIM_CODE_DAYS * 86_400_000_000;
        let code = new_claim_code();
        self.store
            .create_claim_code(vehicle.id, &hash_claim_code(&code), since_us, expires_us)
            .await?;
        self.audit(
            "admin".into(),
            AuditAction::ClaimCodeIssued,
            Some(vin.as_str()),
            serde_json::json!({"since_us": since_us, "expires_us": expires_us}),
        )
        .await?;
        Ok(IssuedClaim {
            code,
            since_us,
            expires_us,
        })
    }

    /// Ends the current ownership period at `at_us`.
    pub async fn transfer(&self, vin: &Vin, at_us: i64) -> Result<(), ServiceError> {
        let vehicle = self
            .store
            .vehicle(vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let open = self
            .store
            .ownership_of_vehicle(vehicle.id)
            .await?
            .into_iter()
            .find(|p| p.to_us.is_none());
        match open {
            None => Err(ServiceError::Conflict {
                code: "no_current_owner",
                message: format!("{vin} has no current owner"),
            }),
            Some(p) if at_us <= p.from_us => Err(ServiceError::invalid(
                "transfer_before_start",
                "at",
                format!(
                    "the current period starts at {}",
                    crate::domain::time::format_utc(p.from_us)
                ),
            )),
            Some(_) => {
                self.store.end_ownership(vehicle.id, at_us).await?;
                self.audit(
                    "admin".into(),
                    AuditAction::Transfer,
                    Some(vin.as_str()),
                    serde_json::json!({"at_us": at_us}),
                )
                .await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_typed_forgivingly() {
        let code = new_claim_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert_eq!(
            hash_claim_code(&code),
            hash_claim_code(&code.to_lowercase().replace('-', " "))
        );
        assert_eq!(hash_claim_code("0I1L"), hash_claim_code("oi11"));
        assert_ne!(
            hash_claim_code("AAAA-BBBB-CCCC"),
            hash_claim_code("AAAA-BBBB-CCCD")
        );
    }
}
