//! PostgreSQL: the audit log.

use super::time::Ts;
use super::PgStore;
use crate::domain::audit::AuditAction;
use crate::server::store::decode::{self, AUDIT_COLUMNS};
use crate::server::store::rows::new_entry;
use crate::server::store::{AuditEntry, AuditStore, NewAuditEntry, StoreError};
use async_trait::async_trait;
use sqlx::PgConnection;

/// Appends an entry inside the caller's transaction; its seq comes from a
/// sequence (no lock), the sequencer gives it its place in the log later.
pub(super) async fn append_audit_on(
    conn: &mut PgConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let mut e = new_entry(entry);
    e.seq = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, action, vin, details, nonce) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
    )
    .bind(Ts(e.at_us))
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
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut conn = self.pool.acquire().await?;
        append_audit_on(&mut conn, entry).await
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            AUDIT_COLUMNS
        ))
        .bind(after)
        .bind(i64::from(limit))
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
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE vin = $1 AND seq > $2 AND action = 'import' \
             ORDER BY seq LIMIT $3"
        ))
        .bind(vin)
        .bind(after)
        .bind(i64::from(limit))
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
        let actions: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE vin = $1 AND ($2::bigint IS NULL OR seq < $2) \
             AND action = ANY($3) ORDER BY seq DESC LIMIT $4",
            AUDIT_COLUMNS
        ))
        .bind(vin)
        .bind(before)
        .bind(&actions)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::audit_entry).collect()
    }
}
