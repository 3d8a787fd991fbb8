//! Imports: one write transaction per file.

use super::audit::{AuditEntry, NewAuditEntry};
use super::seals::{HeldSeal, MissingBatch, NewSeal, SealId};
use super::vehicles::StoredVehicle;
use super::{StoreError, VehicleId};
use crate::domain::log_format::EventType;
use crate::domain::records::{EdrRecord, Event, Position, Sample, Vehicle};
use crate::domain::sealed::VehicleKey;
use crate::domain::Vin;
use async_trait::async_trait;

/// What happened to one record written during an import.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Inserted,
    /// The same identity with the same values is already held.
    Duplicate,
    /// The same identity with different values is held; the held one is kept.
    Conflict {
        differences: String,
    },
}

/// What happened to a batch of samples.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SampleBatchOutcome {
    pub inserted: u64,
    pub duplicates: u64,
    /// (index in the batch, which channels differ)
    pub conflicts: Vec<(usize, String)>,
}

/// Which seal covers each row of a batch, as runs of consecutive rows:
/// a batch may hold the lines of several seals, and unsealed ones.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SealRuns {
    /// (index of the run's first row, its seal), by index.
    runs: Vec<(usize, Option<SealId>)>,
}

impl SealRuns {
    /// Every row covered by `seal` (none: every row unsealed).
    pub fn all(seal: Option<SealId>) -> Self {
        SealRuns {
            runs: vec![(0, seal)],
        }
    }

    /// Rows from `first` on are covered by `seal`, until the next run.
    pub fn start(&mut self, first: usize, seal: Option<SealId>) {
        match self.runs.last_mut() {
            Some(last) if last.0 == first => last.1 = seal,
            Some(last) if last.1 == seal => {}
            _ => self.runs.push((first, seal)),
        }
    }

    /// The seal covering row `index`.
    pub fn seal_of(&self, index: usize) -> Option<SealId> {
        let after = self.runs.partition_point(|(first, _)| *first <= index);
        after.checked_sub(1).and_then(|run| self.runs[run].1)
    }
}

/// A record that a seal covers, by identity.
#[derive(Debug, Clone, Copy)]
pub enum SealedRecord<'a> {
    Event(&'a str),
    Edr(&'a str),
}

impl SealedRecord<'_> {
    /// The statement that links the record to its seal (`$1` seal, `$2`
    /// vehicle, `$3` event id), the same in both dialects.
    pub(crate) fn mark_sql(&self) -> &'static str {
        match self {
            SealedRecord::Event(_) => {
                "UPDATE events SET seal_id = $1 WHERE vehicle_id = $2 AND event_id = $3 AND seal_id IS NULL"
            }
            SealedRecord::Edr(_) => {
                "UPDATE edr_records SET seal_id = $1 WHERE vehicle_id = $2 AND event_id = $3 AND seal_id IS NULL"
            }
        }
    }

    pub(crate) fn event_id(&self) -> &str {
        match self {
            SealedRecord::Event(id) | SealedRecord::Edr(id) => id,
        }
    }
}

/// One import's write transaction. Dropping it without `commit` rolls back.
#[async_trait]
pub trait ImportTx: Send {
    async fn vehicle(&mut self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>;
    async fn put_vehicle(
        &mut self,
        vehicle: &Vehicle,
    ) -> Result<(VehicleId, WriteOutcome), StoreError>;
    /// Writes samples, each linked to the seal `seals` gives it.
    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
        seals: &SealRuns,
    ) -> Result<SampleBatchOutcome, StoreError>;
    async fn put_event(
        &mut self,
        vehicle: VehicleId,
        event: &Event,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError>;
    async fn put_edr(
        &mut self,
        vehicle: VehicleId,
        edr: &EdrRecord,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError>;
    async fn event_type(
        &mut self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EventType>, StoreError>;
    /// The keys held for a vehicle (format 1.1).
    async fn vehicle_keys(&mut self, vehicle: VehicleId) -> Result<Vec<VehicleKey>, StoreError>;
    /// Stores a certified key; the same id with other content is a conflict.
    async fn put_vehicle_key(
        &mut self,
        vehicle: VehicleId,
        key: &VehicleKey,
    ) -> Result<WriteOutcome, StoreError>;
    async fn held_seal(
        &mut self,
        vehicle: VehicleId,
        vin: &str,
        key: &str,
        seq: u64,
    ) -> Result<Option<HeldSeal>, StoreError>;
    /// Stores verified seals that are not held yet; their ids, in order.
    async fn insert_seals(
        &mut self,
        seals: &[(VehicleId, NewSeal<'_>)],
    ) -> Result<Vec<SealId>, StoreError>;
    /// The highest `seq` held of a vehicle key's seals (0: none).
    async fn max_seal_seq(&mut self, vehicle: VehicleId, key: &str) -> Result<u64, StoreError>;
    /// Positions, each linked to the seal `seals` gives it; one outcome each.
    async fn put_positions(
        &mut self,
        rows: &[(VehicleId, Position)],
        seals: &SealRuns,
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    async fn put_position(
        &mut self,
        vehicle: VehicleId,
        position: &Position,
        seal: Option<SealId>,
    ) -> Result<WriteOutcome, StoreError>;
    /// Records that `seal` covers an event or crash record held as it signed
    /// it (inserted now, or held unsealed with the same values).
    async fn mark_sealed(
        &mut self,
        vehicle: VehicleId,
        record: SealedRecord<'_>,
        seal: SealId,
    ) -> Result<(), StoreError>;
    async fn missing_batches(
        &mut self,
        vehicle: VehicleId,
    ) -> Result<Vec<MissingBatch>, StoreError>;
    /// Gives the vehicle's samples in `[from, to]` that carry no location the
    /// location of the position at the same instant.
    async fn locate_samples(
        &mut self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<(), StoreError>;
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;
    /// Brings the per-minute summaries up to date with the samples written
    /// so far: the longest step before commit, apart so that the import can
    /// finish its own checks meanwhile. `commit` does it for what is left.
    async fn summarize(&mut self) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}

/// Imports: one write transaction per file.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Starts a write transaction for one import: everything in it lands or nothing does.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::SealRuns;

    #[test]
    fn seal_runs_give_each_row_its_seal() {
        let mut runs = SealRuns::default();
        assert_eq!(runs.seal_of(0), None);
        runs.start(0, Some(7));
        runs.start(3, None);
        runs.start(5, Some(8));
        // A run with no rows is replaced by the next one starting there.
        runs.start(9, Some(9));
        runs.start(9, Some(10));
        let seals: Vec<_> = (0..11).map(|i| runs.seal_of(i)).collect();
        let (a, b, c) = (Some(7), Some(8), Some(10));
        assert_eq!(seals, [a, a, a, None, None, b, b, b, b, c, c]);
        assert_eq!(SealRuns::all(Some(4)).seal_of(1_000), Some(4));
        assert_eq!(SealRuns::all(None).seal_of(0), None);
    }
}
