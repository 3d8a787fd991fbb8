//! Audited staff reads while the transparency log runs: the p99 of a staff
//! read (each one appends its audit entry before answering) and how many
//! a server sustains, with the sequencer giving leaves and signing a
//! checkpoint every second as `portal serve` does.
//!
//!     cargo bench --features ssr --bench staff
//!
//! BENCH_READERS concurrent staff readers (default 16) read one case's
//! events (a page of 50) back to back for BENCH_SECS seconds (default 20),
//! on one vehicle's BENCH_DAYS days (default 7) of demo data in SQLite.
//! For a build before the log, `start_log` and `log_report` are emptied.

mod common;

use common::env_or;
use portal_core::domain::staff::NewCaseRequest;
use portal_core::server::demo::demo_vin;
use portal_core::server::events::EventQuery;
use portal_core::server::Portal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The log as `portal serve` runs it: a key, and the sequencer every second.
fn start_log(portal: &mut Portal) {
    use portal_core::server::signing::Signer;
    use portal_core::server::tlog::{spawn_sequencer, LogKey};
    let key = LogKey::new("bench.example/log", Signer::from_key([7; 32].into())).expect("key");
    portal.log = Some(Arc::new(key));
    spawn_sequencer(portal.clone(), Duration::from_secs(1));
}

#[tokio::main]
async fn main() {
    let (readers, secs, days) = (
        env_or("BENCH_READERS", 16),
        env_or("BENCH_SECS", 20),
        env_or("BENCH_DAYS", 7) as u32,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _, anchors, _) = common::sealed_demo(dir.path(), days).await;
    let mut portal = Portal {
        vehicle_cas: anchors,
        ..Portal::new(store.clone())
    };
    let vin = demo_vin(0);
    portal
        .create_owner_with_vehicles(
            "owner@example.com",
            "owner-pass-2021-bench",
            std::slice::from_ref(&vin),
        )
        .await
        .expect("owner");
    let staff = portal
        .add_staff(None, "agent@example.com", "support")
        .await
        .expect("staff");
    let now = chrono::Utc::now().timestamp() as u64;
    let code = portal_core::server::totp::code_at(&staff.totp_secret, now).expect("code");
    let who = portal
        .sign_in(
            "agent@example.com",
            &staff.initial_password,
            Some(&code),
            "127.0.0.1",
        )
        .await
        .map(portal_core::server::authz::Principal::Account)
        .expect("staff sign-in");
    let case = portal
        .open_case(
            Some(&who),
            &NewCaseRequest {
                vin: vin.to_string(),
                subject: "brake complaint".into(),
                purpose: "read the events for the owner's complaint".into(),
                from: None,
                to: None,
            },
        )
        .await
        .expect("case");
    start_log(&mut portal);

    let deadline = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..readers)
        .map(|_| {
            let (portal, who, case_no) = (portal.clone(), who.clone(), case.case_no.clone());
            tokio::spawn(async move {
                let query = EventQuery {
                    limit: Some(50),
                    ..EventQuery::default()
                };
                let mut took = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let (reader, vin) = portal.in_case(Some(&who), &case_no).await.expect("case");
                    let page = portal
                        .events(Some(&reader), &vin, &query)
                        .await
                        .expect("read");
                    assert!(!page.items.is_empty());
                    took.push(started.elapsed());
                }
                took
            })
        })
        .collect();
    let mut took: Vec<Duration> = Vec::new();
    for task in tasks {
        took.extend(task.await.expect("reader"));
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{readers} staff readers, {secs} s: {} reads, {:.0} reads/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        took.len(),
        took.len() as f64 / secs as f64,
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*took.last().expect("reads"))
    );
    log_report(&portal).await;
}

/// After the readers: every read a leaf within a second or two.
async fn log_report(portal: &Portal) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let newest = portal.store.latest_checkpoint().await.expect("checkpoint");
    println!(
        "log: {} leaves, {} waiting, newest checkpoint {} leaves",
        portal.store.log_size().await.expect("size"),
        portal.store.log_pending().await.expect("pending"),
        newest.map_or(0, |c| c.size)
    );
}
