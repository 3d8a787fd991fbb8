//! Vehicles and what is held of each.

use super::{StoreError, TimeRange, VehicleId};
use crate::domain::records::Vehicle;
use crate::domain::Vin;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVehicle {
    pub id: VehicleId,
    pub vehicle: Vehicle,
}

/// How much of one data class is held for a vehicle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassHoldings {
    pub count: u64,
    /// Of them, records a vehicle seal covers (format 1.1).
    pub sealed: u64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
}

impl ClassHoldings {
    fn add(&mut self, other: &ClassHoldings) {
        self.count += other.count;
        self.sealed += other.sealed;
        self.first_us = match (self.first_us, other.first_us) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_us = match (self.last_us, other.last_us) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// What is held for a vehicle, per data class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdings {
    pub samples: ClassHoldings,
    /// Samples carrying a position.
    pub location: ClassHoldings,
    pub events: ClassHoldings,
    pub edr_records: ClassHoldings,
    pub locked_edr_records: u64,
    /// Samples in the 30 minutes before a locked crash record (legal hold).
    pub held_samples: u64,
}

impl Holdings {
    /// Adds another range's holdings (an owner may have several periods).
    pub fn add(&mut self, other: &Holdings) {
        self.samples.add(&other.samples);
        self.location.add(&other.location);
        self.events.add(&other.events);
        self.edr_records.add(&other.edr_records);
        self.locked_edr_records += other.locked_edr_records;
        self.held_samples += other.held_samples;
    }
}

/// How far before a locked crash record the samples are under legal hold too.
pub const HOLD_BEFORE_CRASH_US: i64 = 30 * 60 * 1_000_000;

/// Vehicles and what is held of each.
#[async_trait]
pub trait VehicleStore: Send + Sync {
    async fn vehicle(&self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>;

    async fn vehicles(&self) -> Result<Vec<StoredVehicle>, StoreError>;

    /// What is held for a vehicle within `range`.
    async fn holdings(&self, vehicle: VehicleId, range: TimeRange) -> Result<Holdings, StoreError>;
}
