//! Sealed logs (format 1.1) at import, on both backends: seals checked
//! against the covered lines and the car's certified key, the lines kept
//! byte for byte, records linked to their seal, missing batches reported,
//! and every bad seal rejecting the whole file, naming its line.

use crate::common::*;
use ed25519_dalek::SigningKey;
use portal_core::domain::sealed::{SealLine, VehicleKey};
use portal_core::server::import::{ImportError, ImportOptions, ImportSummary, LineError};
use portal_core::server::seal::car::{certify, nonce, CarSealer};
use portal_core::server::seal::{TrustAnchors, VehicleCa};
use portal_core::server::store::Pool;
use std::sync::Arc;

const CA_ID: &str = "test-ca";

fn ca_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn anchors() -> Arc<TrustAnchors> {
    use base64::Engine as _;
    let public =
        base64::engine::general_purpose::STANDARD.encode(ca_key().verifying_key().as_bytes());
    let listed = VehicleCa {
        id: CA_ID.into(),
        public,
    };
    Arc::new(TrustAnchors::from_list("test", vec![listed]).expect("anchors"))
}

fn options() -> ImportOptions {
    ImportOptions {
        vehicle_cas: anchors(),
        ..ImportOptions::default()
    }
}

/// A sealed log being written, line by line, as a car would.
struct SealedLog {
    car: CarSealer,
    lines: Vec<String>,
}

impl SealedLog {
    fn new() -> Self {
        Self::with_key(certify(
            &ca_key(),
            CA_ID,
            VIN,
            "k1",
            &car_key(),
            "2021-01-01T00:00:00Z",
        ))
    }

    fn with_key(key: VehicleKey) -> Self {
        let mut v: serde_json::Value =
            serde_json::from_str(&vehicle(VIN, "Asia/Shanghai")).unwrap();
        v["keys"] = serde_json::json!([key]);
        SealedLog {
            car: CarSealer::new(VIN, "k1", car_key()),
            lines: vec![v.to_string()],
        }
    }

    fn covered(&mut self, line: String, t: &str) -> &mut Self {
        self.car.cover(&line, t);
        self.lines.push(line);
        self
    }

    /// A sample and its position, `secs` after 10:15:00 (+08:00).
    fn drive(&mut self, secs: u32, speed: f64) -> &mut Self {
        let t = at(secs);
        let sample = format!(
            r#"{{"kind":"sample","vin":"{VIN}","t":"{t}","speed_kmh":{speed},"brake_pedal":false,"gear":"D"}}"#
        );
        let position = format!(
            r#"{{"kind":"position","vin":"{VIN}","t":"{t}","lat":31.2304,"lon":121.47{secs:02},"heading_deg":87.0,"nonce":"{}"}}"#,
            nonce([secs as u8; 16])
        );
        self.covered(sample, &t).covered(position, &t)
    }

    fn event(&mut self, id: &str, event_type: &str) -> &mut Self {
        let line = event(VIN, id, event_type, "critical");
        self.covered(line, "2021-02-21T10:15:03.000+08:00")
    }

    fn edr(&mut self, event_id: &str) -> &mut Self {
        let line = edr(VIN, event_id);
        self.covered(line, "2021-02-21T10:15:04.250+08:00")
    }

    fn seal(&mut self) -> SealLine {
        let seal = self.car.seal().expect("a batch to seal");
        self.lines.push(serde_json::to_string(&seal).unwrap());
        seal
    }

    fn text(&self) -> String {
        lines(&self.lines)
    }
}

fn car_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn at(secs: u32) -> String {
    format!(
        "2021-02-21T10:{:02}:{:02}.000+08:00",
        15 + secs / 60,
        secs % 60
    )
}

async fn scalar(pool: &Pool, sql: &str) -> i64 {
    match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn covered_text(pool: &Pool, seq: i64) -> String {
    let sql = format!("SELECT covered FROM seals WHERE seq = {seq}");
    let bytes: Vec<u8> = match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
        Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
    }
    .expect("covered lines");
    portal_core::server::seal::kept::read_kept(&bytes).expect("kept lines")
}

/// Two sealed batches: samples, positions, an event and its crash record.
fn two_batches() -> SealedLog {
    let mut log = SealedLog::new();
    for s in 0..3 {
        log.drive(s, 50.0 + s as f64);
    }
    log.seal();
    log.drive(3, 40.0)
        .event("e1", "collision")
        .edr("e1")
        .drive(4, 10.0);
    log.seal();
    log
}

#[tokio::test]
async fn a_sealed_file_is_verified_stored_with_its_lines_and_idempotent() {
    let t = test_store().await;
    let log = two_batches();
    let summary = import_with(&*t.store, &log.text(), &options())
        .await
        .expect("a valid sealed file imports");
    let i = &summary.inserted;
    assert_eq!(
        (
            i.vehicles,
            i.keys,
            i.seals,
            i.samples,
            i.positions,
            i.events,
            i.edr
        ),
        (1, 1, 2, 5, 5, 1, 1),
        "{summary:?}"
    );
    assert!(summary.missing_batches.is_empty());

    // Every record is linked to the seal that covers it.
    for table in ["samples", "positions", "events", "edr_records"] {
        let unsealed = scalar(
            &t.pool,
            &format!("SELECT count(*) FROM {table} WHERE seal_id IS NULL"),
        )
        .await;
        assert_eq!(unsealed, 0, "{table}");
    }
    let second = scalar(&t.pool, "SELECT id FROM seals WHERE seq = 2").await;
    assert_eq!(
        scalar(
            &t.pool,
            &format!("SELECT count(*) FROM samples WHERE seal_id = {second}")
        )
        .await,
        2
    );
    // The covered lines are kept byte for byte: lines 2–7 of the file are seal 1's.
    let expected: String = log.lines[1..7].iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(covered_text(&t.pool, 1).await, expected);
    let counts =
        "SELECT samples * 1000 + positions * 100 + events * 10 + edr FROM seals WHERE seq = 2";
    assert_eq!(scalar(&t.pool, counts).await, 2211);

    let before = table_counts(&t.pool).await;
    let again = import_with(&*t.store, &log.text(), &options())
        .await
        .expect("reimport");
    let d = &again.duplicates;
    assert_eq!(
        (d.seals, d.keys, d.samples, d.positions),
        (2, 1, 5, 5),
        "{again:?}"
    );
    assert_eq!(again.inserted.seals + again.inserted.samples, 0);
    let after = table_counts(&t.pool).await;
    assert_eq!(
        before
            .iter()
            .filter(|(n, _)| n != "audit_log")
            .collect::<Vec<_>>(),
        after
            .iter()
            .filter(|(n, _)| n != "audit_log")
            .collect::<Vec<_>>(),
        "a second import of the same file adds nothing"
    );
}

#[tokio::test]
async fn lines_after_the_last_seal_are_stored_unsealed() {
    let t = test_store().await;
    let mut log = SealedLog::new();
    log.drive(0, 30.0).seal();
    log.drive(1, 31.0);
    import_with(&*t.store, &log.text(), &options())
        .await
        .expect("import");
    let sealed = "SELECT count(*) FROM samples WHERE seal_id IS NOT NULL";
    assert_eq!(scalar(&t.pool, sealed).await, 1);
    let unsealed = "SELECT count(*) FROM positions WHERE seal_id IS NULL";
    assert_eq!(scalar(&t.pool, unsealed).await, 1);
}

/// Rejected, naming `line` and `field`, with the store as it was.
async fn assert_rejected(t: &TestStore, text: &str, line: u64, field: &str) -> LineError {
    let before = table_counts(&t.pool).await;
    let err = import_with(&*t.store, text, &options())
        .await
        .expect_err("the file must be rejected");
    let ImportError::Rejected { errors, .. } = err else {
        panic!("not a rejection: {err}")
    };
    let found = errors
        .iter()
        .find(|e| e.line == line && e.field.as_deref() == Some(field))
        .unwrap_or_else(|| panic!("no error on line {line} field {field}: {errors:?}"));
    // However many threads check a seal, each failure is named once.
    let named = errors
        .iter()
        .filter(|e| e.line == line && e.field.as_deref() == Some(field))
        .count();
    assert_eq!(named, 1, "named once: {errors:?}");
    assert_eq!(table_counts(&t.pool).await, before, "nothing changed");
    found.clone()
}

#[tokio::test]
async fn every_bad_seal_or_key_rejects_the_file_and_names_the_line() {
    let t = test_store().await;
    let good = two_batches();
    // Lines: 1 vehicle, 2–7 batch 1, 8 seal 1, 9–14 batch 2, 15 seal 2.
    let seal_line = 15;
    let with_seal = |change: &dyn Fn(&mut SealLine)| {
        let mut lines = good.lines.clone();
        let mut seal: SealLine = serde_json::from_str(&lines[14]).unwrap();
        change(&mut seal);
        lines[14] = serde_json::to_string(&seal).unwrap();
        lines
    };
    let flip = |s: &str| {
        let mut bytes = s.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    };

    let cases: Vec<(&str, Vec<String>, u64, &str, &str)> = vec![
        (
            "wrong root",
            with_seal(&|s| s.root = flip(&s.root)),
            seal_line,
            "sig",
            "does not verify",
        ),
        (
            "wrong signature",
            with_seal(&|s| s.sig = good_sig_of_other()),
            seal_line,
            "sig",
            "does not verify",
        ),
        (
            "unknown key id",
            with_seal(&|s| s.key = "k9".into()),
            seal_line,
            "key",
            "not a key",
        ),
        (
            "count",
            with_seal(&|s| s.count += 1),
            seal_line,
            "sig",
            "does not verify",
        ),
        (
            "first_t",
            with_seal(&|s| s.first_t = at(9)),
            seal_line,
            "sig",
            "does not verify",
        ),
    ];
    for (what, lines_, line, field, words) in cases {
        let e = assert_rejected(&t, &lines(&lines_), line, field).await;
        assert!(e.reason.contains(words), "{what}: {e:?}");
    }

    // Re-signed by the car, so only the covered lines can tell: a count, a
    // time or a root that does not match them.
    let resigned = |change: &dyn Fn(&mut SealLine)| {
        let mut seal: SealLine = serde_json::from_str(&good.lines[14]).unwrap();
        change(&mut seal);
        let mut lines = good.lines.clone();
        lines[14] = serde_json::to_string(&sign(seal)).unwrap();
        lines
    };
    let e = assert_rejected(&t, &lines(&resigned(&|s| s.count = 5)), 15, "count").await;
    assert!(e.reason.contains("says 5 but 6 lines"), "{e:?}");
    let e = assert_rejected(&t, &lines(&resigned(&|s| s.first_t = at(4))), 15, "first_t").await;
    assert!(e.reason.contains("line 9"), "{e:?}");
    let e = assert_rejected(&t, &lines(&resigned(&|s| s.last_t = at(3))), 15, "last_t").await;
    assert!(e.reason.contains("line 14"), "{e:?}");
    let e = assert_rejected(
        &t,
        &lines(&resigned(&|s| s.root = flip(&s.root))),
        15,
        "root",
    )
    .await;
    assert!(e.reason.contains("lines 9–14"), "{e:?}");

    // A covered line altered by one byte.
    let mut altered = good.lines.clone();
    altered[9] = altered[9].replace("121.4703", "121.4704");
    assert_ne!(altered[9], good.lines[9]);
    let e = assert_rejected(&t, &lines(&altered), 15, "root").await;
    assert!(e.reason.contains("changed"), "{e:?}");
    // The root is named before the times, whichever thread checks it: with
    // both wrong the times are found first, and the root still named.
    let mut both = resigned(&|s| s.first_t = at(4));
    both[9] = both[9].replace("121.4703", "121.4704");
    let e = assert_rejected(&t, &lines(&both), 15, "root").await;
    assert!(e.reason.contains("lines 9–14"), "{e:?}");

    // A seal with nothing to cover: a second seal right after the first.
    let mut empty = good.lines[..8].to_vec();
    let mut log = SealedLog::new();
    log.drive(0, 50.0).drive(1, 51.0).drive(2, 52.0);
    log.seal();
    log.car.cover("x", "t");
    let mut next = log.car.seal().unwrap();
    next.count = 0;
    empty.push(serde_json::to_string(&next).unwrap());
    let e = assert_rejected(&t, &lines(&empty), 9, "count").await;
    assert!(e.reason.contains("at least one line"), "{e:?}");
    // …and one whose count is right but nothing stands before it.
    let mut lone = good.lines[..8].to_vec();
    let resealed = sign(SealLine {
        seq: 2,
        count: 1,
        prev: payload_digest_of(&good.lines[7]),
        ..serde_json::from_str(&good.lines[14]).unwrap()
    });
    lone.push(serde_json::to_string(&resealed).unwrap());
    let e = assert_rejected(&t, &lines(&lone), 9, "count").await;
    assert!(e.reason.contains("covers nothing"), "{e:?}");

    // A position without a nonce.
    let mut no_nonce = good.lines.clone();
    let mut position: serde_json::Value = serde_json::from_str(&no_nonce[2]).unwrap();
    position.as_object_mut().unwrap().remove("nonce");
    no_nonce[2] = position.to_string();
    let e = assert_rejected_any_field(&t, &lines(&no_nonce), 3).await;
    assert!(e.reason.contains("nonce"), "{e:?}");

    // A key certified by a CA nobody trusts, or not certified at all.
    let stranger = SigningKey::from_bytes(&[3; 32]);
    let forged = certify(
        &stranger,
        CA_ID,
        VIN,
        "k1",
        &car_key(),
        "2021-01-01T00:00:00Z",
    );
    let untrusted = certify(
        &stranger,
        "other-ca",
        VIN,
        "k1",
        &car_key(),
        "2021-01-01T00:00:00Z",
    );
    for key in [forged, untrusted] {
        let mut log = SealedLog::with_key(key);
        log.drive(0, 10.0).seal();
        let e = assert_rejected(&t, &log.text(), 1, "keys[0].cert").await;
        assert!(!e.reason.is_empty());
    }

    // Seals held already are checked as the file is read: the same file with
    // a covered line altered is refused as before, its seals being held.
    import_with(&*t.store, &lines(&good.lines), &options())
        .await
        .expect("the good file");
    let e = assert_rejected(&t, &lines(&altered), 15, "root").await;
    assert!(e.reason.contains("changed"), "{e:?}");
}

#[tokio::test]
async fn a_bad_signature_found_at_the_end_of_the_file_is_listed_in_line_order() {
    let t = test_store().await;
    let mut lines_ = two_batches().lines;
    // Seal 1 (line 8) signed over something else; its records were written
    // by the time its signature is checked, at the end of the file.
    let mut seal: SealLine = serde_json::from_str(&lines_[7]).unwrap();
    seal.sig = good_sig_of_other();
    lines_[7] = serde_json::to_string(&seal).unwrap();
    // Three lines that are not records, after it (lines 16–18).
    lines_.extend(["not json".to_string(), "{}".into(), "[]".into()]);
    let before = table_counts(&t.pool).await;
    let listing_two = ImportOptions {
        max_listed: 2,
        ..options()
    };
    let err = import_with(&*t.store, &lines(&lines_), &listing_two)
        .await
        .expect_err("the file must be rejected");
    let ImportError::Rejected { errors, total, .. } = err else {
        panic!("not a rejection: {err}")
    };
    assert_eq!(total, 4, "{errors:?}");
    let listed: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(listed[0], (8, Some("sig")), "{errors:?}");
    assert_eq!(listed[1].0, 16, "{errors:?}");
    assert_eq!(table_counts(&t.pool).await, before, "nothing changed");
}

async fn assert_rejected_any_field(t: &TestStore, text: &str, line: u64) -> LineError {
    let err = import_with(&*t.store, text, &options())
        .await
        .expect_err("rejected");
    let ImportError::Rejected { errors, .. } = err else {
        panic!("{err}")
    };
    errors
        .into_iter()
        .find(|e| e.line == line)
        .expect("an error on the line")
}

/// A seal signed again by the car's key after a change.
fn sign(mut seal: SealLine) -> SealLine {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let payload = portal_core::server::seal::lines::seal_payload(&seal);
    seal.sig = base64::engine::general_purpose::STANDARD
        .encode(car_key().sign(payload.as_bytes()).to_bytes());
    seal
}

fn payload_digest_of(seal_line: &str) -> String {
    portal_core::server::seal::lines::payload_digest(&serde_json::from_str(seal_line).unwrap())
}

/// A well-formed signature over something else.
fn good_sig_of_other() -> String {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    base64::engine::general_purpose::STANDARD.encode(car_key().sign(b"other").to_bytes())
}

#[tokio::test]
async fn missing_batches_are_reported_and_filled_when_they_arrive() {
    let t = test_store().await;
    let mut log = SealedLog::new();
    log.drive(0, 10.0).seal();
    let lost_from = log.lines.len();
    log.drive(1, 11.0).seal();
    // Seal 2 and its lines never arrive with the rest.
    let mut late = vec![log.lines[0].clone()];
    late.extend(log.lines.drain(lost_from..));
    log.drive(2, 12.0).seal();
    let summary: ImportSummary = import_with(&*t.store, &log.text(), &options())
        .await
        .expect("a gap is accepted");
    let [gap] = summary.missing_batches.as_slice() else {
        panic!("{:?}", summary.missing_batches)
    };
    assert_eq!(
        (
            gap.vin.as_str(),
            gap.batch.key.as_str(),
            gap.batch.from_seq,
            gap.batch.to_seq
        ),
        (VIN, "k1", 2, 2)
    );
    assert_eq!(gap.batch.after.as_deref(), Some(at(0).as_str()));
    assert_eq!(gap.batch.before, at(2));
    assert_eq!(t.store.missing_batches(1).await.unwrap().len(), 1);

    // The lost batch arrives later: it links to both neighbours, the gap closes.
    let filled = import_with(&*t.store, &lines(&late), &options())
        .await
        .expect("the late batch imports");
    assert_eq!(filled.inserted.seals, 1, "{filled:?}");
    assert!(filled.missing_batches.is_empty(), "{filled:?}");
    assert!(t.store.missing_batches(1).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_seal_repeated_with_other_content_is_a_conflict() {
    let t = test_store().await;
    let mut log = SealedLog::new();
    log.drive(0, 10.0).seal();
    import_with(&*t.store, &log.text(), &options())
        .await
        .expect("first");
    // The same key signs another batch as seq 1.
    let mut other = SealedLog::new();
    other.drive(5, 99.0).seal();
    let summary = import_with(&*t.store, &other.text(), &options())
        .await
        .expect("a conflict is reported, the held seal kept");
    assert_eq!(summary.conflicts_total, 1, "{summary:?}");
    assert!(summary.conflicts[0]
        .reason
        .contains("two different batches"));
    let unsealed = "SELECT count(*) FROM samples WHERE seal_id IS NULL";
    assert_eq!(
        scalar(&t.pool, unsealed).await,
        1,
        "its lines are kept unsealed"
    );

    let strict = ImportOptions {
        reject_conflicts: true,
        ..options()
    };
    let mut third = SealedLog::new();
    third.drive(7, 1.0).seal();
    let before = table_counts(&t.pool).await;
    assert!(import_with(&*t.store, &third.text(), &strict)
        .await
        .is_err());
    assert_eq!(table_counts(&t.pool).await, before);
}

#[tokio::test]
async fn without_a_trusted_ca_a_sealed_file_is_refused_saying_how_to_configure_one() {
    let t = test_store().await;
    let err = import_text(&*t.store, &two_batches().text())
        .await
        .expect_err("no CA configured");
    let ImportError::Rejected { errors, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(errors[0].line, 1);
    assert!(errors[0].reason.contains("--vehicle-ca"), "{errors:?}");
}

#[tokio::test]
async fn the_sealed_demo_imports_with_its_ca_and_shows_its_two_missing_batches() {
    use portal_core::server::demo::{demo_ca, demo_vin, DemoConfig};
    let t = test_store().await;
    let (text, counts) = demo_log_with(3, 5, true);
    let anchors =
        TrustAnchors::from_list("demo", vec![demo_ca(DemoConfig::default().seed)]).unwrap();
    let options = ImportOptions {
        vehicle_cas: Arc::new(anchors),
        ..ImportOptions::default()
    };
    let summary = import_with(&*t.store, std::str::from_utf8(&text).unwrap(), &options)
        .await
        .expect("the sealed demo imports");
    let i = &summary.inserted;
    assert_eq!(
        (i.samples, i.events, i.edr, i.positions, i.seals, i.keys),
        (
            counts.samples,
            counts.events,
            counts.edr,
            counts.positions,
            counts.seals,
            2
        ),
        "{summary:?} {counts:?}"
    );
    assert!(counts.positions > 0 && counts.seals > 10, "{counts:?}");
    assert_eq!(counts.missing_batches, 2);
    let gaps: Vec<(String, u64)> = summary
        .missing_batches
        .iter()
        .map(|m| (m.vin.clone(), m.batch.from_seq))
        .collect();
    assert_eq!(
        gaps,
        [(demo_vin(1).to_string(), 5), (demo_vin(1).to_string(), 12)]
    );
    // The third vehicle sends format 1: its samples carry location, no seal.
    let unsealed = scalar(
        &t.pool,
        "SELECT count(*) FROM samples WHERE seal_id IS NULL",
    )
    .await;
    let third = scalar(
        &t.pool,
        &format!(
            "SELECT count(*) FROM samples s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.vin = '{}'",
            demo_vin(2)
        ),
    )
    .await;
    assert_eq!(unsealed, third);
    // A position is the location of the sample at the same instant.
    let sealed_with_location =
        "SELECT count(*) FROM samples WHERE seal_id IS NOT NULL AND lat IS NOT NULL";
    assert_eq!(
        scalar(&t.pool, sealed_with_location).await as u64,
        counts.positions
    );
}
