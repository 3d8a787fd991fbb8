//! Small reads on the caller's own thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own, and each
//! query is a round trip to it and each row a message back: on two cores
//! that is 60–80 µs a query, several times what SQLite takes to find a
//! vehicle, an account or a page of events. Every request asks a few such
//! questions before it reads its data (the session's account, the vehicle,
//! the ownership periods), so the hops were most of a small page's time.
//!
//! Here the reads that are a point lookup or a bounded page run on
//! read-only connections of our own, on the calling thread, with their
//! prepared statements kept. A read sees what was committed before it
//! started, as through the pool (each statement is its own read transaction:
//! it is reset as soon as its rows are out). Long reads (exports, scans,
//! counts over a history) stay on sqlx, which keeps them off the async
//! threads. Everything unsafe about it stays in this file.

use super::bulk::Bind;
use crate::server::store::decode::StoredRow;
use crate::server::store::StoreError;
use libsqlite3_sys as ffi;
use std::collections::HashMap;
use std::ffi::{c_int, CStr, CString};
use std::sync::Mutex;

/// Idle connections kept for the next read (more are opened under load and
/// closed after it).
const KEEP_IDLE: usize = 8;
/// Distinct statements kept prepared per connection.
const KEEP_STATEMENTS: usize = 64;
/// A reader waits this long for a lock (WAL readers rarely wait at all).
const BUSY_TIMEOUT_MS: c_int = 2_000;

pub(super) struct InlineReader {
    path: CString,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReader {
    /// Reads the database file at `path` (already created and migrated).
    pub(super) fn new(path: &std::path::Path) -> Result<Self, StoreError> {
        let path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| StoreError::Engine("the database path holds a NUL byte".into()))?;
        Ok(InlineReader {
            path,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The rows of `sql` with `binds`, each made by `row`.
    pub(super) fn rows<T>(
        &self,
        sql: &str,
        binds: &[Bind],
        mut row: impl FnMut(&InlineRow<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut conn = self.take()?;
        let result = conn.query(sql, binds, &mut row);
        self.give_back(conn);
        result
    }

    /// The first row of `sql`, if any.
    pub(super) fn optional<T>(
        &self,
        sql: &str,
        binds: &[Bind],
        row: impl FnMut(&InlineRow<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.rows(sql, binds, row)?.into_iter().next())
    }

    /// Closes the idle connections (the store is closing).
    pub(super) fn close(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => Connection::open(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
    }
}

struct Prepared {
    stmt: *mut ffi::sqlite3_stmt,
    columns: Vec<String>,
}

struct Connection {
    db: std::ptr::NonNull<ffi::sqlite3>,
    statements: HashMap<String, Prepared>,
}

// SAFETY: opened with SQLITE_OPEN_NOMUTEX (multi-thread mode), a connection
// may move between threads as long as one thread uses it at a time: it is
// either in the idle list (behind its mutex) or owned by one reader.
unsafe impl Send for Connection {}

impl Connection {
    fn open(path: &CStr) -> Result<Connection, StoreError> {
        let mut db = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_NOMUTEX;
        // SAFETY: `path` is NUL-terminated; `db` receives the handle, which
        // is closed below on failure or by `Drop` otherwise.
        let rc = unsafe { ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags, std::ptr::null()) };
        let Some(db) = std::ptr::NonNull::new(db) else {
            return Err(StoreError::Engine(
                "out of memory opening the database".into(),
            ));
        };
        let conn = Connection {
            db,
            statements: HashMap::new(),
        };
        if rc != ffi::SQLITE_OK {
            return Err(StoreError::Engine(conn.error()));
        }
        // SAFETY: `db` is a live connection of ours.
        unsafe { ffi::sqlite3_busy_timeout(db.as_ptr(), BUSY_TIMEOUT_MS) };
        Ok(conn)
    }

    fn error(&self) -> String {
        // SAFETY: `db` is live; errmsg is a NUL-terminated string owned by SQLite.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.db.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }

    fn prepared(&mut self, sql: &str) -> Result<&Prepared, StoreError> {
        if !self.statements.contains_key(sql) {
            if self.statements.len() >= KEEP_STATEMENTS {
                // Finalized as they drop (`Prepared`).
                self.statements.clear();
            }
            let text = CString::new(sql).map_err(|e| StoreError::Engine(e.to_string()))?;
            let mut stmt = std::ptr::null_mut();
            // SAFETY: `db` is live and ours alone; the SQL is NUL-terminated.
            let rc = unsafe {
                ffi::sqlite3_prepare_v3(
                    self.db.as_ptr(),
                    text.as_ptr(),
                    -1,
                    ffi::SQLITE_PREPARE_PERSISTENT,
                    &mut stmt,
                    std::ptr::null_mut(),
                )
            };
            if rc != ffi::SQLITE_OK || stmt.is_null() {
                return Err(StoreError::Engine(format!("{} in: {sql}", self.error())));
            }
            // SAFETY: `stmt` is a prepared statement; the names are
            // NUL-terminated strings owned by it, copied out here.
            let columns = unsafe {
                (0..ffi::sqlite3_column_count(stmt))
                    .map(|i| {
                        CStr::from_ptr(ffi::sqlite3_column_name(stmt, i))
                            .to_string_lossy()
                            .into_owned()
                    })
                    .collect()
            };
            self.statements
                .insert(sql.to_string(), Prepared { stmt, columns });
        }
        Ok(&self.statements[sql])
    }

    fn query<T>(
        &mut self,
        sql: &str,
        binds: &[Bind],
        row: &mut impl FnMut(&InlineRow<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let db = self.db.as_ptr();
        let prepared = self.prepared(sql)?;
        // Reset and unbound whatever happens, so no read transaction stays
        // open and no pointer into `binds` outlives this call.
        let statement = Running(prepared.stmt);
        for (i, bind) in binds.iter().enumerate() {
            let i = i as c_int + 1;
            // SAFETY: the statement is ours and not stepping; a text is
            // copied by SQLite (SQLITE_TRANSIENT).
            let rc = unsafe {
                match bind {
                    Bind::Int(v) => ffi::sqlite3_bind_int64(statement.0, i, *v),
                    Bind::Real(v) => ffi::sqlite3_bind_double(statement.0, i, *v),
                    Bind::Text(v) => ffi::sqlite3_bind_text(
                        statement.0,
                        i,
                        v.as_ptr().cast(),
                        v.len() as c_int,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(StoreError::Engine(message(db)));
            }
        }
        let current = InlineRow {
            stmt: statement.0,
            columns: &prepared.columns,
        };
        let mut out = Vec::new();
        loop {
            // SAFETY: prepared and bound above.
            match unsafe { ffi::sqlite3_step(statement.0) } {
                ffi::SQLITE_ROW => out.push(row(&current)?),
                ffi::SQLITE_DONE => return Ok(out),
                _ => return Err(StoreError::Engine(message(db))),
            }
        }
    }
}

fn message(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is live; errmsg is a NUL-terminated string owned by SQLite.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned()
}

/// A statement being stepped; reset and cleared when dropped.
struct Running(*mut ffi::sqlite3_stmt);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: the statement is live (finalized only with its connection).
        unsafe {
            ffi::sqlite3_reset(self.0);
            ffi::sqlite3_clear_bindings(self.0);
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: prepared on a live connection (statements are dropped
        // before their connection closes) and finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt) };
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Every statement first: a connection with one left would not close.
        self.statements.clear();
        // SAFETY: the connection is ours and closed once.
        let rc = unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
        debug_assert_eq!(rc, ffi::SQLITE_OK, "a statement was left unfinalized");
    }
}

/// The current row of a statement being stepped, read by column name.
pub(super) struct InlineRow<'a> {
    stmt: *mut ffi::sqlite3_stmt,
    columns: &'a [String],
}

impl InlineRow<'_> {
    fn index(&self, column: &str) -> Result<c_int, StoreError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| i as c_int)
            .ok_or_else(|| StoreError::Corrupt(format!("no column `{column}` in the row")))
    }

    /// The column's index, or `None` when it is NULL.
    fn present(&self, column: &str) -> Result<Option<c_int>, StoreError> {
        let i = self.index(column)?;
        // SAFETY: the statement has a current row and `i` is one of its columns.
        let null = unsafe { ffi::sqlite3_column_type(self.stmt, i) } == ffi::SQLITE_NULL;
        Ok((!null).then_some(i))
    }

    /// Column `i` as a number, `None` when NULL (for rows read by position).
    pub(super) fn real_at(&self, i: usize) -> Option<f64> {
        let i = i as c_int;
        // SAFETY: the statement has a current row; an index past the
        // columns reads as NULL (SQLite's documented behaviour).
        unsafe {
            (ffi::sqlite3_column_type(self.stmt, i) != ffi::SQLITE_NULL)
                .then(|| ffi::sqlite3_column_double(self.stmt, i))
        }
    }

    /// Column `i` as an integer, `None` when NULL.
    pub(super) fn int_at(&self, i: usize) -> Option<i64> {
        let i = i as c_int;
        // SAFETY: as in `real_at`.
        unsafe {
            (ffi::sqlite3_column_type(self.stmt, i) != ffi::SQLITE_NULL)
                .then(|| ffi::sqlite3_column_int64(self.stmt, i))
        }
    }

    /// Column `i` as text, `None` when NULL.
    pub(super) fn text_at(&self, i: usize) -> Option<String> {
        let i = i as c_int;
        // SAFETY: as in `real_at`; the text is copied out before the next step.
        unsafe {
            if ffi::sqlite3_column_type(self.stmt, i) == ffi::SQLITE_NULL {
                return None;
            }
            let text = ffi::sqlite3_column_text(self.stmt, i);
            let len = ffi::sqlite3_column_bytes(self.stmt, i).max(0) as usize;
            if text.is_null() {
                return Some(String::new());
            }
            let bytes = std::slice::from_raw_parts(text, len);
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    fn required<T>(&self, column: &str, value: Option<T>) -> Result<T, StoreError> {
        value.ok_or_else(|| StoreError::Corrupt(format!("`{column}` is NULL")))
    }

    fn blob(&self, column: &str) -> Result<Option<&[u8]>, StoreError> {
        let Some(i) = self.present(column)? else {
            return Ok(None);
        };
        // SAFETY: as in `present`; the pointer is valid for `len` bytes
        // until the next step, and the slice does not outlive this row.
        unsafe {
            let data = ffi::sqlite3_column_blob(self.stmt, i);
            let len = ffi::sqlite3_column_bytes(self.stmt, i).max(0) as usize;
            if data.is_null() {
                return Ok(Some(&[]));
            }
            Ok(Some(std::slice::from_raw_parts(data.cast::<u8>(), len)))
        }
    }
}

impl StoredRow for InlineRow<'_> {
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        let v = self.opt_int(column)?;
        self.required(column, v)
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        // SAFETY: as in `present`.
        Ok(self
            .present(column)?
            .map(|i| unsafe { ffi::sqlite3_column_int64(self.stmt, i) }))
    }

    fn int32(&self, column: &str) -> Result<i32, StoreError> {
        let v = self.opt_int32(column)?;
        self.required(column, v)
    }

    fn opt_int32(&self, column: &str) -> Result<Option<i32>, StoreError> {
        self.opt_int(column)?
            .map(|v| {
                i32::try_from(v)
                    .map_err(|_| StoreError::Corrupt(format!("`{column}` is out of range: {v}")))
            })
            .transpose()
    }

    fn real(&self, column: &str) -> Result<f64, StoreError> {
        let v = self.opt_real(column)?;
        self.required(column, v)
    }

    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError> {
        // SAFETY: as in `present`.
        Ok(self
            .present(column)?
            .map(|i| unsafe { ffi::sqlite3_column_double(self.stmt, i) }))
    }

    fn boolean(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.int(column)? != 0)
    }

    fn opt_bool(&self, column: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.opt_int(column)?.map(|v| v != 0))
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        let v = self.opt_text(column)?;
        self.required(column, v)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.blob(column)?
            .map(|bytes| {
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| StoreError::Corrupt(format!("`{column}` is not UTF-8")))
            })
            .transpose()
    }

    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        let v = self.blob(column)?.map(<[u8]>::to_vec);
        self.required(column, v)
    }

    fn time(&self, column: &str) -> Result<i64, StoreError> {
        self.int(column)
    }

    fn opt_time(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.opt_int(column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statements alive on a connection (SQLite's own list).
    fn live_statements(conn: &Connection) -> usize {
        let mut n = 0;
        let mut stmt = std::ptr::null_mut();
        loop {
            // SAFETY: the connection is live; the list is walked, not changed.
            stmt = unsafe { ffi::sqlite3_next_stmt(conn.db.as_ptr(), stmt) };
            if stmt.is_null() {
                return n;
            }
            n += 1;
        }
    }

    #[tokio::test]
    async fn more_statements_than_are_kept_still_read_and_every_one_is_finalized() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inline.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            .execute(&pool)
            .await
            .unwrap();
        let reader = InlineReader::new(&path).unwrap();
        for n in 0..3 * KEEP_STATEMENTS as i64 {
            let sql = format!("SELECT x + {n} AS y FROM t WHERE x >= ? ORDER BY x");
            let rows = reader.rows(&sql, &[Bind::Int(2)], |r| r.int("y")).unwrap();
            assert_eq!(rows, vec![2 + n, 3 + n]);
        }
        let conn = reader.take().unwrap();
        assert!(conn.statements.len() <= KEEP_STATEMENTS);
        assert_eq!(live_statements(&conn), conn.statements.len());
        // Closing asserts (in debug builds) that nothing was left behind.
        drop(conn);
        reader.close();
    }
}
