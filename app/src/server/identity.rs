//! Who is signed in, kept in the tower-sessions session.

use super::authz::Principal;
use super::error::ServiceError;
use super::Portal;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";
/// Absolute session lifetime by default, whatever the activity.
pub const ABSOLUTE_LIFETIME_SECS: u64 = 12 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionAuth {
    account_id: i64,
    epoch: i64,
    signed_in_us: i64,
}

fn session_error(e: tower_sessions::session::Error) -> ServiceError {
    ServiceError::Internal(format!("session store: {e}"))
}

impl Portal {
    /// The signed-in principal, or `None`. A session past its absolute
    /// lifetime, or from before a password change, is ended here.
    pub async fn principal(&self, session: &Session) -> Result<Option<Principal>, ServiceError> {
        let Some(auth) = session
            .get::<SessionAuth>(AUTH_KEY)
            .await
            .map_err(session_error)?
        else {
            return Ok(None);
        };
        let age_us = chrono::Utc::now().timestamp_micros() - auth.signed_in_us;
        let account = self.store.account_by_id(auth.account_id).await?;
        match account {
            Some(a)
                if a.session_epoch == auth.epoch
                    && age_us < self.session_lifetime.as_micros() as i64 =>
            {
                Ok(Some(Principal {
                    account_id: a.id,
                    account: a.account,
                    role: a.role,
                    session_epoch: a.session_epoch,
                    case: None,
                }))
            }
            _ => {
                session.flush().await.map_err(session_error)?;
                Ok(None)
            }
        }
    }

    /// Starts a signed-in session under a fresh id (no session fixation).
    pub async fn start_session(
        &self,
        session: &Session,
        who: &Principal,
    ) -> Result<(), ServiceError> {
        session.cycle_id().await.map_err(session_error)?;
        let auth = SessionAuth {
            account_id: who.account_id,
            epoch: who.session_epoch,
            signed_in_us: chrono::Utc::now().timestamp_micros(),
        };
        session.insert(AUTH_KEY, auth).await.map_err(session_error)
    }

    /// Keeps this session valid after a password change ended all the others.
    pub async fn renew_session_epoch(
        &self,
        session: &Session,
        epoch: i64,
    ) -> Result<(), ServiceError> {
        if let Some(mut auth) = session
            .get::<SessionAuth>(AUTH_KEY)
            .await
            .map_err(session_error)?
        {
            auth.epoch = epoch;
            session
                .insert(AUTH_KEY, auth)
                .await
                .map_err(session_error)?;
        }
        Ok(())
    }

    /// Deletes the session server-side; its cookie is worthless afterwards.
    pub async fn end_session(&self, session: &Session) -> Result<(), ServiceError> {
        session.flush().await.map_err(session_error)
    }
}
