//! Batches of covered lines whose seal was checked (or that no seal will
//! cover), queued until enough records are ready to write together: the
//! seals in one statement, their positions and samples in one bulk write
//! each. A car seals every minute or so, and writing each seal's few hundred
//! lines on their own cost more than checking them.
//!
//! Positions are written first; a sealed sample takes the location of its
//! position at the same instant before it is written, so a fresh import
//! needs no pass over the samples afterwards. What cannot be matched so
//! (a sample held already, a conflicting position, unsealed lines) is left to
//! `locate_samples` at the end of the file, as unsealed positions are.

use super::sealing::{root_mismatch, root_of};
use super::{Kind, Record, Writer, SAMPLE_FLUSH};
use crate::domain::records::{Position, Sample};
use crate::domain::sealed::SealLine;
use crate::server::seal::kept::KeptWriter;
use crate::server::seal::lines::{check_signature, FieldError};
use crate::server::seal::Hash;
use crate::server::store::{
    CoveredCounts, NewSeal, SealId, SealRuns, StoreError, VehicleId, WriteOutcome,
};
use ed25519_dalek::VerifyingKey;
use foldhash::{HashMap, HashMapExt as _};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A seal checked but for its signature, and not held yet: stored when its
/// batch is written, once its [`FinishJob`] is done.
pub(super) struct CheckedSeal {
    /// Its line in the file.
    pub at: u64,
    pub line: SealLine,
    pub t_min: i64,
    pub t_max: i64,
    pub counts: CoveredCounts,
}

/// What is left of a new seal's check but its signature (checked at the
/// end of the file, see `signatures`), and the compression of its lines:
/// done on other threads, in groups, while the import goes on reading.
pub(super) struct FinishJob {
    pub seal: SealLine,
    pub key: VerifyingKey,
    /// The covered lines, each followed by `\n`.
    pub text: Vec<u8>,
    pub root: CoveredRoot,
}

/// The root a seal states, and the leaf hashes of the lines it covers.
pub(super) struct CoveredRoot {
    pub expected: Hash,
    pub leaves: Vec<Hash>,
    /// Which lines they are, for the message.
    pub span: String,
}

/// Seals sent to another thread together: fewer hand-overs.
const FINISH_GROUP: usize = 8;
/// Encoders kept for the next groups (about 330 KiB each): as many as
/// groups usually run at once.
const KEPT_ENCODERS: usize = 4;

/// A job's result: the covered lines compressed, or why the seal fails.
type Finished = Result<Vec<u8>, FieldError>;

/// A group's results, and the encoder it used (kept for the next group).
type GroupDone = (Vec<Finished>, KeptWriter);

impl FinishJob {
    /// Checks the root and compresses the lines with `kept`, one
    /// compressor per group (fewer allocations than one per seal).
    fn run(self, kept: &mut KeptWriter) -> Finished {
        let CoveredRoot {
            expected,
            leaves,
            span,
        } = self.root;
        if root_of(&leaves) != Some(expected) {
            // A bad signature is named first, as wherever a seal is checked.
            check_signature(&self.seal, &self.key)?;
            let reason = root_mismatch(leaves.len() as u64, &span);
            return Err(("root".to_string(), reason));
        }
        kept.compress(&self.text)
            .map_err(|e| ("covered".to_string(), format!("compressing the lines: {e}")))
    }

    fn run_group(jobs: Vec<FinishJob>, mut kept: KeptWriter) -> GroupDone {
        let results = jobs.into_iter().map(|job| job.run(&mut kept)).collect();
        (results, kept)
    }
}

/// What links a ready batch's records to a seal.
pub(super) enum BatchSeal {
    /// No seal covers them (none followed, or they were too many to hold).
    Unsealed,
    /// The same seal is held: the records link to it.
    Held(SealId),
    New(Box<CheckedSeal>),
}

pub(super) struct ReadyBatch {
    pub vin: Arc<str>,
    pub vehicle: VehicleId,
    pub seal: BatchSeal,
    pub records: Vec<(u64, Record)>,
}

/// The queue, and how many records it holds.
#[derive(Default)]
pub(super) struct Ready {
    batches: VecDeque<ReadyBatch>,
    records: usize,
    /// The new seals' jobs, in queue order: those not sent yet, the groups
    /// sent, and the results of the groups done (not written yet).
    waiting: Vec<FinishJob>,
    sent: VecDeque<JoinHandle<GroupDone>>,
    done: VecDeque<Finished>,
    /// Encoders the groups done used, for the next groups: a deflate
    /// encoder's few hundred KiB are allocated (and faulted in) once, not
    /// once per group.
    encoders: Vec<KeptWriter>,
    /// The last write's rows, emptied: each write reuses their room (a
    /// megabyte or two) instead of allocating it again.
    rows: Rows,
}

impl Ready {
    /// Queues a new seal's job; a full group is sent off.
    pub(super) fn finish_later(&mut self, job: FinishJob) {
        self.waiting.push(job);
        if self.waiting.len() >= FINISH_GROUP {
            self.send_waiting();
        }
    }

    fn send_waiting(&mut self) {
        let jobs = std::mem::take(&mut self.waiting);
        if !jobs.is_empty() {
            let kept = self.encoders.pop().unwrap_or_default();
            self.sent.push_back(tokio::task::spawn_blocking(move || {
                FinishJob::run_group(jobs, kept)
            }));
        }
    }

    /// Takes in the oldest group's results, waiting for it; false when
    /// nothing was sent.
    async fn take_next(&mut self) -> Result<bool, StoreError> {
        let Some(group) = self.sent.pop_front() else {
            return Ok(false);
        };
        let (results, kept) = group
            .await
            .map_err(|e| StoreError::Engine(format!("checking seals: {e}")))?;
        self.done.extend(results);
        if self.encoders.len() < KEPT_ENCODERS {
            self.encoders.push(kept);
        }
        Ok(true)
    }

    /// Takes in the results of the groups already done, in order.
    async fn take_done(&mut self) -> Result<(), StoreError> {
        while self.sent.front().is_some_and(|g| g.is_finished()) {
            self.take_next().await?;
        }
        Ok(())
    }

    /// Every job's result.
    async fn take_all(&mut self) -> Result<(), StoreError> {
        self.send_waiting();
        while self.take_next().await? {}
        Ok(())
    }

    /// The longest start of the queue whose new seals are all checked: its
    /// batches and records.
    fn writable(&self) -> (usize, usize) {
        let (mut batches, mut records, mut checked) = (0, 0, self.done.len());
        for batch in &self.batches {
            if matches!(batch.seal, BatchSeal::New(_)) {
                if checked == 0 {
                    break;
                }
                checked -= 1;
            }
            batches += 1;
            records += batch.records.len();
        }
        (batches, records)
    }
}

/// A position's location, for the sample at its instant.
type Location = (f64, f64, Option<f64>);

/// One flush's rows, in queue order, each run linked to its batch's seal.
#[derive(Default)]
struct Rows {
    samples: Vec<(VehicleId, Sample)>,
    sample_lines: Vec<u64>,
    sample_seals: SealRuns,
    positions: Vec<(VehicleId, Position)>,
    /// Each position's line and the index of its batch (for its VIN).
    position_lines: Vec<(u64, usize)>,
    position_seals: SealRuns,
    others: Vec<(u64, usize, Record, Option<SealId>)>,
}

impl Rows {
    /// Room for the batches' records: each record is moved once.
    fn make_room_for(&mut self, batches: &[ReadyBatch]) {
        let (mut samples, mut positions) = (0, 0);
        for (_, record) in batches.iter().flat_map(|b| &b.records) {
            match record {
                Record::Sample(_) => samples += 1,
                Record::Position(_) => positions += 1,
                Record::Event(_) | Record::Edr(_) => {}
            }
        }
        self.samples.reserve(samples);
        self.sample_lines.reserve(samples);
        self.positions.reserve(positions);
        self.position_lines.reserve(positions);
    }

    /// Empty, keeping the room.
    fn clear(&mut self) {
        self.samples.clear();
        self.sample_lines.clear();
        self.sample_seals = SealRuns::default();
        self.positions.clear();
        self.position_lines.clear();
        self.position_seals = SealRuns::default();
        self.others.clear();
    }
}

impl Writer<'_> {
    /// Queues a batch. Once the queue holds enough records, writes the
    /// start of it whose seals are checked, so the writer seldom waits for
    /// the checks; past two writes' worth it waits (memory stays bounded).
    pub(super) async fn queue_batch(&mut self, batch: ReadyBatch) -> Result<(), StoreError> {
        if !self.writing() || (batch.records.is_empty() && !matches!(batch.seal, BatchSeal::New(_)))
        {
            return Ok(());
        }
        self.ready.records += batch.records.len();
        self.ready.batches.push_back(batch);
        if self.ready.records < SAMPLE_FLUSH {
            return Ok(());
        }
        self.ready.take_done().await?;
        let (mut batches, mut records) = self.ready.writable();
        while records < SAMPLE_FLUSH && self.ready.records >= 2 * SAMPLE_FLUSH {
            if !self.ready.take_next().await? {
                self.ready.send_waiting();
            }
            (batches, records) = self.ready.writable();
        }
        if records >= SAMPLE_FLUSH {
            self.write_ready(batches).await?;
        }
        Ok(())
    }

    /// Writes every queued batch, once every seal is checked.
    pub(super) async fn flush_ready(&mut self) -> Result<(), StoreError> {
        if self.ready.batches.is_empty() {
            return Ok(());
        }
        self.ready.take_all().await?;
        self.write_ready(self.ready.batches.len()).await
    }

    /// Writes the first `n` queued batches, whose seals are checked. Unsealed
    /// records buffered before go first: of two rows for one instant, the
    /// first written is kept.
    async fn write_ready(&mut self, n: usize) -> Result<(), StoreError> {
        let batches: Vec<ReadyBatch> = self.ready.batches.drain(..n).collect();
        self.ready.records -= batches.iter().map(|b| b.records.len()).sum::<usize>();
        let new_seals: Vec<u64> = batches
            .iter()
            .filter_map(|b| match &b.seal {
                BatchSeal::New(seal) => Some(seal.at),
                _ => None,
            })
            .collect();
        let mut covered = Vec::with_capacity(new_seals.len());
        for at in new_seals {
            match self.ready.done.pop_front().expect("checked before written") {
                Ok(bytes) => covered.push(bytes),
                Err((field, reason)) => {
                    self.signatures.rejected(at);
                    self.error(super::LineError {
                        line: at,
                        field: Some(field),
                        reason,
                    })
                }
            }
        }
        if !self.writing() {
            return Ok(());
        }
        self.flush_samples().await?;
        self.flush_records().await?;
        let new: Vec<(VehicleId, NewSeal<'_>)> = batches
            .iter()
            .filter_map(|b| match &b.seal {
                BatchSeal::New(s) => Some((b.vehicle, s)),
                _ => None,
            })
            .zip(&covered)
            .map(|((vehicle, s), covered)| {
                let seal = NewSeal {
                    line: &s.line,
                    t_min: s.t_min,
                    t_max: s.t_max,
                    counts: s.counts,
                    covered,
                };
                (vehicle, seal)
            })
            .collect();
        let mut new_ids = if new.is_empty() {
            Vec::new()
        } else {
            self.tx.insert_seals(&new).await?
        }
        .into_iter();
        drop(new);
        let mut rows = std::mem::take(&mut self.ready.rows);
        rows.make_room_for(&batches);
        let mut vehicles = Vec::with_capacity(batches.len());
        for (b, batch) in batches.into_iter().enumerate() {
            let seal = match batch.seal {
                BatchSeal::Unsealed => None,
                BatchSeal::Held(id) => Some(id),
                BatchSeal::New(_) => new_ids.next(),
            };
            rows.sample_seals.start(rows.samples.len(), seal);
            rows.position_seals.start(rows.positions.len(), seal);
            for (line, record) in batch.records {
                match record {
                    Record::Sample(s) => {
                        rows.samples.push((batch.vehicle, s));
                        rows.sample_lines.push(line);
                    }
                    Record::Position(p) => {
                        rows.positions.push((batch.vehicle, p));
                        rows.position_lines.push((line, b));
                    }
                    other => rows.others.push((line, b, other, seal)),
                }
            }
            vehicles.push((batch.vin, batch.vehicle));
        }
        let locations = self.write_ready_positions(&rows, &vehicles).await?;
        self.write_ready_samples(&mut rows, locations).await?;
        for (line, b, record, seal) in rows.others.drain(..) {
            let (vin, vehicle) = &vehicles[b];
            self.write_record(line, vin, *vehicle, record, seal).await?;
        }
        rows.clear();
        self.ready.rows = rows;
        Ok(())
    }

    /// Writes the positions and counts them; the locations sealed samples
    /// take. Those that cannot be matched now are left to `locate_samples`.
    async fn write_ready_positions(
        &mut self,
        rows: &Rows,
        vehicles: &[(Arc<str>, VehicleId)],
    ) -> Result<HashMap<(VehicleId, i64), Location>, StoreError> {
        let mut locations = HashMap::with_capacity(rows.positions.len());
        if rows.positions.is_empty() {
            return Ok(locations);
        }
        let outcomes = self
            .tx
            .put_positions(&rows.positions, &rows.position_seals)
            .await?;
        for (i, (((vehicle, p), (line, b)), outcome)) in rows
            .positions
            .iter()
            .zip(&rows.position_lines)
            .zip(outcomes)
            .enumerate()
        {
            let matchable = rows.position_seals.seal_of(i).is_some()
                && !matches!(outcome, WriteOutcome::Conflict { .. });
            if matchable {
                locations.insert((*vehicle, p.t_us), (p.lat, p.lon, p.heading_deg));
            } else {
                self.locate_later(*vehicle, p.t_us);
            }
            let identity = || {
                format!(
                    "{} position at {}",
                    vehicles[*b].0,
                    crate::domain::time::format_utc(p.t_us)
                )
            };
            self.count(*line, Kind::Position, identity, &outcome);
        }
        Ok(locations)
    }

    /// Gives sealed samples their position's location, then writes them.
    async fn write_ready_samples(
        &mut self,
        rows: &mut Rows,
        mut locations: HashMap<(VehicleId, i64), Location>,
    ) -> Result<(), StoreError> {
        for (i, (vehicle, s)) in rows.samples.iter_mut().enumerate() {
            let c = &mut s.channels;
            if c.lat.is_some() || rows.sample_seals.seal_of(i).is_none() {
                continue;
            }
            if let Some((lat, lon, heading)) = locations.remove(&(*vehicle, s.t_us)) {
                (c.lat, c.lon, c.heading_deg) = (Some(lat), Some(lon), heading);
            }
        }
        // Positions with no sample here: theirs may come later, or be held.
        for (vehicle, t) in locations.into_keys() {
            self.locate_later(vehicle, t);
        }
        if rows.samples.is_empty() {
            return Ok(());
        }
        let before = self.summary.inserted.samples;
        let samples = std::mem::take(&mut rows.samples);
        let lines = std::mem::take(&mut rows.sample_lines);
        let (samples, lines) = self
            .write_samples(samples, lines, &rows.sample_seals)
            .await?;
        if self.summary.inserted.samples - before < samples.len() as u64 {
            // A sample held already keeps its row: it takes its location after.
            for (vehicle, s) in &samples {
                if s.channels.lat.is_some() {
                    self.locate_later(*vehicle, s.t_us);
                }
            }
        }
        (rows.samples, rows.sample_lines) = (samples, lines);
        Ok(())
    }

    /// The vehicle's samples at `t` take their position's location before commit.
    pub(super) fn locate_later(&mut self, vehicle: VehicleId, t: i64) {
        let span = self.located.entry(vehicle).or_insert((t, t));
        *span = (span.0.min(t), span.1.max(t));
    }
}
