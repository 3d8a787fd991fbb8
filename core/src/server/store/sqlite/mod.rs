//! SQLite backend: one file in WAL mode, migrations from `migrations/sqlite`.

mod accounts;
mod audit;
mod binds;
mod bulk;
mod cases;
mod claims;
mod events;
mod grants;
mod import;
mod inline;
mod jobs;
mod log;
mod minutes;
mod operations;
mod replication;
mod rows;
mod samples;
mod seals;
mod sessions;
mod tokens;
mod vehicles;
mod zones;

use crate::server::store::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Point lookups and bounded pages, on the caller's thread.
    inline: std::sync::Arc<inline::InlineReader>,
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
            // A file on this machine does not go away under an idle
            // connection: no ping before every query (a round trip to
            // sqlx's worker thread each).
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let inline = inline::InlineReader::new(options.get_filename())?;
        Ok(SqliteStore {
            pool,
            inline: std::sync::Arc::new(inline),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
