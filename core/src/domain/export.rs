//! Export requests: the browser's filters plus a format and a location
//! redaction, chosen explicitly.

use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// What an export is written as.
    ExportFormat { Csv = "csv", Ndjson = "ndjson", Bundle = "bundle", Pdf = "pdf", Gpx = "gpx", Parquet = "parquet" }
);

wire_enum!(
    /// How much of the position an export keeps: none (the default), rounded
    /// to 0.01° (about 1 km), or full.
    LocationRedaction { None = "none", Coarse = "coarse", Full = "full" }
);

/// `GET /api/v1/vehicles/{vin}/export` as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub location: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<String>,
    pub gear: Option<String>,
    /// Comma list of channels (default: all).
    pub fields: Option<String>,
    /// Event filters (NDJSON and bundles carry events).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub group: Option<String>,
    pub severity: Option<String>,
    /// Bundles only: more files of the same samples, a comma list of
    /// `parquet` and `gpx`.
    pub include: Option<String>,
}

/// What checking a bundle found (`POST /api/v1/verify`, `portal verify`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub valid: bool,
    pub problems: Vec<Problem>,
    pub bundle_id: Option<String>,
    pub vin: Option<String>,
    /// SHA-256 of the manifest's bytes, as the owner's disclosure log lists it.
    pub manifest_sha256: Option<String>,
    /// The vehicle's own seals, when the bundle carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedReport>,
    /// The bundle's place in the transparency log, when it carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogReport>,
}

/// What `log-proof.json` proves, once checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogReport {
    pub origin: String,
    /// The size of the checkpoint the proofs lead to.
    pub size: u64,
    /// Import leaves proved (the imports that supplied the records).
    pub imports: u64,
    /// The disclosure's leaf index.
    pub disclosure: Option<u64>,
    /// The newest witnessed checkpoint the log is shown to extend.
    pub witnessed: Option<WitnessedReport>,
    /// Whether cosignatures were checked against witness keys given to the
    /// verifier.
    pub witnesses_checked: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedReport {
    pub size: u64,
    /// Import leaves inside the witnessed tree.
    pub imports: u64,
    /// Cosignatures that verify with the witness keys given.
    pub cosigned_by: Vec<Cosigner>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosigner {
    pub name: String,
    /// RFC 3339, UTC: the time the witness states.
    pub at: String,
}

/// One reason a bundle does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// Not a readable zip file.
    NotABundle {
        reason: String,
    },
    MissingManifest,
    /// The manifest is not the JSON a bundle carries.
    BadManifest {
        reason: String,
    },
    MissingSignature,
    /// The signature does not match the manifest and the key.
    BadSignature,
    /// A file the manifest lists is not in the bundle.
    MissingFile {
        file: String,
    },
    /// A file is in the bundle that the manifest does not list.
    ExtraFile {
        file: String,
    },
    /// A file's content differs from what the manifest says.
    HashMismatch {
        file: String,
    },
    /// Two members share a name: zip readers disagree on which one counts,
    /// so what is extracted need not be what was checked.
    DuplicateMember {
        file: String,
    },
    /// The zip could be read in more than one way (data before, between or
    /// over its members, headers that disagree, names that are not plain).
    AmbiguousArchive {
        reason: String,
    },
    /// Beyond the bounds a bundle stays in (members, inflated size, ratio),
    /// or encrypted, or compressed in a way bundles never are.
    UnsafeArchive {
        reason: String,
    },
    /// A member's content does not match its own size and CRC-32.
    CorruptMember {
        file: String,
    },
    /// The bundle's log proof does not check (a leaf, a proof, the
    /// checkpoint's signature, a cosignature, or what a leaf says).
    LogProof {
        reason: String,
    },
    /// A line of the vehicle's sealed evidence does not check: a seal's
    /// root, signature or chain, or a key's certificate.
    SealedLine {
        file: String,
        line: u64,
        reason: String,
    },
}

/// What the vehicle's own seals in a bundle prove (`sealed.ndjson`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedReport {
    /// Whether the vehicle keys were checked against the vehicle CAs given;
    /// otherwise only against the keys the bundle lists.
    pub ca_checked: bool,
    pub keys: Vec<String>,
    pub seals: u64,
    /// Revealed lines whose seal's root and signature verify.
    pub verified: u64,
    /// Covered lines handed over only as leaf hashes.
    pub withheld: u64,
    /// Records of `data.ndjson` that no verified sealed line vouches for.
    pub unsealed: u64,
    pub missing_batches: Vec<super::sealed::MissingBatch>,
    pub by_seal: Vec<SealCheck>,
}

/// One seal of a bundle: what it covers of the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealCheck {
    pub key: String,
    pub seq: u64,
    pub first_t: String,
    pub last_t: String,
    pub revealed: u64,
    pub withheld: u64,
    pub verified: bool,
}

impl Problem {
    /// `code` or `code:file`, for a link back to the verify page.
    pub fn short(&self) -> String {
        let code = match self {
            Problem::NotABundle { .. } => "not_a_bundle",
            Problem::MissingManifest => "missing_manifest",
            Problem::BadManifest { .. } => "bad_manifest",
            Problem::MissingSignature => "missing_signature",
            Problem::BadSignature => "bad_signature",
            Problem::MissingFile { .. } => "missing_file",
            Problem::ExtraFile { .. } => "extra_file",
            Problem::HashMismatch { .. } => "hash_mismatch",
            Problem::DuplicateMember { .. } => "duplicate_member",
            Problem::AmbiguousArchive { .. } => "ambiguous_archive",
            Problem::UnsafeArchive { .. } => "unsafe_archive",
            Problem::CorruptMember { .. } => "corrupt_member",
            Problem::SealedLine { .. } => "sealed_line",
            Problem::LogProof { .. } => "log_proof",
        };
        match self {
            Problem::MissingFile { file }
            | Problem::ExtraFile { file }
            | Problem::HashMismatch { file }
            | Problem::DuplicateMember { file }
            | Problem::CorruptMember { file } => format!("{code}:{file}"),
            Problem::SealedLine { file, line, .. } => format!("{code}:{file}:{line}"),
            _ => code.to_string(),
        }
    }
}

/// One read or disclosure of a vehicle's data, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub at: super::browse::Instant,
    /// `you`, `recipient` (under one of your grants), or the staff role
    /// (`support`, `admin`) of whoever else it was.
    pub by: String,
    /// Staff reads and exports: the case and its stated purpose.
    pub case_no: Option<String>,
    pub purpose: Option<String>,
    /// Staff exports: who received the bundle, and on what legal basis;
    /// grants: the recipient (and `purpose` the grant's).
    pub recipient: Option<String>,
    pub legal_basis: Option<String>,
    pub action: super::audit::AuditAction,
    pub format: Option<ExportFormat>,
    pub location: Option<LocationRedaction>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub bundle_id: Option<String>,
    pub manifest_sha256: Option<String>,
    /// What happened under a grant: the grant, what was read (`telemetry`,
    /// `events`, `crash`, `route`, `export`, …), and why a request was
    /// refused (`revoked`, `expired`, `outside_scope`, `outside_window`,
    /// `other_vehicle`).
    #[serde(default)]
    pub grant_id: Option<i64>,
    #[serde(default)]
    pub reading: Option<String>,
    #[serde(default)]
    pub refused: Option<String>,
}

pub type AccessPage = super::browse::Page<AccessEntry>;

/// What the export page shows before a download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportInfo {
    pub samples: u64,
    /// A rough CSV size, for the reader's patience.
    pub approx_bytes: u64,
    /// The signing key's SHA-256 fingerprint (hex).
    pub fingerprint: Option<String>,
}

wire_enum!(
    /// Where a background export is.
    ExportJobState { Running = "running", Ready = "ready", Failed = "failed" }
);

/// A background export's progress (`GET /api/v1/exports/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportJobStatus {
    pub id: String,
    pub vin: String,
    pub format: String,
    pub state: ExportJobState,
    pub rows_written: u64,
    pub rows_expected: u64,
    pub bytes_written: u64,
    /// The estimate (CSV-sized; a bundle is compressed, so smaller).
    pub bytes_expected: u64,
    /// The file's exact size once ready.
    pub size: Option<u64>,
}

impl ExportJobStatus {
    /// Percent done, by rows (never 100 before the file is ready).
    pub fn percent(&self) -> u32 {
        match self.state {
            ExportJobState::Ready => 100,
            _ if self.rows_expected == 0 => 0,
            _ => ((self.rows_written * 100 / self.rows_expected).min(99)) as u32,
        }
    }
}
