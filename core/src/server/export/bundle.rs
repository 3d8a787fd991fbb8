//! Evidence bundles: the CSV and NDJSON files of an export, `manifest.json`
//! saying what they hold and who asked, and `manifest.sig`, the portal's
//! Ed25519 signature over the manifest's bytes. Built in temporary files
//! (bounded memory), the data members deflated while they are written, then
//! sent.

use super::{csv, file_sink, gpx, member_sink, ndjson, parquet, Plan, Progress};
use crate::domain::export::ExportFormat;
use crate::domain::export::LocationRedaction;
use crate::domain::manifest::{
    LogProof, Manifest, ManifestFile, ManifestGap, ManifestRange, ReportNote, SignatureNote,
    MANIFEST_SCHEMA_VERSION,
};
use crate::domain::time::format_utc;
use crate::server::error::ServiceError;
use crate::server::signing::Signer;
use crate::server::store::{Store, TimeRange};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::Arc;

/// The names inside every bundle.
pub const SAMPLES_FILE: &str = "samples.csv";
pub const DATA_FILE: &str = "data.ndjson";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "manifest.sig";
pub const REPORT_FILE: &str = "report.pdf";
/// What each exported channel is (the data dictionary of those channels).
pub const DICTIONARY_FILE: &str = "dictionary.json";
/// Asked for with `include`: the samples as Parquet, the tracks as GPX.
pub const PARQUET_FILE: &str = "samples.parquet";
pub const GPX_FILE: &str = "tracks.gpx";
/// The bundle's place in the transparency log (not in the manifest).
pub const LOG_PROOF_FILE: &str = "log-proof.json";
pub use super::sealed::SEALED_FILE;

/// What a bundle is made with: the data, the signing key, the report's font.
pub(crate) struct Sources<'a> {
    pub store: Arc<dyn Store>,
    pub signer: &'a Signer,
    pub font: &'a super::report::ReportFont,
}

/// Who asked, and what the bundle was cut from (written into the manifest).
pub(crate) struct Provenance {
    pub requested_by: serde_json::Value,
    pub periods: Vec<TimeRange>,
    pub query: serde_json::Value,
    /// The dictionary of the exported channels (bundles carry it).
    pub dictionary: Option<crate::domain::dictionary::DataDictionary>,
}

/// A bundle whose signed part is written, and its manifest's SHA-256; the
/// log proof, which needs that hash in the log first, is added by
/// [`Bundle::finish`].
pub(crate) struct Bundle {
    zip: zip::ZipWriter<std::fs::File>,
    file: tempfile::NamedTempFile,
    pub id: String,
    pub manifest_sha256: String,
}

pub(super) fn zip_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

fn zipped(e: zip::result::ZipError) -> ServiceError {
    ServiceError::Internal(format!("zipping: {e}"))
}

impl Bundle {
    /// Adds `log-proof.json` (when the portal keeps a log) and closes the zip.
    pub(crate) fn finish(
        mut self,
        log_proof: Option<&LogProof>,
    ) -> Result<tempfile::NamedTempFile, ServiceError> {
        if let Some(proof) = log_proof {
            let bytes = serde_json::to_vec_pretty(proof)
                .map_err(|e| ServiceError::Internal(format!("writing the log proof: {e}")))?;
            self.zip
                .start_file(LOG_PROOF_FILE, zip_options())
                .map_err(zipped)?;
            self.zip.write_all(&bytes).map_err(io("zipping"))?;
        }
        self.zip
            .finish()
            .map_err(zipped)?
            .sync_all()
            .map_err(io("zipping"))?;
        Ok(self.file)
    }
}

fn io(what: &str) -> impl Fn(std::io::Error) -> ServiceError + '_ {
    move |e| ServiceError::Internal(format!("{what}: {e}"))
}

fn manifest_range(r: &TimeRange) -> ManifestRange {
    ManifestRange {
        from: (r.from_us > 0).then(|| format_utc(r.from_us)),
        to: (r.to_us != i64::MAX).then(|| format_utc(r.to_us)),
    }
}

/// 128 random bits as hex: a bundle's (or a report's) id.
fn new_id() -> String {
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    hex::encode(id)
}

/// What the report states besides the data: ids, key, files, channels, gaps, who asked.
fn report_facts(
    id: &str,
    signer: &Signer,
    files: Vec<(String, String, u64, u64)>,
    stats: &csv::CsvStats,
    provenance: &Provenance,
    generated_us: i64,
) -> super::report::ReportFacts {
    super::report::ReportFacts {
        bundle_id: id.to_string(),
        fingerprint: signer.public_key().fingerprint,
        files,
        present: stats.present.clone(),
        absent: stats.absent.clone(),
        gaps: stats.gaps.clone(),
        requested_by: provenance.requested_by.clone(),
        generated_us,
        sealed: None,
    }
}

/// The dispute report on its own: one pass over the samples for what it
/// states (channels, gaps), then the PDF; no data files, no zip. Returns
/// the file, its id and its SHA-256.
pub(crate) async fn report_only(
    sources: Sources<'_>,
    plan: &Plan,
    provenance: Provenance,
    progress: Option<Arc<Progress>>,
) -> Result<(tempfile::NamedTempFile, String, String), ServiceError> {
    let (mut sink, _scratch) = file_sink(progress)?;
    let stats = csv::write(sources.store.clone(), plan, &mut sink).await?;
    drop(sink);
    let id = new_id();
    let generated_us = chrono::Utc::now().timestamp_micros();
    let facts = report_facts(
        &id,
        sources.signer,
        Vec::new(),
        &stats,
        &provenance,
        generated_us,
    );
    let pdf = super::report::write(&sources.store, plan, &facts, sources.font).await?;
    let file = tempfile::NamedTempFile::new().map_err(io("creating the report"))?;
    std::fs::write(file.path(), &pdf).map_err(io("writing the report"))?;
    Ok((file, id, hex::encode(Sha256::digest(&pdf))))
}

pub(crate) async fn build(
    sources: Sources<'_>,
    transparency_log: Option<String>,
    plan: &Plan,
    provenance: Provenance,
    progress: Option<Arc<Progress>>,
) -> Result<Bundle, ServiceError> {
    let Sources {
        store,
        signer,
        font,
    } = sources;
    // The CSV, the NDJSON and the sealed evidence side by side, each
    // deflated on its own thread as it is written.
    let (mut samples_sink, samples_file) = member_sink(SAMPLES_FILE, progress.clone())?;
    let (mut data_sink, data_file) = member_sink(DATA_FILE, progress.clone())?;
    let (mut sealed_sink, sealed_file) = member_sink(SEALED_FILE, progress.clone())?;
    let (stats, lines, sealed) = tokio::try_join!(
        csv::write(store.clone(), plan, &mut samples_sink),
        ndjson::write(store.clone(), plan, &mut data_sink),
        super::sealed::write(&store, plan, &mut sealed_sink),
    )?;
    let ((samples_sha, samples_size), (data_sha, data_size), (sealed_sha, sealed_size)) = tokio::try_join!(
        samples_sink.finish(),
        data_sink.finish(),
        sealed_sink.finish()
    )?;
    // Further files asked for: (name, temp file, SHA-256, size, rows).
    let mut included = Vec::new();
    for format in &plan.include {
        let name = match format {
            ExportFormat::Parquet => PARQUET_FILE,
            _ => GPX_FILE,
        };
        let (mut sink, temp) = member_sink(name, progress.clone())?;
        let rows = match format {
            ExportFormat::Parquet => parquet::write(store.clone(), plan, &mut sink).await?.rows,
            _ => gpx::write(store.clone(), plan, &mut sink).await?.points,
        };
        let (sha, size) = sink.finish().await?;
        included.push((name, temp, sha, size, rows));
    }

    let id = new_id();
    let generated_us = chrono::Utc::now().timestamp_micros();
    let files = vec![
        (
            SAMPLES_FILE.into(),
            samples_sha.clone(),
            samples_size,
            stats.rows,
        ),
        (DATA_FILE.into(), data_sha.clone(), data_size, lines),
    ];
    let mut facts = report_facts(&id, signer, files, &stats, &provenance, generated_us);
    facts.sealed = Some(super::report::SealedCover {
        signed: sealed
            .as_ref()
            .map_or(0, |s| s.records.min(lines.saturating_sub(1))),
        exported: lines.saturating_sub(1),
        evidence: sealed.as_ref().map(|s| s.evidence.clone()),
    });
    let pdf = super::report::write(&store, plan, &facts, font).await?;
    let report_sha = hex::encode(Sha256::digest(&pdf));
    let dictionary = serde_json::to_vec_pretty(&provenance.dictionary)
        .map_err(|e| ServiceError::Internal(format!("writing the dictionary: {e}")))?;
    let dictionary_sha = hex::encode(Sha256::digest(&dictionary));
    let vehicle = &plan.access.vehicle.vehicle;
    let file = |name: &str, sha256: &str, size: u64, rows: Option<u64>| ManifestFile {
        name: name.into(),
        sha256: sha256.into(),
        size,
        rows,
    };
    let manifest = Manifest {
        bundle_id: id.clone(),
        vin: vehicle.vin.as_str().into(),
        vehicle_timezone: vehicle.timezone.clone(),
        owner_periods: provenance.periods.iter().map(manifest_range).collect(),
        ranges: plan.access.ranges.iter().map(manifest_range).collect(),
        filters: provenance.query,
        generated_at: format_utc(generated_us),
        portal_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: MANIFEST_SCHEMA_VERSION,
        files: vec![
            file(SAMPLES_FILE, &samples_sha, samples_size, Some(stats.rows)),
            file(DATA_FILE, &data_sha, data_size, Some(lines)),
            file(REPORT_FILE, &report_sha, pdf.len() as u64, None),
            file(
                DICTIONARY_FILE,
                &dictionary_sha,
                dictionary.len() as u64,
                None,
            ),
        ]
        .into_iter()
        .chain(
            sealed
                .as_ref()
                .map(|s| file(SEALED_FILE, &sealed_sha, sealed_size, Some(s.lines))),
        )
        .chain(
            included
                .iter()
                .map(|(name, _, sha, size, rows)| file(name, sha, *size, Some(*rows))),
        )
        .collect(),
        vehicle_seals: sealed.as_ref().map(|s| s.evidence.clone()),
        report: ReportNote {
            file: REPORT_FILE.into(),
            languages: vec!["zh-CN".into(), "en".into()],
            note: "both languages in one document".into(),
        },
        channels_present: stats.present.iter().map(|c| c.to_string()).collect(),
        channels_absent: stats.absent.iter().map(|c| c.to_string()).collect(),
        gap_threshold_s: super::GAP_US / 1_000_000,
        gaps: stats
            .gaps
            .iter()
            .map(|(a, b)| ManifestGap {
                last_before: format_utc(*a),
                first_after: format_utc(*b),
                seconds: (b - a) / 1_000_000,
            })
            .collect(),
        location_redaction: plan.positions.level,
        privacy_zones_applied: plan.positions.zones_applied(),
        data_classes: plan.access.classes.clone(),
        location_redaction_note: match plan.positions.level {
            LocationRedaction::None => "no coordinates",
            LocationRedaction::Coarse => "coordinates rounded to 0.01° (about 1 km)",
            LocationRedaction::Full => "coordinates as recorded",
        }
        .into(),
        requested_by: provenance.requested_by,
        transparency_log,
        signature: SignatureNote {
            algorithm: "Ed25519".into(),
            file: SIGNATURE_FILE.into(),
            public_key_fingerprint: signer.public_key().fingerprint,
        },
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ServiceError::Internal(format!("writing the manifest: {e}")))?;
    let signature = hex::encode(signer.sign(&manifest_bytes));

    let zip_file = tempfile::NamedTempFile::new().map_err(io("creating the bundle"))?;
    let mut zip = zip::ZipWriter::new(zip_file.reopen().map_err(io("opening the bundle"))?);
    let options = zip_options();
    // Members already deflated are copied as they are; the small ones
    // written now.
    let merge = |zip: &mut zip::ZipWriter<std::fs::File>, member: &tempfile::NamedTempFile| {
        let file = member.reopen().map_err(io("reading a bundle file"))?;
        let archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(zipped)?;
        zip.merge_archive(archive).map_err(zipped)
    };
    merge(&mut zip, &samples_file)?;
    merge(&mut zip, &data_file)?;
    for (name, bytes) in [(REPORT_FILE, &pdf), (DICTIONARY_FILE, &dictionary)] {
        zip.start_file(name, options).map_err(zipped)?;
        zip.write_all(bytes).map_err(io("zipping"))?;
    }
    if sealed.is_some() {
        merge(&mut zip, &sealed_file)?;
    }
    for (_, temp, ..) in &included {
        merge(&mut zip, temp)?;
    }
    zip.start_file(MANIFEST_FILE, options).map_err(zipped)?;
    zip.write_all(&manifest_bytes).map_err(io("zipping"))?;
    zip.start_file(SIGNATURE_FILE, options).map_err(zipped)?;
    zip.write_all(format!("{signature}\n").as_bytes())
        .map_err(io("zipping"))?;
    Ok(Bundle {
        zip,
        file: zip_file,
        id,
        manifest_sha256: hex::encode(Sha256::digest(&manifest_bytes)),
    })
}
