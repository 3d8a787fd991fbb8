//! The lines format 1.1 adds (`shared/spec/vehicle-log-format.md`,
//! "Version 1.1: sealed logs"): a vehicle's certified keys, `position`
//! records and `seal` records. Wire shapes only; `server::seal::lines`
//! checks them.

use serde::{Deserialize, Serialize};

/// One entry of a `vehicle` line's `keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleKey {
    /// Unique per VIN; a seal names the key it used.
    pub id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public: String,
    /// RFC 3339, as the CA certified it.
    pub not_before: String,
    /// The certifying CA's `id`.
    pub ca: String,
    /// Base64 of the CA's 64-byte signature over the key's payload.
    pub cert: String,
}

/// `{"kind":"position", …}`: a location as its own record; identity is
/// (`vin`, `t`) among positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionLine {
    pub kind: String,
    pub vin: String,
    pub t: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading_deg: Option<f64>,
    /// Base64 of 16 random bytes, so a withheld position cannot be guessed
    /// from its leaf hash.
    pub nonce: String,
}

/// Seals of one key that never arrived: `from_seq..=to_seq`, between the
/// seal before (its `last_t`; none when the gap starts at 1) and the one
/// after (its `first_t`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingBatch {
    pub key: String,
    pub from_seq: u64,
    pub to_seq: u64,
    pub after: Option<String>,
    pub before: String,
}

/// What an evidence bundle carries of the vehicle's own seals
/// (`sealed.ndjson`, laid out in `docs/evidence.md`), as its manifest states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEvidence {
    pub file: String,
    /// Seals in the file, and the covered lines revealed and withheld.
    pub seals: u64,
    pub revealed: u64,
    pub withheld: u64,
    /// The vehicle keys the seals name.
    pub keys: Vec<String>,
    /// Gaps in the keys' seals within the exported span.
    pub missing_batches: Vec<MissingBatch>,
}

/// `{"kind":"seal", …}`: the vehicle's signature over the lines before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealLine {
    pub kind: String,
    pub vin: String,
    pub key: String,
    pub seq: u64,
    pub count: u64,
    pub first_t: String,
    pub last_t: String,
    /// Hex SHA-256 of the previous seal's payload of the same key.
    pub prev: String,
    /// Hex Merkle root of the covered lines.
    pub root: String,
    /// Base64 Ed25519 signature over the seal's payload.
    pub sig: String,
}
