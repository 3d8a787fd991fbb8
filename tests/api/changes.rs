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
    let expires = date_in_days(30);
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
    let path = format!("/api/v1/vehicles/{VIN}/changes");
    let (status, _) = get_json_as_recipient(&app, &fixed, &path).await;
    assert_eq!(status, 404, "a fixed window is no continuous access");
    let (status, page) = get_json_as_recipient(&app, &continuous, &path).await;
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
    let (status, page) = get_json_as_recipient(&app, &continuous, &path).await;
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

/// Reads server-sent events from `res` until one named `name` arrives:
/// its data. Fails after a generous bound.
async fn next_event(res: &mut reqwest::Response, buffer: &mut String, name: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let field = |key: &str| {
                message
                    .lines()
                    .filter_map(|l| l.strip_prefix(key))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            if field("event: ") == name {
                return field("data: ");
            }
        }
        assert!(std::time::Instant::now() < deadline, "no `{name}` event");
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), res.chunk())
            .await
            .expect("the stream stalled")
            .expect("the stream failed")
            .expect("the stream ended");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// Another vehicle's sample imported every 100 ms, until aborted: a busy
/// server, where every import wakes every live stream.
async fn other_vehicles_importing(
    store: std::sync::Arc<dyn portal_core::server::store::Store>,
    from_us: i64,
) {
    let other = portal_core::server::demo::demo_vin(5);
    for i in 0.. {
        let lines = [
            json!({"kind":"vehicle","vin":other.as_str(),"timezone":"Asia/Shanghai"}),
            json!({"kind":"sample","vin":other.as_str(),"t":t(from_us + i * 1_000_000),"speed_kmh":1.0}),
        ];
        portal_core::server::import::import_reader(
            &*store,
            "other.ndjson",
            std::io::Cursor::new(ndjson(&lines).into_bytes()),
            &Default::default(),
            None,
        )
        .await
        .expect("import");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_live_stream_sends_what_is_stored_and_ends_when_the_grant_does() {
    let app = TestApp::spawn().await;
    import_log(&app, file(vec![sample(T0, 10.0)])).await;
    let owner = new_owner(&app, VIN, None, "o@example.com").await;
    let expires = date_in_days(30);
    let (_, issued) = post_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{VIN}/grants"),
        json!({"recipient":"family","kind":"family","purpose":"where is the car",
            "classes":["telemetry"],"continuous":true,"expires":expires}),
    )
    .await;
    let token = issued["token"].as_str().unwrap();

    let url = app.url(&format!("/api/v1/vehicles/{VIN}/live"));
    let mut mine = owner.get(&url).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert!(mine.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut theirs = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 200);
    let (mut mine_buf, mut theirs_buf) = (String::new(), String::new());

    let now = chrono::Utc::now().timestamp_micros();
    import_log(&app, file(vec![sample(now, 42.0)])).await;
    for (res, buffer) in [(&mut mine, &mut mine_buf), (&mut theirs, &mut theirs_buf)] {
        let data = next_event(res, buffer, "changes").await;
        let items: Vec<Value> = serde_json::from_str(&data).unwrap();
        assert_eq!(keys(&items), [format!("s {}", t(now))], "only what is new");
        assert_eq!(items[0]["speed_kmh"], 42.0);
    }

    // Revoked: the recipient's stream ends within seconds, with nothing new
    // stored for this vehicle, even while other vehicles' imports keep
    // waking every stream of the server; the owner's goes on.
    let res = owner
        .delete(app.url(&format!("/api/v1/vehicles/{VIN}/grants/{}", issued["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let revoked = std::time::Instant::now();
    let busy = tokio::spawn(other_vehicles_importing(app.store.clone(), now));
    let end = next_event(&mut theirs, &mut theirs_buf, "end").await;
    busy.abort();
    assert_eq!(
        serde_json::from_str::<Value>(&end).unwrap(),
        json!([{"kind": "end", "error": "not_found"}])
    );
    assert!(
        revoked.elapsed() < std::time::Duration::from_secs(10),
        "ended {:?} after the revocation",
        revoked.elapsed()
    );
    import_log(&app, file(vec![sample(now + 1_000_000, 43.0)])).await;
    let data = next_event(&mut mine, &mut mine_buf, "changes").await;
    let items: Vec<Value> = serde_json::from_str(&data).unwrap();
    assert_eq!(items[0]["speed_kmh"], 43.0);

    // Nobody else gets a stream.
    let res = TestApp::new_client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "a revoked grant opens no stream");
}

#[tokio::test]
async fn the_live_page_shows_the_newest_samples_without_javascript() {
    let app = TestApp::spawn().await;
    import_log(
        &app,
        file(vec![sample(T0, 10.0), sample(T0 + 1_000_000, 11.0)]),
    )
    .await;
    let owner = new_owner(&app, VIN, None, "o@example.com").await;
    // A later file may carry samples alone: the vehicle is known.
    import_log(
        &app,
        ndjson(&[json!({"kind":"sample","vin":VIN,"t":t(T0 + 2_000_000),"speed_kmh":12.5})]),
    )
    .await;
    let html = page_in(&owner, &app, &format!("/vehicles/{VIN}/live"), "en").await;
    assert!(html.contains("data-testid=\"live-samples\""), "{html}");
    let newest = html.find("12.5").expect("the newest sample is shown");
    let older = html
        .find(">10<")
        .or_else(|| html.find("10.0"))
        .expect("older ones too");
    assert!(newest < older, "newest first");
    assert!(html.contains("data-testid=\"live-static\"") && html.contains("Reload for newer ones"));
    let zh = page_in(&owner, &app, &format!("/vehicles/{VIN}/live"), "zh-CN").await;
    assert!(zh.contains("重新加载以查看更新的数据"));
}
