//! `manifest.json`: what an evidence bundle holds, what it was cut from, who
//! asked, and how to check it. One type for the bundle writer and the
//! verifier, so the two cannot drift apart. Its JSON (field names and order)
//! is what the portal's signature covers.

use super::export::LocationRedaction;
use serde::{Deserialize, Serialize};

/// The schema this portal writes.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// 128 random bits, hex.
    pub bundle_id: String,
    pub vin: String,
    /// The vehicle's IANA zone (local times in the files are in it).
    pub vehicle_timezone: String,
    /// The reader's ownership periods (or the case's coverage) the export was cut from.
    pub owner_periods: Vec<ManifestRange>,
    /// The ranges actually exported: the request within the periods.
    pub ranges: Vec<ManifestRange>,
    /// The request's filters, as asked.
    pub filters: serde_json::Value,
    /// RFC 3339, UTC.
    pub generated_at: String,
    pub portal_version: String,
    pub schema_version: u32,
    /// Every member but the manifest and its signature.
    pub files: Vec<ManifestFile>,
    pub report: ReportNote,
    pub channels_present: Vec<String>,
    pub channels_absent: Vec<String>,
    /// Pauses longer than this are listed in `gaps`.
    pub gap_threshold_s: i64,
    pub gaps: Vec<ManifestGap>,
    pub location_redaction: LocationRedaction,
    pub location_redaction_note: String,
    /// The owners' privacy zones hid the positions inside them (where the
    /// zones are is not said). Absent in bundles made before zones existed.
    #[serde(default)]
    pub privacy_zones_applied: bool,
    /// The data classes the bundle holds (a grant's recipient: those of the
    /// grant). Absent in bundles made before grants existed.
    #[serde(default)]
    pub data_classes: Vec<super::sharing::DataClass>,
    /// What the vehicle itself signed of the exported records (format 1.1):
    /// absent when no seal covers any of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_seals: Option<super::sealed::SealedEvidence>,
    /// Who asked and why (role, purpose; for staff exports the case,
    /// recipient and legal basis).
    pub requested_by: serde_json::Value,
    /// The transparency log's verifier key (`<origin>+<key id>+<key>`):
    /// `log-proof.json` is checked with it. Absent when the portal ran
    /// without a log key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transparency_log: Option<String>,
    pub signature: SignatureNote,
}

/// A time range; an open end is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One member of the bundle and what it must hash to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    /// SHA-256 of the member's bytes, lower-case hex.
    pub sha256: String,
    pub size: u64,
    /// Data rows (CSV rows, NDJSON lines); `null` for the report.
    pub rows: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportNote {
    pub file: String,
    pub languages: Vec<String>,
    pub note: String,
}

/// A pause in the samples: the last before it, the first after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestGap {
    pub last_before: String,
    pub first_after: String,
    pub seconds: i64,
}

/// How the manifest is signed: Ed25519 over its exact bytes, hex in `file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureNote {
    pub algorithm: String,
    pub file: String,
    pub public_key_fingerprint: String,
}

/// `log-proof.json`: the bundle's place in the transparency log. Not listed
/// in the manifest: it is written after the disclosure, whose leaf holds
/// the manifest's SHA-256 (`docs/evidence.md`, section 7.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogProof {
    /// The checkpoint every proof leads to: a signed note (C2SP
    /// `tlog-checkpoint`) with any cosignatures it had.
    pub checkpoint: String,
    /// The leaf of every import that supplied the vehicle's records in the
    /// exported ranges, and of this disclosure, in leaf order.
    pub leaves: Vec<ProvenLeaf>,
    /// The newest checkpoint witnesses had cosigned, and the consistency
    /// proof from it to `checkpoint`; `null` if none was cosigned yet.
    pub witnessed: Option<WitnessedCheckpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenLeaf {
    /// `import` or `disclosure`.
    pub role: String,
    pub index: u64,
    /// The leaf's bytes exactly (a compact JSON array, section 7.1).
    pub leaf: String,
    /// RFC 9162 `PATH(index, D[checkpoint size])`, base64.
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedCheckpoint {
    /// A signed note: the log's signature and the witnesses' cosignatures.
    pub checkpoint: String,
    /// RFC 9162 `PROOF(witnessed size, D[checkpoint size])`, base64.
    pub consistency: Vec<String>,
}
