//! SQLite backend: one file in WAL mode, migrations from `migrations/sqlite`.

mod accounts;
mod browse;
mod bulk;
mod cases;
mod jobs;
mod tokens;

use bulk::Bind;

use super::rows::{chained_entry, classify_against_held, parse_wire, spans, AccountKey};
use super::{
    AccountId, AccountRecord, AttemptVerdict, AuditEntry, CaseExportRecord, CaseRecord,
    ChartRequest, ChartRow, ClaimRefusal, ClassHoldings, DriveSummary, EventFilter,
    EventPageRequest, ExportJobEnd, ExportJobRecord, Holdings, ImportTx, IngestToken,
    NewAuditEntry, NewCase, NewCaseExport, NewExportJob, OwnershipPeriod, PageRequest,
    SampleBatchOutcome, SampleFilter, Store, StoreError, StoredVehicle, TimeRange, VehicleId,
    WriteOutcome,
};
use crate::domain::account::Role;
use crate::domain::chart::ChartChannel;
use crate::domain::log_format::{
    AdasState, AebState, Airbag, BeltStatus, DeltaV, DeltaVSample, EventType, Gear, PreCrash,
    PreCrashSample, SampleChannels, Severity, Trigger,
};
use crate::domain::records::{EdrRecord, Event, Sample, Vehicle};
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

const SAMPLE_COLUMNS: &str = "vehicle_id, t_us, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra";

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an import acknowledged to the caller survives power loss too.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // 4 MiB of page cache per connection, 32 MiB for the pool at most:
            // long scans (exports) pass through it rather than piling up.
            .pragma("cache_size", "-4096")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Reads a sample from a row selected with `SAMPLE_COLUMNS` (vehicle_id first).
fn sample_from_row(row: &SqliteRow) -> Result<Sample, StoreError> {
    Ok(Sample {
        t_us: row.try_get(1)?,
        channels: SampleChannels {
            speed_kmh: row.try_get(2)?,
            accel_pedal_pct: row.try_get(3)?,
            brake_pedal: row.try_get(4)?,
            brake_pressure_bar: row.try_get(5)?,
            steering_angle_deg: row.try_get(6)?,
            long_accel_mps2: row.try_get(7)?,
            lat_accel_mps2: row.try_get(8)?,
            yaw_rate_dps: row.try_get(9)?,
            gear: parse_wire(row.try_get(10)?, Gear::parse, "gear")?,
            abs_active: row.try_get(11)?,
            esc_active: row.try_get(12)?,
            aeb_state: parse_wire(row.try_get(13)?, AebState::parse, "aeb_state")?,
            fcw: row.try_get(14)?,
            adas_state: parse_wire(row.try_get(15)?, AdasState::parse, "adas_state")?,
            motor_torque_nm: row.try_get(16)?,
            odometer_km: row.try_get(17)?,
            soc_pct: row.try_get(18)?,
            belt_driver: row.try_get(19)?,
            lat: row.try_get(20)?,
            lon: row.try_get(21)?,
            heading_deg: row.try_get(22)?,
        },
        extra: row.try_get(23)?,
    })
}

const AUDIT_COLUMNS: &str = "seq, at_us, actor, action, vin, details, prev_hash, hash";

fn audit_from_row(r: &SqliteRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.try_get(0)?,
        at_us: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        vin: r.try_get(4)?,
        details: r.try_get(5)?,
        prev_hash: r.try_get(6)?,
        hash: r.try_get(7)?,
    })
}

const VEHICLE_COLUMNS: &str = "id, vin, model, model_year, market, timezone, edr_ecu, extra";

fn vehicle_from_row(row: &SqliteRow) -> Result<StoredVehicle, StoreError> {
    let vin: String = row.try_get(1)?;
    Ok(StoredVehicle {
        id: row.try_get(0)?,
        vehicle: Vehicle {
            vin: Vin::parse(&vin)
                .map_err(|e| StoreError::Corrupt(format!("stored VIN {vin}: {e}")))?,
            model: row.try_get(2)?,
            model_year: row.try_get(3)?,
            market: row.try_get(4)?,
            timezone: row.try_get(5)?,
            edr_ecu: row.try_get(6)?,
            extra: row.try_get(7)?,
        },
    })
}

const EVENT_COLUMNS: &str = "event_id, t_us, event_type, severity, trigger_metric, trigger_value, \
    trigger_threshold, note, extra";

fn event_from_row(row: &SqliteRow) -> Result<Event, StoreError> {
    let metric: Option<String> = row.try_get(4)?;
    let value: Option<f64> = row.try_get(5)?;
    let threshold: Option<f64> = row.try_get(6)?;
    let trigger = match (metric, value, threshold) {
        (Some(metric), Some(value), Some(threshold)) => Some(Trigger {
            metric,
            value,
            threshold,
        }),
        _ => None,
    };
    Ok(Event {
        id: row.try_get(0)?,
        t_us: row.try_get(1)?,
        event_type: parse_wire(Some(row.try_get(2)?), EventType::parse, "event_type")?
            .expect("value given"),
        severity: parse_wire(Some(row.try_get(3)?), Severity::parse, "severity")?
            .expect("value given"),
        trigger,
        note: row.try_get(7)?,
        extra: row.try_get(8)?,
    })
}

/// ` WHERE` the vehicle, any of the ranges, and the value filters, with
/// the values to bind in order.
fn sample_filter_sql(
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &SampleFilter,
    binds: &mut Vec<Bind>,
) -> String {
    let mut sql = String::from(" WHERE vehicle_id = ? AND (");
    binds.push(Bind::Int(vehicle));
    for (i, r) in ranges.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str("(t_us >= ? AND t_us < ?)");
        binds.extend([Bind::Int(r.from_us), Bind::Int(r.to_us)]);
    }
    sql.push(')');
    let mut add = |clause: &str, bind: Bind| {
        sql.push_str(clause);
        binds.push(bind);
    };
    if let Some(v) = filter.min_speed_kmh {
        add(" AND speed_kmh >= ?", Bind::Real(v));
    }
    if let Some(v) = filter.max_speed_kmh {
        add(" AND speed_kmh <= ?", Bind::Real(v));
    }
    if let Some(v) = filter.brake_pedal {
        add(" AND brake_pedal = ?", Bind::Int(v.into()));
    }
    if let Some(v) = filter.abs_active {
        add(" AND abs_active = ?", Bind::Int(v.into()));
    }
    if let Some(v) = filter.aeb_state {
        add(" AND aeb_state = ?", Bind::Text(v.as_str()));
    }
    if let Some(v) = filter.gear {
        add(" AND gear = ?", Bind::Text(v.as_str()));
    }
    sql
}

async fn vehicle_by_vin<'e, E>(executor: E, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE vin = ?"
    ))
    .bind(vin.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(vehicle_from_row).transpose()
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        // IMMEDIATE takes the write lock now, so a read-then-write import never
        // fails half-way with SQLITE_BUSY when another writer got in between.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteImportTx {
            tx,
            touched: HashMap::new(),
        }))
    }

    async fn vehicle(&self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError> {
        vehicle_by_vin(&self.pool, vin).await
    }

    async fn vehicles(&self) -> Result<Vec<StoredVehicle>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {VEHICLE_COLUMNS} FROM vehicles ORDER BY vin"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(vehicle_from_row).collect()
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
            "SELECT count(*), min(t_us), max(t_us), count(lat), \
             min(CASE WHEN lat IS NOT NULL THEN t_us END), max(CASE WHEN lat IS NOT NULL THEN t_us END) FROM samples \
             WHERE vehicle_id = ? AND t_us >= ? AND t_us < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let events = sqlx::query(
            "SELECT count(*), min(t_us), max(t_us) FROM events WHERE vehicle_id = ? AND t_us >= ? AND t_us < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let edr = sqlx::query(
            "SELECT count(*), min(t0_us), max(t0_us), coalesce(sum(locked), 0) FROM edr_records \
             WHERE vehicle_id = ? AND t0_us >= ? AND t0_us < ?",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        // Samples under legal hold: the 30 minutes before each locked crash record.
        let held_samples: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT s.t_us) FROM edr_records e JOIN samples s \
             ON s.vehicle_id = e.vehicle_id AND s.t_us >= e.t0_us - ? AND s.t_us <= e.t0_us \
             WHERE e.vehicle_id = ? AND e.locked = 1 AND s.t_us >= ? AND s.t_us < ?",
        )
        .bind(super::HOLD_BEFORE_CRASH_US)
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

    async fn samples(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        limit: u32,
    ) -> Result<Vec<Sample>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = ? AND t_us >= ? AND t_us < ? \
             ORDER BY t_us LIMIT ?"
        ))
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn sample_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
        page: PageRequest,
    ) -> Result<Vec<Sample>, StoreError> {
        // The cursor narrows the ranges themselves: with a second lower bound
        // (`t_us > ?`) SQLite seeks to the range's start and every page would
        // re-read all the pages before it.
        let ranges = super::after_cursor(ranges, page);
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = Vec::new();
        let mut sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples{}",
            sample_filter_sql(vehicle, &ranges, filter, &mut binds)
        );
        sql.push_str(if page.descending {
            " ORDER BY t_us DESC LIMIT ?"
        } else {
            " ORDER BY t_us LIMIT ?"
        });
        binds.push(Bind::Int(page.limit.into()));
        let mut conn = self.pool.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        // SAFETY: the handle is locked for us until `handle` drops.
        unsafe { bulk::read_samples(handle.as_raw_handle(), &sql, &binds) }
            .map_err(StoreError::Engine)
    }

    async fn sample_count(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
    ) -> Result<u64, StoreError> {
        if ranges.is_empty() {
            return Ok(0);
        }
        let mut binds = Vec::new();
        let sql = format!(
            "SELECT count(*) FROM samples{}",
            sample_filter_sql(vehicle, ranges, filter, &mut binds)
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for b in binds {
            q = match b {
                Bind::Int(v) => q.bind(v),
                Bind::Real(v) => q.bind(v),
                Bind::Text(v) => q.bind(v),
            };
        }
        let n = q.fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

    async fn events(&self, vehicle: VehicleId, range: TimeRange) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = ? AND t_us >= ? AND t_us < ? \
             ORDER BY t_us, event_id"
        ))
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn edr_records(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
    ) -> Result<Vec<EdrRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM edr_records WHERE vehicle_id = ? AND t0_us >= ? AND t0_us < ? ORDER BY t0_us",
        )
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
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
    ) -> Result<Vec<Event>, StoreError> {
        browse::event_page(&self.pool, vehicle, ranges, filter, page).await
    }

    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = ? AND event_id = ?"
        ))
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn edr_record(
        &self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EdrRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let held: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM edr_records WHERE vehicle_id = ? AND event_id = ?")
                .bind(vehicle)
                .bind(event_id)
                .fetch_optional(&mut *conn)
                .await?;
        match held {
            Some(_) => Ok(Some(load_edr(&mut conn, vehicle, event_id).await?)),
            None => Ok(None),
        }
    }

    async fn drives(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        gap_us: i64,
        limit: u32,
    ) -> Result<Vec<DriveSummary>, StoreError> {
        browse::drives(&self.pool, vehicle, range, gap_us, limit).await
    }

    async fn chart_rows(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        channels: &[ChartChannel],
        request: ChartRequest,
    ) -> Result<Vec<ChartRow>, StoreError> {
        browse::chart_rows(&self.pool, vehicle, range, channels, request).await
    }

    async fn sample_intervals(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_samples: u32,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        browse::sample_intervals(&self.pool, vehicle, range, max_samples).await
    }

    async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>, StoreError> {
        accounts::account_where(&self.pool, AccountKey::Name(account)).await
    }

    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        accounts::account_where(&self.pool, AccountKey::Id(id)).await
    }

    async fn create_account(
        &self,
        account: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<Option<AccountId>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        accounts::insert_account(&mut conn, account, password_hash, role).await
    }

    async fn sign_up_with_claim(
        &self,
        account: &str,
        password_hash: &str,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<(AccountId, OwnershipPeriod), ClaimRefusal>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(id) =
            accounts::insert_account(&mut tx, account, password_hash, Role::Owner).await?
        else {
            return Ok(Err(ClaimRefusal::AccountExists));
        };
        match accounts::redeem(&mut tx, id, vin, code_hash, now_us).await? {
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
        let outcome = accounts::redeem(&mut tx, account, vin, code_hash, now_us).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
    ) -> Result<i64, StoreError> {
        let epoch: i64 = sqlx::query_scalar(
            "UPDATE accounts SET password_hash = ?, session_epoch = session_epoch + 1 WHERE id = ? RETURNING session_epoch",
        )
        .bind(password_hash)
        .bind(account)
        .fetch_one(&self.pool)
        .await?;
        Ok(epoch)
    }

    async fn ownership_of_account(
        &self,
        account: AccountId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError> {
        accounts::periods_where(&self.pool, "p.account_id", account).await
    }

    async fn ownership_of_vehicle(
        &self,
        vehicle: VehicleId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError> {
        accounts::periods_where(&self.pool, "p.vehicle_id", vehicle).await
    }

    async fn create_claim_code(
        &self,
        vehicle: VehicleId,
        code_hash: &str,
        since_us: i64,
        expires_us: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO claim_codes (vehicle_id, code_hash, since_us, expires_us, created_us) VALUES (?, ?, ?, ?, ?)")
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
        let ended = accounts::end_open_period(&mut tx, vehicle, at_us).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn take_sign_in_attempt(
        &self,
        limits: &[(String, u32)],
        since_us: i64,
        at_us: i64,
    ) -> Result<AttemptVerdict, StoreError> {
        // BEGIN IMMEDIATE: one writer at a time, so no two attempts count
        // the same failures.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (key, limit) in limits {
            let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT count(*), min(at_us) FROM sign_in_failures WHERE key = ? AND at_us >= ?",
            )
            .bind(key)
            .bind(since_us)
            .fetch_one(&mut *tx)
            .await?;
            if n >= *limit as i64 {
                return Ok(AttemptVerdict::Refused {
                    oldest_us: oldest.unwrap_or(at_us),
                });
            }
        }
        for (key, _) in limits {
            sqlx::query("INSERT INTO sign_in_failures (key, at_us) VALUES (?, ?)")
                .bind(key)
                .bind(at_us)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(AttemptVerdict::Counted)
    }

    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE rowid IN \
             (SELECT rowid FROM sign_in_failures WHERE key = ? AND at_us = ? LIMIT 1)",
        )
        .bind(key)
        .bind(at_us)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let appended = append_audit_on(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(appended)
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_for_vin(
        &self,
        vin: &str,
        actions: &[&str],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE vin = "
        ));
        q.push_bind(vin.to_string());
        if let Some(before) = before {
            q.push(" AND seq < ").push_bind(before);
        }
        q.push(" AND action IN (");
        let mut list = q.separated(", ");
        for a in actions {
            list.push_bind(a.to_string());
        }
        q.push(") ORDER BY seq DESC LIMIT ").push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError> {
        cases::set_totp_secret(&self.pool, account, secret).await
    }

    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        cases::totp_secret(&self.pool, account).await
    }

    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError> {
        cases::use_totp_step(&self.pool, account, step).await
    }

    async fn create_case(&self, case: &NewCase) -> Result<CaseRecord, StoreError> {
        cases::create_case(&self.pool, case).await
    }

    async fn case_by_no(&self, case_no: &str) -> Result<Option<CaseRecord>, StoreError> {
        cases::case_by_no(&self.pool, case_no).await
    }

    async fn cases(
        &self,
        vehicle: Option<VehicleId>,
        status: Option<CaseStatus>,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        cases::cases(&self.pool, vehicle, None, status, limit).await
    }

    async fn cases_of_owner(&self, account: AccountId) -> Result<Vec<CaseRecord>, StoreError> {
        cases::cases(&self.pool, None, Some(account), None, 200).await
    }

    async fn set_case_status(&self, case_id: i64, status: CaseStatus) -> Result<(), StoreError> {
        cases::set_case_status(&self.pool, case_id, status).await
    }

    async fn attach_case_export(&self, export: &NewCaseExport) -> Result<(), StoreError> {
        cases::attach_case_export(&self.pool, export).await
    }

    async fn case_exports(&self, case_id: i64) -> Result<Vec<CaseExportRecord>, StoreError> {
        cases::case_exports(&self.pool, case_id).await
    }

    async fn case_export_bundle(
        &self,
        case_id: i64,
        bundle_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        cases::case_export_bundle(&self.pool, case_id, bundle_id).await
    }

    async fn create_ingest_token(
        &self,
        name: &str,
        token_sha256: &str,
        at_us: i64,
    ) -> Result<bool, StoreError> {
        tokens::create(&self.pool, name, token_sha256, at_us).await
    }

    async fn live_ingest_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<IngestToken>, StoreError> {
        tokens::live(&self.pool, token_sha256).await
    }

    async fn revoke_ingest_token(&self, name: &str, at_us: i64) -> Result<bool, StoreError> {
        tokens::revoke(&self.pool, name, at_us).await
    }

    async fn ingest_tokens(&self) -> Result<Vec<IngestToken>, StoreError> {
        tokens::all(&self.pool).await
    }

    async fn create_export_job(
        &self,
        job: &NewExportJob,
        max_running: u32,
        alive_since_us: i64,
    ) -> Result<bool, StoreError> {
        jobs::create(&self.pool, job, max_running, alive_since_us).await
    }

    async fn export_job_progress(
        &self,
        id: &str,
        rows: u64,
        bytes: u64,
        at_us: i64,
    ) -> Result<(), StoreError> {
        jobs::progress(&self.pool, id, rows, bytes, at_us).await
    }

    async fn put_export_job_part(&self, id: &str, seq: u32, data: &[u8]) -> Result<(), StoreError> {
        jobs::put_part(&self.pool, id, seq, data).await
    }

    async fn end_export_job(
        &self,
        id: &str,
        end: &ExportJobEnd,
        at_us: i64,
    ) -> Result<(), StoreError> {
        jobs::end(&self.pool, id, end, at_us).await
    }

    async fn export_job(&self, id: &str) -> Result<Option<ExportJobRecord>, StoreError> {
        jobs::get(&self.pool, id).await
    }

    async fn export_job_part(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        jobs::part(&self.pool, id, seq).await
    }

    async fn expire_export_jobs(&self, before_us: i64) -> Result<u64, StoreError> {
        jobs::expire(&self.pool, before_us).await
    }

    async fn migration_status(&self) -> Result<(usize, usize), StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(super::count_applied(&MIGRATOR, &applied))
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM vehicles LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_none())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

async fn load_edr(
    conn: &mut sqlx::SqliteConnection,
    vehicle: VehicleId,
    event_id: &str,
) -> Result<EdrRecord, StoreError> {
    let r = sqlx::query(
        "SELECT event_id, t0_us, standard, trigger_kind, locked, complete, ignition_cycle_crash, \
         ignition_cycle_download, max_delta_v_long_kmh, time_max_delta_v_ms, max_delta_v_lat_kmh, \
         belt_driver, pre_crash_rate_hz, delta_v_rate_hz, extra \
         FROM edr_records WHERE vehicle_id = ? AND event_id = ?",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_one(&mut *conn)
    .await?;
    let airbags = sqlx::query(
        "SELECT position, deploy_ms FROM edr_airbags WHERE vehicle_id = ? AND event_id = ? ORDER BY deploy_ms, position",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|a| Ok(Airbag { position: a.try_get(0)?, deploy_ms: a.try_get(1)? }))
    .collect::<Result<Vec<_>, StoreError>>()?;
    let pre = sqlx::query(
        "SELECT t_ms, speed_kmh, accel_pedal_pct, brake_pedal, brake_pressure_bar, steering_angle_deg, \
         abs_active, esc_active, aeb_state, engine_rpm FROM edr_pre_crash \
         WHERE vehicle_id = ? AND event_id = ? ORDER BY t_ms",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|p| {
        Ok(PreCrashSample {
            t_ms: p.try_get(0)?,
            speed_kmh: p.try_get(1)?,
            accel_pedal_pct: p.try_get(2)?,
            brake_pedal: p.try_get(3)?,
            brake_pressure_bar: p.try_get(4)?,
            steering_angle_deg: p.try_get(5)?,
            abs_active: p.try_get(6)?,
            esc_active: p.try_get(7)?,
            aeb_state: parse_wire(p.try_get(8)?, AebState::parse, "aeb_state")?,
            engine_rpm: p.try_get(9)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let dv = sqlx::query(
        "SELECT t_ms, long_kmh, lat_kmh FROM edr_delta_v WHERE vehicle_id = ? AND event_id = ? ORDER BY t_ms",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|d| Ok(DeltaVSample { t_ms: d.try_get(0)?, long_kmh: d.try_get(1)?, lat_kmh: d.try_get(2)? }))
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(EdrRecord {
        event_id: r.try_get(0)?,
        t0_us: r.try_get(1)?,
        standard: r.try_get(2)?,
        trigger: r.try_get(3)?,
        locked: r.try_get(4)?,
        complete: r.try_get(5)?,
        ignition_cycle_crash: r.try_get(6)?,
        ignition_cycle_download: r.try_get(7)?,
        max_delta_v_long_kmh: r.try_get(8)?,
        time_max_delta_v_ms: r.try_get(9)?,
        max_delta_v_lat_kmh: r.try_get(10)?,
        belt_driver: parse_wire(r.try_get(11)?, BeltStatus::parse, "belt_driver")?,
        airbags,
        pre_crash: PreCrash {
            rate_hz: r.try_get(12)?,
            samples: pre,
        },
        delta_v: DeltaV {
            rate_hz: r.try_get(13)?,
            samples: dv,
        },
        extra: r.try_get(14)?,
    })
}

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
        outcome: &mut SampleBatchOutcome,
    ) -> Result<(), StoreError> {
        let by_vehicle = spans(rows, skipped.iter().copied());
        let mut held: HashMap<(VehicleId, i64), Sample> = HashMap::new();
        for (vehicle, (lo, hi)) in by_vehicle {
            let found = sqlx::query(&format!(
                "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = ? AND t_us BETWEEN ? AND ?"
            ))
            .bind(vehicle)
            .bind(lo)
            .bind(hi)
            .fetch_all(&mut *self.tx)
            .await?;
            for row in &found {
                held.insert((vehicle, row.try_get(1)?), sample_from_row(row)?);
            }
        }
        classify_against_held(rows, skipped, &held, outcome)
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
            "INSERT INTO vehicles (vin, model, model_year, market, timezone, edr_ecu, extra, created_us) \
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
    ) -> Result<SampleBatchOutcome, StoreError> {
        let skipped = {
            let mut handle = self.tx.lock_handle().await?;
            // SAFETY: the handle is locked for us until `handle` drops, and
            // the transaction opened on it stays open.
            unsafe { bulk::insert_samples(handle.as_raw_handle(), rows) }
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
            self.classify_skipped(rows, &skipped, &mut outcome).await?;
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
        sqlx::query(
            "INSERT INTO edr_records (vehicle_id, event_id, t0_us, standard, trigger_kind, locked, complete, \
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
        .execute(&mut *self.tx)
        .await?;
        for a in &r.airbags {
            sqlx::query("INSERT INTO edr_airbags (vehicle_id, event_id, position, deploy_ms) VALUES (?, ?, ?, ?)")
                .bind(vehicle)
                .bind(&r.event_id)
                .bind(&a.position)
                .bind(a.deploy_ms)
                .execute(&mut *self.tx)
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
            qb.build().execute(&mut *self.tx).await?;
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
            "SELECT event_type FROM events WHERE vehicle_id = ? AND event_id = ?",
        )
        .bind(vehicle)
        .bind(event_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        parse_wire(t, EventType::parse, "event_type")
    }

    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        append_audit_on(&mut self.tx, entry).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        for (&vehicle, &(lo, hi)) in &self.touched {
            browse::refresh_minutes(&mut self.tx, vehicle, lo, hi).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// Appends an entry chained to the last one; the caller holds the write lock.
async fn append_audit_on(
    conn: &mut sqlx::SqliteConnection,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let e = chained_entry(last, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at_us, actor, action, vin, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.seq)
    .bind(e.at_us)
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
