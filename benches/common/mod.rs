//! What the benchmarks share: a store of generated 1 Hz samples (built
//! through the import transaction, or reused from BENCH_DB), the portal on
//! loopback, a signed-in owner of vehicle 0, and the database's own CLI
//! (`sqlite3` or `psql`) for reference figures.
//!
//! `BENCH_BACKEND=postgres` runs on a fresh database on the server that
//! `TEST_POSTGRES_URL` names (dropped afterwards) instead of a SQLite file.

#![allow(dead_code)] // each bench uses its own part of this module

#[path = "../../tests/support/serve.rs"]
mod serve;
use serve::serve_loopback;

use portal_core::domain::log_format::{AebState, EventType, Gear, SampleChannels, Severity};
use portal_core::domain::records::{Event, Sample, Vehicle};
use portal_core::domain::Vin;
use portal_core::server::store::{self, Store};
use portal_core::server::Portal;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const DAY_US: i64 = 86_400_000_000;
/// 2026-01-01T00:00:00+08:00.
pub const START_US: i64 = 1_767_196_800_000_000;
pub const PASSWORD: &str = "bench-password-2021";

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn vin(i: u64) -> Vin {
    portal_core::server::demo::demo_vin(i as u32)
}

/// Town driving at 30–70 km/h all day, except a quarter hour on the
/// motorway (110–120 km/h) from 15:00 local: a speed ≥ 100 filter has to
/// read 15 hours of samples before its first match, as on a real day.
pub fn sample(i: i64) -> Sample {
    let phase = (i as f64 / 1800.0) * std::f64::consts::TAU;
    let second_of_day = i % 86_400;
    let motorway = (15 * 3600..15 * 3600 + 900).contains(&second_of_day);
    let speed = if motorway {
        115.0 + 5.0 * phase.sin()
    } else {
        50.0 + 20.0 * phase.sin()
    };
    let braking = phase.cos() < -0.95;
    Sample {
        t_us: START_US + i * 1_000_000,
        channels: SampleChannels {
            speed_kmh: Some((speed * 10.0).round() / 10.0),
            accel_pedal_pct: Some(if braking { 0.0 } else { 20.0 }),
            brake_pedal: Some(braking),
            brake_pressure_bar: Some(if braking { 35.0 } else { 0.0 }),
            steering_angle_deg: Some((i % 90) as f64 - 45.0),
            gear: Some(Gear::D),
            abs_active: Some(false),
            aeb_state: Some(AebState::Off),
            odometer_km: Some(10_000.0 + i as f64 * 0.016),
            ..SampleChannels::default()
        },
        extra: None,
    }
}

pub async fn build(store: &dyn Store, vehicles: u64, per_vehicle: u64) {
    let started = Instant::now();
    for v in 0..vehicles {
        let mut tx = store.begin_import().await.expect("begin");
        let (id, _) = tx
            .put_vehicle(&Vehicle {
                vin: vin(v),
                model: Some("Bench".into()),
                model_year: Some(2026),
                market: Some("CN".into()),
                timezone: "Asia/Shanghai".into(),
                edr_ecu: None,
                extra: None,
            })
            .await
            .expect("vehicle");
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..per_vehicle as i64 {
            batch.push((id, sample(i)));
            if batch.len() == 10_000 {
                tx.put_samples(&batch, &portal_core::server::store::SealRuns::all(None))
                    .await
                    .expect("samples");
                batch.clear();
            }
        }
        tx.put_samples(&batch, &portal_core::server::store::SealRuns::all(None))
            .await
            .expect("samples");
        // One hard brake on day 5 at noon (local), for the event detail.
        let event = Event {
            id: "ev-bench".into(),
            t_us: START_US + 5 * DAY_US + DAY_US / 2,
            event_type: EventType::HardBrake,
            severity: Severity::Warning,
            trigger: None,
            note: None,
            extra: None,
        };
        tx.put_event(id, &event, "bench").await.expect("event");
        put_event_history(&mut *tx, id, per_vehicle as i64).await;
        tx.commit().await.expect("commit");
        eprintln!(
            "vehicle {v}: {per_vehicle} samples ({:.0?} so far)",
            started.elapsed()
        );
    }
}

/// Events every ten minutes of the samples' span, of every group, and a
/// collision with its crash record (`ev-crash`) on day 5 at 14:00 local.
async fn put_event_history(tx: &mut dyn store::ImportTx, vehicle: store::VehicleId, samples: i64) {
    use portal_core::domain::log_format::{Airbag, DeltaV, DeltaVSample, PreCrash, PreCrashSample};
    use portal_core::domain::records::EdrRecord;
    const TYPES: [EventType; 6] = [
        EventType::HardBrake,
        EventType::AbsActivation,
        EventType::FcwWarning,
        EventType::HardAcceleration,
        EventType::IgnitionOn,
        EventType::Dtc,
    ];
    let every_us = 600 * 1_000_000;
    for n in 0..(samples * 1_000_000 / every_us) {
        let event = Event {
            id: format!("ev-{n:06}"),
            t_us: START_US + n * every_us + 7_000_000,
            event_type: TYPES[n as usize % TYPES.len()],
            severity: if n % 7 == 0 {
                Severity::Critical
            } else {
                Severity::Info
            },
            trigger: Some(portal_core::domain::log_format::Trigger {
                metric: "decel_mps2".into(),
                value: 6.5,
                threshold: 6.0,
            }),
            note: None,
            extra: None,
        };
        tx.put_event(vehicle, &event, "bench").await.expect("event");
    }
    let t0_us = START_US + 5 * DAY_US + 14 * 3_600_000_000 + 3_000_000;
    let crash = Event {
        id: "ev-crash".into(),
        t_us: t0_us,
        event_type: EventType::Collision,
        severity: Severity::Critical,
        trigger: None,
        note: None,
        extra: None,
    };
    tx.put_event(vehicle, &crash, "bench").await.expect("crash");
    let edr = EdrRecord {
        event_id: "ev-crash".into(),
        t0_us,
        standard: Some("GB 39732-2020".into()),
        trigger: Some("delta_v".into()),
        locked: true,
        complete: true,
        ignition_cycle_crash: Some(812),
        ignition_cycle_download: Some(813),
        max_delta_v_long_kmh: Some(-21.5),
        time_max_delta_v_ms: Some(62.0),
        max_delta_v_lat_kmh: Some(3.1),
        belt_driver: None,
        airbags: vec![Airbag {
            position: "driver_front".into(),
            deploy_ms: 18.0,
        }],
        // 20 s at 10 Hz, as rules from 2027 ask.
        pre_crash: PreCrash {
            rate_hz: 10.0,
            samples: (0..200)
                .map(|i| PreCrashSample {
                    t_ms: -20_000 + i * 100,
                    speed_kmh: Some(60.0 - f64::from(i) * 0.1),
                    brake_pedal: Some(i > 180),
                    ..PreCrashSample::default()
                })
                .collect(),
        },
        delta_v: DeltaV {
            rate_hz: 100.0,
            samples: (0..25)
                .map(|i| DeltaVSample {
                    t_ms: i * 10,
                    long_kmh: Some(-f64::from(i)),
                    lat_kmh: Some(0.1 * f64::from(i)),
                })
                .collect(),
        },
        extra: None,
    };
    tx.put_edr(vehicle, &edr, "bench")
        .await
        .expect("crash record");
}

/// Process memory figures (Linux `/proc/self/status`, KiB).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time the process has used so far, on every thread (user and
/// system, Linux `/proc/self/stat`, in seconds at its 10 ms resolution):
/// less moved by a noisy machine than elapsed time.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's name, which ends with the last `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `portal` served on a loopback port (plain http): its address.
pub async fn serve(portal: Portal, pool: &store::Pool) -> std::net::SocketAddr {
    serve_loopback(portal, pool, false).await.expect("serve")
}

/// The database a benchmark runs on, and how to reach it from its CLI.
#[derive(Debug, Clone)]
pub enum BenchDb {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl BenchDb {
    pub fn url(&self) -> String {
        match self {
            BenchDb::Sqlite(path) => format!("sqlite://{}", path.display()),
            BenchDb::Postgres(url) => url.clone(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, BenchDb::Postgres(_))
    }

    /// The database's CLI, reading SQL from stdin, printing rows to stdout.
    pub fn cli(&self) -> std::process::Command {
        match self {
            BenchDb::Sqlite(path) => {
                let mut c = std::process::Command::new("sqlite3");
                c.arg(path);
                c
            }
            BenchDb::Postgres(url) => {
                let mut c = std::process::Command::new("psql");
                c.args(["-X", "-q", "-A", "-d", url]);
                c
            }
        }
    }
}

/// A fresh PostgreSQL database when `BENCH_BACKEND=postgres`.
pub async fn scratch_postgres() -> Option<portal_core::server::store::scratch::ScratchDatabase> {
    use portal_core::server::store::scratch::{Backend, ScratchDatabase};
    (std::env::var("BENCH_BACKEND").as_deref() == Ok("postgres")).then_some(())?;
    Some(
        ScratchDatabase::create_on(Backend::Postgres)
            .await
            .expect("a PostgreSQL database (set TEST_POSTGRES_URL)"),
    )
}

pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub pool: store::Pool,
    pub db: BenchDb,
    pub _scratch: Option<portal_core::server::store::scratch::ScratchDatabase>,
    /// Signed in as vehicle 0's owner.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/api/v1`
    pub base: String,
    _dir: tempfile::TempDir,
}

/// BENCH_VEHICLES × BENCH_SAMPLES (defaults given), served on loopback.
pub async fn fixture(default_vehicles: u64, default_samples: u64) -> Fixture {
    let vehicles = env_or("BENCH_VEHICLES", default_vehicles);
    let per_vehicle = env_or("BENCH_SAMPLES", default_samples);
    let dir = tempfile::tempdir().expect("temp dir");
    if let Ok(url) = std::env::var("BENCH_BUILD_ONLY") {
        let (store, _) = store::open(&url).await.expect("store");
        match std::env::var("BENCH_DEMO_DAYS")
            .ok()
            .and_then(|d| d.parse().ok())
        {
            Some(days) => build_demo(&*store, vehicles as u32, days).await,
            None => build(&*store, vehicles, per_vehicle).await,
        }
        store.close().await;
        std::process::exit(0);
    }
    let scratch = scratch_postgres().await;
    let (db, built) = match &scratch {
        Some(pg) => (BenchDb::Postgres(pg.url.clone()), false),
        None => {
            let path = std::env::var("BENCH_DB")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| dir.path().join("bench.db"));
            let built = path.exists();
            (BenchDb::Sqlite(path), built)
        }
    };
    if !built {
        // Built by a child process, so this one's memory figures cover the
        // measured work alone.
        let status = std::process::Command::new(std::env::current_exe().expect("bench binary"))
            .env("BENCH_BUILD_ONLY", db.url())
            .status()
            .expect("building the store");
        assert!(status.success(), "building the store failed");
    }
    if db.is_postgres() {
        vacuum_analyze(&db);
    }
    serve_signed_in(db, scratch, dir).await
}

/// `vehicles` demo vehicles' `days` (seed 7, format 1 unless
/// BENCH_DEMO_SEALED=1), written to a file and imported as `portal import`
/// does: data as a car sends it, less regular than [`build`]'s.
pub async fn build_demo(store: &dyn Store, vehicles: u32, days: u32) {
    use portal_core::server::demo::{generate_vehicles, DemoConfig};
    use portal_core::server::import::{import_file, ImportOptions};
    let started = Instant::now();
    let config = DemoConfig {
        vehicles,
        days,
        seed: 7,
        sealed: std::env::var("BENCH_DEMO_SEALED").is_ok_and(|v| v == "1"),
        start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("demo.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("demo file"));
    let counts = generate_vehicles(&config, 0..vehicles, &mut out).expect("generate");
    std::io::Write::flush(&mut out).expect("flush");
    drop(out);
    let options = ImportOptions {
        vehicle_cas: demo_anchors(config.seed),
        ..ImportOptions::default()
    };
    let summary = import_file(store, &path, &options, None)
        .await
        .expect("import");
    println!(
        "built {vehicles} demo vehicle(s) × {days} days: {} samples ({counts:?}) in {:.1} s",
        summary.inserted.samples,
        started.elapsed().as_secs_f64()
    );
}

/// The demo CA of `seed`, as the one vehicle CA trusted.
pub fn demo_anchors(seed: u64) -> Arc<portal_core::server::seal::TrustAnchors> {
    let ca = portal_core::server::demo::demo_ca(seed);
    Arc::new(portal_core::server::seal::TrustAnchors::from_list("demo", vec![ca]).expect("demo CA"))
}

/// PostgreSQL: fresh statistics, as autovacuum would have gathered by now.
pub fn vacuum_analyze(db: &BenchDb) {
    let status = db
        .cli()
        .arg("-c")
        .arg("VACUUM ANALYZE")
        .status()
        .expect("psql");
    assert!(status.success());
}

/// The portal on `db` (which holds vehicle 0), served on loopback with
/// vehicle 0's owner signed in; the owner signs up with a claim code the
/// first time (a reused store already has that account).
pub async fn serve_signed_in(
    db: BenchDb,
    scratch: Option<portal_core::server::store::scratch::ScratchDatabase>,
    dir: tempfile::TempDir,
) -> Fixture {
    // As `portal`'s main does: this process is the server.
    portal::memory::keep_heap_trimmed();
    let (store, pool) = store::open(&db.url()).await.expect("store");
    let mut portal = Portal::new(store.clone());
    // Bundles and reports need the signing key and the report's font.
    let signer =
        portal_core::server::signing::Signer::load_or_create(dir.path()).expect("signing key");
    portal.signer = Some(Arc::new(signer));
    portal.report_font = portal_core::server::export::report::ReportFont::load(None)
        .ok()
        .map(Arc::new);
    // A reused store already has its owner (the same account every run).
    let code = portal
        .issue_claim_code(&vin(0), None)
        .await
        .ok()
        .map(|c| c.code);
    let addr = serve_loopback(portal, &pool, false).await.expect("serve");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let base = format!("http://{addr}/api/v1");
    let account = "bench@example.com";
    if let Some(code) = code {
        let res = client
            .post(format!("{base}/accounts"))
            .json(&serde_json::json!({"account": account, "password": PASSWORD, "vin": vin(0).as_str(), "claim_code": code}))
            .send()
            .await
            .expect("sign up");
        assert_eq!(res.status(), 201);
    }
    let res = client
        .post(format!("{base}/session"))
        .json(&serde_json::json!({"account": account, "password": PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 204);

    Fixture {
        store,
        pool,
        db,
        _scratch: scratch,
        client,
        base,
        _dir: dir,
    }
}

/// One demo vehicle's `days` of sealed data (seed 7), imported into a fresh
/// SQLite file in `dir` trusting the demo CA: the store, the CA and what
/// was generated.
pub async fn sealed_demo(
    dir: &std::path::Path,
    days: u32,
) -> (
    Arc<dyn Store>,
    store::Pool,
    Arc<portal_core::server::seal::TrustAnchors>,
    portal_core::server::demo::DemoCounts,
) {
    use portal_core::server::demo::{generate, DemoConfig};
    use portal_core::server::import::{import_reader, ImportOptions};
    let config = DemoConfig {
        vehicles: 1,
        days,
        seed: 7,
        ..DemoConfig::default()
    };
    let anchors = demo_anchors(config.seed);
    let mut text = Vec::new();
    let counts = generate(&config, &mut text).expect("generate");
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let (store, pool) = store::open(&url).await.expect("store");
    let options = ImportOptions {
        vehicle_cas: anchors.clone(),
        ..ImportOptions::default()
    };
    import_reader(&*store, "demo", std::io::Cursor::new(text), &options, None)
        .await
        .expect("import");
    (store, pool, anchors, counts)
}

/// `n` staff-read audit entries written in one statement (nothing else
/// is that fast), on either backend; sequencing gives them their leaves.
pub async fn fill_audit_log(pool: &store::Pool, n: u64) {
    if n == 0 {
        return;
    }
    let insert = format!(
        "INSERT INTO audit_log (at, actor, action, vin, details, nonce) \
         SELECT i, 'account:2', 'staff_read', 'LRW3E7EK9NC000017', '{{\"n\":' || i || '}}', \
         substr('00000000000000000000000000000000' || i, -32, 32) FROM {}",
        match pool {
            store::Pool::Sqlite(_) => format!(
                "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n)"
            ),
            store::Pool::Postgres(_) => format!("generate_series(1, {n}) AS i"),
        }
    );
    match pool {
        store::Pool::Sqlite(p) => sqlx::raw_sql(&insert).execute(p).await.map(drop),
        store::Pool::Postgres(p) => sqlx::raw_sql(
            &insert
                .replace("SELECT i, ", "SELECT to_timestamp(i), ")
                .replace(
                    "substr('00000000000000000000000000000000' || i, -32, 32)",
                    "lpad(i::text, 32, '0')",
                ),
        )
        .execute(p)
        .await
        .map(drop),
    }
    .expect("entries");
}

/// Downloads `url` whole (into `file` when given): seconds, bytes, and the
/// growth of peak RSS in MiB (VmHWM reset first; server and client are this
/// process).
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    file: Option<&std::path::Path>,
) -> (f64, u64, f64) {
    use futures::StreamExt as _;
    use std::io::Write as _;
    reset_peak_rss();
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let res = client.get(url).send().await.expect("export");
    assert_eq!(res.status(), 200, "{url}");
    let mut out = file.map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("file")));
    let mut bytes = 0u64;
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len() as u64;
        if let Some(out) = &mut out {
            out.write_all(&chunk).expect("write");
        }
    }
    if let Some(mut out) = out {
        out.flush().expect("flush");
    }
    let secs = started.elapsed().as_secs_f64();
    let growth = status_kib("VmHWM:").saturating_sub(before) as f64 / 1024.0;
    (secs, bytes, growth)
}

/// Prints the median and p95 of `runs` under `label`; returns the median (ms).
pub fn summary(label: &str, mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(runs[runs.len() / 2]);
    let p95 = ms(runs[((runs.len() as f64 * 0.95) as usize).min(runs.len() - 1)]);
    println!(
        "{label}: median {median:.2} ms, p95 {p95:.2} ms ({} runs)",
        runs.len()
    );
    median
}

/// `runs` timed GETs of `url` (each must answer 200), body read whole.
pub async fn time_get(client: &reqwest::Client, url: &str, runs: u64) -> Vec<Duration> {
    let mut out = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let res = client.get(url).send().await.expect("request");
        assert_eq!(res.status(), 200, "{url}");
        res.bytes().await.expect("body");
        out.push(started.elapsed());
    }
    out
}
