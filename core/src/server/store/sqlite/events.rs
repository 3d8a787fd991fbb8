//! SQLite: events and crash (EDR) records.

use super::bulk::Bind;
use super::inline::InlineReader;
use super::SqliteStore;
use crate::domain::log_format::{AebState, BeltStatus};
use crate::domain::records::{EdrRecord, Event};
use crate::server::store::decode::{self, EVENT_COLUMNS, PAGED_EVENT_COLUMNS};
use crate::server::store::sql;
use crate::server::store::{
    EventFilter, EventPageRequest, EventStore, PagedEvent, StoreError, TimeRange, VehicleId,
};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// A crash record and its children: small reads, inline (the children
/// only when there is a record).
fn load_edr(
    inline: &InlineReader,
    vehicle: VehicleId,
    event_id: &str,
) -> Result<Option<EdrRecord>, StoreError> {
    let [record, airbags, pre_crash, delta_v] = decode::edr_reads("?", "?");
    let binds = [Bind::Int(vehicle), Bind::Text(event_id.to_string())];
    let held = inline.optional(
        "SELECT 1 FROM edr_records WHERE vehicle_id = ? AND event_id = ?",
        &binds,
        |_| Ok(()),
    )?;
    if held.is_none() {
        return Ok(None);
    }
    let mut children = Some((
        inline.rows(&airbags, &binds, |row| decode::edr_airbag(row))?,
        inline.rows(&pre_crash, &binds, |row| decode::edr_pre_crash(row))?,
        inline.rows(&delta_v, &binds, |row| decode::edr_delta_v(row))?,
    ));
    inline.optional(&record, &binds, |row| {
        let (airbags, pre_crash, delta_v) = children.take().unwrap_or_default();
        decode::edr_record(row, airbags, pre_crash, delta_v)
    })
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn events(&self, vehicle: VehicleId, range: TimeRange) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = ? AND t >= ? AND t < ? \
             ORDER BY t, event_id"
        ))
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::event).collect()
    }

    async fn edr_records(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
    ) -> Result<Vec<EdrRecord>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM edr_records WHERE vehicle_id = ? AND t0 >= ? AND t0 < ? ORDER BY t0",
        )
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(&self.pool)
        .await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            // Deleted meanwhile (retention): skipped, as if read a moment later.
            records.extend(load_edr(&self.inline, vehicle, &id)?);
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
        // A bounded page on an index: inline (`inline.rs`).
        let (sql, binds) = super::binds::bulk_sql(query);
        self.inline
            .rows(&sql, &binds, |row| decode::paged_event(row))
    }

    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError> {
        self.inline.optional(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = ? AND event_id = ?"),
            &[Bind::Int(vehicle), Bind::Text(event_id.to_string())],
            |row| decode::event(row),
        )
    }

    async fn edr_record(
        &self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EdrRecord>, StoreError> {
        load_edr(&self.inline, vehicle, event_id)
    }
}

/// Inserts a crash record with its airbags, pre-crash samples and delta-v curve.
pub(super) async fn insert_edr(
    conn: &mut SqliteConnection,
    vehicle: VehicleId,
    r: &EdrRecord,
    digest: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO edr_records (vehicle_id, event_id, t0, standard, trigger_kind, locked, complete, \
         ignition_cycle_crash, ignition_cycle_download, max_delta_v_long_kmh, time_max_delta_v_ms, \
         max_delta_v_lat_kmh, belt_driver, pre_crash_rate_hz, delta_v_rate_hz, extra, digest) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(vehicle)
    .bind(&r.event_id)
    .bind(r.t0_us)
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
    for a in &r.airbags {
        sqlx::query("INSERT INTO edr_airbags (vehicle_id, event_id, position, deploy_ms) VALUES (?, ?, ?, ?)")
            .bind(vehicle)
            .bind(&r.event_id)
            .bind(&a.position)
            .bind(a.deploy_ms)
            .execute(&mut *conn)
            .await?;
    }
    if !r.pre_crash.samples.is_empty() {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
    Ok(())
}
