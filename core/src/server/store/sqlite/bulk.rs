//! The bulk sample insert, on SQLite's own API.
//!
//! Binding a million rows through sqlx costs more than SQLite's insert itself
//! (every value crosses to sqlx's worker thread). Here one prepared statement
//! is stepped per row on the connection's raw handle, which sqlx lends for
//! exactly this (`lock_handle`). Everything unsafe stays in this file.

use crate::domain::log_format::{AdasState, AebState, Gear};
use crate::domain::records::{Position, Sample};
use crate::server::store::{NewSeal, SealId, SealRuns, VehicleId};
use libsqlite3_sys as ffi;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

const INSERT_SQL: &CStr = c"INSERT INTO samples (vehicle_id, t, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra, seal_id) \
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (vehicle_id, t) DO NOTHING";

const INSERT_POSITION_SQL: &CStr = c"INSERT INTO positions \
    (vehicle_id, t, lat, lon, heading_deg, nonce, seal_id) VALUES (?,?,?,?,?,?,?) \
    ON CONFLICT (vehicle_id, t) DO NOTHING";

const INSERT_SEAL_SQL: &CStr = c"INSERT INTO seals (vehicle_id, key_id, seq, count, first_t, \
    last_t, prev, root, sig, t_min, t_max, samples, positions, events, edr, covered) \
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/// A prepared statement, finalized on drop whatever happens. Text is bound
/// without a copy (SQLITE_STATIC), so SQLite keeps pointers into it until the
/// statement is finalized or rebound: `'text` makes every bound text outlive
/// the statement.
struct Statement<'text> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    bound: PhantomData<&'text str>,
}

impl<'text> Statement<'text> {
    /// Prepares `sql` on `db`.
    ///
    /// # Safety
    /// `db` is a live connection, locked for the caller for as long as the
    /// statement lives.
    unsafe fn prepare(db: *mut ffi::sqlite3, sql: &CStr) -> Result<Self, String> {
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is live (the caller's contract); the SQL is NUL-terminated.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(error_message(db));
        }
        Ok(Statement {
            db,
            stmt,
            bound: PhantomData,
        })
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` came from sqlite3_prepare_v2 on `db` and is finalized once.
        unsafe { ffi::sqlite3_finalize(self.stmt) };
    }
}

fn error_message(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is a live connection; errmsg returns a NUL-terminated string owned by SQLite.
    unsafe {
        CStr::from_ptr(ffi::sqlite3_errmsg(db))
            .to_string_lossy()
            .into_owned()
    }
}

impl<'text> Statement<'text> {
    fn check(&self, rc: c_int) -> Result<(), String> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error_message(self.db))
        }
    }

    fn int(&self, i: c_int, v: Option<i64>) -> Result<(), String> {
        // SAFETY: `stmt` is prepared and `i` is within its parameters.
        self.check(unsafe {
            match v {
                Some(v) => ffi::sqlite3_bind_int64(self.stmt, i, v),
                None => ffi::sqlite3_bind_null(self.stmt, i),
            }
        })
    }

    fn real(&self, i: c_int, v: Option<f64>) -> Result<(), String> {
        // SAFETY: as in `int`.
        self.check(unsafe {
            match v {
                Some(v) => ffi::sqlite3_bind_double(self.stmt, i, v),
                None => ffi::sqlite3_bind_null(self.stmt, i),
            }
        })
    }

    /// Binds bytes without a copy, as `text` does.
    fn blob(&self, i: c_int, v: &'text [u8]) -> Result<(), String> {
        // SAFETY: as in `text`.
        self.check(unsafe {
            ffi::sqlite3_bind_blob(
                self.stmt,
                i,
                v.as_ptr().cast(),
                v.len() as c_int,
                ffi::SQLITE_STATIC(),
            )
        })
    }

    /// Binds text without a copy; `'text` keeps it alive as long as the statement.
    fn text(&self, i: c_int, v: Option<&'text str>) -> Result<(), String> {
        // SAFETY: as in `int`; `v` outlives the statement (`'text`), so the
        // pointer SQLite keeps stays valid until it is rebound or finalized.
        self.check(unsafe {
            match v {
                Some(v) => ffi::sqlite3_bind_text(
                    self.stmt,
                    i,
                    v.as_ptr().cast(),
                    v.len() as c_int,
                    ffi::SQLITE_STATIC(),
                ),
                None => ffi::sqlite3_bind_null(self.stmt, i),
            }
        })
    }
}

impl Statement<'_> {
    /// Steps the bound insert and resets it: whether it inserted a row.
    fn insert(&self) -> Result<bool, String> {
        // SAFETY: every parameter is bound; bound text outlives the statement (`'text`).
        let rc = unsafe { ffi::sqlite3_step(self.stmt) };
        if rc != ffi::SQLITE_DONE {
            return Err(error_message(self.db));
        }
        // SAFETY: `db` is live; changes() reports the statement just stepped.
        let inserted = unsafe { ffi::sqlite3_changes(self.db) } != 0;
        // SAFETY: resets the finished statement for the next row.
        self.check(unsafe { ffi::sqlite3_reset(self.stmt) })?;
        Ok(inserted)
    }
}

/// Inserts `rows` inside the connection's open transaction, each linked to
/// its seal. Returns the indices of rows that were not inserted because
/// their (vehicle, t) is held.
///
/// # Safety
/// `db` must be a live connection handle, locked for the caller's exclusive
/// use for the duration of the call (sqlx's `LockedSqliteHandle`).
pub unsafe fn insert_samples(
    db: NonNull<ffi::sqlite3>,
    rows: &[(VehicleId, Sample)],
    seals: &SealRuns,
) -> Result<Vec<usize>, String> {
    // SAFETY: `db` is live and locked for this call (the caller's contract).
    let st = unsafe { Statement::prepare(db.as_ptr(), INSERT_SQL)? };
    let mut skipped = Vec::new();
    for (index, (vehicle, s)) in rows.iter().enumerate() {
        let c = &s.channels;
        let flag = |b: Option<bool>| b.map(i64::from);
        st.int(1, Some(*vehicle))?;
        st.int(2, Some(s.t_us))?;
        st.real(3, c.speed_kmh)?;
        st.real(4, c.accel_pedal_pct)?;
        st.int(5, flag(c.brake_pedal))?;
        st.real(6, c.brake_pressure_bar)?;
        st.real(7, c.steering_angle_deg)?;
        st.real(8, c.long_accel_mps2)?;
        st.real(9, c.lat_accel_mps2)?;
        st.real(10, c.yaw_rate_dps)?;
        st.text(11, c.gear.map(Gear::as_str))?;
        st.int(12, flag(c.abs_active))?;
        st.int(13, flag(c.esc_active))?;
        st.text(14, c.aeb_state.map(AebState::as_str))?;
        st.int(15, flag(c.fcw))?;
        st.text(16, c.adas_state.map(AdasState::as_str))?;
        st.real(17, c.motor_torque_nm)?;
        st.real(18, c.odometer_km)?;
        st.real(19, c.soc_pct)?;
        st.int(20, flag(c.belt_driver))?;
        st.real(21, c.lat)?;
        st.real(22, c.lon)?;
        st.real(23, c.heading_deg)?;
        st.text(24, s.extra.as_deref())?;
        st.int(25, seals.seal_of(index))?;
        if !st.insert()? {
            skipped.push(index);
        }
    }
    Ok(skipped)
}

/// Inserts seals (none of them held: the import checked), returning their ids in order.
///
/// # Safety
/// As for `insert_samples`.
pub unsafe fn insert_seals(
    db: NonNull<ffi::sqlite3>,
    seals: &[(VehicleId, NewSeal<'_>)],
) -> Result<Vec<SealId>, String> {
    let db = db.as_ptr();
    // SAFETY: `db` is live and locked for this call (the caller's contract).
    let st = unsafe { Statement::prepare(db, INSERT_SEAL_SQL)? };
    let mut ids = Vec::with_capacity(seals.len());
    for (vehicle, seal) in seals {
        let (l, c) = (seal.line, seal.counts);
        st.int(1, Some(*vehicle))?;
        st.text(2, Some(&l.key))?;
        st.int(3, Some(l.seq as i64))?;
        st.int(4, Some(l.count as i64))?;
        st.text(5, Some(&l.first_t))?;
        st.text(6, Some(&l.last_t))?;
        st.text(7, Some(&l.prev))?;
        st.text(8, Some(&l.root))?;
        st.text(9, Some(&l.sig))?;
        st.int(10, Some(seal.t_min))?;
        st.int(11, Some(seal.t_max))?;
        st.int(12, Some(c.samples as i64))?;
        st.int(13, Some(c.positions as i64))?;
        st.int(14, Some(c.events as i64))?;
        st.int(15, Some(c.edr as i64))?;
        st.blob(16, seal.covered)?;
        if !st.insert()? {
            return Err(format!("seal {} of key {} was not inserted", l.seq, l.key));
        }
        // SAFETY: `db` is live; the row just inserted is this connection's last.
        ids.push(unsafe { ffi::sqlite3_last_insert_rowid(db) });
    }
    Ok(ids)
}

/// Inserts positions as `insert_samples` does samples; the indices of those
/// whose (vehicle, t) is held.
///
/// # Safety
/// As for `insert_samples`.
pub unsafe fn insert_positions(
    db: NonNull<ffi::sqlite3>,
    rows: &[(VehicleId, Position)],
    seals: &SealRuns,
) -> Result<Vec<usize>, String> {
    // SAFETY: `db` is live and locked for this call (the caller's contract).
    let st = unsafe { Statement::prepare(db.as_ptr(), INSERT_POSITION_SQL)? };
    let mut skipped = Vec::new();
    for (index, (vehicle, p)) in rows.iter().enumerate() {
        st.int(1, Some(*vehicle))?;
        st.int(2, Some(p.t_us))?;
        st.real(3, Some(p.lat))?;
        st.real(4, Some(p.lon))?;
        st.real(5, p.heading_deg)?;
        st.text(6, Some(&p.nonce))?;
        st.int(7, seals.seal_of(index))?;
        if !st.insert()? {
            skipped.push(index);
        }
    }
    Ok(skipped)
}

/// A value bound to a read statement.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Real(f64),
    Text(String),
}

/// Reads samples with `sql` (selecting `SAMPLE_COLUMNS` in order) and `binds`.
/// Stepping the statement here and decoding straight into `Sample` avoids
/// sqlx's per-row conversion, which costs ten times SQLite's own read.
///
/// # Safety
/// As for `insert_samples`: `db` is live and locked for the caller.
pub unsafe fn read_samples(
    db: NonNull<ffi::sqlite3>,
    sql: &str,
    binds: &[Bind],
) -> Result<Vec<Sample>, String> {
    let db = db.as_ptr();
    let sql = std::ffi::CString::new(sql).map_err(|e| e.to_string())?;
    // SAFETY: `db` is live and locked for this call (the caller's contract).
    let st = unsafe { Statement::prepare(db, &sql)? };
    for (i, b) in binds.iter().enumerate() {
        let i = i as c_int + 1;
        match b {
            Bind::Int(v) => st.int(i, Some(*v))?,
            Bind::Real(v) => st.real(i, Some(*v))?,
            Bind::Text(v) => st.text(i, Some(v))?,
        }
    }
    let mut out = Vec::new();
    loop {
        // SAFETY: the statement is prepared and bound; bound texts outlive it.
        match unsafe { ffi::sqlite3_step(st.stmt) } {
            ffi::SQLITE_ROW => out.push(st.sample()?),
            ffi::SQLITE_DONE => return Ok(out),
            _ => return Err(error_message(db)),
        }
    }
}

impl Statement<'_> {
    fn is_null(&self, i: c_int) -> bool {
        // SAFETY: the statement has a current row and `i` is one of its columns.
        unsafe { ffi::sqlite3_column_type(self.stmt, i) == ffi::SQLITE_NULL }
    }

    fn col_real(&self, i: c_int) -> Option<f64> {
        // SAFETY: as in `is_null`.
        (!self.is_null(i)).then(|| unsafe { ffi::sqlite3_column_double(self.stmt, i) })
    }

    fn col_int(&self, i: c_int) -> Option<i64> {
        // SAFETY: as in `is_null`.
        (!self.is_null(i)).then(|| unsafe { ffi::sqlite3_column_int64(self.stmt, i) })
    }

    fn col_text(&self, i: c_int) -> Option<String> {
        if self.is_null(i) {
            return None;
        }
        // SAFETY: as in `is_null`; the text pointer is valid for `bytes`
        // bytes until the next step, and is copied out here.
        unsafe {
            let text = ffi::sqlite3_column_text(self.stmt, i);
            let bytes = ffi::sqlite3_column_bytes(self.stmt, i);
            let slice = std::slice::from_raw_parts(text, bytes.max(0) as usize);
            Some(String::from_utf8_lossy(slice).into_owned())
        }
    }

    fn col_wire<T>(
        &self,
        i: c_int,
        parse: fn(&str) -> Option<T>,
        name: &str,
    ) -> Result<Option<T>, String> {
        match self.col_text(i) {
            None => Ok(None),
            Some(v) => parse(&v)
                .map(Some)
                .ok_or_else(|| format!("stored {name} `{v}` is not a known value")),
        }
    }

    /// The current row as a sample (columns in `SAMPLE_COLUMNS` order).
    fn sample(&self) -> Result<Sample, String> {
        let flag = |i| self.col_int(i).map(|v| v != 0);
        Ok(Sample {
            // The key column: NULL would be a damaged file, never the epoch.
            t_us: self
                .col_int(1)
                .ok_or("a stored sample has no time (t is NULL)")?,
            channels: crate::domain::log_format::SampleChannels {
                speed_kmh: self.col_real(2),
                accel_pedal_pct: self.col_real(3),
                brake_pedal: flag(4),
                brake_pressure_bar: self.col_real(5),
                steering_angle_deg: self.col_real(6),
                long_accel_mps2: self.col_real(7),
                lat_accel_mps2: self.col_real(8),
                yaw_rate_dps: self.col_real(9),
                gear: self.col_wire(10, Gear::parse, "gear")?,
                abs_active: flag(11),
                esc_active: flag(12),
                aeb_state: self.col_wire(13, AebState::parse, "aeb_state")?,
                fcw: flag(14),
                adas_state: self.col_wire(15, AdasState::parse, "adas_state")?,
                motor_torque_nm: self.col_real(16),
                odometer_km: self.col_real(17),
                soc_pct: self.col_real(18),
                belt_driver: flag(19),
                lat: self.col_real(20),
                lon: self.col_real(21),
                heading_deg: self.col_real(22),
            },
            extra: self.col_text(23),
        })
    }
}
