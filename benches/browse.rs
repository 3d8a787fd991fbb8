//! Browsing speed on a large store, measured at the HTTP API and compared
//! with the same query in the `sqlite3` CLI on the same file.
//!
//!     cargo bench --features ssr --bench browse
//!
//! Builds a store of BENCH_VEHICLES (default 10) vehicles with
//! BENCH_SAMPLES (default 1,000,000) samples each at 1 Hz, or reuses the
//! file named by BENCH_DB. Then, on vehicle 0, as a signed-in owner over
//! loopback HTTP (BENCH_RUNS runs each, default 30):
//!   1. the first page (100 rows) of one day filtered to speed ≥ 100 km/h,
//!      against the same SELECT in the `sqlite3` CLI (per query, with the
//!      CLI's own start-up subtracted);
//!   2. one event's detail (±15 s window, chart, table);
//!   3. a 7-day chart of speed and brake pressure;
//!   4. the overview (counts over the whole period) and the first drives.
//!
//! Reports median and p95 of each.

use app::domain::log_format::{AebState, EventType, Gear, SampleChannels, Severity};
use app::domain::records::{Event, Sample, Vehicle};
use app::domain::Vin;
use app::server::store::{self, Store};
use app::server::Portal;
use portal::http::serve_loopback;
use std::time::{Duration, Instant};

const DAY_US: i64 = 86_400_000_000;
/// 2026-01-01T00:00:00+08:00.
const START_US: i64 = 1_767_196_800_000_000;
const PASSWORD: &str = "bench-password-2021";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn vin(i: u64) -> Vin {
    app::server::demo::demo_vin(i as u32)
}

/// Town driving at 30–70 km/h all day, except a quarter hour on the
/// motorway (110–120 km/h) from 15:00 local: a speed ≥ 100 filter has to
/// read 15 hours of samples before its first match, as on a real day.
fn sample(i: i64) -> Sample {
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

async fn build(store: &dyn Store, vehicles: u64, per_vehicle: u64) {
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
                tx.put_samples(&batch).await.expect("samples");
                batch.clear();
            }
        }
        tx.put_samples(&batch).await.expect("samples");
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
        tx.commit().await.expect("commit");
        eprintln!(
            "vehicle {v}: {per_vehicle} samples ({:.0?} so far)",
            started.elapsed()
        );
    }
}

fn summary(label: &str, mut runs: Vec<Duration>) -> f64 {
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

async fn time_get(client: &reqwest::Client, url: &str, runs: u64) -> Vec<Duration> {
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

/// Wall time of one `sqlite3` process running `sql` `count` times (rows
/// printed to a pipe, as a user of the CLI would see them).
fn sqlite3_session(db: &std::path::Path, sql: &str, count: u64) -> Duration {
    use std::io::Write;
    let script = sql.repeat(count as usize);
    let started = Instant::now();
    let mut child = std::process::Command::new("sqlite3")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sqlite3 CLI (apt install sqlite3)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("sqlite3 output");
    assert!(out.status.success(), "sqlite3 failed");
    started.elapsed()
}

/// Per-query times of `sql` in the CLI: each trial runs it 50 times in one
/// session and subtracts an empty session (process start and open).
fn sqlite3_times(db: &std::path::Path, sql: &str, trials: u64) -> Vec<Duration> {
    const PER_TRIAL: u64 = 50;
    (0..trials)
        .map(|_| {
            let empty = sqlite3_session(db, "", 0);
            let full = sqlite3_session(db, sql, PER_TRIAL);
            full.saturating_sub(empty) / PER_TRIAL as u32
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let vehicles = env_or("BENCH_VEHICLES", 10);
    let per_vehicle = env_or("BENCH_SAMPLES", 1_000_000);
    let runs = env_or("BENCH_RUNS", 30);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = std::env::var("BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("bench.db"));
    let (store, pool) = store::open(&format!("sqlite://{}", db.display()))
        .await
        .expect("store");
    if store.is_empty().await.expect("store") {
        build(&*store, vehicles, per_vehicle).await;
    }
    let portal = Portal::new(store.clone());
    let code = portal
        .issue_claim_code(&vin(0), None)
        .await
        .expect("claim code")
        .code;
    let addr = serve_loopback(portal, &pool, false).await.expect("serve");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let base = format!("http://{addr}/api/v1");
    let account = format!("bench-{}@example.com", std::process::id());
    let res = client
        .post(format!("{base}/accounts"))
        .json(&serde_json::json!({"account": account, "password": PASSWORD, "vin": vin(0).as_str(), "claim_code": code}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(res.status(), 201);
    let res = client
        .post(format!("{base}/session"))
        .json(&serde_json::json!({"account": account, "password": PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 204);

    let total: i64 = match &pool {
        store::Pool::Sqlite(p) => sqlx::query_scalar("SELECT count(*) FROM samples")
            .fetch_one(p)
            .await
            .expect("count"),
    };
    println!("store: {total} samples in all; vehicle 0 holds {per_vehicle} (1 Hz)");
    let v = vin(0);
    let day = (START_US + 5 * DAY_US, START_US + 6 * DAY_US);
    let fmt = app::domain::time::format_utc;

    // 1. First page of a day at speed >= 100 km/h: HTTP API vs the sqlite3 CLI.
    let url = format!(
        "{base}/vehicles/{v}/samples?from={}&to={}&min_speed_kmh=100&limit=100",
        fmt(day.0),
        fmt(day.1)
    );
    time_get(&client, &url, 3).await; // warm the cache as the CLI's first runs do
    let api = summary(
        "day page, speed >= 100, HTTP API",
        time_get(&client, &url, runs).await,
    );
    let sql = format!(
        "SELECT * FROM samples WHERE vehicle_id = 1 AND t_us >= {} AND t_us < {} \
         AND speed_kmh >= 100 ORDER BY t_us LIMIT 100;",
        day.0, day.1
    );
    let cli = summary(
        "day page, speed >= 100, sqlite3 CLI",
        sqlite3_times(&db, &sql, runs),
    );
    println!("ratio HTTP API / sqlite3: {:.2}", api / cli);

    // The fixed cost of the API (session, gate, JSON) shows on a page whose
    // rows match at once: speed >= 40 km/h.
    let url = url.replace("min_speed_kmh=100", "min_speed_kmh=40");
    let api = summary(
        "day page, speed >= 40, HTTP API",
        time_get(&client, &url, runs).await,
    );
    let sql = sql.replace("speed_kmh >= 100", "speed_kmh >= 40");
    let cli = summary(
        "day page, speed >= 40, sqlite3 CLI",
        sqlite3_times(&db, &sql, runs),
    );
    println!("ratio HTTP API / sqlite3: {:.2}", api / cli);

    // 2. An event's detail: ±15 s window, chart and table.
    let url = format!("{base}/vehicles/{v}/events/ev-bench");
    summary("event detail (±15 s)", time_get(&client, &url, runs).await);

    // 3. A 7-day chart of speed and brake pressure.
    let url = format!(
        "{base}/vehicles/{v}/chart?from={}&to={}&channels=speed_kmh,brake_pressure_bar",
        fmt(START_US + DAY_US),
        fmt(START_US + 8 * DAY_US)
    );
    summary(
        "7-day chart (2 series)",
        time_get(&client, &url, runs).await,
    );
    store.close().await;
}
