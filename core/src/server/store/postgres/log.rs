//! PostgreSQL: the transparency log's tree and checkpoints. The sequencer
//! locks the one `tlog_state` row, so servers sharing the database take
//! turns: one tree, no fork, every entry once.

use super::time::Ts;
use super::PgStore;
use crate::server::seal::Hash;
use crate::server::store::decode::{self, StoredRow, AUDIT_COLUMNS};
use crate::server::store::log::{
    frontier, grow, NodeId, Sequenced, StoredCheckpoint, StoredCosignature,
};
use crate::server::store::{AuditEntry, LogStore, StoreError};
use async_trait::async_trait;
use sqlx::PgConnection;

crate::server::store::log::backend_checkpoints!(sqlx::Postgres, Ts);

async fn nodes_on(conn: &mut PgConnection, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let levels: Vec<i32> = ids.iter().map(|(level, _)| *level as i32).collect();
    let indexes: Vec<i64> = ids.iter().map(|(_, index)| *index as i64).collect();
    let rows = sqlx::query(
        "SELECT n.level, n.idx, n.hash FROM tlog_nodes n \
         JOIN unnest($1::int[], $2::bigint[]) AS w(level, idx) \
         ON n.level = w.level AND n.idx = w.idx",
    )
    .bind(&levels)
    .bind(&indexes)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_id = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let id = (row.int32("level")? as u32, row.int("idx")? as u64);
        by_id.insert(id, decode::tree_hash(&row, "hash")?);
    }
    ids.iter()
        .map(|id| {
            by_id
                .get(id)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("the tree has no subtree {id:?}")))
        })
        .collect()
}

#[async_trait]
impl LogStore for PgStore {
    async fn sequence_log(
        &self,
        limit: u32,
        leaf_hash: for<'e> fn(&'e AuditEntry) -> Hash,
    ) -> Result<Sequenced, StoreError> {
        let mut tx = self.pool.begin().await?;
        let size: i64 = sqlx::query_scalar("SELECT size FROM tlog_state WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        let size = size as u64;
        let pending = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE leaf IS NULL ORDER BY seq LIMIT $1"
        ))
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(decode::audit_entry)
        .collect::<Result<Vec<_>, _>>()?;
        let edge = nodes_on(&mut tx, &frontier(size)).await?;
        let leaves: Vec<Hash> = pending.iter().map(leaf_hash).collect();
        let grown = grow(size, &edge, &leaves);
        if !pending.is_empty() {
            let seqs: Vec<i64> = pending.iter().map(|e| e.seq).collect();
            let places: Vec<i64> = (0..pending.len() as i64).map(|i| size as i64 + i).collect();
            sqlx::query(
                "UPDATE audit_log a SET leaf = p.leaf \
                 FROM unnest($1::bigint[], $2::bigint[]) AS p(seq, leaf) WHERE a.seq = p.seq",
            )
            .bind(&seqs)
            .bind(&places)
            .execute(&mut *tx)
            .await?;
            let levels: Vec<i32> = grown.nodes.iter().map(|((l, _), _)| *l as i32).collect();
            let indexes: Vec<i64> = grown.nodes.iter().map(|((_, i), _)| *i as i64).collect();
            let hashes: Vec<Vec<u8>> = grown.nodes.iter().map(|(_, h)| h.to_vec()).collect();
            sqlx::query(
                "INSERT INTO tlog_nodes (level, idx, hash) \
                 SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])",
            )
            .bind(&levels)
            .bind(&indexes)
            .bind(&hashes)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE tlog_state SET size = $1 WHERE id = 1")
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
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE leaf >= $1 ORDER BY leaf LIMIT $2"
        ))
        .bind(from as i64)
        .bind(limit as i64)
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
