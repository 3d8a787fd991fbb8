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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to and migrates the database at `url` (which must exist).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("portal");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        // Several servers may start at once: sqlx's migrator takes an
        // advisory lock, so exactly one of them applies what is missing.
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
