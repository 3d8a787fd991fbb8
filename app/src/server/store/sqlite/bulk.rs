//! The bulk sample insert, on SQLite's own API.
//!
//! Binding a million rows through sqlx costs more than SQLite's insert itself
//! (every value crosses to sqlx's worker thread). Here one prepared statement
//! is stepped per row on the connection's raw handle, which sqlx lends for
//! exactly this (`lock_handle`). Everything unsafe stays in this file.

use crate::domain::log_format::{AdasState, AebState, Gear};
use crate::domain::records::Sample;
use crate::server::store::VehicleId;
use libsqlite3_sys as ffi;
use std::ffi::{c_int, CStr};
use std::ptr::NonNull;

const INSERT_SQL: &CStr = c"INSERT INTO samples (vehicle_id, t_us, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra) \
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (vehicle_id, t_us) DO NOTHING";

/// A prepared statement, finalized on drop whatever happens.
struct Statement {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
}

impl Drop for Statement {
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

impl Statement {
    fn check(&self, rc: c_int) -> Result<(), String> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error_message(self.db))
        }
    }

    fn int(&self, i: c_int, v: Option<i64>) -> Result<(), String> {
        // SAFETY: `stmt` is prepared and `i` is within its 24 parameters.
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

    /// Binds text that outlives the statement's next step (SQLITE_STATIC: no copy).
    fn text(&self, i: c_int, v: Option<&str>) -> Result<(), String> {
        // SAFETY: as in `int`; the caller keeps `v` alive until the row is stepped.
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

/// Inserts `rows` inside the connection's open transaction. Returns the
/// indices of rows that were not inserted because their (vehicle, t) is held.
///
/// # Safety
/// `db` must be a live connection handle, locked for the caller's exclusive
/// use for the duration of the call (sqlx's `LockedSqliteHandle`).
pub unsafe fn insert_samples(
    db: NonNull<ffi::sqlite3>,
    rows: &[(VehicleId, Sample)],
) -> Result<Vec<usize>, String> {
    let db = db.as_ptr();
    let mut stmt = std::ptr::null_mut();
    // SAFETY: `db` is live (caller's contract); the SQL is NUL-terminated.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(db, INSERT_SQL.as_ptr(), -1, &mut stmt, std::ptr::null_mut())
    };
    if rc != ffi::SQLITE_OK {
        return Err(error_message(db));
    }
    let st = Statement { db, stmt };
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
        // SAFETY: every parameter is bound; the bound text lives in `rows`/statics.
        let rc = unsafe { ffi::sqlite3_step(st.stmt) };
        if rc != ffi::SQLITE_DONE {
            return Err(error_message(db));
        }
        // SAFETY: `db` is live; changes() reports the statement just stepped.
        if unsafe { ffi::sqlite3_changes(db) } == 0 {
            skipped.push(index);
        }
        // SAFETY: resets the finished statement for the next row.
        st.check(unsafe { ffi::sqlite3_reset(st.stmt) })?;
    }
    Ok(skipped)
}
