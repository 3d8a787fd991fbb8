//! The dispute report for a week with one crash record and 20 brake events.
//!
//!     cargo bench --features ssr --bench report
//!
//! One vehicle with a week of 1 Hz samples (604,800), 20 hard brakes and a
//! collision with its crash record, served on loopback. Times the owner's
//! `format=pdf` export of that week end to end over HTTP (the report
//! on its own: one pass over the samples for its facts, then the PDF), the
//! process's peak RSS during it (reset just before; the reports run first,
//! in a fresh process), and a `format=csv` export of the week for scale.

mod common;

use common::{fixture, reset_peak_rss, status_kib, DAY_US, START_US};
use serde_json::json;
use std::time::Instant;

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

#[tokio::main]
async fn main() {
    let f = fixture(1, 7 * 86_400).await;
    let vin = common::vin(0);
    // 20 hard brakes (one is the fixture's) and a collision on day 6 with its record.
    let mut lines =
        vec![json!({"kind": "vehicle", "vin": vin.as_str(), "timezone": "Asia/Shanghai"})];
    for k in 0..19 {
        lines.push(json!({"kind": "event", "vin": vin.as_str(), "id": format!("ev-brake-{k}"),
            "t": t(START_US + k * DAY_US / 3 + 3_600_000_000), "type": "hard_brake", "severity": "warning",
            "trigger": {"metric": "long_accel_mps2", "value": -6.2, "threshold": -4.0}}));
    }
    let crash = START_US + 6 * DAY_US + 7_200_000_000;
    lines.push(
        json!({"kind": "event", "vin": vin.as_str(), "id": "ev-crash", "t": t(crash),
        "type": "collision", "severity": "critical"}),
    );
    let pre: Vec<_> = (0..=10).map(|k| json!({"t_ms": -5000 + k * 500, "speed_kmh": 52.0 - k as f64, "brake_pedal": k > 6})).collect();
    let dv: Vec<_> = (0..=25)
        .map(|k| json!({"t_ms": k * 10, "long_kmh": -(k as f64)}))
        .collect();
    lines.push(json!({"kind": "edr", "vin": vin.as_str(), "event_id": "ev-crash", "t0": t(crash),
        "standard": "GB 39732-2020", "trigger": "delta_v", "locked": true, "complete": true,
        "max_delta_v_long_kmh": -25.0, "time_max_delta_v_ms": 250.0,
        "pre_crash": {"rate_hz": 2.0, "samples": pre}, "delta_v": {"rate_hz": 100.0, "samples": dv}}));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if portal_core::server::import::import_reader(
        &*f.store,
        "bench-events.ndjson",
        std::io::Cursor::new(text.into_bytes()),
        &Default::default(),
        None,
    )
    .await
    .is_err()
    {
        eprintln!("events already held (a reused BENCH_DB)");
    }

    let week = format!("from={}&to={}", t(START_US), t(START_US + 7 * DAY_US)).replace('+', "%2B");
    let get = |format: &str| {
        let url = format!(
            "{}/vehicles/{}/export?format={format}&{week}",
            f.base,
            vin.as_str()
        );
        let client = f.client.clone();
        async move {
            let started = Instant::now();
            let res = client.get(url).send().await.expect("export");
            assert_eq!(res.status(), 200);
            // Counted as it comes, not kept: the figures are the server's.
            let mut bytes = 0;
            let mut body = res.bytes_stream();
            while let Some(chunk) = futures::StreamExt::next(&mut body).await {
                bytes += chunk.expect("chunk").len();
            }
            (started.elapsed().as_secs_f64(), bytes)
        }
    };
    println!(
        "RSS before the reports: {:.1} MiB",
        status_kib("VmRSS:") as f64 / 1024.0
    );
    let mut runs = Vec::new();
    let mut peak = 0;
    for _ in 0..3 {
        reset_peak_rss();
        let (secs, bytes) = get("pdf").await;
        peak = peak.max(status_kib("VmHWM:"));
        runs.push(secs);
        println!(
            "PDF report of the week: {secs:.2} s, {:.0} KiB",
            bytes as f64 / 1024.0
        );
    }
    let (csv_secs, csv_bytes) = get("csv").await;
    println!(
        "CSV export of the week: {csv_secs:.2} s, {:.1} MiB",
        csv_bytes as f64 / 1048576.0
    );
    reset_peak_rss();
    let (bundle_secs, bundle_bytes) = get("bundle").await;
    println!(
        "evidence bundle of the week (CSV + NDJSON + report, zipped): {bundle_secs:.2} s, {:.1} MiB, peak RSS {:.1} MiB",
        bundle_bytes as f64 / 1048576.0,
        status_kib("VmHWM:") as f64 / 1024.0
    );
    runs.sort_by(f64::total_cmp);
    println!(
        "report: median {:.2} s (of 3), peak RSS {:.1} MiB",
        runs[1],
        peak as f64 / 1024.0
    );
}
