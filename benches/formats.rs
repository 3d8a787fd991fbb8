//! Analyst formats against CSV on the same rows: Parquet export
//! throughput, file size and memory.
//!
//!     cargo bench --features ssr --bench formats                          # 1 M samples
//!     BENCH_SAMPLES=10000000 cargo bench --features ssr --bench formats   # 10 M samples
//!
//! Builds one vehicle with BENCH_SAMPLES samples at 1 Hz (9 channels each),
//! then, as its owner over loopback HTTP, downloads its whole export as CSV
//! and as Parquet, alternately, BENCH_ROUNDS (3) times each, counting bytes
//! without keeping them. Each download's memory is its peak RSS growth:
//! VmHWM (reset just before it) minus the RSS before it; server and client
//! are this one process.

mod common;

use common::{download, env_or, fixture};

#[tokio::main]
async fn main() {
    let f = fixture(1, 1_000_000).await;
    let rows = env_or("BENCH_SAMPLES", 1_000_000) as f64;
    let rounds = env_or("BENCH_ROUNDS", 3);
    let url = |format: &str| {
        format!(
            "{}/vehicles/{}/export?format={format}&location=full",
            f.base,
            common::vin(0)
        )
    };
    println!("| round | CSV | Parquet | Parquet / CSV rows/s | Parquet / CSV bytes |");
    println!("|---|---|---|---|---|");
    for round in 1..=rounds {
        let (csv_s, csv_b, csv_m) = download(&f.client, &url("csv"), None).await;
        let (pq_s, pq_b, pq_m) = download(&f.client, &url("parquet"), None).await;
        println!(
            "| {round} | {:.0} rows/s, {:.1} MiB, +{csv_m:.1} MiB RSS | {:.0} rows/s, {:.1} MiB, +{pq_m:.1} MiB RSS | {:.2} | {:.3} |",
            rows / csv_s,
            csv_b as f64 / 1048576.0,
            rows / pq_s,
            pq_b as f64 / 1048576.0,
            csv_s / pq_s,
            pq_b as f64 / csv_b as f64,
        );
    }
}
