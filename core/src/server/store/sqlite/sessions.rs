//! SQLite: the web sessions' records (tower-sessions' `tower_sessions` table).

use super::bulk::Bind;
use super::SqliteStore;
use crate::server::store::decode::StoredRow;
use crate::server::store::{SessionRecordStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl SessionRecordStore for SqliteStore {
    async fn session_record(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        // Every request with a session cookie asks: inline (`inline.rs`).
        self.inline.optional(
            "SELECT data FROM tower_sessions WHERE id = ?",
            &[Bind::Text(id.to_string())],
            |row| row.bytes("data"),
        )
    }
}
