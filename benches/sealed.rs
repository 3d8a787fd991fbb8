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
//!
//! The bundle carries its log proof: the transparency log holds the
//! imports, BENCH_LOG_LEAVES (default 0) other entries after them (e.g.
//! 10000000), and a witness's cosignature of the log before the export;
//! both verifiers check the proof against that witness's key.

mod common;

use base64::Engine as _;
use common::{env_or, reset_peak_rss, status_kib};
use futures::StreamExt;
use portal_core::domain::export::ExportQuery;
use portal_core::server::demo::demo_vin;
use portal_core::server::signing::Signer;
use portal_core::server::tlog::cosign::{cosign, WitnessKey};
use portal_core::server::tlog::LogKey;
use portal_core::server::verify::{verify_bundle_with, LogTrust, Trust};
use portal_core::server::Portal;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "sealed-month-2021-bench";

#[tokio::main]
async fn main() {
    let days = env_or("BENCH_DAYS", 31) as u32;
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, pool, anchors, counts) = common::sealed_demo(dir.path(), days).await;
    println!(
        "one vehicle, {days} days sealed: {} samples, {} positions, {} seals",
        counts.samples, counts.positions, counts.seals
    );

    let signer = Signer::load_or_create(dir.path()).expect("key");
    let key = signer.public_key();
    let font = portal_core::server::export::report::ReportFont::load(None).expect("report font");
    let log_key = LogKey::new("bench.example/log", Signer::from_key([7; 32].into())).expect("log");
    let witness_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let witness = WitnessKey::new("witness.bench/w", witness_key.verifying_key()).expect("w");
    let portal = Portal {
        signer: Some(Arc::new(signer)),
        report_font: Some(Arc::new(font)),
        vehicle_cas: anchors.clone(),
        log: Some(Arc::new(log_key)),
        witnesses: Arc::new([witness.clone()]),
        ..Portal::new(store.clone())
    };
    fill_and_witness(&portal, &pool, &witness_key, &witness.name).await;
    let vin = demo_vin(0);
    portal
        .create_owner_with_vehicles("month@example.com", PASSWORD, std::slice::from_ref(&vin))
        .await
        .expect("owner");
    let who = portal
        .sign_in("month@example.com", PASSWORD, None, "127.0.0.1")
        .await
        .map(portal_core::server::authz::Principal::Account)
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
    let witnesses = [witness.clone()];
    let trust = Trust {
        vehicle_cas: Some(&anchors),
        log: LogTrust {
            log_key: None,
            witnesses: &witnesses,
        },
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
    let log = v.log.expect("log proof");
    let witnessed = log.witnessed.expect("witnessed");
    let proof_bytes = zip::ZipArchive::new(std::fs::File::open(&path).expect("open"))
        .expect("zip")
        .by_name("log-proof.json")
        .expect("log proof")
        .size();
    println!(
        "log proof: {} import leaves and the disclosure (leaf {}) in a log of {} leaves, \
         witnessed at {} by {}; log-proof.json {proof_bytes} bytes",
        log.imports,
        log.disclosure.unwrap_or_default(),
        log.size,
        witnessed.size,
        witnessed.cosigned_by[0].name
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
        .arg("--witness")
        .arg(format!(
            "{}={}",
            witness.name,
            base64::engine::general_purpose::STANDARD.encode(witness.key.as_bytes())
        ))
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

/// BENCH_LOG_LEAVES entries written after the imports in one statement,
/// the log sequenced, and its checkpoint cosigned by the bench's witness.
async fn fill_and_witness(
    portal: &Portal,
    pool: &portal_core::server::store::Pool,
    witness: &ed25519_dalek::SigningKey,
    name: &str,
) {
    let filler = env_or("BENCH_LOG_LEAVES", 0);
    common::fill_audit_log(pool, filler).await;
    let started = Instant::now();
    let checkpoint = portal
        .sequence_log()
        .await
        .expect("sequence")
        .expect("checkpoint");
    println!(
        "log: {} leaves sequenced in {:.1} s",
        checkpoint.size,
        started.elapsed().as_secs_f64()
    );
    let note = portal.checkpoint_note(None).await.expect("note");
    let text = format!("{}\n", note.split_once("\n\n").expect("note").0);
    let now = chrono::Utc::now().timestamp() as u64;
    let line = cosign(&text, name, witness, now);
    portal
        .add_cosignature(&format!("{note}{}", line.line()))
        .await
        .expect("cosignature");
}
