//! Overview, drives, events, event detail with crash record, and charts, on
//! a generated log whose every figure is known.

use crate::helpers::*;
use serde_json::{json, Value};

pub const VIN: &str = "LRW3E7EK9NC000017";
/// 2021-02-21T10:00:00+08:00, start of drive 1.
const DRIVE1_US: i64 = 1_613_872_800_000_000;
/// 2021-02-21T11:00:00+08:00, start of drive 2.
const DRIVE2_US: i64 = DRIVE1_US + 3_600_000_000;
/// The owner's period starts 150 s into drive 1 (mid-minute, on purpose).
pub const PERIOD_US: i64 = DRIVE1_US + 150_000_000;

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

/// Drive 1: 600 s at 1 Hz (speed 200 before the owner's period, then i % 120;
/// odometer +10 m/s), 10 Hz from 290 s to 310 s, a hard brake at 300 s.
/// Drive 2: 300 s at 1 Hz at 50 km/h, an FCW warning at 60 s and a collision
/// at 240 s whose EDR pre-crash speed disagrees with telemetry at −1 s.
pub fn generated_log() -> String {
    let mut lines = vec![json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"})];
    for i in 0..600i64 {
        let speed = if i < 150 { 200 } else { i % 120 };
        lines.push(
            json!({"kind":"sample","vin":VIN,"t":t(DRIVE1_US + i * 1_000_000),
            "speed_kmh":speed,"odometer_km":1000.0 + i as f64 * 0.01,"brake_pressure_bar":0.0}),
        );
        if (290..310).contains(&i) {
            for tenth in 1..10 {
                lines.push(json!({"kind":"sample","vin":VIN,
                    "t":t(DRIVE1_US + i * 1_000_000 + tenth * 100_000),
                    "speed_kmh":speed,"brake_pressure_bar":140.7,"abs_active":true}));
            }
        }
    }
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"ev-brake","t":t(DRIVE1_US + 300_000_000),
        "type":"hard_brake","severity":"warning",
        "trigger":{"metric":"brake_pressure_bar","value":140.7,"threshold":100.0}}),
    );
    for i in 0..300i64 {
        lines.push(
            json!({"kind":"sample","vin":VIN,"t":t(DRIVE2_US + i * 1_000_000),"speed_kmh":50.0}),
        );
    }
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"ev-fcw","t":t(DRIVE2_US + 60_000_000),
        "type":"fcw_warning","severity":"warning"}),
    );
    let crash_us = DRIVE2_US + 240_000_000;
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"ev-crash","t":t(crash_us),
        "type":"collision","severity":"critical"}),
    );
    let pre: Vec<Value> = (0..=10)
        .map(|k| {
            let t_ms = -5000 + k * 500;
            json!({"t_ms":t_ms,"speed_kmh": if t_ms == -1000 { 60.0 } else { 50.0 },"brake_pedal":true})
        })
        .collect();
    lines.push(json!({"kind":"edr","vin":VIN,"event_id":"ev-crash","t0":t(crash_us),
        "standard":"GB 39732-2020","trigger":"delta_v","locked":true,"complete":false,
        "max_delta_v_long_kmh":-28.4,"time_max_delta_v_ms":95.0,"belt_driver":"buckled",
        "airbags":[{"position":"driver_front","deploy_ms":38.0}],
        "pre_crash":{"rate_hz":2.0,"samples":pre},
        "delta_v":{"rate_hz":100.0,"samples":[{"t_ms":0,"long_kmh":0.0},{"t_ms":10,"long_kmh":-5.2}]}}));
    ndjson(&lines)
}

pub async fn fixture() -> (TestApp, reqwest::Client) {
    let app = TestApp::spawn().await;
    import_log(&app, generated_log()).await;
    let c = new_owner(&app, VIN, Some(PERIOD_US), "o@example.com").await;
    (app, c)
}

use crate::helpers::get_json as get;

/// 1 Hz samples the owner sees in drive 1 (150 s … 599 s) plus the 10 Hz extras.
const DRIVE1_VISIBLE: u64 = 450 + 180;

#[tokio::test]
async fn overview_counts_rates_retention_and_holds_within_the_period() {
    let (app, c) = fixture().await;
    let (status, o) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["telemetry"]["count"], DRIVE1_VISIBLE + 300);
    assert_eq!(o["telemetry"]["first"]["t"], t(PERIOD_US));
    assert_eq!(
        o["telemetry"]["first"]["t_local"],
        "2021-02-21T10:02:30+08:00"
    );
    assert_eq!(o["telemetry"]["rates"][0]["hz"], 1.0, "{}", o["telemetry"]);
    assert_eq!(o["telemetry"]["rates"][1]["hz"], 10.0, "{}", o["telemetry"]);
    assert_eq!(o["location"]["count"], 0);
    assert_eq!(o["events"]["count"], 3);
    assert_eq!(o["crash_records"]["count"], 1);
    assert_eq!(o["crash_records"]["held"], 1, "locked: legal hold");
    // ... and the 30 minutes of samples before it: drive 2 from its start (0 s) to the crash (240 s).
    assert_eq!(o["telemetry"]["held"], 241, "{}", o["telemetry"]);
    assert!(o["crash_records"]["retention_days"].as_u64().unwrap() > 0);
    assert_eq!(o["periods"][0]["from"]["t"], t(PERIOD_US));
    assert!(o["periods"][0]["to"].is_null());
}

#[tokio::test]
async fn drives_split_at_gaps_with_distance_speed_and_events() {
    let (app, c) = fixture().await;
    let (status, d) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/drives")).await;
    assert_eq!(status, 200, "{d}");
    let items = d["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{d}");
    assert_eq!(items[0]["start"]["t_local"], "2021-02-21T10:02:30+08:00");
    assert_eq!(items[0]["end"]["t_local"], "2021-02-21T10:09:59+08:00");
    assert_eq!(items[0]["samples"], DRIVE1_VISIBLE);
    assert_eq!(items[0]["duration_s"], 449);
    assert_eq!(items[0]["distance_km"], 4.5, "odometer 1001.50 → 1005.99");
    assert_eq!(
        items[0]["max_speed_kmh"], 119.0,
        "not the 200 before the period"
    );
    assert_eq!(
        (items[0]["events"].clone(), items[0]["brake_events"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(items[1]["samples"], 300);
    assert_eq!(
        items[1]["distance_km"], 4.2,
        "integrated: 50 km/h for 299 s"
    );
    assert_eq!(
        (items[1]["events"].clone(), items[1]["crash_events"].clone()),
        (json!(2), json!(1))
    );
    assert!(d["next_cursor"].is_null());

    // One per page: the cursor leads to the second drive, then the end.
    let (_, p1) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/drives?limit=1")).await;
    assert_eq!(p1["items"][0]["start"], items[0]["start"]);
    let cursor = p1["next_cursor"].as_str().expect("more").to_string();
    let (_, p2) = get(
        &c,
        &app,
        &format!("/api/v1/vehicles/{VIN}/drives?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(p2["items"][0]["start"], items[1]["start"]);
    assert!(p2["next_cursor"].is_null(), "{p2}");
}

#[tokio::test]
async fn events_filter_by_group_type_severity_and_page_by_cursor() {
    let (app, c) = fixture().await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |q: &'static str| {
        let (c, app) = (&c, &app);
        async move { get(c, app, &format!("/api/v1/vehicles/{VIN}/events?{q}")).await }
    };
    let (status, all) = list("").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), ["ev-brake", "ev-fcw", "ev-crash"]);
    assert_eq!(all["items"][0]["trigger"]["metric"], "brake_pressure_bar");
    assert_eq!(all["items"][0]["trigger"]["value"], 140.7);
    assert_eq!(all["items"][0]["group"], "brake");
    assert_eq!(ids(&list("group=brake").await.1), ["ev-brake"]);
    assert_eq!(
        ids(&list("group=crash,warning").await.1),
        ["ev-fcw", "ev-crash"]
    );
    assert_eq!(
        ids(&list("type=collision,hard_brake").await.1),
        ["ev-brake", "ev-crash"]
    );
    assert_eq!(ids(&list("severity=critical").await.1), ["ev-crash"]);
    assert_eq!(
        ids(&list("order=desc&limit=2").await.1),
        ["ev-crash", "ev-fcw"]
    );
    let from = t(DRIVE2_US);
    let (_, later) = get(
        &c,
        &app,
        &format!(
            "/api/v1/vehicles/{VIN}/events?from={}",
            from.replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(ids(&later), ["ev-fcw", "ev-crash"]);

    let (_, p1) = list("limit=2").await;
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    let (_, p2) = get(
        &c,
        &app,
        &format!("/api/v1/vehicles/{VIN}/events?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&p2), ["ev-crash"]);
    assert!(p2["next_cursor"].is_null());

    for bad in [
        "group=trucks",
        "type=skid",
        "severity=loud",
        "cursor=zzz",
        "type=collision&group=brake",
    ] {
        let (status, body) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/events?{bad}")).await;
        assert!((400..500).contains(&status), "{bad}: {status}");
        assert_eq!(body["error"]["code"], "invalid_query", "{bad}: {body}");
    }
}

#[tokio::test]
async fn event_detail_has_the_window_chart_and_table() {
    let (app, c) = fixture().await;
    let (status, e) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/events/ev-brake")).await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["event"]["type"], "hard_brake");
    // ±15 s around 300 s: 31 samples at 1 Hz plus 180 at 10 Hz.
    assert_eq!(e["samples"].as_array().unwrap().len(), 211);
    assert_eq!(e["window_from"]["t"], t(DRIVE1_US + 285_000_000));
    let chart = &e["chart"];
    assert_eq!(chart["marker_us"], DRIVE1_US + 300_000_000);
    assert_eq!(chart["bucket_us"], 0, "a 30 s window is drawn whole");
    let series: Vec<&str> = chart["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["channel"].as_str().unwrap())
        .collect();
    assert_eq!(
        series,
        [
            "speed_kmh",
            "accel_pedal_pct",
            "brake_pedal",
            "brake_pressure_bar",
            "steering_angle_deg",
            "abs_active",
            "aeb_state"
        ]
    );
    let pressure = &chart["series"][3]["points"];
    assert_eq!(pressure.as_array().unwrap().len(), 211);
    assert!(
        chart["series"][1]["points"].as_array().unwrap().is_empty(),
        "not recorded: no line"
    );
    assert!(e["edr"].is_null());
    assert_eq!(
        get(&c, &app, &format!("/api/v1/vehicles/{VIN}/events/ev-none"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn crash_record_has_limitations_and_a_telemetry_cross_check() {
    let (app, c) = fixture().await;
    let (status, e) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/events/ev-crash")).await;
    assert_eq!(status, 200, "{e}");
    let edr = &e["edr"];
    assert_eq!(edr["record"]["standard"], "GB 39732-2020");
    assert_eq!(edr["record"]["max_delta_v_long_kmh"], -28.4);
    assert_eq!(
        edr["record"]["pre_crash"]["samples"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    let codes: Vec<&str> = edr["limitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "pre_crash_rate",
            "delta_v_rate",
            "not_synchronised",
            "incomplete",
            "absent"
        ]
    );
    assert_eq!(edr["limitations"][0]["hz"], 2.0);
    // Whole seconds meet a 1 Hz telemetry sample: −5 s … 0 s.
    assert_eq!(edr["cross_check"]["compared"], 6);
    assert_eq!(
        edr["cross_check"]["disagreements"],
        json!([{"t_ms":-1000,"edr_speed_kmh":60.0,"telemetry_speed_kmh":50.0}])
    );
}

#[tokio::test]
async fn chart_ticks_fall_on_round_times_of_the_readers_zone() {
    let (app, c) = fixture().await;
    let (from, to) = ("2021-02-18T00:00:00Z", "2021-02-25T00:00:00Z");
    let (status, chart) = get(
        &c,
        &app,
        &format!("/api/v1/vehicles/{VIN}/chart?from={from}&to={to}&channels=speed_kmh"),
    )
    .await;
    assert_eq!(status, 200, "{chart}");
    let ticks = chart["ticks"].as_array().unwrap();
    assert!((3..=8).contains(&ticks.len()), "{ticks:?}");
    for tick in ticks {
        let t_us = tick["t_us"].as_i64().unwrap();
        assert!(t_us >= chart["from_us"].as_i64().unwrap());
        assert!(t_us <= chart["to_us"].as_i64().unwrap());
        // Round hours in the vehicle's zone (Asia/Shanghai, UTC+8); a
        // midnight is labelled by its date.
        let local_s = t_us / 1_000_000 + 8 * 3600;
        assert_eq!(local_s % 3600, 0, "{tick}");
        let expected = if local_s % 86_400 == 0 {
            chrono::DateTime::from_timestamp(local_s, 0)
                .unwrap()
                .format("%m-%d")
        } else {
            chrono::DateTime::from_timestamp(local_s, 0)
                .unwrap()
                .format("%H:%M")
        };
        assert_eq!(tick["label"], expected.to_string());
    }

    // The telemetry page draws them with a grid, in the zone the reader picked.
    let range = "from=2021-02-21T10:00:00%2B08:00&to=2021-02-21T10:10:00%2B08:00";
    let page = crate::helpers::page_in(
        &c,
        &app,
        &format!("/vehicles/{VIN}/telemetry?{range}&tz=UTC"),
        "en",
    )
    .await;
    let svg = &page[page.find("<svg").expect("a chart")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.matches("class=\"grid\"").count() >= 4, "{svg}");
    // Minutes of a ten-minute range, labelled in UTC (the vehicle's zone would say 10:04).
    assert!(svg.contains(">02:04<") && svg.contains(">02:06<"), "{svg}");
    assert!(!svg.contains(">10:04<"), "{svg}");
    assert!(!svg.contains(".000"), "{svg}");
}

#[tokio::test]
async fn a_week_chart_is_downsampled_and_never_shows_data_outside_the_period() {
    let (app, c) = fixture().await;
    let from = "2021-02-18T00:00:00Z";
    let to = "2021-02-25T00:00:00Z";
    let (status, chart) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/chart?from={from}&to={to}&channels=speed_kmh,brake_pressure_bar")).await;
    assert_eq!(status, 200, "{chart}");
    // Drawn from the start of the period (the week before it is not the owner's):
    // the span over 1,000 buckets, rounded up to whole minutes.
    let span = portal_core::domain::time::parse_rfc3339_micros(to).unwrap() - PERIOD_US;
    let minutes = (span / 1000 + 59_999_999) / 60_000_000;
    assert_eq!(chart["from_us"], PERIOD_US);
    assert_eq!(chart["bucket_us"], minutes * 60_000_000);
    assert_eq!(chart["samples"], DRIVE1_VISIBLE + 300);
    let speed = chart["series"][0]["points"].as_array().unwrap();
    assert!(speed.len() <= 1000);
    let max = speed
        .iter()
        .map(|p| p["max"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    let min = speed
        .iter()
        .map(|p| p["min"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    assert_eq!(
        (min, max),
        (0.0, 119.0),
        "the minute at 10:02 also holds 200 km/h from before the period"
    );
    let pressure = chart["series"][1]["points"].as_array().unwrap();
    assert!(pressure.iter().any(|p| p["max"] == 140.7));

    let (status, body) = get(
        &c,
        &app,
        &format!("/api/v1/vehicles/{VIN}/chart?channels=rpm"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_query"))
    );
}

#[tokio::test]
async fn every_view_passes_the_gate() {
    let (app, _owner) = fixture().await;
    let stranger = TestApp::new_client();
    let paths = [
        format!("/api/v1/vehicles/{VIN}"),
        format!("/api/v1/vehicles/{VIN}/drives"),
        format!("/api/v1/vehicles/{VIN}/events"),
        format!("/api/v1/vehicles/{VIN}/events/ev-crash"),
        format!("/api/v1/vehicles/{VIN}/chart"),
        format!("/api/v1/vehicles/{VIN}/samples"),
    ];
    for path in &paths {
        assert_eq!(
            get(&stranger, &app, path).await.0,
            401,
            "signed out: {path}"
        );
    }
    // Another owner (of another vehicle) gets exactly what an unknown VIN gets.
    import_vehicle(&app, "1M8GDM9AXKP042788", &[0]).await;
    let stranger = new_owner(&app, "1M8GDM9AXKP042788", None, "other@example.com").await;
    for path in &paths {
        let (status, body) = get(&stranger, &app, path).await;
        assert_eq!(status, 404, "other owner: {path}");
        let unknown = path.replace(VIN, "LSVAU2180N2183294");
        assert_eq!(get(&stranger, &app, &unknown).await.1, body, "{path}");
    }
}

#[tokio::test]
async fn drives_are_found_across_long_histories_and_page_without_gaps_or_repeats() {
    // Ten daily 30 s drives, then one drive four days long (a sample every
    // 4 min never leaves a 5 min gap), then three more daily drives.
    const LONG: &str = "1M8GDM9AXKP042788";
    let app = TestApp::spawn().await;
    let mut lines = vec![json!({"kind":"vehicle","vin":LONG,"timezone":"Asia/Shanghai"})];
    let day = 86_400_000_000i64;
    let mut starts = Vec::new();
    let mut add_drive = |start: i64, count: i64, step: i64| {
        starts.push(start);
        for i in 0..count {
            lines
                .push(json!({"kind":"sample","vin":LONG,"t":t(start + i * step),"speed_kmh":30.0}));
        }
    };
    for d in 0..10 {
        add_drive(DRIVE1_US + d * day, 30, 1_000_000);
    }
    add_drive(DRIVE1_US + 10 * day, 4 * 24 * 15, 240_000_000);
    for d in 15..18 {
        add_drive(DRIVE1_US + d * day, 30, 1_000_000);
    }
    let text = ndjson(&lines);
    import_log(&app, text).await;
    let c = new_owner(&app, LONG, None, "long@example.com").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/vehicles/{LONG}/drives?limit=3&cursor={c}"),
            None => format!("/api/v1/vehicles/{LONG}/drives?limit=3"),
        };
        let (status, page) = get(&c, &app, &path).await;
        assert_eq!(status, 200, "{page}");
        for d in page["items"].as_array().unwrap() {
            seen.push((
                d["start"]["t_us"].as_i64().unwrap(),
                d["samples"].as_u64().unwrap(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(), starts);
    assert_eq!(
        seen[10].1,
        4 * 24 * 15,
        "the long drive is one drive, whole"
    );
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, (_, n))| i == 10 || *n == 30));
}
