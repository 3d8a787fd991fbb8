//! CSV export throughput and memory, against `sqlite3 -csv` on the same file
//! (or, with BENCH_BACKEND=postgres, `COPY … TO STDOUT WITH CSV` in `psql`).
//!
//!     cargo bench --features ssr --bench export                          # 1 M samples
//!     BENCH_SAMPLES=10000000 cargo bench --features ssr --bench export   # 10 M samples
//!
//! Builds one vehicle with BENCH_SAMPLES samples at 1 Hz (or reuses BENCH_DB),
//! then downloads its whole CSV export (every channel, location full) over
//! loopback HTTP as its owner, counting bytes and rows without keeping them.
//! Peak RSS is the process's VmHWM, reset just before the export (which runs
//! first, in a fresh process), so it covers the export alone (server and
//! client are this one process). The
//! `sqlite3` side runs `.mode csv` on the same SELECT into a pipe.

mod common;

use common::{fixture, reset_peak_rss, status_kib};
use futures::StreamExt;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let f = fixture(1, 1_000_000).await;

    reset_peak_rss();
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let res = f
        .client
        .get(format!(
            "{}/vehicles/{}/export?format=csv&location=full",
            f.base,
            common::vin(0)
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    let (mut bytes, mut rows) = (0u64, 0u64);
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len() as u64;
        rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    let rows = rows - 1; // the header
    println!(
        "HTTP CSV export: {rows} rows, {:.1} MiB in {secs:.2} s = {:.0} rows/s; peak RSS {:.1} MiB (RSS before {:.1} MiB)",
        bytes as f64 / 1048576.0,
        rows as f64 / secs,
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );

    // Reference point: the store's keyset pages alone, no formatting, no HTTP
    // (after the export, so that its memory figures start from a clean process).
    let vehicle = f.store.vehicle(&common::vin(0)).await.unwrap().unwrap().id;
    let ref_started = Instant::now();
    let (mut after, mut read) = (None, 0u64);
    loop {
        let page = f
            .store
            .sample_page(
                vehicle,
                &[portal_core::server::store::TimeRange::ALL],
                &Default::default(),
                portal_core::server::store::PageRequest {
                    descending: false,
                    after_us: after,
                    limit: 5_000,
                },
            )
            .await
            .unwrap();
        read += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == 5_000 => after = Some(last.t_us),
            _ => break,
        }
    }
    let ref_secs = ref_started.elapsed().as_secs_f64();
    println!(
        "store pages alone: {read} rows in {ref_secs:.2} s = {:.0} rows/s",
        read as f64 / ref_secs
    );

    let started = Instant::now();
    let (cli_name, out) = if f.db.is_postgres() {
        let copy = "COPY (SELECT * FROM samples WHERE vehicle_id = 1 ORDER BY t) TO STDOUT WITH CSV HEADER";
        (
            "psql COPY … TO STDOUT WITH CSV",
            f.db.cli().arg("-c").arg(copy).output(),
        )
    } else {
        let select = "SELECT * FROM samples WHERE vehicle_id = 1 ORDER BY t;";
        (
            "sqlite3 -csv",
            f.db.cli().args(["-csv", "-header", select]).output(),
        )
    };
    let out = out.expect("the database's CLI (apt install sqlite3 / postgresql-client)");
    let secs_cli = started.elapsed().as_secs_f64();
    assert!(out.status.success());
    let cli_rows = out.stdout.iter().filter(|b| **b == b'\n').count() as u64 - 1;
    println!(
        "{cli_name}: {cli_rows} rows, {:.1} MiB in {secs_cli:.2} s = {:.0} rows/s",
        out.stdout.len() as f64 / 1048576.0,
        cli_rows as f64 / secs_cli
    );
    println!(
        "throughput HTTP / {cli_name}: {:.2}",
        (rows as f64 / secs) / (cli_rows as f64 / secs_cli)
    );
}
