//! Regressions for the findings of the outside security test: each test
//! failed on the code before the fix.

use crate::browse::{fixture, VIN};
use crate::evidence::{bundle, members};
use crate::helpers::*;
use reqwest::header;
use serde_json::{json, Value};
use std::io::{Cursor, Write};

const OTHER_VIN: &str = "1M8GDM9AXKP042788";

// ---- Evidence bundles: one reading only, bounded work -------------------

/// A zip of stored members written byte by byte, so that it can hold what
/// zip libraries refuse to write: two members of one name, members that
/// share their bytes. `aliases` adds central entries pointing at the local
/// header of an earlier member (index, name).
fn raw_zip(files: &[(&str, &[u8])], aliases: &[(usize, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut offsets = Vec::new();
    let entry = |name: &str, data: &[u8], offset: usize| {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut c = Vec::new();
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        c.extend_from_slice(&crc.sum().to_le_bytes());
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 12]);
        c.extend_from_slice(&(offset as u32).to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        c
    };
    for (name, data) in files {
        offsets.push(out.len());
        let mut crc = flate2::Crc::new();
        crc.update(data);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend(entry(name, data, *offsets.last().unwrap()));
    }
    for (index, name) in aliases {
        central.extend(entry(name, files[*index].1, offsets[*index]));
    }
    let entries = (files.len() + aliases.len()) as u16;
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

async fn verify_api(app: &TestApp, zip: Vec<u8>) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/v1/verify"))
        .body(zip)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// The `/verify` page's form: where it sends the reader back to.
pub async fn verify_form(app: &TestApp, zip: Vec<u8>) -> String {
    verify_form_with(app, zip, "").await
}

/// The form with the witnesses the reader trusts (NAME=KEY lines).
pub async fn verify_form_with(app: &TestApp, zip: Vec<u8>, witnesses: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("witnesses", witnesses.to_string())
        .part(
            "bundle",
            reqwest::multipart::Part::bytes(zip).file_name("bundle.zip"),
        );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let res = client
        .post(app.url("/verify"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

fn codes(reply: &Value) -> Vec<String> {
    reply["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p["file"].as_str() {
            Some(file) => format!("{}:{file}", p["code"].as_str().unwrap()),
            None => p["code"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[tokio::test]
async fn a_member_named_twice_is_refused_by_every_verifier() {
    let (app, c) = fixture().await;
    let genuine = bundle(&c, &app, "").await;
    let files = members(&genuine);
    let (status, reply) = verify_api(&app, genuine).await;
    assert_eq!(
        (status, reply["valid"].as_bool()),
        (200, Some(true)),
        "{reply}"
    );

    // A tampered samples.csv first: `unzip -p` extracts it, while a reader
    // that keeps the last of two names would check the genuine one.
    let tampered = b"t_local,speed_kmh\n2021-02-21T10:00:00+08:00,0\n".to_vec();
    let mut listed: Vec<(&str, &[u8])> = vec![("samples.csv", &tampered)];
    listed.extend(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let doubled = raw_zip(&listed, &[]);
    let (status, reply) = verify_api(&app, doubled.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(reply["valid"], false, "{reply}");
    assert_eq!(codes(&reply), ["duplicate_member:samples.csv"]);
    let form = verify_form(&app, doubled.clone()).await;
    assert!(
        form.contains("result=invalid") && form.contains("problem=duplicate_member%3Asamples.csv"),
        "{form}"
    );
    let key = portal_core::server::signing::Signer::load_or_create(app.data_dir())
        .unwrap()
        .public_key();
    let offline = portal_core::server::verify::verify_bundle(Cursor::new(doubled), &key);
    assert!(!offline.valid);

    // A second manifest saying "court copy", after the genuine one.
    let court = br#"{"note":"court copy"}"#.to_vec();
    let mut listed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    listed.push(("manifest.json", &court));
    let (_, reply) = verify_api(&app, raw_zip(&listed, &[])).await;
    assert_eq!(codes(&reply), ["duplicate_member:manifest.json"], "{reply}");
}

#[tokio::test]
async fn ambiguous_layouts_are_refused_before_anything_is_trusted() {
    let (app, c) = fixture().await;
    let files = members(&bundle(&c, &app, "").await);
    let listed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let plain = raw_zip(&listed, &[]);
    let (_, reply) = verify_api(&app, plain.clone()).await;
    assert_eq!(
        reply["valid"], true,
        "the hand-written zip itself is fine: {reply}"
    );

    // Two names for one member's bytes (the overlapping-entry zip bomb's trick).
    let overlapping = raw_zip(&listed, &[(0, "copy.csv")]);
    let (_, reply) = verify_api(&app, overlapping).await;
    assert_eq!(codes(&reply), ["ambiguous_archive"], "{reply}");
    assert!(reply["problems"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("overlaps"));

    // Bytes before the first member, or after the end record.
    let mut prefixed = b"PK-not-really".to_vec();
    prefixed.extend_from_slice(&plain);
    let (_, reply) = verify_api(&app, prefixed).await;
    assert_eq!(reply["valid"], false, "{reply}");
    assert!(
        ["ambiguous_archive", "not_a_bundle"].contains(&codes(&reply)[0].as_str()),
        "{reply}"
    );
    let mut trailing = plain.clone();
    trailing.extend_from_slice(b"appended");
    let (_, reply) = verify_api(&app, trailing).await;
    assert_eq!(codes(&reply), ["not_a_bundle"], "{reply}");

    // A path that extracts elsewhere.
    let (_, reply) = verify_api(&app, raw_zip(&[("../samples.csv", b"x")], &[])).await;
    assert_eq!(codes(&reply), ["ambiguous_archive"], "{reply}");
}

#[tokio::test]
async fn archives_beyond_the_bounds_are_not_inflated() {
    let app = TestApp::spawn().await;
    // 64 MiB of zeros deflate to about 64 KiB: a ratio near 1,000.
    let mut bomb = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    bomb.start_file("samples.csv", deflated).unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap().into_inner();
    assert!(bomb.len() < 512 * 1024, "{}", bomb.len());
    let (status, reply) = verify_api(&app, bomb).await;
    assert_eq!(status, 200);
    assert_eq!(codes(&reply), ["unsafe_archive"], "{reply}");
    assert!(
        reply["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("more than 200 times"),
        "{reply}"
    );

    let names: Vec<String> = (0..65).map(|i| format!("f{i}.csv")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let (_, reply) = verify_api(&app, raw_zip(&many, &[])).await;
    assert_eq!(codes(&reply), ["unsafe_archive"], "{reply}");
}

/// A log of `n` samples at 10 Hz with several channels (a bundle of it is
/// a few MB uncompressed).
fn busy_log(vin: &str, n: u32) -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2021-02-21T10:00:00+08:00").unwrap();
    let mut text =
        format!("{{\"kind\":\"vehicle\",\"vin\":\"{vin}\",\"timezone\":\"Asia/Shanghai\"}}\n");
    for i in 0..n {
        let t = start + chrono::Duration::milliseconds(100 * i as i64);
        text.push_str(&format!(
            "{{\"kind\":\"sample\",\"vin\":\"{vin}\",\"t\":\"{}\",\"speed_kmh\":{}.{},\"accel_pedal_pct\":{},\"brake_pressure_bar\":{}.5,\"steering_angle_deg\":-{}.25}}\n",
            t.format("%Y-%m-%dT%H:%M:%S%.3f%:z"),
            i % 120,
            i % 10,
            i % 100,
            i % 90,
            i % 45
        ));
    }
    text
}

#[tokio::test]
async fn the_verify_page_takes_bundles_over_two_megabytes_and_refuses_past_its_limit() {
    let app = TestApp::spawn_with(|store| {
        let mut portal = portal_core::server::Portal::new(store);
        portal.verify_max_bytes = 8 * 1024 * 1024;
        portal
    })
    .await;
    import_log(&app, busy_log(VIN, 20_000)).await;
    let c = new_owner(&app, VIN, None, "o@example.com").await;
    let genuine = bundle(&c, &app, "").await;
    // The same members stored, not deflated: still the genuine bundle, larger.
    let mut stored = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members(&genuine) {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        stored.start_file(name.as_str(), options).unwrap();
        stored.write_all(&bytes).unwrap();
    }
    let stored = stored.finish().unwrap().into_inner();
    assert!(stored.len() > 2 * 1024 * 1024, "{}", stored.len());
    assert!(stored.len() < 8 * 1024 * 1024, "{}", stored.len());
    let target = verify_form(&app, stored).await;
    assert!(target.starts_with("/verify?result=valid"), "{target}");

    let too_large = vec![b'x'; 8 * 1024 * 1024 + 1];
    assert_eq!(
        verify_form(&app, too_large.clone()).await,
        "/verify?result=too_large"
    );
    let (status, reply) = verify_api(&app, too_large.clone()).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    // Without a length announced, the upload is cut off as it arrives.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = too_large
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let res = app
        .client
        .post(app.url("/api/v1/verify"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "body_too_large");
}

// ---- Sign-in and sign-up ------------------------------------------------

#[tokio::test]
async fn parallel_wrong_passwords_are_counted_before_any_is_checked() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN, &[0]).await;
    let _owner = new_owner(&app, VIN, None, "o@example.com").await;
    let attempts = (0..30).map(|_| {
        let (c, url) = (TestApp::new_client(), app.url("/api/v1/session"));
        async move {
            c.post(url)
                .json(&json!({"account": "o@example.com", "password": "not-the-password"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(attempts).await;
    statuses.sort_unstable();
    let unauthorised = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((unauthorised, throttled), (5, 25), "{statuses:?}");
}

async fn sign_up(app: &TestApp, c: &reqwest::Client, account: &str, code: &str) -> (u16, String) {
    let res = c
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"account": account, "password": PASSWORD, "vin": VIN, "claim_code": code}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn sign_up_answers_alike_whether_or_not_the_account_exists() {
    let app = TestApp::spawn_with(|store| {
        let mut portal = portal_core::server::Portal::new(store);
        portal.throttle.per_address = 4;
        portal
    })
    .await;
    import_vehicle(&app, VIN, &[0]).await;
    import_vehicle(&app, OTHER_VIN, &[0]).await;
    let _owner = new_owner(&app, OTHER_VIN, None, "owner@example.com").await;
    new_staff(&app, "agent@example.com", "support").await;
    let c = TestApp::new_client();
    let wrong = "AAAA-BBBB-CCCC";
    let unknown = sign_up(&app, &c, "new@example.com", wrong).await;
    let owner = sign_up(&app, &c, "owner@example.com", wrong).await;
    let staff = sign_up(&app, &c, "agent@example.com", wrong).await;
    assert_eq!(unknown.0, 422);
    assert!(unknown.1.contains("sign_up_refused"), "{}", unknown.1);
    assert_eq!(unknown, owner);
    assert_eq!(unknown, staff);
    // Even with the right code, an existing account gets the same answer.
    let code = claim_code(&app, VIN, None).await;
    assert_eq!(sign_up(&app, &c, "owner@example.com", &code).await, unknown);
    // Failed sign-ups count towards the address's throttle (4 here).
    let (status, _) = sign_up(&app, &c, "another@example.com", wrong).await;
    assert_eq!(status, 429);
    assert_eq!(sign_up(&app, &c, "new@example.com", &code).await.0, 429);
}

#[tokio::test]
async fn a_huge_account_string_is_stored_only_in_bounded_form() {
    let app = TestApp::spawn().await;
    let huge = "x".repeat(900_000);
    let res = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": huge, "password": "whatever-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let audit = app.store.audit_entries(0, 100).await.unwrap();
    let failed = audit.iter().find(|e| e.action == "sign_in_failed").unwrap();
    assert!(failed.details.len() < 1_000, "{}", failed.details.len());
    let longest = app
        .scalar(
            "SELECT max(length(key)) FROM sign_in_failures",
            "SELECT max(length(key))::bigint FROM sign_in_failures",
        )
        .await;
    assert!((1..400).contains(&longest), "{longest}");
}

#[tokio::test]
async fn signing_out_behind_https_deletes_the_host_cookie_with_secure() {
    let app = TestApp::spawn_secure().await;
    import_vehicle(&app, VIN, &[0]).await;
    let code = claim_code(&app, VIN, None).await;
    let (status, _) = sign_up(&app, &app.client, "o@example.com", &code).await;
    assert_eq!(status, 201);
    let res = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": "o@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    // Over plain http the client would not send a Secure cookie: by hand.
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    let res = TestApp::new_client()
        .delete(app.url("/api/v1/session"))
        .header(header::COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let deletion = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(deletion.starts_with("__Host-portal_session="), "{deletion}");
    assert!(
        deletion.contains("Max-Age=0") && deletion.contains("Secure"),
        "{deletion}"
    );
    // The language cookie is Secure there too.
    let res = TestApp::new_client()
        .post(app.url("/api/set_locale"))
        .form(&[("locale", "zh-CN"), ("back", "/")])
        .send()
        .await
        .unwrap();
    let locale = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(locale.contains("Secure"), "{locale}");
}

// ---- Disclosures --------------------------------------------------------

#[tokio::test]
async fn every_download_of_a_case_bundle_is_recorded_and_shown_to_the_owner() {
    let (app, owner) = fixture().await;
    let (opener, _) = new_staff(&app, "opener@example.com", "support").await;
    let (other, _) = new_staff(&app, "other@example.com", "support").await;
    let (_, case) = post_json(
        &opener,
        &app,
        "/api/v1/staff/cases",
        json!({"vin": VIN, "subject": "Brake complaint", "purpose": "answer the owner"}),
    )
    .await;
    let case = case["case_no"].as_str().unwrap().to_string();
    let (status, attached) = post_json(
        &opener,
        &app,
        &format!("/api/v1/staff/cases/{case}/exports"),
        json!({"recipient": "Insurer", "legal_basis": "owner's consent"}),
    )
    .await;
    assert_eq!(status, 201, "{attached}");
    let bundle_id = attached["bundle_id"].as_str().unwrap();
    // Any staff member may work the case; the download is attributed.
    let res = other
        .get(app.url(&format!("/api/v1/staff/cases/{case}/exports/{bundle_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let (_, log) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    let downloads: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "case_download")
        .collect();
    assert_eq!(downloads.len(), 1, "{log}");
    assert_eq!(
        downloads[0]["by"], "support",
        "owners see the role, not the name"
    );
    assert_eq!(downloads[0]["bundle_id"], bundle_id);
    assert_eq!(downloads[0]["recipient"], "Insurer");
    assert!(!log.to_string().contains("other@example.com"));

    let (_, view) = get_json(&opener, &app, &format!("/api/v1/staff/cases/{case}")).await;
    let timeline = view["timeline"].as_array().unwrap();
    let download = timeline
        .iter()
        .find(|e| e["action"] == "case_download")
        .expect("the download is on the case timeline");
    assert_eq!(download["by"], "other@example.com");
    let opened = timeline
        .iter()
        .find(|e| e["action"] == "case_opened")
        .unwrap();
    assert_eq!(opened["by"], "opener@example.com");
}

#[tokio::test]
async fn another_site_cannot_start_an_export_in_the_owners_name() {
    let (app, owner) = fixture().await;
    let before = app.store.audit_entries(0, 1000).await.unwrap().len();
    let res = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?format=csv")))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "cross_site_request");
    assert_eq!(
        app.store.audit_entries(0, 1000).await.unwrap().len(),
        before
    );
    let res = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?format=csv")))
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

// ---- Errors, headers, queries -------------------------------------------

#[tokio::test]
async fn server_functions_answer_bad_input_and_refusals_with_4xx() {
    let (app, owner) = fixture().await;
    let call = |c: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]| {
        c.post(app.url(&format!("/api/{endpoint}")))
            .form(form)
            .send()
    };
    let empty = call(&app.client, "sign_in", &[]).await.unwrap();
    assert_eq!(empty.status(), 400, "arguments that cannot be read");
    let unseen = call(&owner, "vehicle_overview", &[("vin", OTHER_VIN)]);
    assert_eq!(unseen.await.unwrap().status(), 404);
    let staff_only = call(&owner, "staff_lookup", &[("q", VIN)]);
    assert_eq!(staff_only.await.unwrap().status(), 403);
}

#[tokio::test]
async fn framework_errors_have_the_json_shape_and_personal_replies_are_not_cached() {
    let (app, owner) = fixture().await;
    let res = owner.put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "method_not_allowed");
    let res = owner
        .post(app.url("/api/v1/accounts"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(vec![b' '; portal::http::BODY_LIMIT + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["error"]["code"], "body_too_large");

    for path in ["/api/v1/me".to_string(), format!("/vehicles/{VIN}")] {
        let res = owner.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{path}");
    }
    // A large reply (a page of samples, beyond the reply buffer's first
    // size) is whole JSON, labelled as such.
    let res = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/samples?limit=1000")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    let body = res.bytes().await.unwrap();
    assert!(body.len() > 16 * 1024, "{} bytes", body.len());
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert!(page["items"].as_array().unwrap().len() > 100);
    let res = app.get("/favicon.ico").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/x-icon");
    assert!(res.bytes().await.unwrap().starts_with(&[0, 0, 1, 0]));
}

#[tokio::test]
async fn queries_name_the_bad_parameter_and_take_local_times() {
    let (app, owner) = fixture().await;
    let samples = |q: &str| format!("/api/v1/vehicles/{VIN}/samples?{q}");
    let (status, reply) = get_json(&owner, &app, &samples("limit=-1")).await;
    assert_eq!(status, 400);
    assert_eq!(reply["error"]["details"][0]["field"], "limit", "{reply}");
    for bad in ["NaN", "inf", "-inf"] {
        let (status, reply) =
            get_json(&owner, &app, &samples(&format!("min_speed_kmh={bad}"))).await;
        assert_eq!(status, 422, "{bad}: {reply}");
        assert_eq!(reply["error"]["details"][0]["field"], "min_speed_kmh");
    }
    let (status, reply) = get_json(&owner, &app, &samples("from=2021-02-21T23:59:60Z")).await;
    assert_eq!(status, 422, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("leap second"));

    // Vehicle-local times, as the README says: the same rows as with offsets.
    let (status, local) = get_json(
        &owner,
        &app,
        &samples("from=2021-02-21T10:03&to=2021-02-21T10:03:10&limit=1000"),
    )
    .await;
    assert_eq!(status, 200, "{local}");
    let (_, offset) = get_json(
        &owner,
        &app,
        &samples("from=2021-02-21T10:03:00%2B08:00&to=2021-02-21T10:03:10%2B08:00&limit=1000"),
    )
    .await;
    assert!(!local["items"].as_array().unwrap().is_empty(), "{local}");
    assert_eq!(local, offset);
    // An unseen VIN stays a 404 whatever the query says.
    let (status, _) = get_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{OTHER_VIN}/samples?from=nonsense"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_ownership_open_at_the_start_reads_as_such_in_the_support_console() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN, &[0]).await;
    portal_core::server::Portal::new(app.store.clone())
        .create_owner_with_vehicles(
            "demo@example.com",
            PASSWORD,
            &[portal_core::domain::Vin::parse(VIN).unwrap()],
        )
        .await
        .unwrap();
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let (status, lookup) = get_json(&staff, &app, &format!("/api/v1/staff/lookup?q={VIN}")).await;
    assert_eq!(status, 200, "{lookup}");
    assert!(!lookup.to_string().contains("invalid time"), "{lookup}");
    let period = &lookup["vehicles"][0]["periods"][0];
    assert_eq!(period["account"], "demo@example.com", "{lookup}");
    assert_eq!(period["from"], Value::Null, "{lookup}");
}

#[tokio::test]
async fn an_imported_leap_second_rejects_the_file_naming_its_line() {
    let app = TestApp::spawn().await;
    let log = format!(
        "{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"UTC\"}}\n\
         {{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"2016-12-31T23:59:59Z\",\"speed_kmh\":1}}\n\
         {{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"2016-12-31T23:59:60Z\",\"speed_kmh\":2}}\n"
    );
    let refused = portal_core::server::import::import_reader(
        &*app.store,
        "leap.ndjson",
        Cursor::new(log.into_bytes()),
        &Default::default(),
        None,
    )
    .await
    .expect_err("a leap second is refused");
    let portal_core::server::import::ImportError::Rejected { errors, .. } = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors[0].line, 3, "{errors:?}");
    assert!(errors[0].reason.contains("leap second"), "{errors:?}");
    assert!(app
        .store
        .vehicle(&portal_core::domain::Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .is_none());
}
