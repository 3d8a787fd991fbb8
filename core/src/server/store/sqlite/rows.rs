//! SQLite: how a row's values are read for the shared decoders
//! (`store::decode`); times are integer microseconds.

use crate::server::store::decode::{plain_reads, StoredRow};
use crate::server::store::StoreError;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

impl StoredRow for SqliteRow {
    plain_reads!();

    fn time(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_time(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
}
