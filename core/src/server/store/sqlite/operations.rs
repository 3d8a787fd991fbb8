//! SQLite: migration status, emptiness and shutdown.

use super::{SqliteStore, MIGRATOR};
use crate::server::store::{OperationsStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl OperationsStore for SqliteStore {
    async fn migration_status(&self) -> Result<(usize, usize), StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(crate::server::store::count_applied(&MIGRATOR, &applied))
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM vehicles LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_none())
    }

    async fn close(&self) {
        self.inline.close();
        self.pool.close().await;
    }
}
