//! Sessions: tower-sessions with the database's own session store, so any
//! portal server can serve any request. Writes go through tower-sessions'
//! sqlx stores; the read every request makes goes through the portal's
//! store (`SessionRecordStore`), which SQLite answers without a thread hop.

use async_trait::async_trait;
use portal_core::server::store::{Pool, Store};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

/// The session store for whichever database the portal runs on.
#[derive(Clone)]
pub struct Sessions {
    writes: Writes,
    reads: Arc<dyn Store>,
}

#[derive(Debug, Clone)]
enum Writes {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    Postgres(tower_sessions_sqlx_store::PostgresStore),
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.writes.fmt(f)
    }
}

impl Sessions {
    /// Creates the session table if needed; `store` is the portal's store
    /// on the same database.
    pub async fn open(pool: &Pool, store: Arc<dyn Store>) -> Result<Self, sqlx::Error> {
        let writes = match pool {
            Pool::Sqlite(pool) => {
                let store = tower_sessions_sqlx_store::SqliteStore::new(pool.clone());
                store.migrate().await?;
                Writes::Sqlite(store)
            }
            Pool::Postgres(pool) => {
                let store = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
                store.migrate().await?;
                Writes::Postgres(store)
            }
        };
        Ok(Sessions {
            writes,
            reads: store,
        })
    }

    /// Deletes expired sessions now and then, for as long as the server runs.
    pub fn spawn_purge(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                every.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!("purging expired sessions failed: {e}");
                }
            }
        });
    }

    /// The session layer: 30 min inactivity expiry, HttpOnly, SameSite=Lax,
    /// Secure with the `__Host-` prefix unless turned off for plain-http use.
    pub fn layer(self, secure: bool) -> SessionManagerLayer<Sessions> {
        SessionManagerLayer::new(self)
            .with_name(if secure {
                "__Host-portal_session"
            } else {
                "portal_session"
            })
            .with_secure(secure)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(time::Duration::minutes(30)))
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.writes {
            Writes::Sqlite(s) => s.create(record).await,
            Writes::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.writes {
            Writes::Sqlite(s) => s.save(record).await,
            Writes::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data = self
            .reads
            .session_record(&id.to_string())
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        let Some(data) = data else {
            return Ok(None);
        };
        // Encoded by tower-sessions' sqlx store (MessagePack); expired
        // records are not sessions any more, as that store's own load says.
        let record: Record = rmp_serde::from_slice(&data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok((record.expiry_date > time::OffsetDateTime::now_utc()).then_some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.writes {
            Writes::Sqlite(s) => s.delete(id).await,
            Writes::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.writes {
            Writes::Sqlite(s) => s.delete_expired().await,
            Writes::Postgres(s) => s.delete_expired().await,
        }
    }
}
