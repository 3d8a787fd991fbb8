//! `portal import` semantics on a real SQLite file: atomicity, idempotence,
//! conflicts, every error class, gzip, lenient mode.

use crate::common::*;
use portal_core::domain::Vin;
use portal_core::server::import::{ImportError, ImportOptions};
use portal_core::server::store::TimeRange;
use std::io::Write;

fn rejected(
    result: Result<portal_core::server::import::ImportSummary, ImportError>,
) -> (u64, Vec<portal_core::server::import::LineError>) {
    match result {
        Err(ImportError::Rejected { total, errors, .. }) => (total, errors),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn imports_every_kind_and_reads_it_back() {
    let t = test_store().await;
    let text = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        sample(VIN, 0, 118.5),
        sample(VIN, 1, 117.0),
        event(VIN, "ev-1", "collision", "critical"),
        edr(VIN, "ev-1"),
    ]);
    let summary = import_text(&*t.store, &text).await.expect("import");
    assert_eq!(
        (
            summary.inserted.vehicles,
            summary.inserted.samples,
            summary.inserted.events,
            summary.inserted.edr
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(summary.lines, 5);

    let v = t
        .store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .expect("vehicle held");
    assert_eq!(v.vehicle.timezone, "Asia/Shanghai");
    let samples = t.store.samples(v.id, TimeRange::ALL, 10).await.unwrap();
    assert_eq!(samples.len(), 2);
    // 10:15:00+08:00 is 02:15:00Z; stored as UTC microseconds.
    assert_eq!(
        portal_core::domain::time::format_utc(samples[0].t_us),
        "2021-02-21T02:15:00Z"
    );
    assert_eq!(samples[0].channels.speed_kmh, Some(118.5));
    assert_eq!(samples[0].channels.accel_pedal_pct, None);

    let records = t.store.edr_records(v.id, TimeRange::ALL).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.pre_crash.samples.len(), 2);
    assert_eq!(r.pre_crash.samples[0].brake_pressure_bar, Some(92.7));
    assert_eq!(r.delta_v.samples[1].long_kmh, Some(-5.2));
    assert_eq!(r.airbags.len(), 2);

    let h = t.store.holdings(v.id, TimeRange::ALL).await.unwrap();
    assert_eq!(
        (
            h.samples.count,
            h.location.count,
            h.events.count,
            h.edr_records.count,
            h.locked_edr_records
        ),
        (2, 2, 1, 1, 1)
    );

    // The file's entry, then one per vehicle it carried records of.
    let audit = t.store.audit_entries(0, 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e.action == "import"));
    assert!(audit.iter().all(|e| e.details.contains(&summary.sha256)));
    assert_eq!(
        (audit[0].vin.as_deref(), audit[1].vin.as_deref()),
        (None, Some(VIN))
    );
}

#[tokio::test]
async fn reimporting_the_same_file_adds_nothing() {
    let t = test_store().await;
    let text = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        sample(VIN, 0, 50.0),
        event(VIN, "ev-1", "collision", "critical"),
        edr(VIN, "ev-1"),
    ]);
    import_text(&*t.store, &text).await.unwrap();
    let before = table_counts(&t.pool).await;
    let again = import_text(&*t.store, &text).await.unwrap();
    assert_eq!(
        (
            again.inserted.samples,
            again.inserted.events,
            again.inserted.edr,
            again.inserted.vehicles
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        (
            again.duplicates.samples,
            again.duplicates.events,
            again.duplicates.edr,
            again.duplicates.vehicles
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(again.conflicts_total, 0);
    let after = table_counts(&t.pool).await;
    // Only the audit log grows (the re-import itself is recorded: the
    // file's entry and its one vehicle's).
    for ((name, a), (_, b)) in before.iter().zip(after.iter()) {
        let expected = if name == "audit_log" { a + 2 } else { *a };
        assert_eq!(*b, expected, "{name}");
    }
}

#[tokio::test]
async fn a_conflicting_duplicate_is_reported_and_the_held_value_kept() {
    let t = test_store().await;
    import_text(
        &*t.store,
        &lines(&[
            vehicle(VIN, "Asia/Shanghai"),
            sample(VIN, 0, 50.0),
            sample(VIN, 1, 51.0),
        ]),
    )
    .await
    .unwrap();
    let summary = import_text(
        &*t.store,
        &lines(&[
            sample(VIN, 0, 99.0),
            sample(VIN, 1, 51.0),
            sample(VIN, 2, 52.0),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(summary.inserted.samples, 1);
    assert_eq!(summary.duplicates.samples, 1);
    assert_eq!(summary.conflicts_total, 1);
    let c = &summary.conflicts[0];
    assert_eq!(c.line, 1);
    assert!(c.reason.contains("speed_kmh"), "{}", c.reason);
    let v = t
        .store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let held = t.store.samples(v.id, TimeRange::ALL, 10).await.unwrap();
    assert_eq!(
        held[0].channels.speed_kmh,
        Some(50.0),
        "never silently overwritten"
    );

    // Same for events and vehicles.
    let s = import_text(
        &*t.store,
        &lines(&[
            vehicle(VIN, "Asia/Urumqi"),
            event(VIN, "e", "hard_brake", "warning"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(s.conflicts_total, 1);
    let s = import_text(
        &*t.store,
        &lines(&[event(VIN, "e", "hard_brake", "critical")]),
    )
    .await
    .unwrap();
    assert_eq!(s.conflicts_total, 1);
    assert!(s.conflicts[0].identity.contains("event e"));
}

#[tokio::test]
async fn reject_conflicts_makes_a_conflict_reject_the_file() {
    let t = test_store().await;
    import_text(
        &*t.store,
        &lines(&[vehicle(VIN, "Asia/Shanghai"), sample(VIN, 0, 50.0)]),
    )
    .await
    .unwrap();
    let before = table_counts(&t.pool).await;
    let options = ImportOptions {
        reject_conflicts: true,
        ..ImportOptions::default()
    };
    let result = import_with(
        &*t.store,
        &lines(&[sample(VIN, 1, 1.0), sample(VIN, 0, 99.0)]),
        &options,
    )
    .await;
    match result {
        Err(ImportError::Rejected {
            total, conflicts, ..
        }) => {
            assert_eq!(total, 1);
            assert_eq!(conflicts[0].line, 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(table_counts(&t.pool).await, before);
}

#[tokio::test]
async fn a_bad_line_at_the_end_of_a_large_file_leaves_the_store_as_before() {
    let t = test_store().await;
    import_text(
        &*t.store,
        &lines(&[vehicle(VIN2, "Asia/Shanghai"), sample(VIN2, 0, 10.0)]),
    )
    .await
    .unwrap();
    let before = table_counts(&t.pool).await;

    let (mut text, counts) = demo_log(2, 6);
    assert!(
        counts.samples > 30_000,
        "large enough to span many batches: {}",
        counts.samples
    );
    writeln!(
        text,
        r#"{{"kind":"sample","vin":"{VIN2}","t":"2021-02-21T10:15:00Z","speed_kmh":999}}"#
    )
    .unwrap();
    let total_lines = text.iter().filter(|b| **b == b'\n').count() as u64;

    let result = portal_core::server::import::import_reader(
        &*t.store,
        "big.ndjson",
        std::io::Cursor::new(text),
        &ImportOptions::default(),
        None,
    )
    .await;
    let (total, errors) = rejected(result);
    assert_eq!(total, 1);
    assert_eq!(errors[0].line, total_lines);
    assert_eq!(errors[0].field.as_deref(), Some("speed_kmh"));
    assert_eq!(
        table_counts(&t.pool).await,
        before,
        "nothing of the file is stored"
    );
}

#[tokio::test]
async fn every_error_is_listed_with_line_field_and_reason_up_to_the_cap() {
    let t = test_store().await;
    let mut parts = vec![
        vehicle(VIN, "Asia/Shanghai"),
        sample(VIN2, 0, 1.0),                         // 2: undeclared vehicle
        "not json".to_string(),                       // 3: syntax
        r#"{"kind":"sample","vin":"x"}"#.to_string(), // 4: missing t
        event(VIN, "ev-9", "hard_brake", "warning"),
        edr(VIN, "ev-9"),       // 6: EDR on a non-crash event
        edr(VIN, "ev-missing"), // 7: EDR on no event
    ];
    for i in 0..150 {
        parts.push(sample(VIN, i, 400.0)); // out of range
    }
    let options = ImportOptions {
        max_listed: 20,
        ..ImportOptions::default()
    };
    let (total, errors) = rejected(import_with(&*t.store, &lines(&parts), &options).await);
    assert_eq!(total, 5 + 150, "all counted");
    assert_eq!(errors.len(), 20, "listed up to the cap");
    assert_eq!(errors[0].line, 2);
    assert!(
        errors[0].reason.contains("not declared"),
        "{}",
        errors[0].reason
    );
    assert_eq!(errors[1].line, 3);
    assert!(errors[1].reason.starts_with("invalid JSON"));
    assert_eq!((errors[2].line, errors[2].field.as_deref()), (4, None));
    assert!(
        errors[2].reason.contains("missing field `t`"),
        "{}",
        errors[2].reason
    );
    assert!(table_counts(&t.pool).await.iter().all(|(_, n)| *n == 0));
}

#[tokio::test]
async fn edr_must_name_a_crash_event() {
    let t = test_store().await;
    let (_, errors) = rejected(
        import_text(
            &*t.store,
            &lines(&[
                vehicle(VIN, "Asia/Shanghai"),
                event(VIN, "ev-9", "hard_brake", "warning"),
                edr(VIN, "ev-9"),
            ]),
        )
        .await,
    );
    assert_eq!(
        (errors[0].line, errors[0].field.as_deref()),
        (3, Some("event_id"))
    );
    assert!(
        errors[0].reason.contains("hard_brake"),
        "{}",
        errors[0].reason
    );
}

#[tokio::test]
async fn gzip_files_are_imported() {
    let t = test_store().await;
    let text = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        sample(VIN, 0, 1.0),
        sample(VIN, 1, 2.0),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
    let summary =
        portal_core::server::import::import_file(&*t.store, &path, &ImportOptions::default(), None)
            .await
            .unwrap();
    assert_eq!(summary.inserted.samples, 2);
    assert_eq!(
        summary.bytes,
        std::fs::metadata(&path).unwrap().len(),
        "bytes counted as received"
    );
}

#[tokio::test]
async fn lenient_mode_keeps_unknown_fields_and_strict_rejects_them() {
    let t = test_store().await;
    let text = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        format!(
            r#"{{"kind":"sample","vin":"{VIN}","t":"2021-02-21T10:15:00Z","speed_kmh":3,"tyre_kpa":[230,231]}}"#
        ),
    ]);
    let (_, errors) = rejected(import_text(&*t.store, &text).await);
    assert!(errors[0].reason.contains("unknown field `tyre_kpa`"));
    let options = ImportOptions {
        strict: false,
        ..ImportOptions::default()
    };
    import_with(&*t.store, &text, &options).await.unwrap();
    let v = t
        .store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let held = t.store.samples(v.id, TimeRange::ALL, 10).await.unwrap();
    assert_eq!(held[0].extra.as_deref(), Some(r#"{"tyre_kpa":[230,231]}"#));
}

#[tokio::test]
async fn blank_lines_and_crlf_are_tolerated() {
    let t = test_store().await;
    let text = format!(
        "{}\r\n\r\n{}\r\n",
        vehicle(VIN, "Asia/Shanghai"),
        sample(VIN, 0, 1.0)
    );
    let s = import_text(&*t.store, &text).await.unwrap();
    assert_eq!(s.inserted.samples, 1);
}

#[tokio::test]
async fn invalid_utf8_is_an_error_on_its_line() {
    let t = test_store().await;
    let mut bytes = format!("{}\n", vehicle(VIN, "Asia/Shanghai")).into_bytes();
    bytes.extend_from_slice(b"{\"kind\":\"sample\",\"vin\":\"\xff\"}\n");
    let result = portal_core::server::import::import_reader(
        &*t.store,
        "x",
        std::io::Cursor::new(bytes),
        &ImportOptions::default(),
        None,
    )
    .await;
    let (_, errors) = rejected(result);
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].reason.contains("UTF-8"));
}

#[tokio::test]
async fn numbers_are_stored_exactly_as_sent() {
    let t = test_store().await;
    // Values whose shortest decimal form needs all 17 significant digits.
    let text = lines(&[
        vehicle(VIN, "Asia/Shanghai"),
        format!(
            r#"{{"kind":"sample","vin":"{VIN}","t":"2021-02-21T10:15:00.000001Z","lat":31.230400000000003,"lon":121.47370000000001,"speed_kmh":0.30000000000000004}}"#
        ),
    ]);
    import_text(&*t.store, &text).await.unwrap();
    let v = t
        .store
        .vehicle(&Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let s = &t.store.samples(v.id, TimeRange::ALL, 1).await.unwrap()[0];
    assert_eq!(s.channels.lat, Some(31.230400000000003));
    assert_eq!(s.channels.lon, Some(121.47370000000001));
    assert_eq!(s.channels.speed_kmh, Some(0.1 + 0.2));
    assert_eq!(s.t_us % 1_000_000, 1, "microseconds kept");
}
