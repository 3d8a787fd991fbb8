//! Privacy zones: the places each owner hides positions in.

use super::{AccountId, StoreError};
use crate::domain::privacy::PrivacyZone;
use async_trait::async_trait;

/// A zone to keep for an account (checked by the service).
#[derive(Debug, Clone, PartialEq)]
pub struct NewZone {
    pub account_id: AccountId,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub created_us: i64,
}

/// A zone as both backends read it: id, name, lat, lon, radius_m.
pub(crate) type ZoneRow = (i64, String, f64, f64, f64);

pub(crate) fn zone((id, name, lat, lon, radius_m): ZoneRow) -> PrivacyZone {
    PrivacyZone {
        id,
        name,
        lat,
        lon,
        radius_m,
    }
}

/// Privacy zones: kept per account, read by the gate for every reader of
/// the account's periods.
#[async_trait]
pub trait ZoneStore: Send + Sync {
    /// Keeps the zone unless the account already has `max` of them (`None`).
    async fn add_zone(&self, zone: &NewZone, max: usize)
        -> Result<Option<PrivacyZone>, StoreError>;

    /// The zones of these accounts, oldest first.
    async fn zones_of(&self, accounts: &[AccountId]) -> Result<Vec<PrivacyZone>, StoreError>;

    /// Removes one of the account's zones; false when it has none by that id.
    async fn remove_zone(&self, id: i64, account: AccountId) -> Result<bool, StoreError>;
}
