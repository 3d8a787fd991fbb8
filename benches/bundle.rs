//! A whole history's evidence bundle against the CSV of the same rows, and
//! the bundle's verification (issue: performance at 100 M samples, item 2).
//!
//!     cargo bench --features ssr --bench bundle                         # 1 M samples
//!     BENCH_ROUNDS=3 cargo bench --features ssr --bench bundle          # alternately, 3 times
//!
//!     BENCH_DEMO_DAYS=280 cargo bench --features ssr --bench bundle     # a demo vehicle's 280 days
//!
//! Builds one vehicle with BENCH_SAMPLES samples at 1 Hz (or, with
//! BENCH_DEMO_DAYS, demo vehicle 0's days as the generator writes them,
//! sealed with BENCH_DEMO_SEALED=1; or reuses BENCH_DB), then, as its signed-in owner over loopback HTTP, downloads
//! the whole CSV (every channel, location full) and the whole bundle (CSV,
//! NDJSON, report, manifest), alternately, BENCH_ROUNDS times: seconds,
//! bytes and the growth of peak RSS (VmHWM reset before each; server and
//! client are this process). The bundle is kept in a file and checked by
//! `unzip -t`, by Python's `zipfile` (`testzip`, every CRC), and by the
//! portal's verifier (`verify_bundle_file`, with the key from
//! `/.well-known/portal-signing-key`), timed BENCH_VERIFY_RUNS times
//! (default 5; the median is printed with every time).

mod common;

use common::{download, env_or, fixture, reset_peak_rss, status_kib};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let f = fixture(1, 1_000_000).await;
    let vin = common::vin(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = dir.path().join("bundle.zip");
    let csv_url = format!("{}/vehicles/{vin}/export?format=csv&location=full", f.base);
    let bundle_url = format!(
        "{}/vehicles/{vin}/export?format=bundle&location=full",
        f.base
    );

    for round in 1..=env_or("BENCH_ROUNDS", 1) {
        let (csv_secs, csv_bytes, csv_growth) = download(&f.client, &csv_url, None).await;
        let (secs, bytes, growth) = download(&f.client, &bundle_url, Some(&zip)).await;
        println!(
            "round {round}: CSV {csv_secs:.2} s ({:.1} MiB, peak RSS +{csv_growth:.1} MiB); \
             bundle {secs:.2} s ({:.1} MiB, peak RSS +{growth:.1} MiB); bundle / CSV {:.2}",
            csv_bytes as f64 / 1048576.0,
            bytes as f64 / 1048576.0,
            secs / csv_secs
        );
    }

    let unzip = std::process::Command::new("unzip")
        .args(["-tqq"])
        .arg(&zip)
        .status()
        .map(|s| s.success());
    let python = std::env::var("VDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let zipfile = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, zipfile; sys.exit(zipfile.ZipFile(sys.argv[1]).testzip() is not None)",
        ])
        .arg(&zip)
        .status()
        .map(|s| s.success());
    println!("unzip -t: {unzip:?}; Python zipfile.testzip: {zipfile:?}");

    let key = f
        .client
        .get(f.base.replace("/api/v1", "/.well-known/portal-signing-key"))
        .send()
        .await
        .expect("key")
        .json()
        .await
        .expect("key json");
    // Verification is short: timed BENCH_VERIFY_RUNS times, the median kept.
    let runs = env_or("BENCH_VERIFY_RUNS", 5).max(1);
    reset_peak_rss();
    let before = status_kib("VmRSS:");
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let file = std::fs::File::open(&zip).expect("open");
        let verification = portal_core::server::verify::verify_bundle_file(
            &file,
            &key,
            &portal_core::server::verify::Trust::default(),
        );
        times.push(started.elapsed().as_secs_f64());
        assert!(verification.valid, "{:?}", verification.problems);
    }
    let printed: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "verification (portal): median {:.2} s ({} s) for {:.1} MiB, peak RSS +{:.1} MiB",
        times[times.len() / 2],
        printed.join(", "),
        std::fs::metadata(&zip).expect("size").len() as f64 / 1048576.0,
        status_kib("VmHWM:").saturating_sub(before) as f64 / 1024.0
    );
}
