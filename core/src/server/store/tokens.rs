//! Tokens that may push logs to the ingest endpoint.

use super::StoreError;
use async_trait::async_trait;

/// A token that may push logs to `POST /api/v1/ingest`; its secret is
/// held only as a SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestToken {
    pub id: i64,
    pub name: String,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
}

/// Tokens that may push logs to the ingest endpoint.
#[async_trait]
pub trait IngestTokenStore: Send + Sync {
    /// Adds a live ingest token; false when `name` already has one.
    async fn create_ingest_token(
        &self,
        name: &str,
        token_sha256: &str,
        at_us: i64,
    ) -> Result<bool, StoreError>;

    /// The live (not revoked) token with this hash.
    async fn live_ingest_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<IngestToken>, StoreError>;

    /// Ends the live token named `name`; false when there is none.
    async fn revoke_ingest_token(&self, name: &str, at_us: i64) -> Result<bool, StoreError>;

    /// Every token, live and revoked, oldest first.
    async fn ingest_tokens(&self) -> Result<Vec<IngestToken>, StoreError>;
}
