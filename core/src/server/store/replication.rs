//! Where a database stands in its replication, for sending reads to
//! PostgreSQL streaming replicas (`--database-read-url`). A physical replica
//! replays the primary's write-ahead log (WAL): it holds exactly what the
//! primary held at the log position it has replayed.

use super::StoreError;
use async_trait::async_trait;

/// A server's place in the write-ahead log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalPosition {
    /// The cluster's identity (`pg_control_system().system_identifier`):
    /// a physical replica shares its primary's.
    pub system: i64,
    /// True on a replica (the server is replaying WAL, read-only).
    pub replica: bool,
    /// On a primary, the WAL written so far; on a replica, the WAL replayed
    /// so far (bytes since the log's start).
    pub lsn: u64,
}

#[async_trait]
pub trait ReplicationStore: Send + Sync {
    /// `None` for a database without streaming replication (SQLite).
    async fn wal_position(&self) -> Result<Option<WalPosition>, StoreError>;
}
