//! SQLite: how the values of a shared query (`store::sql`) are put in,
//! through a `QueryBuilder`, or as `?` with binds for `bulk.rs`.

use super::bulk::Bind;
use crate::server::store::sql::{Part, Query, SqlValue};
use sqlx::{QueryBuilder, Sqlite};

/// Binds one value (times are integer microseconds here).
pub(super) fn bind(q: &mut QueryBuilder<'_, Sqlite>, value: SqlValue) {
    match value {
        SqlValue::Int(v) | SqlValue::Time(v) => {
            q.push_bind(v);
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
            q.push(" IN (");
            let mut list = q.separated(", ");
            for name in names {
                list.push_bind(name);
            }
            q.push(")");
        }
    }
}

/// The query as SQL text with `?` for each value, and the values, for the
/// statements `bulk.rs` steps itself.
pub(super) fn bulk_sql(query: Query) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    for part in query.0 {
        match part {
            Part::Sql(text) => sql.push_str(&text),
            Part::Value(value) => match value {
                SqlValue::Int(v) | SqlValue::Time(v) => {
                    sql.push('?');
                    binds.push(Bind::Int(v));
                }
                SqlValue::Real(v) => {
                    sql.push('?');
                    binds.push(Bind::Real(v));
                }
                SqlValue::Bool(v) => {
                    sql.push('?');
                    binds.push(Bind::Int(v.into()));
                }
                SqlValue::Name(v) => {
                    sql.push('?');
                    binds.push(Bind::Text(v.to_string()));
                }
                SqlValue::Text(v) => {
                    sql.push('?');
                    binds.push(Bind::Text(v));
                }
                SqlValue::Names(names) => {
                    sql.push_str(" IN (");
                    sql.push_str(&vec!["?"; names.len()].join(", "));
                    sql.push(')');
                    binds.extend(names.into_iter().map(|n| Bind::Text(n.to_string())));
                }
            },
        }
    }
    (sql, binds)
}
