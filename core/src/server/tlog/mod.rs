//! The transparency log: every audit entry is a leaf of one append-only
//! Merkle tree (RFC 9162), whose signed checkpoints (C2SP `tlog-checkpoint`)
//! independent witnesses watch, so whoever runs the database cannot rewrite
//! the past without it showing.
//!
//! - `proof`: inclusion and consistency proofs, made and checked;
//! - `note`: signed notes and checkpoints;
//! - `cosign`: witnesses' cosignatures; `witness`: a witness's own checks;
//!   `cosigned`: the portal taking and serving cosignatures;
//! - here: a leaf's bytes, the log's key, and the service (sequencing,
//!   checkpoints, proofs) on [`Portal`].
//!
//! An entry is written with its action (no lock, no link to the one
//! before); the sequencer gives entries their leaves in batches and signs a
//! checkpoint when the tree grew, so appends never wait on each other and
//! reads never wait on a checkpoint. `docs/evidence.md` documents every
//! byte a verifier reads.

mod bundle;
pub mod cosign;
pub mod cosigned;
pub mod note;
pub mod proof;
mod since;
pub mod witness;

use super::error::ServiceError;
use super::seal::{leaf_hash, Hash};
use super::signing::Signer;
use super::store::{AuditEntry, NodeId, StoredCheckpoint};
use super::Portal;
use note::{Checkpoint, NoteVerifier, SignedNote};
use proof::Subtrees;
use std::collections::HashMap;
use std::path::Path;

/// The file in the data directory holding the log's private key.
pub const LOG_KEY_FILE: &str = "log-key.ed25519";
/// Entries given leaves per sequencing transaction.
const SEQUENCE_BATCH: u32 = 5_000;
/// Leaf hashes served per page.
pub const LEAF_PAGE: u32 = 1_000;

/// A leaf's bytes: the entry as a compact JSON array
/// `[nonce, seq, at_us, actor, action, vin, details]` (`vin` may be null;
/// `details` is the JSON text as stored, itself a string).
pub fn leaf_bytes(e: &AuditEntry) -> Vec<u8> {
    serde_json::to_vec(&(
        &e.nonce, e.seq, e.at_us, &e.actor, &e.action, &e.vin, &e.details,
    ))
    .expect("strings and numbers serialise")
}

/// RFC 9162's leaf hash of an entry: SHA-256(0x00 ‖ leaf bytes).
pub fn entry_hash(e: &AuditEntry) -> Hash {
    leaf_hash(&leaf_bytes(e))
}

/// The log's identity and key: checkpoints are signed notes by `origin`.
pub struct LogKey {
    pub origin: String,
    signer: Signer,
    verifier: NoteVerifier,
}

impl LogKey {
    /// Loads (or creates, on first start) the log's key in `data_dir`.
    pub fn load_or_create(data_dir: &Path, origin: &str) -> Result<LogKey, ServiceError> {
        let signer = Signer::load_or_create_file(&data_dir.join(LOG_KEY_FILE))?;
        Self::new(origin, signer)
    }

    pub fn new(origin: &str, signer: Signer) -> Result<LogKey, ServiceError> {
        let verifier = NoteVerifier::new(origin, signer.verifying_key()).map_err(|e| {
            ServiceError::invalid("invalid_log_origin", "log-origin", e.to_string())
        })?;
        Ok(LogKey {
            origin: origin.to_string(),
            signer,
            verifier,
        })
    }

    /// The verifier key witnesses and verifiers are given
    /// (`<origin>+<key id>+<key>`).
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    fn sign(&self, checkpoint: &Checkpoint) -> Result<String, ServiceError> {
        SignedNote::sign(checkpoint.text(), &self.origin, self.signer.key())
            .map(|note| note.encode())
            .map_err(|e| ServiceError::Internal(format!("signing a checkpoint: {e}")))
    }
}

/// The stored subtrees a proof needs, read in one query: the proof is made
/// twice, first to learn which subtrees it reads, then from what was read.
struct Recorded {
    wanted: Vec<NodeId>,
    known: HashMap<NodeId, Hash>,
}

impl Subtrees for Recorded {
    type Error = std::convert::Infallible;
    fn complete(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        Ok(match self.known.get(&(level, index)) {
            Some(hash) => *hash,
            None => {
                self.wanted.push((level, index));
                [0; 32]
            }
        })
    }
}

impl Portal {
    /// Gives every waiting entry its leaf, then signs a checkpoint of the
    /// tree if it grew (or none was signed yet). Returns the newest checkpoint.
    pub async fn sequence_log(&self) -> Result<Option<StoredCheckpoint>, ServiceError> {
        let grown = loop {
            let step = self.store.sequence_log(SEQUENCE_BATCH, entry_hash).await?;
            if step.added < SEQUENCE_BATCH as u64 {
                break step;
            }
        };
        let latest = self.store.latest_checkpoint().await?;
        let (Some(key), Some(root)) = (&self.log, grown.root) else {
            return Ok(latest);
        };
        if latest.as_ref().is_some_and(|c| c.size >= grown.size) {
            return Ok(latest);
        }
        let checkpoint = Checkpoint {
            origin: key.origin.clone(),
            size: grown.size,
            root,
        };
        let stored = StoredCheckpoint {
            size: grown.size,
            root,
            note: key.sign(&checkpoint)?,
            signed_at_us: super::now_us(),
        };
        self.store.put_checkpoint(&stored).await?;
        Ok(Some(stored))
    }

    /// Runs a proof over the stored subtrees (at most two reads).
    async fn prove<T>(&self, make: impl Fn(&mut Recorded) -> T) -> Result<T, ServiceError> {
        let mut tree = Recorded {
            wanted: Vec::new(),
            known: HashMap::new(),
        };
        let first = make(&mut tree);
        if tree.wanted.is_empty() {
            return Ok(first);
        }
        let ids = std::mem::take(&mut tree.wanted);
        let hashes = self.store.log_nodes(&ids).await?;
        tree.known = ids.into_iter().zip(hashes).collect();
        Ok(make(&mut tree))
    }

    /// Checks `size` against the tree: proofs are for sizes it has reached.
    async fn reached(&self, size: u64) -> Result<(), ServiceError> {
        let now = self.store.log_size().await?;
        if size == 0 || size > now {
            return Err(ServiceError::invalid(
                "size_out_of_range",
                "size",
                format!("the log has {now} leaves; a proof needs a size from 1 to {now}"),
            ));
        }
        Ok(())
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub async fn log_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ServiceError> {
        self.reached(size).await?;
        if index >= size {
            return Err(ServiceError::invalid(
                "index_out_of_range",
                "index",
                format!("a tree of {size} leaves has leaves 0 to {}", size - 1),
            ));
        }
        self.prove(|tree| {
            proof::inclusion(tree, index, size).unwrap_or_else(|never| match never {})
        })
        .await
    }

    /// The inclusion proofs of leaves `indexes` (each below `size`) in the
    /// tree of `size` leaves, made together: at most two reads in all.
    pub(crate) async fn log_inclusions(
        &self,
        indexes: &[u64],
        size: u64,
    ) -> Result<Vec<Vec<Hash>>, ServiceError> {
        self.prove(|tree| {
            indexes
                .iter()
                .map(|&i| proof::inclusion(tree, i, size).unwrap_or_else(|never| match never {}))
                .collect()
        })
        .await
    }

    /// The consistency proof from the tree of `old` leaves to that of `new`.
    pub async fn log_consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, ServiceError> {
        self.reached(new).await?;
        if old == 0 || old > new {
            return Err(ServiceError::invalid(
                "size_out_of_range",
                "old",
                format!("the older size is from 1 to {new}"),
            ));
        }
        self.prove(|tree| proof::consistency(tree, old, new).unwrap_or_else(|never| match never {}))
            .await
    }

    /// The leaf hashes from `from` on in a tree of `size` leaves (a page).
    async fn log_leaf_hashes(
        &self,
        from: u64,
        size: u64,
        limit: u32,
    ) -> Result<Vec<Hash>, ServiceError> {
        let end = size.min(from.saturating_add(limit.min(LEAF_PAGE) as u64));
        if from >= end {
            return Ok(Vec::new());
        }
        let ids: Vec<NodeId> = (from..end).map(|i| (0, i)).collect();
        Ok(self.store.log_nodes(&ids).await?)
    }
}

/// A hash as served (standard base64), read back; `None` if it is not one.
pub fn decoded(text: &str) -> Option<Hash> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| Hash::try_from(bytes).ok())
}

/// Hashes as served: standard base64, as in checkpoints.
fn encoded(hashes: Vec<Hash>) -> Vec<String> {
    use base64::Engine as _;
    hashes
        .iter()
        .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
        .collect()
}

/// `GET /log/proof/inclusion`: leaf `index` in the tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// RFC 9162 `PATH`, from the leaf's sibling up; base64.
    pub hashes: Vec<String>,
}

/// `GET /log/proof/consistency`: the tree of `old` leaves is the start of
/// the tree of `new` leaves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsistencyProof {
    pub old: u64,
    pub new: u64,
    /// RFC 9162 `PROOF`; base64.
    pub hashes: Vec<String>,
}

/// `GET /log/leaves`: the leaf hashes from `from` on, at most [`LEAF_PAGE`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeafPage {
    pub from: u64,
    /// The tree's size when read.
    pub size: u64,
    /// SHA-256(0x00 ‖ leaf bytes) of each leaf; base64.
    pub hashes: Vec<String>,
}

impl Portal {
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, ServiceError> {
        Ok(InclusionProof {
            index,
            size,
            hashes: encoded(self.log_inclusion(index, size).await?),
        })
    }

    pub async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProof, ServiceError> {
        Ok(ConsistencyProof {
            old,
            new,
            hashes: encoded(self.log_consistency(old, new).await?),
        })
    }

    pub async fn leaf_page(&self, from: u64) -> Result<LeafPage, ServiceError> {
        let size = self.store.log_size().await?;
        Ok(LeafPage {
            from,
            size,
            hashes: encoded(self.log_leaf_hashes(from, size, LEAF_PAGE).await?),
        })
    }
}

/// A running sequencer (see [`spawn_sequencer`]).
pub struct Sequencer {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sequencer {
    /// Ends it between two rounds, never inside one: a round cut short
    /// could leave its write transaction open on a pooled connection.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Sequences the log every `every` while the runtime runs (dropping the
/// returned handle does not stop it): entries get their leaves within about
/// that long, and a checkpoint is signed whenever the tree grew. A failure
/// is logged and tried again at the next tick.
pub fn spawn_sequencer(portal: Portal, every: std::time::Duration) -> Sequencer {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if *stopped.borrow() {
                break;
            }
            if let Err(e) = portal.sequence_log().await {
                tracing::warn!("sequencing the transparency log: {e}");
            }
        }
    });
    Sequencer { stop, task }
}
