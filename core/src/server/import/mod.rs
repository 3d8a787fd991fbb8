//! `portal import`: streams an NDJSON (optionally gzip) file into the store,
//! atomically. A blocking thread reads and parses; the async side writes in
//! batches; a bounded channel between them keeps memory flat.

#[cfg(test)]
mod fuzz;
mod parse;
mod ready;
mod sealing;
mod signatures;
mod supplied;

pub use parse::{LineError, LineParser, Parsed};

use crate::domain::audit::AuditAction;
use crate::domain::log_format::EventType;
use crate::domain::records::{EdrRecord, Event, Position, Sample};
use crate::domain::Vin;
use crate::server::audit::digest_json;
use crate::server::seal::TrustAnchors;
use crate::server::store::{
    ImportTx, MissingBatch, NewAuditEntry, SealId, SealRuns, SealedRecord, Store, StoreError,
    VehicleId, WriteOutcome,
};
use foldhash::{HashMap, HashMapExt as _};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Lines parsed per message from the reader thread to the writer.
const CHUNK_LINES: usize = 1024;
/// Messages in flight: bounds memory whatever the file size.
const CHANNEL_DEPTH: usize = 4;
/// Samples buffered before a write.
const SAMPLE_FLUSH: usize = 4000;
/// Events and crash records buffered before they are written: on PostgreSQL
/// any other statement ends the COPY that samples stream down, so they go in groups.
const RECORD_FLUSH: usize = 256;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Unknown fields are errors (default) or kept in `extra`.
    pub strict: bool,
    /// Reject the whole file when a record conflicts with a held one.
    pub reject_conflicts: bool,
    /// How many errors (and conflicts) are listed; all are counted.
    pub max_listed: usize,
    /// Who imports, for the audit log (e.g. `cli`, `ingest:pipeline-1`).
    pub actor: String,
    /// The vehicle CAs sealed logs (format 1.1) are checked against; none
    /// configured means sealed files are refused, saying how to configure one.
    pub vehicle_cas: Arc<TrustAnchors>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            strict: true,
            reject_conflicts: false,
            max_listed: 100,
            actor: "cli".into(),
            vehicle_cas: Arc::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub vehicles: u64,
    pub samples: u64,
    pub events: u64,
    pub edr: u64,
    /// Format 1.1: positions, seals and certified vehicle keys.
    pub positions: u64,
    pub seals: u64,
    pub keys: u64,
}

impl KindCounts {
    fn add(&mut self, kind: Kind, n: u64) {
        match kind {
            Kind::Vehicle => self.vehicles += n,
            Kind::Sample => self.samples += n,
            Kind::Event => self.events += n,
            Kind::Edr => self.edr += n,
            Kind::Position => self.positions += n,
            Kind::Seal => self.seals += n,
            Kind::Key => self.keys += n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Vehicle,
    Sample,
    Event,
    Edr,
    Position,
    Seal,
    Key,
}

/// A record whose identity is held with other values; the held one was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub line: u64,
    pub kind: Kind,
    pub identity: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub source: String,
    /// SHA-256 of the file as received (compressed if it was).
    pub sha256: String,
    pub bytes: u64,
    pub lines: u64,
    pub inserted: KindCounts,
    pub duplicates: KindCounts,
    pub conflicts_total: u64,
    pub conflicts: Vec<Conflict>,
    /// Seals the vehicles in this file made that the portal does not hold
    /// (gaps in a key's `seq`), after this import: never hidden.
    pub missing_batches: Vec<VinMissingBatch>,
}

/// A missing batch of one vehicle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VinMissingBatch {
    pub vin: String,
    #[serde(flatten)]
    pub batch: MissingBatch,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {source_name}: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("{source_name}: rejected with {total} error(s); nothing was imported")]
    Rejected {
        source_name: String,
        total: u64,
        errors: Vec<LineError>,
        conflicts: Vec<Conflict>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Progress as the reader sees it.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes: u64,
    pub lines: u64,
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Imports one file; `.gz` (or any gzip content) is decompressed on the fly.
pub async fn import_file(
    store: &dyn Store,
    path: &Path,
    options: &ImportOptions,
    progress: Option<ProgressFn>,
) -> Result<ImportSummary, ImportError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| ImportError::Io {
        source_name: name.clone(),
        error,
    })?;
    import_reader(store, &name, file, options, progress).await
}

/// One line as the reader thread sends it: its number, its exact text
/// when sealed logs are read, and what it parsed to.
struct ReadLine {
    no: u64,
    raw: Option<RawLine>,
    parsed: Result<Parsed, Vec<LineError>>,
}

/// Where a line's exact text (without its `\n` or `\r\n`, as a seal covers
/// it) is in its chunk's `text`, and its Merkle leaf hash (computed by the
/// reader thread, which has time).
struct RawLine {
    span: std::ops::Range<usize>,
    leaf: crate::server::seal::Hash,
}

/// A line's exact text and its leaf hash, as the writer reads them.
struct RawText<'a> {
    text: &'a str,
    leaf: crate::server::seal::Hash,
}

/// What the reader thread sends: a chunk of parsed lines and, when sealed
/// logs are read, their exact text one after another (one allocation per
/// chunk, not per line).
struct Chunk {
    lines: Vec<ReadLine>,
    text: String,
}

impl Chunk {
    fn new() -> Self {
        Chunk {
            lines: Vec::with_capacity(CHUNK_LINES),
            text: String::new(),
        }
    }
}

struct ReadStats {
    sha256: String,
    bytes: u64,
    lines: u64,
}

/// Imports NDJSON from any reader (a file, an HTTP body, a generator's pipe).
pub async fn import_reader<R: Read + Send + 'static>(
    store: &dyn Store,
    source_name: &str,
    reader: R,
    options: &ImportOptions,
    progress: Option<ProgressFn>,
) -> Result<ImportSummary, ImportError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(CHANNEL_DEPTH);
    let parser =
        LineParser::new(options.strict).trusting_vehicle_cas(!options.vehicle_cas.is_empty());
    let reader_task = tokio::task::spawn_blocking(move || read_lines(reader, parser, tx, progress));

    let mut writer = Writer::new(store.begin_import().await?, options);
    while let Some(Chunk { lines, text }) = rx.recv().await {
        for line in lines {
            writer.accept(line, &text).await?;
        }
    }
    let stats = match reader_task.await {
        Ok(Ok(stats)) => stats,
        Ok(Err(error)) => {
            writer.tx.rollback().await?;
            return Err(ImportError::Io {
                source_name: source_name.to_string(),
                error,
            });
        }
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    };
    writer.finish(source_name, stats).await
}

/// Hashes and counts the raw bytes read (progress works on compressed input too).
struct Counting<R> {
    inner: R,
    hasher: Sha256,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The longest line a record may take. A crash record, the longest kind,
/// stays under 64 KiB; past this the line is an error and is not held.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Reads one line (with its `\n`) into `buf`, but never more than
/// [`MAX_LINE_BYTES`] + 2 bytes of it (enough to tell a line that is too
/// long): the rest of a longer line is read and dropped. Returns the bytes
/// the line had in all (0 at the end).
fn read_line_bounded(lines: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0usize;
    loop {
        let available = lines.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (MAX_LINE_BYTES + 2).saturating_sub(buf.len());
        buf.extend_from_slice(&available[..take.min(room)]);
        lines.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

fn read_lines<R: Read>(
    reader: R,
    mut parser: LineParser,
    tx: tokio::sync::mpsc::Sender<Chunk>,
    progress: Option<ProgressFn>,
) -> std::io::Result<ReadStats> {
    let bytes = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: reader,
        hasher: Sha256::new(),
        bytes: bytes.clone(),
    };
    let mut raw = BufReader::with_capacity(256 * 1024, counting);
    let gzip = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut line_no = 0u64;
    {
        let mut lines: Box<dyn BufRead + '_> = if gzip {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(&mut raw),
            ))
        } else {
            Box::new(&mut raw)
        };
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = Chunk::new();
        loop {
            buf.clear();
            if read_line_bounded(&mut lines, &mut buf)? == 0 {
                break;
            }
            line_no += 1;
            if buf.strip_suffix(b"\n").unwrap_or(&buf).len() > MAX_LINE_BYTES {
                let error = LineError {
                    line: line_no,
                    field: None,
                    reason: format!(
                        "the line is longer than {} bytes (the longest a record may be)",
                        MAX_LINE_BYTES
                    ),
                };
                chunk.lines.push(ReadLine {
                    no: line_no,
                    raw: None,
                    parsed: Err(vec![error]),
                });
                buf = Vec::with_capacity(1024);
                continue;
            }
            match std::str::from_utf8(&buf) {
                Ok(text) => {
                    if text.trim().is_empty() {
                        continue;
                    }
                    // A seal covers a line's exact bytes without its `\n` or `\r\n`.
                    let raw = parser.reads_sealed_logs().then(|| {
                        let line = text.strip_suffix('\n').unwrap_or(text);
                        let line = line.strip_suffix('\r').unwrap_or(line);
                        let start = chunk.text.len();
                        chunk.text.push_str(line);
                        RawLine {
                            span: start..chunk.text.len(),
                            leaf: crate::server::seal::leaf_hash(line.as_bytes()),
                        }
                    });
                    let text = text.trim_end_matches(['\n', '\r']);
                    chunk.lines.push(ReadLine {
                        no: line_no,
                        raw,
                        parsed: parser.parse(line_no, text),
                    });
                }
                Err(e) => {
                    let error = LineError {
                        line: line_no,
                        field: None,
                        reason: format!("not UTF-8: {e}"),
                    };
                    chunk.lines.push(ReadLine {
                        no: line_no,
                        raw: None,
                        parsed: Err(vec![error]),
                    });
                }
            }
            if chunk.lines.len() == CHUNK_LINES {
                if tx
                    .blocking_send(std::mem::replace(&mut chunk, Chunk::new()))
                    .is_err()
                {
                    // The writer stopped (a store error); it reports why.
                    return Ok(ReadStats {
                        sha256: String::new(),
                        bytes: 0,
                        lines: line_no,
                    });
                }
                if let Some(report) = &progress {
                    report(Progress {
                        bytes: bytes.load(Ordering::Relaxed),
                        lines: line_no,
                    });
                }
            }
        }
        if !chunk.lines.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    }
    if let Some(report) = &progress {
        report(Progress {
            bytes: bytes.load(Ordering::Relaxed),
            lines: line_no,
        });
    }
    let counting = raw.into_inner();
    Ok(ReadStats {
        sha256: hex::encode(counting.hasher.finalize()),
        bytes: bytes.load(Ordering::Relaxed),
        lines: line_no,
    })
}

/// A record a seal may cover, waiting to be written.
enum Record {
    Sample(Sample),
    Position(Position),
    Event(Event),
    Edr(EdrRecord),
}

impl Record {
    /// Its time (for a crash record, t0), in UTC microseconds.
    fn t_us(&self) -> i64 {
        match self {
            Record::Sample(s) => s.t_us,
            Record::Position(p) => p.t_us,
            Record::Event(e) => e.t_us,
            Record::Edr(r) => r.t0_us,
        }
    }
}

/// The write side of one import: resolves VINs, batches samples, collects
/// errors and conflicts, and decides at the end whether to commit.
struct Writer<'o> {
    tx: Box<dyn ImportTx>,
    options: &'o ImportOptions,
    /// VIN → vehicle id; `None` when the VIN is known to be undeclared.
    vehicles: HashMap<Arc<str>, Option<VehicleId>>,
    pending: Vec<(VehicleId, Sample)>,
    pending_lines: Vec<u64>,
    /// Unsealed records other than samples not yet written, in file order, with their lines.
    pending_records: Vec<(u64, Arc<str>, VehicleId, Record)>,
    /// Crash records whose event must exist by the end of the file.
    edr_refs: Vec<(u64, VehicleId, String)>,
    /// Events of this file, so crash records are checked even after an error stopped writing.
    file_events: HashMap<(VehicleId, String), EventType>,
    /// Sealed logs: the vehicles' keys, open batches and seals seen.
    sealing: sealing::Sealing,
    /// Covered lines checked against their seals, waiting to be written.
    ready: ready::Ready,
    /// New seals' signatures, checked before commit.
    signatures: signatures::DeferredSignatures,
    /// Per vehicle, the span of the positions written: their samples take
    /// their location before commit.
    located: HashMap<VehicleId, (i64, i64)>,
    /// Per vehicle, what this file carried (its leaf in the log).
    supplied: supplied::Supplied,
    errors: Vec<LineError>,
    total_errors: u64,
    summary: ImportSummary,
}

impl<'o> Writer<'o> {
    fn new(tx: Box<dyn ImportTx>, options: &'o ImportOptions) -> Self {
        Writer {
            tx,
            options,
            vehicles: HashMap::new(),
            pending: Vec::with_capacity(SAMPLE_FLUSH),
            pending_lines: Vec::with_capacity(SAMPLE_FLUSH),
            pending_records: Vec::new(),
            edr_refs: Vec::new(),
            file_events: HashMap::new(),
            sealing: sealing::Sealing::default(),
            ready: ready::Ready::default(),
            signatures: signatures::DeferredSignatures::default(),
            located: HashMap::new(),
            supplied: supplied::Supplied::default(),
            errors: Vec::new(),
            total_errors: 0,
            summary: ImportSummary::default(),
        }
    }

    /// After the first error nothing more is written, but every line is still checked.
    fn writing(&self) -> bool {
        self.total_errors == 0
    }

    /// Counts an error; the first `max_listed` by line are listed, whenever
    /// each was found (some checks end with the file).
    fn error(&mut self, e: LineError) {
        self.total_errors += 1;
        if self.errors.len() < self.options.max_listed {
            self.errors.push(e);
        } else if let Some(last) = self.errors.iter_mut().max_by_key(|listed| listed.line) {
            if e.line < last.line {
                *last = e;
            }
        }
    }

    fn conflict(&mut self, line: u64, kind: Kind, identity: String, reason: String) {
        self.summary.conflicts_total += 1;
        if self.summary.conflicts.len() < self.options.max_listed {
            self.summary.conflicts.push(Conflict {
                line,
                kind,
                identity,
                reason,
            });
        }
    }

    fn count(
        &mut self,
        line: u64,
        kind: Kind,
        identity: impl FnOnce() -> String,
        outcome: &WriteOutcome,
    ) {
        match outcome {
            WriteOutcome::Inserted => self.summary.inserted.add(kind, 1),
            WriteOutcome::Duplicate => self.summary.duplicates.add(kind, 1),
            WriteOutcome::Conflict { differences } => {
                self.conflict(line, kind, identity(), differences.clone())
            }
        }
    }

    /// The vehicle id a record names, or an error when the VIN was never declared.
    async fn resolve(
        &mut self,
        line: u64,
        vin: &Arc<str>,
    ) -> Result<Option<VehicleId>, StoreError> {
        let known = match self.vehicles.get(vin) {
            Some(known) => *known,
            None => {
                let held = match Vin::parse(vin) {
                    Ok(parsed) => self.tx.vehicle(&parsed).await?.map(|v| v.id),
                    Err(_) => None,
                };
                self.vehicles.insert(vin.clone(), held);
                held
            }
        };
        if known.is_none() {
            self.error(LineError {
                line,
                field: Some("vin".into()),
                reason: format!("vehicle {vin} is not declared: a vehicle line must come first (in this file or an earlier import)"),
            });
        }
        Ok(known)
    }

    async fn accept(&mut self, read: ReadLine, chunk_text: &str) -> Result<(), StoreError> {
        let ReadLine {
            no: line,
            raw,
            parsed,
        } = read;
        let parsed = match parsed {
            Ok(p) => p,
            Err(errors) => {
                errors.into_iter().for_each(|e| self.error(e));
                return Ok(());
            }
        };
        let (vin, record) = match parsed {
            Parsed::Vehicle(vehicle, keys) => {
                let key: Arc<str> = Arc::from(vehicle.vin.as_str());
                let id = if self.writing() {
                    let (id, outcome) = self.tx.put_vehicle(&vehicle).await?;
                    self.count(line, Kind::Vehicle, || vehicle.vin.to_string(), &outcome);
                    id
                } else {
                    // Not written, but later lines may name it: do not report them as undeclared.
                    -1
                };
                self.vehicles.insert(key.clone(), Some(id));
                return self.accept_keys(line, key, id, keys).await;
            }
            Parsed::Seal { vin, seal } => return self.accept_seal(line, vin, seal).await,
            Parsed::Sample { vin, sample } => (vin, Record::Sample(sample)),
            Parsed::Position { vin, position } => (vin, Record::Position(position)),
            Parsed::Event { vin, event } => (vin, Record::Event(event)),
            Parsed::Edr { vin, edr } => (vin, Record::Edr(edr)),
        };
        let Some(id) = self.resolve(line, &vin).await? else {
            return Ok(());
        };
        self.supplied.record(id, record.t_us());
        match &record {
            Record::Event(event) => {
                self.file_events
                    .insert((id, event.id.clone()), event.event_type);
            }
            Record::Edr(edr) => self.edr_refs.push((line, id, edr.event_id.clone())),
            Record::Sample(_) | Record::Position(_) => {}
        }
        match raw {
            Some(raw) if self.seals_vehicle(&vin, id).await? => {
                let raw = RawText {
                    text: &chunk_text[raw.span],
                    leaf: raw.leaf,
                };
                self.cover(line, vin, id, &raw, record).await
            }
            _ => self.write_unsealed(line, vin, id, record).await,
        }
    }

    /// Writes (or queues) a record no seal covers.
    async fn write_unsealed(
        &mut self,
        line: u64,
        vin: Arc<str>,
        vehicle: VehicleId,
        record: Record,
    ) -> Result<(), StoreError> {
        if !self.writing() {
            return Ok(());
        }
        match record {
            Record::Sample(sample) => {
                self.pending.push((vehicle, sample));
                self.pending_lines.push(line);
                if self.pending.len() >= SAMPLE_FLUSH {
                    self.flush_samples().await?;
                }
            }
            other => {
                self.pending_records.push((line, vin, vehicle, other));
                if self.pending_records.len() >= RECORD_FLUSH {
                    self.flush_records().await?;
                }
            }
        }
        Ok(())
    }

    async fn flush_records(&mut self) -> Result<(), StoreError> {
        for (line, vin, vehicle, record) in std::mem::take(&mut self.pending_records) {
            self.write_record(line, &vin, vehicle, record, None).await?;
        }
        Ok(())
    }

    /// Writes one record other than a sample, linked to `seal` if it is held
    /// as the car signed it.
    async fn write_record(
        &mut self,
        line: u64,
        vin: &str,
        vehicle: VehicleId,
        record: Record,
        seal: Option<SealId>,
    ) -> Result<(), StoreError> {
        let (kind, outcome, sealed) = match &record {
            Record::Sample(_) => unreachable!("samples are written in batches"),
            Record::Position(p) => {
                let outcome = self.tx.put_position(vehicle, p, seal).await?;
                self.locate_later(vehicle, p.t_us);
                (Kind::Position, outcome, None)
            }
            Record::Event(event) => {
                let outcome = self
                    .tx
                    .put_event(vehicle, event, &digest_json(event))
                    .await?;
                (Kind::Event, outcome, Some(SealedRecord::Event(&event.id)))
            }
            Record::Edr(edr) => {
                let outcome = self.tx.put_edr(vehicle, edr, &digest_json(edr)).await?;
                (Kind::Edr, outcome, Some(SealedRecord::Edr(&edr.event_id)))
            }
        };
        if let (Some(seal), Some(sealed)) = (seal, sealed) {
            if !matches!(outcome, WriteOutcome::Conflict { .. }) {
                self.tx.mark_sealed(vehicle, sealed, seal).await?;
            }
        }
        let identity = || match &record {
            Record::Position(p) => format!(
                "{vin} position at {}",
                crate::domain::time::format_utc(p.t_us)
            ),
            Record::Event(e) => format!("{vin} event {}", e.id),
            Record::Edr(r) => format!("{vin} crash record {}", r.event_id),
            Record::Sample(_) => unreachable!(),
        };
        self.count(line, kind, identity, &outcome);
        Ok(())
    }

    async fn flush_samples(&mut self) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.pending);
        let lines = std::mem::take(&mut self.pending_lines);
        let (mut rows, mut lines) = self
            .write_samples(rows, lines, &SealRuns::all(None))
            .await?;
        rows.clear();
        lines.clear();
        self.pending = rows;
        self.pending_lines = lines;
        Ok(())
    }

    /// Writes samples, each linked to its seal, and counts what happened;
    /// gives the buffers back for reuse.
    async fn write_samples(
        &mut self,
        rows: Vec<(VehicleId, Sample)>,
        lines: Vec<u64>,
        seals: &SealRuns,
    ) -> Result<(Vec<(VehicleId, Sample)>, Vec<u64>), StoreError> {
        if rows.is_empty() {
            return Ok((rows, lines));
        }
        let outcome = self.tx.put_samples(&rows, seals).await?;
        self.summary.inserted.samples += outcome.inserted;
        self.summary.duplicates.samples += outcome.duplicates;
        for (index, reason) in outcome.conflicts {
            let identity = format!(
                "sample at {}",
                crate::domain::time::format_utc(rows[index].1.t_us)
            );
            self.conflict(lines[index], Kind::Sample, identity, reason);
        }
        Ok((rows, lines))
    }

    /// Crash records must belong to a collision or airbag-deployment event.
    async fn check_edr_refs(&mut self) -> Result<(), StoreError> {
        for (line, vehicle, event_id) in std::mem::take(&mut self.edr_refs) {
            let held = match self.file_events.get(&(vehicle, event_id.clone())) {
                Some(t) => Some(*t),
                None => self.tx.event_type(vehicle, &event_id).await?,
            };
            let reason = match held {
                Some(t) if t.is_crash() => continue,
                Some(t) => {
                    format!("event {event_id} is a {t} event, not a collision or airbag_deployment")
                }
                None => format!("event {event_id} is not in this file or the store"),
            };
            self.error(LineError {
                line,
                field: Some("event_id".into()),
                reason,
            });
        }
        Ok(())
    }

    async fn finish(
        mut self,
        source_name: &str,
        stats: ReadStats,
    ) -> Result<ImportSummary, ImportError> {
        self.close_open_batches().await?;
        if self.writing() {
            self.flush_samples().await?;
        }
        // Records held before an error are checked too (the import is then
        // rolled back), so their conflicts are reported as if written at once.
        self.flush_records().await?;
        self.check_edr_refs().await?;
        self.summary.source = source_name.to_string();
        self.summary.sha256 = stats.sha256;
        self.summary.bytes = stats.bytes;
        self.summary.lines = stats.lines;
        let reject_conflicts = self.options.reject_conflicts && self.summary.conflicts_total > 0;
        // The new seals' signatures are checked meanwhile, on other threads.
        self.signatures.check_rest();
        if self.writing() && !reject_conflicts {
            self.complete_records().await?;
        }
        for (line, (field, reason)) in self.signatures.failures().await? {
            self.error(LineError {
                line,
                field: Some(field),
                reason,
            });
        }
        if !self.writing() || reject_conflicts {
            self.tx.rollback().await?;
            self.errors.sort_by_key(|e| e.line);
            return Err(ImportError::Rejected {
                source_name: source_name.to_string(),
                total: self.total_errors
                    + if reject_conflicts {
                        self.summary.conflicts_total
                    } else {
                        0
                    },
                errors: self.errors,
                conflicts: self.summary.conflicts,
            });
        }
        self.append_audit().await?;
        self.tx.commit().await?;
        crate::server::changes::announce_stored();
        Ok(self.summary)
    }

    /// What follows from the records written: the missing batches, the
    /// samples' locations, the per-minute summaries.
    async fn complete_records(&mut self) -> Result<(), StoreError> {
        self.summary.missing_batches = self.missing_batches().await?;
        for (vehicle, (from, to)) in std::mem::take(&mut self.located) {
            self.tx.locate_samples(vehicle, from, to).await?;
        }
        self.tx.summarize().await
    }

    /// The audit entries of an accepted file.
    async fn append_audit(&mut self) -> Result<(), StoreError> {
        let file = serde_json::json!({
            "source": self.summary.source,
            "sha256": self.summary.sha256,
            "bytes": self.summary.bytes,
        });
        let mut details = file.clone();
        details["missing_batches"] = self.summary.missing_batches.len().into();
        details["inserted"] = serde_json::to_value(&self.summary.inserted).unwrap_or_default();
        details["duplicates"] = serde_json::to_value(&self.summary.duplicates).unwrap_or_default();
        details["conflicts"] = self.summary.conflicts_total.into();
        self.tx
            .append_audit(&NewAuditEntry {
                actor: self.options.actor.clone(),
                action: AuditAction::Import,
                vin: None,
                details,
            })
            .await?;
        for entry in self
            .supplied
            .entries(&self.vehicles, &self.options.actor, &file)
        {
            self.tx.append_audit(&entry).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod line_bound_tests {
    use super::{read_line_bounded, MAX_LINE_BYTES};
    use std::io::BufReader;

    #[test]
    fn a_line_longer_than_the_bound_is_never_held_whole() {
        let mut input = vec![b'{'; 3 * MAX_LINE_BYTES];
        input.extend_from_slice(b"\nnext\n");
        let mut lines = BufReader::with_capacity(4096, input.as_slice());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_bounded(&mut lines, &mut buf).unwrap(),
            3 * MAX_LINE_BYTES + 1
        );
        assert_eq!(buf.len(), MAX_LINE_BYTES + 2, "held no more than the bound");
        buf.clear();
        read_line_bounded(&mut lines, &mut buf).unwrap();
        assert_eq!(buf, b"next\n", "the next line starts where it should");
        buf.clear();
        assert_eq!(read_line_bounded(&mut lines, &mut buf).unwrap(), 0);
    }

    #[test]
    fn a_line_of_exactly_the_bound_is_read_whole() {
        let mut input = vec![b'x'; MAX_LINE_BYTES];
        input.push(b'\n');
        let mut buf = Vec::new();
        read_line_bounded(&mut BufReader::new(input.as_slice()), &mut buf).unwrap();
        assert_eq!(buf.len(), MAX_LINE_BYTES + 1);
        assert_eq!(buf.last(), Some(&b'\n'));
    }
}
