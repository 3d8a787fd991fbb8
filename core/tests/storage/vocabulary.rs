//! One schema vocabulary: both backends name every table and column alike,
//! and a SQLite database made by the migrations before the renaming keeps
//! every row through it.

use crate::common::*;
use portal_core::domain::Vin;
use portal_core::server::audit::verify_log;
use portal_core::server::store::scratch::{postgres_server, Backend, ScratchDatabase};
use portal_core::server::store::{PageRequest, SampleFilter, SqliteStore, Store, TimeRange};
use portal_core::server::Portal;
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The last SQLite migration written before both schemas shared their names.
const BEFORE_RENAMING: i64 = 6;

async fn sqlite_columns(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns = BTreeMap::new();
    for table in tables {
        let names: Vec<String> = sqlx::query(&format!("PRAGMA table_info('{table}')"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
        columns.insert(table, names);
    }
    columns
}

#[tokio::test]
async fn both_backends_name_every_table_and_column_alike() {
    let Some(_) = postgres_server() else {
        eprintln!("SKIPPED: comparing the two schemas needs TEST_POSTGRES_URL");
        return;
    };
    let lite = ScratchDatabase::create_on(Backend::Sqlite).await.unwrap();
    let pg = ScratchDatabase::create_on(Backend::Postgres).await.unwrap();
    let (store, _) = portal_core::server::store::open(&lite.url).await.unwrap();
    store.close().await;
    let (store, _) = portal_core::server::store::open(&pg.url).await.unwrap();
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut postgres: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in rows {
        postgres.entry(table).or_default().push(column);
    }
    assert_eq!(sqlite_columns(&lite.url).await, postgres);
}

/// Rows of every table, as text, in a stable order.
async fn every_row(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut all = BTreeMap::new();
    for (table, columns) in sqlite_columns(url).await {
        // quote() renders every value, blobs included, as an SQL literal.
        // An audit entry's nonce is drawn anew when the log becomes a tree.
        let values = columns
            .iter()
            .filter(|c| !(table == "audit_log" && *c == "nonce"))
            .map(|c| format!("quote({c})"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {values} FROM {table} ORDER BY 1"))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"));
        all.insert(table, rows);
    }
    all
}

#[tokio::test]
async fn a_database_from_before_the_renaming_keeps_every_row() {
    // Today's data, written by today's code into a current database…
    let current = ScratchDatabase::create_on(Backend::Sqlite).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&current.url).await.unwrap());
    let mut log = vec![vehicle(VIN, "Asia/Shanghai")];
    log.extend((0..40).map(|s| sample(VIN, s, 30.0 + s as f64)));
    log.push(event(VIN, "ev-1", "collision", "critical"));
    log.push(edr(VIN, "ev-1"));
    import_text(&*store, &lines(&log)).await.unwrap();
    let portal = Portal::new(store.clone());
    let code = portal
        .issue_claim_code(&Vin::parse(VIN).unwrap(), None)
        .await
        .unwrap()
        .code;
    portal
        .sign_up(
            "old@example.com",
            "brake-pedal-2021-spring",
            VIN,
            &code,
            "192.0.2.1",
        )
        .await
        .unwrap();
    store.close().await;

    // …copied row for row into a database made by the migrations before the
    // renaming (RENAME COLUMN keeps each column's place, so `SELECT *` lines up).
    let old = ScratchDatabase::create_on(Backend::Sqlite).await.unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
    let earlier = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let version: i64 = name[..4].parse().unwrap();
        if version <= BEFORE_RENAMING {
            std::fs::copy(&path, earlier.path().join(&name)).unwrap();
        }
    }
    let old_url = format!("{}?mode=rwc", old.url);
    let mut conn = sqlx::SqliteConnection::connect(&old_url).await.unwrap();
    sqlx::migrate::Migrator::new(earlier.path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    let current_file = current.url.trim_start_matches("sqlite://");
    sqlx::query(&format!("ATTACH DATABASE '{current_file}' AS now"))
        .execute(&mut conn)
        .await
        .unwrap();
    let before = every_row(&current.url).await;
    assert_eq!(before["samples"].len(), 40);
    assert!(before["audit_log"].len() >= 2 && before["ownership_periods"].len() == 1);
    let old_columns = sqlite_columns(&old_url).await;
    assert!(
        old_columns["samples"].contains(&"t_us".to_string()),
        "{old_columns:?}"
    );
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut conn)
        .await
        .unwrap();
    // Tables and columns added since (sealed logs) are empty or NULL here;
    // the old table's columns are the first of today's, in order.
    let current_columns = sqlite_columns(&current.url).await;
    for (table, columns) in &old_columns {
        let mut shared = current_columns[table][..columns.len()].join(", ");
        if table == "audit_log" {
            // The hash chain's two columns, which the tree replaces (their
            // values are not kept).
            shared = current_columns[table][..columns.len() - 2].join(", ") + ", '', ''";
        }
        sqlx::query(&format!(
            "INSERT INTO main.{table} SELECT {shared} FROM now.{table}"
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    sqlx::query("DETACH DATABASE now")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Opening it with today's code renames in place: every row is kept, the
    // audit entries become the transparency log's leaves, and the store
    // reads what was written.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&old.url).await.unwrap());
    assert_eq!(every_row(&old.url).await, before);
    assert_eq!(
        sqlite_columns(&old.url).await,
        sqlite_columns(&current.url).await
    );
    Portal::new(store.clone()).sequence_log().await.unwrap();
    let report = verify_log(&*store, None, None).await.unwrap();
    assert!(report.broken.is_none() && report.entries >= 2, "{report:?}");
    assert_eq!(report.entries as usize, before["audit_log"].len());
    let vehicle = store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let page = store
        .sample_page(
            vehicle.id,
            &[TimeRange::ALL],
            &SampleFilter::default(),
            PageRequest {
                descending: false,
                after_us: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 40);
    store.close().await;
}
