//! PostgreSQL: accounts, claim codes, ownership periods, cases and the audit chain.

use super::time::Ts;
use super::{opt_time, time};
use crate::domain::account::Role;
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;
use crate::server::store::rows::{case_number, chained_entry, AccountKey};
use crate::server::store::{
    AccountId, AccountRecord, AuditEntry, CaseRecord, ClaimRefusal, NewAuditEntry, NewCase,
    OwnershipPeriod, StoreError, VehicleId,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

const ACCOUNT_COLUMNS: &str = "id, account, password_hash, role, session_epoch";

fn account_from_row(row: &PgRow) -> Result<AccountRecord, StoreError> {
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
    pool: &PgPool,
    key: AccountKey<'_>,
) -> Result<Option<AccountRecord>, StoreError> {
    let select = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts");
    let row = match key {
        AccountKey::Name(name) => {
            sqlx::query(&format!("{select} WHERE account = $1"))
                .bind(name)
                .fetch_optional(pool)
                .await?
        }
        AccountKey::Id(id) => {
            sqlx::query(&format!("{select} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }
    };
    row.as_ref().map(account_from_row).transpose()
}

const PERIOD_SELECT: &str = "SELECT p.vehicle_id, v.vin, p.account_id, p.from_at, p.to_at \
    FROM ownership_periods p JOIN vehicles v ON v.id = p.vehicle_id";

fn period_from_row(row: &PgRow) -> Result<OwnershipPeriod, StoreError> {
    Ok(OwnershipPeriod {
        vehicle_id: row.try_get(0)?,
        vin: row.try_get(1)?,
        account_id: row.try_get(2)?,
        from_us: time(row, 3)?,
        to_us: opt_time(row, 4)?,
    })
}

/// Ownership periods whose `column` (ours, never input) equals `id`, oldest first.
pub(super) async fn periods_where(
    pool: &PgPool,
    column: &str,
    id: i64,
) -> Result<Vec<OwnershipPeriod>, StoreError> {
    let sql = format!("{PERIOD_SELECT} WHERE {column} = $1 ORDER BY p.from_at");
    let rows = sqlx::query(&sql).bind(id).fetch_all(pool).await?;
    rows.iter().map(period_from_row).collect()
}

/// Inserts an account; `None` when the name is taken.
pub(super) async fn insert_account(
    conn: &mut PgConnection,
    account: &str,
    password_hash: &str,
    role: Role,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (account, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(Ts(chrono::Utc::now().timestamp_micros()))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

/// Uses a claim code inside the caller's transaction. The code's row is
/// locked, so two servers redeeming it at once cannot both succeed.
pub(super) async fn redeem(
    conn: &mut PgConnection,
    account: AccountId,
    vin: &Vin,
    code_hash: &str,
    now_us: i64,
) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError> {
    let claim = sqlx::query(
        "SELECT c.id, c.vehicle_id, c.since_at FROM claim_codes c JOIN vehicles v ON v.id = c.vehicle_id \
         WHERE v.vin = $1 AND c.code_hash = $2 AND c.used_at IS NULL AND c.expires_at > $3 \
         FOR UPDATE OF c",
    )
    .bind(vin.as_str())
    .bind(code_hash)
    .bind(Ts(now_us))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(claim) = claim else {
        return Ok(Err(ClaimRefusal::NoMatchingCode));
    };
    let (claim_id, vehicle, since_us): (i64, i64, i64) =
        (claim.try_get(0)?, claim.try_get(1)?, time(&claim, 2)?);
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM ownership_periods WHERE vehicle_id = $1 AND to_at IS NULL",
    )
    .bind(vehicle)
    .fetch_optional(&mut *conn)
    .await?;
    if open.is_some() {
        return Ok(Err(ClaimRefusal::VehicleOwned));
    }
    // Another server may redeem a code for this vehicle at the same instant:
    // the partial unique index `ownership_one_open` lets one of the two in.
    let inserted = sqlx::query(
        "INSERT INTO ownership_periods (vehicle_id, account_id, from_at, to_at) \
         VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING",
    )
    .bind(vehicle)
    .bind(account)
    .bind(Ts(since_us))
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Err(ClaimRefusal::VehicleOwned));
    }
    sqlx::query("UPDATE claim_codes SET used_at = $1, used_by = $2 WHERE id = $3")
        .bind(Ts(now_us))
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
    conn: &mut PgConnection,
    vehicle: VehicleId,
    at_us: i64,
) -> Result<Option<OwnershipPeriod>, StoreError> {
    let row = sqlx::query(&format!(
        "{PERIOD_SELECT} WHERE p.vehicle_id = $1 AND p.to_at IS NULL FOR UPDATE OF p"
    ))
    .bind(vehicle)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut period = period_from_row(&row)?;
    sqlx::query("UPDATE ownership_periods SET to_at = $1 WHERE vehicle_id = $2 AND to_at IS NULL")
        .bind(Ts(at_us))
        .bind(vehicle)
        .execute(&mut *conn)
        .await?;
    period.to_us = Some(at_us);
    Ok(Some(period))
}

pub(super) const AUDIT_COLUMNS: &str = "seq, at, actor, action, vin, details, prev_hash, hash";

pub(super) fn audit_from_row(r: &PgRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.try_get(0)?,
        at_us: time(r, 1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        vin: r.try_get(4)?,
        details: r.try_get(5)?,
        prev_hash: r.try_get(6)?,
        hash: r.try_get(7)?,
    })
}

/// The advisory lock that serialises audit appends across every server.
const AUDIT_LOCK: i64 = 0x0417_4155_4449_5400;

/// Appends an entry chained to the last one, inside the caller's transaction
/// (which holds the chain's lock until it ends).
pub(super) async fn append_audit_on(
    conn: &mut PgConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *conn)
        .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let e = chained_entry(last, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, vin, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.seq)
    .bind(Ts(e.at_us))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.vin)
    .bind(&e.details)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *conn)
    .await?;
    Ok(e)
}

const CASE_SELECT: &str = "SELECT c.id, c.case_no, c.vehicle_id, v.vin, c.owner_account_id, \
    a.account, c.subject, c.purpose, c.status, c.from_at, c.to_at, c.created_by, c.created_at \
    FROM cases c JOIN vehicles v ON v.id = c.vehicle_id \
    LEFT JOIN accounts a ON a.id = c.owner_account_id";

fn case_from_row(row: &PgRow) -> Result<CaseRecord, StoreError> {
    let status: String = row.try_get(8)?;
    Ok(CaseRecord {
        id: row.try_get(0)?,
        case_no: row.try_get(1)?,
        vehicle_id: row.try_get(2)?,
        vin: row.try_get(3)?,
        owner_account_id: row.try_get(4)?,
        owner_account: row.try_get(5)?,
        subject: row.try_get(6)?,
        purpose: row.try_get(7)?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown case status {status}")))?,
        from_us: time(row, 9)?,
        to_us: time(row, 10)?,
        created_by: row.try_get(11)?,
        created_us: time(row, 12)?,
    })
}

pub(super) async fn create_case(pool: &PgPool, c: &NewCase) -> Result<CaseRecord, StoreError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (case_no, vehicle_id, owner_account_id, subject, purpose, status, \
         from_at, to_at, created_by, created_at) \
         VALUES ('C-' || gen_random_uuid(), $1, $2, $3, $4, 'open', $5, $6, $7, $8) RETURNING id",
    )
    .bind(c.vehicle_id)
    .bind(c.owner_account_id)
    .bind(&c.subject)
    .bind(&c.purpose)
    .bind(Ts(c.from_us))
    .bind(Ts(c.to_us))
    .bind(c.created_by)
    .bind(Ts(c.created_us))
    .fetch_one(&mut *tx)
    .await?;
    let case_no = case_number(id, c.created_us);
    sqlx::query("UPDATE cases SET case_no = $1 WHERE id = $2")
        .bind(&case_no)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let case = case_from_row(&row)?;
    tx.commit().await?;
    Ok(case)
}

pub(super) async fn case_by_no(
    pool: &PgPool,
    case_no: &str,
) -> Result<Option<CaseRecord>, StoreError> {
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.case_no = $1"))
        .bind(case_no)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(case_from_row).transpose()
}

pub(super) async fn cases(
    pool: &PgPool,
    vehicle: Option<VehicleId>,
    owner: Option<AccountId>,
    status: Option<CaseStatus>,
    limit: u32,
) -> Result<Vec<CaseRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "{CASE_SELECT} WHERE ($1::bigint IS NULL OR c.vehicle_id = $1) \
         AND ($2::bigint IS NULL OR c.owner_account_id = $2) AND ($3::text IS NULL OR c.status = $3) \
         ORDER BY c.id DESC LIMIT $4"
    ))
    .bind(vehicle)
    .bind(owner)
    .bind(status.map(CaseStatus::as_str))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(case_from_row).collect()
}
