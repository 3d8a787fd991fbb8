//! Latency under load, in a release build:
//!
//!     cargo bench --features ssr --bench load
//!
//! BENCH_SESSIONS (default 100) signed-in sessions browse vehicle 0's
//! telemetry and events (API pages and server-rendered pages, each day of
//! the data in turn) for BENCH_SECONDS (default 30), while one ingest of
//! BENCH_INGEST_SAMPLES (default 200,000) new samples and one CSV export of
//! the vehicle's whole history run beside them. Each session pauses
//! BENCH_THINK_MS (default 1000, ±50 %) between pages, as a reader does;
//! BENCH_THINK_MS=0 sends them back to back and measures capacity instead.
//! Reports p50 / p99 per kind of request and errors. Goal: p99 ≤ 100 ms for
//! browsing, 0 errors.

mod common;
#[path = "../tests/support/load.rs"]
mod load;

use common::{env_or, fixture, vin, DAY_US, PASSWORD, START_US};
use std::io::Write;
use std::time::Duration;

fn ingest_body(samples: u64, after_us: i64) -> Vec<u8> {
    let mut out = Vec::new();
    let v = vin(0);
    for i in 0..samples as i64 {
        let t = chrono::DateTime::from_timestamp_micros(after_us + i * 100_000).unwrap();
        writeln!(
            out,
            "{{\"kind\":\"sample\",\"vin\":\"{v}\",\"t\":\"{}\",\"speed_kmh\":{}.5}}",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            i % 150
        )
        .unwrap();
    }
    out
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let per_vehicle = env_or("BENCH_SAMPLES", 1_000_000);
        let f = fixture(2, 1_000_000).await;
        let days = (per_vehicle as i64 / 86_400).max(1) as u32;
        let token = portal_core::server::Portal::new(f.store.clone())
            .issue_ingest_token(&format!("bench-{}", std::process::id()))
            .await
            .expect("token")
            .token;
        let sessions = env_or("BENCH_SESSIONS", 100) as usize;
        let duration = Duration::from_secs(env_or("BENCH_SECONDS", 30));
        let think = Duration::from_millis(env_or("BENCH_THINK_MS", 1000));
        // New samples after everything held, at 10 Hz.
        let after = START_US + (days as i64 + 30) * DAY_US;
        let first_day = chrono::DateTime::from_timestamp_micros(START_US)
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let report = load::run(load::LoadPlan {
            origin: f.base.trim_end_matches("/api/v1").to_string(),
            vin: vin(0).to_string(),
            account: "bench@example.com".into(),
            password: PASSWORD.into(),
            sessions,
            duration,
            think,
            first_day,
            days,
            ingest: Some((
                token,
                ingest_body(env_or("BENCH_INGEST_SAMPLES", 200_000), after),
            )),
            export: Some(format!("/api/v1/vehicles/{}/export?format=csv", vin(0))),
        })
        .await;
        report.print(sessions, duration, think);
        f.store.close().await;
    });
}
