//! Checking the audit log: every entry is a leaf of the transparency log
//! (`tlog`); `portal audit verify` recomputes every leaf and every stored
//! subtree, and checks the newest checkpoint and the one it verified before.

use super::seal::{Hash, TreeBuilder};
use super::store::log::grow;
use super::store::{Store, StoreError};
use super::tlog::entry_hash;
use super::tlog::note::{Checkpoint, NoteVerifier, SignedNote};
use sha2::{Digest, Sha256};

/// SHA-256 of a serialisable value's JSON encoding, as hex (record digests).
pub fn digest_json<T: serde::Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("records serialise to JSON");
    hex::encode(Sha256::digest(&bytes))
}

/// Where the log stops being intact.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogBreak {
    /// The first leaf that does not fit (or the tree's size, for what is missing at its end).
    pub leaf: u64,
    pub reason: String,
}

/// A tree size and its root (hex) that were verified: kept outside the
/// database (in the data directory), so a rewrite or a deletion shows next time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogHead {
    pub size: u64,
    pub root: String,
}

/// What `portal audit verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogReport {
    /// Leaves that verify.
    pub entries: u64,
    /// Entries waiting for the sequencer (not leaves yet).
    pub pending: u64,
    pub head: Option<LogHead>,
    /// The newest checkpoint's size, if its root and signature checked out.
    pub checkpoint: Option<u64>,
    pub broken: Option<LogBreak>,
}

const PAGE: u32 = 1_000;

/// Walks every leaf in order: each entry must have the next leaf, hash to
/// the stored leaf hash, and every stored subtree must be the hash of its
/// leaves. The newest checkpoint must be the root at its size (and, with
/// `log_key`, signed by it); `known` must still be the root at its size.
pub async fn verify_log(
    store: &dyn Store,
    known: Option<&LogHead>,
    log_key: Option<&NoteVerifier>,
) -> Result<LogReport, StoreError> {
    let size = store.log_size().await?;
    let checkpoint = store.latest_checkpoint().await?;
    let mut report = LogReport {
        entries: 0,
        pending: store.log_pending().await?,
        head: None,
        checkpoint: None,
        broken: None,
    };
    let mut tree = TreeBuilder::new();
    let mut roots_at: Vec<(u64, Hash)> = Vec::new();
    let wanted: Vec<u64> = checkpoint
        .iter()
        .map(|c| c.size)
        .chain(known.map(|k| k.size))
        .collect();
    let mut edge: Vec<Hash> = Vec::new();
    let mut n = 0u64;
    let broken = |leaf: u64, reason: String| Some(LogBreak { leaf, reason });
    'pages: while n < size {
        let page = store.log_leaves(n, PAGE).await?;
        if page.is_empty() {
            report.broken = broken(n, format!("leaves {n}–{} are missing", size - 1));
            break;
        }
        let mut hashes = Vec::with_capacity(page.len());
        for (i, e) in page.iter().enumerate() {
            let at = n + i as u64;
            if e.leaf != Some(at as i64) {
                report.broken = broken(
                    at,
                    format!(
                        "leaf {at} is missing (the next entry holds leaf {})",
                        e.leaf.unwrap_or(-1)
                    ),
                );
                break 'pages;
            }
            hashes.push(entry_hash(e));
        }
        let grown = grow(n, &edge, &hashes);
        let ids: Vec<_> = grown.nodes.iter().map(|(id, _)| *id).collect();
        let stored = store.log_nodes(&ids).await?;
        for ((id, expected), held) in grown.nodes.iter().zip(&stored) {
            if expected != held {
                let leaf = id.1 << id.0;
                report.broken = broken(
                    leaf,
                    if id.0 == 0 {
                        format!(
                            "entry seq {} does not match its leaf hash (edited)",
                            page[(id.1 - n) as usize].seq
                        )
                    } else {
                        format!("the stored subtree at level {} over leaf {leaf} is not the hash of its leaves", id.0)
                    },
                );
                break 'pages;
            }
        }
        for h in &hashes {
            tree.push(*h);
            if wanted.contains(&tree.len()) {
                roots_at.push((tree.len(), tree.root().expect("leaves")));
            }
        }
        n = grown.size;
        report.entries = n;
        // The next page grows from the edge just recomputed (and checked).
        edge = grown.edge;
    }
    let root_at = |size: u64| roots_at.iter().find(|(s, _)| *s == size).map(|(_, r)| *r);
    if report.broken.is_none() {
        if let Some(c) = &checkpoint {
            let body = SignedNote::parse(&c.note)
                .ok()
                .and_then(|note| Checkpoint::parse(&note.text).ok().map(|cp| (note, cp)));
            let reason = match (&body, root_at(c.size)) {
                (None, _) => Some("the newest checkpoint is not a signed checkpoint".to_string()),
                (_, None) => Some(format!(
                    "the newest checkpoint is for {} leaves; the tree has {n}",
                    c.size
                )),
                (Some((_, cp)), Some(root)) if cp.root != root || cp.size != c.size => {
                    Some(format!(
                        "the checkpoint at {} leaves does not match the tree's root",
                        c.size
                    ))
                }
                (Some((note, _)), _) => log_key
                    .and_then(|key| note.verify(key).err())
                    .map(|e| format!("the checkpoint at {} leaves: {e}", c.size)),
            };
            match reason {
                Some(reason) => report.broken = broken(c.size, reason),
                None => report.checkpoint = Some(c.size),
            }
        }
    }
    if report.broken.is_none() {
        if let Some(k) = known {
            match root_at(k.size) {
                None => {
                    report.broken = broken(n, format!(
                        "{} leaves were verified before; the tree has only {n} (entries were deleted)",
                        k.size
                    ))
                }
                Some(root) if hex::encode(root) != k.root => {
                    report.broken = broken(k.size, format!(
                        "the first {} leaves are not the ones verified before (the log was rewritten)",
                        k.size
                    ))
                }
                Some(_) => {}
            }
        }
    }
    if report.broken.is_none() {
        report.head = tree.root().map(|root| LogHead {
            size: n,
            root: hex::encode(root),
        });
    }
    Ok(report)
}
