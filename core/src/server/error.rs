//! The service layer's one error type. It is mapped to HTTP once (in the
//! `portal` crate) and to server-function errors by its `code`; causes of
//! internal errors are logged there, never sent.

use super::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("sign in first")]
    Unauthenticated,
    /// One reply for an unknown account and a wrong password.
    #[error("the account or the password is wrong")]
    InvalidCredentials,
    /// A bearer token of no grant (a revoked or expired grant's token is
    /// refused by the gate instead, as not found).
    #[error("this token belongs to no grant; ask the vehicle's owner for a new one")]
    UnknownToken,
    /// Also what a caller gets for anything it may not see.
    #[error("not found")]
    NotFound,
    /// Signed in, but the role may not use this (owners on staff pages,
    /// support on staff management).
    #[error("your account may not do this")]
    Forbidden,
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            code,
            field: Some(field),
            message: message.into(),
        }
    }

    /// Stable snake_case code, shown to API clients and translated by the UI.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::InvalidCredentials => "invalid_credentials",
            ServiceError::UnknownToken => "unknown_token",
            ServiceError::NotFound => "not_found",
            ServiceError::Forbidden => "forbidden",
            ServiceError::Invalid { code, .. } | ServiceError::Conflict { code, .. } => code,
            ServiceError::Throttled { .. } => "throttled",
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal",
        }
    }

    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::Unauthenticated
            | ServiceError::InvalidCredentials
            | ServiceError::UnknownToken => 401,
            ServiceError::NotFound => 404,
            ServiceError::Forbidden => 403,
            ServiceError::Invalid { .. } => 422,
            ServiceError::Conflict { .. } => 409,
            ServiceError::Throttled { .. } => 429,
            ServiceError::Store(_) | ServiceError::Internal(_) => 500,
        }
    }

    /// Text safe to show: internal causes are replaced by a generic sentence.
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                "something went wrong on our side; it has been logged".into()
            }
            other => other.to_string(),
        }
    }
}
