//! The storage interface. Services talk to a `dyn Store`; only the backends
//! (one per database) hold SQL.
//!
//! `Store` is the sum of small traits, one per capability, each declared
//! with its record types in a file of its own name here: `vehicles`,
//! `samples`, `events`, `import`, `seals`, `accounts`, `claims`, `audit`, `log`, `cases`,
//! `tokens`, `grants`, `jobs`, `operations`, `sessions`, `replication`. Each backend implements each trait in a
//! file of the same name (`sqlite/samples.rs` and `postgres/samples.rs`
//! both implement `SampleStore`), so a new stored record touches one trait
//! file and its two mirrors. Both schemas name every column alike, so SQL
//! and row decoding are shared where the dialects allow: `sql.rs` (sample
//! and event reads, whose values each backend's `binds.rs` puts in),
//! `decode.rs` (one decoder per record, over each backend's `rows.rs`).
//! The remaining backend files are dialect
//! helpers: `sqlite/bulk.rs` (prepared statements on the raw connection),
//! `sqlite/minutes.rs` and `postgres/minutes.rs` (per-minute chart
//! summaries), `postgres/copy*.rs`, `postgres/sample_copy.rs` (binary COPY)
//! and `postgres/time.rs` (timestamptz).

mod accounts;
mod audit;
pub mod backup;
mod cases;
pub(crate) mod claims;
pub(crate) mod decode;
mod events;
mod grants;
mod import;
mod jobs;
pub mod log;
pub mod migrate;
mod operations;
pub mod postgres;
mod replication;
pub(crate) mod rows;
mod samples;
#[cfg(feature = "test-support")]
pub mod scratch;
mod seals;
mod sessions;
pub(crate) mod sql;
mod sqlite;
mod tokens;
mod vehicles;
pub(crate) mod zones;

pub use accounts::*;
pub use audit::*;
pub use cases::*;
pub use claims::*;
pub use events::*;
pub use grants::{GrantRecord, GrantStore, NewGrant};
pub use import::*;
pub use jobs::*;
pub use log::{LogStore, NodeId, Sequenced, StoredCheckpoint, StoredCosignature};
pub use operations::*;
pub use postgres::PgStore;
pub use replication::{ReplicationStore, WalPosition};
pub use samples::*;
pub use seals::{
    CoveredCounts, HeldSeal, MissingBatch, NewSeal, SealId, SealStore, SealedClass,
    SealedRecordKey, StoredSeal,
};
pub use sessions::SessionRecordStore;
pub use sqlite::SqliteStore;
pub use tokens::*;
pub use vehicles::*;
pub use zones::{NewZone, ZoneStore};

use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub type VehicleId = i64;

pub type AccountId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL `{0}`: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("a read replica is a PostgreSQL streaming replica: its URL starts with postgres://")]
    UnsupportedReplicaUrl,
    #[error("database error: {0}")]
    Engine(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Backup(String),
}

/// The database behind a store, for infrastructure that needs the pool
/// itself (the session store).
#[derive(Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Opens the store a `DATABASE_URL` names, creating and migrating it if needed.
pub async fn open(database_url: &str) -> Result<(Arc<dyn Store>, Pool), StoreError> {
    if database_url.starts_with("sqlite:") {
        let store = SqliteStore::open(database_url).await?;
        let pool = Pool::Sqlite(store.pool().clone());
        Ok((Arc::new(store), pool))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        let store = PgStore::open(database_url).await?;
        let pool = Pool::Postgres(store.pool().clone());
        Ok((Arc::new(store), pool))
    } else {
        Err(StoreError::UnsupportedUrl(database_url.to_string()))
    }
}

/// A PostgreSQL streaming replica of the store, connected on first use.
pub fn open_replica(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match url.starts_with("postgres:") || url.starts_with("postgresql:") {
        true => Ok(Arc::new(PgStore::open_replica(url)?)),
        false => Err(StoreError::UnsupportedReplicaUrl),
    }
}

/// A half-open time range in UTC microseconds: `from <= t < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from_us: i64,
    pub to_us: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        from_us: i64::MIN,
        to_us: i64::MAX,
    };
}

/// Everything the portal stores, as one object: the sum of the capability
/// traits. Services take `&dyn Store` (or `Arc<dyn Store>`); each backend
/// implements every capability in a file of the capability's name.
pub trait Store:
    VehicleStore
    + SampleStore
    + EventStore
    + ImportStore
    + SealStore
    + AccountStore
    + ClaimStore
    + AuditStore
    + LogStore
    + CaseStore
    + IngestTokenStore
    + GrantStore
    + ZoneStore
    + ExportJobStore
    + OperationsStore
    + SessionRecordStore
    + ReplicationStore
    + 'static
{
}

impl<T> Store for T where
    T: VehicleStore
        + SampleStore
        + EventStore
        + ImportStore
        + SealStore
        + AccountStore
        + ClaimStore
        + AuditStore
        + LogStore
        + CaseStore
        + IngestTokenStore
        + GrantStore
        + ZoneStore
        + ExportJobStore
        + OperationsStore
        + SessionRecordStore
        + ReplicationStore
        + 'static
{
}
