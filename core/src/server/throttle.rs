//! Sign-in throttling: failures are counted per account and per client
//! address in the database, so every portal server sees the same counts.
//!
//! An attempt is counted *before* the password is checked, in the same
//! transaction that decides whether it may proceed (see
//! `Store::take_sign_in_attempt`); a successful attempt is then forgiven.
//! So parallel attempts cannot all slip under the limit.

use super::error::ServiceError;
use super::store::{AttemptVerdict, Store};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures per account within `window` before sign-in is refused.
    pub per_account: u32,
    /// Failures per client address within `window` (an address may try many
    /// accounts); failed sign-ups count here too.
    pub per_address: u32,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Throttling keys of the account tried and of the client address.
pub fn account_key(account: &str) -> String {
    format!("account:{account}")
}

pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// An attempt that was let through, counted as a failure until it succeeds.
#[must_use = "a successful attempt must be forgiven"]
pub struct Attempt {
    keys: Vec<String>,
    at_us: i64,
}

impl ThrottlePolicy {
    fn limit_of(&self, key: &str) -> u32 {
        if key.starts_with("account:") {
            self.per_account
        } else {
            self.per_address
        }
    }

    /// Lets one attempt through under `keys`' limits and counts it, or
    /// refuses with the seconds until the oldest counted failure leaves
    /// the window.
    pub async fn admit(
        &self,
        store: &dyn Store,
        keys: Vec<String>,
    ) -> Result<Attempt, ServiceError> {
        let now = chrono::Utc::now().timestamp_micros();
        let window_us = self.window.as_micros() as i64;
        let limits: Vec<(String, u32)> =
            keys.iter().map(|k| (k.clone(), self.limit_of(k))).collect();
        match store
            .take_sign_in_attempt(&limits, now - window_us, now)
            .await?
        {
            AttemptVerdict::Counted => Ok(Attempt { keys, at_us: now }),
            AttemptVerdict::Refused { oldest_us } => {
                let frees_at = oldest_us + window_us;
                let retry_after_secs = ((frees_at - now).max(0) as u64).div_ceil(1_000_000).max(1);
                Err(ServiceError::Throttled { retry_after_secs })
            }
        }
    }

    /// The attempt succeeded: it no longer counts, and the account's earlier
    /// failures are forgotten (an address's are not: it may be trying many
    /// accounts).
    pub async fn succeeded(&self, store: &dyn Store, attempt: Attempt) -> Result<(), ServiceError> {
        for key in &attempt.keys {
            if key.starts_with("account:") {
                store.clear_sign_in_failures(key).await?;
            } else {
                store.forgive_sign_in_attempt(key, attempt.at_us).await?;
            }
        }
        Ok(())
    }
}
