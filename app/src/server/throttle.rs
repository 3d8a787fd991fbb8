//! Sign-in throttling: failures are counted per account and per client
//! address in the database, so every portal server sees the same counts.

use super::error::ServiceError;
use super::store::Store;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures per account within `window` before sign-in is refused.
    pub per_account: u32,
    /// Failures per client address within `window` (an address may try many accounts).
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

impl ThrottlePolicy {
    /// Refuses with the seconds until the oldest counted failure leaves the window.
    pub async fn check(&self, store: &dyn Store, keys: &[String; 2]) -> Result<(), ServiceError> {
        let now = chrono::Utc::now().timestamp_micros();
        let window_us = self.window.as_micros() as i64;
        for (key, limit) in keys.iter().zip([self.per_account, self.per_address]) {
            let (count, oldest) = store.sign_in_failures(key, now - window_us).await?;
            if count >= limit {
                let frees_at = oldest.unwrap_or(now) + window_us;
                let retry_after_secs = ((frees_at - now).max(0) as u64).div_ceil(1_000_000).max(1);
                return Err(ServiceError::Throttled { retry_after_secs });
            }
        }
        Ok(())
    }
}
