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
