//! PostgreSQL backend: for several portal servers on one shared database
//! (or a Citus cluster: see docs/scaling.md). Migrations from
//! `migrations/postgres`; times are timestamptz; imports go in by binary COPY.

mod accounts;
mod audit;
mod binds;
mod cases;
mod claims;
mod copy;
mod copy_out;
mod events;
mod grants;
mod import;
mod jobs;
mod log;
mod minutes;
mod operations;
mod replication;
mod rows;
mod sample_copy;
mod samples;
mod seals;
mod sessions;
pub(crate) mod time;
mod tokens;
mod vehicles;
mod zones;

use crate::server::store::StoreError;
pub use copy::{CopyWriter, Field};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;
pub use time::Ts;

/// How long a pooled connection may sit idle before it is pinged again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to and migrates the database at `url` (which must exist).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = connect(url).await?;
        // Several servers may start at once: sqlx's migrator takes an
        // advisory lock, so exactly one of them applies what is missing.
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// A streaming replica at `url`, connected on first use (a replica
    /// that is down does not stop the portal; it is skipped until it
    /// answers). Read-only, so nothing is migrated: the replica replays
    /// the primary's schema.
    pub fn open_replica(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("portal");
        Ok(PgStore {
            pool: pool_options()
                .acquire_timeout(Duration::from_secs(2))
                .connect_lazy_with(options),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("portal");
    Ok(pool_options()
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?)
}

fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        // sqlx pings a pooled connection when it comes back (off the
        // request's path) and, by default, again before lending it: a
        // second round trip per query, as long as a point query itself
        // on loopback. Only a connection idle long enough to have been
        // dropped by the server or a firewall is pinged before use now.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .idle_timeout(Duration::from_secs(600))
}
