//! SQLite backend: one file in WAL mode, migrations from `migrations/sqlite`.

mod accounts;
mod audit;
mod binds;
mod bulk;
mod cases;
mod claims;
mod events;
mod import;
mod jobs;
mod log;
mod minutes;
mod operations;
mod rows;
mod samples;
mod seals;
mod tokens;
mod vehicles;

use crate::server::store::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an import acknowledged to the caller survives power loss too.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // 4 MiB of page cache per connection, 32 MiB for the pool at most:
            // long scans (exports) pass through it rather than piling up.
            .pragma("cache_size", "-4096")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
