//! The support console: roles, TOTP, cases, purpose-bound reads through the
//! gate, exports to a case, and what the owner sees of all of it.

use crate::browse::{fixture, VIN};
use crate::helpers::*;
use serde_json::{json, Value};

const OTHER_VIN: &str = "1M8GDM9AXKP042788";

use crate::helpers::get_json as get;
use crate::helpers::post_json as post;

async fn open_case(c: &reqwest::Client, app: &TestApp, vin: &str) -> String {
    let (status, case) = post(
        c,
        app,
        "/api/v1/staff/cases",
        json!({"vin": vin, "subject": "Brake complaint", "purpose": "answer the owner's brake complaint"}),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    assert!(no.starts_with("C-") && no.len() == 13, "{no}");
    no
}

#[tokio::test]
async fn staff_read_only_inside_an_open_case_on_that_vin_and_the_owner_sees_it() {
    let (app, owner) = fixture().await;
    import_vehicle(&app, OTHER_VIN, &[0, 1]).await;
    let _other_owner = new_owner(&app, OTHER_VIN, None, "other@example.com").await;
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;

    // No case: the owners' endpoints answer as for an unknown VIN.
    let (status, _) = get(&staff, &app, &format!("/api/v1/vehicles/{VIN}/samples")).await;
    assert_eq!(status, 404);

    let case = open_case(&staff, &app, VIN).await;
    let other_case = open_case(&staff, &app, OTHER_VIN).await;
    let (status, page) = get(
        &staff,
        &app,
        &format!("/api/v1/staff/cases/{case}/samples?limit=5"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    // Only the case owner's period: nothing before it (a previous owner's data).
    assert_eq!(
        page["items"][0]["t"],
        portal_core::domain::time::format_utc(crate::browse::PERIOD_US),
        "{page}"
    );
    let (status, crash) = get(
        &staff,
        &app,
        &format!("/api/v1/staff/cases/{case}/events/ev-crash"),
    )
    .await;
    assert_eq!(status, 200, "{crash}");
    assert!(crash["edr"].is_object(), "{crash}");
    // A case on another VIN does not open this one's events.
    let (status, _) = get(
        &staff,
        &app,
        &format!("/api/v1/staff/cases/{other_case}/events/ev-crash"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get(&staff, &app, "/api/v1/staff/cases/C-2026-999999/samples").await;
    assert_eq!(status, 404);

    // The owner sees the reads: case, purpose and role, never a name.
    let (_, log) = get(&owner, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    let reads: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "staff_read")
        .collect();
    assert_eq!(reads.len(), 2, "{log}");
    assert_eq!(reads[0]["case_no"], case.as_str());
    assert_eq!(reads[0]["purpose"], "answer the owner's brake complaint");
    assert_eq!(reads[0]["by"], "support");
    assert!(!log.to_string().contains("agent@example.com"));

    // A closed case reads nothing.
    let (status, _) = post(
        &staff,
        &app,
        &format!("/api/v1/staff/cases/{case}/status"),
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = get(&staff, &app, &format!("/api/v1/staff/cases/{case}/samples")).await;
    assert_eq!(status, 404);
    let (status, view) = get(&staff, &app, &format!("/api/v1/staff/cases/{case}")).await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "closed");
    let actions: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["case_status", "staff_read", "staff_read", "case_opened"],
        "{view}"
    );
}

#[tokio::test]
async fn owners_reach_no_staff_endpoint_and_support_cannot_manage_staff() {
    let (app, owner) = fixture().await;
    let (support, _) = new_staff(&app, "agent@example.com", "support").await;
    let (admin, _) = new_staff(&app, "lead@example.com", "admin").await;
    let case = open_case(&support, &app, VIN).await;
    for path in [
        "/api/v1/staff/lookup?q=LRW3E7EK9NC000017".to_string(),
        "/api/v1/staff/cases".to_string(),
        format!("/api/v1/staff/cases/{case}"),
        format!("/api/v1/staff/cases/{case}/samples"),
        format!("/api/v1/staff/cases/{case}/events"),
    ] {
        let (status, body) = get(&owner, &app, &path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let (status, _) = get(&TestApp::new_client(), &app, &path).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = post(
        &owner,
        &app,
        "/api/v1/staff/cases",
        json!({"vin": VIN, "subject": "x", "purpose": "y"}),
    )
    .await;
    assert_eq!(status, 403);

    let new = json!({"account": "new@example.com", "role": "support"});
    let (status, _) = post(&support, &app, "/api/v1/staff/accounts", new.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = post(&owner, &app, "/api/v1/staff/accounts", new.clone()).await;
    assert_eq!(status, 403);
    let (status, created) = post(&admin, &app, "/api/v1/staff/accounts", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let (status, _) = post(&admin, &app, "/api/v1/staff/accounts", new).await;
    assert_eq!(status, 409);
    // Staff cannot sign up: sign-up is for owners with a claim code only.
    let entries = app.store.audit_entries(0, 10_000).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "role_change" && e.actor.starts_with("account:")));
}

#[tokio::test]
async fn totp_codes_that_are_wrong_missing_or_replayed_are_refused() {
    let app = TestApp::spawn().await;
    let portal = portal_core::server::Portal::new(app.store.clone());
    let staff = portal
        .add_staff(None, "agent@example.com", "support")
        .await
        .unwrap();
    let c = TestApp::new_client();
    let pw = &staff.initial_password;
    let res = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": staff.account, "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no code");
    let wrong = if totp_now(&staff.totp_secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        staff_sign_in(&app, &c, &staff.account, pw, wrong)
            .await
            .status(),
        401
    );
    assert_eq!(
        staff_sign_in(
            &app,
            &c,
            &staff.account,
            pw,
            &totp_now(&staff.totp_secret, 9)
        )
        .await
        .status(),
        401,
        "far future"
    );
    let code = totp_now(&staff.totp_secret, 0);
    assert_eq!(
        staff_sign_in(&app, &c, &staff.account, pw, &code)
            .await
            .status(),
        204
    );
    let again = TestApp::new_client();
    let res = staff_sign_in(&app, &again, &staff.account, pw, &code).await;
    assert_eq!(res.status(), 401, "a code is taken once");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "invalid_credentials",
        "the same answer as a wrong password"
    );
    // The right password with a wrong code is a failed sign-in, recorded as one.
    let failures = app
        .store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "sign_in_failed")
        .count();
    assert_eq!(failures, 4);
}

#[tokio::test]
async fn lookups_return_metadata_only_and_are_audited() {
    let (app, _owner) = fixture().await;
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let case = open_case(&staff, &app, VIN).await;
    for q in [
        VIN.to_string(),
        case.to_lowercase(),
        "O@Example.com".to_string(),
    ] {
        let (status, found) = get(&staff, &app, &format!("/api/v1/staff/lookup?q={q}")).await;
        assert_eq!(status, 200, "{q}: {found}");
        assert_eq!(found["cases"][0]["case_no"], case.as_str(), "{q}: {found}");
        assert_eq!(found["vehicles"][0]["vin"], VIN, "{q}");
        assert_eq!(
            found["vehicles"][0]["periods"][0]["account"],
            "o@example.com"
        );
        for data in ["speed_kmh", "items", "edr"] {
            assert!(
                !found.to_string().contains(data),
                "{q}: no log data: {found}"
            );
        }
    }
    let (status, none) = get(&staff, &app, "/api/v1/staff/lookup?q=nobody@example.com").await;
    assert_eq!((status, none["cases"].as_array().unwrap().len()), (200, 0));
    let (status, _) = get(&staff, &app, "/api/v1/staff/lookup?q=").await;
    assert_eq!(status, 422);
    let lookups = app
        .store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "staff_lookup")
        .count();
    assert_eq!(lookups, 4);
}

#[tokio::test]
async fn an_export_to_a_case_is_a_signed_bundle_naming_recipient_and_basis() {
    let (app, owner) = fixture().await;
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let case = open_case(&staff, &app, VIN).await;
    let path = format!("/api/v1/staff/cases/{case}/exports");
    let (status, bad) = post(
        &staff,
        &app,
        &path,
        json!({"recipient": "", "legal_basis": "court order"}),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (422, Some("missing_field"))
    );
    let (status, bad) = post(
        &staff,
        &app,
        &path,
        json!({"format": "csv", "recipient": "Insurer", "legal_basis": "consent"}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");

    let (status, attached) = post(
        &staff,
        &app,
        &path,
        json!({"recipient": "Shanghai court", "legal_basis": "court order (2026) 沪01 123", "location": "coarse"}),
    )
    .await;
    assert_eq!(status, 201, "{attached}");
    let bundle_id = attached["bundle_id"].as_str().unwrap();
    let res = staff
        .get(app.url(&format!("{path}/{bundle_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let zip = res.bytes().await.unwrap().to_vec();
    let key = portal_core::server::signing::Signer::load_or_create(app.data_dir())
        .unwrap()
        .public_key();
    let verified =
        portal_core::server::verify::verify_bundle(std::io::Cursor::new(zip.clone()), &key);
    assert!(verified.valid, "{:?}", verified.problems);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let manifest: Value =
        serde_json::from_reader(archive.by_name("manifest.json").unwrap()).unwrap();
    let by = &manifest["requested_by"];
    assert_eq!(
        (by["case_no"].as_str(), by["recipient"].as_str()),
        (Some(case.as_str()), Some("Shanghai court"))
    );
    assert_eq!(by["legal_basis"], "court order (2026) 沪01 123");
    assert_eq!(by["role"], "support");
    assert_eq!(manifest["location_redaction"], "coarse");

    let (_, view) = get(&staff, &app, &format!("/api/v1/staff/cases/{case}")).await;
    assert_eq!(view["exports"][0]["bundle_id"], bundle_id);
    let (_, log) = get(&owner, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    let export = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["action"] == "export")
        .unwrap()
        .clone();
    assert_eq!(export["case_no"], case.as_str());
    assert_eq!(export["recipient"], "Shanghai court");
    assert_eq!(export["by"], "support");
    assert_eq!(export["manifest_sha256"], attached["manifest_sha256"]);
    // Another case's number does not reach this bundle.
    let other = open_case(&staff, &app, VIN).await;
    let res = staff
        .get(app.url(&format!("/api/v1/staff/cases/{other}/exports/{bundle_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Runs SQL on the database behind the store (tampering, as an attacker
/// with file access would); the same on both backends unless times differ.
async fn tamper(app: &TestApp, sql: &str) {
    let postgres = sql.replace("at = at + 1", "at = at + interval '1 microsecond'");
    app.rewrite_log_tables(sql, &postgres).await;
}

/// Sequences the log and checks it whole: the log's key and the report.
async fn verified_log(
    app: &TestApp,
) -> (
    portal_core::server::tlog::note::NoteVerifier,
    portal_core::server::audit::LogReport,
) {
    app.portal.sequence_log().await.unwrap();
    let key = app.portal.log.as_ref().unwrap().verifier().clone();
    let report = portal_core::server::audit::verify_log(&*app.store, None, Some(&key))
        .await
        .unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    (key, report)
}

#[tokio::test]
async fn the_transparency_log_shows_edits_deletions_reordering_and_rewrites() {
    use portal_core::server::audit::verify_log;
    for (sql, broken_at, reason) in [
        ("UPDATE audit_log SET details = '{\"case_no\":\"C-0\"}' WHERE leaf = 3", 3, "edited"),
        ("DELETE FROM audit_log WHERE leaf = 2", 2, "missing"),
        // Swapping two entries' places: each now hashes to the other's leaf.
        ("UPDATE audit_log SET leaf = -2 WHERE leaf = 1; UPDATE audit_log SET leaf = 1 WHERE leaf = 2; \
          UPDATE audit_log SET leaf = 2 WHERE leaf = -2", 1, "edited"),
        ("UPDATE audit_log SET at = at + 1 WHERE leaf = 4", 4, "edited"),
        ("UPDATE tlog_nodes SET hash = (SELECT hash FROM tlog_nodes WHERE level = 0 AND idx = 0) \
          WHERE level = 1 AND idx = 0", 0, "subtree"),
    ] {
        let (app, _owner) = fixture().await;
        let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
        open_case(&staff, &app, VIN).await;
        let (key, before) = verified_log(&app).await;
        assert!(before.entries >= 5, "{before:?}");
        assert_eq!(before.checkpoint, Some(before.entries));
        tamper(&app, sql).await;
        let after = verify_log(&*app.store, None, Some(&key)).await.unwrap();
        let broken = after.broken.unwrap_or_else(|| panic!("{sql}: not noticed"));
        assert_eq!(broken.leaf, broken_at, "{sql}: {broken:?}");
        assert!(broken.reason.contains(reason), "{sql}: {broken:?}");
    }

    // Rewriting everything the portal can recompute (an edited entry, the
    // tree, a checkpoint signed with its own key): whole on its own, but not
    // the tree verified before.
    let (app, _owner) = fixture().await;
    let (key, report) = verified_log(&app).await;
    let head = report.head.unwrap();
    tamper(
        &app,
        "UPDATE audit_log SET details = '{}' WHERE leaf = 0; UPDATE audit_log SET leaf = NULL; \
         DELETE FROM tlog_nodes; DELETE FROM tlog_checkpoints; UPDATE tlog_state SET size = 0",
    )
    .await;
    app.portal.sequence_log().await.unwrap();
    let alone = verify_log(&*app.store, None, Some(&key)).await.unwrap();
    assert!(
        alone.broken.is_none(),
        "alone, a rewritten log looks whole: {alone:?}"
    );
    assert_eq!(alone.head.as_ref().unwrap().size, head.size);
    assert_ne!(alone.head.unwrap().root, head.root);
    let report = verify_log(&*app.store, Some(&head), Some(&key))
        .await
        .unwrap();
    assert!(report.broken.unwrap().reason.contains("rewritten"));

    // Deleting the newest entries shows against the head verified before.
    let (app, _owner) = fixture().await;
    let head = verified_log(&app).await.1.head.unwrap();
    tamper(
        &app,
        &format!(
            "DELETE FROM audit_log WHERE leaf = {last}; DELETE FROM tlog_nodes WHERE idx = {last} AND level = 0; \
             UPDATE tlog_state SET size = {last}; DELETE FROM tlog_checkpoints",
            last = head.size - 1
        ),
    )
    .await;
    let report = verify_log(&*app.store, Some(&head), None).await.unwrap();
    assert!(report.broken.unwrap().reason.contains("deleted"));
}

#[tokio::test]
async fn the_api_reference_page_lists_every_operation_for_staff_only() {
    let (app, owner) = fixture().await;
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let page = |c: reqwest::Client| {
        let url = app.url("/staff/api");
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(staff).await;
    assert!(html.contains("data-testid=\"api-operations\""), "{html}");
    for operation in [
        "POST /api/v1/ingest",
        "GET /api/v1/vehicles/{vin}/samples",
        "POST /api/v1/staff/cases",
    ] {
        assert!(html.contains(operation), "{operation} missing");
    }
    assert!(html.contains("/api/v1/openapi.json"));
    let html = page(owner).await;
    assert!(
        !html.contains("data-testid=\"api-operations\""),
        "owners get no reference"
    );
}
