//! PostgreSQL import transaction: samples arrive by binary COPY.
//!
//! New data (the usual case) is copied straight into `samples`. When a batch
//! overlaps what is held, it goes through a temporary table and
//! `INSERT … ON CONFLICT DO NOTHING`, and the rows left out are compared with
//! the held ones, as on SQLite. Minute summaries of new rows are computed as
//! they pass (`minutes.rs`); those of overlapping spans from the samples.

use super::copy::{CopyWriter, Field};
use super::minutes::MinuteSummaries;
use super::time::Ts;
use super::{sample_from_row, vehicle_by_vin, SAMPLE_COLUMNS};
use crate::domain::log_format::{AdasState, AebState, BeltStatus, EventType, Gear};
use crate::domain::records::{EdrRecord, Event, Sample, Vehicle};
use crate::domain::Vin;
use crate::server::store::rows::{classify_against_held, parse_wire, spans};
use crate::server::store::{
    AuditEntry, ImportTx, NewAuditEntry, SampleBatchOutcome, StoreError, StoredVehicle, VehicleId,
    WriteOutcome,
};
use async_trait::async_trait;
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use std::collections::{HashMap, HashSet};

pub(super) struct PgImportTx {
    tx: Transaction<'static, Postgres>,
    /// Vehicles locked for this import.
    locked: HashSet<VehicleId>,
    /// Minute summaries of the samples copied straight in.
    minutes: MinuteSummaries,
    /// Per vehicle, the span of samples that overlapped held ones: their
    /// minute summaries are recomputed from the samples before commit.
    recompute: HashMap<VehicleId, (i64, i64)>,
    staging: bool,
}

impl PgImportTx {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        Ok(PgImportTx {
            tx: pool.begin().await?,
            locked: HashSet::new(),
            minutes: MinuteSummaries::default(),
            recompute: HashMap::new(),
            staging: false,
        })
    }

    /// Serialises imports of one vehicle (across servers) until commit, so
    /// the overlap check below and the minute summaries cannot race.
    async fn lock_vehicle(&mut self, vehicle: VehicleId) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(1, $1::int)")
            .bind(vehicle as i32)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// COPYs `rows` into `table` (`samples`, or the staging table with an ordinal).
    async fn copy_rows(
        &mut self,
        table: &str,
        rows: &[(VehicleId, Sample)],
        with_ordinal: bool,
    ) -> Result<(), StoreError> {
        let ordinal = if with_ordinal { ", ord" } else { "" };
        let mut copy = self
            .tx
            .copy_in_raw(&format!(
                "COPY {table} ({SAMPLE_COLUMNS}{ordinal}) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        let mut w = CopyWriter::new();
        for (i, (vehicle, s)) in rows.iter().enumerate() {
            let c = &s.channels;
            let mut fields = vec![
                Field::Int8(*vehicle),
                Field::Time(Ts(s.t_us)),
                c.speed_kmh.into(),
                c.accel_pedal_pct.into(),
                c.brake_pedal.into(),
                c.brake_pressure_bar.into(),
                c.steering_angle_deg.into(),
                c.long_accel_mps2.into(),
                c.lat_accel_mps2.into(),
                c.yaw_rate_dps.into(),
                c.gear.map(Gear::as_str).into(),
                c.abs_active.into(),
                c.esc_active.into(),
                c.aeb_state.map(AebState::as_str).into(),
                c.fcw.into(),
                c.adas_state.map(AdasState::as_str).into(),
                c.motor_torque_nm.into(),
                c.odometer_km.into(),
                c.soc_pct.into(),
                c.belt_driver.into(),
                c.lat.into(),
                c.lon.into(),
                c.heading_deg.into(),
                s.extra.as_deref().into(),
            ];
            if with_ordinal {
                fields.push(Field::Int4(i as i32));
            }
            w.row(&fields);
            if w.buffered_bytes() > 1 << 20 {
                copy.send(w.take()).await?;
            }
        }
        copy.send(w.finish()).await?;
        copy.finish().await?;
        Ok(())
    }

    /// The overlapping path: stage, insert what is new, report what was not.
    async fn insert_overlapping(
        &mut self,
        rows: &[(VehicleId, Sample)],
        outcome: &mut SampleBatchOutcome,
    ) -> Result<(), StoreError> {
        if !self.staging {
            sqlx::query(
                "CREATE TEMPORARY TABLE import_samples (LIKE samples, ord integer NOT NULL) \
                 ON COMMIT DROP",
            )
            .execute(&mut *self.tx)
            .await?;
            self.staging = true;
        } else {
            sqlx::query("TRUNCATE import_samples")
                .execute(&mut *self.tx)
                .await?;
        }
        self.copy_rows("import_samples", rows, true).await?;
        // In batch order, so the first of two rows for one instant is the one kept.
        let inserted: Vec<i32> = sqlx::query_scalar(&format!(
            "WITH ins AS (INSERT INTO samples ({SAMPLE_COLUMNS}) \
                 SELECT {SAMPLE_COLUMNS} FROM import_samples ORDER BY ord \
                 ON CONFLICT (vehicle_id, t) DO NOTHING RETURNING vehicle_id, t) \
             SELECT min(i.ord) FROM ins JOIN import_samples i USING (vehicle_id, t) \
             GROUP BY vehicle_id, t"
        ))
        .fetch_all(&mut *self.tx)
        .await?;
        let inserted: HashSet<usize> = inserted.into_iter().map(|i| i as usize).collect();
        let skipped: Vec<usize> = (0..rows.len()).filter(|i| !inserted.contains(i)).collect();
        outcome.inserted = inserted.len() as u64;
        let mut held = HashMap::new();
        for (vehicle, (lo, hi)) in spans(rows, skipped.iter().copied()) {
            let found = sqlx::query(&format!(
                "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = $1 AND t BETWEEN $2 AND $3"
            ))
            .bind(vehicle)
            .bind(Ts(lo))
            .bind(Ts(hi))
            .fetch_all(&mut *self.tx)
            .await?;
            for row in &found {
                let sample = sample_from_row(row)?;
                held.insert((vehicle, sample.t_us), sample);
            }
        }
        classify_against_held(rows, &skipped, &held, outcome)
    }

    /// For records identified by (vehicle, event id) and compared by digest:
    /// `None` when nothing is held, else a duplicate or a conflict.
    /// `table` is one of ours (`events`, `edr_records`), never input.
    async fn held_digest(
        &mut self,
        table: &str,
        vehicle: VehicleId,
        event_id: &str,
        digest: &str,
        differences: impl FnOnce() -> String,
    ) -> Result<Option<WriteOutcome>, StoreError> {
        let held: Option<String> = sqlx::query_scalar(&format!(
            "SELECT digest FROM {table} WHERE vehicle_id = $1 AND event_id = $2"
        ))
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(held.map(|held| {
            if held == digest {
                WriteOutcome::Duplicate
            } else {
                WriteOutcome::Conflict {
                    differences: differences(),
                }
            }
        }))
    }
}

#[async_trait]
impl ImportTx for PgImportTx {
    async fn vehicle(&mut self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError> {
        vehicle_by_vin(&mut *self.tx, vin).await
    }

    async fn put_vehicle(&mut self, v: &Vehicle) -> Result<(VehicleId, WriteOutcome), StoreError> {
        // ON CONFLICT: another server may be adding the same vehicle right now.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO vehicles (vin, model, model_year, market, timezone, edr_ecu, extra, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (vin) DO NOTHING RETURNING id",
        )
        .bind(v.vin.as_str())
        .bind(&v.model)
        .bind(v.model_year)
        .bind(&v.market)
        .bind(&v.timezone)
        .bind(&v.edr_ecu)
        .bind(&v.extra)
        .bind(Ts(chrono::Utc::now().timestamp_micros()))
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some(id) = id {
            return Ok((id, WriteOutcome::Inserted));
        }
        let held = vehicle_by_vin(&mut *self.tx, &v.vin)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("vehicle {} vanished", v.vin)))?;
        let outcome = if held.vehicle == *v {
            WriteOutcome::Duplicate
        } else {
            WriteOutcome::Conflict {
                differences: format!(
                    "vehicle {} is held with other attributes (timezone {}, model {:?})",
                    v.vin, held.vehicle.timezone, held.vehicle.model
                ),
            }
        };
        Ok((held.id, outcome))
    }

    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
    ) -> Result<SampleBatchOutcome, StoreError> {
        let batch = spans(rows, 0..rows.len());
        let mut overlaps = false;
        for (&vehicle, &(lo, hi)) in &batch {
            if self.locked.insert(vehicle) {
                self.lock_vehicle(vehicle).await?;
            }
            let held: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t <= $3)",
            )
            .bind(vehicle)
            .bind(Ts(lo))
            .bind(Ts(hi))
            .fetch_one(&mut *self.tx)
            .await?;
            overlaps |= held;
        }
        let mut keys: Vec<(VehicleId, i64)> = rows.iter().map(|(v, s)| (*v, s.t_us)).collect();
        keys.sort_unstable();
        overlaps |= keys.windows(2).any(|w| w[0] == w[1]);
        let mut outcome = SampleBatchOutcome::default();
        if overlaps {
            for (vehicle, (lo, hi)) in batch {
                let span = self.recompute.entry(vehicle).or_insert((lo, hi));
                span.0 = span.0.min(lo);
                span.1 = span.1.max(hi);
            }
            self.insert_overlapping(rows, &mut outcome).await?;
        } else {
            self.copy_rows("samples", rows, false).await?;
            for (vehicle, sample) in rows {
                self.minutes.add(*vehicle, sample);
            }
            outcome.inserted = rows.len() as u64;
        }
        Ok(outcome)
    }

    async fn put_event(
        &mut self,
        vehicle: VehicleId,
        e: &Event,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError> {
        let differs = || format!("event {} is held with other values", e.id);
        if let Some(outcome) = self
            .held_digest("events", vehicle, &e.id, digest, differs)
            .await?
        {
            return Ok(outcome);
        }
        let done = sqlx::query(
            "INSERT INTO events (vehicle_id, event_id, t, event_type, severity, trigger_metric, \
             trigger_value, trigger_threshold, note, extra, digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        )
        .bind(vehicle)
        .bind(&e.id)
        .bind(Ts(e.t_us))
        .bind(e.event_type.as_str())
        .bind(e.severity.as_str())
        .bind(e.trigger.as_ref().map(|t| t.metric.as_str()))
        .bind(e.trigger.as_ref().map(|t| t.value))
        .bind(e.trigger.as_ref().map(|t| t.threshold))
        .bind(&e.note)
        .bind(&e.extra)
        .bind(digest)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            // Another import stored it meanwhile: compare with that one.
            return Ok(self
                .held_digest("events", vehicle, &e.id, digest, differs)
                .await?
                .unwrap_or(WriteOutcome::Duplicate));
        }
        Ok(WriteOutcome::Inserted)
    }

    async fn put_edr(
        &mut self,
        vehicle: VehicleId,
        r: &EdrRecord,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError> {
        let differs = || {
            format!(
                "crash record for event {} is held with other values",
                r.event_id
            )
        };
        if let Some(outcome) = self
            .held_digest("edr_records", vehicle, &r.event_id, digest, differs)
            .await?
        {
            return Ok(outcome);
        }
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
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(self
                .held_digest("edr_records", vehicle, &r.event_id, digest, differs)
                .await?
                .unwrap_or(WriteOutcome::Duplicate));
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
            qb.build().execute(&mut *self.tx).await?;
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
            qb.build().execute(&mut *self.tx).await?;
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
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(WriteOutcome::Inserted)
    }

    async fn event_type(
        &mut self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EventType>, StoreError> {
        let t: Option<String> = sqlx::query_scalar(
            "SELECT event_type FROM events WHERE vehicle_id = $1 AND event_id = $2",
        )
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        parse_wire(t, EventType::parse, "event_type")
    }

    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        super::accounts::append_audit_on(&mut self.tx, entry).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        std::mem::take(&mut self.minutes)
            .merge_into(&mut self.tx)
            .await?;
        // After the merge: these spans are recomputed whole, from the samples.
        for (&vehicle, &(lo, hi)) in &self.recompute {
            super::browse::refresh_minutes(&mut self.tx, vehicle, lo, hi).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}
