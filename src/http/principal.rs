//! Who is calling, as axum extractors: handlers name `SignedIn` (401
//! without a session) or `MaybeSignedIn` (the gate decides, so an unseen
//! VIN stays a 404 for everyone) and never touch the session themselves.
//! A recipient calls with their grant's token (`Authorization: Bearer
//! vdg_…`, no cookie, so no CSRF vector) or a session opened by its link.

use super::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use portal_core::server::authz::Principal;
use portal_core::server::error::ServiceError;
use portal_core::server::sharing::GRANT_TOKEN_PREFIX;
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
        let portal = Portal::from_ref(state);
        if let Some(token) = bearer(&parts.headers).filter(|t| t.starts_with(GRANT_TOKEN_PREFIX)) {
            // A token of no grant is a wrong credential; a revoked or
            // expired grant's is refused by the gate (404, recorded).
            return match portal.recipient(token).await? {
                Some(recipient) => Ok(MaybeSignedIn(Some(recipient))),
                None => Err(ApiError(ServiceError::UnknownToken)),
            };
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| ApiError(ServiceError::Internal(why.to_string())))?;
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

/// The token of an `Authorization: Bearer …` header.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
