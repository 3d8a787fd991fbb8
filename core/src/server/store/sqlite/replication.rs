//! SQLite: one file, no replicas.

use super::SqliteStore;
use crate::server::store::{ReplicationStore, StoreError, WalPosition};
use async_trait::async_trait;

#[async_trait]
impl ReplicationStore for SqliteStore {
    async fn wal_position(&self) -> Result<Option<WalPosition>, StoreError> {
        Ok(None)
    }
}
