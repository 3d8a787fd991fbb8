//! A vehicle's month of sealed data (format 1.1): the evidence bundle of it
//! and its verification against the car, both verifiers.
//!
//!     cargo bench --features ssr --bench sealed
//!
//! Imports one demo vehicle × BENCH_DAYS (31) days, sealed, into a fresh
//! SQLite file (trusting the demo CA), signs in its owner and builds the
//! owner's whole-month bundle (`location=full`, so every covered line is
//! revealed) exactly as `GET …/export?format=bundle` does, then checks it
//! with the portal's verifier (`verify_bundle_with`) and, when a Python with
//! `cryptography` is at hand (`VDP_PYTHON`, default `python3`), with the
//! independent one (`verifier/vdp_verify.py`). Reports times, sizes and
//! peak RSS (VmHWM, reset before each step).

mod common;

use common::{env_or, reset_peak_rss, status_kib};
use futures::StreamExt;
use portal_core::domain::export::ExportQuery;
use portal_core::server::demo::{demo_ca, demo_vin, generate, DemoConfig};
use portal_core::server::import::{import_reader, ImportOptions};
use portal_core::server::seal::TrustAnchors;
use portal_core::server::verify::{verify_bundle_with, Trust};
use portal_core::server::Portal;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "sealed-month-2021-bench";

#[tokio::main]
async fn main() {
    let days = env_or("BENCH_DAYS", 31) as u32;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = DemoConfig {
        vehicles: 1,
        days,
        seed: 7,
        ..DemoConfig::default()
    };
    let anchors =
        Arc::new(TrustAnchors::from_list("demo", vec![demo_ca(config.seed)]).expect("demo CA"));
    let mut text = Vec::new();
    let counts = generate(&config, &mut text).expect("generate");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (store, _) = portal_core::server::store::open(&url).await.expect("store");
    let options = ImportOptions {
        vehicle_cas: anchors.clone(),
        ..ImportOptions::default()
    };
    import_reader(&*store, "month", std::io::Cursor::new(text), &options, None)
        .await
        .expect("import");
    println!(
        "one vehicle, {days} days sealed: {} samples, {} positions, {} seals",
        counts.samples, counts.positions, counts.seals
    );

    let signer = portal_core::server::signing::Signer::load_or_create(dir.path()).expect("key");
    let key = signer.public_key();
    let font = portal_core::server::export::report::ReportFont::load(None).expect("report font");
    let portal = Portal {
        signer: Some(Arc::new(signer)),
        report_font: Some(Arc::new(font)),
        vehicle_cas: anchors.clone(),
        ..Portal::new(store.clone())
    };
    let vin = demo_vin(0);
    portal
        .create_owner_with_vehicles("month@example.com", PASSWORD, std::slice::from_ref(&vin))
        .await
        .expect("owner");
    let who = portal
        .sign_in("month@example.com", PASSWORD, None, "127.0.0.1")
        .await
        .expect("sign in");
    let query = ExportQuery {
        format: Some("bundle".into()),
        location: Some("full".into()),
        ..ExportQuery::default()
    };

    reset_peak_rss();
    let started = Instant::now();
    let export = portal
        .export(Some(&who), vin.as_str(), &query)
        .await
        .expect("bundle");
    let path = dir.path().join("bundle.zip");
    let mut file = std::fs::File::create(&path).expect("bundle file");
    let mut body = export.body;
    while let Some(chunk) = body.next().await {
        file.write_all(&chunk.expect("chunk")).expect("write");
    }
    drop(file);
    let bundle_secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).expect("size").len();
    println!(
        "bundle of the month: {bundle_secs:.2} s, {:.1} MiB, peak RSS {:.1} MiB",
        size as f64 / 1048576.0,
        status_kib("VmHWM:") as f64 / 1024.0
    );

    reset_peak_rss();
    let started = Instant::now();
    let file = std::io::BufReader::new(std::fs::File::open(&path).expect("open"));
    let trust = Trust {
        vehicle_cas: Some(&anchors),
        ..Trust::default()
    };
    let v = verify_bundle_with(file, &key, &trust);
    let secs = started.elapsed().as_secs_f64();
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.expect("sealed");
    println!(
        "verification (portal): {secs:.2} s, peak RSS {:.1} MiB; {} records verified against the car in {} seals",
        status_kib("VmHWM:") as f64 / 1024.0,
        sealed.verified,
        sealed.seals
    );

    let python = std::env::var("VDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, serde_json::to_string(&key).expect("key json")).expect("key");
    let ca_file = dir.path().join("ca.json");
    std::fs::write(
        &ca_file,
        serde_json::to_string(&anchors.published()).expect("ca"),
    )
    .expect("ca");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/verifier/vdp_verify.py");
    let started = Instant::now();
    match std::process::Command::new(&python)
        .arg(script)
        .arg(&path)
        .arg("--key")
        .arg(&key_file)
        .arg("--vehicle-ca")
        .arg(&ca_file)
        .output()
    {
        Ok(out) if out.status.success() => println!(
            "verification (independent, Python): {:.2} s",
            started.elapsed().as_secs_f64()
        ),
        Ok(out) => println!(
            "verification (independent, Python) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("verification (independent, Python) not run: {e}"),
    }
}
