//! Privacy zones: an owner's places whose positions nobody sees (pages,
//! routes, exports, grants, staff), except in the owner's own export with
//! full coordinates; bundles say that zones applied, never where.

use crate::evidence::members;
use crate::helpers::*;
use serde_json::{json, Value};

const VIN: &str = "LRW3E7EK9NC000017";
/// 2021-02-21T10:00:00+08:00.
const START_US: i64 = 1_613_872_800_000_000;
/// The drive starts here and heads north-east, 0.0001° a second on each
/// axis (about 14.4 m a second).
const HOME: (f64, f64) = (31.2300, 121.4700);

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

/// Ten minutes at 1 Hz leaving HOME, with a hard brake at 300 s.
fn log() -> String {
    let mut lines = vec![json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"})];
    for i in 0..600i64 {
        lines.push(
            json!({"kind":"sample","vin":VIN,"t":t(START_US + i * 1_000_000),
            "speed_kmh":40.0,"lat":HOME.0 + i as f64 * 0.0001,"lon":HOME.1 + i as f64 * 0.0001}),
        );
    }
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"brake-1","t":t(START_US + 300_000_000),
        "type":"hard_brake","severity":"warning"}),
    );
    ndjson(&lines)
}

fn home_zone() -> Value {
    json!({"name": "Home", "lat": HOME.0, "lon": HOME.1, "radius_m": 200})
}

/// Whether a sample row (JSON) carries a position.
fn located(item: &Value) -> bool {
    item["lat"].is_number() && item["lon"].is_number()
}

/// The first 40 samples as `get` gives them: which carry a position.
async fn first_positions(page: Value) -> Vec<bool> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(located)
        .collect()
}

/// Samples 0–10 (at most 144 m from HOME) are inside the 200 m zone,
/// samples 14 on (over 200 m) outside it.
fn hidden_near_home(shown: &[bool]) {
    assert!(shown[..=10].iter().all(|s| !s), "{shown:?}");
    assert!(shown[14..].iter().all(|s| *s), "{shown:?}");
}

fn samples_path() -> String {
    format!("/api/v1/vehicles/{VIN}/samples?limit=40")
}

async fn export(c: &reqwest::Client, app: &TestApp, query: &str) -> (u16, Vec<u8>) {
    let res = c
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?{query}")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// The CSV's `lat` cells of its first 40 rows: whether each holds a value
/// (no cell of these rows holds a comma or a quote).
fn csv_positions(csv: &[u8]) -> Vec<bool> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut lines = text.lines();
    let lat = lines
        .next()
        .unwrap()
        .split(',')
        .position(|h| h == "lat" || h.starts_with("lat ("))
        .expect("a lat column");
    lines
        .take(40)
        .map(|row| !row.split(',').nth(lat).unwrap().is_empty())
        .collect()
}

fn manifest(zip: &[u8]) -> Value {
    let files = members(zip);
    let (_, bytes) = files.iter().find(|(n, _)| n == "manifest.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn a_zone_hides_positions_from_pages_exports_grants_and_staff_but_not_the_owners_full_export()
{
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "zones@example.com").await;
    let (status, zone) = post_json(&owner, &app, "/api/v1/me/privacy-zones", home_zone()).await;
    assert_eq!(status, 201, "{zone}");
    assert_eq!(zone["name"], "Home");
    let (_, zones) = get_json(&owner, &app, "/api/v1/me/privacy-zones").await;
    assert_eq!(zones["items"].as_array().unwrap().len(), 1, "{zones}");

    // The owner's own pages hide it too (a screen can be seen by others).
    let (status, page) = get_json(&owner, &app, &samples_path()).await;
    assert_eq!(status, 200, "{page}");
    hidden_near_home(&first_positions(page).await);
    // The route draws no point inside the zone.
    let res = owner
        .put(app.url("/api/v1/me/location"))
        .json(&json!({"show": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, route) = get_json(
        &owner,
        &app,
        &format!(
            "/api/v1/vehicles/{VIN}/route?from={}&to={}",
            t(START_US),
            t(START_US + 600_000_000)
        ),
    )
    .await;
    assert_eq!(status, 200, "{route}");
    let points = route["points"].as_array().unwrap();
    assert!(!points.is_empty());
    assert!(
        points
            .iter()
            .all(|p| p["lat"].as_f64().unwrap() > HOME.0 + 0.0010),
        "{points:?}"
    );

    // Exports: the owner's own at `full` keeps every position; `coarse` does not.
    let (status, full) = export(&owner, &app, "format=csv&location=full").await;
    assert_eq!(status, 200);
    assert!(csv_positions(&full).iter().all(|s| *s));
    let (status, coarse) = export(&owner, &app, "format=csv&location=coarse").await;
    assert_eq!(status, 200);
    hidden_near_home(&csv_positions(&coarse));
    let (_, ndjson) = export(&owner, &app, "format=ndjson&location=coarse").await;
    let located_lines = String::from_utf8(ndjson)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"kind\":\"sample\"") && l.contains("\"lat\""))
        .count();
    assert!(
        (586..=589).contains(&located_lines),
        "11 to 14 of 600 hidden: {located_lines}"
    );
    // A bundle says whether zones applied, never where they are.
    let (_, zip) = export(&owner, &app, "format=bundle&location=coarse").await;
    let m = manifest(&zip);
    assert_eq!(m["privacy_zones_applied"], true, "{m}");
    assert!(!m.to_string().contains("Home"));
    let (_, zip) = export(&owner, &app, "format=bundle&location=full").await;
    assert_eq!(manifest(&zip)["privacy_zones_applied"], false);
    let (_, zip) = export(&owner, &app, "format=bundle&location=none").await;
    assert_eq!(manifest(&zip)["privacy_zones_applied"], false);

    // A recipient granted full positions sees none inside the zone, in
    // pages and in their export.
    let (status, issued) = post_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{VIN}/grants"),
        json!({"recipient": "Repair shop", "kind": "repairer", "purpose": "brake diagnosis",
            "classes": ["telemetry", "events", "crash"], "location": "full",
            "from": t(START_US), "to": t(START_US + 3_600_000_000), "expires": date_in_days(7)}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap();
    let (status, page) = get_json_as_recipient(&app, token, &samples_path()).await;
    assert_eq!(status, 200, "{page}");
    hidden_near_home(&first_positions(page).await);
    let res = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/vehicles/{VIN}/export?format=csv&location=full"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    hidden_near_home(&csv_positions(&res.bytes().await.unwrap()));

    // Staff in a case see none inside it either.
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let (status, case) = post_json(
        &staff,
        &app,
        "/api/v1/staff/cases",
        json!({"vin": VIN, "subject": "Brake complaint", "purpose": "answer the owner"}),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    let case_no = case["case_no"].as_str().unwrap();
    let (status, page) = get_json(
        &staff,
        &app,
        &format!("/api/v1/staff/cases/{case_no}/samples?limit=40"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    hidden_near_home(&first_positions(page).await);

    // Removed: positions come back on the next request.
    let id = zone["id"].as_i64().unwrap();
    let res = owner
        .delete(app.url(&format!("/api/v1/me/privacy-zones/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, page) = get_json(&owner, &app, &samples_path()).await;
    assert!(first_positions(page).await.iter().all(|s| *s));
}

#[tokio::test]
async fn bad_zones_are_refused_naming_the_field_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "zones@example.com").await;
    let path = "/api/v1/me/privacy-zones";
    let cases = [
        ("radius_m", json!(199.9), "zone_too_small"),
        ("radius_m", json!(50_001), "zone_too_large"),
        ("radius_m", Value::Null, "missing_field"),
        ("lat", json!(90.5), "invalid_coordinate"),
        ("lon", json!(-181), "invalid_coordinate"),
        ("lon", Value::Null, "invalid_coordinate"),
        ("name", json!("   "), "missing_field"),
    ];
    for (field, value, code) in cases {
        let mut body = home_zone();
        body[field] = value.clone();
        let (status, reply) = post_json(&owner, &app, path, body).await;
        assert_eq!(status, 422, "{field}={value}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{field}={value}: {reply}");
        assert_eq!(reply["error"]["details"][0]["field"], field, "{reply}");
    }
    // Not JSON numbers: a 4xx with a message, not a 500.
    let (status, reply) = post_json(
        &owner,
        &app,
        path,
        json!({"name": "x", "lat": "north", "lon": 1, "radius_m": 300}),
    )
    .await;
    assert!((400..500).contains(&status), "{status} {reply}");
    let (_, zones) = get_json(&owner, &app, path).await;
    assert_eq!(zones["items"], json!([]), "nothing kept");

    // At most 20 per account.
    for _ in 0..20 {
        let (status, _) = post_json(&owner, &app, path, home_zone()).await;
        assert_eq!(status, 201);
    }
    let (status, reply) = post_json(&owner, &app, path, home_zone()).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(reply["error"]["code"], "too_many_zones");

    // Nobody else reads, adds or removes them.
    let (_, zones) = get_json(&owner, &app, path).await;
    let id = zones["items"][0]["id"].as_i64().unwrap();
    let stranger = TestApp::new_client();
    let (status, _) = get_json(&stranger, &app, path).await;
    assert_eq!(status, 401);
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let (status, _) = post_json(&staff, &app, path, home_zone()).await;
    assert_eq!(status, 403);
    import_vehicle(&app, "1M8GDM9AXKP042788", &[0, 1]).await;
    let other = new_owner(&app, "1M8GDM9AXKP042788", None, "other@example.com").await;
    let res = other
        .delete(app.url(&format!("{path}/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "another owner's zone is not found");
    let (_, theirs) = get_json(&other, &app, path).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, issued) = post_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{VIN}/grants"),
        json!({"recipient": "Family", "kind": "family", "purpose": "trips",
            "classes": ["telemetry"], "continuous": true, "expires": date_in_days(7)}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let (status, _) = get_json_as_recipient(&app, issued["token"].as_str().unwrap(), path).await;
    assert_eq!(status, 403, "a recipient never sees the owner's zones");
    let (_, zones) = get_json(&owner, &app, path).await;
    assert_eq!(zones["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn the_zones_page_adds_and_removes_zones_with_plain_forms_in_both_languages() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "zones@example.com").await;
    let page = page_in(&owner, &app, "/account/privacy-zones", "zh-CN").await;
    assert!(page.contains("隐私区域"), "{page}");
    assert!(page.contains("data-testid=\"no-zones\""));
    let account = page_in(&owner, &app, "/account", "en").await;
    assert!(
        account.contains("/account/privacy-zones"),
        "linked from the account page"
    );

    // The form as a browser without JavaScript posts it.
    let form = |radius: &str| {
        vec![
            ("name", "Work".to_string()),
            ("lat", "31,2304".to_string()),
            ("lon", " 121.4737".to_string()),
            ("radius_m", radius.to_string()),
        ]
    };
    let res = owner
        .post(app.url("/api/add_privacy_zone"))
        .header("accept", "text/html")
        .form(&form("150"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.ends_with("?error=zone_too_small"), "{back}");
    let page = page_in(&owner, &app, &back, "en").await;
    assert!(page.contains("at least 200 m"), "{page}");

    let res = owner
        .post(app.url("/api/add_privacy_zone"))
        .header("accept", "text/html")
        .form(&form("250"))
        .send()
        .await
        .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("?added="), "{back}");
    let page = page_in(&owner, &app, &back, "en").await;
    assert!(
        page.contains("Work") && page.contains("31.23040, 121.47370"),
        "{page}"
    );
    let (_, zones) = get_json(&owner, &app, "/api/v1/me/privacy-zones").await;
    assert_eq!(zones["items"][0]["radius_m"], 250.0);
    let id = zones["items"][0]["id"].as_i64().unwrap();

    let res = owner
        .post(app.url("/api/remove_privacy_zone"))
        .header("accept", "text/html")
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let (_, zones) = get_json(&owner, &app, "/api/v1/me/privacy-zones").await;
    assert_eq!(zones["items"], json!([]));
}
