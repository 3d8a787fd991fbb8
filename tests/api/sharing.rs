//! Grants: an owner shares a scope of one vehicle's data with a recipient,
//! who reads through the same gate under a new kind of principal; every
//! read, export and refusal lands on the owner's access page.

use crate::browse::{fixture, VIN};
use crate::helpers::*;
use serde_json::{json, Value};

/// 2021-02-21T11:00:00+08:00: drive 2 of the browse fixture (300 s at 1 Hz,
/// an FCW warning at 60 s, a collision with a crash record at 240 s).
const DRIVE2_US: i64 = 1_613_872_800_000_000 + 3_600_000_000;
/// A third drive an hour after drive 2, with positions (60 s at 1 Hz).
const DRIVE3_US: i64 = DRIVE2_US + 3_600_000_000;
const OTHER_VIN: &str = "1M8GDM9AXKP042788";

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

/// The fixture (owner `o@example.com` of `VIN`) with a third drive that
/// carries positions, and another owner's vehicle beside it.
async fn shared_fixture() -> (TestApp, reqwest::Client) {
    let (app, owner) = fixture().await;
    let lines: Vec<Value> =
        std::iter::once(json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"}))
            .chain((0..60i64).map(|i| {
                json!({"kind":"sample","vin":VIN,"t":t(DRIVE3_US + i * 1_000_000),
                "speed_kmh":30.0,"lat":31.234567,"lon":121.476543,"heading_deg":90.0})
            }))
            .collect();
    import_log(&app, ndjson(&lines)).await;
    import_vehicle(&app, OTHER_VIN, &[0, 1]).await;
    new_owner(&app, OTHER_VIN, None, "other@example.com").await;
    (app, owner)
}

async fn grant(app: &TestApp, owner: &reqwest::Client, body: Value) -> (u16, Value) {
    post_json(owner, app, &format!("/api/v1/vehicles/{VIN}/grants"), body).await
}

/// The owner's access log, newest first.
async fn access_log(app: &TestApp, owner: &reqwest::Client) -> Vec<Value> {
    let (status, log) = get_json(owner, app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    assert_eq!(status, 200, "{log}");
    log["items"].as_array().unwrap().clone()
}

fn insurer_grant() -> Value {
    json!({
        "recipient": "Ping An Insurance, claims desk",
        "kind": "insurer",
        "purpose": "claim 2021-0042: the collision of 21 February",
        "classes": ["telemetry", "events"],
        "location": "coarse",
        "from": t(DRIVE2_US),
        "to": t(DRIVE3_US + 3_600_000_000),
        "expires": date_in_days(30),
    })
}

#[tokio::test]
async fn a_recipient_reads_only_what_the_grant_covers_and_the_owner_sees_every_read() {
    let (app, owner) = shared_fixture().await;
    let (status, issued) = grant(&app, &owner, insurer_grant()).await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("vdg_"), "{token}");
    assert_eq!(issued["link"], format!("/shared/{token}"));
    assert_eq!(issued["status"], "active");
    assert_eq!(issued["classes"], json!(["telemetry", "events"]));
    let grant_id = issued["id"].as_i64().unwrap();

    // The overview counts only the window (drives 2 and 3) and the classes granted.
    let (status, o) = get_json_as_recipient(&app, &token, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["telemetry"]["count"], 300 + 60, "{o}");
    assert_eq!(o["events"]["count"], 2, "FCW and collision: {o}");
    assert_eq!(o["crash_records"]["count"], 0, "crash records not granted");
    assert_eq!(o["location"]["count"], 60);
    assert_eq!(o["periods"][0]["from"]["t"], t(DRIVE2_US));

    // Samples: positions rounded to about 1 km (`coarse`), nothing outside the window.
    let (status, page) = get_json_as_recipient(
        &app,
        &token,
        &format!(
            "/api/v1/vehicles/{VIN}/samples?from={}&limit=1",
            t(DRIVE3_US).replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["lat"], 31.23);
    assert_eq!(page["items"][0]["lon"], 121.48);
    let (_, first) = get_json_as_recipient(
        &app,
        &token,
        &format!("/api/v1/vehicles/{VIN}/samples?limit=1"),
    )
    .await;
    assert_eq!(
        first["items"][0]["t"],
        t(DRIVE2_US),
        "the window starts at drive 2"
    );

    // Events of the window; the collision without its crash record; drive 1's brake event not at all.
    let (_, events) =
        get_json_as_recipient(&app, &token, &format!("/api/v1/vehicles/{VIN}/events")).await;
    let ids: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ev-fcw", "ev-crash"]);
    let (status, crash) = get_json_as_recipient(
        &app,
        &token,
        &format!("/api/v1/vehicles/{VIN}/events/ev-crash"),
    )
    .await;
    assert_eq!(status, 200, "{crash}");
    assert!(
        crash["edr"].is_null(),
        "crash records not granted: {}",
        crash["edr"]
    );
    assert!(
        !crash["samples"].as_array().unwrap().is_empty(),
        "telemetry granted"
    );
    let (status, _) = get_json_as_recipient(
        &app,
        &token,
        &format!("/api/v1/vehicles/{VIN}/events/ev-brake"),
    )
    .await;
    assert_eq!(status, 404);

    // Outside the scope: the owner's own pages, exports with more of a
    // position than granted, another vehicle, an account's own lists.
    for path in [
        format!("/api/v1/vehicles/{VIN}/access-log"),
        format!("/api/v1/vehicles/{VIN}/grants"),
        format!("/api/v1/vehicles/{VIN}/export?format=ndjson&location=full"),
        format!("/api/v1/vehicles/{OTHER_VIN}"),
        format!("/api/v1/vehicles/{OTHER_VIN}/samples"),
    ] {
        let (status, body) = get_json_as_recipient(&app, &token, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = get_json_as_recipient(&app, &token, "/api/v1/vehicles").await;
    assert_eq!(status, 403, "a recipient has no vehicles of their own");
    let (status, me) = get_json_as_recipient(&app, &token, "/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["account"], "Ping An Insurance, claims desk");
    assert_eq!(me["shared"]["vin"], VIN);
    assert_eq!(me["vehicles"], json!([]));
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/vehicles/{VIN}/grants")))
        .bearer_auth(&token)
        .json(&insurer_grant())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "a recipient cannot pass a grant on");

    // The owner sees every read and every refusal, with the grant.
    let log = access_log(&app, &owner).await;
    let mine: Vec<&Value> = log.iter().filter(|e| e["grant_id"] == grant_id).collect();
    assert!(mine
        .iter()
        .any(|e| e["action"] == "grant_created" && e["by"] == "you"));
    let reads = mine.iter().filter(|e| e["action"] == "grant_read").count();
    assert!(
        reads >= 6,
        "overview, samples ×2, events, 2 details: {reads}"
    );
    for e in mine.iter().filter(|e| e["action"] == "grant_read") {
        assert_eq!(e["by"], "recipient");
        assert_eq!(e["recipient"], "Ping An Insurance, claims desk");
        assert_eq!(
            e["purpose"],
            "claim 2021-0042: the collision of 21 February"
        );
    }
    let refused: Vec<&str> = mine
        .iter()
        .filter(|e| e["action"] == "grant_refused")
        .map(|e| e["refused"].as_str().unwrap())
        .collect();
    assert_eq!(
        refused.iter().filter(|r| **r == "outside_scope").count(),
        4,
        "{refused:?}"
    );
    assert_eq!(
        refused.iter().filter(|r| **r == "other_vehicle").count(),
        2,
        "{refused:?}"
    );
    // The other vehicle's owner learns nothing of it.
    let (_, other_log) = get_json(
        &new_owner_client(&app).await,
        &app,
        &format!("/api/v1/vehicles/{OTHER_VIN}/access-log"),
    )
    .await;
    assert_eq!(other_log["items"], json!([]), "{other_log}");

    // The owner's list shows the grant, never its token.
    let (status, list) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/grants")).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], grant_id);
    assert!(list["items"][0].get("token").is_none());
    assert!(!list.to_string().contains(&token));
}

/// The other vehicle's owner, signed in again on a fresh client.
async fn new_owner_client(app: &TestApp) -> reqwest::Client {
    let client = TestApp::new_client();
    sign_in(app, &client, "other@example.com", PASSWORD).await;
    client
}

#[tokio::test]
async fn a_grant_of_everything_exports_and_the_export_is_on_the_owners_page() {
    let (app, owner) = shared_fixture().await;
    let mut body = insurer_grant();
    body["classes"] = json!(["telemetry", "events", "crash"]);
    body["location"] = json!("none");
    let (status, issued) = grant(&app, &owner, body).await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap();

    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?format=csv")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 300 + 60,
        "header and the window's samples"
    );
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert!(
        !header.contains(&"lat") && !header.contains(&"lon"),
        "no location granted: {header:?}"
    );
    // More location than granted is outside the scope.
    let (status, _) = get_json_as_recipient(
        &app,
        token,
        &format!("/api/v1/vehicles/{VIN}/export?format=csv&location=coarse"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get_json_as_recipient(
        &app,
        token,
        &format!(
            "/api/v1/vehicles/{VIN}/route?from={}&to={}",
            t(DRIVE3_US),
            t(DRIVE3_US + 60_000_000)
        ),
    )
    .await;
    assert_eq!(status, 404, "no route without a location");
    let (_, crash) = get_json_as_recipient(
        &app,
        token,
        &format!("/api/v1/vehicles/{VIN}/events/ev-crash"),
    )
    .await;
    assert_eq!(
        crash["edr"]["record"]["standard"], "GB 39732-2020",
        "crash records granted"
    );
    let (_, page) = get_json_as_recipient(
        &app,
        token,
        &format!(
            "/api/v1/vehicles/{VIN}/samples?limit=1&from={}",
            t(DRIVE3_US).replace('+', "%2B")
        ),
    )
    .await;
    assert!(page["items"][0].get("lat").is_none(), "{page}");
    assert!(page["items"][0].get("heading_deg").is_none(), "{page}");

    let log = access_log(&app, &owner).await;
    let export = log
        .iter()
        .find(|e| e["action"] == "export")
        .expect("the recipient's export is listed");
    assert_eq!(export["by"], "recipient");
    assert_eq!(export["grant_id"], issued["id"]);
    assert_eq!(export["recipient"], "Ping An Insurance, claims desk");
    assert_eq!(export["format"], "csv");
}

#[tokio::test]
async fn revoked_expired_and_transferred_grants_are_refused_and_recorded() {
    let (app, owner) = shared_fixture().await;
    let everything = |recipient: &str| {
        json!({"recipient": recipient, "kind": "family", "purpose": "keeping an eye on the car",
            "classes": ["telemetry", "events", "crash"], "location": "full",
            "continuous": true, "expires": date_in_days(365)})
    };
    let (_, revoked) = grant(&app, &owner, everything("sister")).await;
    let (_, expiring) = grant(&app, &owner, everything("brother")).await;
    let (_, kept) = grant(&app, &owner, everything("mother")).await;
    let overview = format!("/api/v1/vehicles/{VIN}");
    for g in [&revoked, &expiring, &kept] {
        let (status, o) =
            get_json_as_recipient(&app, g["token"].as_str().unwrap(), &overview).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["telemetry"]["count"], 0, "continuous: from now on only");
    }

    // Continuous: what arrives after the grant is read, whenever it was recorded.
    let now = chrono::Utc::now().timestamp_micros();
    import_log(
        &app,
        ndjson(&[
            json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"}),
            json!({"kind":"sample","vin":VIN,"t":t(now),"speed_kmh":12.0}),
        ]),
    )
    .await;
    let (_, page) = get_json_as_recipient(
        &app,
        kept["token"].as_str().unwrap(),
        &format!("/api/v1/vehicles/{VIN}/samples"),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["speed_kmh"], 12.0);

    // Revoked by the owner: refused at once; a second revocation is a conflict.
    let path = format!("/api/v1/vehicles/{VIN}/grants/{}", revoked["id"]);
    let res = owner.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) =
        get_json_as_recipient(&app, revoked["token"].as_str().unwrap(), &overview).await;
    assert_eq!(status, 404);
    let res = owner.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 409);

    // Expired (time passes in the database).
    let id = expiring["id"].as_i64().unwrap();
    app.sql(
        &format!("UPDATE grants SET expires_at = 1 WHERE id = {id}"),
        &format!("UPDATE grants SET expires_at = '2000-01-01Z' WHERE id = {id}"),
    )
    .await;
    let (status, _) =
        get_json_as_recipient(&app, expiring["token"].as_str().unwrap(), &overview).await;
    assert_eq!(status, 404);

    let log = access_log(&app, &owner).await;
    let refusal = |grant: &Value| {
        log.iter()
            .find(|e| e["action"] == "grant_refused" && e["grant_id"] == grant["id"])
            .map(|e| e["refused"].clone())
    };
    assert_eq!(refusal(&revoked), Some(json!("revoked")));
    assert_eq!(refusal(&expiring), Some(json!("expired")));
    assert!(log.iter().any(|e| e["action"] == "grant_revoked"
        && e["grant_id"] == revoked["id"]
        && e["by"] == "you"));

    // The vehicle changes hands: every grant of the old owner ends with it.
    let portal = portal_core::server::Portal::new(app.store.clone());
    portal
        .transfer(
            &portal_core::domain::Vin::parse(VIN).unwrap(),
            chrono::Utc::now().timestamp_micros(),
        )
        .await
        .unwrap();
    let (status, _) = get_json_as_recipient(&app, kept["token"].as_str().unwrap(), &overview).await;
    assert_eq!(status, 404);
    let (_, list) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/grants")).await;
    let by_id = |g: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == g["id"])
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&kept)["status"], "revoked");
    assert_eq!(by_id(&kept)["revoked_because"], "transfer");
    assert_eq!(by_id(&revoked)["revoked_because"], "owner");
    assert_eq!(by_id(&expiring)["status"], "expired");
}

#[tokio::test]
async fn bad_grant_requests_name_the_field_and_create_nothing() {
    let (app, owner) = shared_fixture().await;
    let cases = [
        ("expires", json!(date_in_days(400)), "expires"),
        ("expires", json!("2020-01-01"), "expires"),
        ("expires", json!("next week"), "expires"),
        ("purpose", json!("   "), "purpose"),
        ("recipient", json!(""), "recipient"),
        ("kind", json!("landlord"), "kind"),
        ("classes", json!([]), "classes"),
        ("classes", json!(["telemetry", "gossip"]), "classes"),
        ("location", json!("street"), "location"),
        ("to", json!(null), "to"),
    ];
    for (field, value, named) in cases {
        let mut body = insurer_grant();
        body[field] = value.clone();
        let (status, reply) = grant(&app, &owner, body).await;
        assert_eq!(status, 422, "{field}={value}: {reply}");
        assert_eq!(
            reply["error"]["details"][0]["field"], named,
            "{field}={value}: {reply}"
        );
    }
    let mut body = insurer_grant();
    body["classes"] = json!(["events"]);
    let (status, reply) = grant(&app, &owner, body).await;
    assert_eq!(
        (status, reply["error"]["details"][0]["field"].clone()),
        (422, json!("location")),
        "{reply}"
    );
    let mut body = insurer_grant();
    body["continuous"] = json!(true);
    let (status, reply) = grant(&app, &owner, body).await;
    assert_eq!(
        (status, reply["error"]["details"][0]["field"].clone()),
        (422, json!("from")),
        "{reply}"
    );

    // Nobody else may grant: staff (no case gives them that), another owner, nobody.
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let (status, _) = grant(&app, &staff, insurer_grant()).await;
    assert_eq!(status, 404);
    let (status, _) = grant(&app, &new_owner_client(&app).await, insurer_grant()).await;
    assert_eq!(status, 404);
    let (status, _) = grant(&app, &TestApp::new_client(), insurer_grant()).await;
    assert_eq!(status, 401);

    let (_, list) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/grants")).await;
    assert_eq!(list["items"], json!([]), "nothing was created");
    let grants = app
        .scalar("SELECT count(*) FROM grants", "SELECT count(*) FROM grants")
        .await;
    assert_eq!(grants, 0);

    // A token of no grant is a wrong credential, not a recipient.
    let (status, reply) =
        get_json_as_recipient(&app, "vdg_0000", &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 401);
    assert_eq!(reply["error"]["code"], "unknown_token");
}

#[tokio::test]
async fn the_link_opens_a_recipients_session_that_ends_with_the_grant() {
    let (app, owner) = shared_fixture().await;
    let (_, issued) = grant(&app, &owner, insurer_grant()).await;
    let link = issued["link"].as_str().unwrap();

    // Followed in the owner's own browser: the owner is signed out first.
    let browser = TestApp::new_client();
    sign_in(&app, &browser, "o@example.com", PASSWORD).await;
    let res = browser.get(app.url(link)).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], format!("/vehicles/{VIN}"));
    let (status, me) = get_json(&browser, &app, "/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["account"], "Ping An Insurance, claims desk");
    let (status, _) = get_json(
        &browser,
        &app,
        &format!("/api/v1/vehicles/{VIN}/access-log"),
    )
    .await;
    assert_eq!(status, 404, "the owner's pages are not the recipient's");
    let (status, o) = get_json(&browser, &app, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!((status, o["events"]["count"].clone()), (200, json!(2)));
    let page = page_in(&browser, &app, &format!("/vehicles/{VIN}"), "en").await;
    assert!(
        page.contains(VIN),
        "the overview page renders for the recipient"
    );
    // Without links to the owner's own pages, and no account page.
    assert!(
        !page.contains(&format!("/vehicles/{VIN}/access\"")),
        "{page}"
    );
    assert!(!page.contains(&format!("/vehicles/{VIN}/sharing\"")));
    assert!(page.contains(&format!("/vehicles/{VIN}/telemetry\"")));
    let account = page_in(&browser, &app, "/account", "en").await;
    assert!(
        !account.contains("claim_code") && !account.contains("location-form"),
        "{account}"
    );
    let mine = page_in(&owner, &app, &format!("/vehicles/{VIN}"), "en").await;
    assert!(
        mine.contains(&format!("/vehicles/{VIN}/sharing\"")),
        "the owner's nav has them"
    );

    let res = owner
        .delete(app.url(&format!("/api/v1/vehicles/{VIN}/grants/{}", issued["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = get_json(&browser, &app, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 404, "revoked: the next request is refused");

    let res = TestApp::new_client()
        .get(app.url("/shared/vdg_nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// The sharing page without JavaScript: the form posts, the token is shown
/// once, a revocation takes effect, errors come back translated.
#[tokio::test]
async fn the_sharing_page_works_as_plain_forms() {
    let (app, owner) = shared_fixture().await;
    let page = format!("/vehicles/{VIN}/sharing");
    let html = page_in(&owner, &app, &page, "en").await;
    assert!(html.contains("data-testid=\"no-grants\""), "{html}");
    assert!(html.contains("data-testid=\"grant-form\""));

    let post = |endpoint: &'static str, form: Vec<(&'static str, String)>| {
        let owner = owner.clone();
        let url = app.url(endpoint);
        async move {
            let res = owner
                .post(url)
                .header("accept", "text/html")
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 302, "{endpoint}");
            res.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let form = |expires: String| {
        vec![
            ("vin", VIN.to_string()),
            ("recipient", "Li Na (lawyer)".to_string()),
            ("kind", "lawyer".to_string()),
            ("purpose", "the 2021 brake-failure case".to_string()),
            ("telemetry", "on".to_string()),
            ("crash", "on".to_string()),
            ("location", "none".to_string()),
            ("window", "fixed".to_string()),
            ("from", "2021-02-21T11:00".to_string()),
            ("to", "2021-02-21T12:00".to_string()),
            ("expires", expires),
        ]
    };
    let refused = post("/api/create_grant", form(date_in_days(400))).await;
    assert_eq!(refused, format!("{page}?error=expiry_too_far"));
    let zh = page_in(&owner, &app, &refused, "zh-CN").await;
    assert!(
        zh.contains("共享最长一年"),
        "the error in the reader's language"
    );

    let made = post("/api/create_grant", form(date_in_days(7))).await;
    assert!(made.starts_with(&format!("{page}?issued=")), "{made}");
    let html = page_in(&owner, &app, &made, "en").await;
    let token = html
        .split("data-testid=\"grant-token\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("the token is shown: {html}"))
        .to_string();
    assert!(token.starts_with("vdg_"), "{token}");
    assert!(html.contains(&format!("/shared/{token}")));
    assert!(html.contains("Li Na (lawyer)") && html.contains("data-status=\"active\""));
    let again = page_in(&owner, &app, &made, "en").await;
    assert!(!again.contains(&token), "shown once only");

    // The token reads what the form granted: telemetry and crash records, no events.
    let (status, o) = get_json_as_recipient(&app, &token, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            o["telemetry"]["count"].clone(),
            o["events"]["count"].clone()
        ),
        (json!(300), json!(0))
    );

    // Drives count no events for a grant without them.
    let (status, drives) =
        get_json_as_recipient(&app, &token, &format!("/api/v1/vehicles/{VIN}/drives")).await;
    assert_eq!(status, 200, "{drives}");
    let drives = drives["items"].as_array().unwrap();
    assert!(!drives.is_empty());
    assert!(
        drives
            .iter()
            .all(|d| d["events"] == 0 && d["crash_events"] == 0),
        "{drives:?}"
    );
    let id = made.rsplit('=').next().unwrap().to_string();
    let revoked = post(
        "/api/revoke_grant",
        vec![("vin", VIN.to_string()), ("id", id.clone())],
    )
    .await;
    assert_eq!(revoked, format!("{page}?revoked={id}"));
    let html = page_in(&owner, &app, &revoked, "zh-CN").await;
    assert!(html.contains("data-status=\"revoked\"") && html.contains("已撤销"));
    let (status, _) = get_json_as_recipient(&app, &token, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 404);

    // The access page names the recipient's reads and the refusal, in both languages.
    let access = page_in(&owner, &app, &format!("/vehicles/{VIN}/access"), "en").await;
    assert!(access.contains("Read by a recipient") && access.contains("the grant was revoked"));
    let access = page_in(&owner, &app, &format!("/vehicles/{VIN}/access"), "zh-CN").await;
    assert!(access.contains("接收方读取") && access.contains("共享已撤销"));
}

#[tokio::test]
async fn the_data_dictionary_describes_every_channel_the_reader_may_see() {
    let (app, owner) = shared_fixture().await;
    let (status, d) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/dictionary")).await;
    assert_eq!(status, 200, "{d}");
    let channels = d["channels"].as_array().unwrap();
    let names: Vec<&str> = channels
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = portal_core::domain::log_format::CHANNELS
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, expected, "every channel, in the format's order");
    let channel = |name: &str| channels.iter().find(|c| c["name"] == name).unwrap().clone();
    let speed = channel("speed_kmh");
    assert_eq!(
        (
            speed["unit"].clone(),
            speed["kind"].clone(),
            speed["min"].clone(),
            speed["max"].clone()
        ),
        (json!("km/h"), json!("number"), json!(0.0), json!(300.0))
    );
    assert_eq!(speed["rates"][0]["hz"], 1.0, "{speed}");
    assert_eq!(speed["class"], "telemetry");
    assert_eq!(speed["sealed_share"], 0.0);
    assert!(
        speed["label"]["zh"].as_str().unwrap().contains("车速"),
        "{speed}"
    );
    assert_eq!(channel("gear")["values"], json!(["P", "R", "N", "D"]));
    assert_eq!(
        channel("odometer_km")["max"],
        Value::Null,
        "unbounded above"
    );
    assert_eq!(channel("lat")["class"], "location");
    assert!(channel("lat")["source"]["zh"]
        .as_str()
        .unwrap()
        .contains("位置记录"));

    // A recipient's dictionary: only what the grant covers.
    let mut body = insurer_grant();
    body["location"] = json!("none");
    let (_, issued) = grant(&app, &owner, body).await;
    let (status, theirs) = get_json_as_recipient(
        &app,
        issued["token"].as_str().unwrap(),
        &format!("/api/v1/vehicles/{VIN}/dictionary"),
    )
    .await;
    assert_eq!(status, 200);
    let theirs: Vec<&str> = theirs["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        theirs.contains(&"speed_kmh")
            && !theirs.contains(&"lat")
            && !theirs.contains(&"heading_deg")
    );

    // The page in both languages, linked from the export page.
    let page = page_in(
        &owner,
        &app,
        &format!("/vehicles/{VIN}/dictionary"),
        "zh-CN",
    )
    .await;
    assert!(page.contains("数据字典") && page.contains("data-channel=\"speed_kmh\""));
    let page = page_in(&owner, &app, &format!("/vehicles/{VIN}/dictionary"), "en").await;
    assert!(page.contains("Data dictionary") && page.contains("Valid range"));
    let export = page_in(&owner, &app, &format!("/vehicles/{VIN}/export"), "en").await;
    assert!(export.contains(&format!("href=\"/vehicles/{VIN}/dictionary\"")));
}
