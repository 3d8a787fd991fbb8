//! Exports: CSV and NDJSON streamed from the store page by page. Memory stays
//! bounded whatever the size, and the database connection is released between
//! pages, so a slow client holds back nobody. Every export is recorded (the
//! audit chain) as a disclosure before its first byte leaves.

pub mod bundle;
mod channels;
mod csv;
pub(crate) mod gpx;
pub mod jobs;
mod member;
mod ndjson;
pub(crate) mod parquet;
pub mod report;
pub(crate) mod sealed;

pub use csv::neutralise;

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::events::EventQuery;
use super::privacy::PositionView;
use super::query;
use super::store::{SampleFilter, Store};
use super::telemetry::SampleQuery;
use super::Portal;
use crate::domain::audit::AuditAction;
use crate::domain::export::{ExportFormat, ExportQuery, LocationRedaction};
use crate::domain::sharing::DataClass;
use crate::domain::time::format_utc;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Rows read from the store per query.
const PAGE: u32 = 5_000;
/// Bytes handed to the client at a time.
const CHUNK: usize = 64 * 1024;
/// Pauses longer than this are listed as gaps in a manifest.
pub(crate) const GAP_US: i64 = super::drives::GAP_US;

/// A started export: what to call it and the bytes as they come.
pub struct Export {
    pub content_type: &'static str,
    pub filename: String,
    /// Known for bundles (built before sending), so browsers show progress.
    pub length: Option<u64>,
    pub body: BoxStream<'static, Result<Vec<u8>, ServiceError>>,
}

impl Export {
    /// A file already held in full (a bundle exported to a case), named
    /// and typed as its format's files are.
    pub(crate) fn held(
        format: ExportFormat,
        vin: &str,
        bundle_id: Option<&str>,
        bytes: Vec<u8>,
    ) -> Export {
        let (content_type, filename) = naming(format, vin, bundle_id);
        Export {
            content_type,
            filename,
            length: Some(bytes.len() as u64),
            body: futures::stream::once(async move { Ok(bytes) }).boxed(),
        }
    }
}

/// What one export writes, checked before the first byte.
pub(crate) struct Plan {
    pub access: Access,
    pub filter: SampleFilter,
    pub fields: Option<Vec<String>>,
    pub events: super::store::EventFilter,
    /// The export's location level, and the privacy zones in force.
    pub positions: PositionView,
    /// A bundle's further files of the same samples (Parquet, GPX).
    pub include: Vec<ExportFormat>,
}

/// Where an export's bytes go: to the client as they come, or into a file
/// of a bundle (hashed and counted on the way).
pub(crate) enum Destination {
    Client(mpsc::Sender<Result<Vec<u8>, ServiceError>>),
    File {
        file: std::fs::File,
        hash: sha2::Sha256,
        size: u64,
    },
    /// A bundle member, deflated as it comes (see [`member`]).
    Member(member::Deflating),
}

/// Rows and bytes an export has written so far (read by its progress page).
#[derive(Debug, Default)]
pub struct Progress {
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
}

/// Buffers output and hands it on in chunks; waits while the client is slow.
pub(crate) struct Sink {
    destination: Destination,
    buffer: Vec<u8>,
    progress: Option<Arc<Progress>>,
}

impl Sink {
    pub fn new(destination: Destination, progress: Option<Arc<Progress>>) -> Sink {
        Sink {
            destination,
            buffer: Vec::with_capacity(CHUNK * 2),
            progress,
        }
    }

    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    fn count_rows(&self, rows: u64) {
        if let Some(p) = &self.progress {
            p.rows.fetch_add(rows, Ordering::Relaxed);
        }
    }

    /// Passes the buffer on once it is a chunk's worth (or `force`).
    pub async fn flush(&mut self, force: bool) -> Result<(), ServiceError> {
        if self.buffer.is_empty() || (!force && self.buffer.len() < CHUNK) {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK * 2));
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        match &mut self.destination {
            Destination::Client(tx) => tx
                .send(Ok(chunk))
                .await
                .map_err(|_| ServiceError::Internal("the client went away".into())),
            Destination::File { file, hash, size } => {
                use sha2::Digest;
                use std::io::Write;
                hash.update(&chunk);
                *size += chunk.len() as u64;
                file.write_all(&chunk)
                    .map_err(|e| ServiceError::Internal(format!("writing an export file: {e}")))
            }
            Destination::Member(member) => member.write(chunk).await,
        }
    }

    /// Flushes a file sink to the disk; returns its (SHA-256 hex, size).
    pub async fn finish(mut self) -> Result<(String, u64), ServiceError> {
        self.flush(true).await?;
        match self.destination {
            Destination::File {
                mut file,
                hash,
                size,
            } => {
                use sha2::Digest;
                std::io::Write::flush(&mut file)
                    .map_err(|e| ServiceError::Internal(format!("writing an export file: {e}")))?;
                Ok((hex::encode(hash.finalize()), size))
            }
            Destination::Member(member) => member.finish().await,
            Destination::Client(_) => Err(ServiceError::Internal("not a file".into())),
        }
    }
}

/// Rounds a coordinate as `coarse` redaction does (0.01°, about 1 km).
pub(crate) fn redact(location: LocationRedaction, v: Option<f64>) -> Option<f64> {
    match location {
        LocationRedaction::None => None,
        LocationRedaction::Coarse => v.map(|v| (v * 100.0).round() / 100.0),
        LocationRedaction::Full => v,
    }
}

/// The further files a bundle is asked to hold (`include`): only bundles
/// take them.
fn included(q: &ExportQuery, format: ExportFormat) -> Result<Vec<ExportFormat>, ServiceError> {
    let include = query::list(
        "include",
        q.include.as_deref(),
        |v| match v {
            "parquet" => Some(ExportFormat::Parquet),
            "gpx" => Some(ExportFormat::Gpx),
            _ => None,
        },
        "parquet or gpx",
    )?
    .unwrap_or_default();
    if !include.is_empty() && format != ExportFormat::Bundle {
        return Err(ServiceError::invalid(
            "include_needs_bundle",
            "include",
            "only a bundle holds further files: use format=bundle",
        ));
    }
    Ok(include)
}

/// The location level an export asks for (`none` when not given).
fn export_location(q: &ExportQuery) -> Result<LocationRedaction, ServiceError> {
    Ok(query::one(
        "location",
        q.location.as_deref(),
        LocationRedaction::parse,
        "none, coarse or full",
    )?
    .unwrap_or(LocationRedaction::None))
}

/// Who asked for a bundle or report, as its provenance states it: an
/// account by role and name, a recipient by name, kind and the grant's purpose.
fn requested_by(who: Option<&Principal>) -> serde_json::Value {
    match who {
        Some(Principal::Recipient(grant)) => serde_json::json!({
            "role": "recipient",
            "recipient": grant.recipient,
            "recipient_kind": grant.kind.as_str(),
            "grant_id": grant.id,
            "purpose": grant.purpose,
        }),
        Some(Principal::Account(account)) => serde_json::json!({
            "role": account.role.as_str(),
            "account": account.account,
            "purpose": "owner copy",
        }),
        None => serde_json::json!({"role": null, "account": null, "purpose": "owner copy"}),
    }
}

/// The export's sample filters, as the telemetry browser takes them (the
/// range is checked by the gate, in the vehicle's zone).
fn sample_query(q: &ExportQuery) -> SampleQuery {
    SampleQuery {
        min_speed_kmh: q.min_speed_kmh,
        max_speed_kmh: q.max_speed_kmh,
        brake_pedal: q.brake_pedal,
        abs_active: q.abs_active,
        aeb_state: q.aeb_state.clone(),
        gear: q.gear.clone(),
        fields: q.fields.clone(),
        ..SampleQuery::default()
    }
}

impl Portal {
    /// The export page's estimate: samples the export would hold, and about
    /// how many bytes as CSV.
    pub async fn export_info(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
    ) -> Result<crate::domain::export::ExportInfo, ServiceError> {
        let samples = sample_query(q).parse()?;
        let location = export_location(q)?;
        let access = self
            .export_access(who, vin, q, Reading::SamplesExport(location))
            .await?;
        self.estimate(&access, &samples.filter, samples.fields.as_deref())
            .await
    }

    /// The gate for an export of `q`'s range, as `reading` weighs it.
    async fn export_access(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
        reading: Reading,
    ) -> Result<Access, ServiceError> {
        let (from, to) = (q.from.as_deref(), q.to.as_deref());
        self.authorize_range(who, vin, reading, from, to).await
    }

    /// Samples within what the gate let through, and about how many CSV bytes.
    pub(crate) async fn estimate(
        &self,
        access: &Access,
        filter: &SampleFilter,
        fields: Option<&[String]>,
    ) -> Result<crate::domain::export::ExportInfo, ServiceError> {
        let count = access
            .store()
            .sample_count(access.vehicle.id, &access.ranges, filter)
            .await?;
        let columns = fields.map_or(21, <[String]>::len) as u64;
        Ok(crate::domain::export::ExportInfo {
            samples: count,
            approx_bytes: count * (60 + 7 * columns),
            fingerprint: self.signer.as_ref().map(|s| s.public_key().fingerprint),
        })
    }

    /// Checks an export request and passes the gate; nothing is written yet.
    pub(crate) async fn plan_export(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
    ) -> Result<Planned, ServiceError> {
        let format = query::one(
            "format",
            q.format.as_deref(),
            ExportFormat::parse,
            "csv, ndjson, bundle or pdf",
        )?
        .ok_or_else(|| {
            query::bad(
                "format",
                "format is required: csv, ndjson, bundle or pdf".into(),
            )
        })?;
        let location = export_location(q)?;
        let include = included(q, format)?;
        let gpx = format == ExportFormat::Gpx || include.contains(&ExportFormat::Gpx);
        if gpx && location == LocationRedaction::None {
            return Err(ServiceError::invalid(
                "gpx_without_location",
                "location",
                "a GPX track is made of positions: choose location coarse or full",
            ));
        }
        // Files of samples only need telemetry; the others carry every class.
        let reading = match format {
            ExportFormat::Csv | ExportFormat::Gpx | ExportFormat::Parquet => {
                Reading::SamplesExport(location)
            }
            ExportFormat::Ndjson | ExportFormat::Bundle | ExportFormat::Pdf => {
                Reading::Export(location)
            }
        };
        let samples = sample_query(q).parse()?;
        let events = EventQuery {
            event_type: q.event_type.clone(),
            group: q.group.clone(),
            severity: q.severity.clone(),
            ..EventQuery::default()
        }
        .filter()?;
        let access = self.export_access(who, vin, q, reading).await?;
        let (first, last) = (
            access.ranges[0].from_us,
            access.ranges[access.ranges.len() - 1].to_us,
        );
        let vin = access.vehicle.vehicle.vin.to_string();
        let actor = who.map_or_else(|| "anonymous".into(), Principal::actor);
        let mut details = serde_json::json!({
            "format": format.as_str(),
            "location": location.as_str(),
            "from": (first != i64::MIN).then(|| format_utc(first)),
            "to": (last != i64::MAX).then(|| format_utc(last)),
            "query": q,
        });
        if let Some(Principal::Recipient(grant)) = who {
            super::sharing::name_grant(grant, &mut details);
            details["reading"] = "export".into();
        }
        // Bundles and reports state who asked and what they were cut from.
        let provenance = if matches!(format, ExportFormat::Bundle | ExportFormat::Pdf) {
            Some(bundle::Provenance {
                requested_by: requested_by(who),
                periods: match who {
                    Some(who) => self
                        .permitted(who, &access.vehicle, reading)
                        .await?
                        .ranges(),
                    None => Vec::new(),
                },
                query: serde_json::to_value(q).unwrap_or_default(),
                dictionary: None,
            })
        } else {
            None
        };
        Ok(Planned {
            format,
            vin,
            actor,
            details,
            provenance,
            plan: Plan {
                filter: samples.filter,
                fields: samples.fields,
                events,
                positions: access.exported_positions(location),
                include,
                access,
            },
        })
    }

    /// Writes a planned export into a temporary file, counting `progress` on
    /// the way. It is recorded as a disclosure before the file is handed out
    /// (bundles once their manifest hash is known).
    pub(crate) async fn export_to_file(
        &self,
        planned: Planned,
        progress: Option<Arc<Progress>>,
    ) -> Result<ExportFile, ServiceError> {
        let Planned {
            format,
            vin,
            actor,
            mut details,
            provenance,
            plan,
        } = planned;
        if let Some(mut provenance) = provenance {
            if format == ExportFormat::Bundle {
                let exported: Vec<&str> =
                    csv::columns(&plan).iter().map(|(name, _)| *name).collect();
                provenance.dictionary =
                    Some(self.dictionary_of(&plan.access, Some(&exported)).await?);
            }
            let signer = self
                .signer
                .clone()
                .ok_or_else(|| ServiceError::Internal("no signing key is loaded".into()))?;
            let font = self.report_font.clone().ok_or_else(|| {
                ServiceError::Internal("no report font is loaded (see --report-font)".into())
            })?;
            let sources = bundle::Sources {
                store: plan.access.source.store().clone(),
                signer: &signer,
                font: &font,
            };
            if format == ExportFormat::Pdf {
                let (report, id, sha) =
                    bundle::report_only(sources, &plan, provenance, progress).await?;
                details["report_id"] = id.clone().into();
                details["report_sha256"] = sha.into();
                self.audit(actor, AuditAction::Export, Some(&vin), details)
                    .await?;
                return Ok(ExportFile::new(format, &vin, Some(&id), report));
            }
            let log_key = self.log.as_ref().map(|k| k.verifier().encode());
            let built = bundle::build(sources, log_key, &plan, provenance, progress).await?;
            details["bundle_id"] = built.id.clone().into();
            details["manifest_sha256"] = built.manifest_sha256.clone().into();
            let disclosure = self
                .audit(actor, AuditAction::Export, Some(&vin), details)
                .await?;
            // The disclosure becomes a leaf now, and the bundle carries its proof.
            let log_proof = match self.log {
                Some(_) => Some(self.log_proof(&disclosure, &plan.access.ranges).await?),
                None => None,
            };
            let (id, manifest_sha256) = (built.id.clone(), built.manifest_sha256.clone());
            let mut file =
                ExportFile::new(format, &vin, Some(&id), built.finish(log_proof.as_ref())?);
            file.manifest_sha256 = Some(manifest_sha256);
            return Ok(file);
        }
        self.audit(actor, AuditAction::Export, Some(&vin), details)
            .await?;
        let (mut sink, file) = file_sink(progress)?;
        write_stream(format, plan.access.source.store().clone(), &plan, &mut sink).await?;
        sink.finish().await?;
        Ok(ExportFile::new(format, &vin, None, file))
    }

    /// `GET /api/v1/vehicles/{vin}/export`: CSV and NDJSON stream as they are
    /// read; a bundle is built first, then sent with its length.
    pub async fn export(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
    ) -> Result<Export, ServiceError> {
        let planned = self.plan_export(who, vin, q).await?;
        if matches!(planned.format, ExportFormat::Bundle | ExportFormat::Pdf) {
            return Arc::new(self.export_to_file(planned, None).await?).download();
        }
        let (content_type, filename) = naming(planned.format, &planned.vin, None);
        let Planned {
            format,
            vin,
            actor,
            details,
            plan,
            ..
        } = planned;
        self.audit(actor, AuditAction::Export, Some(&vin), details)
            .await?;
        let (tx, rx) = mpsc::channel(4);
        let store = plan.access.source.store().clone();
        tokio::spawn(async move {
            let mut sink = Sink::new(Destination::Client(tx.clone()), None);
            let written = write_stream(format, store, &plan, &mut sink).await;
            if let Err(e) = written.and(sink.flush(true).await) {
                tracing::warn!(error = %e, "export stopped");
                // The client sees a broken download, never a short file that looks whole.
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(Export {
            content_type,
            filename,
            length: None,
            body: receiver_stream(rx),
        })
    }
}

impl Planned {
    /// A staff export: who asked, for which case, recipient and legal basis,
    /// written into the manifest and the disclosure record alike.
    pub(crate) fn requested_for(&mut self, requested_by: serde_json::Value) {
        if let (Some(by), Some(details)) = (requested_by.as_object(), self.details.as_object_mut())
        {
            for (k, v) in by {
                details.insert(k.clone(), v.clone());
            }
        }
        if let Some(provenance) = &mut self.provenance {
            provenance.requested_by = requested_by;
        }
    }
}

/// A checked export request: what to write, and what to record of it.
pub(crate) struct Planned {
    pub format: ExportFormat,
    pub vin: String,
    actor: String,
    details: serde_json::Value,
    /// Bundles only: who asked and what the bundle was cut from.
    provenance: Option<bundle::Provenance>,
    pub plan: Plan,
}

/// An export written to a temporary file (removed when dropped).
pub struct ExportFile {
    pub content_type: &'static str,
    pub filename: String,
    pub file: tempfile::NamedTempFile,
    /// Bundles: their id and their manifest's SHA-256.
    pub bundle_id: Option<String>,
    pub manifest_sha256: Option<String>,
}

impl ExportFile {
    fn new(
        format: ExportFormat,
        vin: &str,
        bundle_id: Option<&str>,
        file: tempfile::NamedTempFile,
    ) -> Self {
        let (content_type, filename) = naming(format, vin, bundle_id);
        ExportFile {
            content_type,
            filename,
            file,
            bundle_id: bundle_id.map(str::to_string),
            manifest_sha256: None,
        }
    }

    pub fn size(&self) -> u64 {
        self.file.as_file().metadata().map_or(0, |m| m.len())
    }

    /// The file as a download with its length, read in chunks; the file
    /// stays while any download of it runs.
    pub fn download(self: &Arc<Self>) -> Result<Export, ServiceError> {
        let (tx, rx) = mpsc::channel(4);
        let reader = self
            .file
            .reopen()
            .map_err(|e| ServiceError::Internal(format!("reading an export: {e}")))?;
        tokio::spawn(send_file(self.clone(), reader, tx));
        Ok(Export {
            content_type: self.content_type,
            filename: self.filename.clone(),
            length: Some(self.size()),
            body: receiver_stream(rx),
        })
    }
}

/// Content type and file name of an export.
fn naming(format: ExportFormat, vin: &str, bundle_id: Option<&str>) -> (&'static str, String) {
    match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", format!("{vin}.csv")),
        ExportFormat::Ndjson => ("application/x-ndjson", format!("{vin}.ndjson")),
        ExportFormat::Gpx => ("application/gpx+xml", format!("{vin}.gpx")),
        ExportFormat::Parquet => ("application/vnd.apache.parquet", format!("{vin}.parquet")),
        ExportFormat::Bundle => (
            "application/zip",
            format!("{vin}-{}.zip", bundle_id.unwrap_or("bundle")),
        ),
        ExportFormat::Pdf => (
            "application/pdf",
            format!("{vin}-{}.pdf", bundle_id.unwrap_or("report")),
        ),
    }
}

fn receiver_stream(
    rx: mpsc::Receiver<Result<Vec<u8>, ServiceError>>,
) -> BoxStream<'static, Result<Vec<u8>, ServiceError>> {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// Writes a row-by-row format (CSV or NDJSON) into `sink`. Bundles and
/// reports are built as files (`bundle::build`, `bundle::report_only`); a
/// new format must say here how it streams, or that it does not.
async fn write_stream(
    format: ExportFormat,
    store: Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<(), ServiceError> {
    match format {
        ExportFormat::Csv => csv::write(store, plan, sink).await.map(drop),
        ExportFormat::Ndjson => ndjson::write(store, plan, sink).await.map(drop),
        ExportFormat::Gpx => gpx::write(store, plan, sink).await.map(drop),
        ExportFormat::Parquet => parquet::write(store, plan, sink).await.map(drop),
        ExportFormat::Bundle | ExportFormat::Pdf => Err(ServiceError::Internal(format!(
            "{} is built as a file, not streamed",
            format.as_str()
        ))),
    }
}

/// A sink writing into a new temporary file, hashed and counted on the way.
pub(crate) fn file_sink(
    progress: Option<Arc<Progress>>,
) -> Result<(Sink, tempfile::NamedTempFile), ServiceError> {
    temp_sink(progress, |file| Destination::File {
        file,
        hash: <sha2::Sha256 as sha2::Digest>::new(),
        size: 0,
    })
}

/// A sink whose bytes become the bundle member `name`, deflated on the
/// way into a one-member zip in a new temporary file.
pub(crate) fn member_sink(
    name: &'static str,
    progress: Option<Arc<Progress>>,
) -> Result<(Sink, tempfile::NamedTempFile), ServiceError> {
    temp_sink(progress, |file| {
        Destination::Member(member::Deflating::start(name, file))
    })
}

/// A sink into `destination` over a new temporary file (removed when the
/// returned handle is dropped).
fn temp_sink(
    progress: Option<Arc<Progress>>,
    destination: impl FnOnce(std::fs::File) -> Destination,
) -> Result<(Sink, tempfile::NamedTempFile), ServiceError> {
    let io = |e: std::io::Error| ServiceError::Internal(format!("creating an export file: {e}"));
    let temp = tempfile::NamedTempFile::new().map_err(io)?;
    let file = temp.reopen().map_err(io)?;
    Ok((Sink::new(destination(file), progress), temp))
}

/// Sends a finished file to the client in chunks.
async fn send_file(
    file: Arc<ExportFile>,
    reader: std::fs::File,
    tx: mpsc::Sender<Result<Vec<u8>, ServiceError>>,
) {
    use tokio::io::AsyncReadExt;
    let mut reader = tokio::fs::File::from_std(reader);
    loop {
        let mut chunk = vec![0u8; CHUNK];
        match reader.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                chunk.truncate(n);
                if tx.send(Ok(chunk)).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                let message = format!("reading an export: {e}");
                let _ = tx.send(Err(ServiceError::Internal(message))).await;
                break;
            }
        }
    }
    // The temporary file is removed when its last holder lets go.
    drop(file);
}

/// Calls `each` for every sample of the plan, page by page in time order;
/// returns how many there were.
pub(crate) async fn for_each_sample<F>(
    store: &Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
    mut each: F,
) -> Result<u64, ServiceError>
where
    F: FnMut(&crate::domain::records::Sample, &mut Vec<u8>) -> Result<(), ServiceError>,
{
    // A grant without telemetry exports no sample.
    if !plan.access.may_read(DataClass::Telemetry) {
        return Ok(0);
    }
    // The next page is read while this one is formatted and sent: the
    // database (a PostgreSQL backend, or SQLite on another worker) and the
    // formatting run side by side.
    let fetch = |after_us: Option<i64>| {
        let store = store.clone();
        let vehicle = plan.access.vehicle.id;
        let ranges = plan.access.ranges.clone();
        let filter = plan.filter.clone();
        tokio::spawn(async move {
            let page = super::store::PageRequest {
                descending: false,
                after_us,
                limit: PAGE,
            };
            store.sample_page(vehicle, &ranges, &filter, page).await
        })
    };
    let mut next = fetch(None);
    let mut count = 0u64;
    loop {
        // Polled once: it is replaced below before the next turn.
        let rows = (&mut next)
            .await
            .map_err(|e| ServiceError::Internal(format!("reading an export page: {e}")))??;
        let more = rows.len() == PAGE as usize;
        if more {
            next = fetch(rows.last().map(|s| s.t_us));
        }
        for s in &rows {
            each(s, sink.buffer())?;
        }
        count += rows.len() as u64;
        sink.count_rows(rows.len() as u64);
        sink.flush(false).await?;
        if !more {
            return Ok(count);
        }
    }
}
