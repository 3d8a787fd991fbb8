//! Import throughput and peak memory.
//!
//!     cargo bench --features ssr --bench import            # ~1.03 M samples
//!     BENCH_DAYS=90 cargo bench --features ssr --bench import   # ~3 M samples
//!     BENCH_SEALED=1 cargo bench --features ssr --bench import  # the same fleet, sealed (format 1.1)
//!     BENCH_SEALED=both BENCH_ROUNDS=5 cargo bench --features ssr --bench import
//!         # both files, imported alternately into fresh SQLite files: the
//!         # sealed import's throughput against the unsealed one's, per round
//!
//!     BENCH_VEHICLES=20 BENCH_INTERLEAVE=1 cargo bench --features ssr --bench import
//!         # the vehicles' lines taken in turn, one from each, as a data
//!         # center sending a fleet at once would (peak memory by fleet size)
//!
//! Generates a demo file (8 vehicles × BENCH_DAYS days), then imports it into
//! a fresh SQLite file (or, with BENCH_BACKEND=postgres, a fresh PostgreSQL
//! database) exactly as `portal import` does, and reports samples/s
//! and the process's peak RSS during the import (VmHWM, reset before it).
//! On PostgreSQL the reference is `psql`'s own `\copy` of the same rows,
//! already encoded (binary), into a copy of the table: the server's bound.

mod common;

use common::{cpu_seconds, env_or, reset_peak_rss, status_kib};
use portal_core::server::demo::{generate, DemoConfig, DemoCounts};
use portal_core::server::import::{import_file, ImportOptions};
use portal_core::server::store::Store;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// The demo fleet's file, sealed or not, and what it holds.
fn demo_file(path: &Path, sealed: bool) -> (DemoConfig, DemoCounts) {
    let config = DemoConfig {
        vehicles: env_or("BENCH_VEHICLES", 8) as u32,
        days: env_or("BENCH_DAYS", 31) as u32,
        seed: 7,
        sealed,
        ..DemoConfig::default()
    };
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    let counts = generate(&config, &mut out).expect("generate");
    out.flush().expect("flush");
    (config, counts)
}

/// Rewrites the demo file (one vehicle after another) with the vehicles'
/// lines taken in turn, each vehicle's own order kept: split by VIN into a
/// file per vehicle, then one line from each in turn (streaming: the bench's
/// own memory stays out of the import's figure).
fn interleave(path: &Path) {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut parts: Vec<(String, BufWriter<std::fs::File>, std::path::PathBuf)> = Vec::new();
    let input = std::io::BufReader::new(std::fs::File::open(path).expect("open"));
    for line in input.lines() {
        let line = line.expect("line");
        let vin = serde_json::from_str::<serde_json::Value>(&line).expect("json")["vin"]
            .as_str()
            .expect("every demo line names its vehicle")
            .to_string();
        let at = match parts.iter().position(|(v, ..)| *v == vin) {
            Some(at) => at,
            None => {
                let part = dir.path().join(format!("{}.ndjson", parts.len()));
                let out = BufWriter::new(std::fs::File::create(&part).expect("create"));
                parts.push((vin, out, part));
                parts.len() - 1
            }
        };
        writeln!(parts[at].1, "{line}").expect("write");
    }
    let mut readers: Vec<_> = parts
        .into_iter()
        .map(|(_, mut out, part)| {
            out.flush().expect("flush");
            drop(out);
            std::io::BufReader::new(std::fs::File::open(part).expect("open")).lines()
        })
        .collect();
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    while !readers.is_empty() {
        readers.retain_mut(|lines| match lines.next() {
            Some(line) => {
                writeln!(out, "{}", line.expect("line")).expect("write");
                true
            }
            None => false,
        });
    }
    out.flush().expect("flush");
}

/// Import options trusting the demo CA (as `serve --demo-if-empty` does).
fn demo_options(config: &DemoConfig) -> ImportOptions {
    ImportOptions {
        vehicle_cas: std::sync::Arc::new(
            portal_core::server::seal::TrustAnchors::from_list(
                "demo",
                vec![portal_core::server::demo::demo_ca(config.seed)],
            )
            .expect("the demo CA"),
        ),
        ..ImportOptions::default()
    }
}

/// One import into a fresh file: samples/s, peak RSS (MiB) and the CPU
/// seconds it took on every thread.
struct Round {
    rate: f64,
    peak_mib: f64,
    cpu: f64,
}

/// Imports `file` into a fresh SQLite file in `dir`.
async fn import_fresh(dir: &Path, file: &Path, options: &ImportOptions) -> Round {
    let db = dir.join("round.db");
    let url = format!("sqlite://{}", db.display());
    let (store, _) = portal_core::server::store::open(&url).await.expect("store");
    reset_peak_rss();
    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    let summary = import_file(&*store, file, options, None)
        .await
        .expect("import");
    let rate = summary.inserted.samples as f64 / started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let peak_mib = status_kib("VmHWM:") as f64 / 1024.0;
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Round {
        rate,
        peak_mib,
        cpu,
    }
}

/// `BENCH_SEALED=both`: the same fleet unsealed and sealed, imported in
/// turn `BENCH_ROUNDS` times (each into a fresh file), so both meet the
/// same machine; the ratio per round and its median.
async fn sealed_against_unsealed(dir: &Path) {
    let plain = dir.join("unsealed.ndjson");
    let sealed = dir.join("sealed.ndjson");
    let (config, counts) = demo_file(&plain, false);
    demo_file(&sealed, true);
    let options = demo_options(&config);
    println!(
        "{} samples per file; rounds alternate unsealed, sealed (SQLite, fresh file each)",
        counts.samples
    );
    let (mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
    for round in 1..=env_or("BENCH_ROUNDS", 5) {
        let u = import_fresh(dir, &plain, &options).await;
        let s = import_fresh(dir, &sealed, &options).await;
        ratios.push(s.rate / u.rate);
        cpu_ratios.push(s.cpu / u.cpu);
        println!(
            "round {round}: unsealed {:.0} samples/s ({:.2} CPU s, peak RSS {:.1} MiB), sealed {:.0} samples/s ({:.2} CPU s, peak RSS {:.1} MiB), sealed/unsealed {:.3}",
            u.rate, u.cpu, u.peak_mib, s.rate, s.cpu, s.peak_mib, s.rate / u.rate
        );
    }
    let spread = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        format!(
            "median {:.3}, lowest {:.3}, highest {:.3}",
            values[values.len() / 2],
            values[0],
            values[values.len() - 1]
        )
    };
    println!("sealed/unsealed throughput: {}", spread(ratios));
    println!("sealed/unsealed CPU time: {}", spread(cpu_ratios));
}

#[tokio::main]
async fn main() {
    // As `portal import`'s main does.
    portal::memory::keep_heap_trimmed();
    let dir = tempfile::tempdir().expect("temp dir");
    if std::env::var("BENCH_SEALED").as_deref() == Ok("both") {
        return sealed_against_unsealed(dir.path()).await;
    }
    let file = dir.path().join("bench.ndjson");

    // Sealed: the demo fleet's own logs (format 1.1: keys, positions at 1 Hz,
    // a seal a minute), checked against the demo CA at import.
    let sealed = env_or("BENCH_SEALED", 0) == 1;
    let started = Instant::now();
    let (config, counts) = demo_file(&file, sealed);
    if env_or("BENCH_INTERLEAVE", 0) == 1 {
        interleave(&file);
        println!("the {} vehicles' lines interleaved", config.vehicles);
    }
    let options = demo_options(&config);
    let size = std::fs::metadata(&file).expect("metadata").len();
    println!(
        "generated {} samples, {} events, {} crash records, {} positions, {} seals ({:.0} MiB) in {:.1} s",
        counts.samples,
        counts.events,
        counts.edr,
        counts.positions,
        counts.seals,
        size as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    // Parsing and validation alone, on one thread, for the breakdown.
    let started = Instant::now();
    let mut parser =
        portal_core::server::import::LineParser::new(true).trusting_vehicle_cas(sealed);
    let text = std::fs::read_to_string(&file).expect("read");
    let mut parsed = 0u64;
    for (i, line) in text.lines().enumerate() {
        if parser.parse(i as u64 + 1, line).is_ok() {
            parsed += 1;
        }
    }
    drop(text);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "parse only: {parsed} lines in {secs:.2} s = {:.0} lines/s",
        parsed as f64 / secs
    );

    let scratch = common::scratch_postgres().await;
    let url = match &scratch {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    println!("store: {}", url.split('@').next_back().unwrap_or(&url));
    let (store, _) = portal_core::server::store::open(&url).await.expect("store");
    let store: &dyn Store = &*store;
    reset_peak_rss();
    let rss_before = status_kib("VmRSS:");
    let started = Instant::now();
    let summary = import_file(store, &file, &options, None)
        .await
        .expect("import");
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    assert_eq!(summary.inserted.samples, counts.samples);
    println!(
        "import: {} samples in {:.2} s = {:.0} samples/s ({:.1} MiB/s of NDJSON)",
        summary.inserted.samples,
        secs,
        summary.inserted.samples as f64 / secs,
        size as f64 / 1048576.0 / secs
    );
    println!(
        "import: peak RSS {:.1} MiB (RSS before {:.1} MiB)",
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );

    if scratch.is_none() {
        // Bytes on disk per sample: the database and its write-ahead log.
        let bytes: u64 = ["bench.db", "bench.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "database: {:.1} MiB, {:.1} bytes per sample",
            bytes as f64 / 1048576.0,
            bytes as f64 / summary.inserted.samples as f64
        );
    }

    if let Some(pg) = &scratch {
        copy_reference(&pg.url, dir.path(), summary.inserted.samples, secs);
    }

    // A re-import of the same file: every sample is a duplicate.
    let started = Instant::now();
    let again = import_file(store, &file, &options, None)
        .await
        .expect("re-import");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(again.duplicates.samples, counts.samples);
    println!(
        "re-import (all duplicates): {:.0} samples/s",
        counts.samples as f64 / secs
    );
    store.close().await;
}

/// `psql`'s `\copy` of the imported rows, pre-encoded as binary COPY, into
/// an empty table like `samples` (same key and checks): how fast this server
/// takes rows when no client work at all comes before them.
fn copy_reference(url: &str, dir: &std::path::Path, rows: u64, import_secs: f64) {
    let file = dir.join("samples.bin");
    let psql = |sql: &str| {
        let status = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .status()
            .expect("psql");
        assert!(status.success(), "psql: {sql}");
    };
    psql(&format!(
        "\\copy samples TO '{}' (FORMAT binary)",
        file.display()
    ));
    psql("CREATE TABLE samples_reference (LIKE samples INCLUDING ALL)");
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    psql(&format!(
        "\\copy samples_reference FROM '{}' (FORMAT binary)",
        file.display()
    ));
    let secs = started.elapsed().as_secs_f64();
    psql("DROP TABLE samples_reference");
    println!(
        "reference: psql \\copy of the same {rows} rows ({:.0} MiB, binary) in {secs:.2} s = {:.0} rows/s; the import took {:.2}× as long",
        bytes as f64 / 1048576.0,
        rows as f64 / secs,
        import_secs / secs
    );
    let _ = std::fs::remove_file(&file);
}
