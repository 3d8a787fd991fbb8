//! PostgreSQL: the audit chain.

use super::time::Ts;
use super::PgStore;
use crate::domain::audit::AuditAction;
use crate::server::store::decode::{self, AUDIT_COLUMNS};
use crate::server::store::rows::chained_entry;
use crate::server::store::{AuditEntry, AuditStore, NewAuditEntry, StoreError};
use async_trait::async_trait;
use sqlx::PgConnection;

/// The advisory lock that serialises audit appends across every server.
const AUDIT_LOCK: i64 = 0x0417_4155_4449_5400;

/// Appends an entry chained to the last one, inside the caller's transaction
/// (which holds the chain's lock until it ends).
pub(super) async fn append_audit_on(
    conn: &mut PgConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *conn)
        .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let e = chained_entry(last, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, vin, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.seq)
    .bind(Ts(e.at_us))
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
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut tx = self.pool.begin().await?;
        let appended = append_audit_on(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(appended)
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
