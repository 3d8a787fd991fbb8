//! The one place that reads and writes who is signed in in the
//! tower-sessions session, for server functions and REST handlers alike
//! (the REST extractors in the binary call `principal`). Services never see
//! a session: they take a `Principal`, or a `SignedInAs` identity.

use portal_core::domain::sharing::IssuedGrant;
use portal_core::server::authz::{AccountPrincipal, Principal};
use portal_core::server::error::ServiceError;
use portal_core::server::identity::{SharedAs, SignedInAs};
use portal_core::server::Portal;
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";
/// A session opened by a grant's link: a recipient, never an account.
const SHARED_KEY: &str = "shared";

fn session_error(e: tower_sessions::session::Error) -> ServiceError {
    ServiceError::Internal(format!("session store: {e}"))
}

/// The signed-in principal, or `None`. A session whose identity no longer
/// holds (past its lifetime, from before a password change, a grant that
/// is gone) is ended here.
pub async fn principal(
    portal: &Portal,
    session: &Session,
) -> Result<Option<Principal>, ServiceError> {
    let who = if let Some(identity) = session
        .get::<SignedInAs>(AUTH_KEY)
        .await
        .map_err(session_error)?
    {
        portal.principal_of(&identity).await?
    } else if let Some(shared) = session
        .get::<SharedAs>(SHARED_KEY)
        .await
        .map_err(session_error)?
    {
        portal.recipient_of(&shared).await?
    } else {
        return Ok(None);
    };
    if who.is_none() {
        end(session).await?;
    }
    Ok(who)
}

/// Starts a signed-in session under a fresh id (no session fixation).
pub async fn start(session: &Session, who: &AccountPrincipal) -> Result<(), ServiceError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .remove_value(SHARED_KEY)
        .await
        .map_err(session_error)?;
    session
        .insert(AUTH_KEY, SignedInAs::now(who))
        .await
        .map_err(session_error)
}

/// Opens a recipient's session under a fresh id: the grant's link was
/// followed. Any account signed in on this browser is signed out first.
pub async fn start_shared(session: &Session, grant_id: i64) -> Result<(), ServiceError> {
    session.clear().await;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(
            SHARED_KEY,
            SharedAs {
                grant_id,
                opened_us: chrono::Utc::now().timestamp_micros(),
            },
        )
        .await
        .map_err(session_error)
}

/// Where a new grant's token waits for the page that shows it once.
const ISSUED_GRANT_KEY: &str = "issued_grant";

/// Keeps a grant just made for the owner's next page (and only that).
pub async fn keep_issued_grant(
    session: &Session,
    issued: &IssuedGrant,
) -> Result<(), ServiceError> {
    session
        .insert(ISSUED_GRANT_KEY, issued)
        .await
        .map_err(session_error)
}

/// The grant kept by `keep_issued_grant`, removed as it is read.
pub async fn take_issued_grant(session: &Session) -> Result<Option<IssuedGrant>, ServiceError> {
    session
        .remove::<IssuedGrant>(ISSUED_GRANT_KEY)
        .await
        .map_err(session_error)
}

/// Keeps this session valid after a password change ended all the others.
pub async fn renew_epoch(session: &Session, epoch: i64) -> Result<(), ServiceError> {
    if let Some(mut identity) = session
        .get::<SignedInAs>(AUTH_KEY)
        .await
        .map_err(session_error)?
    {
        identity.epoch = epoch;
        session
            .insert(AUTH_KEY, identity)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// Deletes the session server-side; its cookie is worthless afterwards.
pub async fn end(session: &Session) -> Result<(), ServiceError> {
    session.flush().await.map_err(session_error)
}
