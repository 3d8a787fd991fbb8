//! PostgreSQL: events and crash (EDR) records.

use super::binds::bind;
use super::time::Ts;
use super::PgStore;
use crate::domain::log_format::{AebState, BeltStatus};
use crate::domain::records::{EdrRecord, Event};
use crate::server::store::decode::{self, EVENT_COLUMNS, PAGED_EVENT_COLUMNS};
use crate::server::store::sql;
use crate::server::store::{
    EventFilter, EventPageRequest, EventStore, PagedEvent, StoreError, TimeRange, VehicleId,
};
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder};

async fn load_edr(
    conn: &mut PgConnection,
    vehicle: VehicleId,
    event_id: &str,
) -> Result<EdrRecord, StoreError> {
    let [record, airbags, pre_crash, delta_v] = decode::edr_reads("$1", "$2");
    let record = sqlx::query(&record)
        .bind(vehicle)
        .bind(event_id)
        .fetch_one(&mut *conn)
        .await?;
    let mut children = Vec::with_capacity(3);
    for read in [airbags, pre_crash, delta_v] {
        children.push(
            sqlx::query(&read)
                .bind(vehicle)
                .bind(event_id)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    decode::edr_record(
        &record,
        children[0]
            .iter()
            .map(decode::edr_airbag)
            .collect::<Result<_, _>>()?,
        children[1]
            .iter()
            .map(decode::edr_pre_crash)
            .collect::<Result<_, _>>()?,
        children[2]
            .iter()
            .map(decode::edr_delta_v)
            .collect::<Result<_, _>>()?,
    )
}

#[async_trait]
impl EventStore for PgStore {
    async fn events(&self, vehicle: VehicleId, range: TimeRange) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = $1 AND t >= $2 AND t < $3 \
             ORDER BY t, event_id"
        ))
        .bind(vehicle)
        .bind(Ts(range.from_us))
        .bind(Ts(range.to_us))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::event).collect()
    }

    async fn edr_records(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
    ) -> Result<Vec<EdrRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM edr_records WHERE vehicle_id = $1 AND t0 >= $2 AND t0 < $3 ORDER BY t0",
        )
        .bind(vehicle)
        .bind(Ts(range.from_us))
        .bind(Ts(range.to_us))
        .fetch_all(&mut *conn)
        .await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            records.push(load_edr(&mut conn, vehicle, &id).await?);
        }
        Ok(records)
    }

    async fn event_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &EventFilter,
        page: &EventPageRequest,
    ) -> Result<Vec<PagedEvent>, StoreError> {
        let Some(query) = sql::event_page(PAGED_EVENT_COLUMNS, vehicle, ranges, filter, page)
        else {
            return Ok(Vec::new());
        };
        let mut q = QueryBuilder::<Postgres>::new("");
        query.push_into(&mut q, bind);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode::paged_event).collect()
    }

    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = $1 AND event_id = $2"
        ))
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode::event).transpose()
    }

    async fn edr_record(
        &self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EdrRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let held: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM edr_records WHERE vehicle_id = $1 AND event_id = $2")
                .bind(vehicle)
                .bind(event_id)
                .fetch_optional(&mut *conn)
                .await?;
        match held {
            Some(_) => Ok(Some(load_edr(&mut conn, vehicle, event_id).await?)),
            None => Ok(None),
        }
    }
}

/// Inserts a crash record with its airbags, pre-crash samples and delta-v
/// curve; false (and nothing written) when its identity is already held.
pub(super) async fn insert_edr(
    conn: &mut PgConnection,
    vehicle: VehicleId,
    r: &EdrRecord,
    digest: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO edr_records (vehicle_id, event_id, t0, standard, trigger_kind, locked, complete, \
         ignition_cycle_crash, ignition_cycle_download, max_delta_v_long_kmh, time_max_delta_v_ms, \
         max_delta_v_lat_kmh, belt_driver, pre_crash_rate_hz, delta_v_rate_hz, extra, digest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT DO NOTHING",
    )
    .bind(vehicle)
    .bind(&r.event_id)
    .bind(Ts(r.t0_us))
    .bind(&r.standard)
    .bind(&r.trigger)
    .bind(r.locked)
    .bind(r.complete)
    .bind(r.ignition_cycle_crash)
    .bind(r.ignition_cycle_download)
    .bind(r.max_delta_v_long_kmh)
    .bind(r.time_max_delta_v_ms)
    .bind(r.max_delta_v_lat_kmh)
    .bind(r.belt_driver.map(BeltStatus::as_str))
    .bind(r.pre_crash.rate_hz)
    .bind(r.delta_v.rate_hz)
    .bind(&r.extra)
    .bind(digest)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if !r.airbags.is_empty() {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO edr_airbags (vehicle_id, event_id, position, deploy_ms) ",
        );
        qb.push_values(&r.airbags, |mut b, a| {
            b.push_bind(vehicle)
                .push_bind(&r.event_id)
                .push_bind(&a.position)
                .push_bind(a.deploy_ms);
        });
        qb.build().execute(&mut *conn).await?;
    }
    if !r.pre_crash.samples.is_empty() {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO edr_pre_crash (vehicle_id, event_id, t_ms, speed_kmh, accel_pedal_pct, brake_pedal, \
             brake_pressure_bar, steering_angle_deg, abs_active, esc_active, aeb_state, engine_rpm) ",
        );
        qb.push_values(&r.pre_crash.samples, |mut b, p| {
            b.push_bind(vehicle)
                .push_bind(&r.event_id)
                .push_bind(p.t_ms)
                .push_bind(p.speed_kmh)
                .push_bind(p.accel_pedal_pct)
                .push_bind(p.brake_pedal)
                .push_bind(p.brake_pressure_bar)
                .push_bind(p.steering_angle_deg)
                .push_bind(p.abs_active)
                .push_bind(p.esc_active)
                .push_bind(p.aeb_state.map(AebState::as_str))
                .push_bind(p.engine_rpm);
        });
        qb.build().execute(&mut *conn).await?;
    }
    if !r.delta_v.samples.is_empty() {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO edr_delta_v (vehicle_id, event_id, t_ms, long_kmh, lat_kmh) ",
        );
        qb.push_values(&r.delta_v.samples, |mut b, d| {
            b.push_bind(vehicle)
                .push_bind(&r.event_id)
                .push_bind(d.t_ms)
                .push_bind(d.long_kmh)
                .push_bind(d.lat_kmh);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(true)
}
