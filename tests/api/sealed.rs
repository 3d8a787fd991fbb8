//! Sealed records in evidence bundles, end to end: the sealed demo fleet
//! imported, bundles exported over HTTP, and checked by both verifiers (the
//! portal's and the independent one in `verifier/`, written from
//! `docs/evidence.md` only). If they ever disagree, the test fails.

use crate::evidence::members;
use crate::helpers::*;
use portal_core::domain::export::Verification;
use portal_core::server::demo::{demo_ca, demo_vin, generate, DemoConfig};
use portal_core::server::import::{import_reader, ImportOptions};
use portal_core::server::seal::TrustAnchors;
use portal_core::server::signing::PublicKey;
use portal_core::server::verify::{verify_bundle_with, Trust};
use portal_core::server::Portal;
use serde_json::Value;
use std::io::{Cursor, Write};
use std::sync::Arc;

fn anchors() -> TrustAnchors {
    TrustAnchors::from_list("demo", vec![demo_ca(DemoConfig::default().seed)]).unwrap()
}

/// A portal trusting the demo CA, holding `vehicles` × `days` of the sealed demo fleet.
async fn sealed_portal(vehicles: u32, days: u32) -> TestApp {
    let app = TestApp::spawn_with(|store| Portal {
        vehicle_cas: Arc::new(anchors()),
        ..Portal::new(store)
    })
    .await;
    let config = DemoConfig {
        vehicles,
        days,
        ..DemoConfig::default()
    };
    let mut text = Vec::new();
    generate(&config, &mut text).unwrap();
    let options = ImportOptions {
        vehicle_cas: Arc::new(anchors()),
        ..ImportOptions::default()
    };
    import_reader(&*app.store, "demo", Cursor::new(text), &options, None)
        .await
        .expect("the sealed demo imports");
    app
}

/// Two days of the sealed demo fleet's first vehicle; its owner since
/// `since_us` (or its first record).
async fn sealed_fixture(since_us: Option<i64>) -> (TestApp, reqwest::Client, String) {
    let app = sealed_portal(1, 2).await;
    let vin = demo_vin(0).to_string();
    let owner = new_owner(&app, &vin, since_us, "sealed@example.com").await;
    (app, owner, vin)
}

async fn bundle(app: &TestApp, c: &reqwest::Client, vin: &str, query: &str) -> Vec<u8> {
    let res = c
        .get(app.url(&format!(
            "/api/v1/vehicles/{vin}/export?format=bundle{query}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{query}");
    res.bytes().await.unwrap().to_vec()
}

/// The independent verifier's report on `zip`.
fn python_verifies(zip: &[u8], key: &str, with_ca: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.zip");
    std::fs::write(&bundle, zip).unwrap();
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, key).unwrap();
    let ca_file = dir.path().join("ca.json");
    std::fs::write(
        &ca_file,
        serde_json::to_string(&anchors().published()).unwrap(),
    )
    .unwrap();
    let python = std::env::var("VDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/verifier/vdp_verify.py");
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(script).arg(&bundle).arg("--key").arg(&key_file);
    if with_ca {
        cmd.arg("--vehicle-ca").arg(&ca_file);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("running {python} (set VDP_PYTHON to a Python with `cryptography`; ./dev.sh test does): {e}")
    });
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the independent verifier failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Both verifiers on one bundle: they must agree on validity, on every
/// problem (code, file and line) and on the sealed counts.
fn both_verify(zip: &[u8], key: &str) -> Verification {
    let public = PublicKey::parse(key).unwrap();
    let ours = verify_bundle_with(
        Cursor::new(zip),
        &public,
        &Trust {
            vehicle_cas: Some(&anchors()),
            ..Trust::default()
        },
    );
    let theirs = python_verifies(zip, key, true);
    let mut our_problems: Vec<String> = ours.problems.iter().map(|p| p.short()).collect();
    let mut their_problems: Vec<String> = theirs["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    our_problems.sort();
    their_problems.sort();
    assert_eq!(our_problems, their_problems, "the two verifiers disagree");
    assert_eq!(theirs["valid"], ours.valid);
    let sealed = ours.sealed.as_ref().expect("the bundle carries seals");
    let s = &theirs["sealed"];
    assert_eq!(
        (
            s["seals"].as_u64(),
            s["verified"].as_u64(),
            s["withheld"].as_u64(),
            s["unsealed"].as_u64(),
            s["ca_checked"].as_bool()
        ),
        (
            Some(sealed.seals),
            Some(sealed.verified),
            Some(sealed.withheld),
            Some(sealed.unsealed),
            Some(true)
        ),
        "the two verifiers count differently: {theirs}"
    );
    assert_eq!(
        serde_json::to_value(&sealed.missing_batches).unwrap(),
        s["missing_batches"]
    );
    ours
}

/// Rows of one of the store's tables (the same SQL on both backends).
async fn rows(app: &TestApp, table: &str) -> u64 {
    let sql = format!("SELECT count(*) FROM {table}");
    app.scalar(&sql, &sql).await as u64
}

fn member<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).expect(name).1
}

#[tokio::test]
async fn a_full_bundle_is_verified_against_the_car_by_both_verifiers() {
    let (app, c, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    let zip = bundle(&app, &c, &vin, "&location=full").await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.unwrap();
    let positions = rows(&app, "positions").await;
    let samples = rows(&app, "samples").await;
    assert!(sealed.seals > 10, "{sealed:?}");
    assert_eq!(sealed.withheld, 0, "everything is the owner's and in range");
    assert!(sealed.verified >= samples + positions, "{sealed:?}");
    assert_eq!(sealed.unsealed, 0, "every exported record is sealed");
    assert_eq!(sealed.keys, ["k1"]);
    let files = members(&zip);
    let manifest: Value = serde_json::from_slice(member(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["vehicle_seals"]["seals"], sealed.seals);
    assert_eq!(manifest["vehicle_seals"]["revealed"], sealed.verified);
    // The report's cover says what share the car signed, and with which key.
    let cover = crate::report::pdf_text(member(&files, "report.pdf"));
    let cover: String = cover.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(cover.contains("Signed by the vehicle itself"), "{cover}");
    assert!(cover.contains("车辆自身签名"), "{cover}");
    assert!(cover.contains("100.0 %") && cover.contains("k1"), "{cover}");
    assert!(cover.contains("Missing batches"), "{cover}");
}

#[tokio::test]
async fn with_location_none_no_coordinate_appears_and_the_rest_still_verifies() {
    let (app, c, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    let zip = bundle(&app, &c, &vin, "&location=none").await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.unwrap();
    let positions = rows(&app, "positions").await;
    assert_eq!(
        sealed.withheld, positions,
        "positions are withheld, as leaf hashes"
    );
    assert!(sealed.verified > 0);
    for (name, bytes) in members(&zip) {
        if name.ends_with(".pdf") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        // Coordinates travel only in `lat`/`lon` fields and columns, and in position lines.
        for needle in ["\"lat\"", "\"lon\"", "\"kind\":\"position\""] {
            assert!(!text.contains(needle), "{name} contains {needle}");
        }
        if name.ends_with(".csv") {
            let header = text.lines().next().unwrap_or_default();
            let columns: Vec<&str> = header.split(',').collect();
            assert!(
                !columns.iter().any(|c| c.starts_with("lat ")
                    || c.starts_with("lon ")
                    || *c == "lat"
                    || *c == "lon"),
                "{header}"
            );
        }
    }
}

/// Record times (µs) of the demo vehicle's second seal, read from the store.
async fn second_seal_span(app: &TestApp) -> (i64, i64) {
    let pg = |c: &str| {
        format!("SELECT (extract(epoch from {c}) * 1000000)::bigint FROM seals WHERE seq = 2")
    };
    let lo = app
        .scalar("SELECT t_min FROM seals WHERE seq = 2", &pg("t_min"))
        .await;
    let hi = app
        .scalar("SELECT t_max FROM seals WHERE seq = 2", &pg("t_max"))
        .await;
    (lo, hi)
}

fn utc(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

#[tokio::test]
async fn a_range_cutting_through_a_seal_reveals_its_part_and_hashes_the_rest() {
    let (app, c, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    let (lo, hi) = second_seal_span(&app).await;
    let middle = lo + (hi - lo) / 2;
    let query = format!(
        "&location=full&from={}&to={}",
        utc(middle),
        utc(hi + 3_600_000_000)
    );
    let zip = bundle(&app, &c, &vin, &query).await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.unwrap();
    let second = sealed
        .by_seal
        .iter()
        .find(|s| s.seq == 2)
        .expect("seal 2 is in the bundle");
    assert!(second.revealed > 0 && second.withheld > 0, "{second:?}");
    assert!(second.verified);
}

#[tokio::test]
async fn an_ownership_boundary_inside_a_seal_never_reveals_the_other_owners_lines() {
    let (app, _, _) = sealed_fixture(None).await;
    let (lo, hi) = second_seal_span(&app).await;
    let boundary = lo + (hi - lo) / 2;
    let vin = demo_vin(0).to_string();
    // The first owner's period ends at the boundary; the next one's starts there.
    Portal::new(app.store.clone())
        .transfer(&demo_vin(0), boundary)
        .await
        .expect("transfer");
    let c = new_owner(&app, &vin, Some(boundary), "next@example.com").await;
    let key = signing_key(&app).await;
    let zip = bundle(&app, &c, &vin, "&location=full").await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let files = members(&zip);
    let sealed_text = String::from_utf8(member(&files, "sealed.ndjson").to_vec()).unwrap();
    let mut revealed = 0;
    for line in sealed_text.lines().skip(1) {
        let value: Value = serde_json::from_str(line).unwrap();
        let Some(t) = value["t"].as_str().or(value["t0"].as_str()) else {
            continue;
        };
        if value["kind"] == "seal" {
            continue;
        }
        let t = portal_core::domain::time::parse_rfc3339_micros(t).unwrap();
        assert!(
            t >= boundary,
            "a line of the earlier owner is revealed: {line}"
        );
        revealed += 1;
    }
    assert!(revealed > 0);
    let sealed = v.sealed.unwrap();
    let second = sealed.by_seal.iter().find(|s| s.seq == 2).unwrap();
    assert!(second.revealed > 0 && second.withheld > 0, "{second:?}");

    // The overview says, per class, how many lines sealed with the owner's
    // records are the earlier owner's: together, what the bundle withholds.
    let (status, o) = get_json(&c, &app, &format!("/api/v1/vehicles/{vin}")).await;
    assert_eq!(status, 200, "{o}");
    let withheld = |class: &str| o[class]["withheld"].as_u64().unwrap();
    assert!(withheld("telemetry") > 0 && withheld("location") > 0, "{o}");
    let total: u64 = ["telemetry", "location", "events", "crash_records"]
        .iter()
        .map(|class| withheld(class))
        .sum();
    assert_eq!(total, sealed.withheld, "{o}");
    let page = zh_page(&c, &app, &format!("/vehicles/{vin}")).await;
    assert!(page.contains("data-testid=\"withheld\""), "{page}");
    assert!(page.contains("在您的时段之外"), "{page}");
}

/// A bundle exported by the recipient of a grant of `classes` at `location`
/// over the whole history (the grant made by `owner` just before).
async fn recipient_bundle(
    app: &TestApp,
    owner: &reqwest::Client,
    vin: &str,
    classes: &[&str],
    location: &str,
) -> Vec<u8> {
    let (status, issued) = post_json(
        owner,
        app,
        &format!("/api/v1/vehicles/{vin}/grants"),
        serde_json::json!({"recipient": "Court expert", "kind": "other", "purpose": "the brake dispute",
            "classes": classes, "location": location,
            "from": "2000-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z", "expires": date_in_days(3)}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let res = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/vehicles/{vin}/export?format=bundle&location={location}"
        )))
        .bearer_auth(issued["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_privacy_zone_withholds_the_positions_inside_it_and_the_bundle_still_verifies() {
    use portal_core::domain::privacy::distance_m;
    let (app, owner, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    // A zone around the first position the car recorded (where it is parked).
    let (_, page) = get_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{vin}/samples?limit=1000"),
    )
    .await;
    let first = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["lat"].is_number())
        .expect("a located sample")
        .clone();
    let home = (
        first["lat"].as_f64().unwrap(),
        first["lon"].as_f64().unwrap(),
    );
    let (status, _) = post_json(
        &owner,
        &app,
        "/api/v1/me/privacy-zones",
        serde_json::json!({"name": "Home", "lat": home.0, "lon": home.1, "radius_m": 1000}),
    )
    .await;
    assert_eq!(status, 201);
    let inside = |v: &Value| match (v["lat"].as_f64(), v["lon"].as_f64()) {
        (Some(lat), Some(lon)) => distance_m(home.0, home.1, lat, lon) <= 1000.0,
        _ => false,
    };

    // A recipient granted everything at `full`: the position lines inside
    // the zone are withheld (as leaf hashes), the rest revealed and verified.
    let zip = recipient_bundle(
        &app,
        &owner,
        &vin,
        &["telemetry", "events", "crash"],
        "full",
    )
    .await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.unwrap();
    let positions = rows(&app, "positions").await;
    assert!(
        sealed.withheld > 0 && sealed.withheld < positions,
        "{} of {positions} withheld",
        sealed.withheld
    );
    let files = members(&zip);
    let manifest: Value = serde_json::from_slice(member(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["privacy_zones_applied"], true);
    let sealed_text = String::from_utf8(member(&files, "sealed.ndjson").to_vec()).unwrap();
    let mut revealed_positions = 0;
    for line in sealed_text.lines().skip(1) {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(
            !inside(&value),
            "a position inside the zone is revealed: {line}"
        );
        revealed_positions += usize::from(value["kind"] == "position");
    }
    assert!(revealed_positions > 0);
    assert_eq!(revealed_positions as u64 + sealed.withheld, positions);
    let data = String::from_utf8(member(&files, "data.ndjson").to_vec()).unwrap();
    for line in data.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(
            !inside(&value),
            "data.ndjson places a sample inside the zone: {line}"
        );
    }

    // The owner's own export at `full` keeps every position.
    let zip = bundle(&app, &owner, &vin, "&location=full").await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.sealed.unwrap().withheld, 0);
}

#[tokio::test]
async fn a_grant_without_telemetry_gets_a_bundle_of_its_classes_that_still_verifies() {
    let (app, owner, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    let zip = recipient_bundle(&app, &owner, &vin, &["events", "crash"], "none").await;
    let v = both_verify(&zip, &key);
    assert!(v.valid, "{:?}", v.problems);
    let sealed = v.sealed.unwrap();
    assert!(
        sealed.withheld >= rows(&app, "samples").await,
        "every sample line is withheld: {sealed:?}"
    );
    let files = members(&zip);
    let manifest: Value = serde_json::from_slice(member(&files, "manifest.json")).unwrap();
    assert_eq!(
        manifest["data_classes"],
        serde_json::json!(["events", "crash"])
    );
    let sealed_text = String::from_utf8(member(&files, "sealed.ndjson").to_vec()).unwrap();
    let data = String::from_utf8(member(&files, "data.ndjson").to_vec()).unwrap();
    for text in [&sealed_text, &data] {
        for kind in ["sample", "position"] {
            assert!(
                !text.contains(&format!("\"kind\":\"{kind}\"")),
                "a {kind} line"
            );
        }
    }
    let csv = String::from_utf8(member(&files, "samples.csv").to_vec()).unwrap();
    assert_eq!(csv.lines().count(), 1, "the header only");
}

/// A page as a zh-CN reader gets it.
async fn zh_page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = c
        .get(app.url(path))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}

/// The bundle with `sealed.ndjson` changed by `change`, the manifest as signed.
fn tampered(zip: &[u8], change: impl Fn(&mut Vec<String>)) -> Vec<u8> {
    let files = members(zip);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        let bytes = if name == "sealed.ndjson" {
            let mut lines: Vec<String> = String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            change(&mut lines);
            (lines.join("\n") + "\n").into_bytes()
        } else {
            bytes
        };
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn flip_in(line: &mut String, at: usize) {
    let mut bytes = std::mem::take(line).into_bytes();
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    *line = String::from_utf8(bytes).unwrap();
}

#[tokio::test]
async fn one_changed_byte_in_a_revealed_line_a_seal_or_a_leaf_hash_fails_and_is_named() {
    let (app, c, vin) = sealed_fixture(None).await;
    let key = signing_key(&app).await;
    let (lo, hi) = second_seal_span(&app).await;
    let query = format!("&location=none&from={}", utc(lo + (hi - lo) / 2));
    let zip = bundle(&app, &c, &vin, &query).await;
    let text = String::from_utf8(member(&members(&zip), "sealed.ndjson").to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let seal_at = lines
        .iter()
        .position(|l| l.starts_with("{\"kind\":\"seal\""))
        .unwrap();
    let revealed_at = seal_at
        + 1
        + lines[seal_at + 1..]
            .iter()
            .position(|l| l.contains("\"sample\""))
            .unwrap();
    let leaf_at = lines
        .iter()
        .position(|l| l.starts_with("{\"leaf\""))
        .unwrap();
    let seal_of = |at: usize| {
        lines[..at]
            .iter()
            .rposition(|l| l.starts_with("{\"kind\":\"seal\""))
            .unwrap()
            + 1
    };

    // A revealed line: its seal's root no longer matches.
    let revealed_seal = seal_of(revealed_at);
    let zip1 = tampered(&zip, |l| {
        let at = l[revealed_at].find("speed_kmh").unwrap() + 12;
        flip_in(&mut l[revealed_at], at)
    });
    let v = both_verify(&zip1, &key);
    assert!(!v.valid);
    let named: Vec<String> = v.problems.iter().map(|p| p.short()).collect();
    assert!(
        named.contains(&format!("sealed_line:sealed.ndjson:{revealed_seal}")),
        "{named:?}"
    );
    assert!(
        named.contains(&"hash_mismatch:sealed.ndjson".to_string()),
        "{named:?}"
    );

    // A leaf hash.
    let leaf_seal = seal_of(leaf_at);
    let zip2 = tampered(&zip, |l| flip_in(&mut l[leaf_at], 12));
    let named: Vec<String> = both_verify(&zip2, &key)
        .problems
        .iter()
        .map(|p| p.short())
        .collect();
    assert!(
        named.contains(&format!("sealed_line:sealed.ndjson:{leaf_seal}")),
        "{named:?}"
    );

    // A seal's root: its signature fails, and so does the next seal's link.
    let zip3 = tampered(&zip, |l| {
        let at = l[seal_at].find("\"root\":\"").unwrap() + 8;
        flip_in(&mut l[seal_at], at)
    });
    let named: Vec<String> = both_verify(&zip3, &key)
        .problems
        .iter()
        .map(|p| p.short())
        .collect();
    assert!(
        named.contains(&format!("sealed_line:sealed.ndjson:{}", seal_at + 1)),
        "{named:?}"
    );
}

#[tokio::test]
async fn the_verify_page_and_api_say_what_the_car_signed_in_both_languages() {
    let (app, c, vin) = sealed_fixture(None).await;
    let zip = bundle(&app, &c, &vin, "&location=none").await;
    let reply: Value = TestApp::new_client()
        .post(app.url("/api/v1/verify"))
        .body(zip.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["valid"], true, "{reply}");
    let verified = reply["sealed"]["verified"].as_u64().unwrap();
    assert!(
        verified > 0 && reply["sealed"]["ca_checked"] == true,
        "{reply}"
    );

    let target = crate::hardening::verify_form(&app, zip).await;
    let client = TestApp::new_client();
    assert!(target.contains(&format!(".{verified}.")), "{target}");
    for (lang, words) in [
        ("en", "records verified against the car's own signature"),
        ("zh-CN", "条记录已用车辆自身的签名核验"),
    ] {
        let page = page_in(&client, &app, &target, lang).await;
        assert!(page.contains(words), "{lang}: {page}");
        let summary = &page[page
            .find("data-testid=\"sealed-summary\"")
            .expect("the summary")..];
        assert!(summary.contains(&verified.to_string()), "{lang}: {summary}");
    }
}

#[tokio::test]
async fn the_overview_says_per_class_what_the_car_signed_and_lists_missing_batches() {
    let app = sealed_portal(3, 4).await;
    // The second vehicle lost two batches; the third sends format 1.
    let lossy = demo_vin(1).to_string();
    let c = new_owner(&app, &lossy, None, "lossy@example.com").await;
    let (status, o) = get_json(&c, &app, &format!("/api/v1/vehicles/{lossy}")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["telemetry"]["sealed"], o["telemetry"]["count"], "{o}");
    assert_eq!(o["location"]["sealed"], o["location"]["count"]);
    assert_eq!(o["events"]["sealed"], o["events"]["count"]);
    // An owner since the first record is given every sealed line.
    for class in ["telemetry", "location", "events", "crash_records"] {
        assert_eq!(o[class]["withheld"], 0, "{class}: {o}");
    }
    let gaps = o["missing_batches"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{o}");
    assert_eq!(
        (gaps[0]["from_seq"].as_u64(), gaps[1]["from_seq"].as_u64()),
        (Some(5), Some(12))
    );
    let page = zh_page(&c, &app, &format!("/vehicles/{lossy}")).await;
    assert!(page.contains("缺失批次"), "{page}");
    assert!(page.contains("data-testid=\"missing-batches\""));

    let old = demo_vin(2).to_string();
    let c = new_owner(&app, &old, None, "old@example.com").await;
    let (_, o) = get_json(&c, &app, &format!("/api/v1/vehicles/{old}")).await;
    assert!(o["telemetry"]["count"].as_u64().unwrap() > 0);
    assert_eq!(o["telemetry"]["sealed"], 0, "format 1 data is unsealed");
    assert_eq!(o["missing_batches"], serde_json::json!([]));
}

#[tokio::test]
async fn every_record_says_whether_the_car_signed_it_and_with_which_key() {
    let app = sealed_portal(3, 2).await;
    let sealed_vin = demo_vin(0).to_string();
    let c = new_owner(&app, &sealed_vin, None, "sealed@example.com").await;
    let api = |path: String| {
        let (app, c) = (&app, &c);
        async move {
            let (status, v) = get_json(c, app, &path).await;
            assert_eq!(status, 200, "{path}: {v}");
            v
        }
    };
    let base = format!("/api/v1/vehicles/{sealed_vin}");
    let samples = api(format!("{base}/samples?limit=50")).await;
    let items = samples["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|s| s["sealed_by"] == "k1"), "{samples}");
    let events = api(format!("{base}/events?group=crash")).await;
    let crash = &events["items"][0];
    assert_eq!(crash["sealed_by"], "k1", "{events}");
    let detail = api(format!("{base}/events/{}", crash["id"].as_str().unwrap())).await;
    assert_eq!(detail["event"]["sealed_by"], "k1");
    assert_eq!(detail["edr"]["sealed_by"], "k1", "the crash record");
    assert!(detail["samples"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["sealed_by"] == "k1"));
    let drives = api(format!("{base}/drives")).await;
    let drive = &drives["items"][0];
    assert_eq!(drive["sealed_samples"], drive["samples"], "{drives}");

    for (lang, words) in [("en", "signed, key"), ("zh-CN", "已签名，密钥")] {
        let page = page_in(&c, &app, &format!("/vehicles/{sealed_vin}/events"), lang).await;
        assert!(page.contains(words), "{lang}");
    }

    // The third demo vehicle sends format 1: nothing of it is said to be signed.
    let old = demo_vin(2).to_string();
    let c = new_owner(&app, &old, None, "old@example.com").await;
    let (_, samples) = get_json(
        &c,
        &app,
        &format!("/api/v1/vehicles/{old}/samples?limit=50"),
    )
    .await;
    let items = samples["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.iter().all(|s| s.get("sealed_by").is_none()));
    let (_, events) = get_json(&c, &app, &format!("/api/v1/vehicles/{old}/events")).await;
    let items = events["items"].as_array().unwrap();
    assert!(
        !items.is_empty() && items.iter().all(|e| e.get("sealed_by").is_none()),
        "{events}"
    );
    let page = zh_page(&c, &app, &format!("/vehicles/{old}/telemetry")).await;
    assert!(page.contains("未签名") && !page.contains("已签名，密钥"));
}

#[tokio::test]
async fn migrate_store_carries_the_seals_and_bundles_still_verify_against_the_car() {
    use portal_core::server::store::scratch::{Backend, ScratchDatabase};
    let name = "migrate_store_carries_the_seals_and_bundles_still_verify_against_the_car";
    if crate::scale::skipped_without_postgres(name) {
        return;
    }
    let old = TestApp::spawn_on(Backend::Sqlite).await;
    let config = DemoConfig {
        vehicles: 1,
        days: 1,
        ..DemoConfig::default()
    };
    let mut text = Vec::new();
    generate(&config, &mut text).unwrap();
    let options = ImportOptions {
        vehicle_cas: Arc::new(anchors()),
        ..ImportOptions::default()
    };
    import_reader(&*old.store, "demo", Cursor::new(text), &options, None)
        .await
        .unwrap();
    let vin = demo_vin(0).to_string();
    let c = new_owner(&old, &vin, None, "o@example.com").await;
    let key = signing_key(&old).await;
    let public = PublicKey::parse(&key).unwrap();
    let check = |zip: Vec<u8>| {
        let v = verify_bundle_with(
            Cursor::new(zip),
            &public,
            &Trust {
                vehicle_cas: Some(&anchors()),
                ..Trust::default()
            },
        );
        assert!(v.valid, "{:?}", v.problems);
        let s = v.sealed.expect("sealed");
        (s.seals, s.verified, s.withheld, s.unsealed)
    };
    let before = check(bundle(&old, &c, &vin, "&location=full").await);
    assert!(before.0 > 0 && before.1 > 0);

    let target = ScratchDatabase::create_on(Backend::Postgres).await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "migrate-store",
            "--from",
            old.database_url(),
            "--to",
            &target.url,
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = TestApp::spawn_on_database(target, &old).await;
    let c2 = TestApp::new_client();
    sign_in(&new, &c2, "o@example.com", PASSWORD).await;
    let after = check(bundle(&new, &c2, &vin, "&location=full").await);
    assert_eq!(
        after, before,
        "the same seals, verified alike, after the move"
    );
}
