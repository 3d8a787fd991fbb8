//! The transparency log's tree: the audit entries are its leaves, in the
//! order the sequencer gives them places; the hash of every complete subtree
//! is kept, and every checkpoint signed.
//!
//! What is shared by both backends is here: which stored subtrees make up
//! a tree's right edge ([`frontier`]) and how a batch of leaves grows the
//! tree ([`grow`]); the backends only read and write rows.

use super::{AuditEntry, StoreError};
use crate::server::seal::{node_hash, Hash};
use async_trait::async_trait;

/// A complete subtree's place: the leaves `[index·2^level, (index+1)·2^level)`.
pub type NodeId = (u32, u64);

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note, as served.
    pub note: String,
    pub signed_at_us: i64,
}

/// A witness's cosignature of a checkpoint, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    /// The checkpoint's size.
    pub size: u64,
    pub witness: String,
    /// The witness key's id, hex.
    pub key_id: String,
    /// The signature line, as served under the checkpoint (no newline).
    pub line: String,
    /// The time the witness states, from the cosignature.
    pub cosigned_at_us: i64,
    pub received_at_us: i64,
}

/// What one sequencing step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequenced {
    /// Entries given a place.
    pub added: u64,
    pub size: u64,
    /// `None` for the empty tree.
    pub root: Option<Hash>,
}

#[async_trait]
pub trait LogStore: Send + Sync {
    /// Gives the oldest entries without a place (at most `limit`) the next
    /// leaves, `leaf_hash` of each being its hash, and stores the subtrees
    /// they complete. One sequencer at a time, across every server.
    async fn sequence_log(
        &self,
        limit: u32,
        leaf_hash: for<'e> fn(&'e AuditEntry) -> Hash,
    ) -> Result<Sequenced, StoreError>;

    /// The tree's size now.
    async fn log_size(&self) -> Result<u64, StoreError>;

    /// Entries waiting for a leaf.
    async fn log_pending(&self) -> Result<u64, StoreError>;

    /// The stored hashes of these complete subtrees (all must exist).
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError>;

    /// Entries with leaves `[from, from + limit)`, in leaf order.
    async fn log_leaves(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// Keeps a checkpoint (one per size: the same size signs the same note).
    async fn put_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError>;

    /// The newest checkpoint, if any was signed.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// The checkpoint of `size` leaves, if one was signed.
    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Keeps a cosignature of a stored checkpoint: of one witness key's
    /// cosignatures of one checkpoint, the newest stays.
    async fn put_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), StoreError>;

    /// The cosignatures of the checkpoint of `size` leaves.
    async fn cosignatures(&self, size: u64) -> Result<Vec<StoredCosignature>, StoreError>;

    /// The largest checkpoint of at most `max_size` leaves with a
    /// cosignature.
    async fn latest_cosigned(&self, max_size: u64) -> Result<Option<u64>, StoreError>;

    /// A witness key's newest cosignature: of the largest checkpoint it
    /// cosigned, the latest.
    async fn last_cosignature(
        &self,
        witness: &str,
        key_id: &str,
    ) -> Result<Option<StoredCosignature>, StoreError>;
}

/// The checkpoint and cosignature queries, written once (both backends
/// take `$n` placeholders): `$time` turns microseconds into the backend's
/// time value. Each backend's `LogStore` calls the functions this makes.
macro_rules! backend_checkpoints {
    ($db:ty, $time:expr) => {
        use $crate::server::store::decode::{CHECKPOINT_SELECT, COSIGNATURE_SELECT};

        pub(super) async fn put_checkpoint(
            pool: &sqlx::Pool<$db>,
            c: &StoredCheckpoint,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO tlog_checkpoints (size, root, note, signed_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
            )
            .bind(c.size as i64)
            .bind(c.root.to_vec())
            .bind(&c.note)
            .bind($time(c.signed_at_us))
            .execute(pool)
            .await?;
            Ok(())
        }

        /// The newest checkpoint, or the one of `size` leaves.
        pub(super) async fn checkpoint(
            pool: &sqlx::Pool<$db>,
            size: Option<u64>,
        ) -> Result<Option<StoredCheckpoint>, StoreError> {
            let row = match size {
                None => {
                    sqlx::query(&format!("{CHECKPOINT_SELECT} ORDER BY size DESC LIMIT 1"))
                        .fetch_optional(pool)
                        .await?
                }
                Some(size) => {
                    sqlx::query(&format!("{CHECKPOINT_SELECT} WHERE size = $1"))
                        .bind(size as i64)
                        .fetch_optional(pool)
                        .await?
                }
            };
            row.as_ref().map(decode::checkpoint).transpose()
        }

        pub(super) async fn put_cosignature(
            pool: &sqlx::Pool<$db>,
            c: &StoredCosignature,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO tlog_cosignatures \
                 (size, witness, key_id, line, cosigned_at, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (size, witness, key_id) DO UPDATE SET line = excluded.line, \
                 cosigned_at = excluded.cosigned_at, received_at = excluded.received_at \
                 WHERE excluded.cosigned_at > tlog_cosignatures.cosigned_at",
            )
            .bind(c.size as i64)
            .bind(&c.witness)
            .bind(&c.key_id)
            .bind(&c.line)
            .bind($time(c.cosigned_at_us))
            .bind($time(c.received_at_us))
            .execute(pool)
            .await?;
            Ok(())
        }

        pub(super) async fn cosignatures(
            pool: &sqlx::Pool<$db>,
            size: u64,
        ) -> Result<Vec<StoredCosignature>, StoreError> {
            let rows = sqlx::query(&format!(
                "{COSIGNATURE_SELECT} WHERE size = $1 ORDER BY witness, key_id"
            ))
            .bind(size as i64)
            .fetch_all(pool)
            .await?;
            rows.iter().map(decode::cosignature).collect()
        }

        pub(super) async fn latest_cosigned(
            pool: &sqlx::Pool<$db>,
            max_size: u64,
        ) -> Result<Option<u64>, StoreError> {
            let size: Option<i64> =
                sqlx::query_scalar("SELECT max(size) FROM tlog_cosignatures WHERE size <= $1")
                    .bind(max_size as i64)
                    .fetch_one(pool)
                    .await?;
            Ok(size.map(|s| s as u64))
        }

        pub(super) async fn last_cosignature(
            pool: &sqlx::Pool<$db>,
            witness: &str,
            key_id: &str,
        ) -> Result<Option<StoredCosignature>, StoreError> {
            let row = sqlx::query(&format!(
                "{COSIGNATURE_SELECT} WHERE witness = $1 AND key_id = $2 \
                 ORDER BY size DESC, cosigned_at DESC LIMIT 1"
            ))
            .bind(witness)
            .bind(key_id)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(decode::cosignature).transpose()
        }
    };
}
pub(crate) use backend_checkpoints;

/// The complete subtrees along the right edge of a tree of `size` leaves,
/// left to right, largest first.
pub fn frontier(size: u64) -> Vec<NodeId> {
    (0..64u32)
        .rev()
        .filter(|level| size >> level & 1 == 1)
        .map(|level| (level, (size >> level) - 1))
        .collect()
}

/// A tree's growth by some leaves: the subtrees they complete (leaves
/// included, as level 0), the new size and root.
pub struct Growth {
    pub nodes: Vec<(NodeId, Hash)>,
    pub size: u64,
    pub root: Option<Hash>,
    /// The new right edge: the hashes of [`frontier`]`(size)`, in its order.
    pub edge: Vec<Hash>,
}

/// Appends `leaves` to a tree of `size` leaves whose right edge is
/// `edge` (the hashes of [`frontier`]`(size)`, in its order).
pub fn grow(size: u64, edge: &[Hash], leaves: &[Hash]) -> Growth {
    let mut stack: Vec<(u32, Hash)> = frontier(size)
        .into_iter()
        .zip(edge)
        .map(|((level, _), hash)| (level, *hash))
        .collect();
    let mut nodes = Vec::with_capacity(leaves.len() * 2);
    let mut n = size;
    for leaf in leaves {
        nodes.push(((0, n), *leaf));
        let (mut level, mut hash) = (0u32, *leaf);
        while let Some(&(left_level, left)) = stack.last() {
            if left_level != level {
                break;
            }
            stack.pop();
            hash = node_hash(&left, &hash);
            level += 1;
            nodes.push(((level, n >> level), hash));
        }
        stack.push((level, hash));
        n += 1;
    }
    let mut folded = stack.iter().rev();
    let root = folded
        .next()
        .map(|(_, last)| folded.fold(*last, |right, (_, left)| node_hash(left, &right)));
    Growth {
        nodes,
        size: n,
        root,
        edge: stack.into_iter().map(|(_, hash)| hash).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::seal::leaf_hash;
    use crate::server::seal::merkle::root_of;
    use std::collections::HashMap;

    #[test]
    fn growing_in_batches_keeps_every_subtree_and_the_rfc_root() {
        let leaves: Vec<Hash> = (0..100u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut stored: HashMap<NodeId, Hash> = HashMap::new();
        let mut size = 0u64;
        for batch in [1usize, 2, 5, 8, 13, 3, 40, 28] {
            let edge: Vec<Hash> = frontier(size).iter().map(|id| stored[id]).collect();
            let start = size as usize;
            let grown = grow(size, &edge, &leaves[start..start + batch]);
            stored.extend(grown.nodes);
            size = grown.size;
            let edge: Vec<Hash> = frontier(size).iter().map(|id| stored[id]).collect();
            assert_eq!(grown.edge, edge, "{size}");
            assert_eq!(grown.root, root_of(&leaves[..size as usize]), "{size}");
        }
        assert_eq!(size, 100);
        // Every complete subtree is there, with the RFC's hash.
        for level in 0..7u32 {
            for index in 0..(100u64 >> level) {
                let start = (index << level) as usize;
                let expected = root_of(&leaves[start..start + (1 << level)]).unwrap();
                assert_eq!(stored[&(level, index)], expected, "({level}, {index})");
            }
        }
        assert_eq!(stored.len(), 100 + 50 + 25 + 12 + 6 + 3 + 1);
        assert_eq!(frontier(6), vec![(2, 0), (1, 2)]);
        assert!(frontier(0).is_empty());
    }
}
