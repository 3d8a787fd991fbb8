//! Imports: one write transaction per file.

use super::audit::{AuditEntry, NewAuditEntry};
use super::vehicles::StoredVehicle;
use super::{StoreError, VehicleId};
use crate::domain::log_format::EventType;
use crate::domain::records::{EdrRecord, Event, Sample, Vehicle};
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

/// One import's write transaction. Dropping it without `commit` rolls back.
#[async_trait]
pub trait ImportTx: Send {
    async fn vehicle(&mut self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>;
    async fn put_vehicle(
        &mut self,
        vehicle: &Vehicle,
    ) -> Result<(VehicleId, WriteOutcome), StoreError>;
    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
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
