//! Routes: off until the account turns location on, through the gate like
//! every read, the events placed on the way.

use crate::helpers::get_json as get;
use crate::helpers::*;
use serde_json::{json, Value};

const VIN: &str = "LRW3E7EK9NC000017";
const OTHER: &str = "1M8GDM9AXKP042788";
/// 2021-02-21T10:00:00+08:00.
const START_US: i64 = 1_613_872_800_000_000;

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

/// Ten minutes at 1 Hz going north-east from Shanghai's People's Square,
/// with a hard brake at 300 s; the other vehicle drives elsewhere.
fn log() -> String {
    let mut lines = vec![
        json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"}),
        json!({"kind":"vehicle","vin":OTHER,"timezone":"Asia/Shanghai"}),
    ];
    for i in 0..600i64 {
        lines.push(
            json!({"kind":"sample","vin":VIN,"t":t(START_US + i * 1_000_000),
            "speed_kmh":40.0,"lat":31.2300 + i as f64 * 0.0001,"lon":121.4700 + i as f64 * 0.0001}),
        );
        lines.push(
            json!({"kind":"sample","vin":OTHER,"t":t(START_US + i * 1_000_000),
            "speed_kmh":40.0,"lat":39.9,"lon":116.4}),
        );
    }
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"brake-1","t":t(START_US + 300_000_000),
        "type":"hard_brake","severity":"warning"}),
    );
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"fcw-1","t":t(START_US + 200_000_000),
        "type":"fcw_warning","severity":"warning"}),
    );
    ndjson(&lines)
}

async fn set_location(c: &reqwest::Client, app: &TestApp, show: Value) -> u16 {
    c.put(app.url("/api/v1/me/location"))
        .json(&json!({ "show": show }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_route_is_shown_only_after_the_account_turns_location_on() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "route@example.com").await;
    let range = format!(
        "/api/v1/vehicles/{VIN}/route?from={}&to={}",
        t(START_US),
        t(START_US + 600_000_000)
    );

    // Off by default: the reply says so and carries no position.
    let (_, me) = get(&owner, &app, "/api/v1/me").await;
    assert_eq!(me["show_location"], false, "{me}");
    let (status, hidden) = get(&owner, &app, &range).await;
    assert_eq!(status, 200, "{hidden}");
    assert_eq!(hidden["shown"], false);
    assert_eq!(hidden["points"], json!([]));
    assert_eq!(hidden["events"], json!([]));

    assert_eq!(set_location(&owner, &app, json!(true)).await, 204);
    let (_, me) = get(&owner, &app, "/api/v1/me").await;
    assert_eq!(me["show_location"], true);
    let (status, route) = get(&owner, &app, &range).await;
    assert_eq!(status, 200, "{route}");
    assert_eq!(route["shown"], true);
    let points = route["points"].as_array().unwrap();
    assert_eq!(points.len(), 600, "ten minutes fit 2,000 spans whole");
    assert_eq!(points[0]["lat"], 31.23);
    assert_eq!(points[0]["t_us"], START_US);
    assert!((points[599]["lon"].as_f64().unwrap() - 121.5299).abs() < 1e-9);
    // The brake event is placed where the car was then; a warning is not drawn.
    let events = route["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["id"], "brake-1");
    assert_eq!(events[0]["group"], "brake");
    assert!((events[0]["lat"].as_f64().unwrap() - 31.26).abs() < 1e-9);

    // A long range is averaged into at most 2,000 spans; longer than 31 days is refused.
    let (_, day) = get(
        &owner,
        &app,
        &format!(
            "/api/v1/vehicles/{VIN}/route?from={}&to={}",
            t(START_US - 43_200_000_000),
            t(START_US + 43_200_000_000)
        ),
    )
    .await;
    let n = day["points"].as_array().unwrap().len();
    assert!(
        (10..=25).contains(&n),
        "a day in 2,000 spans of 43.2 s: {n}"
    );
    let (status, e) = get(
        &owner,
        &app,
        &format!(
            "/api/v1/vehicles/{VIN}/route?from={}&to={}",
            t(START_US),
            t(START_US + 32 * 86_400_000_000)
        ),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    let (status, e) = get(&owner, &app, &format!("/api/v1/vehicles/{VIN}/route")).await;
    assert_eq!(status, 422, "both ends are needed: {e}");
    assert_eq!(e["error"]["details"][0]["field"], "from");

    // Turned off again, it is gone at once; a wrong body changes nothing.
    assert_eq!(set_location(&owner, &app, json!("yes")).await, 422);
    let (_, still) = get(&owner, &app, &range).await;
    assert_eq!(still["shown"], true);
    assert_eq!(set_location(&owner, &app, json!(false)).await, 204);
    let (_, off) = get(&owner, &app, &range).await;
    assert_eq!(off["shown"], false);

    // The choice is the account's own: another owner's is still off, and
    // they may not see this car's route at all.
    let other = new_owner(&app, OTHER, None, "other@example.com").await;
    let (status, _) = get(&other, &app, &range).await;
    assert_eq!(status, 404);
    let (_, theirs) = get(
        &other,
        &app,
        &format!(
            "/api/v1/vehicles/{OTHER}/route?from={}&to={}",
            t(START_US),
            t(START_US + 600_000_000)
        ),
    )
    .await;
    assert_eq!(theirs["shown"], false);
    let anonymous = TestApp::new_client();
    let (status, _) = get(&anonymous, &app, &range).await;
    assert_eq!(status, 401);
    assert_eq!(set_location(&anonymous, &app, json!(true)).await, 401);
}
