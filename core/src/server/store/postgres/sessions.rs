//! PostgreSQL: the web sessions' records (tower-sessions' table
//! `tower_sessions.session`).

use super::PgStore;
use crate::server::store::{SessionRecordStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl SessionRecordStore for PgStore {
    async fn session_record(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar(r#"SELECT data FROM "tower_sessions"."session" WHERE id = $1"#)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
