//! Throwaway databases for tests and benchmarks: a SQLite file in a temp
//! dir, or a fresh database on a PostgreSQL server, dropped afterwards.
//!
//! The backend comes from `PORTAL_TEST_BACKEND` (`sqlite`, the default, or
//! `postgres`); the PostgreSQL server from `TEST_POSTGRES_URL`
//! (e.g. `postgres://postgres@127.0.0.1:5432`).

use super::StoreError;
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend the test run asks for. Panics on an unknown name, or on
    /// `postgres` without `TEST_POSTGRES_URL`: a run that asks for
    /// PostgreSQL must not quietly test SQLite instead.
    pub fn from_env() -> Backend {
        match std::env::var("PORTAL_TEST_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => {
                assert!(
                    postgres_server().is_some(),
                    "PORTAL_TEST_BACKEND=postgres needs TEST_POSTGRES_URL"
                );
                Backend::Postgres
            }
            Ok(other) => panic!("PORTAL_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }
}

/// The PostgreSQL server for tests, when one is configured.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_string())
}

/// One throwaway database. Dropping it removes it.
pub struct ScratchDatabase {
    pub url: String,
    pub backend: Backend,
    dir: tempfile::TempDir,
    /// (server URL, database name) to drop.
    postgres: Option<(String, String)>,
}

impl ScratchDatabase {
    /// A new empty database of the backend the run asks for.
    pub async fn create() -> Result<Self, StoreError> {
        Self::create_on(Backend::from_env()).await
    }

    pub async fn create_on(backend: Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| StoreError::Engine(e.to_string()))?;
                Ok(ScratchDatabase {
                    url: format!("sqlite://{}", dir.path().join("portal.db").display()),
                    backend,
                    dir,
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let server = postgres_server().ok_or_else(|| {
                    StoreError::Engine("TEST_POSTGRES_URL is not set".to_string())
                })?;
                Self::create_on_server(&server).await
            }
        }
    }

    /// A new empty database on the PostgreSQL server at `server`
    /// (`postgres://USER@HOST:PORT`, no database).
    pub async fn create_on_server(server: &str) -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Engine(e.to_string()))?;
        let name = format!(
            "portal_test_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(ScratchDatabase {
            url: format!("{server}/{name}"),
            backend: Backend::Postgres,
            dir,
            postgres: Some((server.to_string(), name)),
        })
    }

    /// The database's name on its PostgreSQL server.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }

    /// A directory that lives as long as the database (keys, exports).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                    .await
                    .ok()?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop scratch database");
        }
    }
}
