//! `GET /api/v1/vehicles/{vin}/export`: CSV and NDJSON, redaction, round trip,
//! the gate, and the disclosure record.

use crate::browse::{fixture, VIN};
use crate::helpers::*;
use serde_json::Value;

/// An export as `c` gets it: status, content type and body.
pub(crate) async fn export(
    c: &reqwest::Client,
    app: &TestApp,
    vin: &str,
    query: &str,
) -> (u16, String, String) {
    let res = c
        .get(app.url(&format!("/api/v1/vehicles/{vin}/export?{query}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

#[tokio::test]
async fn ndjson_round_trips_into_an_empty_portal_byte_for_byte() {
    let (app, c) = fixture().await;
    let (status, content_type, first) = export(&c, &app, VIN, "format=ndjson&location=full").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(content_type, "application/x-ndjson");
    let lines: Vec<Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| lines.iter().filter(|l| l["kind"] == kind).count();
    assert_eq!(
        (
            count("vehicle"),
            count("sample"),
            count("event"),
            count("edr")
        ),
        (1, 930, 3, 1)
    );
    assert_eq!(
        lines[1]["t"], "2021-02-21T10:02:30+08:00",
        "vehicle time, offset spelled out"
    );

    let empty = TestApp::spawn().await;
    import_log(&empty, first.clone()).await;
    let c2 = new_owner(&empty, VIN, None, "o@example.com").await;
    let (_, _, second) = export(&c2, &empty, VIN, "format=ndjson&location=full").await;
    assert_eq!(second, first);
}

#[tokio::test]
async fn csv_has_units_both_times_and_filters() {
    let (app, c) = fixture().await;
    let (status, content_type, text) = export(
        &c,
        &app,
        VIN,
        "format=csv&min_speed_kmh=100&fields=speed_kmh,brake_pressure_bar",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("t_local,t_utc,speed_kmh (km/h),brake_pressure_bar (bar)")
    );
    let data: Vec<&str> = rows.collect();
    // i % 120 >= 100 for 20 of every 120 seconds of drive 1 inside the period.
    assert!(!data.is_empty());
    for row in &data {
        let cells: Vec<&str> = row.split(',').collect();
        assert!(
            cells[0].ends_with("+08:00") && cells[1].ends_with('Z'),
            "{row}"
        );
        assert!(cells[2].parse::<f64>().unwrap() >= 100.0, "{row}");
    }
    let (_, _, empty) = export(&c, &app, VIN, "format=csv&min_speed_kmh=500").await;
    assert_eq!(
        empty.lines().count(),
        1,
        "a filter matching nothing still has its header"
    );
}

#[tokio::test]
async fn location_is_left_out_unless_asked_and_coarse_rounds_it() {
    let app = TestApp::spawn().await;
    const CAR: &str = "1M8GDM9AXKP042788";
    let log = format!(
        "{{\"kind\":\"vehicle\",\"vin\":\"{CAR}\",\"timezone\":\"Asia/Shanghai\"}}\n\
         {{\"kind\":\"sample\",\"vin\":\"{CAR}\",\"t\":\"2021-02-21T10:15:00+08:00\",\"speed_kmh\":30,\"lat\":31.230416,\"lon\":121.473701,\"heading_deg\":90}}"
    );
    import_log(&app, log).await;
    let c = new_owner(&app, CAR, None, "o@example.com").await;

    let (_, _, none) = export(&c, &app, CAR, "format=csv").await;
    let header: Vec<&str> = none.lines().next().unwrap().split(',').collect();
    assert!(
        !header.contains(&"lat (°)") && !header.contains(&"lon (°)"),
        "{none}"
    );
    // The heading is of the location class too: `none` leaves it out.
    assert!(
        !header.contains(&"heading_deg (°)") && !none.contains("31.23"),
        "{none}"
    );
    let (_, _, coarse) = export(&c, &app, CAR, "format=csv&location=coarse").await;
    assert!(
        coarse.lines().nth(1).unwrap().contains(",31.23,121.47,"),
        "{coarse}"
    );
    assert!(
        coarse.lines().next().unwrap().contains("heading_deg (°)"),
        "coarse keeps the heading: {coarse}"
    );
    let (_, _, full) = export(&c, &app, CAR, "format=csv&location=full").await;
    assert!(
        full.contains("31.230416") && full.contains("121.473701"),
        "{full}"
    );
    let (_, _, ndjson) = export(&c, &app, CAR, "format=ndjson").await;
    assert!(
        !ndjson.contains("\"lat\"") && !ndjson.contains("\"heading_deg\""),
        "{ndjson}"
    );
}

#[tokio::test]
async fn exports_pass_the_gate_refuse_bad_requests_and_are_recorded() {
    let (app, owner) = fixture().await;
    let stranger = TestApp::new_client();
    assert_eq!(export(&stranger, &app, VIN, "format=csv").await.0, 401);
    import_vehicle(&app, "1M8GDM9AXKP042788", &[0]).await;
    let stranger = new_owner(&app, "1M8GDM9AXKP042788", None, "other@example.com").await;
    assert_eq!(export(&stranger, &app, VIN, "format=csv").await.0, 404);

    for bad in [
        "",
        "format=xlsx",
        "format=csv&location=exact",
        "format=csv&fields=rpm",
        "format=csv&from=yesterday",
    ] {
        let (status, _, body) = export(&owner, &app, VIN, bad).await;
        assert!((400..500).contains(&status), "{bad}: {status} {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_query", "{bad}");
    }

    let before = app.store.audit_entries(0, 1000).await.unwrap().len();
    assert_eq!(
        export(&owner, &app, VIN, "format=csv&location=coarse")
            .await
            .0,
        200
    );
    let entries = app.store.audit_entries(0, 1000).await.unwrap();
    assert_eq!(entries.len(), before + 1);
    let last = entries.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.vin.as_deref()),
        ("export", Some(VIN))
    );
    let details: Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(
        (details["format"].as_str(), details["location"].as_str()),
        (Some("csv"), Some("coarse"))
    );
}

#[tokio::test]
async fn the_owner_sees_every_export_newest_first() {
    let (app, c) = fixture().await;
    for query in [
        "format=csv",
        "format=ndjson&location=full",
        "format=bundle&location=coarse",
    ] {
        assert_eq!(export(&c, &app, VIN, query).await.0, 200, "{query}");
    }
    let log: Value = c
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/access-log")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    let formats: Vec<&str> = items
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["bundle", "ndjson", "csv"]);
    assert_eq!(items[0]["by"], "you");
    assert_eq!(items[0]["location"], "coarse");
    assert_eq!(items[0]["manifest_sha256"].as_str().unwrap().len(), 64);
    assert!(
        items[2]["manifest_sha256"].is_null(),
        "a CSV has no manifest"
    );
    assert!(items[0]["at"]["t_local"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));

    let (status, page): (u16, Value) = {
        let res = c
            .get(app.url(&format!("/api/v1/vehicles/{VIN}/access-log?limit=2")))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    };
    assert_eq!(status, 200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = c
        .get(app.url(&format!(
            "/api/v1/vehicles/{VIN}/access-log?limit=2&cursor={cursor}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["format"], "csv");

    let stranger = TestApp::new_client();
    let status = stranger
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/access-log")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_client_that_stops_reading_holds_back_nobody() {
    // Enough rows that the export outgrows every buffer between the store
    // and a client that reads nothing.
    const BIG: &str = "1M8GDM9AXKP042788";
    let app = TestApp::spawn().await;
    let mut log =
        format!("{{\"kind\":\"vehicle\",\"vin\":\"{BIG}\",\"timezone\":\"Asia/Shanghai\"}}");
    let start = 1_613_872_800i64;
    for i in 0..150_000i64 {
        log.push_str(&format!(
            "\n{{\"kind\":\"sample\",\"vin\":\"{BIG}\",\"t\":\"{}\",\"speed_kmh\":{},\"brake_pressure_bar\":0.5,\"steering_angle_deg\":-1.25}}",
            portal_core::domain::time::format_utc((start + i) * 1_000_000),
            i % 130
        ));
    }
    import_log(&app, log).await;
    let c = new_owner(&app, BIG, None, "o@example.com").await;

    let stalled = c
        .get(app.url(&format!("/api/v1/vehicles/{BIG}/export?format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stalled.status(),
        200,
        "headers arrive; the body is never read"
    );
    for _ in 0..20 {
        let res = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            c.get(app.url(&format!("/api/v1/vehicles/{BIG}/samples?limit=10")))
                .send(),
        )
        .await
        .expect("answered while the export waits")
        .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Imports still write while the export is paused between pages.
    import_vehicle(&app, "LRW3E7EK9NC000017", &[0, 1]).await;
    // Reading on, the client gets every row.
    let text = stalled.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 150_000);
}

async fn job_status(c: &reqwest::Client, app: &TestApp, id: &str) -> (u16, Value) {
    let res = c
        .get(app.url(&format!("/api/v1/exports/{id}")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn job_file(c: &reqwest::Client, app: &TestApp, id: &str) -> reqwest::Response {
    c.get(app.url(&format!("/api/v1/exports/{id}/file")))
        .send()
        .await
        .unwrap()
}

/// Polls the job until it is no longer running (10 s at most).
async fn job_settled(c: &reqwest::Client, app: &TestApp, mut status: Value) -> Value {
    let id = status["id"].as_str().unwrap().to_string();
    for _ in 0..400 {
        if status["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        status = job_status(c, app, &id).await.1;
    }
    status
}

#[tokio::test]
async fn a_background_export_reports_progress_then_downloads_with_its_length() {
    let (app, c) = fixture().await;
    let query = serde_json::json!({"format": "csv", "location": "full", "min_speed_kmh": 10.0});
    let res = c
        .post(app.url(&format!("/api/v1/vehicles/{VIN}/exports")))
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let location = res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let started: Value = res.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/exports/{id}"));
    assert!(started["rows_expected"].as_u64().unwrap() > 0);

    let status = job_settled(&c, &app, started).await;
    assert_eq!(status["state"], "ready", "{status}");
    assert_eq!(status["rows_written"], status["rows_expected"], "{status}");

    let file = job_file(&c, &app, &id).await;
    assert_eq!(file.status(), 200);
    let length: u64 = file.headers()[reqwest::header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = file.text().await.unwrap();
    assert_eq!(length, body.len() as u64);
    assert_eq!(Some(length), status["size"].as_u64());
    // The same bytes as the streamed export of the same query.
    let (_, _, streamed) = export(&c, &app, VIN, "format=csv&location=full&min_speed_kmh=10").await;
    assert_eq!(body, streamed);
    assert_eq!(
        body.lines().count() as u64 - 1,
        status["rows_written"].as_u64().unwrap()
    );

    // Nobody else sees the job, signed in or not.
    import_vehicle(&app, "1M8GDM9AXKP042788", &[0]).await;
    let other = new_owner(&app, "1M8GDM9AXKP042788", None, "other@example.com").await;
    assert_eq!(job_status(&other, &app, &id).await.0, 404);
    let stolen = job_file(&other, &app, &id).await;
    assert_eq!(stolen.status(), 404);
    assert_eq!(job_status(&TestApp::new_client(), &app, &id).await.0, 401);
}

#[tokio::test]
async fn a_background_export_from_a_form_goes_to_its_progress_page() {
    let (app, c) = fixture().await;
    let res = c
        .post(app.url(&format!("/api/v1/vehicles/{VIN}/exports")))
        .form(&[
            ("format", "bundle"),
            ("location", "none"),
            ("from", ""),
            ("to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let id = page.rsplit('/').next().unwrap().to_string();
    assert_eq!(page, format!("/vehicles/{VIN}/exports/{id}"));
    let html = c
        .get(app.url(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("export-job-state"), "{html}");

    // Bad requests change nothing and say what is wrong.
    let bad = c
        .post(app.url(&format!("/api/v1/vehicles/{VIN}/exports")))
        .json(&serde_json::json!({"format": "xlsx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_query");
    let unknown = c
        .post(app.url("/api/v1/vehicles/1M8GDM9AXKP042788/exports"))
        .json(&serde_json::json!({"format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_background_export_started_on_one_server_is_followed_and_downloaded_on_another() {
    let (a, c) = fixture().await;
    let b = a.another_server().await;
    let res = c
        .post(a.url(&format!("/api/v1/vehicles/{VIN}/exports")))
        .json(&serde_json::json!({"format": "bundle", "location": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let started: Value = res.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_string();

    // Server B reports the job A runs, and hands out its file.
    let status = job_settled(&c, &b, started).await;
    assert_eq!(status["state"], "ready", "{status}");
    let file = job_file(&c, &b, &id).await;
    assert_eq!(file.status(), 200);
    assert_eq!(
        file.headers()[reqwest::header::CONTENT_TYPE],
        "application/zip"
    );
    let disposition = file.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains(&format!("{VIN}-")), "{disposition}");
    let bundle = file.bytes().await.unwrap();
    assert_eq!(Some(bundle.len() as u64), status["size"].as_u64());

    // What B handed out is the signed bundle A wrote: it verifies, whole.
    let verdict: Value = c
        .post(b.url("/api/v1/verify"))
        .body(bundle.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["vin"], VIN);
}

#[tokio::test]
async fn a_background_export_whose_server_stopped_reads_as_failed() {
    use portal_core::server::store::NewExportJob;
    let (app, c) = fixture().await;
    let owner = app
        .store
        .account_by_name("o@example.com")
        .await
        .unwrap()
        .expect("the owner");
    // A job whose server last showed life a minute ago, and stopped.
    let minute_ago = chrono::Utc::now().timestamp_micros() - 60_000_000;
    let job = NewExportJob {
        id: "0123456789abcdef0123456789abcdef".into(),
        account: owner.id,
        vin: VIN.into(),
        format: portal_core::domain::export::ExportFormat::Csv,
        rows_expected: 100,
        bytes_expected: 10_000,
        at_us: minute_ago,
    };
    assert!(app.store.create_export_job(&job, 2, 0).await.unwrap());
    let (code, status) = job_status(&c, &app, &job.id).await;
    assert_eq!(code, 200);
    assert_eq!(status["state"], "failed", "{status}");
    let file = job_file(&c, &app, &job.id).await;
    assert_eq!(file.status(), 409);
    let body: Value = file.json().await.unwrap();
    assert_eq!(body["error"]["code"], "export_failed");
}
