//! SQLite: ingest tokens.

use super::SqliteStore;
use crate::server::store::decode::{self, TOKEN_COLUMNS};
use crate::server::store::{IngestToken, IngestTokenStore, StoreError};
use async_trait::async_trait;
use sqlx::SqlitePool;

pub(super) async fn create(
    pool: &SqlitePool,
    name: &str,
    token_sha256: &str,
    at_us: i64,
) -> Result<bool, StoreError> {
    // The partial unique index refuses a second live token of one name.
    let done = sqlx::query(
        "INSERT INTO ingest_tokens (name, token_sha256, created_at) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .bind(token_sha256)
    .bind(at_us)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn live(
    pool: &SqlitePool,
    token_sha256: &str,
) -> Result<Option<IngestToken>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM ingest_tokens WHERE token_sha256 = ? AND revoked_at IS NULL"
    ))
    .bind(token_sha256)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode::ingest_token).transpose()
}

async fn revoke(pool: &SqlitePool, name: &str, at_us: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
    )
    .bind(at_us)
    .bind(name)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn all(pool: &SqlitePool) -> Result<Vec<IngestToken>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM ingest_tokens ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode::ingest_token).collect()
}

#[async_trait]
impl IngestTokenStore for SqliteStore {
    async fn create_ingest_token(
        &self,
        name: &str,
        token_sha256: &str,
        at_us: i64,
    ) -> Result<bool, StoreError> {
        create(&self.pool, name, token_sha256, at_us).await
    }

    async fn live_ingest_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<IngestToken>, StoreError> {
        live(&self.pool, token_sha256).await
    }

    async fn revoke_ingest_token(&self, name: &str, at_us: i64) -> Result<bool, StoreError> {
        revoke(&self.pool, name, at_us).await
    }

    async fn ingest_tokens(&self) -> Result<Vec<IngestToken>, StoreError> {
        all(&self.pool).await
    }
}
