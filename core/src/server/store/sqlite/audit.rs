//! SQLite: the audit log.

use super::SqliteStore;
use crate::domain::audit::AuditAction;
use crate::server::store::decode::{self, AUDIT_COLUMNS};
use crate::server::store::rows::new_entry;
use crate::server::store::{AuditEntry, AuditStore, NewAuditEntry, StoreError};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};

/// Appends an entry inside the caller's transaction; the sequencer gives
/// it its place in the log later, so appends never wait on each other.
pub(super) async fn append_audit_on(
    conn: &mut sqlx::SqliteConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let mut e = new_entry(entry);
    e.seq = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, action, vin, details, nonce) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(e.at_us)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.vin)
    .bind(&e.details)
    .bind(&e.nonce)
    .fetch_one(&mut *conn)
    .await?;
    Ok(e)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut conn = self.pool.acquire().await?;
        append_audit_on(&mut conn, entry).await
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::audit_entry).collect()
    }

    async fn imports_of_vin(
        &self,
        vin: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE vin = ? AND seq > ? AND action = 'import' \
             ORDER BY seq LIMIT ?"
        ))
        .bind(vin)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::audit_entry).collect()
    }

    async fn audit_for_vin(
        &self,
        vin: &str,
        actions: &[AuditAction],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE vin = "
        ));
        q.push_bind(vin.to_string());
        if let Some(before) = before {
            q.push(" AND seq < ").push_bind(before);
        }
        q.push(" AND action IN (");
        let mut list = q.separated(", ");
        for a in actions {
            list.push_bind(a.as_str());
        }
        q.push(") ORDER BY seq DESC LIMIT ").push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode::audit_entry).collect()
    }
}
