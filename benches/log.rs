//! The transparency log: appends, sequencing, and proofs at scale.
//!
//!     cargo bench --features ssr --bench log                         # SQLite
//!     BENCH_BACKEND=postgres cargo bench --features ssr --bench log  # PostgreSQL
//!     BENCH_LEAVES=10000000 cargo bench --features ssr --bench log   # a bigger tree
//!
//! 1. Appends: BENCH_WRITERS tasks (default 8) each append audit entries
//!    for BENCH_SECS seconds (default 10) while the sequencer runs every
//!    second, as `portal serve` does; reports entries appended per second
//!    and how long the sequencer takes to give the last of them a leaf.
//! 2. Proofs: a log of BENCH_LEAVES leaves (default 1,000,000, written in
//!    one statement, then sequenced); reports the sequencing rate, and for
//!    1,000 random leaves the inclusion proof's size and the time to make
//!    (through the store) and check it, and one consistency proof.

mod common;

use common::env_or;
use portal_core::domain::audit::AuditAction;
use portal_core::server::seal::Hash;
use portal_core::server::signing::Signer;
use portal_core::server::store::{self, NewAuditEntry};
use portal_core::server::tlog::note::{Checkpoint, SignedNote};
use portal_core::server::tlog::proof::{verify_consistency, verify_inclusion};
use portal_core::server::tlog::{entry_hash, LogKey};
use portal_core::server::Portal;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn open_portal(url: &str) -> (Portal, store::Pool) {
    let (store, pool) = store::open(url).await.expect("store");
    let key = LogKey::new("bench.example/log", Signer::from_key([7; 32].into())).expect("key");
    let portal = Portal {
        log: Some(Arc::new(key)),
        ..Portal::new(store)
    };
    (portal, pool)
}

fn entry(i: u64) -> NewAuditEntry {
    NewAuditEntry {
        actor: "account:2".into(),
        action: AuditAction::StaffRead,
        vin: Some("LRW3E7EK9NC000017".into()),
        details: serde_json::json!({ "case_no": "C-2026-000001", "resource": "samples", "n": i }),
    }
}

fn root_of(checkpoint: &str) -> Checkpoint {
    Checkpoint::parse(&SignedNote::parse(checkpoint).expect("note").text).expect("checkpoint")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = common::scratch_postgres().await;
    let url = |name: &str| match &scratch {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join(name).display()),
    };
    println!(
        "store: {}",
        if scratch.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    // 1. Appends while the sequencer runs.
    let writers = env_or("BENCH_WRITERS", 8);
    let secs = env_or("BENCH_SECS", 10);
    let (portal, _pool) = open_portal(&url("appends.db")).await;
    let sequencer =
        portal_core::server::tlog::spawn_sequencer(portal.clone(), Duration::from_secs(1));
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = portal.store.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    store
                        .append_audit(&entry(w * 1_000_000 + n))
                        .await
                        .expect("append");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut appended = 0;
    for t in tasks {
        appended += t.await.expect("writer");
    }
    let append_secs = started.elapsed().as_secs_f64();
    let caught_up = Instant::now();
    while portal.store.log_pending().await.expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sequencer.stop().await;
    let checkpoint = portal
        .sequence_log()
        .await
        .expect("sequence")
        .expect("checkpoint");
    assert_eq!(checkpoint.size, appended);
    println!(
        "appends: {writers} writers, {appended} entries in {append_secs:.1} s = {:.0} entries/s; \
         every one a leaf {:.2} s after the last append; checkpoint at {} leaves",
        appended as f64 / append_secs,
        caught_up.elapsed().as_secs_f64(),
        checkpoint.size
    );
    portal.store.close().await;

    // 2. A big log: sequencing and proofs.
    let leaves = env_or("BENCH_LEAVES", 1_000_000);
    let (portal, pool) = open_portal(&url("proofs.db")).await;
    if scratch.is_some() {
        // One database for both parts: start the second from an empty log.
        let reset =
            "TRUNCATE audit_log, tlog_nodes, tlog_checkpoints, tlog_cosignatures; UPDATE tlog_state SET size = 0";
        if let store::Pool::Postgres(pg) = &pool {
            sqlx::raw_sql(reset).execute(pg).await.expect("reset");
        }
    }
    let started = Instant::now();
    common::fill_audit_log(&pool, leaves).await;
    println!(
        "entries: {leaves} written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let checkpoint = portal
        .sequence_log()
        .await
        .expect("sequence")
        .expect("checkpoint");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(checkpoint.size, leaves);
    println!(
        "sequencing: {leaves} leaves in {secs:.1} s = {:.0} leaves/s",
        leaves as f64 / secs
    );
    let root = root_of(&checkpoint.note).root;

    let mut rng = 0x2545F4914F6CDD1Du64;
    let (mut make, mut check, mut hashes) = (Duration::ZERO, Duration::ZERO, 0usize);
    let picks = 1_000u64;
    for _ in 0..picks {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let index = rng % leaves;
        let entry = portal
            .store
            .log_leaves(index, 1)
            .await
            .expect("leaf")
            .remove(0);
        let t = Instant::now();
        let proof = portal.log_inclusion(index, leaves).await.expect("proof");
        make += t.elapsed();
        let t = Instant::now();
        verify_inclusion(&entry_hash(&entry), index, leaves, &proof, &root).expect("verifies");
        check += t.elapsed();
        hashes += proof.len();
    }
    println!(
        "inclusion proofs at {leaves} leaves: {:.1} hashes ({:.0} bytes) on average; made in {:.2} ms, checked in {:.1} µs",
        hashes as f64 / picks as f64,
        hashes as f64 * 32.0 / picks as f64,
        make.as_secs_f64() * 1e3 / picks as f64,
        check.as_secs_f64() * 1e6 / picks as f64
    );
    let old = leaves / 3 + 1;
    let old_root: Hash = {
        // The root at `old` leaves, from the leaf hashes the portal serves.
        let mut tree = portal_core::server::seal::TreeBuilder::new();
        let mut from = 0;
        while from < old {
            let page = portal.store.log_leaves(from, 10_000).await.expect("leaves");
            for e in page.iter().take((old - from) as usize) {
                tree.push(entry_hash(e));
            }
            from += page.len() as u64;
        }
        tree.root().expect("root")
    };
    let t = Instant::now();
    let proof = portal.log_consistency(old, leaves).await.expect("proof");
    let made = t.elapsed();
    verify_consistency(old, leaves, &old_root, &root, &proof).expect("consistent");
    println!(
        "consistency proof {old} → {leaves}: {} hashes ({} bytes), made in {:.2} ms",
        proof.len(),
        proof.len() * 32,
        made.as_secs_f64() * 1e3
    );
    portal.store.close().await;
}
