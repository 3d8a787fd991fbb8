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
    /// Writes samples; `seal` covers every one of them, if given.
    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
        seal: Option<SealId>,
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
    /// Stores a verified seal that is not held yet.
    async fn insert_seal(
        &mut self,
        vehicle: VehicleId,
        seal: &NewSeal<'_>,
    ) -> Result<SealId, StoreError>;
    /// The highest `seq` held of a vehicle key's seals (0: none).
    async fn max_seal_seq(&mut self, vehicle: VehicleId, key: &str) -> Result<u64, StoreError>;
    /// A batch's positions, all covered by `seal` if given; one outcome each.
    async fn put_positions(
        &mut self,
        vehicle: VehicleId,
        positions: &[Position],
        seal: Option<SealId>,
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
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}

/// Imports: one write transaction per file.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Starts a write transaction for one import: everything in it lands or nothing does.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError>;
}
