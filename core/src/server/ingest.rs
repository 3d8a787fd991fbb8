//! Ingest tokens: how the data center's pipeline proves itself to
//! `POST /api/v1/ingest`. A token is 256 random bits, shown once and stored
//! only as its SHA-256 (it is not a password: no slow hash is needed). A
//! token can import and nothing else; it is never a `Principal`, so it
//! opens no data read.

use super::error::ServiceError;
use super::import::{import_reader, ImportError, ImportOptions, ImportSummary};
use super::store::IngestToken;
use super::{now_us, Portal};
use crate::domain::audit::AuditAction;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::Read;

/// What every token starts with, so secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "pit_";

/// A token just issued: the secret is in `token`, and nowhere else.
#[derive(Debug, Clone)]
pub struct IssuedIngestToken {
    pub name: String,
    pub token: String,
}

/// A new secret: `prefix` and 256 random bits in hex (ingest and grant
/// tokens; only `hash_token` of it is stored).
pub(crate) fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Names appear in the audit log as `ingest:NAME`: short and plain.
fn check_name(name: &str) -> Result<(), ServiceError> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 64 || !plain {
        return Err(ServiceError::invalid(
            "invalid_token_name",
            "name",
            "a token name is 1 to 64 letters, digits, `-`, `_` or `.`",
        ));
    }
    Ok(())
}

impl Portal {
    /// Issues a token named `name` (one live token per name).
    pub async fn issue_ingest_token(&self, name: &str) -> Result<IssuedIngestToken, ServiceError> {
        check_name(name)?;
        let token = new_token(TOKEN_PREFIX);
        if !self
            .store
            .create_ingest_token(name, &hash_token(&token), now_us())
            .await?
        {
            return Err(ServiceError::Conflict {
                code: "token_exists",
                message: format!("a live token named {name} exists; revoke it first"),
            });
        }
        self.audit(
            "admin".into(),
            AuditAction::IngestTokenIssued,
            None,
            serde_json::json!({ "name": name }),
        )
        .await?;
        Ok(IssuedIngestToken {
            name: name.to_string(),
            token,
        })
    }

    /// Revokes the live token named `name`: it stops working at once.
    pub async fn revoke_ingest_token(&self, name: &str) -> Result<(), ServiceError> {
        if !self.store.revoke_ingest_token(name, now_us()).await? {
            return Err(ServiceError::NotFound);
        }
        self.audit(
            "admin".into(),
            AuditAction::IngestTokenRevoked,
            None,
            serde_json::json!({ "name": name }),
        )
        .await
        .map(drop)
    }

    pub async fn ingest_tokens(&self) -> Result<Vec<IngestToken>, ServiceError> {
        Ok(self.store.ingest_tokens().await?)
    }

    /// The live token a bearer secret stands for, or 401.
    pub async fn ingest_token(&self, bearer: &str) -> Result<IngestToken, ServiceError> {
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        self.store
            .live_ingest_token(&hash_token(bearer))
            .await?
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Imports one body, exactly as `portal import` imports one file:
    /// validated whole, stored all or nothing, audited as `ingest:NAME`.
    pub async fn ingest<R: Read + Send + 'static>(
        &self,
        token: &IngestToken,
        body: R,
    ) -> Result<ImportSummary, ImportError> {
        let options = ImportOptions {
            actor: format!("ingest:{}", token.name),
            vehicle_cas: self.vehicle_cas.clone(),
            ..ImportOptions::default()
        };
        let source = format!("POST /api/v1/ingest ({})", token.name);
        import_reader(&*self.store, &source, body, &options, None).await
    }
}
