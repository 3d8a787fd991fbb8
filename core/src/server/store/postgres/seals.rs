//! PostgreSQL: the vehicles' keys, their seals and positions (format 1.1);
//! the SQL is shared (`store/seals.rs`), times are timestamptz.

use super::time::Ts;
use super::PgStore;

crate::server::store::seals::backend_seals!(sqlx::PgConnection, sqlx::Postgres, PgStore, Ts);
