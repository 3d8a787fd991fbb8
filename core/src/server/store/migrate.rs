//! Moving a SQLite deployment to PostgreSQL, table by table and row by row,
//! as stored: ids, password hashes, claim codes, cases, bundles and the
//! transparency log (its leaves cover the times, so they are copied to the
//! microsecond; its tree and checkpoints as they are).
//!
//! The target's own schema says how each column is typed; both backends
//! name every table and column alike (times are integer microseconds in
//! SQLite, timestamptz here). Everything goes in one transaction: a failure leaves
//! the target as empty as it was. Sessions are not moved (everyone signs in
//! again), nor are background export jobs (they expire within the hour:
//! whoever was preparing one starts it again).

use super::postgres::{CopyWriter, Field, PgStore, Ts};
use super::{OperationsStore, SqliteStore, StoreError};
use futures::TryStreamExt;
use sqlx::{Row, ValueRef};

/// Every table, parents before children.
pub const TABLES: &[&str] = &[
    "vehicles",
    "vehicle_keys",
    "seals",
    "accounts",
    "ownership_periods",
    "claim_codes",
    "sign_in_failures",
    "samples",
    "positions",
    "sample_minutes",
    "events",
    "edr_records",
    "edr_airbags",
    "edr_pre_crash",
    "edr_delta_v",
    "audit_log",
    "tlog_nodes",
    "tlog_checkpoints",
    "tlog_cosignatures",
    "cases",
    "case_exports",
    "ingest_tokens",
    "grants",
    "privacy_zones",
];

/// Tables whose `id` the target generates: its sequence continues after them.
const IDENTITY_TABLES: &[&str] = &[
    "vehicles",
    "seals",
    "accounts",
    "ownership_periods",
    "claim_codes",
    "cases",
    "ingest_tokens",
    "grants",
    "privacy_zones",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int4,
    Int8,
    Float8,
    Bool,
    Text,
    Bytes,
    Time,
}

/// A column of a table, by its name in both schemas and its type in the target's.
struct Column {
    name: String,
    kind: Kind,
}

async fn target_columns(
    pg: &mut sqlx::PgConnection,
    table: &str,
) -> Result<Vec<Column>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?;
    rows.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "integer" => Kind::Int4,
                "bigint" => Kind::Int8,
                "double precision" => Kind::Float8,
                "boolean" => Kind::Bool,
                "text" => Kind::Text,
                "bytea" => Kind::Bytes,
                "timestamp with time zone" => Kind::Time,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "{table}.{name}: unexpected type {other}"
                    )))
                }
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// What was moved: rows per table, in `TABLES` order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MigrationReport {
    pub tables: Vec<(String, u64)>,
    pub audit_entries: u64,
    pub audit_head: Option<String>,
}

/// Copies everything from `from` (SQLite) into `to` (an empty PostgreSQL
/// database, migrated here), then checks the counts and the transparency log.
pub async fn sqlite_to_postgres(from: &str, to: &str) -> Result<MigrationReport, StoreError> {
    if !from.starts_with("sqlite:")
        || !(to.starts_with("postgres:") || to.starts_with("postgresql:"))
    {
        return Err(StoreError::UnsupportedUrl(format!(
            "{from} → {to}: migrate-store moves sqlite://… to postgres://…"
        )));
    }
    let source = SqliteStore::open(from).await?;
    let target = match PgStore::open(to).await {
        Ok(target) => target,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    // Both pools are closed whatever happens (SQLite's close flushes its WAL).
    let moved = move_everything(&source, &target).await;
    source.close().await;
    target.close().await;
    moved
}

async fn move_everything(
    source: &SqliteStore,
    target: &PgStore,
) -> Result<MigrationReport, StoreError> {
    let mut tx = target.pool().begin().await?;
    for table in TABLES {
        let held: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table})"))
            .fetch_one(&mut *tx)
            .await?;
        if held {
            return Err(StoreError::Engine(format!(
                "the target database is not empty ({table} holds rows): migrate into a new database"
            )));
        }
    }
    let mut tables = Vec::new();
    for table in TABLES {
        let columns = target_columns(&mut tx, table).await?;
        let n = copy_table(source.pool(), &mut tx, table, &columns).await?;
        tables.push((table.to_string(), n));
    }
    // The tree's size (its one row exists in every migrated database), and
    // the audit log's seq, which the target's sequence continues.
    let size: i64 = sqlx::query_scalar("SELECT size FROM tlog_state WHERE id = 1")
        .fetch_one(source.pool())
        .await?;
    sqlx::query("UPDATE tlog_state SET size = $1 WHERE id = 1")
        .bind(size)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), \
         coalesce((SELECT max(seq) FROM audit_log), 0) + 1, false)",
    )
    .execute(&mut *tx)
    .await?;
    for table in IDENTITY_TABLES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    // Check: every table holds as many rows as its source, and the
    // transparency log verifies to the same head.
    for (table, n) in &tables {
        let moved: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(target.pool())
            .await?;
        if moved as u64 != *n {
            return Err(StoreError::Corrupt(format!(
                "{table}: {n} rows read but {moved} in the target"
            )));
        }
    }
    let before = crate::server::audit::verify_log(source, None, None).await?;
    let after = crate::server::audit::verify_log(target, None, None).await?;
    if after.broken.is_some() || after.head != before.head || after.pending != before.pending {
        return Err(StoreError::Corrupt(format!(
            "the transparency log does not verify after the move: {:?}",
            after.broken
        )));
    }
    Ok(MigrationReport {
        tables,
        audit_entries: after.entries + after.pending,
        audit_head: after.head.map(|h| h.root),
    })
}

/// An owned value read from SQLite, on its way into a COPY row.
enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

async fn copy_table(
    source: &sqlx::SqlitePool,
    pg: &mut sqlx::PgConnection,
    table: &str,
    columns: &[Column],
) -> Result<u64, StoreError> {
    let names = columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut copy = pg
        .copy_in_raw(&format!(
            "COPY {table} ({names}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let mut writer = CopyWriter::new();
    let sql = format!("SELECT {names} FROM {table}");
    let mut rows = sqlx::query(&sql).fetch(source);
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let value = if row.try_get_raw(i)?.is_null() {
                Value::Null
            } else {
                match c.kind {
                    Kind::Int4 | Kind::Int8 | Kind::Bool | Kind::Time => {
                        Value::Int(row.try_get(i)?)
                    }
                    Kind::Float8 => Value::Real(row.try_get(i)?),
                    Kind::Text => Value::Text(row.try_get(i)?),
                    Kind::Bytes => Value::Bytes(row.try_get(i)?),
                }
            };
            values.push(value);
        }
        let mut fields = Vec::with_capacity(columns.len());
        for (c, v) in columns.iter().zip(&values) {
            fields.push(match (v, c.kind) {
                (Value::Null, _) => Field::Null,
                (Value::Int(v), Kind::Int4) => Field::Int4(i32::try_from(*v).map_err(|_| {
                    StoreError::Corrupt(format!("{table}.{}: {v} is out of range", c.name))
                })?),
                (Value::Int(v), Kind::Bool) => Field::Bool(*v != 0),
                (Value::Int(v), Kind::Time) => Field::Time(Ts(*v)),
                (Value::Int(v), _) => Field::Int8(*v),
                (Value::Real(v), _) => Field::Float8(*v),
                (Value::Text(v), _) => Field::Text(v),
                (Value::Bytes(v), _) => Field::Bytes(v),
            });
        }
        writer.row(&fields);
        n += 1;
        if writer.buffered_bytes() > 1 << 20 {
            copy.send(writer.take()).await?;
        }
    }
    copy.send(writer.finish()).await?;
    copy.finish().await?;
    Ok(n)
}
