//! SQLite: the vehicles' keys, their seals and positions (format 1.1);
//! the SQL is shared (`store/seals.rs`), times are integer microseconds.

use super::bulk::Bind;
use super::SqliteStore;
use crate::server::store::seals::sealed_record_key;

crate::server::store::seals::backend_seals!(
    sqlx::SqliteConnection,
    sqlx::Sqlite,
    SqliteStore,
    |t: i64| t
);

impl SqliteStore {
    /// Which records of a page are sealed, asked on every page: inline.
    async fn read_sealed_records(
        &self,
        vehicle: VehicleId,
        class: SealedClass,
        from: i64,
        to: i64,
    ) -> Result<Vec<SealedRecordKey>, StoreError> {
        self.inline.rows(
            class.sql(),
            &[Bind::Int(vehicle), Bind::Int(from), Bind::Int(to)],
            |row| sealed_record_key(row),
        )
    }
}
