//! SQLite: claim codes and ownership periods.

use super::accounts::insert_account;
use super::bulk::Bind;
use super::inline::InlineReader;
use super::SqliteStore;
use crate::domain::account::Role;
use crate::domain::Vin;
use crate::server::store::claims::{redeem, ClaimSteps, UnusedClaim};
use crate::server::store::decode::{self, PERIOD_SELECT};
use crate::server::store::{
    AccountId, ClaimRefusal, ClaimStore, OwnershipPeriod, StoreError, StoredVehicle, VehicleId,
    VehicleStore,
};
use async_trait::async_trait;
use sqlx::SqliteConnection;

/// Ownership periods whose `column` equals `id`, oldest first.
/// Ownership periods by vehicle or account: the gate asks on every read,
/// so they are read inline (`inline.rs`).
fn periods_where(
    inline: &InlineReader,
    column: &str,
    id: i64,
) -> Result<Vec<OwnershipPeriod>, StoreError> {
    inline.rows(
        &format!("{PERIOD_SELECT} WHERE {column} = ? ORDER BY p.from_at"),
        &[Bind::Int(id)],
        |row| decode::period(row),
    )
}

// Writes are serialised by `BEGIN IMMEDIATE`; the unique index on open
// periods is the same as PostgreSQL's all the same.
#[async_trait]
impl ClaimSteps for SqliteConnection {
    async fn unused_claim(
        &mut self,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Option<UnusedClaim>, StoreError> {
        let claim: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT c.id, c.vehicle_id, c.since_at FROM claim_codes c JOIN vehicles v ON v.id = c.vehicle_id \
             WHERE v.vin = ? AND c.code_hash = ? AND c.used_at IS NULL AND c.expires_at > ?",
        )
        .bind(vin.as_str())
        .bind(code_hash)
        .bind(now_us)
        .fetch_optional(&mut *self)
        .await?;
        Ok(claim.map(|(id, vehicle, since_us)| UnusedClaim {
            id,
            vehicle,
            since_us,
        }))
    }

    async fn open_period(
        &mut self,
        vehicle: VehicleId,
        account: AccountId,
        from_us: i64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO ownership_periods (vehicle_id, account_id, from_at, to_at) \
             VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(vehicle)
        .bind(account)
        .bind(from_us)
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
        sqlx::query("UPDATE claim_codes SET used_at = ?, used_by = ? WHERE id = ?")
            .bind(at_us)
            .bind(account)
            .bind(claim)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

async fn end_open_period(
    conn: &mut SqliteConnection,
    vehicle: VehicleId,
    at_us: i64,
) -> Result<Option<OwnershipPeriod>, StoreError> {
    let row = sqlx::query(&format!(
        "{PERIOD_SELECT} WHERE p.vehicle_id = ? AND p.to_at IS NULL"
    ))
    .bind(vehicle)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut period = decode::period(&row)?;
    sqlx::query("UPDATE ownership_periods SET to_at = ? WHERE vehicle_id = ? AND to_at IS NULL")
        .bind(at_us)
        .bind(vehicle)
        .execute(&mut *conn)
        .await?;
    // The vehicle changed hands: every grant its owner made ends with it.
    super::grants::revoke_all_of(&mut *conn, vehicle, period.account_id, at_us).await?;
    period.to_us = Some(at_us);
    Ok(Some(period))
}

#[async_trait]
impl ClaimStore for SqliteStore {
    async fn sign_up_with_claim(
        &self,
        account: &str,
        password_hash: &str,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<(AccountId, OwnershipPeriod), ClaimRefusal>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
        periods_where(&self.inline, "p.account_id", account)
    }

    async fn ownership_of_vehicle(
        &self,
        vehicle: VehicleId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError> {
        periods_where(&self.inline, "p.vehicle_id", vehicle)
    }

    async fn vehicle_and_ownership(
        &self,
        vin: &Vin,
    ) -> Result<Option<(StoredVehicle, Vec<OwnershipPeriod>)>, StoreError> {
        // Two inline reads on the calling thread cost less than one join.
        let Some(vehicle) = VehicleStore::vehicle(self, vin).await? else {
            return Ok(None);
        };
        let periods = periods_where(&self.inline, "p.vehicle_id", vehicle.id)?;
        Ok(Some((vehicle, periods)))
    }

    async fn create_claim_code(
        &self,
        vehicle: VehicleId,
        code_hash: &str,
        since_us: i64,
        expires_us: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO claim_codes (vehicle_id, code_hash, since_at, expires_at, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(vehicle)
            .bind(code_hash)
            .bind(since_us)
            .bind(expires_us)
            .bind(chrono::Utc::now().timestamp_micros())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn end_ownership(
        &self,
        vehicle: VehicleId,
        at_us: i64,
    ) -> Result<Option<OwnershipPeriod>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let ended = end_open_period(&mut tx, vehicle, at_us).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
