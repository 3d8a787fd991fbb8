//! Continuous access: the changes feed against the CSV export of the same
//! records, and the live view's latency from an import's commit to the
//! message on the client.
//!
//!     cargo bench --features ssr --bench changes
//!
//! Imports one vehicle's BENCH_SAMPLES (default 360,000: 100 hours at 1 Hz)
//! as the data center sends them, one file per BENCH_FILE_SAMPLES (3,600),
//! into a fresh SQLite file (or PostgreSQL with `BENCH_BACKEND=postgres`),
//! serves the portal on loopback and, as the vehicle's owner over HTTP:
//! follows `GET …/changes` from the start with `limit=1000` to its end, and
//! downloads `GET …/export?format=csv` of the same samples, BENCH_ROUNDS (3)
//! times each, alternately (records per second and their ratio); then opens
//! `GET …/live` and, BENCH_LIVE (50) times, imports a one-sample file (in
//! this process, as the server's own ingest does) and times until its
//! `changes` message arrives (median and p99).

mod common;

use common::{env_or, scratch_postgres, vin, START_US};
use portal_core::server::import::{import_reader, ImportOptions};
use portal_core::server::store;
use std::time::{Duration, Instant};

const PASSWORD: &str = "changes-bench-2026";

fn sample_line(vin: &str, t_us: i64, i: i64) -> String {
    format!(
        r#"{{"kind":"sample","vin":"{vin}","t":"{}","speed_kmh":{:.1},"brake_pressure_bar":{:.1},"gear":"D","odometer_km":{:.3}}}"#,
        portal_core::domain::time::format_utc(t_us),
        (i % 120) as f64,
        (i % 7) as f64,
        10_000.0 + i as f64 * 0.016
    )
}

/// Just what a client needs of a feed page to go on (items are skipped).
#[derive(serde::Deserialize)]
struct FeedPage {
    items: Vec<serde::de::IgnoredAny>,
    next_cursor: String,
    more: bool,
}

#[tokio::main]
async fn main() {
    let samples = env_or("BENCH_SAMPLES", 360_000) as i64;
    let per_file = env_or("BENCH_FILE_SAMPLES", 3_600) as i64;
    let rounds = env_or("BENCH_ROUNDS", 3);
    let live_runs = env_or("BENCH_LIVE", 50);
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = scratch_postgres().await;
    let url = match &scratch {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("changes.db").display()),
    };
    let (store, pool) = store::open(&url).await.expect("store");
    let vin = vin(0);
    let import = |text: String, name: String| {
        let store = store.clone();
        async move {
            import_reader(
                &*store,
                &name,
                std::io::Cursor::new(text.into_bytes()),
                &ImportOptions::default(),
                None,
            )
            .await
            .expect("import");
        }
    };
    let started = Instant::now();
    let mut i = 0;
    while i < samples {
        let mut text = format!(r#"{{"kind":"vehicle","vin":"{vin}","timezone":"Asia/Shanghai"}}"#);
        for k in i..(i + per_file).min(samples) {
            text.push('\n');
            text.push_str(&sample_line(vin.as_str(), START_US + k * 1_000_000, k));
        }
        import(text, format!("file-{i}")).await;
        i += per_file;
    }
    println!(
        "{samples} samples of one vehicle in {} files, imported in {:.1} s ({})",
        (samples + per_file - 1) / per_file,
        started.elapsed().as_secs_f64(),
        if scratch.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    let portal = portal_core::server::Portal::new(store.clone());
    portal
        .create_owner_with_vehicles("feed@example.com", PASSWORD, std::slice::from_ref(&vin))
        .await
        .expect("owner");
    let addr = common::serve(portal, &pool).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let base = format!("http://{addr}/api/v1");
    let res = client
        .post(format!("{base}/session"))
        .json(&serde_json::json!({"account": "feed@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 204);

    println!("| round | feed (limit 1000) | CSV export | feed / CSV |");
    println!("|---|---|---|---|");
    for round in 1..=rounds {
        let started = Instant::now();
        let (mut cursor, mut records, mut pages) = (String::new(), 0u64, 0u64);
        loop {
            let page: FeedPage = client
                .get(format!("{base}/vehicles/{vin}/changes"))
                .query(&[("limit", "1000"), ("cursor", cursor.as_str())])
                .send()
                .await
                .expect("feed")
                .json()
                .await
                .expect("feed page");
            records += page.items.len() as u64;
            pages += 1;
            cursor = page.next_cursor;
            if !page.more {
                break;
            }
        }
        let feed = started.elapsed().as_secs_f64();
        assert_eq!(records, samples as u64, "every sample once");

        let started = Instant::now();
        let body = client
            .get(format!("{base}/vehicles/{vin}/export?format=csv"))
            .send()
            .await
            .expect("export")
            .bytes()
            .await
            .expect("csv");
        let csv = started.elapsed().as_secs_f64();
        let rows = body.iter().filter(|b| **b == b'\n').count() as u64 - 1;
        assert_eq!(rows, samples as u64);
        println!(
            "| {round} | {:.0} records/s ({pages} pages, {feed:.2} s) | {:.0} records/s ({csv:.2} s) | {:.2} |",
            records as f64 / feed,
            rows as f64 / csv,
            (records as f64 / feed) / (rows as f64 / csv)
        );
    }

    // The live view: from an import's commit to its message on the client.
    let mut stream = client
        .get(format!("{base}/vehicles/{vin}/live"))
        .send()
        .await
        .expect("live");
    assert_eq!(stream.status(), 200);
    let mut latencies = Vec::new();
    let mut buffer = String::new();
    let mut t = START_US + samples * 1_000_000;
    for k in 0..live_runs {
        // Off the stream's polling rhythm, as real imports are.
        tokio::time::sleep(Duration::from_millis(97 * (k % 5) + 50)).await;
        t += 1_000_000;
        import(
            format!(
                "{{\"kind\":\"vehicle\",\"vin\":\"{vin}\",\"timezone\":\"Asia/Shanghai\"}}\n{}",
                sample_line(vin.as_str(), t, k as i64)
            ),
            format!("live-{k}"),
        )
        .await;
        let committed = Instant::now();
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                if message.contains("event: changes") {
                    break;
                }
                continue;
            }
            let chunk = stream.chunk().await.expect("stream").expect("open");
            buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
        latencies.push(committed.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "live view, import committed → message on the client ({live_runs} imports): median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().expect("runs").as_secs_f64() * 1e3
    );
}
