//! SQLite: the transparency log's tree and checkpoints.

use super::SqliteStore;
use crate::server::seal::Hash;
use crate::server::store::decode::{self, StoredRow, AUDIT_COLUMNS};
use crate::server::store::log::{
    frontier, grow, NodeId, Sequenced, StoredCheckpoint, StoredCosignature,
};
use crate::server::store::{AuditEntry, LogStore, StoreError};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

crate::server::store::log::backend_checkpoints!(sqlx::Sqlite, |t: i64| t);

async fn nodes_on(conn: &mut SqliteConnection, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    // One query per hundred ids: proofs need a few dozen.
    for part in ids.chunks(100) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT level, idx, hash FROM tlog_nodes WHERE (level, idx) IN (");
        let mut list = q.separated(", ");
        for (level, index) in part {
            list.push(format!("({level}, {index})"));
        }
        q.push(")");
        let rows = q.build().fetch_all(&mut *conn).await?;
        let mut by_id = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let id = (row.int32("level")? as u32, row.int("idx")? as u64);
            by_id.insert(id, decode::tree_hash(&row, "hash")?);
        }
        for id in part {
            let node = by_id
                .get(id)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("the tree has no subtree {id:?}")))?;
            found.push(node);
        }
    }
    Ok(found)
}

#[async_trait]
impl LogStore for SqliteStore {
    async fn sequence_log(
        &self,
        limit: u32,
        leaf_hash: for<'e> fn(&'e AuditEntry) -> Hash,
    ) -> Result<Sequenced, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let size: i64 = sqlx::query_scalar("SELECT size FROM tlog_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let size = size as u64;
        let pending = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE leaf IS NULL ORDER BY seq LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(decode::audit_entry)
        .collect::<Result<Vec<_>, _>>()?;
        let edge = nodes_on(&mut tx, &frontier(size)).await?;
        let leaves: Vec<Hash> = pending.iter().map(leaf_hash).collect();
        let grown = grow(size, &edge, &leaves);
        if !pending.is_empty() {
            // Each entry's leaf, a few hundred entries per statement.
            for (n, part) in pending.chunks(400).enumerate() {
                let first = size + (n * 400) as u64;
                let mut q: QueryBuilder<Sqlite> =
                    QueryBuilder::new("UPDATE audit_log SET leaf = places.column2 FROM (");
                q.push_values(part.iter().enumerate(), |mut row, (i, entry)| {
                    row.push_bind(entry.seq)
                        .push_bind((first + i as u64) as i64);
                });
                q.push(") AS places WHERE audit_log.seq = places.column1");
                q.build().execute(&mut *tx).await?;
            }
            for part in grown.nodes.chunks(300) {
                let mut q: QueryBuilder<Sqlite> =
                    QueryBuilder::new("INSERT INTO tlog_nodes (level, idx, hash) ");
                q.push_values(part, |mut row, ((level, index), hash)| {
                    row.push_bind(*level as i64)
                        .push_bind(*index as i64)
                        .push_bind(hash.to_vec());
                });
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE tlog_state SET size = ? WHERE id = 1")
                .bind(grown.size as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Sequenced {
            added: pending.len() as u64,
            size: grown.size,
            root: grown.root,
        })
    }

    async fn log_size(&self) -> Result<u64, StoreError> {
        let size: i64 = sqlx::query_scalar("SELECT size FROM tlog_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(size as u64)
    }

    async fn log_pending(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE leaf IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn log_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        nodes_on(&mut conn, ids).await
    }

    async fn log_leaves(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE leaf >= ? ORDER BY leaf LIMIT ?"
        ))
        .bind(from as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::audit_entry).collect()
    }

    async fn put_checkpoint(&self, c: &StoredCheckpoint) -> Result<(), StoreError> {
        put_checkpoint(&self.pool, c).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        checkpoint(&self.pool, None).await
    }

    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError> {
        checkpoint(&self.pool, Some(size)).await
    }

    async fn put_cosignature(&self, c: &StoredCosignature) -> Result<(), StoreError> {
        put_cosignature(&self.pool, c).await
    }

    async fn cosignatures(&self, size: u64) -> Result<Vec<StoredCosignature>, StoreError> {
        cosignatures(&self.pool, size).await
    }

    async fn latest_cosigned(&self, max_size: u64) -> Result<Option<u64>, StoreError> {
        latest_cosigned(&self.pool, max_size).await
    }

    async fn last_cosignature(
        &self,
        witness: &str,
        key_id: &str,
    ) -> Result<Option<StoredCosignature>, StoreError> {
        last_cosignature(&self.pool, witness, key_id).await
    }
}
