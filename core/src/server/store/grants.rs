//! Grants: third parties an owner lets read one vehicle's data.

use super::{AccountId, StoreError, TimeRange, VehicleId};
use crate::domain::export::LocationRedaction;
use crate::domain::sharing::{DataClass, RecipientKind, RevokedBecause};
use async_trait::async_trait;

/// A grant to make; its token is held only as a SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrant {
    pub vehicle_id: VehicleId,
    pub owner_account_id: AccountId,
    pub recipient: String,
    pub kind: RecipientKind,
    pub purpose: String,
    pub classes: Vec<DataClass>,
    pub location: LocationRedaction,
    /// The data window; a continuous grant's ends open (`i64::MAX`).
    pub window: TimeRange,
    pub continuous: bool,
    pub expires_us: i64,
    pub token_sha256: String,
    pub created_us: i64,
}

/// A grant as stored, with its vehicle's VIN and zone.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub id: i64,
    pub vin: String,
    pub timezone: String,
    pub vehicle_id: VehicleId,
    pub owner_account_id: AccountId,
    pub recipient: String,
    pub kind: RecipientKind,
    pub purpose: String,
    pub classes: Vec<DataClass>,
    pub location: LocationRedaction,
    pub window: TimeRange,
    pub continuous: bool,
    pub expires_us: i64,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
    pub revoked_because: Option<RevokedBecause>,
}

/// The stored form of a grant's classes: their names, comma-separated.
pub(crate) fn classes_text(classes: &[DataClass]) -> String {
    classes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Grants: made and revoked by owners, read by the gate.
#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn create_grant(&self, grant: &NewGrant) -> Result<GrantRecord, StoreError>;

    async fn grant(&self, id: i64) -> Result<Option<GrantRecord>, StoreError>;

    /// The grant whose token has this hash, whatever its state.
    async fn grant_by_token(&self, token_sha256: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// One owner's grants on one vehicle, newest first.
    async fn grants_of(
        &self,
        vehicle: VehicleId,
        owner: AccountId,
    ) -> Result<Vec<GrantRecord>, StoreError>;

    /// Ends a live grant of `owner`; false when there is none by that id.
    async fn revoke_grant(&self, id: i64, owner: AccountId, at_us: i64)
        -> Result<bool, StoreError>;
}
