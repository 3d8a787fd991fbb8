//! `POST /api/v1/ingest`: the data center's pipeline with a bearer token.

use crate::helpers::*;
use flate2::write::GzEncoder;
use portal_core::server::Portal;
use std::io::Write;

const VIN: &str = "LRW3E7EK9NC000017";

fn log(secs: &[u32]) -> String {
    let mut text =
        format!("{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"Asia/Shanghai\"}}\n");
    for s in secs {
        text.push_str(&format!(
            "{{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"2021-02-21T10:15:{s:02}+08:00\",\"speed_kmh\":{s}}}\n"
        ));
    }
    text
}

async fn issue(app: &TestApp, name: &str) -> String {
    Portal::new(app.store.clone())
        .issue_ingest_token(name)
        .await
        .expect("token")
        .token
}

async fn push(
    app: &TestApp,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    let mut req = app.client.post(app.url("/api/v1/ingest")).body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

async fn sample_count(app: &TestApp) -> u64 {
    let Some(vehicle) = app
        .store
        .vehicle(&portal_core::domain::Vin::parse(VIN).unwrap())
        .await
        .unwrap()
    else {
        return 0;
    };
    app.store
        .sample_count(
            vehicle.id,
            &[portal_core::server::store::TimeRange::ALL],
            &Default::default(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_live_token_imports_a_log_and_the_import_is_audited_under_its_name() {
    let app = TestApp::spawn().await;
    let token = issue(&app, "dc-shanghai-1").await;

    let (status, summary) = push(&app, Some(&token), log(&[0, 1, 2])).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["inserted"]["samples"], 3, "{summary}");
    assert_eq!(summary["inserted"]["vehicles"], 1, "{summary}");
    assert_eq!(sample_count(&app).await, 3);

    // The same body again is all duplicates: the pipeline may retry safely.
    let (status, summary) = push(&app, Some(&token), log(&[0, 1, 2])).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["inserted"]["samples"], 0, "{summary}");
    assert_eq!(summary["duplicates"]["samples"], 3, "{summary}");

    let audit = app.store.audit_entries(0, 100).await.unwrap();
    let imports: Vec<_> = audit.iter().filter(|e| e.action == "import").collect();
    // Per file one entry, and one per vehicle it carried (a bundle's proof).
    assert_eq!(imports.len(), 4, "{audit:?}");
    assert!(
        imports.iter().all(|e| e.actor == "ingest:dc-shanghai-1"),
        "{imports:?}"
    );
    let per_vehicle: Vec<serde_json::Value> = imports
        .iter()
        .filter(|e| e.vin.is_some())
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    assert_eq!(per_vehicle.len(), 2, "{imports:?}");
    for d in per_vehicle {
        assert_eq!(
            (d["records"].clone(), d["from"].clone(), d["to"].clone()),
            (
                3.into(),
                "2021-02-21T02:15:00Z".into(),
                "2021-02-21T02:15:02Z".into()
            ),
            "{d}"
        );
        assert_eq!(d["sha256"].as_str().unwrap().len(), 64);
    }
}

#[tokio::test]
async fn a_gzip_body_sent_in_chunks_without_a_length_is_streamed_in() {
    let app = TestApp::spawn().await;
    let token = issue(&app, "dc-1").await;
    let secs: Vec<u32> = (0..60).collect();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log(&secs).as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(97).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));

    let (status, summary) = push(&app, Some(&token), body).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["inserted"]["samples"], 60, "{summary}");
    assert_eq!(sample_count(&app).await, 60);
}

#[tokio::test]
async fn a_bad_body_is_422_with_every_error_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let token = issue(&app, "dc-1").await;
    let mut body = log(&[0, 1]);
    body.push_str(&format!(
        "{{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"2021-02-21T10:15:03+08:00\",\"brake_pressure_bar\":300}}\n"
    ));
    body.push_str("not json\n");

    let (status, reply) = push(&app, Some(&token), body).await;
    assert_eq!(status, 422, "{reply}");
    assert_eq!(reply["error"]["code"], "rejected", "{reply}");
    assert_eq!(reply["error"]["total_errors"], 2, "{reply}");
    let details = reply["error"]["details"].as_array().unwrap();
    assert_eq!(details[0]["line"], 4, "{reply}");
    assert_eq!(details[0]["field"], "brake_pressure_bar", "{reply}");
    assert_eq!(details[1]["line"], 5, "{reply}");
    assert_eq!(sample_count(&app).await, 0, "nothing of the file is stored");
    // A body that is not gzip after all is a clear 4xx too.
    let (status, reply) = push(&app, Some(&token), vec![0x1f, 0x8b, 0x08, 0x00, 0x01]).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["code"], "unreadable_body", "{reply}");
}

#[tokio::test]
async fn a_line_over_the_length_cap_is_named_by_its_number_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let token = issue(&app, "dc-1").await;
    // 40 MB of one line inflates from a small gzip body; the reader drops
    // what is past the cap instead of holding it (bound: see the unit test
    // of `read_line_bounded`).
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log(&[0]).as_bytes()).unwrap();
    gz.write_all(b"{\"kind\":\"sample\",\"pad\":\"").unwrap();
    let pad = vec![b'a'; 1024 * 1024];
    for _ in 0..40 {
        gz.write_all(&pad).unwrap();
    }
    gz.write_all(b"\"}\n").unwrap();
    gz.write_all(log(&[1]).lines().nth(1).unwrap().as_bytes())
        .unwrap();
    gz.write_all(b"\n").unwrap();
    let body = gz.finish().unwrap();
    assert!(body.len() < 1024 * 1024, "{}", body.len());

    let (status, reply) = push(&app, Some(&token), body).await;
    assert_eq!(status, 422, "{reply}");
    assert_eq!(reply["error"]["total_errors"], 1, "{reply}");
    let details = &reply["error"]["details"][0];
    assert_eq!(details["line"], 3, "{reply}");
    assert!(
        details["reason"]
            .as_str()
            .unwrap()
            .contains("longer than 1048576 bytes"),
        "{reply}"
    );
    assert_eq!(sample_count(&app).await, 0, "nothing of the file is stored");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_stores_nothing() {
    let app = TestApp::spawn_with(|store| Portal {
        ingest_max_bytes: 2000,
        ..Portal::new(store)
    })
    .await;
    let token = issue(&app, "dc-1").await;
    let secs: Vec<u32> = (0..40).collect();
    let body = log(&secs);
    assert!(body.len() > 2000 && body.len() < 10_000);

    // With a length: refused before reading.
    let (status, reply) = push(&app, Some(&token), body.clone()).await;
    assert_eq!(status, 413, "{reply}");
    assert_eq!(reply["error"]["code"], "body_too_large", "{reply}");

    // Chunked, no length: refused when the count passes the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .as_bytes()
        .chunks(500)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let (status, reply) = push(
        &app,
        Some(&token),
        reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
    )
    .await;
    assert_eq!(status, 413, "{reply}");
    assert_eq!(sample_count(&app).await, 0);

    // Under the limit it goes in.
    let (status, reply) = push(&app, Some(&token), log(&[0, 1])).await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn only_a_live_token_may_ingest_and_a_token_reads_nothing() {
    let app = TestApp::spawn().await;
    let portal = Portal::new(app.store.clone());
    let token = issue(&app, "dc-1").await;

    for bad in [None, Some("pit_0000"), Some("not-a-token")] {
        let res = app
            .client
            .post(app.url("/api/v1/ingest"))
            .header(
                "authorization",
                bad.map(|t| format!("Bearer {t}")).unwrap_or_default(),
            )
            .body(log(&[0]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{bad:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }
    // A signed-in owner's session is no ingest token.
    import_vehicle(&app, VIN, &[0]).await;
    let owner = new_owner(&app, VIN, None, "o@example.com").await;
    let res = owner
        .post(app.url("/api/v1/ingest"))
        .body(log(&[5]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // The token opens no read.
    for path in [
        "/api/v1/me".to_string(),
        "/api/v1/vehicles".to_string(),
        format!("/api/v1/vehicles/{VIN}/samples"),
    ] {
        let res = TestApp::new_client()
            .get(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
    }

    // Revoked, it stops at once; the name can then have a new one.
    portal.revoke_ingest_token("dc-1").await.unwrap();
    assert_eq!(push(&app, Some(&token), log(&[1])).await.0, 401);
    let second = issue(&app, "dc-1").await;
    assert_ne!(second, token);
    assert_eq!(push(&app, Some(&second), log(&[1])).await.0, 200);
}

#[tokio::test]
async fn token_names_are_unique_while_live_and_secrets_are_never_stored() {
    let app = TestApp::spawn().await;
    let portal = Portal::new(app.store.clone());
    let token = issue(&app, "dc-1").await;
    assert!(token.starts_with("pit_") && token.len() == 68, "{token}");
    let again = portal.issue_ingest_token("dc-1").await.unwrap_err();
    assert_eq!(again.code(), "token_exists");
    let bad = portal.issue_ingest_token("has space").await.unwrap_err();
    assert_eq!(bad.code(), "invalid_token_name");
    assert_eq!(
        portal
            .revoke_ingest_token("nobody")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );

    let listed = portal.ingest_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "dc-1");
    assert_eq!(listed[0].revoked_us, None);
    // Only the hash is held: the secret appears nowhere in the database.
    let dump = dump_text(&app).await;
    assert!(!dump.contains(&token[4..]), "the secret is stored");
    assert!(dump.contains(&portal_core::server::ingest::hash_token(&token)));
}

/// Every text cell of the tokens table, as stored.
async fn dump_text(app: &TestApp) -> String {
    use portal_core::server::store::Pool;
    let rows: Vec<(String, String)> = match &app.pool {
        Pool::Sqlite(pool) => sqlx::query_as("SELECT name, token_sha256 FROM ingest_tokens")
            .fetch_all(pool)
            .await
            .unwrap(),
        Pool::Postgres(pool) => sqlx::query_as("SELECT name, token_sha256 FROM ingest_tokens")
            .fetch_all(pool)
            .await
            .unwrap(),
    };
    format!("{rows:?}")
}

/// A format 1.1 file: the vehicle's keys, a position and a seal.
fn sealed_log() -> String {
    format!(
        "{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"Asia/Shanghai\",\"keys\":[{{\"id\":\"k1\",\
         \"public\":\"AAAA\",\"not_before\":\"2021-01-01T00:00:00Z\",\"ca\":\"demo-ca\",\"cert\":\"AAAA\"}}]}}\n\
         {{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"2021-02-21T10:15:02+08:00\",\"speed_kmh\":40}}\n\
         {{\"kind\":\"position\",\"vin\":\"{VIN}\",\"t\":\"2021-02-21T10:15:02+08:00\",\"lat\":31.2,\"lon\":121.4,\"nonce\":\"AAAA\"}}\n\
         {{\"kind\":\"seal\",\"vin\":\"{VIN}\",\"key\":\"k1\",\"seq\":1,\"count\":2}}\n"
    )
}

#[tokio::test]
async fn a_sealed_file_without_a_trusted_vehicle_ca_is_refused_saying_how_to_configure_one() {
    let app = TestApp::spawn().await;
    let token = issue(&app, "dc-1").await;
    let (status, reply) = push(&app, Some(&token), sealed_log()).await;
    assert_eq!(status, 422, "{reply}");
    let details = reply["error"]["details"].as_array().unwrap();
    let named: Vec<(u64, &str)> = details
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    // Line 2 follows from line 1: its vehicle was not declared.
    assert_eq!(
        named,
        [(1, "keys"), (2, "vin"), (3, "kind"), (4, "kind")],
        "{reply}"
    );
    let reason = details[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("--vehicle-ca FILE or PORTAL_VEHICLE_CA"),
        "{reason}"
    );
    assert_eq!(sample_count(&app).await, 0, "nothing of the file is stored");
    assert!(app
        .store
        .vehicle(&portal_core::domain::Vin::parse(VIN).unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_trusted_vehicle_cas_are_published_as_configured() {
    use portal_core::server::seal::{TrustAnchors, VehicleCa};
    let none = TestApp::spawn().await;
    let (status, listed) = get_json(&none.client, &none, "/.well-known/vehicle-ca").await;
    assert_eq!((status, listed), (200, serde_json::json!([])));

    let ca = VehicleCa {
        id: "demo-ca".into(),
        // Base64 of a valid Ed25519 public key (RFC 8032 test 1).
        public: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".into(),
    };
    let anchors = TrustAnchors::from_list("test", vec![ca]).unwrap();
    let app = TestApp::spawn_with(move |store| Portal {
        vehicle_cas: std::sync::Arc::new(anchors),
        ..Portal::new(store)
    })
    .await;
    let (status, listed) = get_json(&app.client, &app, "/.well-known/vehicle-ca").await;
    assert_eq!(status, 200);
    assert_eq!(
        listed,
        serde_json::json!([{"id": "demo-ca", "public": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}])
    );
    // Trusting a CA, a key that is not one is refused, naming it…
    let token = issue(&app, "dc-1").await;
    let (status, reply) = push(&app, Some(&token), sealed_log()).await;
    assert_eq!(status, 422, "{reply}");
    let first = &reply["error"]["details"][0];
    assert_eq!(
        (first["line"].as_u64(), first["field"].as_str()),
        (Some(1), Some("keys[0].public")),
        "{reply}"
    );
    assert_eq!(sample_count(&app).await, 0);
}

#[tokio::test]
async fn a_sealed_file_from_a_certified_car_is_ingested_with_its_seal() {
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;
    use portal_core::server::seal::car::{certify, nonce, CarSealer};
    use portal_core::server::seal::{TrustAnchors, VehicleCa};
    let (ca, car) = (
        SigningKey::from_bytes(&[7; 32]),
        SigningKey::from_bytes(&[9; 32]),
    );
    let listed = VehicleCa {
        id: "maker-ca".into(),
        public: base64::engine::general_purpose::STANDARD.encode(ca.verifying_key().as_bytes()),
    };
    let anchors = TrustAnchors::from_list("test", vec![listed]).unwrap();
    let app = TestApp::spawn_with(move |store| Portal {
        vehicle_cas: std::sync::Arc::new(anchors),
        ..Portal::new(store)
    })
    .await;
    let key = certify(&ca, "maker-ca", VIN, "k1", &car, "2021-01-01T00:00:00Z");
    let vehicle = serde_json::json!({"kind": "vehicle", "vin": VIN, "timezone": "Asia/Shanghai", "keys": [key]});
    let t = "2021-02-21T10:15:02.100+08:00";
    let covered = [
        format!(r#"{{"kind":"sample","vin":"{VIN}","t":"{t}","speed_kmh":40.5}}"#),
        format!(
            r#"{{"kind":"position","vin":"{VIN}","t":"{t}","lat":31.2304,"lon":121.4737,"nonce":"{}"}}"#,
            nonce([1; 16])
        ),
    ];
    let mut sealer = CarSealer::new(VIN, "k1", car);
    let mut body = format!("{vehicle}\n");
    for line in &covered {
        sealer.cover(line, t);
        body.push_str(line);
        body.push('\n');
    }
    body.push_str(&serde_json::to_string(&sealer.seal().unwrap()).unwrap());
    body.push('\n');
    let token = issue(&app, "dc-1").await;
    let (status, reply) = push(&app, Some(&token), body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    let inserted = &reply["inserted"];
    assert_eq!(
        (
            inserted["seals"].as_u64(),
            inserted["keys"].as_u64(),
            inserted["positions"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{reply}"
    );
    assert_eq!(sample_count(&app).await, 1);

    // One byte changed in a covered line: refused, naming the seal's line.
    let tampered = body.replacen("40.5", "40.6", 1);
    let (status, reply) = push(&app, Some(&token), tampered).await;
    assert_eq!(status, 422, "{reply}");
    let first = &reply["error"]["details"][0];
    assert_eq!(
        (first["line"].as_u64(), first["field"].as_str()),
        (Some(4), Some("root")),
        "{reply}"
    );
}
