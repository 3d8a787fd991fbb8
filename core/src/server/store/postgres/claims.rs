//! PostgreSQL: claim codes and ownership periods.

use super::accounts::insert_account;
use super::time::{time, Ts};
use super::PgStore;
use crate::domain::account::Role;
use crate::domain::Vin;
use crate::server::store::claims::{redeem, ClaimSteps, UnusedClaim};
use crate::server::store::decode::{self, StoredRow, PERIOD_SELECT, VEHICLE_COLUMNS};
use crate::server::store::{
    AccountId, ClaimRefusal, ClaimStore, OwnershipPeriod, StoreError, StoredVehicle, VehicleId,
};
use async_trait::async_trait;
use sqlx::{PgConnection, PgPool, Row};

/// A vehicle's row joined to each of its ownership periods.
static VEHICLE_AND_OWNERSHIP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let vehicle: Vec<String> = VEHICLE_COLUMNS
        .split(", ")
        .map(|c| format!("v.{c}"))
        .collect();
    format!(
        "SELECT {}, p.account_id, p.from_at, p.to_at FROM vehicles v \
         LEFT JOIN ownership_periods p ON p.vehicle_id = v.id \
         WHERE v.vin = $1 ORDER BY p.from_at",
        vehicle.join(", ")
    )
});

/// Ownership periods whose `column` (ours, never input) equals `id`, oldest first.
async fn periods_where(
    pool: &PgPool,
    column: &str,
    id: i64,
) -> Result<Vec<OwnershipPeriod>, StoreError> {
    let sql = format!("{PERIOD_SELECT} WHERE {column} = $1 ORDER BY p.from_at");
    let rows = sqlx::query(&sql).bind(id).fetch_all(pool).await?;
    rows.iter().map(decode::period).collect()
}

#[async_trait]
impl ClaimSteps for PgConnection {
    async fn unused_claim(
        &mut self,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Option<UnusedClaim>, StoreError> {
        let claim = sqlx::query(
            "SELECT c.id, c.vehicle_id, c.since_at FROM claim_codes c JOIN vehicles v ON v.id = c.vehicle_id \
             WHERE v.vin = $1 AND c.code_hash = $2 AND c.used_at IS NULL AND c.expires_at > $3 \
             FOR UPDATE OF c",
        )
        .bind(vin.as_str())
        .bind(code_hash)
        .bind(Ts(now_us))
        .fetch_optional(&mut *self)
        .await?;
        claim
            .map(|row| {
                Ok(UnusedClaim {
                    id: row.try_get(0)?,
                    vehicle: row.try_get(1)?,
                    since_us: time(&row, 2)?,
                })
            })
            .transpose()
    }

    async fn open_period(
        &mut self,
        vehicle: VehicleId,
        account: AccountId,
        from_us: i64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO ownership_periods (vehicle_id, account_id, from_at, to_at) \
             VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(vehicle)
        .bind(account)
        .bind(Ts(from_us))
        .execute(&mut *self)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn use_claim(
        &mut self,
        claim: i64,
        account: AccountId,
        at_us: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE claim_codes SET used_at = $1, used_by = $2 WHERE id = $3")
            .bind(Ts(at_us))
            .bind(account)
            .bind(claim)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

async fn end_open_period(
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
    let mut period = decode::period(&row)?;
    sqlx::query("UPDATE ownership_periods SET to_at = $1 WHERE vehicle_id = $2 AND to_at IS NULL")
        .bind(Ts(at_us))
        .bind(vehicle)
        .execute(&mut *conn)
        .await?;
    // The vehicle changed hands: every grant its owner made ends with it.
    super::grants::revoke_all_of(&mut *conn, vehicle, period.account_id, at_us).await?;
    period.to_us = Some(at_us);
    Ok(Some(period))
}

#[async_trait]
impl ClaimStore for PgStore {
    async fn sign_up_with_claim(
        &self,
        account: &str,
        password_hash: &str,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<(AccountId, OwnershipPeriod), ClaimRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(id) = insert_account(&mut tx, account, password_hash, Role::Owner).await? else {
            return Ok(Err(ClaimRefusal::AccountExists));
        };
        match redeem(&mut *tx, id, vin, code_hash, now_us).await? {
            Ok(period) => {
                tx.commit().await?;
                Ok(Ok((id, period)))
            }
            // Dropping the transaction rolls the new account back.
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    async fn redeem_claim(
        &self,
        account: AccountId,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let outcome = redeem(&mut *tx, account, vin, code_hash, now_us).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn ownership_of_account(
        &self,
        account: AccountId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError> {
        periods_where(&self.pool, "p.account_id", account).await
    }

    async fn ownership_of_vehicle(
        &self,
        vehicle: VehicleId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError> {
        periods_where(&self.pool, "p.vehicle_id", vehicle).await
    }

    async fn vehicle_and_ownership(
        &self,
        vin: &Vin,
    ) -> Result<Option<(StoredVehicle, Vec<OwnershipPeriod>)>, StoreError> {
        // One round trip: the vehicle's row once per period (once, with
        // no period, for a vehicle nobody has claimed).
        let rows = sqlx::query(&VEHICLE_AND_OWNERSHIP)
            .bind(vin.as_str())
            .fetch_all(&self.pool)
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let vehicle = decode::vehicle(first)?;
        let mut periods = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(account_id) = row.opt_int("account_id")? else {
                continue;
            };
            periods.push(OwnershipPeriod {
                vehicle_id: vehicle.id,
                vin: vehicle.vehicle.vin.to_string(),
                account_id,
                from_us: row.time("from_at")?,
                to_us: row.opt_time("to_at")?,
            });
        }
        Ok(Some((vehicle, periods)))
    }

    async fn create_claim_code(
        &self,
        vehicle: VehicleId,
        code_hash: &str,
        since_us: i64,
        expires_us: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO claim_codes (vehicle_id, code_hash, since_at, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(vehicle)
        .bind(code_hash)
        .bind(Ts(since_us))
        .bind(Ts(expires_us))
        .bind(Ts(chrono::Utc::now().timestamp_micros()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn end_ownership(
        &self,
        vehicle: VehicleId,
        at_us: i64,
    ) -> Result<Option<OwnershipPeriod>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = end_open_period(&mut tx, vehicle, at_us).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
