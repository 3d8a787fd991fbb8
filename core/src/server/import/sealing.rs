//! Sealed logs (format 1.1) at import. A vehicle's covered lines are held
//! as they stream past (their exact text, their records and their leaf
//! hashes) until the vehicle's next seal; the seal is checked against them
//! and the car's certified key, and only then are the records written,
//! linked to it. Lines no seal follows are written unsealed at the end.
//!
//! The checks that cost most are left to others when everything else about
//! a new seal passed: the Merkle root to other threads (`ready`), the
//! signature to the end of the file (`signatures`). When something else
//! fails they are made here first, so the failure named is always the same
//! whichever thread finds it.
//!
//! Memory: one open batch per sealing vehicle, at most [`MAX_SEAL_LINES`]
//! lines and [`MAX_SEAL_BYTES`] bytes; past that the batch is written
//! unsealed, and a seal that would cover it is refused.

use super::ready::{BatchSeal, CheckedSeal, CoveredRoot, FinishJob, ReadyBatch};
use super::{Kind, LineError, RawText, Record, VinMissingBatch, Writer};
use crate::domain::sealed::{SealLine, VehicleKey};
use crate::server::seal::lines::{
    certified_key, check_seal_fields, check_signature, payload_digest,
};
use crate::server::seal::{Hash, TreeBuilder};
use crate::server::store::{CoveredCounts, HeldSeal, StoreError, VehicleId, WriteOutcome};
use ed25519_dalek::VerifyingKey;
use foldhash::HashMap;
use std::sync::Arc;

/// The most lines one seal may cover (a car seals every minute or so:
/// about 1,200 lines at 10 Hz with positions).
pub const MAX_SEAL_LINES: u64 = 100_000;
/// The most bytes of covered lines one seal may cover.
pub const MAX_SEAL_BYTES: usize = 64 << 20;

/// One vehicle's covered lines since its last seal in this file.
#[derive(Default)]
pub(super) struct OpenBatch {
    lines: u64,
    /// The lines' leaf hashes, in order (none once spilled).
    leaves: Vec<Hash>,
    /// The lines' exact text, each followed by `\n`.
    text: Vec<u8>,
    /// Where the last line starts in `text`.
    last_start: usize,
    records: Vec<(u64, Record)>,
    first_line: u64,
    last_line: u64,
    t_min: i64,
    t_max: i64,
    counts: CoveredCounts,
    /// Over the limits: the records were written unsealed.
    spilled: bool,
}

impl OpenBatch {
    /// An empty batch for the vehicle's next lines, with room for as many
    /// as this one held (a car seals batches of much the same size): the
    /// lines are not copied again as the batch grows.
    fn next(&self) -> Self {
        Self {
            leaves: Vec::with_capacity(self.leaves.len()),
            text: Vec::with_capacity(self.text.len()),
            records: Vec::with_capacity(self.records.len()),
            ..Self::default()
        }
    }

    fn lines(&self) -> u64 {
        self.lines
    }

    /// The lines' tree hash (RFC 9162), what the seal's `root` must be.
    fn root(&self) -> Option<Hash> {
        root_of(&self.leaves)
    }

    /// Which lines the batch holds, for messages.
    fn span(&self) -> String {
        format!("lines {}–{}", self.first_line, self.last_line)
    }

    fn push(&mut self, line: u64, raw: &RawText<'_>, record: Record) {
        if self.lines == 0 {
            self.first_line = line;
            self.t_min = i64::MAX;
            self.t_max = i64::MIN;
        }
        self.lines += 1;
        self.last_line = line;
        let t = record.t_us();
        self.t_min = self.t_min.min(t);
        self.t_max = self.t_max.max(t);
        match &record {
            Record::Sample(_) => self.counts.samples += 1,
            Record::Position(_) => self.counts.positions += 1,
            Record::Event(_) => self.counts.events += 1,
            Record::Edr(_) => self.counts.edr += 1,
        }
        if !self.spilled {
            self.leaves.push(raw.leaf);
            self.last_start = self.text.len();
            self.text.extend_from_slice(raw.text.as_bytes());
            self.text.push(b'\n');
            self.records.push((line, record));
        }
    }

    fn over_limits(&self) -> bool {
        self.lines() > MAX_SEAL_LINES || self.text.len() > MAX_SEAL_BYTES
    }

    /// The `t` (crash records: `t0`) of the first and of the last line, as written.
    fn times(&self) -> (String, String) {
        let first_end = self
            .text
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(self.text.len());
        let last_end = self.text.len().saturating_sub(1);
        (
            written_time(&self.text[..first_end]),
            written_time(&self.text[self.last_start..last_end]),
        )
    }
}

/// The tree hash of leaves; `None` for none.
pub(super) fn root_of(leaves: &[Hash]) -> Option<Hash> {
    let mut tree = TreeBuilder::new();
    leaves.iter().for_each(|leaf| tree.push(*leaf));
    tree.root()
}

/// The message of a seal whose root does not match its covered lines.
pub(super) fn root_mismatch(lines: u64, span: &str) -> String {
    format!(
        "does not match the {lines} covered lines ({span}): a line was changed, \
         added or removed after the car sealed them"
    )
}

/// A covered line's time field exactly as written (it parsed, so it has one).
fn written_time(line: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Times {
        t: Option<String>,
        t0: Option<String>,
    }
    serde_json::from_slice::<Times>(line)
        .ok()
        .and_then(|times| times.t.or(times.t0))
        .unwrap_or_default()
}

/// What an import knows of sealed logs so far.
#[derive(Default)]
pub(super) struct Sealing {
    /// Per VIN, its keys that a trusted CA certified, by id; loaded on first sight.
    keys: HashMap<Arc<str>, HashMap<String, VerifyingKey>>,
    open: HashMap<Arc<str>, OpenBatch>,
    /// Per (VIN, key), the last seal of this file: its seq, line and payload digest.
    last: HashMap<(Arc<str>, String), (u64, u64, String)>,
    /// Vehicles that sealed something in this file.
    sealed: HashMap<Arc<str>, VehicleId>,
    /// Per (vehicle, key), the highest seq held (this import's included):
    /// seals above it need no lookup, so an in-order import asks nothing.
    held_max: HashMap<(VehicleId, String), u64>,
}

fn line_error(line: u64, field: &str, reason: impl Into<String>) -> LineError {
    LineError {
        line,
        field: Some(field.into()),
        reason: reason.into(),
    }
}

/// A seal check's answer: the line is rejected, naming the field.
fn rejected<T>(line: u64, field: &str, reason: String) -> Result<Result<T, LineError>, StoreError> {
    Ok(Err(line_error(line, field, reason)))
}

impl Writer<'_> {
    /// The highest seq of the key's seals held, loaded once per import.
    async fn held_max(&mut self, vehicle: VehicleId, key: &str) -> Result<u64, StoreError> {
        if vehicle < 0 {
            return Ok(0);
        }
        let id = (vehicle, key.to_string());
        if let Some(max) = self.sealing.held_max.get(&id) {
            return Ok(*max);
        }
        let max = self.tx.max_seal_seq(vehicle, key).await?;
        self.sealing.held_max.insert(id, max);
        Ok(max)
    }

    /// Whether the vehicle has keys: then its lines are held for their seal.
    pub(super) async fn seals_vehicle(
        &mut self,
        vin: &Arc<str>,
        vehicle: VehicleId,
    ) -> Result<bool, StoreError> {
        // Asked for every line: one lookup once the keys are loaded.
        if let Some(keys) = self.sealing.keys.get(vin) {
            return Ok(!keys.is_empty());
        }
        Ok(!self.known_keys(vin, vehicle).await?.is_empty())
    }

    /// The vehicle's usable keys: those held, re-checked against the CAs
    /// trusted now, and those its vehicle lines in this file listed.
    async fn known_keys(
        &mut self,
        vin: &Arc<str>,
        vehicle: VehicleId,
    ) -> Result<&mut HashMap<String, VerifyingKey>, StoreError> {
        if !self.sealing.keys.contains_key(vin) {
            let held = if vehicle >= 0 && !self.options.vehicle_cas.is_empty() {
                self.tx.vehicle_keys(vehicle).await?
            } else {
                Vec::new()
            };
            let usable = held
                .iter()
                .enumerate()
                .filter_map(|(i, key)| {
                    certified_key(&self.options.vehicle_cas, vin, i, key)
                        .ok()
                        .map(|public| (key.id.clone(), public))
                })
                .collect();
            self.sealing.keys.insert(vin.clone(), usable);
        }
        Ok(self.sealing.keys.get_mut(vin).expect("inserted above"))
    }

    /// A vehicle line's `keys`: each certified by a trusted CA, ids unique.
    pub(super) async fn accept_keys(
        &mut self,
        line: u64,
        vin: Arc<str>,
        vehicle: VehicleId,
        keys: Vec<VehicleKey>,
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut seen = std::collections::HashSet::new();
        let mut certified = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if !seen.insert(key.id.as_str()) {
                let reason = format!("key id `{}` is listed twice", key.id);
                self.error(line_error(line, &format!("keys[{i}].id"), reason));
                continue;
            }
            match certified_key(&self.options.vehicle_cas, &vin, i, key) {
                Ok(public) => certified.push((key, public)),
                Err((field, reason)) => self.error(line_error(line, &field, reason)),
            }
        }
        for (key, public) in certified {
            if self.writing() {
                let outcome = self.tx.put_vehicle_key(vehicle, key).await?;
                let identity = || format!("{vin} key {}", key.id);
                self.count(line, Kind::Key, identity, &outcome);
                if matches!(outcome, WriteOutcome::Conflict { .. }) {
                    continue;
                }
            }
            self.known_keys(&vin, vehicle)
                .await?
                .insert(key.id.clone(), public);
        }
        Ok(())
    }

    /// Holds a covered line until the vehicle's next seal.
    pub(super) async fn cover(
        &mut self,
        line: u64,
        vin: Arc<str>,
        vehicle: VehicleId,
        raw: &RawText<'_>,
        record: Record,
    ) -> Result<(), StoreError> {
        let batch = self.sealing.open.entry(vin.clone()).or_default();
        let was_spilled = batch.spilled;
        batch.push(line, raw, record);
        if was_spilled || !batch.over_limits() {
            return Ok(());
        }
        // Too long to hold: written unsealed now; a seal over it is refused.
        batch.spilled = true;
        batch.text = Vec::new();
        batch.leaves = Vec::new();
        let records = std::mem::take(&mut batch.records);
        self.queue_batch(ReadyBatch {
            vin,
            vehicle,
            seal: BatchSeal::Unsealed,
            records,
        })
        .await
    }

    /// Checks a seal against the lines it covers and the car's key, then
    /// queues those lines' records, linked to it.
    pub(super) async fn accept_seal(
        &mut self,
        line: u64,
        vin: Arc<str>,
        seal: SealLine,
    ) -> Result<(), StoreError> {
        let mut batch = match self.sealing.open.get_mut(&vin) {
            Some(open) => {
                let next = open.next();
                std::mem::replace(open, next)
            }
            None => OpenBatch::default(),
        };
        let Some(vehicle) = self.resolve(line, &vin).await? else {
            return Ok(());
        };
        let (key, root) = match self.check_seal(line, &vin, vehicle, &seal, &batch).await? {
            Ok(checked) => checked,
            Err(e) => {
                self.error(e);
                return Ok(());
            }
        };
        let digest = payload_digest(&seal);
        self.supplied.seal(vehicle, seal.seq);
        self.sealing
            .last
            .insert((vin.clone(), seal.key.clone()), (seal.seq, line, digest));
        self.sealing.sealed.insert(vin.clone(), vehicle);
        let new = seal.seq > self.held_max(vehicle, &seal.key).await?;
        if !self.writing() || !new {
            // Nothing to queue, or a held seal to compare with: checked here.
            if let Err((field, reason)) = check_signature(&seal, &key) {
                self.error(line_error(line, &field, reason));
                return Ok(());
            }
            if batch.root() != Some(root) {
                let reason = root_mismatch(batch.lines(), &batch.span());
                self.error(line_error(line, "root", reason));
                return Ok(());
            }
        }
        if !self.writing() {
            return Ok(());
        }
        let held = if new {
            None
        } else {
            self.held_seal(vehicle, &vin, &seal.key, seal.seq).await?
        };
        let identity = || format!("{vin} seal {} of key {}", seal.seq, seal.key);
        let batch_seal = match held {
            Some(held) if held.line == seal => {
                self.count(line, Kind::Seal, identity, &WriteOutcome::Duplicate);
                BatchSeal::Held(held.id)
            }
            Some(_) => {
                let differences = format!(
                    "seal {} of key {} is held with other content: the car signed two different batches with one seq; its lines are kept unsealed",
                    seal.seq, seal.key
                );
                self.count(
                    line,
                    Kind::Seal,
                    identity,
                    &WriteOutcome::Conflict { differences },
                );
                BatchSeal::Unsealed
            }
            None => {
                let max = self
                    .sealing
                    .held_max
                    .entry((vehicle, seal.key.clone()))
                    .or_default();
                *max = (*max).max(seal.seq);
                self.count(line, Kind::Seal, identity, &WriteOutcome::Inserted);
                self.signatures.check_later(line, &seal, key).await?;
                self.ready.finish_later(FinishJob {
                    seal: seal.clone(),
                    key,
                    text: std::mem::take(&mut batch.text),
                    root: CoveredRoot {
                        expected: root,
                        leaves: std::mem::take(&mut batch.leaves),
                        span: batch.span(),
                    },
                });
                BatchSeal::New(Box::new(CheckedSeal {
                    at: line,
                    line: seal,
                    t_min: batch.t_min,
                    t_max: batch.t_max,
                    counts: batch.counts,
                }))
            }
        };
        self.queue_batch(ReadyBatch {
            vin,
            vehicle,
            seal: batch_seal,
            records: batch.records,
        })
        .await
    }

    /// A held seal: the queue is written first, so a seal of this file is
    /// found as well as those held before.
    async fn held_seal(
        &mut self,
        vehicle: VehicleId,
        vin: &str,
        key: &str,
        seq: u64,
    ) -> Result<Option<HeldSeal>, StoreError> {
        self.flush_ready().await?;
        self.tx.held_seal(vehicle, vin, key, seq).await
    }

    /// Everything a seal must satisfy, the first failure named; its key and
    /// the root it states. The signature and the root are checked here only
    /// when something else fails (their failures are named first, in that
    /// order); otherwise by the caller or the seal's [`FinishJob`].
    async fn check_seal(
        &mut self,
        line: u64,
        vin: &Arc<str>,
        vehicle: VehicleId,
        seal: &SealLine,
        batch: &OpenBatch,
    ) -> Result<Result<(VerifyingKey, Hash), LineError>, StoreError> {
        let Some(key) = self.known_keys(vin, vehicle).await?.get(&seal.key).copied() else {
            return rejected(
                line,
                "key",
                format!(
                    "key `{}` is not a key of {vin} certified by a trusted vehicle CA \
                     (keys are listed on the vehicle line, in this file or an earlier import)",
                    seal.key
                ),
            );
        };
        if *seal.vin != **vin {
            return rejected(
                line,
                "vin",
                format!("must be written as the vehicle's VIN is, in upper case ({vin})"),
            );
        }
        let root = match check_seal_fields(seal) {
            Ok(root) => root,
            Err((field, reason)) => return rejected(line, &field, reason),
        };
        match self.check_covered(line, vin, vehicle, seal, batch).await? {
            Ok(()) => Ok(Ok((key, root))),
            Err(e) => {
                if let Err((field, reason)) = check_signature(seal, &key) {
                    return rejected(line, &field, reason);
                }
                let counted = e.field.as_deref() == Some("count");
                if !counted && batch.root() != Some(root) {
                    return rejected(line, "root", root_mismatch(batch.lines(), &batch.span()));
                }
                Ok(Err(e))
            }
        }
    }

    /// A seal against the lines it covers (all but their root) and the
    /// seals before and after it.
    async fn check_covered(
        &mut self,
        line: u64,
        vin: &Arc<str>,
        vehicle: VehicleId,
        seal: &SealLine,
        batch: &OpenBatch,
    ) -> Result<Result<(), LineError>, StoreError> {
        let lines = batch.lines();
        if lines == 0 {
            return rejected(
                line,
                "count",
                format!(
                    "the seal covers nothing: no sample, position, event or crash record of \
                     {vin} stands between it and the vehicle's previous seal"
                ),
            );
        }
        let span = batch.span();
        if batch.spilled {
            return rejected(
                line,
                "count",
                format!(
                    "the seal covers {lines} lines ({span}), more than the {MAX_SEAL_LINES} lines \
                     or {} MiB one seal may cover here",
                    MAX_SEAL_BYTES >> 20
                ),
            );
        }
        if seal.count != lines {
            return rejected(
                line,
                "count",
                format!(
                    "says {} but {lines} lines of {vin} ({span}) stand between this seal and the \
                     previous one",
                    seal.count
                ),
            );
        }
        let (first_t, last_t) = batch.times();
        if seal.first_t != first_t {
            return rejected(
                line,
                "first_t",
                format!(
                    "`{}` is not the time of the first covered line (line {}: `{first_t}`)",
                    seal.first_t, batch.first_line
                ),
            );
        }
        if seal.last_t != last_t {
            return rejected(
                line,
                "last_t",
                format!(
                    "`{}` is not the time of the last covered line (line {}: `{last_t}`)",
                    seal.last_t, batch.last_line
                ),
            );
        }
        self.check_chain(line, vin, vehicle, seal).await
    }

    /// `prev` links to the seal before (in this file or held) and the held
    /// seal after links to this one: two seals with one seq never both pass.
    async fn check_chain(
        &mut self,
        line: u64,
        vin: &Arc<str>,
        vehicle: VehicleId,
        seal: &SealLine,
    ) -> Result<Result<(), LineError>, StoreError> {
        let held_max = self.held_max(vehicle, &seal.key).await?;
        if seal.seq > 1 {
            let before = match self.sealing.last.get(&(vin.clone(), seal.key.clone())) {
                Some((seq, at, digest)) if *seq == seal.seq - 1 => {
                    Some((format!("line {at}"), digest.clone()))
                }
                _ if seal.seq - 1 <= held_max => self
                    .held_seal(vehicle, vin, &seal.key, seal.seq - 1)
                    .await?
                    .map(|held| ("the held one".to_string(), payload_digest(&held.line))),
                _ => None,
            };
            if let Some((which, digest)) = before {
                if digest != seal.prev {
                    return Ok(Err(line_error(
                        line,
                        "prev",
                        format!(
                            "does not link to seal {} of key {} ({which}), whose payload digest is {digest}",
                            seal.seq - 1,
                            seal.key
                        ),
                    )));
                }
            }
        }
        if seal.seq < held_max {
            if let Some(after) = self
                .held_seal(vehicle, vin, &seal.key, seal.seq + 1)
                .await?
            {
                if after.line.prev != payload_digest(seal) {
                    return Ok(Err(line_error(
                        line,
                        "seq",
                        format!(
                            "the held seal {} of key {} does not link to this seal {}: one of them is not the car's",
                            seal.seq + 1,
                            seal.key,
                            seal.seq
                        ),
                    )));
                }
            }
        }
        Ok(Ok(()))
    }

    /// At the end of the file: lines no seal followed are written unsealed.
    pub(super) async fn close_open_batches(&mut self) -> Result<(), StoreError> {
        let open: Vec<(Arc<str>, OpenBatch)> = self.sealing.open.drain().collect();
        for (vin, batch) in open {
            if let Some(Some(vehicle)) = self.vehicles.get(&vin).copied() {
                let (seal, records) = (BatchSeal::Unsealed, batch.records);
                self.queue_batch(ReadyBatch {
                    vin,
                    vehicle,
                    seal,
                    records,
                })
                .await?;
            }
        }
        self.flush_ready().await
    }

    /// The gaps in the seals of every vehicle that sealed something here.
    pub(super) async fn missing_batches(&mut self) -> Result<Vec<VinMissingBatch>, StoreError> {
        let mut sealed: Vec<(Arc<str>, VehicleId)> = self.sealing.sealed.drain().collect();
        sealed.sort();
        let mut out = Vec::new();
        for (vin, vehicle) in sealed {
            for batch in self.tx.missing_batches(vehicle).await? {
                out.push(VinMissingBatch {
                    vin: vin.to_string(),
                    batch,
                });
            }
        }
        Ok(out)
    }
}
