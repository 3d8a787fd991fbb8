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

/// Runs `work`, which holds this thread for a while (a batch stepped on
/// SQLite's own API, thousands of rows decoded), without holding up the
/// requests queued on the same runtime worker: on a multi-threaded runtime
/// they move to another worker meanwhile (`block_in_place`). Elsewhere (a
/// current-thread runtime, as in most tests) it simply runs.
pub(super) fn holding_the_thread<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

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
