//! Reading stored records, once for both backends. The two schemas name
//! every column alike, so each record has one column list and one decoder
//! that reads its row by column name; a backend only says how it reads a
//! value of each kind (`sqlite/rows.rs`, `postgres/rows.rs`: times are
//! integer microseconds in SQLite and timestamptz in PostgreSQL). A stored
//! value the record cannot hold (an unknown enum name, a bad VIN) is
//! reported as corruption, never replaced by a default.

use super::rows::parse_wire;
use super::{
    AccountRecord, AuditEntry, CaseExportRecord, CaseRecord, ClassHoldings, ExportJobRecord,
    Holdings, IngestToken, OwnershipPeriod, StoreError, StoredCheckpoint, StoredCosignature,
    StoredVehicle,
};
use crate::domain::account::Role;
use crate::domain::export::{ExportFormat, ExportJobState};
use crate::domain::log_format::{
    AebState, Airbag, BeltStatus, DeltaV, DeltaVSample, EventType, PreCrash, PreCrashSample,
    Severity, Trigger,
};
use crate::domain::records::{EdrRecord, Event, Vehicle};
use crate::domain::staff::CaseStatus;
use crate::domain::Vin;
use crate::server::seal::Hash;

/// A result row of either backend, read by column name.
pub(crate) trait StoredRow {
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn int32(&self, column: &str) -> Result<i32, StoreError>;
    fn opt_int32(&self, column: &str) -> Result<Option<i32>, StoreError>;
    fn real(&self, column: &str) -> Result<f64, StoreError>;
    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError>;
    fn boolean(&self, column: &str) -> Result<bool, StoreError>;
    fn opt_bool(&self, column: &str) -> Result<Option<bool>, StoreError>;
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError>;
    /// Microseconds since the epoch.
    fn time(&self, column: &str) -> Result<i64, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<i64>, StoreError>;

    /// A column holding one of an enum's wire names.
    fn wire<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError>
    where
        Self: Sized,
    {
        let value = self.text(column)?;
        parse(&value)
            .ok_or_else(|| StoreError::Corrupt(format!("{column} holds unknown value `{value}`")))
    }

    /// A nullable column holding one of an enum's wire names.
    fn opt_wire<T>(
        &self,
        column: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError>
    where
        Self: Sized,
    {
        parse_wire(self.opt_text(column)?, parse, column)
    }
}

/// The methods of `StoredRow` that read a value as the backend's driver
/// decodes it; each backend's `rows.rs` adds only how it reads a time.
macro_rules! driver_reads {
    ($($method:ident -> $ty:ty),+ $(,)?) => {
        $(fn $method(&self, column: &str) -> Result<$ty, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        })+
    };
}
pub(crate) use driver_reads;

/// Every `StoredRow` read but the times, for `driver_reads!`.
macro_rules! plain_reads {
    () => {
        $crate::server::store::decode::driver_reads!(
            int -> i64,
            opt_int -> Option<i64>,
            int32 -> i32,
            opt_int32 -> Option<i32>,
            real -> f64,
            opt_real -> Option<f64>,
            boolean -> bool,
            opt_bool -> Option<bool>,
            text -> String,
            opt_text -> Option<String>,
            bytes -> Vec<u8>,
        );
    };
}
pub(crate) use plain_reads;

/// A count or size, stored signed.
fn unsigned(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} is negative: {value}")))
}

/// A SHA-256 hash column (the transparency log's).
pub(crate) fn tree_hash(row: &impl StoredRow, column: &str) -> Result<Hash, StoreError> {
    row.bytes(column)?
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{column} is not a 32-byte hash")))
}

pub(crate) const CHECKPOINT_SELECT: &str =
    "SELECT size, root, note, signed_at FROM tlog_checkpoints";

pub(crate) fn checkpoint(row: &impl StoredRow) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: unsigned(row.int("size")?, "size")?,
        root: tree_hash(row, "root")?,
        note: row.text("note")?,
        signed_at_us: row.time("signed_at")?,
    })
}

pub(crate) const COSIGNATURE_SELECT: &str =
    "SELECT size, witness, key_id, line, cosigned_at, received_at FROM tlog_cosignatures";

pub(crate) fn cosignature(row: &impl StoredRow) -> Result<StoredCosignature, StoreError> {
    Ok(StoredCosignature {
        size: unsigned(row.int("size")?, "size")?,
        witness: row.text("witness")?,
        key_id: row.text("key_id")?,
        line: row.text("line")?,
        cosigned_at_us: row.time("cosigned_at")?,
        received_at_us: row.time("received_at")?,
    })
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, account, password_hash, role, session_epoch";

pub(crate) fn account(row: &impl StoredRow) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        id: row.int("id")?,
        account: row.text("account")?,
        password_hash: row.text("password_hash")?,
        role: row.wire("role", Role::parse)?,
        session_epoch: row.int("session_epoch")?,
    })
}

pub(crate) const PERIOD_SELECT: &str = "SELECT p.vehicle_id, v.vin, p.account_id, p.from_at, \
    p.to_at FROM ownership_periods p JOIN vehicles v ON v.id = p.vehicle_id";

pub(crate) fn period(row: &impl StoredRow) -> Result<OwnershipPeriod, StoreError> {
    Ok(OwnershipPeriod {
        vehicle_id: row.int("vehicle_id")?,
        vin: row.text("vin")?,
        account_id: row.int("account_id")?,
        from_us: row.time("from_at")?,
        to_us: row.opt_time("to_at")?,
    })
}

pub(crate) const AUDIT_COLUMNS: &str = "seq, at, actor, action, vin, details, nonce, leaf";

pub(crate) fn audit_entry(row: &impl StoredRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.int("seq")?,
        at_us: row.time("at")?,
        actor: row.text("actor")?,
        action: row.text("action")?,
        vin: row.opt_text("vin")?,
        details: row.text("details")?,
        nonce: row.text("nonce")?,
        leaf: row.opt_int("leaf")?,
    })
}

pub(crate) const CASE_SELECT: &str = "SELECT c.id, c.case_no, c.vehicle_id, v.vin, \
    c.owner_account_id, a.account, c.subject, c.purpose, c.status, c.from_at, c.to_at, \
    c.created_by, c.created_at \
    FROM cases c JOIN vehicles v ON v.id = c.vehicle_id \
    LEFT JOIN accounts a ON a.id = c.owner_account_id";

pub(crate) fn case(row: &impl StoredRow) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        id: row.int("id")?,
        case_no: row.text("case_no")?,
        vehicle_id: row.int("vehicle_id")?,
        vin: row.text("vin")?,
        owner_account_id: row.opt_int("owner_account_id")?,
        owner_account: row.opt_text("account")?,
        subject: row.text("subject")?,
        purpose: row.text("purpose")?,
        status: row.wire("status", CaseStatus::parse)?,
        from_us: row.time("from_at")?,
        to_us: row.time("to_at")?,
        created_by: row.int("created_by")?,
        created_us: row.time("created_at")?,
    })
}

pub(crate) const VEHICLE_COLUMNS: &str =
    "id, vin, model, model_year, market, timezone, edr_ecu, extra";

pub(crate) fn vehicle(row: &impl StoredRow) -> Result<StoredVehicle, StoreError> {
    let vin = row.text("vin")?;
    Ok(StoredVehicle {
        id: row.int("id")?,
        vehicle: Vehicle {
            vin: Vin::parse(&vin)
                .map_err(|e| StoreError::Corrupt(format!("stored VIN {vin}: {e}")))?,
            model: row.opt_text("model")?,
            model_year: row.opt_int32("model_year")?,
            market: row.opt_text("market")?,
            timezone: row.text("timezone")?,
            edr_ecu: row.opt_text("edr_ecu")?,
            extra: row.opt_text("extra")?,
        },
    })
}

pub(crate) const EVENT_COLUMNS: &str = "event_id, t, event_type, severity, trigger_metric, \
    trigger_value, trigger_threshold, note, extra";

/// [`EVENT_COLUMNS`] and the key id of the seal covering the event.
pub(crate) const PAGED_EVENT_COLUMNS: &str = "event_id, t, event_type, severity, trigger_metric, \
    trigger_value, trigger_threshold, note, extra, \
    (SELECT se.key_id FROM seals se WHERE se.vehicle_id = events.vehicle_id \
     AND se.id = events.seal_id) AS sealed_by";

pub(crate) fn paged_event(row: &impl StoredRow) -> Result<super::PagedEvent, StoreError> {
    Ok(super::PagedEvent {
        event: event(row)?,
        sealed_by: row.opt_text("sealed_by")?,
    })
}

pub(crate) fn event(row: &impl StoredRow) -> Result<Event, StoreError> {
    let trigger = match (
        row.opt_text("trigger_metric")?,
        row.opt_real("trigger_value")?,
        row.opt_real("trigger_threshold")?,
    ) {
        (Some(metric), Some(value), Some(threshold)) => Some(Trigger {
            metric,
            value,
            threshold,
        }),
        _ => None,
    };
    Ok(Event {
        id: row.text("event_id")?,
        t_us: row.time("t")?,
        event_type: row.wire("event_type", EventType::parse)?,
        severity: row.wire("severity", Severity::parse)?,
        trigger,
        note: row.opt_text("note")?,
        extra: row.opt_text("extra")?,
    })
}

pub(crate) const EDR_COLUMNS: &str = "event_id, t0, standard, trigger_kind, locked, complete, \
    ignition_cycle_crash, ignition_cycle_download, max_delta_v_long_kmh, time_max_delta_v_ms, \
    max_delta_v_lat_kmh, belt_driver, pre_crash_rate_hz, delta_v_rate_hz, extra";

/// The four reads of one crash record: the record, then its airbags (by
/// deployment), pre-crash samples and delta-V samples (by time). `vehicle`
/// and `event` are the backend's placeholders for the two keys.
pub(crate) fn edr_reads(vehicle: &str, event: &str) -> [String; 4] {
    let key = format!("WHERE vehicle_id = {vehicle} AND event_id = {event}");
    [
        format!("SELECT {EDR_COLUMNS} FROM edr_records {key}"),
        format!("SELECT position, deploy_ms FROM edr_airbags {key} ORDER BY deploy_ms, position"),
        format!(
            "SELECT t_ms, speed_kmh, accel_pedal_pct, brake_pedal, brake_pressure_bar, \
             steering_angle_deg, abs_active, esc_active, aeb_state, engine_rpm \
             FROM edr_pre_crash {key} ORDER BY t_ms"
        ),
        format!("SELECT t_ms, long_kmh, lat_kmh FROM edr_delta_v {key} ORDER BY t_ms"),
    ]
}

/// A crash record from the rows of its four reads (`edr_reads`).
pub(crate) fn edr_airbag(a: &impl StoredRow) -> Result<Airbag, StoreError> {
    Ok(Airbag {
        position: a.text("position")?,
        deploy_ms: a.real("deploy_ms")?,
    })
}

pub(crate) fn edr_pre_crash(p: &impl StoredRow) -> Result<PreCrashSample, StoreError> {
    Ok(PreCrashSample {
        t_ms: p.int32("t_ms")?,
        speed_kmh: p.opt_real("speed_kmh")?,
        accel_pedal_pct: p.opt_real("accel_pedal_pct")?,
        brake_pedal: p.opt_bool("brake_pedal")?,
        brake_pressure_bar: p.opt_real("brake_pressure_bar")?,
        steering_angle_deg: p.opt_real("steering_angle_deg")?,
        abs_active: p.opt_bool("abs_active")?,
        esc_active: p.opt_bool("esc_active")?,
        aeb_state: p.opt_wire("aeb_state", AebState::parse)?,
        engine_rpm: p.opt_real("engine_rpm")?,
    })
}

pub(crate) fn edr_delta_v(d: &impl StoredRow) -> Result<DeltaVSample, StoreError> {
    Ok(DeltaVSample {
        t_ms: d.int32("t_ms")?,
        long_kmh: d.opt_real("long_kmh")?,
        lat_kmh: d.opt_real("lat_kmh")?,
    })
}

/// A crash record from its row (the first of `edr_reads`) and its decoded
/// children (the other three).
pub(crate) fn edr_record(
    record: &impl StoredRow,
    airbags: Vec<Airbag>,
    pre_crash: Vec<PreCrashSample>,
    delta_v: Vec<DeltaVSample>,
) -> Result<EdrRecord, StoreError> {
    Ok(EdrRecord {
        event_id: record.text("event_id")?,
        t0_us: record.time("t0")?,
        standard: record.opt_text("standard")?,
        trigger: record.opt_text("trigger_kind")?,
        locked: record.boolean("locked")?,
        complete: record.boolean("complete")?,
        ignition_cycle_crash: record.opt_int("ignition_cycle_crash")?,
        ignition_cycle_download: record.opt_int("ignition_cycle_download")?,
        max_delta_v_long_kmh: record.opt_real("max_delta_v_long_kmh")?,
        time_max_delta_v_ms: record.opt_real("time_max_delta_v_ms")?,
        max_delta_v_lat_kmh: record.opt_real("max_delta_v_lat_kmh")?,
        belt_driver: record.opt_wire("belt_driver", BeltStatus::parse)?,
        airbags,
        pre_crash: PreCrash {
            rate_hz: record.real("pre_crash_rate_hz")?,
            samples: pre_crash,
        },
        delta_v: DeltaV {
            rate_hz: record.real("delta_v_rate_hz")?,
            samples: delta_v,
        },
        extra: record.opt_text("extra")?,
    })
}

pub(crate) const CASE_EXPORT_COLUMNS: &str =
    "bundle_id, manifest_sha256, recipient, legal_basis, created_at, size";

pub(crate) fn case_export(row: &impl StoredRow) -> Result<CaseExportRecord, StoreError> {
    Ok(CaseExportRecord {
        bundle_id: row.text("bundle_id")?,
        manifest_sha256: row.text("manifest_sha256")?,
        recipient: row.text("recipient")?,
        legal_basis: row.text("legal_basis")?,
        created_us: row.time("created_at")?,
        size: unsigned(row.int("size")?, "size")?,
    })
}

/// The three counting reads of `holdings` (samples, events, crash
/// records), each over one vehicle and a range given by the backend's three
/// placeholders. Aggregate FILTER clauses read alike in both dialects.
pub(crate) fn holdings_reads(vehicle: &str, from: &str, to: &str) -> [String; 3] {
    let span = |t: &str| {
        format!(
            "count(*) AS n, count(seal_id) AS sealed_n, min({t}) AS first_t, max({t}) AS last_t"
        )
    };
    let range = |t: &str| format!("WHERE vehicle_id = {vehicle} AND {t} >= {from} AND {t} < {to}");
    [
        format!(
            "SELECT {}, count(lat) AS located_n, count(lat) FILTER (WHERE seal_id IS NOT NULL) AS located_sealed_n, \
             min(t) FILTER (WHERE lat IS NOT NULL) AS located_first, \
             max(t) FILTER (WHERE lat IS NOT NULL) AS located_last FROM samples {}",
            span("t"),
            range("t")
        ),
        format!("SELECT {} FROM events {}", span("t"), range("t")),
        format!(
            "SELECT {}, count(*) FILTER (WHERE locked) AS locked_n FROM edr_records {}",
            span("t0"),
            range("t0")
        ),
    ]
}

/// What is held, from the rows of `holdings_reads` and the count of samples
/// under legal hold.
pub(crate) fn holdings<R: StoredRow>(
    samples: &R,
    events: &R,
    edr: &R,
    held_samples: i64,
) -> Result<Holdings, StoreError> {
    let class =
        |row: &R, [n, sealed, first, last]: [&str; 4]| -> Result<ClassHoldings, StoreError> {
            Ok(ClassHoldings {
                count: unsigned(row.int(n)?, n)?,
                sealed: unsigned(row.int(sealed)?, sealed)?,
                first_us: row.opt_time(first)?,
                last_us: row.opt_time(last)?,
            })
        };
    let span = ["n", "sealed_n", "first_t", "last_t"];
    Ok(Holdings {
        samples: class(samples, span)?,
        location: class(
            samples,
            [
                "located_n",
                "located_sealed_n",
                "located_first",
                "located_last",
            ],
        )?,
        events: class(events, span)?,
        edr_records: class(edr, span)?,
        locked_edr_records: unsigned(edr.int("locked_n")?, "locked_n")?,
        held_samples: unsigned(held_samples, "held samples")?,
    })
}

pub(crate) const TOKEN_COLUMNS: &str = "id, name, created_at, revoked_at";

pub(crate) fn ingest_token(row: &impl StoredRow) -> Result<IngestToken, StoreError> {
    Ok(IngestToken {
        id: row.int("id")?,
        name: row.text("name")?,
        created_us: row.time("created_at")?,
        revoked_us: row.opt_time("revoked_at")?,
    })
}

pub(crate) const JOB_COLUMNS: &str = "id, account_id, vin, format, state, rows_expected, \
    bytes_expected, rows_written, bytes_written, filename, size, updated_at";

pub(crate) fn export_job(row: &impl StoredRow) -> Result<ExportJobRecord, StoreError> {
    let count = |column: &str| unsigned(row.int(column)?, column);
    Ok(ExportJobRecord {
        id: row.text("id")?,
        account: row.int("account_id")?,
        vin: row.text("vin")?,
        format: row.wire("format", ExportFormat::parse)?,
        state: row.wire("state", ExportJobState::parse)?,
        rows_expected: count("rows_expected")?,
        bytes_expected: count("bytes_expected")?,
        rows_written: count("rows_written")?,
        bytes_written: count("bytes_written")?,
        filename: row.opt_text("filename")?,
        size: row
            .opt_int("size")?
            .map(|n| unsigned(n, "size"))
            .transpose()?,
        updated_us: row.time("updated_at")?,
    })
}

pub(crate) const GRANT_SELECT: &str =
    "SELECT g.id, v.vin, v.timezone, g.vehicle_id, g.owner_account_id, \
    g.recipient, g.recipient_kind, g.purpose, g.classes, g.location, g.from_at, g.to_at, \
    g.continuous, g.expires_at, g.created_at, g.revoked_at, g.revoked_reason \
    FROM grants g JOIN vehicles v ON v.id = g.vehicle_id";

pub(crate) fn grant(row: &impl StoredRow) -> Result<super::GrantRecord, StoreError> {
    use crate::domain::export::LocationRedaction;
    use crate::domain::sharing::{DataClass, RecipientKind, RevokedBecause};
    let classes = row
        .text("classes")?
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            DataClass::parse(c)
                .ok_or_else(|| StoreError::Corrupt(format!("classes holds unknown class `{c}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::GrantRecord {
        id: row.int("id")?,
        vin: row.text("vin")?,
        timezone: row.text("timezone")?,
        vehicle_id: row.int("vehicle_id")?,
        owner_account_id: row.int("owner_account_id")?,
        recipient: row.text("recipient")?,
        kind: row.wire("recipient_kind", RecipientKind::parse)?,
        purpose: row.text("purpose")?,
        classes,
        location: row.wire("location", LocationRedaction::parse)?,
        window: super::TimeRange {
            from_us: row.time("from_at")?,
            to_us: row.time("to_at")?,
        },
        continuous: row.boolean("continuous")?,
        expires_us: row.time("expires_at")?,
        created_us: row.time("created_at")?,
        revoked_us: row.opt_time("revoked_at")?,
        revoked_because: row.opt_wire("revoked_reason", RevokedBecause::parse)?,
    })
}
