//! PostgreSQL: how a row's values are read for the shared decoders
//! (`store::decode`); times are timestamptz, read as microseconds.

use super::time::Ts;
use crate::server::store::decode::{plain_reads, StoredRow};
use crate::server::store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::Row;

impl StoredRow for PgRow {
    plain_reads!();

    fn time(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get::<Ts, _>(column)?.0)
    }

    fn opt_time(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get::<Option<Ts>, _>(column)?.map(|t| t.0))
    }
}
