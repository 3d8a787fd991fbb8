//! The store on a real database: queries, audit chain, demo consistency.

use crate::common::*;
use portal_core::server::demo::demo_vin;
use portal_core::server::store::{Pool, TimeRange};
use std::collections::HashMap;

#[tokio::test]
async fn a_fresh_store_is_empty_and_migrated() {
    let t = test_store().await;
    assert!(t.store.is_empty().await.unwrap());
    assert!(t.store.vehicles().await.unwrap().is_empty());
    match &t.pool {
        Pool::Sqlite(pool) => {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
        }
        Pool::Postgres(pool) => {
            let applied: i64 =
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            assert!(applied >= 1, "migrations recorded");
        }
    }
}

#[tokio::test]
async fn sample_queries_respect_the_range_and_limit() {
    let t = test_store().await;
    let mut parts = vec![vehicle(VIN, "Asia/Shanghai")];
    for i in 0..100 {
        parts.push(sample(VIN, i, i as f64));
    }
    import_text(&*t.store, &lines(&parts)).await.unwrap();
    let v = &t.store.vehicles().await.unwrap()[0];
    let all = t.store.samples(v.id, TimeRange::ALL, 1000).await.unwrap();
    assert_eq!(all.len(), 100);
    assert!(all.windows(2).all(|w| w[0].t_us < w[1].t_us), "time order");
    let from = all[10].t_us;
    let to = all[20].t_us;
    let window = t
        .store
        .samples(
            v.id,
            TimeRange {
                from_us: from,
                to_us: to,
            },
            1000,
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 10, "half-open range");
    assert_eq!(window[0].channels.speed_kmh, Some(10.0));
    assert_eq!(
        t.store
            .samples(v.id, TimeRange::ALL, 7)
            .await
            .unwrap()
            .len(),
        7
    );
}

#[tokio::test]
async fn audit_entries_become_leaves_of_a_signed_merkle_tree() {
    use portal_core::server::seal::merkle::root_of;
    use portal_core::server::signing::Signer;
    use portal_core::server::tlog::{entry_hash, note, LogKey};
    let t = test_store().await;
    for i in 0..3 {
        import_text(
            &*t.store,
            &lines(&[vehicle(VIN, "Asia/Shanghai"), sample(VIN, i, 1.0)]),
        )
        .await
        .unwrap();
    }
    // Appended (per file, and per vehicle it carried), not sequenced yet:
    // no leaves, no checkpoint.
    let entries = t.store.audit_entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries
        .iter()
        .all(|e| e.leaf.is_none() && e.nonce.len() == 32));
    assert_eq!(
        (
            t.store.log_size().await.unwrap(),
            t.store.log_pending().await.unwrap()
        ),
        (0, 6)
    );
    let log = LogKey::new("storage.test/log", Signer::from_key([9; 32].into())).unwrap();
    let verifier = log.verifier().clone();
    let portal = portal_core::server::Portal {
        log: Some(std::sync::Arc::new(log)),
        ..portal_core::server::Portal::new(t.store.clone())
    };
    let checkpoint = portal.sequence_log().await.unwrap().unwrap();
    let entries = t.store.audit_entries(0, 100).await.unwrap();
    let leaves: Vec<_> = entries.iter().map(entry_hash).collect();
    assert_eq!(
        entries.iter().map(|e| e.leaf).collect::<Vec<_>>(),
        (0..6).map(Some).collect::<Vec<_>>()
    );
    assert_eq!(
        (checkpoint.size, checkpoint.root),
        (6, root_of(&leaves).unwrap())
    );
    let signed = note::SignedNote::parse(&checkpoint.note).unwrap();
    signed.verify(&verifier).unwrap();
    assert_eq!(note::Checkpoint::parse(&signed.text).unwrap().size, 6);
    // Nothing new: the same checkpoint.
    assert_eq!(portal.sequence_log().await.unwrap().unwrap(), checkpoint);
    let report = portal_core::server::audit::verify_log(&*t.store, None, Some(&verifier))
        .await
        .unwrap();
    assert_eq!(
        (report.entries, report.checkpoint, report.broken),
        (6, Some(6), None)
    );
    assert_eq!(report.head.unwrap().root, hex::encode(checkpoint.root));
}

/// The demo's crash record must agree with the telemetry before it.
#[tokio::test]
async fn demo_data_imports_and_its_crash_record_matches_the_samples() {
    let t = test_store().await;
    let (text, counts) = demo_log(2, 10);
    let summary = portal_core::server::import::import_reader(
        &*t.store,
        "demo",
        std::io::Cursor::new(text),
        &Default::default(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(summary.inserted.samples, counts.samples);
    assert_eq!(summary.inserted.edr, 1);

    let v = t.store.vehicle(&demo_vin(0)).await.unwrap().unwrap();
    let events = t.store.events(v.id, TimeRange::ALL).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    for wanted in [
        "hard_brake",
        "fcw_warning",
        "aeb_activation",
        "collision",
        "airbag_deployment",
    ] {
        assert!(types.contains(&wanted), "demo has {wanted}: {types:?}");
    }
    let fcw = events
        .iter()
        .find(|e| e.event_type.as_str() == "fcw_warning")
        .unwrap();
    let aeb = events
        .iter()
        .find(|e| e.event_type.as_str() == "aeb_activation")
        .unwrap();
    assert!(fcw.t_us < aeb.t_us, "FCW comes before AEB");

    let edr = &t.store.edr_records(v.id, TimeRange::ALL).await.unwrap()[0];
    assert!(edr.locked && edr.airbags.len() == 2);
    let window = TimeRange {
        from_us: edr.t0_us - 6_000_000,
        to_us: edr.t0_us + 1,
    };
    let samples: HashMap<i64, Option<f64>> = t
        .store
        .samples(v.id, window, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.t_us, s.channels.speed_kmh))
        .collect();
    assert_eq!(edr.pre_crash.samples.len(), 51);
    for p in &edr.pre_crash.samples {
        let t_us = edr.t0_us + p.t_ms as i64 * 1000;
        assert_eq!(
            samples.get(&t_us).copied().flatten(),
            p.speed_kmh,
            "pre-crash speed at {} ms",
            p.t_ms
        );
    }
    // 10 Hz around events, 1 Hz elsewhere.
    let dense = samples.len();
    assert!(dense >= 51, "10 Hz before the crash: {dense}");
}

#[tokio::test]
async fn demo_vehicles_live_in_different_zones() {
    let (text, _) = demo_log(4, 1);
    let t = test_store().await;
    portal_core::server::import::import_reader(
        &*t.store,
        "demo",
        std::io::Cursor::new(text),
        &Default::default(),
        None,
    )
    .await
    .unwrap();
    let mut zones: Vec<String> = t
        .store
        .vehicles()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.vehicle.timezone)
        .collect();
    zones.sort();
    zones.dedup();
    assert_eq!(zones.len(), 4);
}

/// The test vehicle (`VIN`) as stored.
async fn stored_vehicle(
    store: &dyn portal_core::server::store::Store,
) -> portal_core::server::store::StoredVehicle {
    store
        .vehicle(&portal_core::domain::Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .expect("the test vehicle is stored")
}

/// The summaries of the minutes 10:15 and 10:16 (+08:00), which must
/// match the same rows read from the samples.
async fn minutes_10_15_and_10_16(
    t: &TestStore,
    vehicle: portal_core::server::store::VehicleId,
    channels: &[portal_core::domain::chart::ChartChannel],
) -> Vec<portal_core::server::store::ChartRow> {
    let minute = 60_000_000;
    let start =
        portal_core::domain::time::parse_rfc3339_micros("2021-02-21T10:15:00+08:00").unwrap();
    let range = TimeRange {
        from_us: start,
        to_us: start + 2 * minute,
    };
    let (summaries, samples) = minutes_both_ways(&*t.store, vehicle, range, start, channels).await;
    assert_eq!(summaries, samples);
    assert_eq!(summaries.len(), 2);
    summaries
}

#[tokio::test]
async fn minute_summaries_follow_every_import_and_match_the_samples() {
    use portal_core::domain::chart::ChartChannel;
    let t = test_store().await;
    // Two imports that both touch the minutes 10:15 and 10:16.
    let first: Vec<String> = std::iter::once(vehicle(VIN, "Asia/Shanghai"))
        .chain((0..90).step_by(2).map(|s| sample(VIN, s, s as f64)))
        .collect();
    import_text(&*t.store, &first.join("\n")).await.unwrap();
    let second: Vec<String> = std::iter::once(vehicle(VIN, "Asia/Shanghai"))
        .chain((1..90).step_by(2).map(|s| sample(VIN, s, 200.0 + s as f64)))
        .collect();
    import_text(&*t.store, &second.join("\n")).await.unwrap();

    let v = stored_vehicle(&*t.store).await;
    let channels = [ChartChannel::Speed, ChartChannel::BrakePedal];
    let summaries = minutes_10_15_and_10_16(&t, v.id, &channels).await;
    assert_eq!(
        (summaries[0].n, summaries[0].values[0]),
        (60, Some((0.0, 259.0)))
    );
    assert_eq!(
        (summaries[1].n, summaries[1].values[0]),
        (30, Some((60.0, 289.0)))
    );
    assert_eq!(summaries[1].values[1], Some((0.0, 0.0)));
}

#[tokio::test]
async fn summaries_made_before_commit_take_in_the_samples_written_after_them() {
    use portal_core::domain::chart::ChartChannel;
    use portal_core::server::import::{LineParser, Parsed};
    use portal_core::server::store::SealRuns;
    let t = test_store().await;
    import_text(&*t.store, &vehicle(VIN, "Asia/Shanghai"))
        .await
        .unwrap();
    let v = stored_vehicle(&*t.store).await;
    let mut parser = LineParser::new(true);
    let mut samples = |secs: std::ops::Range<u32>| {
        secs.map(|s| match parser.parse(1, &sample(VIN, s, s as f64)) {
            Ok(Parsed::Sample { sample, .. }) => (v.id, sample),
            _ => panic!("a sample line"),
        })
        .collect::<Vec<_>>()
    };
    // The import summarizes before it commits; whatever it writes after
    // that is summarized by the commit, and a second summary merges too.
    let mut tx = t.store.begin_import().await.unwrap();
    let unsealed = SealRuns::all(None);
    tx.put_samples(&samples(0..30), &unsealed).await.unwrap();
    tx.summarize().await.unwrap();
    tx.put_samples(&samples(30..90), &unsealed).await.unwrap();
    tx.summarize().await.unwrap();
    tx.put_samples(&samples(90..120), &unsealed).await.unwrap();
    tx.commit().await.unwrap();

    let summaries = minutes_10_15_and_10_16(&t, v.id, &[ChartChannel::Speed]).await;
    assert_eq!(
        (summaries[0].n, summaries[0].values[0]),
        (60, Some((0.0, 59.0)))
    );
    assert_eq!(
        (summaries[1].n, summaries[1].values[0]),
        (60, Some((60.0, 119.0)))
    );
}

/// Summaries are rebuilt an hour of data at a time: over a span of days,
/// with a slice ending inside a run of samples and days without any, every
/// sample is still summarised once, in its own minute.
#[tokio::test]
async fn minute_summaries_of_a_long_span_with_gaps_match_the_samples() {
    use portal_core::domain::chart::ChartChannel;
    use portal_core::domain::time::{format_utc, parse_rfc3339_micros};
    let t = test_store().await;
    let first = parse_rfc3339_micros("2021-02-21T10:15:20+08:00").unwrap();
    let day = 86_400;
    let offsets: Vec<i64> = (0..90)
        .chain(3_570..3_700)
        .chain(3 * day..3 * day + 60)
        .chain(3 * day + 7_150..3 * day + 7_260)
        .collect();
    let lines: Vec<String> = std::iter::once(vehicle(VIN, "Asia/Shanghai"))
        .chain(offsets.iter().map(|s| {
            format!(
                r#"{{"kind":"sample","vin":"{VIN}","t":"{}","speed_kmh":{}}}"#,
                format_utc(first + s * 1_000_000),
                s % 97
            )
        }))
        .collect();
    import_text(&*t.store, &lines.join("\n")).await.unwrap();
    let v = stored_vehicle(&*t.store).await;
    let range = TimeRange {
        from_us: first - 3_600_000_000,
        to_us: first + 4 * day * 1_000_000,
    };
    let origin = first - 20_000_000;
    let (summaries, samples) =
        minutes_both_ways(&*t.store, v.id, range, origin, &[ChartChannel::Speed]).await;
    assert_eq!(summaries, samples);
    assert_eq!(
        summaries.iter().map(|r| r.n).sum::<u64>(),
        offsets.len() as u64
    );
    // 10:15 and 10:16; 11:14 to 11:16 (a slice ends at 11:15); three days
    // on, 10:15 and 10:16, then 12:14 to 12:16.
    assert_eq!(summaries.len(), 2 + 3 + 2 + 3, "{summaries:?}");
}

/// Reads see each commit at once, also right after a read that failed on a
/// damaged row: no read is left holding an old snapshot (on SQLite, where
/// small reads run on the store's own connections, a checkpoint of the
/// whole log then completes).
#[tokio::test]
async fn reads_see_each_commit_at_once_even_after_a_read_failed() {
    use portal_core::domain::Vin;
    use portal_core::server::store::{EventFilter, EventPageRequest, StoreError};
    let t = test_store().await;
    let first = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        event(VIN, "ev-1", "hard_brake", "warning"),
    ]);
    import_text(&*t.store, &first).await.unwrap();
    let vin = Vin::parse(VIN).unwrap();
    let id = t.store.vehicle(&vin).await.unwrap().expect("vehicle").id;
    let page = EventPageRequest {
        descending: false,
        after: None,
        limit: 10,
    };
    let (all, filter) = ([TimeRange::ALL], EventFilter::default());
    let events = || t.store.event_page(id, &all, &filter, &page);
    assert_eq!(events().await.unwrap().len(), 1);

    let set_type =
        |ty: &str| format!("UPDATE events SET event_type = '{ty}' WHERE event_id = 'ev-1'");
    match &t.pool {
        Pool::Sqlite(p) => sqlx::query(&set_type("bogus")).execute(p).await.map(drop),
        Pool::Postgres(p) => sqlx::query(&set_type("bogus")).execute(p).await.map(drop),
    }
    .unwrap();
    let damaged = events().await;
    assert!(
        matches!(damaged, Err(StoreError::Corrupt(_))),
        "{damaged:?}"
    );

    match &t.pool {
        Pool::Sqlite(p) => sqlx::query(&set_type("hard_brake"))
            .execute(p)
            .await
            .map(drop),
        Pool::Postgres(p) => sqlx::query(&set_type("hard_brake"))
            .execute(p)
            .await
            .map(drop),
    }
    .unwrap();
    let second = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        event(VIN, "ev-2", "abs_activation", "info"),
    ]);
    import_text(&*t.store, &second).await.unwrap();
    let ids: Vec<String> = events()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.event.id)
        .collect();
    assert_eq!(ids.len(), 2, "the repaired row and the new one: {ids:?}");
    assert!(t.store.event(id, "ev-2").await.unwrap().is_some());

    if let Pool::Sqlite(p) = &t.pool {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(p)
            .await
            .unwrap();
        assert_eq!(busy, 0, "a reader still holds an old snapshot");
    }
}
