//! SQLite: accounts, claim codes, ownership periods, sign-in throttling.

use crate::domain::account::Role;
use crate::domain::Vin;
use crate::server::store::rows::AccountKey;
use crate::server::store::{
    AccountId, AccountRecord, ClaimRefusal, OwnershipPeriod, StoreError, VehicleId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

const ACCOUNT_COLUMNS: &str = "id, account, password_hash, role, session_epoch";

fn account_from_row(row: &SqliteRow) -> Result<AccountRecord, StoreError> {
    let role: String = row.try_get(3)?;
    Ok(AccountRecord {
        id: row.try_get(0)?,
        account: row.try_get(1)?,
        password_hash: row.try_get(2)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
        session_epoch: row.try_get(4)?,
    })
}

pub(super) async fn account_where(
    pool: &SqlitePool,
    key: AccountKey<'_>,
) -> Result<Option<AccountRecord>, StoreError> {
    let row = match key {
        AccountKey::Name(name) => {
            sqlx::query(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account = ?"
            ))
            .bind(name)
            .fetch_optional(pool)
            .await?
        }
        AccountKey::Id(id) => {
            sqlx::query(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        }
    };
    row.as_ref().map(account_from_row).transpose()
}

const PERIOD_SELECT: &str = "SELECT p.vehicle_id, v.vin, p.account_id, p.from_us, p.to_us \
    FROM ownership_periods p JOIN vehicles v ON v.id = p.vehicle_id";

fn period_from_row(row: &SqliteRow) -> Result<OwnershipPeriod, StoreError> {
    Ok(OwnershipPeriod {
        vehicle_id: row.try_get(0)?,
        vin: row.try_get(1)?,
        account_id: row.try_get(2)?,
        from_us: row.try_get(3)?,
        to_us: row.try_get(4)?,
    })
}

/// Ownership periods whose `column` equals `id`, oldest first.
pub(super) async fn periods_where(
    pool: &SqlitePool,
    column: &str,
    id: i64,
) -> Result<Vec<OwnershipPeriod>, StoreError> {
    let sql = format!("{PERIOD_SELECT} WHERE {column} = ? ORDER BY p.from_us");
    let rows = sqlx::query(&sql).bind(id).fetch_all(pool).await?;
    rows.iter().map(period_from_row).collect()
}

/// Inserts an account; `None` when the name is taken.
pub(super) async fn insert_account(
    conn: &mut SqliteConnection,
    account: &str,
    password_hash: &str,
    role: Role,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (account, password_hash, role, created_us) VALUES (?, ?, ?, ?) \
         ON CONFLICT (account) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(chrono::Utc::now().timestamp_micros())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

/// Uses a claim code inside the caller's write transaction.
pub(super) async fn redeem(
    conn: &mut SqliteConnection,
    account: AccountId,
    vin: &Vin,
    code_hash: &str,
    now_us: i64,
) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError> {
    let claim: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.vehicle_id, c.since_us FROM claim_codes c JOIN vehicles v ON v.id = c.vehicle_id \
         WHERE v.vin = ? AND c.code_hash = ? AND c.used_us IS NULL AND c.expires_us > ?",
    )
    .bind(vin.as_str())
    .bind(code_hash)
    .bind(now_us)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((claim_id, vehicle, since_us)) = claim else {
        return Ok(Err(ClaimRefusal::NoMatchingCode));
    };
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM ownership_periods WHERE vehicle_id = ? AND to_us IS NULL",
    )
    .bind(vehicle)
    .fetch_optional(&mut *conn)
    .await?;
    if open.is_some() {
        return Ok(Err(ClaimRefusal::VehicleOwned));
    }
    sqlx::query("INSERT INTO ownership_periods (vehicle_id, account_id, from_us, to_us) VALUES (?, ?, ?, NULL)")
        .bind(vehicle)
        .bind(account)
        .bind(since_us)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE claim_codes SET used_us = ?, used_by = ? WHERE id = ?")
        .bind(now_us)
        .bind(account)
        .bind(claim_id)
        .execute(&mut *conn)
        .await?;
    Ok(Ok(OwnershipPeriod {
        vehicle_id: vehicle,
        vin: vin.to_string(),
        account_id: account,
        from_us: since_us,
        to_us: None,
    }))
}

pub(super) async fn end_open_period(
    conn: &mut SqliteConnection,
    vehicle: VehicleId,
    at_us: i64,
) -> Result<Option<OwnershipPeriod>, StoreError> {
    let row = sqlx::query(&format!(
        "{PERIOD_SELECT} WHERE p.vehicle_id = ? AND p.to_us IS NULL"
    ))
    .bind(vehicle)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut period = period_from_row(&row)?;
    sqlx::query("UPDATE ownership_periods SET to_us = ? WHERE vehicle_id = ? AND to_us IS NULL")
        .bind(at_us)
        .bind(vehicle)
        .execute(&mut *conn)
        .await?;
    period.to_us = Some(at_us);
    Ok(Some(period))
}
