//! The transparency log at a glance: what `GET /log/overview` returns and
//! the `/transparency` page shows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOverview {
    /// The log's name, the first line of its checkpoints.
    pub origin: String,
    /// The log's verifier key (`<origin>+<key id>+<key>`), when loaded.
    pub key: Option<String>,
    /// Leaves in the tree.
    pub size: u64,
    /// Entries waiting for a leaf (given one within seconds).
    pub pending: u64,
    /// The newest signed checkpoint.
    pub checkpoint: Option<CheckpointSummary>,
    /// Every witness this portal expects, in configuration order.
    pub witnesses: Vec<WitnessStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    pub size: u64,
    /// Base64, as in the checkpoint.
    pub root: String,
    /// RFC 3339, UTC.
    pub signed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessStatus {
    pub name: String,
    /// Its verifier key (`<name>+<key id>+<key>`).
    pub key: String,
    /// Its newest cosignature, if any.
    pub last: Option<LastCosignature>,
    /// No cosignature for longer than the lateness limit while the log
    /// signed newer checkpoints (or none at all yet).
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCosignature {
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The time the witness states (RFC 3339, UTC).
    pub cosigned_at: String,
}

/// One cosignature kept (the reply to `POST /log/cosignatures`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignatureKept {
    pub witness: String,
    pub size: u64,
    /// The time the witness states (RFC 3339, UTC).
    pub cosigned_at: String,
}

/// `GET /log/since`: the newest checkpoint, to keep, and the check of one
/// kept before (the owner's access page turns red when it fails).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSince {
    /// The newest checkpoint: keep its size and root to check later.
    pub now: Option<CheckpointSummary>,
    /// The checkpoint given, checked against `now`.
    pub seen: Option<SeenCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenCheck {
    pub size: u64,
    /// Base64, as given.
    pub root: String,
    /// The log now extends the kept checkpoint: nothing it held was changed
    /// or removed.
    pub consistent: bool,
    /// What broke, when not (the page says it in the reader's language).
    pub broken: Option<SeenBreak>,
    /// Why not, when not, in English (for tools).
    pub reason: Option<String>,
    /// RFC 9162 `PROOF(size, D[now])`, base64, to check independently.
    pub proof: Vec<String>,
}

/// How a kept checkpoint fails against the log now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeenBreak {
    /// The log has no checkpoint at all.
    NoCheckpoint,
    /// The log is smaller than the kept checkpoint: entries were removed.
    Shorter,
    /// The log does not start with the kept tree: it was rewritten.
    Rewritten,
}
