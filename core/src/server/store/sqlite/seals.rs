//! SQLite: the vehicles' keys, their seals and positions (format 1.1);
//! the SQL is shared (`store/seals.rs`), times are integer microseconds.

use super::SqliteStore;

crate::server::store::seals::backend_seals!(
    sqlx::SqliteConnection,
    sqlx::Sqlite,
    SqliteStore,
    |t: i64| t
);
