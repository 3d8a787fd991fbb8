//! Who is calling, as axum extractors: handlers name `SignedIn` (401
//! without a session) or `MaybeSignedIn` (the gate decides, so an unseen
//! VIN stays a 404 for everyone) and never touch the session themselves.

use super::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use portal_core::server::authz::Principal;
use portal_core::server::error::ServiceError;
use portal_core::server::Portal;
use tower_sessions::Session;

/// The signed-in principal, if any.
pub struct MaybeSignedIn(pub Option<Principal>);

/// The signed-in principal; a request without one is refused with 401.
pub struct SignedIn(pub Principal);

impl<S> FromRequestParts<S> for MaybeSignedIn
where
    Portal: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| ApiError(ServiceError::Internal(why.to_string())))?;
        let portal = Portal::from_ref(state);
        Ok(MaybeSignedIn(
            app::session::principal(&portal, &session).await?,
        ))
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    Portal: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let MaybeSignedIn(who) = MaybeSignedIn::from_request_parts(parts, state).await?;
        who.map(SignedIn)
            .ok_or(ApiError(ServiceError::Unauthenticated))
    }
}
