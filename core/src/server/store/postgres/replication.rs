//! PostgreSQL: the server's WAL position, as a primary or a replica.

use super::PgStore;
use crate::server::store::{ReplicationStore, StoreError, WalPosition};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl ReplicationStore for PgStore {
    async fn wal_position(&self) -> Result<Option<WalPosition>, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT system_identifier FROM pg_control_system()) AS system, \
                    pg_is_in_recovery() AS replica, \
                    (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                          ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS lsn",
        )
        .fetch_one(&self.pool)
        .await?;
        // A replica that has not replayed anything yet has no position: 0.
        let lsn: Option<i64> = row.try_get("lsn")?;
        Ok(Some(WalPosition {
            system: row.try_get("system")?,
            replica: row.try_get("replica")?,
            lsn: lsn.unwrap_or(0).max(0) as u64,
        }))
    }
}
