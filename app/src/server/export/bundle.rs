//! Evidence bundles: the CSV and NDJSON files of an export, `manifest.json`
//! saying what they hold and who asked, and `manifest.sig`, the portal's
//! Ed25519 signature over the manifest's bytes. Built in temporary files
//! (bounded memory), then sent.

use super::{csv, file_sink, ndjson, Plan, Progress};
use crate::domain::export::LocationRedaction;
use crate::domain::time::format_utc;
use crate::server::error::ServiceError;
use crate::server::signing::Signer;
use crate::server::store::{Store, TimeRange};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{Seek, Write};
use std::sync::Arc;

/// The names inside every bundle.
pub const SAMPLES_FILE: &str = "samples.csv";
pub const DATA_FILE: &str = "data.ndjson";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "manifest.sig";

/// Who asked, and what the bundle was cut from (written into the manifest).
pub(crate) struct Provenance {
    pub requested_by: serde_json::Value,
    pub periods: Vec<TimeRange>,
    pub query: serde_json::Value,
}

/// A finished bundle in a temporary file, and its manifest's SHA-256.
pub(crate) struct Bundle {
    pub file: tempfile::NamedTempFile,
    pub id: String,
    pub manifest_sha256: String,
}

fn io(what: &str) -> impl Fn(std::io::Error) -> ServiceError + '_ {
    move |e| ServiceError::Internal(format!("{what}: {e}"))
}

fn range_json(r: &TimeRange) -> serde_json::Value {
    json!({
        "from": (r.from_us > 0).then(|| format_utc(r.from_us)),
        "to": (r.to_us != i64::MAX).then(|| format_utc(r.to_us)),
    })
}

pub(crate) async fn build(
    store: Arc<dyn Store>,
    plan: &Plan,
    provenance: Provenance,
    signer: &Signer,
    progress: Option<Arc<Progress>>,
) -> Result<Bundle, ServiceError> {
    let (mut sink, samples_file) = file_sink(progress.clone())?;
    let stats = csv::write(store.clone(), plan, &mut sink).await?;
    let (samples_sha, samples_size) = sink.finish().await?;
    let (mut sink, data_file) = file_sink(progress)?;
    let lines = ndjson::write(store, plan, &mut sink).await?;
    let (data_sha, data_size) = sink.finish().await?;

    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    let id = hex::encode(id);
    let vehicle = &plan.access.vehicle.vehicle;
    let manifest = json!({
        "bundle_id": id,
        "vin": vehicle.vin.as_str(),
        "vehicle_timezone": vehicle.timezone,
        "owner_periods": provenance.periods.iter().map(range_json).collect::<Vec<_>>(),
        "ranges": plan.access.ranges.iter().map(range_json).collect::<Vec<_>>(),
        "filters": provenance.query,
        "generated_at": format_utc(chrono::Utc::now().timestamp_micros()),
        "portal_version": env!("CARGO_PKG_VERSION"),
        "schema_version": 1,
        "files": [
            {"name": SAMPLES_FILE, "sha256": samples_sha, "size": samples_size, "rows": stats.rows},
            {"name": DATA_FILE, "sha256": data_sha, "size": data_size, "rows": lines},
        ],
        "channels_present": stats.present,
        "channels_absent": stats.absent,
        "gap_threshold_s": super::GAP_US / 1_000_000,
        "gaps": stats.gaps.iter().map(|(a, b)| json!({
            "last_before": format_utc(*a),
            "first_after": format_utc(*b),
            "seconds": (b - a) / 1_000_000,
        })).collect::<Vec<_>>(),
        "location_redaction": plan.location.as_str(),
        "location_redaction_note": match plan.location {
            LocationRedaction::None => "no coordinates",
            LocationRedaction::Coarse => "coordinates rounded to 0.01° (about 1 km)",
            LocationRedaction::Full => "coordinates as recorded",
        },
        "requested_by": provenance.requested_by,
        "signature": {
            "algorithm": "Ed25519",
            "file": SIGNATURE_FILE,
            "public_key_fingerprint": signer.public_key().fingerprint,
        },
    });
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ServiceError::Internal(format!("writing the manifest: {e}")))?;
    let signature = hex::encode(signer.sign(&manifest_bytes));

    let zip_file = tempfile::NamedTempFile::new().map_err(io("creating the bundle"))?;
    let mut zip = zip::ZipWriter::new(zip_file.reopen().map_err(io("opening the bundle"))?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let zipped = |e: zip::result::ZipError| ServiceError::Internal(format!("zipping: {e}"));
    for (name, temp) in [(SAMPLES_FILE, &samples_file), (DATA_FILE, &data_file)] {
        zip.start_file(name, options).map_err(zipped)?;
        let mut file = temp.reopen().map_err(io("reading a bundle file"))?;
        file.rewind().map_err(io("reading a bundle file"))?;
        std::io::copy(&mut file, &mut zip).map_err(io("zipping"))?;
    }
    zip.start_file(MANIFEST_FILE, options).map_err(zipped)?;
    zip.write_all(&manifest_bytes).map_err(io("zipping"))?;
    zip.start_file(SIGNATURE_FILE, options).map_err(zipped)?;
    zip.write_all(format!("{signature}\n").as_bytes())
        .map_err(io("zipping"))?;
    zip.finish()
        .map_err(zipped)?
        .sync_all()
        .map_err(io("zipping"))?;
    Ok(Bundle {
        file: zip_file,
        id,
        manifest_sha256: hex::encode(Sha256::digest(&manifest_bytes)),
    })
}
