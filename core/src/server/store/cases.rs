//! Support cases and the bundles exported to them.

use super::{AccountId, StoreError, VehicleId};
use crate::domain::staff::CaseStatus;
use async_trait::async_trait;

/// A case as stored (`vin` and the owner's name joined in).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: i64,
    pub case_no: String,
    pub vehicle_id: VehicleId,
    pub vin: String,
    pub owner_account_id: Option<AccountId>,
    pub owner_account: Option<String>,
    pub subject: String,
    pub purpose: String,
    pub status: CaseStatus,
    pub from_us: i64,
    pub to_us: i64,
    pub created_by: AccountId,
    pub created_us: i64,
}

/// A case to open; the store gives it its number (`C-YYYY-NNNNNN`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub vehicle_id: VehicleId,
    pub owner_account_id: Option<AccountId>,
    pub subject: String,
    pub purpose: String,
    pub from_us: i64,
    pub to_us: i64,
    pub created_by: AccountId,
    pub created_us: i64,
}

/// A bundle exported to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseExport {
    pub case_id: i64,
    pub bundle_id: String,
    pub manifest_sha256: String,
    pub recipient: String,
    pub legal_basis: String,
    pub created_by: AccountId,
    pub created_us: i64,
    pub bundle: Vec<u8>,
}

/// A case's export as listed (without the bundle's bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseExportRecord {
    pub bundle_id: String,
    pub manifest_sha256: String,
    pub recipient: String,
    pub legal_basis: String,
    pub created_us: i64,
    pub size: u64,
}

/// Support cases and the bundles exported to them.
#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn create_case(&self, case: &NewCase) -> Result<CaseRecord, StoreError>;

    async fn case_by_no(&self, case_no: &str) -> Result<Option<CaseRecord>, StoreError>;

    /// Cases newest first, of one vehicle and/or with one status.
    async fn cases(
        &self,
        vehicle: Option<VehicleId>,
        status: Option<CaseStatus>,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError>;

    /// Cases about an owner account, newest first.
    async fn cases_of_owner(&self, account: AccountId) -> Result<Vec<CaseRecord>, StoreError>;

    async fn set_case_status(&self, case_id: i64, status: CaseStatus) -> Result<(), StoreError>;

    async fn attach_case_export(&self, export: &NewCaseExport) -> Result<(), StoreError>;

    async fn case_exports(&self, case_id: i64) -> Result<Vec<CaseExportRecord>, StoreError>;

    async fn case_export_bundle(
        &self,
        case_id: i64,
        bundle_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;
}
