//! PostgreSQL: ingest tokens.

use super::time::Ts;
use super::PgStore;
use crate::server::store::decode::{self, TOKEN_COLUMNS};
use crate::server::store::{IngestToken, IngestTokenStore, StoreError};
use async_trait::async_trait;
use sqlx::PgPool;

pub(super) async fn create(
    pool: &PgPool,
    name: &str,
    token_sha256: &str,
    at_us: i64,
) -> Result<bool, StoreError> {
    // The partial unique index refuses a second live token of one name.
    let done = sqlx::query(
        "INSERT INTO ingest_tokens (name, token_sha256, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .bind(token_sha256)
    .bind(Ts(at_us))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn live(pool: &PgPool, token_sha256: &str) -> Result<Option<IngestToken>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM ingest_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL"
    ))
    .bind(token_sha256)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode::ingest_token).transpose()
}

async fn revoke(pool: &PgPool, name: &str, at_us: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
    )
    .bind(Ts(at_us))
    .bind(name)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn all(pool: &PgPool) -> Result<Vec<IngestToken>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM ingest_tokens ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode::ingest_token).collect()
}

#[async_trait]
impl IngestTokenStore for PgStore {
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
