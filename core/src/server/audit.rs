//! The audit log's hash chain: each entry's hash covers its content and the
//! previous entry's hash, so editing, deleting or reordering entries shows.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one entry, chained to `prev_hash`.
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at_us: i64,
    actor: &str,
    action: &str,
    vin: Option<&str>,
    details: &str,
) -> String {
    // A JSON array is an unambiguous encoding of the fields (no delimiter games).
    let canonical = serde_json::json!([prev_hash, seq, at_us, actor, action, vin, details]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// SHA-256 of a serialisable value's JSON encoding, as hex (record digests).
pub fn digest_json<T: serde::Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("records serialise to JSON");
    hex::encode(Sha256::digest(&bytes))
}

/// Where a chain stops being intact.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainBreak {
    /// The first entry that does not fit (or, for a missing tail, the last one held).
    pub seq: i64,
    pub reason: String,
}

/// The newest entry of a verified chain, kept outside the database (in the
/// data directory) so that deleting the newest entries shows too.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// What `portal audit verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChainReport {
    pub entries: u64,
    pub head: Option<ChainHead>,
    pub broken: Option<ChainBreak>,
}

/// Walks the whole audit log in order: every entry must follow the one
/// before (seq + 1, its `prev_hash`) and hash to what it says. With `known`,
/// a head verified earlier must still be in the chain, unchanged.
pub async fn verify_chain(
    store: &dyn super::store::Store,
    known: Option<&ChainHead>,
) -> Result<ChainReport, super::store::StoreError> {
    let mut report = ChainReport {
        entries: 0,
        head: None,
        broken: None,
    };
    let (mut prev_seq, mut prev_hash) = (0i64, GENESIS_HASH.to_string());
    let mut known_seen = false;
    'pages: loop {
        let page = store.audit_entries(prev_seq, 1_000).await?;
        for e in &page {
            let reason = if e.seq != prev_seq + 1 {
                Some(format!(
                    "entries {}–{} are missing (the chain jumps from {prev_seq})",
                    prev_seq + 1,
                    e.seq - 1
                ))
            } else if e.prev_hash != prev_hash {
                Some("its prev_hash is not the hash of the entry before".into())
            } else if e.hash
                != chain_hash(
                    &e.prev_hash,
                    e.seq,
                    e.at_us,
                    &e.actor,
                    &e.action,
                    e.vin.as_deref(),
                    &e.details,
                )
            {
                Some("its content does not match its hash (edited)".into())
            } else if known.is_some_and(|k| k.seq == e.seq && k.hash != e.hash) {
                Some("it differs from the head verified before".into())
            } else {
                None
            };
            if let Some(reason) = reason {
                report.broken = Some(ChainBreak { seq: e.seq, reason });
                break 'pages;
            }
            known_seen |= known.is_some_and(|k| k.seq == e.seq);
            report.entries += 1;
            prev_seq = e.seq;
            prev_hash = e.hash.clone();
        }
        if page.len() < 1_000 {
            break;
        }
    }
    if report.broken.is_none() {
        if let Some(k) = known.filter(|_| !known_seen) {
            report.broken = Some(ChainBreak {
                seq: prev_seq,
                reason: format!(
                    "entries up to {} were verified before and are gone (the newest were deleted)",
                    k.seq
                ),
            });
        }
    }
    if report.broken.is_none() && prev_seq > 0 {
        report.head = Some(ChainHead {
            seq: prev_seq,
            hash: prev_hash,
        });
    }
    Ok(report)
}
