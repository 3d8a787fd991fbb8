//! Several portal servers on one PostgreSQL database: any server serves
//! any request. Needs `TEST_POSTGRES_URL`; without it the test says it is
//! skipped and passes vacuously.

use crate::helpers::*;
use portal_core::server::store::scratch::{postgres_server, Backend};
use serde_json::json;

const VIN: &str = "LRW3E7EK9NC000017";

/// True (after saying so) when no PostgreSQL server is configured.
pub fn skipped_without_postgres(test: &str) -> bool {
    if postgres_server().is_none() {
        eprintln!("SKIPPED {test}: set TEST_POSTGRES_URL to run it");
        return true;
    }
    false
}

#[tokio::test]
async fn two_servers_on_one_database_share_sessions_data_and_throttling() {
    if skipped_without_postgres("two_servers_on_one_database_share_sessions_data_and_throttling") {
        return;
    }
    let a = TestApp::spawn_on(Backend::Postgres).await;
    let b = a.another_server().await;
    assert_ne!(a.addr, b.addr);

    // A session created on A is honoured by B (cookies ignore the port).
    import_vehicle(&a, VIN, &[0, 1, 2]).await;
    let owner = new_owner(&a, VIN, None, "o@example.com").await;
    let samples = format!("/api/v1/vehicles/{VIN}/samples");
    let (status, page) = get_json(&owner, &b, &samples).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");

    // An import through A's process is visible through B at once.
    import_vehicle(&a, VIN, &[3, 4]).await;
    let (_, page) = get_json(&owner, &b, &samples).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5, "{page}");

    // Signing out on B ends the session on A too.
    let out = owner.delete(b.url("/api/v1/session")).send().await.unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    assert_eq!(get_json(&owner, &a, &samples).await.0, 401);

    // Failed sign-ins count on every server: spread over A and B, they
    // throttle the account on both.
    let mut last = None;
    for i in 0..12 {
        let server = if i % 2 == 0 { &a } else { &b };
        let res = TestApp::new_client()
            .post(server.url("/api/v1/session"))
            .json(&json!({"account": "o@example.com", "password": "not-the-password"}))
            .send()
            .await
            .unwrap();
        last = Some(res.status());
        if res.status() == 429 {
            break;
        }
    }
    assert_eq!(
        last.map(|s| s.as_u16()),
        Some(429),
        "throttled across servers"
    );
}

/// What an owner sees, to compare before and after a move.
async fn owner_views(app: &TestApp, owner: &reqwest::Client) -> Vec<serde_json::Value> {
    let mut views = Vec::new();
    for path in [
        format!("/api/v1/vehicles/{VIN}"),
        format!("/api/v1/vehicles/{VIN}/samples?limit=1000"),
        format!("/api/v1/vehicles/{VIN}/events"),
        format!("/api/v1/vehicles/{VIN}/access-log"),
    ] {
        let (status, body) = get_json(owner, app, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        views.push(body);
    }
    views
}

#[tokio::test]
async fn migrate_store_moves_a_sqlite_deployment_to_postgres_losing_nothing() {
    use portal_core::server::audit::verify_log;
    use portal_core::server::store::scratch::ScratchDatabase;
    if skipped_without_postgres(
        "migrate_store_moves_a_sqlite_deployment_to_postgres_losing_nothing",
    ) {
        return;
    }
    // A SQLite deployment with data, an owner, staff, a case and a bundle exported to it.
    let old = TestApp::spawn_on(Backend::Sqlite).await;
    import_log(&old, crate::browse::generated_log()).await;
    let owner = new_owner(
        &old,
        crate::browse::VIN,
        Some(crate::browse::PERIOD_US),
        "o@example.com",
    )
    .await;
    let enrolled = portal_core::server::Portal::new(old.store.clone())
        .add_staff(None, "agent@example.com", "support")
        .await
        .unwrap();
    let staff = TestApp::new_client();
    let res = staff_sign_in(
        &old,
        &staff,
        &enrolled.account,
        &enrolled.initial_password,
        &totp_now(&enrolled.totp_secret, 0),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (status, case) = post_json(
        &staff,
        &old,
        "/api/v1/staff/cases",
        json!({"vin": VIN, "subject": "Brake complaint", "purpose": "answer the owner"}),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let case_no = case["case_no"].as_str().unwrap().to_string();
    let exports = format!("/api/v1/staff/cases/{case_no}/exports");
    let (status, attached) = post_json(
        &staff,
        &old,
        &exports,
        json!({"recipient": "Shanghai court", "legal_basis": "court order"}),
    )
    .await;
    assert_eq!(status, 201, "{attached}");
    let bundle_path = format!("{exports}/{}", attached["bundle_id"].as_str().unwrap());
    let bundle = staff
        .get(old.url(&bundle_path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let ingest_token = portal_core::server::Portal::new(old.store.clone())
        .issue_ingest_token("dc-1")
        .await
        .unwrap()
        .token;
    // The owner's privacy zone and grant move too.
    let (status, _) = post_json(
        &owner,
        &old,
        "/api/v1/me/privacy-zones",
        json!({"name": "Home", "lat": 31.23, "lon": 121.47, "radius_m": 300}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, issued) = post_json(
        &owner,
        &old,
        &format!("/api/v1/vehicles/{VIN}/grants"),
        json!({"recipient": "Insurer", "kind": "insurer", "purpose": "claim",
            "classes": ["telemetry"], "continuous": true, "expires": date_in_days(30)}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let grant_token = issued["token"].as_str().unwrap().to_string();
    let views = owner_views(&old, &owner).await;
    old.portal.sequence_log().await.unwrap();
    let chain = verify_log(&*old.store, None, None).await.unwrap();
    assert!(chain.broken.is_none() && chain.entries >= 4, "{chain:?}");
    // The witness's cosignature of the newest checkpoint moves with it.
    let size = chain.checkpoint.unwrap();
    let note = old.portal.checkpoint_note(Some(size)).await.unwrap();
    let text = note.split_once("\n\n").unwrap().0.to_string() + "\n";
    let line = portal_core::server::tlog::cosign::cosign(
        &text,
        TEST_WITNESS,
        &ed25519_dalek::SigningKey::from_bytes(&TEST_WITNESS_SEED),
        chrono::Utc::now().timestamp() as u64,
    );
    old.portal
        .add_cosignature(&format!("{note}{}", line.line()))
        .await
        .unwrap();
    let cosigned = old.portal.checkpoint_note(Some(size)).await.unwrap();
    assert_eq!(cosigned, format!("{note}{}", line.line()));

    let target = ScratchDatabase::create_on(Backend::Postgres).await.unwrap();
    let migrate = |to: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["migrate-store", "--from", old.database_url(), "--to", &to])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = migrate(target.url.clone());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("transparency log:") && stdout.contains("verified"),
        "{stdout}"
    );
    // A second run finds the target in use and changes nothing.
    let again = migrate(target.url.clone());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let new = TestApp::spawn_on_database(target, &old).await;
    // The transparency log moved whole, to the same head.
    let moved = verify_log(&*new.store, None, None).await.unwrap();
    assert_eq!(
        (moved.entries, moved.head.clone(), moved.broken.clone()),
        (chain.entries, chain.head.clone(), None)
    );
    assert_eq!(
        new.portal.checkpoint_note(Some(size)).await.unwrap(),
        cosigned
    );
    // The same owner signs in with the same password and sees the same data.
    let owner2 = TestApp::new_client();
    sign_in(&new, &owner2, "o@example.com", PASSWORD).await;
    assert_eq!(owner_views(&new, &owner2).await, views);
    let (_, zones) = get_json(&owner2, &new, "/api/v1/me/privacy-zones").await;
    assert_eq!(zones["items"][0]["name"], "Home", "{zones}");
    let (status, _) =
        get_json_as_recipient(&new, &grant_token, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 200, "the grant's token still reads");
    // New rows continue the moved ids.
    let (status, zone) = post_json(
        &owner2,
        &new,
        "/api/v1/me/privacy-zones",
        json!({"name": "Work", "lat": 31.3, "lon": 121.5, "radius_m": 300}),
    )
    .await;
    assert_eq!(status, 201, "{zone}");
    assert!(zone["id"].as_i64() > zones["items"][0]["id"].as_i64());
    // Staff sign in (the next TOTP step: the last one used moved too) and
    // fetch the very bundle exported before the move.
    let staff2 = TestApp::new_client();
    let res = staff_sign_in(
        &new,
        &staff2,
        &enrolled.account,
        &enrolled.initial_password,
        &totp_now(&enrolled.totp_secret, 1),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let moved_bundle = staff2
        .get(new.url(&bundle_path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(moved_bundle, bundle);
    // The pipeline's ingest token moved too (as its hash) and still works.
    let res = new
        .client
        .post(new.url("/api/v1/ingest"))
        .bearer_auth(&ingest_token)
        .body(format!(
            "{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"Asia/Shanghai\"}}\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // New rows continue the moved ids: a new case gets the next number.
    let (status, next) = post_json(
        &staff2,
        &new,
        "/api/v1/staff/cases",
        json!({"vin": VIN, "subject": "Follow-up", "purpose": "answer the owner"}),
    )
    .await;
    assert_eq!(status, 201, "{next}");
    assert_ne!(next["case_no"], case["case_no"], "{next}");
}
