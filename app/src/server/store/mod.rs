//! The storage interface. Handlers, server functions and the CLI talk to a
//! `dyn Store`; only the backends (one per database) hold SQL.

pub mod backup;
pub mod migrate;
pub mod postgres;
pub(crate) mod rows;
pub mod scratch;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::domain::account::Role;
use crate::domain::chart::ChartChannel;
use crate::domain::export::{ExportFormat, ExportJobState};
use crate::domain::log_format::{EventType, Severity};
use crate::domain::records::{EdrRecord, Event, Sample, Vehicle};
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub type VehicleId = i64;
pub type AccountId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL `{0}`: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Engine(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Backup(String),
}

/// The database behind a store, for infrastructure that needs the pool
/// itself (the session store).
#[derive(Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Opens the store a `DATABASE_URL` names, creating and migrating it if needed.
pub async fn open(database_url: &str) -> Result<(Arc<dyn Store>, Pool), StoreError> {
    if database_url.starts_with("sqlite:") {
        let store = SqliteStore::open(database_url).await?;
        let pool = Pool::Sqlite(store.pool().clone());
        Ok((Arc::new(store), pool))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        let store = PgStore::open(database_url).await?;
        let pool = Pool::Postgres(store.pool().clone());
        Ok((Arc::new(store), pool))
    } else {
        Err(StoreError::UnsupportedUrl(database_url.to_string()))
    }
}

/// Of `migrator`'s migrations, how many are among the `applied` versions.
pub(crate) fn count_applied(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> (usize, usize) {
    let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    let done = known.iter().filter(|v| applied.contains(v)).count();
    (done, known.len())
}

/// What happened to one record written during an import.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Inserted,
    /// The same identity with the same values is already held.
    Duplicate,
    /// The same identity with different values is held; the held one is kept.
    Conflict {
        differences: String,
    },
}

/// What happened to a batch of samples.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SampleBatchOutcome {
    pub inserted: u64,
    pub duplicates: u64,
    /// (index in the batch, which channels differ)
    pub conflicts: Vec<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVehicle {
    pub id: VehicleId,
    pub vehicle: Vehicle,
}

/// A half-open time range in UTC microseconds: `from <= t < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from_us: i64,
    pub to_us: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        from_us: i64::MIN,
        to_us: i64::MAX,
    };
}

/// Value filters on telemetry (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleFilter {
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<crate::domain::log_format::AebState>,
    pub gear: Option<crate::domain::log_format::Gear>,
}

/// One keyset page request: samples strictly after (or, descending, before) `after_us`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRequest {
    pub descending: bool,
    pub after_us: Option<i64>,
    pub limit: u32,
}

/// The parts of `ranges` a keyset page still has to read: after (or,
/// descending, before) the cursor.
pub(crate) fn after_cursor(ranges: &[TimeRange], page: PageRequest) -> Vec<TimeRange> {
    ranges
        .iter()
        .filter_map(|r| {
            let r = match page.after_us {
                None => *r,
                Some(after) if page.descending => TimeRange {
                    from_us: r.from_us,
                    to_us: r.to_us.min(after),
                },
                Some(after) => TimeRange {
                    from_us: r.from_us.max(after.saturating_add(1)),
                    to_us: r.to_us,
                },
            };
            (r.from_us < r.to_us).then_some(r)
        })
        .collect()
}

/// Which events a list shows: any of `types` (all when empty), and `severity`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub types: Vec<EventType>,
    pub severity: Option<Severity>,
}

/// One keyset page of events, ordered by (time, id): strictly after (or,
/// descending, before) `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPageRequest {
    pub descending: bool,
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

/// A drive: samples with no gap longer than the split threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveSummary {
    /// First and last sample.
    pub first_us: i64,
    pub last_us: i64,
    pub samples: u64,
    pub max_speed_kmh: Option<f64>,
    /// From the odometer where recorded, else integrated from speed.
    pub distance_km: Option<f64>,
}

/// What `chart_rows` reads and how it folds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartRequest {
    /// Read the per-minute summaries of whole minutes (the caller aligns the
    /// range), not the samples.
    pub per_minute: bool,
    /// Fold rows into buckets `(origin_us, width_us)` in the database.
    pub buckets: Option<(i64, i64)>,
    /// At most this many rows.
    pub limit: u32,
}

/// One row of chart data: a sample (`n` = 1), a minute summary or a bucket, with the
/// (min, max) of each requested channel in order (`None`: not recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    pub t_us: i64,
    pub n: u64,
    pub values: Vec<Option<(f64, f64)>>,
}

/// How much of one data class is held for a vehicle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassHoldings {
    pub count: u64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
}

/// What is held for a vehicle, per data class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdings {
    pub samples: ClassHoldings,
    /// Samples carrying a position.
    pub location: ClassHoldings,
    pub events: ClassHoldings,
    pub edr_records: ClassHoldings,
    pub locked_edr_records: u64,
    /// Samples in the 30 minutes before a locked crash record (legal hold).
    pub held_samples: u64,
}

/// How far before a locked crash record the samples are under legal hold too.
pub const HOLD_BEFORE_CRASH_US: i64 = 30 * 60 * 1_000_000;

impl ClassHoldings {
    fn add(&mut self, other: &ClassHoldings) {
        self.count += other.count;
        self.first_us = match (self.first_us, other.first_us) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_us = match (self.last_us, other.last_us) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

impl Holdings {
    /// Adds another range's holdings (an owner may have several periods).
    pub fn add(&mut self, other: &Holdings) {
        self.samples.add(&other.samples);
        self.location.add(&other.location);
        self.events.add(&other.events);
        self.edr_records.add(&other.edr_records);
        self.locked_edr_records += other.locked_edr_records;
        self.held_samples += other.held_samples;
    }
}

/// An audit entry to append; the store chains it to the one before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor: String,
    pub action: String,
    pub vin: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    pub vin: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub account: String,
    pub password_hash: String,
    pub role: Role,
    pub session_epoch: i64,
}

/// A span of time in which one account owned one vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnershipPeriod {
    pub vehicle_id: VehicleId,
    pub vin: String,
    pub account_id: AccountId,
    pub from_us: i64,
    /// `None` while the period is open.
    pub to_us: Option<i64>,
}

impl OwnershipPeriod {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            from_us: self.from_us,
            to_us: self.to_us.unwrap_or(i64::MAX),
        }
    }
}

/// A case as stored (`vin` and the owner's name joined in).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: i64,
    pub case_no: String,
    pub vehicle_id: VehicleId,
    pub vin: String,
    pub owner_account_id: Option<AccountId>,
    pub owner_account: Option<String>,
    pub subject: String,
    pub purpose: String,
    pub status: CaseStatus,
    pub from_us: i64,
    pub to_us: i64,
    pub created_by: AccountId,
    pub created_us: i64,
}

/// A token that may push logs to `POST /api/v1/ingest`; its secret is
/// held only as a SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestToken {
    pub id: i64,
    pub name: String,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
}

/// A background export as it starts (see `export::jobs`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewExportJob {
    /// 128 random bits as hex: nobody can guess another's job.
    pub id: String,
    pub account: AccountId,
    pub vin: String,
    pub format: ExportFormat,
    pub rows_expected: u64,
    pub bytes_expected: u64,
    pub at_us: i64,
}

/// A background export as any portal server sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJobRecord {
    pub id: String,
    pub account: AccountId,
    pub vin: String,
    pub format: ExportFormat,
    /// As stored: a running job whose server stopped still says running.
    pub state: ExportJobState,
    pub rows_expected: u64,
    pub bytes_expected: u64,
    pub rows_written: u64,
    pub bytes_written: u64,
    /// Ready jobs: the file's name and exact size.
    pub filename: Option<String>,
    pub size: Option<u64>,
    /// The last sign of life of the server running it (its end, once ended).
    pub updated_us: i64,
}

/// How a background export ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportJobEnd {
    Ready {
        filename: String,
        size: u64,
        rows: u64,
        bytes: u64,
    },
    Failed,
}

impl ExportJobEnd {
    /// The job's columns as this end sets them: state, file name, size,
    /// rows and bytes written (`None` keeps what the heartbeat wrote).
    pub fn columns(
        &self,
    ) -> (
        ExportJobState,
        Option<&str>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    ) {
        match self {
            ExportJobEnd::Ready {
                filename,
                size,
                rows,
                bytes,
            } => (
                ExportJobState::Ready,
                Some(filename.as_str()),
                Some(*size as i64),
                Some(*rows as i64),
                Some(*bytes as i64),
            ),
            ExportJobEnd::Failed => (ExportJobState::Failed, None, None, None, None),
        }
    }
}

/// A case to open; the store gives it its number (`C-YYYY-NNNNNN`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub vehicle_id: VehicleId,
    pub owner_account_id: Option<AccountId>,
    pub subject: String,
    pub purpose: String,
    pub from_us: i64,
    pub to_us: i64,
    pub created_by: AccountId,
    pub created_us: i64,
}

/// A bundle exported to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseExport {
    pub case_id: i64,
    pub bundle_id: String,
    pub manifest_sha256: String,
    pub recipient: String,
    pub legal_basis: String,
    pub created_by: AccountId,
    pub created_us: i64,
    pub bundle: Vec<u8>,
}

/// A case's export as listed (without the bundle's bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseExportRecord {
    pub bundle_id: String,
    pub manifest_sha256: String,
    pub recipient: String,
    pub legal_basis: String,
    pub created_us: i64,
    pub size: u64,
}

/// What the throttle decided about one sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Counted as a failure until forgiven.
    Counted,
    /// A key is at its limit; its oldest counted failure was at `oldest_us`.
    Refused { oldest_us: i64 },
}

/// Why a claim code could not bind a vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// The account name is taken (sign-up only).
    AccountExists,
    /// No unused, unexpired code for that VIN matches.
    NoMatchingCode,
    /// The vehicle has a current owner: it must be transferred first.
    VehicleOwned,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts a write transaction for one import: everything in it lands or nothing does.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError>;

    async fn vehicle(&self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>;
    async fn vehicles(&self) -> Result<Vec<StoredVehicle>, StoreError>;
    /// What is held for a vehicle within `range`.
    async fn holdings(&self, vehicle: VehicleId, range: TimeRange) -> Result<Holdings, StoreError>;

    /// Samples in time order within `range`, at most `limit`.
    async fn samples(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        limit: u32,
    ) -> Result<Vec<Sample>, StoreError>;
    /// One page of samples within any of `ranges`, filtered, in time order.
    /// Keyset pagination: a page never shifts when data is imported meanwhile.
    async fn sample_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
        page: PageRequest,
    ) -> Result<Vec<Sample>, StoreError>;
    /// How many samples `sample_page` would walk through in all.
    async fn sample_count(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
    ) -> Result<u64, StoreError>;
    async fn events(&self, vehicle: VehicleId, range: TimeRange) -> Result<Vec<Event>, StoreError>;
    async fn edr_records(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
    ) -> Result<Vec<EdrRecord>, StoreError>;
    /// One page of events within any of `ranges`, filtered.
    async fn event_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &EventFilter,
        page: &EventPageRequest,
    ) -> Result<Vec<Event>, StoreError>;
    async fn event(&self, vehicle: VehicleId, event_id: &str) -> Result<Option<Event>, StoreError>;
    async fn edr_record(
        &self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EdrRecord>, StoreError>;
    /// The first `limit` drives starting within `range`, split where samples
    /// are more than `gap_us` apart.
    async fn drives(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        gap_us: i64,
        limit: u32,
    ) -> Result<Vec<DriveSummary>, StoreError>;
    /// Chart data within `range`, in time order.
    async fn chart_rows(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        channels: &[ChartChannel],
        request: ChartRequest,
    ) -> Result<Vec<ChartRow>, StoreError>;
    /// Intervals between consecutive samples among the first `max_samples`
    /// of `range`: (interval in µs, how often), most frequent first.
    async fn sample_intervals(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_samples: u32,
    ) -> Result<Vec<(i64, u64)>, StoreError>;

    async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>, StoreError>;
    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError>;
    /// Creates an account; `None` when the name is taken.
    async fn create_account(
        &self,
        account: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<Option<AccountId>, StoreError>;
    /// Creates an owner account and binds a vehicle with a claim code, all or nothing.
    async fn sign_up_with_claim(
        &self,
        account: &str,
        password_hash: &str,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<(AccountId, OwnershipPeriod), ClaimRefusal>, StoreError>;
    /// Binds another vehicle to an existing account with a claim code.
    async fn redeem_claim(
        &self,
        account: AccountId,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError>;
    /// Stores a new password hash and ends every session of the account
    /// (returns the new session epoch, for the session that stays).
    async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
    ) -> Result<i64, StoreError>;
    async fn ownership_of_account(
        &self,
        account: AccountId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError>;
    async fn ownership_of_vehicle(
        &self,
        vehicle: VehicleId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError>;
    async fn create_claim_code(
        &self,
        vehicle: VehicleId,
        code_hash: &str,
        since_us: i64,
        expires_us: i64,
    ) -> Result<(), StoreError>;
    /// Ends the vehicle's open ownership period at `at_us`; `None` when none is open.
    async fn end_ownership(
        &self,
        vehicle: VehicleId,
        at_us: i64,
    ) -> Result<Option<OwnershipPeriod>, StoreError>;

    /// Decides and counts one sign-in attempt in one transaction, serialised
    /// per key across every portal server: refused when a key already holds
    /// its limit of failures since `since_us`; otherwise the attempt is
    /// recorded as a failure of every key at `at_us` (so attempts racing
    /// each other all count) until [`Store::forgive_sign_in_attempt`] takes
    /// it back.
    async fn take_sign_in_attempt(
        &self,
        limits: &[(String, u32)],
        since_us: i64,
        at_us: i64,
    ) -> Result<AttemptVerdict, StoreError>;
    /// Removes the one failure `take_sign_in_attempt` recorded for `key` at `at_us`.
    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError>;
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError>;

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;

    /// Audit entries with `seq > after`, oldest first.
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// A VIN's audit entries with one of `actions`, newest first, `seq < before`.
    async fn audit_for_vin(
        &self,
        vin: &str,
        actions: &[&str],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Staff second factor: the account's TOTP secret (base32) is set.
    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError>;
    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError>;
    /// Records that `step` was used; false when it (or a later one) already was.
    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError>;

    async fn create_case(&self, case: &NewCase) -> Result<CaseRecord, StoreError>;
    async fn case_by_no(&self, case_no: &str) -> Result<Option<CaseRecord>, StoreError>;
    /// Cases newest first, of one vehicle and/or with one status.
    async fn cases(
        &self,
        vehicle: Option<VehicleId>,
        status: Option<CaseStatus>,
        limit: u32,
    ) -> Result<Vec<CaseRecord>, StoreError>;
    /// Cases about an owner account, newest first.
    async fn cases_of_owner(&self, account: AccountId) -> Result<Vec<CaseRecord>, StoreError>;
    async fn set_case_status(&self, case_id: i64, status: CaseStatus) -> Result<(), StoreError>;
    async fn attach_case_export(&self, export: &NewCaseExport) -> Result<(), StoreError>;
    async fn case_exports(&self, case_id: i64) -> Result<Vec<CaseExportRecord>, StoreError>;
    async fn case_export_bundle(
        &self,
        case_id: i64,
        bundle_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Adds a live ingest token; false when `name` already has one.
    async fn create_ingest_token(
        &self,
        name: &str,
        token_sha256: &str,
        at_us: i64,
    ) -> Result<bool, StoreError>;
    /// The live (not revoked) token with this hash.
    async fn live_ingest_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<IngestToken>, StoreError>;
    /// Ends the live token named `name`; false when there is none.
    async fn revoke_ingest_token(&self, name: &str, at_us: i64) -> Result<bool, StoreError>;
    /// Every token, live and revoked, oldest first.
    async fn ingest_tokens(&self) -> Result<Vec<IngestToken>, StoreError>;

    /// Adds a running job unless its account already runs `max_running`
    /// jobs that showed life since `alive_since_us`; false when it does.
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        max_running: u32,
        alive_since_us: i64,
    ) -> Result<bool, StoreError>;
    /// A running job's progress, and its sign of life.
    async fn export_job_progress(
        &self,
        id: &str,
        rows: u64,
        bytes: u64,
        at_us: i64,
    ) -> Result<(), StoreError>;
    /// Part `seq` (from 0) of a job's file.
    async fn put_export_job_part(&self, id: &str, seq: u32, data: &[u8]) -> Result<(), StoreError>;
    async fn end_export_job(
        &self,
        id: &str,
        end: &ExportJobEnd,
        at_us: i64,
    ) -> Result<(), StoreError>;
    async fn export_job(&self, id: &str) -> Result<Option<ExportJobRecord>, StoreError>;
    async fn export_job_part(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError>;
    /// Deletes jobs (and their files) with no sign of life since `before_us`.
    async fn expire_export_jobs(&self, before_us: i64) -> Result<u64, StoreError>;

    /// The database answers: of the migrations this build knows, how many
    /// are applied (applied, known). Ready when they are equal.
    async fn migration_status(&self) -> Result<(usize, usize), StoreError>;

    /// True when no vehicle is held (a fresh install).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Closes the pool, flushing the WAL.
    async fn close(&self);
}

/// One import's write transaction. Dropping it without `commit` rolls back.
#[async_trait]
pub trait ImportTx: Send {
    async fn vehicle(&mut self, vin: &Vin) -> Result<Option<StoredVehicle>, StoreError>;
    async fn put_vehicle(
        &mut self,
        vehicle: &Vehicle,
    ) -> Result<(VehicleId, WriteOutcome), StoreError>;
    async fn put_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
    ) -> Result<SampleBatchOutcome, StoreError>;
    async fn put_event(
        &mut self,
        vehicle: VehicleId,
        event: &Event,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError>;
    async fn put_edr(
        &mut self,
        vehicle: VehicleId,
        edr: &EdrRecord,
        digest: &str,
    ) -> Result<WriteOutcome, StoreError>;
    async fn event_type(
        &mut self,
        vehicle: VehicleId,
        event_id: &str,
    ) -> Result<Option<EventType>, StoreError>;
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}
