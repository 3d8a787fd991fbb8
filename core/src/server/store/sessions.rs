//! The web sessions' records, as tower-sessions stores them (a MessagePack
//! record per id, in its own table): read on every request that carries a
//! session cookie, so each backend reads it its quickest way. Writes stay
//! with tower-sessions' own store.

use super::StoreError;
use async_trait::async_trait;

#[async_trait]
pub trait SessionRecordStore: Send + Sync {
    /// The stored record of session `id`, if any (expired or not: the
    /// record itself carries its expiry).
    async fn session_record(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
}
