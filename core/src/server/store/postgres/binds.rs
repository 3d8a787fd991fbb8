//! PostgreSQL: how the values of a shared query (`store::sql`) are bound
//! (times as timestamptz). COPY, which takes no parameters, writes them as
//! literals instead (`copy_out.rs`).

use super::time::Ts;
use crate::server::store::sql::SqlValue;
use sqlx::{Postgres, QueryBuilder};

/// Binds one value.
pub(super) fn bind(q: &mut QueryBuilder<'_, Postgres>, value: SqlValue) {
    match value {
        SqlValue::Int(v) => {
            q.push_bind(v);
        }
        SqlValue::Time(v) => {
            q.push_bind(Ts(v));
        }
        SqlValue::Real(v) => {
            q.push_bind(v);
        }
        SqlValue::Bool(v) => {
            q.push_bind(v);
        }
        SqlValue::Name(v) => {
            q.push_bind(v);
        }
        SqlValue::Text(v) => {
            q.push_bind(v);
        }
        SqlValue::Names(names) => {
            let names: Vec<String> = names.into_iter().map(str::to_string).collect();
            q.push(" = ANY(").push_bind(names).push(")");
        }
    }
}
