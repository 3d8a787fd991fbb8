//! PostgreSQL backend: for several portal servers on one shared database
//! (or a Citus cluster: see docs/scaling.md). Migrations from
//! `migrations/postgres`; times are timestamptz; imports go in by binary COPY.

mod accounts;
mod browse;
mod copy;
mod copy_out;
mod import;
mod jobs;
mod minutes;
mod sample_copy;
pub(crate) mod time;
mod tokens;

pub use copy::{CopyWriter, Field};
pub use time::Ts;

use super::rows::{parse_wire, AccountKey};
use super::{
    AccountId, AccountRecord, AttemptVerdict, AuditEntry, CaseExportRecord, CaseRecord,
    ChartRequest, ChartRow, ClaimRefusal, ClassHoldings, DriveSummary, EventFilter,
    EventPageRequest, ExportJobEnd, ExportJobRecord, Holdings, ImportTx, IngestToken,
    NewAuditEntry, NewCase, NewCaseExport, NewExportJob, OwnershipPeriod, PageRequest,
    SampleFilter, Store, StoreError, StoredVehicle, TimeRange, VehicleId,
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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

pub(crate) const SAMPLE_COLUMNS: &str = "vehicle_id, t, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra";

const VEHICLE_COLUMNS: &str = "id, vin, model, model_year, market, timezone, edr_ecu, extra";

const EVENT_COLUMNS: &str = "event_id, t, event_type, severity, trigger_metric, trigger_value, \
    trigger_threshold, note, extra";

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to and migrates the database at `url` (which must exist).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("portal");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        // Several servers may start at once: sqlx's migrator takes an
        // advisory lock, so exactly one of them applies what is missing.
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn time(row: &PgRow, i: usize) -> Result<i64, StoreError> {
    Ok(row.try_get::<Ts, _>(i)?.0)
}

fn opt_time(row: &PgRow, i: usize) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<Ts>, _>(i)?.map(|t| t.0))
}

/// Reads a sample from a row selected with `SAMPLE_COLUMNS` (vehicle_id first).
pub(crate) fn sample_from_row(row: &PgRow) -> Result<Sample, StoreError> {
    Ok(Sample {
        t_us: time(row, 1)?,
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

fn vehicle_from_row(row: &PgRow) -> Result<StoredVehicle, StoreError> {
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

pub(crate) fn event_from_row(row: &PgRow) -> Result<Event, StoreError> {
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
    let event_type: String = row.try_get(2)?;
    let severity: String = row.try_get(3)?;
    Ok(Event {
        id: row.try_get(0)?,
        t_us: time(row, 1)?,
        event_type: EventType::parse(&event_type)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event type {event_type}")))?,
        severity: Severity::parse(&severity)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown severity {severity}")))?,
        trigger,
        note: row.try_get(7)?,
        extra: row.try_get(8)?,
    })
}

/// ` AND (t >= a AND t < b OR …)` for the permitted ranges.
pub(crate) fn push_ranges(q: &mut QueryBuilder<'_, Postgres>, column: &str, ranges: &[TimeRange]) {
    q.push(" AND (");
    for (i, r) in ranges.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(format!("({column} >= "))
            .push_bind(Ts(r.from_us))
            .push(format!(" AND {column} < "))
            .push_bind(Ts(r.to_us))
            .push(")");
    }
    q.push(")");
}

pub(crate) async fn vehicle_by_vin<'e, E>(
    executor: E,
    vin: &Vin,
) -> Result<Option<StoredVehicle>, StoreError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE vin = $1"
    ))
    .bind(vin.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(vehicle_from_row).transpose()
}

#[async_trait]
impl Store for PgStore {
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        Ok(Box::new(import::PgImportTx::begin(&self.pool).await?))
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
        let class = |row: &PgRow| -> Result<ClassHoldings, StoreError> {
            Ok(ClassHoldings {
                count: row.try_get::<i64, _>(0)? as u64,
                first_us: opt_time(row, 1)?,
                last_us: opt_time(row, 2)?,
            })
        };
        let (from, to) = (Ts(range.from_us), Ts(range.to_us));
        let samples = sqlx::query(
            "SELECT count(*), min(t), max(t), count(lat), \
             min(t) FILTER (WHERE lat IS NOT NULL), max(t) FILTER (WHERE lat IS NOT NULL) \
             FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let events = sqlx::query(
            "SELECT count(*), min(t), max(t) FROM events WHERE vehicle_id = $1 AND t >= $2 AND t < $3",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let edr = sqlx::query(
            "SELECT count(*), min(t0), max(t0), count(*) FILTER (WHERE locked) FROM edr_records \
             WHERE vehicle_id = $1 AND t0 >= $2 AND t0 < $3",
        )
        .bind(vehicle)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        // Samples under legal hold: the 30 minutes before each locked crash record.
        let held_samples: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT s.t) FROM edr_records e JOIN samples s \
             ON s.vehicle_id = e.vehicle_id AND s.t >= e.t0 - $1::bigint * interval '1 microsecond' \
             AND s.t <= e.t0 \
             WHERE e.vehicle_id = $2 AND e.locked AND s.t >= $3 AND s.t < $4",
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
                first_us: opt_time(&samples, 4)?,
                last_us: opt_time(&samples, 5)?,
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
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3 \
             ORDER BY t LIMIT $4"
        ))
        .bind(vehicle)
        .bind(Ts(range.from_us))
        .bind(Ts(range.to_us))
        .bind(i64::from(limit))
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
        // The cursor narrows the ranges themselves: each page's index scan
        // starts where the last one ended.
        let ranges = super::after_cursor(ranges, page);
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        copy_out::sample_page(&self.pool, vehicle, &ranges, filter, page).await
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
        let sql = format!(
            "SELECT count(*) FROM samples {}",
            copy_out::sample_where(vehicle, ranges, filter)
        );
        let n: i64 = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

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
        rows.iter().map(event_from_row).collect()
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
    ) -> Result<Vec<Event>, StoreError> {
        browse::event_page(&self.pool, vehicle, ranges, filter, page).await
    }

    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE vehicle_id = $1 AND event_id = $2"
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
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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
            "UPDATE accounts SET password_hash = $1, session_epoch = session_epoch + 1 \
             WHERE id = $2 RETURNING session_epoch",
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
        let mut tx = self.pool.begin().await?;
        // One attempt per key at a time, on every server: a transaction lock
        // per key, taken in one order so two attempts never wait on each other.
        let mut keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        for (key, limit) in limits {
            let row = sqlx::query(
                "SELECT count(*), min(at) FROM sign_in_failures WHERE key = $1 AND at >= $2",
            )
            .bind(key)
            .bind(Ts(since_us))
            .fetch_one(&mut *tx)
            .await?;
            if row.try_get::<i64, _>(0)? >= *limit as i64 {
                return Ok(AttemptVerdict::Refused {
                    oldest_us: opt_time(&row, 1)?.unwrap_or(at_us),
                });
            }
        }
        let keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
        sqlx::query("INSERT INTO sign_in_failures (key, at) SELECT unnest($1::text[]), $2")
            .bind(&keys)
            .bind(Ts(at_us))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptVerdict::Counted)
    }

    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE ctid IN \
             (SELECT ctid FROM sign_in_failures WHERE key = $1 AND at = $2 LIMIT 1)",
        )
        .bind(key)
        .bind(Ts(at_us))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut tx = self.pool.begin().await?;
        let appended = accounts::append_audit_on(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(appended)
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            accounts::AUDIT_COLUMNS
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(accounts::audit_from_row).collect()
    }

    async fn audit_for_vin(
        &self,
        vin: &str,
        actions: &[&str],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let actions: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE vin = $1 AND ($2::bigint IS NULL OR seq < $2) \
             AND action = ANY($3) ORDER BY seq DESC LIMIT $4",
            accounts::AUDIT_COLUMNS
        ))
        .bind(vin)
        .bind(before)
        .bind(&actions)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(accounts::audit_from_row).collect()
    }

    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET totp_secret = $1, totp_last_step = NULL WHERE id = $2")
            .bind(secret)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT totp_secret FROM accounts WHERE id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError> {
        // One statement: two sign-ins racing with the same code cannot both win.
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(account)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_case(&self, case: &NewCase) -> Result<CaseRecord, StoreError> {
        accounts::create_case(&self.pool, case).await
    }

    async fn case_by_no(&self, case_no: &str) -> Result<Option<CaseRecord>, StoreError> {
        accounts::case_by_no(&self.pool, case_no).await
    }

    async fn cases(
        &self,
        vehicle: Option<VehicleId>,
        status: Option<CaseStatus>,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        accounts::cases(&self.pool, vehicle, None, status, limit).await
    }

    async fn cases_of_owner(&self, account: AccountId) -> Result<Vec<CaseRecord>, StoreError> {
        accounts::cases(&self.pool, None, Some(account), None, 200).await
    }

    async fn set_case_status(&self, case_id: i64, status: CaseStatus) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(case_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn attach_case_export(&self, x: &NewCaseExport) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO case_exports (bundle_id, case_id, manifest_sha256, recipient, legal_basis, \
             created_by, created_at, size, bundle) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&x.bundle_id)
        .bind(x.case_id)
        .bind(&x.manifest_sha256)
        .bind(&x.recipient)
        .bind(&x.legal_basis)
        .bind(x.created_by)
        .bind(Ts(x.created_us))
        .bind(x.bundle.len() as i64)
        .bind(&x.bundle)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn case_exports(&self, case_id: i64) -> Result<Vec<CaseExportRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT bundle_id, manifest_sha256, recipient, legal_basis, created_at, size \
             FROM case_exports WHERE case_id = $1 ORDER BY created_at DESC",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseExportRecord {
                    bundle_id: r.try_get(0)?,
                    manifest_sha256: r.try_get(1)?,
                    recipient: r.try_get(2)?,
                    legal_basis: r.try_get(3)?,
                    created_us: time(r, 4)?,
                    size: r.try_get::<i64, _>(5)? as u64,
                })
            })
            .collect()
    }

    async fn case_export_bundle(
        &self,
        case_id: i64,
        bundle_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT bundle FROM case_exports WHERE case_id = $1 AND bundle_id = $2",
        )
        .bind(case_id)
        .bind(bundle_id)
        .fetch_optional(&self.pool)
        .await?)
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
        let any: Option<i32> = sqlx::query_scalar("SELECT 1 FROM vehicles LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_none())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

async fn load_edr(
    conn: &mut PgConnection,
    vehicle: VehicleId,
    event_id: &str,
) -> Result<EdrRecord, StoreError> {
    let r = sqlx::query(
        "SELECT event_id, t0, standard, trigger_kind, locked, complete, ignition_cycle_crash, \
         ignition_cycle_download, max_delta_v_long_kmh, time_max_delta_v_ms, max_delta_v_lat_kmh, \
         belt_driver, pre_crash_rate_hz, delta_v_rate_hz, extra \
         FROM edr_records WHERE vehicle_id = $1 AND event_id = $2",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_one(&mut *conn)
    .await?;
    let airbags = sqlx::query(
        "SELECT position, deploy_ms FROM edr_airbags WHERE vehicle_id = $1 AND event_id = $2 \
         ORDER BY deploy_ms, position",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|a| {
        Ok(Airbag {
            position: a.try_get(0)?,
            deploy_ms: a.try_get(1)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let pre = sqlx::query(
        "SELECT t_ms, speed_kmh, accel_pedal_pct, brake_pedal, brake_pressure_bar, steering_angle_deg, \
         abs_active, esc_active, aeb_state, engine_rpm FROM edr_pre_crash \
         WHERE vehicle_id = $1 AND event_id = $2 ORDER BY t_ms",
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
        "SELECT t_ms, long_kmh, lat_kmh FROM edr_delta_v WHERE vehicle_id = $1 AND event_id = $2 \
         ORDER BY t_ms",
    )
    .bind(vehicle)
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|d| {
        Ok(DeltaVSample {
            t_ms: d.try_get(0)?,
            long_kmh: d.try_get(1)?,
            lat_kmh: d.try_get(2)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(EdrRecord {
        event_id: r.try_get(0)?,
        t0_us: time(&r, 1)?,
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
