//! Operations: readiness, emptiness, shutdown.

use super::StoreError;
use async_trait::async_trait;

/// Of `migrator`'s migrations, how many are among the `applied` versions.
pub(crate) fn count_applied(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> (usize, usize) {
    let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    let done = known.iter().filter(|v| applied.contains(v)).count();
    (done, known.len())
}

/// Operations: readiness, emptiness, shutdown.
#[async_trait]
pub trait OperationsStore: Send + Sync {
    /// The database answers: of the migrations this build knows, how many
    /// are applied (applied, known). Ready when they are equal.
    async fn migration_status(&self) -> Result<(usize, usize), StoreError>;

    /// True when no vehicle is held (a fresh install).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Closes the pool, flushing the WAL.
    async fn close(&self);
}
