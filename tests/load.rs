//! The load test in its short, bounded form: 100 signed-in sessions browse
//! telemetry and events for a few seconds while an ingest and a whole-history
//! export run. A debug build says nothing about speed, so this checks what
//! must hold at any speed: no errors, and the ingest and the export complete.
//! The latency figures come from `cargo bench --bench load` (BENCHMARKS.md).
//!
//! `PORTAL_LOAD_SECONDS` (default 8) and `PORTAL_LOAD_SESSIONS` (default 100).

#[path = "support/load.rs"]
mod load;
#[path = "support/serve.rs"]
mod serve;

use load::{run, LoadPlan};
use portal_core::server::store::scratch::ScratchDatabase;
use portal_core::server::{store, Portal};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

const VIN: &str = "LRW3E7EK9NC000017";
const PASSWORD: &str = "load-test-password-2021";
/// 2021-02-21T00:00:00+08:00
const DAY0_S: i64 = 1_613_836_800;

/// `days` days of 1 Hz samples for 10 minutes each hour, and a hard brake a day.
fn log(first_day: i64, days: i64, with_vehicle: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if with_vehicle {
        writeln!(
            out,
            "{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"Asia/Shanghai\"}}"
        )
        .unwrap();
    }
    for d in first_day..first_day + days {
        for h in 0..24 {
            for s in 0..600 {
                let t = chrono::DateTime::from_timestamp(DAY0_S + d * 86_400 + h * 3600 + s, 0)
                    .unwrap();
                writeln!(
                    out,
                    "{{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"{}\",\"speed_kmh\":{},\"brake_pedal\":{}}}",
                    t.format("%Y-%m-%dT%H:%M:%SZ"),
                    (s * 7 + h) % 130,
                    s % 11 == 0
                )
                .unwrap();
            }
        }
        let t = chrono::DateTime::from_timestamp(DAY0_S + d * 86_400 + 12 * 3600 + 30, 0).unwrap();
        writeln!(
            out,
            "{{\"kind\":\"event\",\"vin\":\"{VIN}\",\"id\":\"hb-{d}\",\"t\":\"{}\",\"type\":\"hard_brake\",\"severity\":\"warning\"}}",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        )
        .unwrap();
    }
    out
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_sessions_browse_without_errors_while_an_ingest_and_an_export_run() {
    let db = ScratchDatabase::create().await.expect("scratch database");
    let (store, pool) = store::open(&db.url).await.expect("store");
    // 7 days held (100,800 samples); the ingest brings 3 more.
    portal_core::server::import::import_reader(
        &*store,
        "load.ndjson",
        std::io::Cursor::new(log(0, 7, true)),
        &Default::default(),
        None,
    )
    .await
    .expect("import");
    let portal = Portal::new(store.clone());
    let code = portal
        .issue_claim_code(&portal_core::domain::Vin::parse(VIN).unwrap(), None)
        .await
        .unwrap()
        .code;
    let token = portal.issue_ingest_token("load-test").await.unwrap().token;
    let mut served = Portal::new(store.clone());
    served.signer = Some(Arc::new(
        portal_core::server::signing::Signer::load_or_create(db.dir()).unwrap(),
    ));
    let addr = serve::serve_loopback(served, &pool, false).await.unwrap();
    let origin = format!("http://{addr}");
    let res = reqwest::Client::new()
        .post(format!("{origin}/api/v1/accounts"))
        .json(&serde_json::json!({"account": "load@example.com", "password": PASSWORD, "vin": VIN, "claim_code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let sessions = env_or("PORTAL_LOAD_SESSIONS", 100) as usize;
    let duration = Duration::from_secs(env_or("PORTAL_LOAD_SECONDS", 8));
    let report = run(LoadPlan {
        origin,
        vin: VIN.into(),
        account: "load@example.com".into(),
        password: PASSWORD.into(),
        sessions,
        duration,
        // Back to back: the most pressure on the server, to find errors.
        think: Duration::ZERO,
        first_day: chrono::NaiveDate::from_ymd_opt(2021, 2, 21).unwrap(),
        days: 7,
        ingest: Some((token, log(7, 3, false))),
        export: Some(format!("/api/v1/vehicles/{VIN}/export?format=csv")),
    })
    .await;
    report.print(sessions, duration, Duration::ZERO);

    assert!(
        report.errors.is_empty(),
        "errors under load: {:?}",
        &report.errors[..report.errors.len().min(10)]
    );
    assert!(
        report.all.count() >= sessions,
        "every session made requests"
    );
    assert!(
        report.kinds.iter().all(|(_, l)| l.count() > 0),
        "every kind of page was read"
    );
    assert!(
        !report.ingest.is_empty() && !report.export.is_empty(),
        "both ran"
    );
    assert!(
        report.ingest.iter().all(|r| r.0 == 200),
        "every ingest completed: {:?}",
        report.ingest
    );
    assert_eq!(
        report.ingest[0].2,
        3 * 24 * 600,
        "the first ingest inserted every sample"
    );
    assert!(
        report
            .export
            .iter()
            .all(|r| r.0 == 200 && r.2 > 100_800 * 20),
        "every export arrived whole: {:?}",
        report.export
    );
}
