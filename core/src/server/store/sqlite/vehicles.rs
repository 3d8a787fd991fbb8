//! SQLite: vehicles and what is held of each.

use super::SqliteStore;
use crate::domain::Vin;
use crate::server::store::decode::{self, VEHICLE_COLUMNS};
use crate::server::store::{
    Holdings, StoreError, StoredVehicle, TimeRange, VehicleId, VehicleStore,
};
use async_trait::async_trait;
use sqlx::Sqlite;

/// One vehicle by VIN, for the import's transaction and the gate alike.
static BY_VIN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE vin = ?"));

pub(super) async fn vehicle_by_vin<'e, E>(
    executor: E,
    vin: &Vin,
) -> Result<Option<StoredVehicle>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(BY_VIN.as_str())
        .bind(vin.as_str())
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(decode::vehicle).transpose()
}

#[async_trait]
impl VehicleStore for SqliteStore {
    async fn vehicle(&self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError> {
        // The gate asks on every read: inline.
        self.inline.optional(
            &BY_VIN,
            &[super::bulk::Bind::Text(vin.as_str().to_string())],
            |row| decode::vehicle(row),
        )
    }

    async fn vehicles(&self) -> Result<Vec<StoredVehicle>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {VEHICLE_COLUMNS} FROM vehicles ORDER BY vin"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::vehicle).collect()
    }

    async fn holdings(&self, vehicle: VehicleId, range: TimeRange) -> Result<Holdings, StoreError> {
        let (from, to) = (range.from_us, range.to_us);
        let mut counted = Vec::with_capacity(3);
        for read in decode::holdings_reads("?", "?", "?") {
            counted.push(
                sqlx::query(&read)
                    .bind(vehicle)
                    .bind(from)
                    .bind(to)
                    .fetch_one(&self.pool)
                    .await?,
            );
        }
        // Samples under legal hold: the 30 minutes before each locked crash record.
        let held_samples: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT s.t) FROM edr_records e JOIN samples s \
             ON s.vehicle_id = e.vehicle_id AND s.t >= e.t0 - ? AND s.t <= e.t0 \
             WHERE e.vehicle_id = ? AND e.locked = 1 AND s.t >= ? AND s.t < ?",
        )
        .bind(crate::server::store::HOLD_BEFORE_CRASH_US)
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        decode::holdings(&counted[0], &counted[1], &counted[2], held_samples)
    }
}
