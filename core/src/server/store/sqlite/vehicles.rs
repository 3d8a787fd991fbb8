//! SQLite: vehicles and what is held of each.

use super::SqliteStore;
use crate::domain::Vin;
use crate::server::store::decode::{self, VEHICLE_COLUMNS};
use crate::server::store::{
    ClassHoldings, Holdings, StoreError, StoredVehicle, TimeRange, VehicleId, VehicleStore,
};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};

pub(super) async fn vehicle_by_vin<'e, E>(
    executor: E,
    vin: &Vin,
) -> Result<Option<StoredVehicle>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE vin = ?"
    ))
    .bind(vin.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(decode::vehicle).transpose()
}

#[async_trait]
impl VehicleStore for SqliteStore {
    async fn vehicle(&self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError> {
        vehicle_by_vin(&self.pool, vin).await
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
        let class = |row: &SqliteRow| -> Result<ClassHoldings, StoreError> {
            Ok(ClassHoldings {
                count: row.try_get::<i64, _>(0)? as u64,
                first_us: row.try_get(1)?,
                last_us: row.try_get(2)?,
            })
        };
        let (from, to) = (range.from_us, range.to_us);
        let samples = sqlx::query(
            "SELECT count(*), min(t), max(t), count(lat), \
             min(CASE WHEN lat IS NOT NULL THEN t END), max(CASE WHEN lat IS NOT NULL THEN t END) FROM samples \
             WHERE vehicle_id = ? AND t >= ? AND t < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let events = sqlx::query(
            "SELECT count(*), min(t), max(t) FROM events WHERE vehicle_id = ? AND t >= ? AND t < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let edr = sqlx::query(
            "SELECT count(*), min(t0), max(t0), coalesce(sum(locked), 0) FROM edr_records \
             WHERE vehicle_id = ? AND t0 >= ? AND t0 < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
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
        Ok(Holdings {
            held_samples: held_samples as u64,
            samples: class(&samples)?,
            location: ClassHoldings {
                count: samples.try_get::<i64, _>(3)? as u64,
                first_us: samples.try_get(4)?,
                last_us: samples.try_get(5)?,
            },
            events: class(&events)?,
            edr_records: class(&edr)?,
            locked_edr_records: edr.try_get::<i64, _>(3)? as u64,
        })
    }
}
