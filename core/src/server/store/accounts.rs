//! Accounts, passwords, the sign-in throttle and the staff second factor.

use super::{AccountId, StoreError};
use crate::domain::account::Role;
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub account: String,
    pub password_hash: String,
    pub role: Role,
    pub session_epoch: i64,
}

/// What the throttle decided about one sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Counted as a failure until forgiven.
    Counted,
    /// A key is at its limit; its oldest counted failure was at `oldest_us`.
    Refused { oldest_us: i64 },
}

/// Accounts, passwords, the sign-in throttle and the staff second factor.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>, StoreError>;

    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError>;

    /// Creates an account; `None` when the name is taken.
    async fn create_account(
        &self,
        account: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<Option<AccountId>, StoreError>;

    /// Stores a new password hash and ends every session of the account
    /// (returns the new session epoch, for the session that stays).
    async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
    ) -> Result<i64, StoreError>;

    /// Decides and counts one sign-in attempt in one transaction, serialised
    /// per key across every portal server: refused when a key already holds
    /// its limit of failures since `since_us`; otherwise the attempt is
    /// recorded as a failure of every key at `at_us` (so attempts racing
    /// each other all count) until [`AccountStore::forgive_sign_in_attempt`] takes
    /// it back.
    async fn take_sign_in_attempt(
        &self,
        limits: &[(String, u32)],
        since_us: i64,
        at_us: i64,
    ) -> Result<AttemptVerdict, StoreError>;

    /// Removes the one failure `take_sign_in_attempt` recorded for `key` at `at_us`.
    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError>;

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Whether the account chose to see locations (routes) on its pages.
    async fn show_location(&self, account: AccountId) -> Result<bool, StoreError>;

    async fn set_show_location(&self, account: AccountId, show: bool) -> Result<(), StoreError>;

    /// Staff second factor: the account's TOTP secret (base32) is set.
    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError>;

    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError>;

    /// Records that `step` was used; false when it (or a later one) already was.
    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError>;
}
