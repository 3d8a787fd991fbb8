//! PostgreSQL import transaction: samples arrive by binary COPY.
//!
//! New data (the usual case) is copied straight into `samples`, down one
//! COPY kept open across batches (`sample_copy.rs`): a batch of an in-order
//! file needs no query of its own, since what was learnt of the vehicle's
//! held span still covers it (`ClearSpan`). When a batch
//! overlaps what is held, it goes through a temporary table and
//! `INSERT … ON CONFLICT DO NOTHING`, and the rows left out are compared with
//! the held ones, as on SQLite. Minute summaries of new rows are computed as
//! they pass (`minutes.rs`); those of overlapping spans from the samples.

use super::audit::append_audit_on;
use super::copy::CopyWriter;
use super::events::insert_edr;
use super::minutes::{refresh_minutes, MinuteSummaries};
use super::sample_copy::{encode_sample, ImportConnection};
use super::samples::{sample_from_row, SAMPLE_COLUMNS, SAMPLE_WRITE_COLUMNS};
use super::seals;
use super::time::Ts;
use super::vehicles::vehicle_by_vin;
use super::PgStore;
use crate::domain::log_format::EventType;
use crate::domain::records::{EdrRecord, Event, Position, Sample, Vehicle};
use crate::domain::sealed::VehicleKey;
use crate::domain::Vin;
use crate::server::store::rows::{classify_against_held, parse_wire, spans};
use crate::server::store::{
    AuditEntry, HeldSeal, ImportStore, ImportTx, MissingBatch, NewAuditEntry, NewSeal,
    SampleBatchOutcome, SealId, SealRuns, SealedRecord, StoreError, StoredVehicle, VehicleId,
    WriteOutcome,
};
use async_trait::async_trait;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

struct PgImportTx {
    conn: ImportConnection,
    /// Vehicles locked for this import.
    locked: HashSet<VehicleId>,
    /// Minute summaries of the samples copied straight in.
    minutes: MinuteSummaries,
    /// Per vehicle, the span of samples that overlapped held ones: their
    /// minute summaries are recomputed from the samples before commit.
    recompute: HashMap<VehicleId, (i64, i64)>,
    staging: bool,
    /// Per vehicle, a span known to hold no sample, so that an in-order
    /// file's batches go down the open COPY without a query each.
    clear: HashMap<VehicleId, ClearSpan>,
}

/// No sample of the vehicle is held in `[from, next_held)` (open-ended when
/// `next_held` is `None`), this import's own included.
#[derive(Debug, Clone, Copy)]
struct ClearSpan {
    from: i64,
    next_held: Option<i64>,
}

impl ClearSpan {
    fn covers(&self, lo: i64, hi: i64) -> bool {
        self.from <= lo && self.next_held.is_none_or(|next| hi < next)
    }
}

impl PgImportTx {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        Ok(PgImportTx {
            conn: ImportConnection::new(pool.begin().await?),
            locked: HashSet::new(),
            minutes: MinuteSummaries::default(),
            recompute: HashMap::new(),
            staging: false,
            clear: HashMap::new(),
        })
    }

    /// Serialises imports of one vehicle (across servers) until commit, so
    /// the overlap check below and the minute summaries cannot race.
    async fn lock_vehicle(&mut self, vehicle: VehicleId) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(1, $1::int)")
            .bind(vehicle as i32)
            .execute(&mut **self.conn.tx().await?)
            .await?;
        Ok(())
    }

    /// Whether no sample of `vehicle` is held in `[lo, hi]`. Asks the
    /// database only when the span last learnt does not cover it (the
    /// vehicle's first batch, or an out-of-order one); the vehicle is locked
    /// first, so what is learnt stays true until commit.
    async fn clear_of_held(
        &mut self,
        vehicle: VehicleId,
        lo: i64,
        hi: i64,
    ) -> Result<bool, StoreError> {
        if self.clear.get(&vehicle).is_some_and(|c| c.covers(lo, hi)) {
            return Ok(true);
        }
        if self.locked.insert(vehicle) {
            self.lock_vehicle(vehicle).await?;
        }
        let next_held: Option<Ts> =
            sqlx::query_scalar("SELECT min(t) FROM samples WHERE vehicle_id = $1 AND t >= $2")
                .bind(vehicle)
                .bind(Ts(lo))
                .fetch_one(&mut **self.conn.tx().await?)
                .await?;
        let clear = ClearSpan {
            from: lo,
            next_held: next_held.map(|t| t.0),
        };
        self.clear.insert(vehicle, clear);
        Ok(clear.covers(lo, hi))
    }

    /// COPYs `rows` into the staging table, each with its ordinal.
    async fn copy_to_staging(
        &mut self,
        rows: &[(VehicleId, Sample)],
        seals: &SealRuns,
    ) -> Result<(), StoreError> {
        let tx = self.conn.tx().await?;
        let mut copy = tx
            .copy_in_raw(&format!(
                "COPY import_samples ({SAMPLE_WRITE_COLUMNS}, ord) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        let mut w = CopyWriter::new();
        for (i, (vehicle, s)) in rows.iter().enumerate() {
            encode_sample(&mut w, *vehicle, s, seals.seal_of(i), Some(i as i32));
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
        seals: &SealRuns,
        outcome: &mut SampleBatchOutcome,
    ) -> Result<(), StoreError> {
        if !self.staging {
            sqlx::query(
                "CREATE TEMPORARY TABLE import_samples (LIKE samples, ord integer NOT NULL) \
                 ON COMMIT DROP",
            )
            .execute(&mut **self.conn.tx().await?)
            .await?;
            self.staging = true;
        } else {
            sqlx::query("TRUNCATE import_samples")
                .execute(&mut **self.conn.tx().await?)
                .await?;
        }
        self.copy_to_staging(rows, seals).await?;
        // In batch order, so the first of two rows for one instant is the one kept.
        let inserted: Vec<i32> = sqlx::query_scalar(&format!(
            "WITH ins AS (INSERT INTO samples ({SAMPLE_WRITE_COLUMNS}) \
                 SELECT {SAMPLE_WRITE_COLUMNS} FROM import_samples ORDER BY ord \
                 ON CONFLICT (vehicle_id, t) DO NOTHING RETURNING vehicle_id, t) \
             SELECT min(i.ord) FROM ins JOIN import_samples i USING (vehicle_id, t) \
             GROUP BY vehicle_id, t"
        ))
        .fetch_all(&mut **self.conn.tx().await?)
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
            .fetch_all(&mut **self.conn.tx().await?)
            .await?;
            for row in &found {
                let sample = sample_from_row(row)?;
                held.insert((vehicle, sample.t_us), sample);
            }
        }
        classify_against_held(rows, &skipped, &held, seals, outcome)
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
        .fetch_optional(&mut **self.conn.tx().await?)
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
        vehicle_by_vin(&mut **self.conn.tx().await?, vin).await
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
        .fetch_optional(&mut **self.conn.tx().await?)
        .await?;
        if let Some(id) = id {
            return Ok((id, WriteOutcome::Inserted));
        }
        let held = vehicle_by_vin(&mut **self.conn.tx().await?, &v.vin)
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
        seals: &SealRuns,
    ) -> Result<SampleBatchOutcome, StoreError> {
        let batch = spans(rows, 0..rows.len());
        let mut overlaps = false;
        for (&vehicle, &(lo, hi)) in &batch {
            overlaps |= !self.clear_of_held(vehicle, lo, hi).await?;
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
                // What this batch added is not known in detail: ask again next time.
                self.clear.remove(&vehicle);
            }
            self.insert_overlapping(rows, seals, &mut outcome).await?;
        } else {
            self.conn.copy_samples(rows, seals).await?;
            for (vehicle, sample) in rows {
                self.minutes.add(*vehicle, sample);
            }
            for (vehicle, (_, hi)) in batch {
                // Held now up to `hi`: later batches of an in-order file start after it.
                if let Some(clear) = self.clear.get_mut(&vehicle) {
                    clear.from = hi + 1;
                }
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
        .execute(&mut **self.conn.tx().await?)
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
        if !insert_edr(&mut **self.conn.tx().await?, vehicle, r, digest).await? {
            return Ok(self
                .held_digest("edr_records", vehicle, &r.event_id, digest, differs)
                .await?
                .unwrap_or(WriteOutcome::Duplicate));
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
        .fetch_optional(&mut **self.conn.tx().await?)
        .await?;
        parse_wire(t, EventType::parse, "event_type")
    }

    async fn vehicle_keys(&mut self, vehicle: VehicleId) -> Result<Vec<VehicleKey>, StoreError> {
        seals::vehicle_keys(&mut **self.conn.tx().await?, vehicle).await
    }

    async fn put_vehicle_key(
        &mut self,
        vehicle: VehicleId,
        key: &VehicleKey,
    ) -> Result<WriteOutcome, StoreError> {
        seals::put_vehicle_key(&mut **self.conn.tx().await?, vehicle, key).await
    }

    async fn held_seal(
        &mut self,
        vehicle: VehicleId,
        vin: &str,
        key: &str,
        seq: u64,
    ) -> Result<Option<HeldSeal>, StoreError> {
        seals::held_seal(&mut **self.conn.tx().await?, vehicle, vin, key, seq).await
    }

    async fn insert_seals(
        &mut self,
        new: &[(VehicleId, NewSeal<'_>)],
    ) -> Result<Vec<SealId>, StoreError> {
        seals::insert_seals(&mut **self.conn.tx().await?, new).await
    }

    async fn max_seal_seq(&mut self, vehicle: VehicleId, key: &str) -> Result<u64, StoreError> {
        seals::max_seal_seq(&mut **self.conn.tx().await?, vehicle, key).await
    }

    async fn put_positions(
        &mut self,
        rows: &[(VehicleId, Position)],
        runs: &SealRuns,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        seals::put_positions(&mut **self.conn.tx().await?, rows, runs).await
    }

    async fn put_position(
        &mut self,
        vehicle: VehicleId,
        position: &Position,
        seal: Option<SealId>,
    ) -> Result<WriteOutcome, StoreError> {
        seals::put_position(&mut **self.conn.tx().await?, vehicle, position, seal).await
    }

    async fn mark_sealed(
        &mut self,
        vehicle: VehicleId,
        record: SealedRecord<'_>,
        seal: SealId,
    ) -> Result<(), StoreError> {
        sqlx::query(record.mark_sql())
            .bind(seal)
            .bind(vehicle)
            .bind(record.event_id())
            .execute(&mut **self.conn.tx().await?)
            .await?;
        Ok(())
    }

    async fn missing_batches(
        &mut self,
        vehicle: VehicleId,
    ) -> Result<Vec<MissingBatch>, StoreError> {
        seals::missing_batches(&mut **self.conn.tx().await?, vehicle).await
    }

    async fn locate_samples(
        &mut self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<(), StoreError> {
        seals::locate_samples(&mut **self.conn.tx().await?, vehicle, from, to).await
    }

    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        // A file's entry for one VIN takes that VIN's lock until commit, so
        // two imports' entries for a VIN get their `seq` in commit order:
        // the changes feed, which reads them by `seq`, never skips one.
        if let Some(vin) = &entry.vin {
            sqlx::query("SELECT pg_advisory_xact_lock(2, hashtext($1))")
                .bind(vin)
                .execute(&mut **self.conn.tx().await?)
                .await?;
        }
        append_audit_on(self.conn.tx().await?, entry).await
    }

    async fn summarize(&mut self) -> Result<(), StoreError> {
        let minutes = std::mem::take(&mut self.minutes);
        let recompute = std::mem::take(&mut self.recompute);
        let tx = self.conn.tx().await?;
        minutes.merge_into(tx).await?;
        // After the merge: these spans are recomputed whole, from the samples.
        for (vehicle, (lo, hi)) in recompute {
            refresh_minutes(tx, vehicle, lo, hi).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.summarize().await?;
        self.conn.into_tx().await?.commit().await?;
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.conn.rollback().await
    }
}

#[async_trait]
impl ImportStore for PgStore {
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        Ok(Box::new(PgImportTx::begin(&self.pool).await?))
    }
}
