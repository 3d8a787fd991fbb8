//! Imports that span many write batches: samples repeated batches apart in
//! one file, records and a second vehicle arriving mid-stream, and (on
//! PostgreSQL) a connection cut while samples stream down the open COPY.

use crate::common::*;
use portal_core::domain::chart::ChartChannel;
use portal_core::domain::Vin;
use portal_core::server::import::{import_reader, ImportError, ImportOptions};
use portal_core::server::store::{Pool, TimeRange};

/// 2021-02-21T02:15:00Z, the first sample's time.
const START_US: i64 = 1_613_873_700_000_000;

/// A sample `secs` seconds after `START_US`, at any distance.
fn sample_at(vin: &str, secs: i64, speed: f64) -> String {
    let t = portal_core::domain::time::format_utc(START_US + secs * 1_000_000);
    format!(r#"{{"kind":"sample","vin":"{vin}","t":"{t}","speed_kmh":{speed},"gear":"D"}}"#)
}

fn speed(secs: i64) -> f64 {
    (secs % 130) as f64
}

#[tokio::test]
async fn samples_repeated_batches_apart_are_duplicates_and_conflicts() {
    let t = test_store().await;
    let mut file = vec![vehicle(VIN, "Asia/Shanghai")];
    for secs in 0..9_000 {
        file.push(sample_at(VIN, secs, speed(secs)));
        if secs == 4_500 {
            // Mid-stream: a second vehicle, and more records than one write group.
            file.push(vehicle(VIN2, "Asia/Shanghai"));
            file.extend((0..10).map(|s| sample_at(VIN2, s, 1.0)));
            file.extend((0..300).map(|i| event(VIN, &format!("ev-{i}"), "hard_brake", "warning")));
        }
    }
    // Sent again, batches after they were first stored: 1000..6000 s, one changed.
    let mut conflict_line = 0;
    for secs in 1_000..6_000 {
        let value = if secs == 2_000 { 250.0 } else { speed(secs) };
        file.push(sample_at(VIN, secs, value));
        if secs == 2_000 {
            conflict_line = file.len() as u64;
        }
    }
    let summary = import_text(&*t.store, &lines(&file)).await.expect("import");
    assert_eq!(summary.inserted.samples, 9_010);
    assert_eq!(summary.inserted.events, 300);
    assert_eq!(summary.inserted.vehicles, 2);
    assert_eq!(summary.duplicates.samples, 4_999);
    assert_eq!(summary.conflicts_total, 1);
    assert_eq!(summary.conflicts[0].line, conflict_line);

    let v = t
        .store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let held = t.store.holdings(v.id, TimeRange::ALL).await.unwrap();
    assert_eq!((held.samples.count, held.events.count), (9_000, 300));
    let at_2000 = TimeRange {
        from_us: START_US + 2_000_000_000,
        to_us: START_US + 2_000_000_001,
    };
    let kept = t.store.samples(v.id, at_2000, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].channels.speed_kmh,
        Some(speed(2_000)),
        "the held value is kept"
    );

    // The minute summaries agree with the samples across every batch seam.
    let minute = 60_000_000;
    let range = TimeRange {
        from_us: START_US,
        to_us: START_US + 150 * minute,
    };
    let (summaries, samples) =
        minutes_both_ways(&*t.store, v.id, range, START_US, &[ChartChannel::Speed]).await;
    assert_eq!(summaries.len(), 150);
    assert_eq!(summaries, samples);
    assert!(summaries.iter().all(|m| m.n == 60));
}

#[tokio::test]
async fn a_connection_cut_mid_import_stores_nothing_and_the_store_goes_on() {
    let t = test_store().await;
    let Pool::Postgres(pool) = t.pool.clone() else {
        eprintln!("SKIPPED on SQLite: cutting the server connection is a PostgreSQL test");
        return;
    };
    let (text, counts) = demo_log(2, 20);
    assert!(counts.samples > 100_000, "{}", counts.samples);

    let store = t.store.clone();
    let import = tokio::spawn(async move {
        import_reader(
            &*store,
            "cut.ndjson",
            std::io::Cursor::new(text),
            &ImportOptions::default(),
            None,
        )
        .await
    });
    // Wait for the COPY of samples to be under way, then end its backend.
    let mut cut = false;
    for _ in 0..2_000 {
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND query LIKE 'COPY samples%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        if ended.contains(&true) {
            cut = true;
            break;
        }
        if import.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(cut, "the import's COPY was never seen running");
    let result = import.await.expect("the import does not panic");
    assert!(
        matches!(result, Err(ImportError::Store(_))),
        "a store error, got {result:?}"
    );
    let held = table_counts(&t.pool).await;
    assert!(
        held.iter().all(|(_, n)| *n == 0),
        "nothing of the file is stored: {held:?}"
    );

    // The pool replaces the lost connection: the next import goes in whole.
    let again = import_text(
        &*t.store,
        &lines(&[vehicle(VIN, "Asia/Shanghai"), sample_at(VIN, 0, 10.0)]),
    )
    .await
    .expect("import after the cut");
    assert_eq!(again.inserted.samples, 1);
}
