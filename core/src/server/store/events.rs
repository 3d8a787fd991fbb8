//! Events and crash (EDR) records.

use super::{StoreError, TimeRange, VehicleId};
use crate::domain::log_format::{EventType, Severity};
use crate::domain::records::{EdrRecord, Event};
use async_trait::async_trait;

/// Which events a list shows: any of `types` (all when empty), and `severity`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub types: Vec<EventType>,
    pub severity: Option<Severity>,
}

/// One keyset page of events, ordered by (time, id): strictly after (or,
/// descending, before) `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPageRequest {
    pub descending: bool,
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

/// An event of a page, with the id of the vehicle key whose seal covers
/// it (read with the page: one question, not two).
#[derive(Debug, Clone, PartialEq)]
pub struct PagedEvent {
    pub event: Event,
    pub sealed_by: Option<String>,
}

/// Events and crash (EDR) records.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn events(&self, vehicle: VehicleId, range: TimeRange) -> Result<Vec<Event>, StoreError>;

    async fn edr_records(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
    ) -> Result<Vec<EdrRecord>, StoreError>;

    /// One page of events within any of `ranges`, filtered.
    async fn event_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &EventFilter,
        page: &EventPageRequest,
    ) -> Result<Vec<PagedEvent>, StoreError>;

    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError>;

    async fn edr_record(
        &self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EdrRecord>, StoreError>;
}
