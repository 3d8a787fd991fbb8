//! Page latency while sign-ins hash passwords.
//!
//!     cargo bench --features ssr --bench sign_in
//!
//! Serves the portal on loopback (a temp SQLite file), keeps 50 sign-ins in
//! flight for BENCH_SECS seconds (default 10), and meanwhile requests the home
//! page one after another, recording each page's latency. Reports page
//! p50/p99/max and sign-ins per second. Argon2id costs ~20 ms of CPU per
//! sign-in; the goal is that pages stay fast (p99 < 100 ms) regardless.

use portal_core::server::store;
use portal_core::server::Portal;
#[path = "../tests/support/serve.rs"]
mod serve;
use serve::serve_loopback;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "bench@example.com";
const PASSWORD: &str = "bench-password-2021";

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (store, pool) = store::open(&url).await.expect("store");
    let hash = portal_core::server::password::Hasher::default()
        .hash(PASSWORD.into())
        .await
        .expect("hash");
    store
        .create_account(ACCOUNT, &hash, portal_core::domain::account::Role::Owner)
        .await
        .expect("account");
    let addr = serve_loopback(Portal::new(store.clone()), &pool, false)
        .await
        .expect("serve");

    let deadline = Instant::now() + Duration::from_secs(secs);
    let signed_in = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for _ in 0..50 {
        let signed_in = signed_in.clone();
        let url = format!("http://{addr}/api/v1/session");
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while Instant::now() < deadline {
                let res = client
                    .post(&url)
                    .json(&serde_json::json!({"account": ACCOUNT, "password": PASSWORD}))
                    .send()
                    .await
                    .expect("sign-in");
                assert_eq!(res.status(), 204);
                signed_in.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Let the sign-in queue fill before measuring pages.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let res = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), 200);
        res.bytes().await.expect("body");
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in load {
        task.await.expect("load task");
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "home page under 50 concurrent sign-ins: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
    println!(
        "sign-ins: {} in {secs} s = {:.1}/s (Argon2id m=19456 KiB, t=2, p=1)",
        signed_in.load(Ordering::Relaxed),
        signed_in.load(Ordering::Relaxed) as f64 / secs as f64
    );
}
