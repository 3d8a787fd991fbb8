//! The store as it grows to 100 million samples: import rate, browsing,
//! a week's chart and one vehicle's CSV export, measured at each size in
//! one run, so the sizes meet the same machine.
//!
//!     cargo bench --features ssr --bench scale          # SQLite: 1,000 vehicles, ≈ 100 M samples
//!     BENCH_BACKEND=postgres TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432 \
//!         cargo bench --features ssr --bench scale      # the same on PostgreSQL
//!     BENCH_PG_PARTITION_DAYS=7 …                       # PostgreSQL, `samples` and
//!                                                       # `sample_minutes` partitioned by 7-day ranges of time
//!
//! The fleet is the demo's (format 1, seed 7, BENCH_DAYS = 25 days from
//! 2026-10-01, about 100,000 samples per vehicle at 1 Hz with 10 Hz
//! windows), written BENCH_CHUNK (10) vehicles at a time to a file and
//! imported through `import_file`, `portal import`'s path, into one store
//! that keeps growing. When the store holds BENCH_CHECKPOINTS vehicles
//! (default "100,1000": ≈ 10 M, then ≈ 100 M samples) it reports, as
//! vehicle 0's signed-in owner over loopback HTTP (BENCH_RUNS runs each,
//! default 30; the export 5):
//!   - the import rate of the last tenth of the vehicles imported;
//!   - the first page (100 rows) of a day of telemetry;
//!   - the events list's first page;
//!   - a 7-day chart of speed and brake pressure;
//!   - the CSV export of vehicle 0's whole history (≈ 100,000 rows);
//!   - the database's bytes per sample.
//!
//! Vehicle 0's history is the same at every size (the demo generates each
//! vehicle from the seed and its number alone), so a figure that grows is
//! the store's size showing. At the end a table gives each figure at every
//! size and its ratio to the first size's. PostgreSQL gets `VACUUM ANALYZE`
//! before each measurement, as autovacuum would have run by then.

mod common;

use common::{serve_signed_in, summary, time_get, vacuum_analyze, vin, BenchDb, DAY_US};
use portal_core::server::demo::{generate_vehicles, DemoConfig};
use portal_core::server::import::{import_file, ImportOptions};
use portal_core::server::store;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

/// What one size's measurement found.
struct Checkpoint {
    /// One request each with the OS page cache dropped: first page, events
    /// list, chart, export (ms).
    cold: Option<Vec<f64>>,
    vehicles: u32,
    samples: u64,
    import_rate: f64,
    first_page_ms: f64,
    events_ms: f64,
    chart_ms: f64,
    export_s: f64,
    bytes_per_sample: f64,
}

fn list(name: &str, default: &str) -> Vec<u32> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|v| v.trim().parse().expect("a list of numbers"))
        .collect()
}

/// `samples` and `sample_minutes` as tables partitioned by `days`-day
/// ranges of time over the demo's period (and a default partition for
/// anything outside it), with the same columns, keys and checks.
fn partition_postgres(db: &BenchDb, days: u32) {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date");
    let end = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let mut sql = String::from("BEGIN;\n");
    for (table, column) in [("samples", "t"), ("sample_minutes", "minute")] {
        sql += &format!(
            "ALTER TABLE {table} RENAME TO {table}_plain;\n\
             CREATE TABLE {table} (LIKE {table}_plain INCLUDING ALL) PARTITION BY RANGE ({column});\n\
             DROP TABLE {table}_plain;\n\
             CREATE TABLE {table}_default PARTITION OF {table} DEFAULT;\n"
        );
        let mut from = start;
        while from < end {
            let to = from + chrono::Duration::days(days.into());
            sql += &format!(
                "CREATE TABLE {table}_{} PARTITION OF {table} FOR VALUES FROM ('{from}T00:00:00Z') TO ('{to}T00:00:00Z');\n",
                from.format("%Y%m%d")
            );
            from = to;
        }
    }
    sql += "ALTER TABLE sample_minutes ADD FOREIGN KEY (vehicle_id) REFERENCES vehicles(id);\nCOMMIT;\n";
    let status = db
        .cli()
        .args(["-v", "ON_ERROR_STOP=1", "-c", &sql])
        .status()
        .expect("psql");
    assert!(status.success(), "partitioning failed");
}

/// The database's size on disk: SQLite's file and its WAL, or PostgreSQL's
/// `pg_database_size`.
async fn database_bytes(db: &BenchDb, pool: &store::Pool) -> u64 {
    match (db, pool) {
        (BenchDb::Sqlite(path), store::Pool::Sqlite(p)) => {
            // The WAL keeps its largest size until truncated: fold it in.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(p)
                .await
                .expect("checkpoint");
            ["", "-wal"]
                .iter()
                .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
                .map(|m| m.len())
                .sum()
        }
        (_, store::Pool::Postgres(p)) => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(p)
                .await
                .expect("size") as u64
        }
        _ => unreachable!("each database has its own kind of pool"),
    }
}

/// The first day from the demo's start on which vehicle 0 has a full page
/// of samples.
async fn a_full_day(client: &reqwest::Client, base: &str, start_us: i64) -> String {
    let fmt = portal_core::domain::time::format_utc;
    for day in 0..25 {
        let from = start_us + day * DAY_US;
        let url = format!(
            "{base}/vehicles/{}/samples?from={}&to={}&limit=100",
            vin(0),
            fmt(from),
            fmt(from + DAY_US)
        );
        let page: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        if page["items"].as_array().map(Vec::len) == Some(100) {
            return url;
        }
    }
    panic!("vehicle 0 has no day with 100 samples");
}

async fn measure(
    f: &common::Fixture,
    vehicles: u32,
    samples: u64,
    import_rate: f64,
    runs: u64,
) -> Checkpoint {
    if f.db.is_postgres() {
        let started = Instant::now();
        vacuum_analyze(&f.db);
        println!("VACUUM ANALYZE: {:.1} s", started.elapsed().as_secs_f64());
    }
    let bytes = database_bytes(&f.db, &f.pool).await;
    println!(
        "== {vehicles} vehicles, {samples} samples: database {:.2} GiB, {:.1} bytes per sample; import {import_rate:.0} samples/s (last tenth)",
        bytes as f64 / (1u64 << 30) as f64,
        bytes as f64 / samples as f64
    );
    let fmt = portal_core::domain::time::format_utc;
    let start_us = chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_micros();
    let v = vin(0);
    let timed = |label: &'static str, url: String| {
        let client = f.client.clone();
        async move {
            time_get(&client, &url, 3).await; // warm, as a browsing owner's cache is
            summary(label, time_get(&client, &url, runs).await)
        }
    };
    let day = a_full_day(&f.client, &f.base, start_us).await;
    let events = format!("{}/vehicles/{v}/events?limit=100", f.base);
    let chart = format!(
        "{}/vehicles/{v}/chart?from={}&to={}&channels=speed_kmh,brake_pressure_bar",
        f.base,
        fmt(start_us + 7 * DAY_US),
        fmt(start_us + 14 * DAY_US)
    );
    let url = format!("{}/vehicles/{v}/export?format=csv&location=full", f.base);
    let cold = if drop_os_cache() {
        let mut once = Vec::new();
        for target in [&day, &events, &chart, &url] {
            let started = Instant::now();
            let res = f.client.get(target).send().await.expect("request");
            assert_eq!(res.status(), 200, "{target}");
            res.bytes().await.expect("body");
            once.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "cold (the OS page cache dropped first), one request each: first page {:.1} ms, events list {:.1} ms, 7-day chart {:.1} ms, CSV export {:.0} ms",
            once[0], once[1], once[2], once[3]
        );
        Some(once)
    } else {
        println!("cold figures left out: /proc/sys/vm/drop_caches is not writable here");
        None
    };
    let first_page_ms = timed("first page of a day (100 rows)", day).await;
    let events_ms = timed("events list, first page", events).await;
    let chart_ms = timed("7-day chart (2 series)", chart).await;
    let mut exports: Vec<(f64, u64)> = Vec::new();
    for _ in 0..6 {
        let (secs, bytes, _) = common::download(&f.client, &url, None).await;
        exports.push((secs, bytes));
    }
    exports.remove(0); // the first warms the cache
    exports.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (export_s, export_bytes) = exports[exports.len() / 2];
    println!(
        "CSV export of vehicle 0: median {export_s:.3} s ({:.1} MiB, 5 runs)",
        export_bytes as f64 / 1048576.0
    );
    Checkpoint {
        cold,
        vehicles,
        samples,
        import_rate,
        first_page_ms,
        events_ms,
        chart_ms,
        export_s,
        bytes_per_sample: bytes as f64 / samples as f64,
    }
}

/// Writes back and drops the OS page cache (root only), so the next reads
/// come from the disk as a vehicle nobody looked at lately does.
fn drop_os_cache() -> bool {
    let _ = std::process::Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn report(points: &[Checkpoint]) {
    let first = &points[0];
    println!("\n| figure | {} |", {
        let sizes: Vec<String> = points
            .iter()
            .map(|p| {
                format!(
                    "{} vehicles, {:.1} M samples",
                    p.vehicles,
                    p.samples as f64 / 1e6
                )
            })
            .collect();
        sizes.join(" | ")
    });
    let row = |label: &str, value: &dyn Fn(&Checkpoint) -> f64, unit: &str| {
        let cells: Vec<String> = points
            .iter()
            .map(|p| {
                let v = value(p);
                if std::ptr::eq(p, first) {
                    format!("{v:.2} {unit}")
                } else {
                    format!("{v:.2} {unit} ({:.2}×)", v / value(first))
                }
            })
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    };
    row(
        "import rate (last tenth)",
        &|p| p.import_rate / 1000.0,
        "k samples/s",
    );
    row("first page of a day", &|p| p.first_page_ms, "ms");
    row("events list, first page", &|p| p.events_ms, "ms");
    row("7-day chart", &|p| p.chart_ms, "ms");
    row("CSV export, one vehicle", &|p| p.export_s, "s");
    row("database per sample", &|p| p.bytes_per_sample, "B");
    if points.iter().all(|p| p.cold.is_some()) {
        let cold = |i: usize| move |p: &Checkpoint| p.cold.as_ref().expect("cold")[i];
        row("cold: first page of a day", &cold(0), "ms");
        row("cold: events list", &cold(1), "ms");
        row("cold: 7-day chart", &cold(2), "ms");
        row("cold: CSV export", &cold(3), "ms");
    }
}

#[tokio::main]
async fn main() {
    let checkpoints = list("BENCH_CHECKPOINTS", "100,1000");
    let vehicles = *checkpoints.iter().max().expect("a checkpoint");
    let chunk = common::env_or("BENCH_CHUNK", 10) as u32;
    let runs = common::env_or("BENCH_RUNS", 30);
    let config = DemoConfig {
        vehicles,
        days: common::env_or("BENCH_DAYS", 25) as u32,
        seed: 7,
        sealed: false,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = common::scratch_postgres().await;
    let db = match &scratch {
        Some(pg) => BenchDb::Postgres(pg.url.clone()),
        None => BenchDb::Sqlite(dir.path().join("scale.db")),
    };
    let (importer, _) = store::open(&db.url()).await.expect("store");
    if let Some(days) = std::env::var("BENCH_PG_PARTITION_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
    {
        assert!(db.is_postgres(), "partitioning is PostgreSQL's");
        partition_postgres(&db, days);
        println!("samples and sample_minutes partitioned by {days}-day ranges");
    }
    let file = dir.path().join("part.ndjson");
    let options = ImportOptions::default();
    let (mut imported, mut rates) = (0u64, Vec::<(u64, Duration)>::new());
    let mut fixture = None;
    let mut points = Vec::new();
    let started = Instant::now();
    for first in (0..vehicles).step_by(chunk as usize) {
        let last = (first + chunk).min(vehicles);
        let mut out = BufWriter::new(std::fs::File::create(&file).expect("create"));
        let counts = generate_vehicles(&config, first..last, &mut out).expect("generate");
        out.flush().expect("flush");
        drop(out);
        let import_started = Instant::now();
        let summary = import_file(&*importer, &file, &options, None)
            .await
            .expect("import");
        let took = import_started.elapsed();
        assert_eq!(summary.inserted.samples, counts.samples);
        imported += counts.samples;
        rates.push((counts.samples, took));
        if last.is_multiple_of(100) || last == vehicles {
            eprintln!(
                "{last} vehicles, {imported} samples ({:.0} samples/s for the last part; {:.0?} so far)",
                counts.samples as f64 / took.as_secs_f64(),
                started.elapsed()
            );
        }
        if fixture.is_none() {
            // Vehicle 0 is in the store: its owner signs up and in.
            let served_dir = tempfile::tempdir().expect("temp dir");
            fixture = Some(serve_signed_in(db.clone(), None, served_dir).await);
        }
        if checkpoints.contains(&last) {
            let tenth = &rates[rates.len() - (rates.len() / 10).max(1)..];
            let (n, secs) = tenth
                .iter()
                .fold((0u64, 0f64), |(n, s), (c, d)| (n + c, s + d.as_secs_f64()));
            let f = fixture.as_ref().expect("served");
            points.push(measure(f, last, imported, n as f64 / secs, runs).await);
        }
    }
    std::fs::remove_file(&file).ok();
    report(&points);
    if let Some(f) = fixture {
        f.store.close().await;
    }
    importer.close().await;
    drop(scratch);
}
