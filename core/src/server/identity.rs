//! The account identity a signed-in session carries, and the principal it
//! stands for. Services take the identity; the web layer keeps it in the
//! session (`app::session`), so nothing here knows how it is carried.

use super::authz::{AccountPrincipal, Principal};
use super::error::ServiceError;
use super::{now_us, Portal};
use serde::{Deserialize, Serialize};

/// Absolute session lifetime by default, whatever the activity.
pub const ABSOLUTE_LIFETIME_SECS: u64 = 12 * 3600;

/// Who signed in, when, and under which session epoch of the account (a
/// password change moves the epoch on, ending every other session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInAs {
    pub account_id: i64,
    pub epoch: i64,
    pub signed_in_us: i64,
}

/// A browser session opened by a grant's link: the recipient reads under
/// grant `grant_id`, re-read at every request (a revocation holds at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedAs {
    pub grant_id: i64,
    pub opened_us: i64,
}

impl SignedInAs {
    /// The identity of a principal signing in now.
    pub fn now(who: &AccountPrincipal) -> SignedInAs {
        SignedInAs {
            account_id: who.account_id,
            epoch: who.session_epoch,
            signed_in_us: now_us(),
        }
    }
}

impl Portal {
    /// The principal `identity` stands for, or `None` when it no longer
    /// holds: past the absolute lifetime, from before a password change, or
    /// of an account that is gone.
    pub async fn principal_of(
        &self,
        identity: &SignedInAs,
    ) -> Result<Option<Principal>, ServiceError> {
        let age_us = now_us() - identity.signed_in_us;
        let account = self.store.account_by_id(identity.account_id).await?;
        Ok(account
            .filter(|a| {
                a.session_epoch == identity.epoch
                    && age_us < self.session_lifetime.as_micros() as i64
            })
            .map(|a| {
                Principal::Account(AccountPrincipal {
                    account_id: a.id,
                    account: a.account,
                    role: a.role,
                    session_epoch: a.session_epoch,
                    case: None,
                })
            }))
    }

    /// The recipient a shared-link session stands for, or `None` past the
    /// absolute lifetime or for a grant that is gone. A revoked or expired
    /// grant still stands for its recipient: the gate refuses it, recorded.
    pub async fn recipient_of(
        &self,
        identity: &SharedAs,
    ) -> Result<Option<Principal>, ServiceError> {
        if now_us() - identity.opened_us >= self.session_lifetime.as_micros() as i64 {
            return Ok(None);
        }
        self.recipient_by_id(identity.grant_id).await
    }
}
