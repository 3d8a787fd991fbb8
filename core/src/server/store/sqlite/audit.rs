//! SQLite: the audit chain.

use super::SqliteStore;
use crate::domain::audit::AuditAction;
use crate::server::store::decode::{self, AUDIT_COLUMNS};
use crate::server::store::rows::chained_entry;
use crate::server::store::{AuditEntry, AuditStore, NewAuditEntry, StoreError};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};

/// Appends an entry chained to the last one; the caller holds the write lock.
pub(super) async fn append_audit_on(
    conn: &mut sqlx::SqliteConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let e = chained_entry(last, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, vin, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.seq)
    .bind(e.at_us)
    .bind(&e.actor)
    .bind(e.action.as_str())
    .bind(&e.vin)
    .bind(&e.details)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *conn)
    .await?;
    Ok(e)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let appended = append_audit_on(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(appended)
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
