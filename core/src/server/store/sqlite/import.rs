//! SQLite: the import transaction.

use super::audit::append_audit_on;
use super::bulk::holding_the_thread;
use super::events::insert_edr;
use super::minutes::refresh_minutes;
use super::samples::{sample_from_row, SAMPLE_COLUMNS};
use super::seals;
use super::vehicles::vehicle_by_vin;
use super::SqliteStore;
use crate::domain::log_format::EventType;
use crate::domain::records::{EdrRecord, Event, Position, Sample, Vehicle};
use crate::domain::sealed::VehicleKey;
use crate::domain::Vin;
use crate::server::store::decode::EVENT_COLUMNS;
use crate::server::store::rows::{classify_against_held, parse_wire, spans};
use crate::server::store::{
    AuditEntry, HeldSeal, ImportStore, ImportTx, MissingBatch, NewAuditEntry, NewSeal,
    SampleBatchOutcome, SealId, SealRuns, SealedRecord, StoreError, StoredVehicle, VehicleId,
    WriteOutcome,
};
use async_trait::async_trait;
use sqlx::{Row, Sqlite, Transaction};
use std::collections::HashMap;

struct SqliteImportTx {
    tx: Transaction<'static, Sqlite>,
    /// Per vehicle, the first and last sample time inserted: their minute
    /// summaries are recomputed before commit.
    touched: HashMap<VehicleId, (i64, i64)>,
}

impl SqliteImportTx {
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
            "SELECT digest FROM {table} WHERE vehicle_id = ? AND event_id = ?"
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

    /// Classifies rows that were not inserted: the same values held (a
    /// duplicate) or other values held (a conflict, the held row is kept).
    async fn classify_skipped(
        &mut self,
        rows: &[(VehicleId, Sample)],
        skipped: &[usize],
        seals: &SealRuns,
        outcome: &mut SampleBatchOutcome,
    ) -> Result<(), StoreError> {
        let by_vehicle = spans(rows, skipped.iter().copied());
        let mut held: HashMap<(VehicleId, i64), Sample> = HashMap::new();
        for (vehicle, (lo, hi)) in by_vehicle {
            let found = sqlx::query(&format!(
                "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = ? AND t BETWEEN ? AND ?"
            ))
            .bind(vehicle)
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *self.tx)
            .await?;
            holding_the_thread(|| {
                for row in &found {
                    held.insert((vehicle, row.try_get(1)?), sample_from_row(row)?);
                }
                Ok::<_, StoreError>(())
            })?;
        }
        holding_the_thread(|| classify_against_held(rows, skipped, &held, seals, outcome))
    }
}

#[async_trait]
impl ImportTx for SqliteImportTx {
    async fn vehicle(&mut self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError> {
        vehicle_by_vin(&mut *self.tx, vin).await
    }

    async fn put_vehicle(&mut self, v: &Vehicle) -> Result<(VehicleId, WriteOutcome), StoreError> {
        if let Some(held) = vehicle_by_vin(&mut *self.tx, &v.vin).await? {
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
            return Ok((held.id, outcome));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO vehicles (vin, model, model_year, market, timezone, edr_ecu, extra, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(v.vin.as_str())
        .bind(&v.model)
        .bind(v.model_year)
        .bind(&v.market)
        .bind(&v.timezone)
        .bind(&v.edr_ecu)
        .bind(&v.extra)
        .bind(chrono::Utc::now().timestamp_micros())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((id, WriteOutcome::Inserted))
    }

    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
        seals: &SealRuns,
    ) -> Result<SampleBatchOutcome, StoreError> {
        let skipped = {
            let mut handle = self.tx.lock_handle().await?;
            // SAFETY: the handle is locked for us until `handle` drops, and
            // the transaction opened on it stays open.
            holding_the_thread(|| unsafe {
                super::bulk::insert_samples(handle.as_raw_handle(), rows, seals)
            })
            .map_err(StoreError::Engine)?
        };
        for (vehicle, sample) in rows {
            let span = self
                .touched
                .entry(*vehicle)
                .or_insert((sample.t_us, sample.t_us));
            span.0 = span.0.min(sample.t_us);
            span.1 = span.1.max(sample.t_us);
        }
        let mut outcome = SampleBatchOutcome {
            inserted: (rows.len() - skipped.len()) as u64,
            ..SampleBatchOutcome::default()
        };
        if !skipped.is_empty() {
            self.classify_skipped(rows, &skipped, seals, &mut outcome)
                .await?;
        }
        Ok(outcome)
    }

    async fn put_event(
        &mut self,
        vehicle: VehicleId,
        e: &Event,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError> {
        if let Some(outcome) = self
            .held_digest("events", vehicle, &e.id, digest, || {
                format!("event {} is held with other values", e.id)
            })
            .await?
        {
            return Ok(outcome);
        }
        sqlx::query(&format!(
            "INSERT INTO events (vehicle_id, {EVENT_COLUMNS}, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(vehicle)
        .bind(&e.id)
        .bind(e.t_us)
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
        insert_edr(&mut self.tx, vehicle, r, digest).await?;
        Ok(WriteOutcome::Inserted)
    }

    async fn event_type(
        &mut self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EventType>, StoreError> {
        let t: Option<String> = sqlx::query_scalar(
            "SELECT event_type FROM events WHERE vehicle_id = ? AND event_id = ?",
        )
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        parse_wire(t, EventType::parse, "event_type")
    }

    async fn vehicle_keys(&mut self, vehicle: VehicleId) -> Result<Vec<VehicleKey>, StoreError> {
        seals::vehicle_keys(&mut self.tx, vehicle).await
    }

    async fn put_vehicle_key(
        &mut self,
        vehicle: VehicleId,
        key: &VehicleKey,
    ) -> Result<WriteOutcome, StoreError> {
        seals::put_vehicle_key(&mut self.tx, vehicle, key).await
    }

    async fn held_seal(
        &mut self,
        vehicle: VehicleId,
        vin: &str,
        key: &str,
        seq: u64,
    ) -> Result<Option<HeldSeal>, StoreError> {
        seals::held_seal(&mut self.tx, vehicle, vin, key, seq).await
    }

    async fn insert_seals(
        &mut self,
        new: &[(VehicleId, NewSeal<'_>)],
    ) -> Result<Vec<SealId>, StoreError> {
        let mut handle = self.tx.lock_handle().await?;
        // SAFETY: as in `put_samples`.
        holding_the_thread(|| unsafe { super::bulk::insert_seals(handle.as_raw_handle(), new) })
            .map_err(StoreError::Engine)
    }

    async fn max_seal_seq(&mut self, vehicle: VehicleId, key: &str) -> Result<u64, StoreError> {
        seals::max_seal_seq(&mut self.tx, vehicle, key).await
    }

    async fn put_positions(
        &mut self,
        rows: &[(VehicleId, Position)],
        runs: &SealRuns,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let skipped = {
            let mut handle = self.tx.lock_handle().await?;
            // SAFETY: as in `put_samples`.
            holding_the_thread(|| unsafe {
                super::bulk::insert_positions(handle.as_raw_handle(), rows, runs)
            })
            .map_err(StoreError::Engine)?
        };
        let mut outcomes = vec![WriteOutcome::Inserted; rows.len()];
        for i in skipped {
            let (vehicle, position) = &rows[i];
            outcomes[i] = seals::held_position_outcome(&mut self.tx, *vehicle, position).await?;
        }
        Ok(outcomes)
    }

    async fn put_position(
        &mut self,
        vehicle: VehicleId,
        position: &Position,
        seal: Option<SealId>,
    ) -> Result<WriteOutcome, StoreError> {
        seals::put_position(&mut self.tx, vehicle, position, seal).await
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
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn missing_batches(
        &mut self,
        vehicle: VehicleId,
    ) -> Result<Vec<MissingBatch>, StoreError> {
        seals::missing_batches(&mut *self.tx, vehicle).await
    }

    async fn locate_samples(
        &mut self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<(), StoreError> {
        seals::locate_samples(&mut self.tx, vehicle, from, to).await
    }

    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        append_audit_on(&mut self.tx, entry).await
    }

    async fn summarize(&mut self) -> Result<(), StoreError> {
        for (vehicle, (lo, hi)) in std::mem::take(&mut self.touched) {
            refresh_minutes(&mut self.tx, vehicle, lo, hi).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.summarize().await?;
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

#[async_trait]
impl ImportStore for SqliteStore {
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        // IMMEDIATE takes the write lock now, so a read-then-write import never
        // fails half-way with SQLITE_BUSY when another writer got in between.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteImportTx {
            tx,
            touched: HashMap::new(),
        }))
    }
}
