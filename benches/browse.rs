//! Browsing speed on a large store, measured at the HTTP API and compared
//! with the same query in the `sqlite3` CLI on the same file.
//!
//!     cargo bench --features ssr --bench browse
//!
//! Builds a store of BENCH_VEHICLES (default 10) vehicles with
//! BENCH_SAMPLES (default 1,000,000) samples each at 1 Hz, or reuses the
//! file named by BENCH_DB. Then, on vehicle 0, as a signed-in owner over
//! loopback HTTP (BENCH_RUNS runs each, default 30):
//!   1. the first page (100 rows) of one day filtered to speed ≥ 100 km/h,
//!      against the same SELECT in the `sqlite3` CLI (per query, with the
//!      CLI's own start-up subtracted);
//!   2. the events list: the first page of brake events and the next one
//!      (keyset cursor), against the same SELECT in the CLI;
//!   3. one event's detail (±15 s window, chart, table) and a crash view
//!      (the same with a crash record), against their SELECTs in the CLI;
//!   4. a 7-day chart of speed and brake pressure.
//!
//! Reports median and p95 of each.

mod common;

use common::{env_or, fixture, summary, time_get, vin, BenchDb, Fixture, DAY_US, START_US};
use portal_core::server::store;
use std::time::{Duration, Instant};

/// Wall time of one CLI process (`sqlite3` or `psql`) running `sql` `count`
/// times (rows printed to a pipe, as a user of the CLI would see them).
fn cli_session(db: &BenchDb, sql: &str, count: u64) -> Duration {
    use std::io::Write;
    let script = sql.repeat(count as usize);
    let started = Instant::now();
    let mut child = db
        .cli()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the database's CLI (apt install sqlite3 / postgresql-client)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("sqlite3 output");
    assert!(out.status.success(), "the CLI failed");
    started.elapsed()
}

/// Per-query times of `sql` in the CLI: each trial runs it 50 times in one
/// session and subtracts an empty session (process start and open).
fn cli_times(db: &BenchDb, sql: &str, trials: u64) -> Vec<Duration> {
    const PER_TRIAL: u64 = 50;
    (0..trials)
        .map(|_| {
            let empty = cli_session(db, "", 0);
            let full = cli_session(db, sql, PER_TRIAL);
            full.saturating_sub(empty) / PER_TRIAL as u32
        })
        .collect()
}

/// The API against the same statements in the database's CLI: prints both
/// and their ratio.
async fn compare(
    db: &BenchDb,
    client: &reqwest::Client,
    label: &str,
    url: &str,
    sql: &str,
    runs: u64,
) {
    time_get(client, url, 3).await;
    let api = summary(
        &format!("{label}, HTTP API"),
        time_get(client, url, runs).await,
    );
    let cli_name = if db.is_postgres() { "psql" } else { "sqlite3" };
    let cli = summary(
        &format!("{label}, {cli_name} CLI"),
        cli_times(db, sql, runs),
    );
    println!("ratio HTTP API / {cli_name}: {:.2}", api / cli);
}

/// Vehicle 0's owner's period, as the gate reads it (UTC microseconds).
async fn owner_period(pool: &store::Pool) -> (i64, i64) {
    match pool {
        store::Pool::Sqlite(p) => sqlx::query_as(
            "SELECT from_at, coalesce(to_at, 9223372036854775807) FROM ownership_periods \
             WHERE vehicle_id = 1",
        )
        .fetch_one(p)
        .await
        .expect("period"),
        store::Pool::Postgres(p) => sqlx::query_as(
            "SELECT CASE WHEN isfinite(from_at) \
             THEN (extract(epoch FROM from_at) * 1000000)::bigint ELSE -9223372036854775808 END, \
             CASE WHEN to_at IS NOT NULL AND isfinite(to_at) \
             THEN (extract(epoch FROM to_at) * 1000000)::bigint ELSE 9223372036854775807 END \
             FROM ownership_periods WHERE vehicle_id = 1",
        )
        .fetch_one(p)
        .await
        .expect("period"),
    }
}

#[tokio::main]
async fn main() {
    let per_vehicle = env_or("BENCH_SAMPLES", 1_000_000);
    let runs = env_or("BENCH_RUNS", 30);
    let Fixture {
        store,
        pool,
        db,
        client,
        base,
        _scratch: _database,
        ..
    } = fixture(10, 1_000_000).await;
    let total: i64 = match &pool {
        store::Pool::Sqlite(p) => sqlx::query_scalar("SELECT count(*) FROM samples")
            .fetch_one(p)
            .await
            .expect("count"),
        store::Pool::Postgres(p) => sqlx::query_scalar("SELECT count(*) FROM samples")
            .fetch_one(p)
            .await
            .expect("count"),
    };
    println!("store: {total} samples in all; vehicle 0 holds {per_vehicle} (1 Hz)");
    let v = vin(0);
    let day = (START_US + 5 * DAY_US, START_US + 6 * DAY_US);
    let fmt = portal_core::domain::time::format_utc;

    // 1. First page of a day at speed >= 100 km/h: HTTP API vs the sqlite3 CLI.
    let url = format!(
        "{base}/vehicles/{v}/samples?from={}&to={}&min_speed_kmh=100&limit=100",
        fmt(day.0),
        fmt(day.1)
    );
    time_get(&client, &url, 3).await; // warm the cache as the CLI's first runs do
    let api = summary(
        "day page, speed >= 100, HTTP API",
        time_get(&client, &url, runs).await,
    );
    let sql = if db.is_postgres() {
        format!(
            "SELECT * FROM samples WHERE vehicle_id = 1 AND t >= '{}' AND t < '{}' \
             AND speed_kmh >= 100 ORDER BY t LIMIT 100;",
            fmt(day.0),
            fmt(day.1)
        )
    } else {
        format!(
            "SELECT * FROM samples WHERE vehicle_id = 1 AND t >= {} AND t < {} \
             AND speed_kmh >= 100 ORDER BY t LIMIT 100;",
            day.0, day.1
        )
    };
    let cli_name = if db.is_postgres() { "psql" } else { "sqlite3" };
    let cli = summary(
        &format!("day page, speed >= 100, {cli_name} CLI"),
        cli_times(&db, &sql, runs),
    );
    println!("ratio HTTP API / {cli_name}: {:.2}", api / cli);

    // The fixed cost of the API (session, gate, JSON) shows on a page whose
    // rows match at once: speed >= 40 km/h.
    let url = url.replace("min_speed_kmh=100", "min_speed_kmh=40");
    let api = summary(
        "day page, speed >= 40, HTTP API",
        time_get(&client, &url, runs).await,
    );
    let sql = sql.replace("speed_kmh >= 100", "speed_kmh >= 40");
    let cli = summary(
        &format!("day page, speed >= 40, {cli_name} CLI"),
        cli_times(&db, &sql, runs),
    );
    println!("ratio HTTP API / {cli_name}: {:.2}", api / cli);

    // 2. The events list: a keyset page of brake events, the first and the
    // next, against the statement the store runs for each.
    let q = |t: i64| {
        if db.is_postgres() && t == i64::MAX {
            "'infinity'".to_string()
        } else if db.is_postgres() && t == i64::MIN {
            "'-infinity'".to_string()
        } else if db.is_postgres() {
            format!("'{}'", fmt(t))
        } else {
            t.to_string()
        }
    };
    let brake_types = if db.is_postgres() {
        " = ANY(ARRAY['hard_brake','abs_activation','aeb_activation'])"
    } else {
        " IN ('hard_brake', 'abs_activation', 'aeb_activation')"
    };
    let period = owner_period(&pool).await;
    let events_sql = |after: &str| {
        format!(
            "SELECT event_id, t, event_type, severity, trigger_metric, trigger_value, \
             trigger_threshold, note, extra FROM events WHERE vehicle_id = 1 \
             AND t >= {} AND t < {} AND event_type{brake_types}{after} \
             ORDER BY t, event_id LIMIT 100;",
            q(period.0),
            q(period.1)
        )
    };
    let url = format!("{base}/vehicles/{v}/events?group=brake&limit=100");
    let first: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        first["items"].as_array().map(Vec::len),
        Some(100),
        "{first}"
    );
    compare(
        &db,
        &client,
        "events list, first page of brake events",
        &url,
        &events_sql(""),
        runs,
    )
    .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (t_us, id) = cursor.split_once(':').expect("t:id");
    let url = format!("{url}&cursor={cursor}");
    let after = format!(
        " AND (t, event_id) > ({}, '{id}')",
        q(t_us.parse().unwrap())
    );
    compare(
        &db,
        &client,
        "events list, next page (cursor)",
        &url,
        &events_sql(&after),
        runs,
    )
    .await;

    // 3. An event's detail (±15 s window, chart, table) and a crash record's,
    // against the statements reading what they show.
    let detail_sql = |id: &str, t_us: i64| {
        let window = format!(
            "SELECT * FROM samples WHERE vehicle_id = 1 AND t >= {} AND t < {} ORDER BY t LIMIT 3001;",
            q(t_us - 15_000_000),
            q(t_us + 15_000_001)
        );
        let edr: String = ["edr_records", "edr_airbags", "edr_pre_crash", "edr_delta_v"]
            .iter()
            .map(|table| {
                format!("SELECT * FROM {table} WHERE vehicle_id = 1 AND event_id = '{id}';")
            })
            .collect();
        format!(
            "SELECT event_id, t, event_type, severity, trigger_metric, trigger_value, \
             trigger_threshold, note, extra FROM events WHERE vehicle_id = 1 AND event_id = '{id}';\
             {window}{edr}"
        )
    };
    let url = format!("{base}/vehicles/{v}/events/ev-bench");
    let t = START_US + 5 * DAY_US + DAY_US / 2;
    compare(
        &db,
        &client,
        "event detail (±15 s)",
        &url,
        &detail_sql("ev-bench", t),
        runs,
    )
    .await;
    let url = format!("{base}/vehicles/{v}/events/ev-crash");
    let t = START_US + 5 * DAY_US + 14 * 3_600_000_000 + 3_000_000;
    compare(
        &db,
        &client,
        "crash view (event, ±15 s, crash record of 20 s at 10 Hz)",
        &url,
        &detail_sql("ev-crash", t),
        runs,
    )
    .await;

    // 3. A 7-day chart of speed and brake pressure.
    let url = format!(
        "{base}/vehicles/{v}/chart?from={}&to={}&channels=speed_kmh,brake_pressure_bar",
        fmt(START_US + DAY_US),
        fmt(START_US + 8 * DAY_US)
    );
    summary(
        "7-day chart (2 series)",
        time_get(&client, &url, runs).await,
    );
    store.close().await;
}
