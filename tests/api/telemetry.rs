//! `GET /api/v1/vehicles/{vin}/samples`: keyset pages, filters, the gate.

use crate::helpers::*;
use serde_json::Value;

const VIN: &str = "LRW3E7EK9NC000017";
const OTHER: &str = "1M8GDM9AXKP042788";

async fn page(client: &reqwest::Client, app: &TestApp, query: &str) -> (u16, Value) {
    let res = client
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/samples?{query}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn owner(app: &TestApp) -> reqwest::Client {
    let code = claim_code(app, VIN, None).await;
    let client = TestApp::new_client();
    sign_up_and_in(app, &client, "o@example.com", VIN, &code).await;
    client
}

#[tokio::test]
async fn pages_walk_every_sample_once_and_stay_stable_across_an_import() {
    let app = TestApp::spawn().await;
    let even: Vec<u32> = (0..100).map(|i| i * 2).collect();
    import_vehicle(&app, VIN, &even).await;
    let c = owner(&app).await;

    let (status, first) = page(&c, &app, "limit=30").await;
    assert_eq!(status, 200, "{first}");
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    assert_eq!(items[0]["t"], "2021-02-21T02:15:00Z");
    assert_eq!(
        items[0]["t_local"], "2021-02-21T10:15:00+08:00",
        "vehicle zone, offset spelled out"
    );
    assert_eq!(items[0]["speed_kmh"], 0.0);
    assert!(
        items[0].get("accel_pedal_pct").is_none(),
        "absent channels stay absent"
    );

    // New data lands before and after the cursor while the reader pages on.
    let odd: Vec<u32> = (0..100).map(|i| i * 2 + 1).collect();
    import_vehicle(&app, VIN, &odd).await;

    let mut seen: Vec<String> = items
        .iter()
        .map(|i| i["t"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    loop {
        let (_, next) = page(&c, &app, &format!("limit=30&cursor={cursor}")).await;
        seen.extend(
            next["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["t"].as_str().unwrap().to_string()),
        );
        match next["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no row twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order");
    // Page one ended at +58 s. After it come the even samples 60..=198 (70)
    // and the newly imported odd ones 59..=199 (71); the odd ones before the
    // cursor belong to pages already read.
    assert_eq!(first["items"][29]["t"], "2021-02-21T02:15:58Z");
    assert_eq!(seen.len(), 30 + 70 + 71);
}

#[tokio::test]
async fn filters_order_fields_and_exact_counts() {
    let app = TestApp::spawn().await;
    let secs: Vec<u32> = (0..120).collect(); // speed equals the second, 0..119
    import_vehicle(&app, VIN, &secs).await;
    let c = owner(&app).await;

    let (_, fast) = page(&c, &app, "min_speed_kmh=100&limit=1000").await;
    assert_eq!(fast["items"].as_array().unwrap().len(), 20, "100..=119");
    assert!(fast["next_cursor"].is_null());

    let (_, window) = page(
        &c,
        &app,
        "from=2021-02-21T10:15:10%2B08:00&to=2021-02-21T02:15:20Z&limit=1000",
    )
    .await;
    assert_eq!(
        window["items"].as_array().unwrap().len(),
        10,
        "half-open range, any offset"
    );

    let (_, desc) = page(&c, &app, "order=desc&limit=3&fields=speed_kmh").await;
    let speeds: Vec<f64> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["speed_kmh"].as_f64().unwrap())
        .collect();
    assert_eq!(speeds, [119.0, 118.0, 117.0]);
    assert!(
        desc["items"][0].get("gear").is_none(),
        "only the chosen channels"
    );
    let (_, next) = page(
        &c,
        &app,
        &format!(
            "order=desc&limit=3&cursor={}",
            desc["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(next["items"][0]["speed_kmh"], 116.0);

    let (_, slow) = page(&c, &app, "max_speed_kmh=4&limit=1000").await;
    assert_eq!(slow["items"].as_array().unwrap().len(), 5, "0..=4");
    // These samples record no gear: a gear filter matches none of them (absent is not a value).
    let (_, none) = page(&c, &app, "gear=D").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    assert!(none["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_queries_are_clear_4xx() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN, &[0]).await;
    let c = owner(&app).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("order=sideways", "order"),
        ("gear=X", "gear"),
        ("aeb_state=on", "aeb_state"),
        ("from=yesterday", "from"),
        ("cursor=abc", "cursor"),
        ("fields=speed_kmh,colour", "fields"),
        ("from=2021-02-21T11:00:00Z&to=2021-02-21T10:00:00Z", "to"),
    ] {
        let (status, body) = page(&c, &app, query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], field, "{query}");
    }
    let (status, body) = page(&c, &app, "min_speed_kmh=fast").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query");
}

#[tokio::test]
async fn samples_pass_the_gate() {
    let app = TestApp::spawn().await;
    let secs: Vec<u32> = (0..20).collect();
    import_vehicle(&app, VIN, &secs).await;
    import_vehicle(&app, OTHER, &[0]).await;
    let first = owner(&app).await;
    // Sold at +10 s: the next owner sees only from there.
    let portal = portal_core::server::Portal::new(app.store.clone());
    let sale =
        portal_core::domain::time::parse_rfc3339_micros("2021-02-21T10:15:10+08:00").unwrap();
    portal
        .transfer(&portal_core::domain::Vin::parse(VIN).unwrap(), sale)
        .await
        .unwrap();
    let code = claim_code(&app, VIN, None).await;
    let second = TestApp::new_client();
    sign_up_and_in(&app, &second, "second@example.com", VIN, &code).await;

    let (_, mine) = page(&first, &app, "limit=1000").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 10);
    let (_, theirs) = page(&second, &app, "limit=1000").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 10);
    assert_eq!(theirs["items"][0]["t_local"], "2021-02-21T10:15:10+08:00");
    // A range wholly outside one's own period: not found, nothing leaks.
    let (status, _) = page(&second, &app, "to=2021-02-21T10:15:05%2B08:00").await;
    assert_eq!(status, 404);

    let stranger = TestApp::new_client();
    let res = stranger
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/samples")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = first
        .get(app.url(&format!("/api/v1/vehicles/{OTHER}/samples")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
