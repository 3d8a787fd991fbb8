//! SQLite: support cases and the bundles exported to them.

use super::SqliteStore;
use crate::domain::staff::CaseStatus;
use crate::server::store::decode::{self, CASE_EXPORT_COLUMNS, CASE_SELECT};
use crate::server::store::rows::case_number;
use crate::server::store::{
    AccountId, CaseExportRecord, CaseRecord, CaseStore, NewCase, NewCaseExport, StoreError,
    VehicleId,
};
use async_trait::async_trait;
use sqlx::SqlitePool;

async fn create_case(pool: &SqlitePool, c: &NewCase) -> Result<CaseRecord, StoreError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (case_no, vehicle_id, owner_account_id, subject, purpose, status, \
         from_at, to_at, created_by, created_at) \
         VALUES ('', ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
    )
    .bind(c.vehicle_id)
    .bind(c.owner_account_id)
    .bind(&c.subject)
    .bind(&c.purpose)
    .bind(c.from_us)
    .bind(c.to_us)
    .bind(c.created_by)
    .bind(c.created_us)
    .fetch_one(&mut *tx)
    .await?;
    let case_no = case_number(id, c.created_us);
    sqlx::query("UPDATE cases SET case_no = ? WHERE id = ?")
        .bind(&case_no)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = ?"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let case = decode::case(&row)?;
    tx.commit().await?;
    Ok(case)
}

async fn case_by_no(pool: &SqlitePool, case_no: &str) -> Result<Option<CaseRecord>, StoreError> {
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.case_no = ?"))
        .bind(case_no)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode::case).transpose()
}

pub(super) async fn cases(
    pool: &SqlitePool,
    vehicle: Option<VehicleId>,
    owner: Option<AccountId>,
    status: Option<CaseStatus>,
    limit: u32,
) -> Result<Vec<CaseRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "{CASE_SELECT} WHERE (?1 IS NULL OR c.vehicle_id = ?1) \
         AND (?2 IS NULL OR c.owner_account_id = ?2) AND (?3 IS NULL OR c.status = ?3) \
         ORDER BY c.id DESC LIMIT ?4"
    ))
    .bind(vehicle)
    .bind(owner)
    .bind(status.map(CaseStatus::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode::case).collect()
}

async fn set_case_status(
    pool: &SqlitePool,
    case_id: i64,
    status: CaseStatus,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET status = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(case_id)
        .execute(pool)
        .await?;
    Ok(())
}

async fn attach_case_export(pool: &SqlitePool, x: &NewCaseExport) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO case_exports (bundle_id, case_id, manifest_sha256, recipient, legal_basis, \
         created_by, created_at, size, bundle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&x.bundle_id)
    .bind(x.case_id)
    .bind(&x.manifest_sha256)
    .bind(&x.recipient)
    .bind(&x.legal_basis)
    .bind(x.created_by)
    .bind(x.created_us)
    .bind(x.bundle.len() as i64)
    .bind(&x.bundle)
    .execute(pool)
    .await?;
    Ok(())
}

async fn case_exports(
    pool: &SqlitePool,
    case_id: i64,
) -> Result<Vec<CaseExportRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_EXPORT_COLUMNS} FROM case_exports WHERE case_id = ? \
             ORDER BY created_at DESC"
    ))
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode::case_export).collect()
}

async fn case_export_bundle(
    pool: &SqlitePool,
    case_id: i64,
    bundle_id: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT bundle FROM case_exports WHERE case_id = ? AND bundle_id = ?")
            .bind(case_id)
            .bind(bundle_id)
            .fetch_optional(pool)
            .await?,
    )
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn create_case(&self, case: &NewCase) -> Result<CaseRecord, StoreError> {
        create_case(&self.pool, case).await
    }

    async fn case_by_no(&self, case_no: &str) -> Result<Option<CaseRecord>, StoreError> {
        case_by_no(&self.pool, case_no).await
    }

    async fn cases(
        &self,
        vehicle: Option<VehicleId>,
        status: Option<CaseStatus>,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        cases(&self.pool, vehicle, None, status, limit).await
    }

    async fn cases_of_owner(&self, account: AccountId) -> Result<Vec<CaseRecord>, StoreError> {
        cases(&self.pool, None, Some(account), None, 200).await
    }

    async fn set_case_status(&self, case_id: i64, status: CaseStatus) -> Result<(), StoreError> {
        set_case_status(&self.pool, case_id, status).await
    }

    async fn attach_case_export(&self, export: &NewCaseExport) -> Result<(), StoreError> {
        attach_case_export(&self.pool, export).await
    }

    async fn case_exports(&self, case_id: i64) -> Result<Vec<CaseExportRecord>, StoreError> {
        case_exports(&self.pool, case_id).await
    }

    async fn case_export_bundle(
        &self,
        case_id: i64,
        bundle_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        case_export_bundle(&self.pool, case_id, bundle_id).await
    }
}
