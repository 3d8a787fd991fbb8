//! "What happened lately": the 90-day strip, the newest drive and events.

use crate::browse::{fixture, PERIOD_US, VIN};
use crate::helpers::get_json as get;
use crate::helpers::*;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

fn day<'a>(a: &'a Value, date: &str) -> &'a Value {
    a["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap_or_else(|| panic!("{date} not in the strip: {a}"))
}

#[tokio::test]
async fn an_old_history_ends_the_strip_on_its_newest_day_and_only_the_readers_days_count() {
    let (app, c) = fixture().await;
    let (status, a) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/activity")).await;
    assert_eq!(status, 200, "{a}");
    let days = a["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    assert_eq!(days[0]["date"], "2020-11-24");
    assert_eq!(
        days[89]["date"], "2021-02-21",
        "the newest record's day, not today"
    );
    // The owner's period starts on the last day: the days before are not theirs.
    assert!(days[..89].iter().all(|d| d["readable"] == false), "{a}");
    let last = &days[89];
    assert_eq!(last["readable"], true);
    assert_eq!(last["drives"], 2, "{last}");
    assert_eq!(last["distance_km"], 8.7, "4.5 by odometer + 4.2 integrated");
    assert_eq!(
        (
            &last["events"],
            &last["brake_events"],
            &last["crash_events"]
        ),
        (&json!(3), &json!(1), &json!(1))
    );
    // The same drives as the drives list, the newest of them in full.
    let (_, drives) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/drives")).await;
    assert_eq!(a["latest_drive"], drives["items"][1], "{a}");
    assert_eq!(a["latest_brake"]["id"], "ev-brake");
    assert_eq!(a["latest_brake"]["type"], "hard_brake");
    assert_eq!(a["latest_crash"]["id"], "ev-crash");
    assert_eq!(a["timezone"], "Asia/Shanghai");
    // Asked in another zone, instants say it too; days stay the vehicle's.
    let (_, utc) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/activity?tz=UTC")).await;
    assert_eq!(
        utc["latest_crash"]["at"]["t_viewer"], "2021-02-21T03:04:00Z",
        "{utc}"
    );
    assert_eq!(utc["days"], a["days"]);

    // The car sold after its last record: the buyer's strip ends today and
    // is empty, nothing is latest.
    let sale = PERIOD_US + 7_200_000_000;
    portal_core::server::Portal::new(app.store.clone())
        .transfer(&portal_core::domain::Vin::parse(VIN).unwrap(), sale)
        .await
        .unwrap();
    let late = new_owner(&app, VIN, None, "late@example.com").await;
    let (_, before) = get(&c, &app, &format!("/api/v1/vehicles/{VIN}/activity")).await;
    assert_eq!(before["days"], a["days"], "the seller's strip is as it was");
    let (status, b) = get(&late, &app, &format!("/api/v1/vehicles/{VIN}/activity")).await;
    assert_eq!(status, 200, "{b}");
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(b["days"][89]["date"], today.as_str(), "{b}");
    assert!(b["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["drives"] == 0 && d["events"] == 0 && d["readable"] == true));
    assert!(
        b["latest_drive"].is_null() && b["latest_brake"].is_null() && b["latest_crash"].is_null()
    );
}

#[tokio::test]
async fn a_recent_history_ends_today_and_counts_each_local_day() {
    const RECENT: &str = "1M8GDM9AXKP042788";
    let app = TestApp::spawn().await;
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let now = Utc::now();
    let mut lines = vec![
        json!({"kind":"vehicle","vin":RECENT,"timezone":"Asia/Shanghai"}),
        json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"}),
    ];
    // Drives of 60 s at 1 Hz, 10 m a second: 0.6 km each by odometer.
    let mut odometer = 100.0;
    let mut drive = |start: chrono::DateTime<Utc>, lines: &mut Vec<Value>| {
        let start = start.timestamp_micros();
        for i in 0..60 {
            lines.push(
                json!({"kind":"sample","vin":RECENT,"t":t(start + i * 1_000_000),
                "speed_kmh":36.0,"odometer_km":odometer}),
            );
            odometer += 0.01;
        }
        odometer += 5.0;
        start
    };
    let yesterday = drive(now - Duration::days(1), &mut lines);
    let ten_days = drive(now - Duration::days(10), &mut lines);
    let ten_days_later = drive(now - Duration::days(10) + Duration::hours(1), &mut lines);
    let long_ago = drive(now - Duration::days(120), &mut lines);
    lines.push(
        json!({"kind":"event","vin":RECENT,"id":"b1","t":t(ten_days + 30_000_000),
        "type":"abs_activation","severity":"info"}),
    );
    lines.push(
        json!({"kind":"event","vin":RECENT,"id":"c-old","t":t(long_ago + 30_000_000),
        "type":"airbag_deployment","severity":"critical"}),
    );
    let text = ndjson(&lines);
    import_log(&app, text).await;
    let c = new_owner(&app, RECENT, None, "recent@example.com").await;
    let (status, a) = get(&c, &app, &format!("/api/v1/vehicles/{RECENT}/activity")).await;
    assert_eq!(status, 200, "{a}");

    let date = |us: i64| {
        Utc.timestamp_micros(us)
            .unwrap()
            .with_timezone(&tz)
            .format("%Y-%m-%d")
            .to_string()
    };
    let days = a["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    assert_eq!(days[89]["date"], date(now.timestamp_micros()), "today");
    assert!(days.iter().all(|d| d["readable"] == true));
    assert_eq!(day(&a, &date(yesterday))["drives"], 1);
    assert_eq!(day(&a, &date(yesterday))["distance_km"], 0.6);
    let tenth = day(&a, &date(ten_days));
    if date(ten_days) == date(ten_days_later) {
        assert_eq!(tenth["drives"], 2, "{tenth}");
        assert_eq!(tenth["distance_km"], 1.2, "{tenth}");
    }
    assert_eq!(tenth["brake_events"], 1);
    let counted: u64 = days.iter().map(|d| d["drives"].as_u64().unwrap()).sum();
    assert_eq!(counted, 3, "the drive of 120 days ago is outside the strip");
    let events: u64 = days.iter().map(|d| d["events"].as_u64().unwrap()).sum();
    assert_eq!(events, 1);
    assert_eq!(a["latest_drive"]["start"]["t_us"], yesterday);
    assert_eq!(a["latest_brake"]["id"], "b1");
    assert_eq!(
        a["latest_crash"]["id"], "c-old",
        "the newest crash, however old"
    );

    // Another owner, no sign-in, a bad zone: 404, 401, 422.
    let other = new_owner(&app, VIN, None, "other@example.com").await;
    let (status, _) = get(&other, &app, &format!("/api/v1/vehicles/{RECENT}/activity")).await;
    assert_eq!(status, 404);
    let anonymous = TestApp::new_client();
    let (status, _) = get(
        &anonymous,
        &app,
        &format!("/api/v1/vehicles/{RECENT}/activity"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, e) = get(
        &c,
        &app,
        &format!("/api/v1/vehicles/{RECENT}/activity?tz=Mars/Base"),
    )
    .await;
    assert_eq!(status, 422, "{e}");
}
