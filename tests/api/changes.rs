//! The changes feed: every record stored since a cursor, in import order
//! (late-arriving data included), resumable, for the owner and for
//! recipients of a continuous grant.

use crate::helpers::*;
use serde_json::{json, Value};

const VIN: &str = "LRW3E7EK9NC000017";
/// 2021-02-21T10:00:00+08:00.
const T0: i64 = 1_613_872_800_000_000;

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

fn sample(at: i64, speed: f64) -> Value {
    json!({"kind":"sample","vin":VIN,"t":t(at),"speed_kmh":speed})
}

fn file(records: Vec<Value>) -> String {
    let mut lines = vec![json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"})];
    lines.extend(records);
    ndjson(&lines)
}

/// Follows the feed from `cursor` to its end, `limit` items a page: every
/// item, and the cursor to come back with.
async fn follow(
    client: &reqwest::Client,
    app: &TestApp,
    cursor: &str,
    limit: u32,
) -> (Vec<Value>, String) {
    let (mut items, mut cursor) = (Vec::new(), cursor.to_string());
    for _ in 0..100 {
        let (status, page) = get_json(
            client,
            app,
            &format!("/api/v1/vehicles/{VIN}/changes?limit={limit}&cursor={cursor}"),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit as usize + 1, "{page}");
        items.extend(got.iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["more"] == false {
            return (items, cursor);
        }
    }
    panic!("the feed did not end");
}

fn keys(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i["kind"].as_str().unwrap() {
            "sample" => format!("s {}", i["t"].as_str().unwrap()),
            "event" => format!("e {}", i["id"].as_str().unwrap()),
            other => format!("{other} {}", i["event_id"].as_str().unwrap()),
        })
        .collect()
}

#[tokio::test]
async fn the_feed_hands_out_what_was_stored_in_import_order_and_resumes_anywhere() {
    let app = TestApp::spawn().await;
    let first: Vec<Value> = (0..10)
        .map(|i| sample(T0 + i * 1_000_000, i as f64))
        .chain([
            json!({"kind":"event","vin":VIN,"id":"b1","t":t(T0 + 3_000_000),"type":"hard_brake","severity":"warning"}),
            json!({"kind":"event","vin":VIN,"id":"b2","t":t(T0 + 5_000_000),"type":"hard_brake","severity":"warning"}),
            json!({"kind":"event","vin":VIN,"id":"c1","t":t(T0 + 8_000_000),"type":"collision","severity":"critical"}),
            json!({"kind":"edr","vin":VIN,"event_id":"c1","t0":t(T0 + 8_000_000),"locked":true,"complete":true,
                "pre_crash":{"rate_hz":2.0,"samples":[{"t_ms":-500,"speed_kmh":40.0}]},
                "delta_v":{"rate_hz":100.0,"samples":[{"t_ms":0,"long_kmh":0.0}]}}),
        ])
        .collect();
    import_log(&app, file(first)).await;
    let owner = new_owner(&app, VIN, Some(T0 - 3_600_000_000), "o@example.com").await;

    // Any page size gives the same records, once each: samples by time, then
    // events with their crash records.
    let (all, end) = follow(&owner, &app, "", 1000).await;
    let expected: Vec<String> = (0..10)
        .map(|i| format!("s {}", t(T0 + i * 1_000_000)))
        .chain(["e b1", "e b2", "e c1", "edr c1"].map(String::from))
        .collect();
    assert_eq!(keys(&all), expected);
    assert!(all.iter().all(|i| i["import"] == all[0]["import"]));
    for limit in [1, 3, 10, 11, 12] {
        let (paged, paged_end) = follow(&owner, &app, "", limit).await;
        assert_eq!(keys(&paged), expected, "limit {limit}");
        assert_eq!(paged_end, end);
    }
    let (nothing, same) = follow(&owner, &app, &end, 100).await;
    assert!(nothing.is_empty());
    assert_eq!(same, end, "nothing new: the cursor stays");

    // Data recorded earlier but stored later comes after the cursor.
    let late: Vec<Value> = (0..5)
        .map(|i| sample(T0 - 600_000_000 + i * 1_000_000, 50.0))
        .collect();
    import_log(&app, file(late)).await;
    let (new, end2) = follow(&owner, &app, &end, 2).await;
    assert_eq!(
        keys(&new),
        (0..5)
            .map(|i| format!("s {}", t(T0 - 600_000_000 + i * 1_000_000)))
            .collect::<Vec<_>>()
    );
    assert_ne!(new[0]["import"], all[0]["import"]);
    assert_ne!(end2, end);

    // Unusable cursors are a 422 naming it; others' vehicles a 404.
    for bad in ["x", "3:q:1", "3:s:abc"] {
        let (status, body) = get_json(
            &owner,
            &app,
            &format!("/api/v1/vehicles/{VIN}/changes?cursor={bad}"),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "cursor");
    }
    let (status, _) = get_json(
        &TestApp::new_client(),
        &app,
        &format!("/api/v1/vehicles/{VIN}/changes"),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn recipients_follow_the_feed_only_with_a_continuous_grant_and_its_scope() {
    let app = TestApp::spawn().await;
    import_log(&app, file(vec![sample(T0, 10.0)])).await;
    let owner = new_owner(&app, VIN, None, "o@example.com").await;
    let expires = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let grant = |body: Value| {
        let owner = owner.clone();
        let app = &app;
        async move {
            let (status, issued) =
                post_json(&owner, app, &format!("/api/v1/vehicles/{VIN}/grants"), body).await;
            assert_eq!(status, 201, "{issued}");
            issued["token"].as_str().unwrap().to_string()
        }
    };
    let fixed = grant(json!({"recipient":"garage","kind":"repairer","purpose":"service",
        "classes":["telemetry","events"],"from":t(T0 - 1),"to":t(T0 + 3_600_000_000),"expires":expires}))
    .await;
    let continuous = grant(
        json!({"recipient":"insurer","kind":"insurer","purpose":"pay-as-you-drive",
        "classes":["events"],"continuous":true,"expires":expires}),
    )
    .await;
    let feed = |token: String| {
        let url = app.url(&format!("/api/v1/vehicles/{VIN}/changes"));
        async move {
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, _) = feed(fixed.clone()).await;
    assert_eq!(status, 404, "a fixed window is no continuous access");
    let (status, page) = feed(continuous.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"], json!([]), "nothing recorded since the grant");

    // What is recorded after the grant arrives: only the classes granted.
    let now = chrono::Utc::now().timestamp_micros();
    import_log(
        &app,
        file(vec![
            sample(now, 33.0),
            json!({"kind":"event","vin":VIN,"id":"late-brake","t":t(now),"type":"hard_brake","severity":"warning"}),
        ]),
    )
    .await;
    let (status, page) = feed(continuous.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(page["items"].as_array().unwrap()), ["e late-brake"]);

    // Staff have no feed, even inside a case; the owner sees the recipient's reads.
    let (staff, _) = new_staff(&app, "agent@example.com", "support").await;
    let (status, _) = get_json(&staff, &app, &format!("/api/v1/vehicles/{VIN}/changes")).await;
    assert_eq!(status, 404);
    let (_, log) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    let readings: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reading"] == "changes")
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["recipient"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        readings.contains(&("grant_read", "insurer")),
        "{readings:?}"
    );
    assert!(
        readings.contains(&("grant_refused", "garage")),
        "{readings:?}"
    );
}
