//! Analyst formats: GPX tracks per drive, read back by an independent
//! reader (Python's standard XML parser) and compared with the CSV.

use crate::helpers::*;
use serde_json::{json, Value};

const VIN: &str = "LRW3E7EK9NC000017";
/// 2021-02-21T10:00:00+08:00.
const START_US: i64 = 1_613_872_800_000_000;
/// The second drive starts an hour later.
const SECOND_US: i64 = START_US + 3_600_000_000;

fn t(us: i64) -> String {
    portal_core::domain::time::format_utc(us)
}

/// Two drives: ten minutes north-east from People's Square at 1 Hz (the
/// first 5 s without a position, a hard brake at 300 s), then two minutes
/// an hour later.
fn log() -> String {
    let mut lines = vec![json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"})];
    for i in 0..600i64 {
        let mut s =
            json!({"kind":"sample","vin":VIN,"t":t(START_US + i * 1_000_000),"speed_kmh":40.0});
        if i >= 5 {
            s["lat"] = json!(31.2300 + i as f64 * 0.0001);
            s["lon"] = json!(121.4700 + i as f64 * 0.0001);
        }
        lines.push(s);
    }
    for i in 0..120i64 {
        lines.push(
            json!({"kind":"sample","vin":VIN,"t":t(SECOND_US + i * 1_000_000),
            "speed_kmh":20.0,"lat":31.3000,"lon":121.5000 - i as f64 * 0.0001}),
        );
    }
    lines.push(
        json!({"kind":"event","vin":VIN,"id":"brake-1","t":t(START_US + 300_000_000),
        "type":"hard_brake","severity":"warning"}),
    );
    ndjson(&lines)
}

async fn download(c: &reqwest::Client, app: &TestApp, query: &str) -> (u16, String, String) {
    crate::export::export(c, app, VIN, query).await
}

/// Runs `script` with the project's Python (VDP_PYTHON) over `files`,
/// written to a temp dir as named: the JSON it prints. `what` says what
/// failed when it does not run.
fn python_reads(script: &str, files: &[(&str, &[u8])], what: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let python = std::env::var("VDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = std::process::Command::new(&python);
    cmd.arg("-c").arg(script);
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        cmd.arg(path);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what} ({python}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The GPX as Python's `xml.etree` reads it: per track its name and
/// segments, each a list of [lat, lon, time].
fn read_gpx(gpx: &str) -> Value {
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
ns = {"g": "http://www.topografix.com/GPX/1/1"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.topografix.com/GPX/1/1}gpx", root.tag
assert root.get("version") == "1.1"
tracks = []
for trk in root.findall("g:trk", ns):
    tracks.append({
        "name": trk.findtext("g:name", namespaces=ns),
        "segments": [[[float(p.get("lat")), float(p.get("lon")), p.findtext("g:time", namespaces=ns)]
                      for p in seg.findall("g:trkpt", ns)] for seg in trk.findall("g:trkseg", ns)],
    })
print(json.dumps({"tracks": tracks, "desc": root.findtext("g:metadata/g:desc", namespaces=ns)}))
"#;
    python_reads(
        script,
        &[("track.gpx", gpx.as_bytes())],
        "the GPX does not parse",
    )
}

/// The CSV's (t_utc, lat, lon) of every row with a position.
fn csv_positions(csv: &str) -> Vec<(String, f64, f64)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| *h == name || h.starts_with(&format!("{name} (")))
            .unwrap()
    };
    let (tu, lat, lon) = (at("t_utc"), at("lat"), at("lon"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| !c[lat].is_empty())
        .map(|c| {
            (
                c[tu].to_string(),
                c[lat].parse().unwrap(),
                c[lon].parse().unwrap(),
            )
        })
        .collect()
}

fn points(gpx: &Value) -> Vec<(String, f64, f64)> {
    gpx["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["segments"].as_array().unwrap().clone())
        .flat_map(|s| s.as_array().unwrap().clone())
        .map(|p| {
            (
                p[2].as_str().unwrap().to_string(),
                p[0].as_f64().unwrap(),
                p[1].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_gpx_export_holds_a_track_per_drive_with_every_position_of_the_csv() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "gpx@example.com").await;

    let (status, content_type, gpx) = download(&owner, &app, "format=gpx&location=full").await;
    assert_eq!(status, 200, "{gpx}");
    assert_eq!(content_type, "application/gpx+xml");
    let read = read_gpx(&gpx);
    let tracks = read["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "one track per drive: {read}");
    assert!(
        tracks[0]["name"]
            .as_str()
            .unwrap()
            .contains("2021-02-21T10:00:05+08:00"),
        "{read}"
    );
    assert_eq!(tracks[0]["segments"][0].as_array().unwrap().len(), 595);
    assert_eq!(tracks[1]["segments"][0].as_array().unwrap().len(), 120);
    let (_, _, csv) = download(&owner, &app, "format=csv&location=full").await;
    assert_eq!(
        points(&read),
        csv_positions(&csv),
        "every value as in the CSV"
    );

    // Coarse: the CSV's rounding; a privacy zone splits the track around it.
    let (status, _) = post_json(
        &owner,
        &app,
        "/api/v1/me/privacy-zones",
        json!({"name": "Office", "lat": 31.2450, "lon": 121.4850, "radius_m": 300}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, gpx) = download(&owner, &app, "format=gpx&location=coarse").await;
    assert_eq!(status, 200);
    let read = read_gpx(&gpx);
    assert!(read["desc"]
        .as_str()
        .unwrap()
        .contains("privacy zones applied"));
    let first = read["tracks"][0]["segments"].as_array().unwrap();
    assert_eq!(first.len(), 2, "the track resumes after the zone: {read}");
    let (_, _, csv) = download(&owner, &app, "format=csv&location=coarse").await;
    assert_eq!(points(&read), csv_positions(&csv));
    assert!(points(&read)
        .iter()
        .all(|(_, lat, _)| (lat * 100.0).fract().abs() < 1e-6
            || (lat * 100.0).fract().abs() > 1.0 - 1e-6));

    // A track without positions is not a track.
    let (status, _, body) = download(&owner, &app, "format=gpx").await;
    assert_eq!(status, 422, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "gpx_without_location");
    assert_eq!(error["error"]["details"][0]["field"], "location");
    // One drive's range gives that drive's track only.
    let (_, _, gpx) = download(
        &owner,
        &app,
        &format!(
            "format=gpx&location=full&from={}&to={}",
            t(SECOND_US),
            t(SECOND_US + 120_000_000)
        ),
    )
    .await;
    assert_eq!(read_gpx(&gpx)["tracks"].as_array().unwrap().len(), 1);
    // The drives page offers it per drive, as a plain form.
    let page = page_in(&owner, &app, &format!("/vehicles/{VIN}/drives"), "zh-CN").await;
    assert_eq!(
        page.matches("data-testid=\"gpx-form\"").count(),
        2,
        "{page}"
    );
    assert!(page.contains("value=\"gpx\""));
}

#[tokio::test]
async fn a_recipient_of_telemetry_alone_exports_its_samples_in_every_format_and_nothing_more() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "gpx@example.com").await;
    let (status, issued) = post_json(
        &owner,
        &app,
        &format!("/api/v1/vehicles/{VIN}/grants"),
        json!({"recipient": "Cycling club", "kind": "other", "purpose": "route planning",
            "classes": ["telemetry"], "location": "coarse",
            "from": t(START_US), "to": t(SECOND_US + 3_600_000_000), "expires": date_in_days(3)}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap();
    let as_recipient = |query: &'static str| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?{query}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let res = as_recipient("format=gpx&location=coarse").await;
    assert_eq!(res.status(), 200);
    let read = read_gpx(&res.text().await.unwrap());
    assert_eq!(read["tracks"].as_array().unwrap().len(), 2);
    assert_eq!(
        as_recipient("format=csv&location=coarse").await.status(),
        200
    );
    // NDJSON and bundles hold the grant's classes only: here no event.
    let res = as_recipient("format=ndjson&location=none").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("\"kind\":\"sample\""));
    assert!(!text.contains("\"kind\":\"event\""), "no event is granted");
    let (_, _, mine) = download(&owner, &app, "format=ndjson").await;
    assert!(
        mine.contains("\"kind\":\"event\""),
        "the owner's has the brake"
    );
    let res = as_recipient("format=bundle&location=coarse").await;
    assert_eq!(res.status(), 200);
    let zip = res.bytes().await.unwrap().to_vec();
    let key = signing_key(&app).await;
    let (v, _) = crate::log_evidence::both_verify(&zip, &key, &[]);
    assert!(v.valid, "{:?}", v.problems);
    let files = crate::evidence::members(&zip);
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(manifest["data_classes"], json!(["telemetry"]));
    // More than the grant's location level: refused.
    assert_eq!(as_recipient("format=gpx&location=full").await.status(), 404);
    assert_eq!(
        as_recipient("format=ndjson&location=full").await.status(),
        404
    );
    // The owner sees each export and each refusal.
    let (_, log) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["by"] == "recipient")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "grant_refused").count(),
        2,
        "{log}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "export").count(),
        4,
        "{log}"
    );
}

/// 140,000 samples at 10 Hz (more than two row groups) with numbers,
/// flags, codes and gaps in every kind of channel.
fn big_log() -> String {
    let mut text = format!(
        "{}\n",
        json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai"})
    );
    for i in 0..140_000i64 {
        let gear = ["P", "R", "N", "D"][(i % 4) as usize];
        let mut s = json!({"kind":"sample","vin":VIN,"t":t(START_US + i * 100_000),
            "speed_kmh": (i % 1300) as f64 / 10.0, "brake_pedal": i % 7 == 0,
            "gear": gear, "lat": 31.2 + i as f64 * 1e-6, "lon": 121.4});
        if i % 5 == 0 {
            s["brake_pressure_bar"] = json!(i as f64 / 1000.0);
            s["aeb_state"] = json!("standby");
        }
        text.push_str(&s.to_string());
        text.push('\n');
    }
    text
}

/// What pyarrow (an independent reader) finds in the Parquet file, checked
/// value by value against the CSV of the same export.
fn pyarrow_against_csv(parquet: &[u8], csv: &str) -> Value {
    let script = r#"
import csv, datetime, json, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
table = f.read()
meta = {k.decode(): v.decode() for k, v in (f.schema_arrow.metadata or {}).items()}
cols = {name: table.column(name).to_pylist() for name in table.column_names}
types = {field.name: str(field.type) for field in table.schema}
mismatches = []
with open(sys.argv[2], newline="") as fh:
    rows = list(csv.reader(fh))
header = [h.split(" (")[0] for h in rows[0]]
for i, row in enumerate(rows[1:]):
    for name, cell in zip(header, row):
        if name == "t_local":
            continue
        if name == "t_utc":
            want = datetime.datetime.fromisoformat(cell.replace("Z", "+00:00"))
            got = cols["t"][i]
        else:
            got = cols[name][i]
            if cell == "":
                want = None
            elif types[name] == "double":
                want = float(cell)
            elif types[name] == "bool":
                want = cell == "true"
            else:
                want = cell
        if got != want and len(mismatches) < 5:
            mismatches.append([i, name, str(got), str(want)])
print(json.dumps({"rows": table.num_rows, "csv_rows": len(rows) - 1, "row_groups": f.num_row_groups,
                  "max_group_rows": max((f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)), default=0),
                  "types": types, "metadata": meta, "mismatches": mismatches}))
"#;
    python_reads(
        script,
        &[("x.parquet", parquet), ("x.csv", csv.as_bytes())],
        "pyarrow could not read it (./dev.sh test installs pyarrow into the verifier venv)",
    )
}

#[tokio::test]
async fn a_parquet_export_has_a_typed_column_per_channel_and_every_value_of_the_csv() {
    let app = TestApp::spawn().await;
    import_log(&app, big_log()).await;
    let owner = new_owner(&app, VIN, None, "parquet@example.com").await;
    let get = |query: &'static str| {
        let (owner, app) = (&owner, &app);
        async move {
            let res = owner
                .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{query}");
            let kind = res.headers()["content-type"].to_str().unwrap().to_string();
            (kind, res.bytes().await.unwrap().to_vec())
        }
    };
    let res = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?format=parquet")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["link"],
        format!("</api/v1/vehicles/{VIN}/dictionary>; rel=\"describedby\""),
        "every export links its data dictionary"
    );
    let (kind, parquet) = get("format=parquet&location=full").await;
    assert_eq!(kind, "application/vnd.apache.parquet");
    assert_eq!(&parquet[..4], b"PAR1");
    let (_, csv) = get("format=csv&location=full").await;
    let read = pyarrow_against_csv(&parquet, &String::from_utf8(csv).unwrap());
    assert_eq!(read["mismatches"], json!([]), "{read}");
    assert_eq!(
        (read["rows"].as_u64(), read["csv_rows"].as_u64()),
        (Some(140_000), Some(140_000))
    );
    assert_eq!(
        read["row_groups"], 3,
        "row groups of a bounded size: {read}"
    );
    assert_eq!(read["max_group_rows"], 65_536);
    let types = &read["types"];
    assert_eq!(types["t"], "timestamp[us, tz=UTC]", "{types}");
    assert_eq!(types["speed_kmh"], "double");
    assert_eq!(types["brake_pedal"], "bool");
    assert_eq!(types["gear"], "string");
    let meta = &read["metadata"];
    assert_eq!(meta["vehicle_timezone"], "Asia/Shanghai", "{meta}");
    assert_eq!(meta["vin"], VIN);
    assert_eq!(meta["location_redaction"], "full");
    let units: Value = serde_json::from_str(meta["units"].as_str().unwrap()).unwrap();
    assert_eq!(units["speed_kmh"], "km/h");

    // Chosen fields only, no position columns at location `none`.
    let (_, parquet) = get("format=parquet&fields=speed_kmh,gear,lat&from=2021-02-21T02:00:00Z&to=2021-02-21T02:01:00Z").await;
    let (_, csv) = get(
        "format=csv&fields=speed_kmh,gear,lat&from=2021-02-21T02:00:00Z&to=2021-02-21T02:01:00Z",
    )
    .await;
    let read = pyarrow_against_csv(&parquet, &String::from_utf8(csv).unwrap());
    assert_eq!(read["mismatches"], json!([]), "{read}");
    assert_eq!(read["rows"], 600);
    let names: Vec<&String> = read["types"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 3, "t, speed_kmh, gear: {names:?}");
}

#[tokio::test]
async fn a_bundle_carries_the_dictionary_of_its_channels_and_still_verifies() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "dictionary@example.com").await;
    let res = owner
        .get(app.url(&format!(
            "/api/v1/vehicles/{VIN}/export?format=bundle&fields=speed_kmh,lat,lon&location=coarse"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let zip = res.bytes().await.unwrap().to_vec();
    let key = signing_key(&app).await;
    let (v, theirs) = crate::log_evidence::both_verify(&zip, &key, &[]);
    assert!(v.valid, "{:?} / {theirs}", v.problems);
    let files = crate::evidence::members(&zip);
    let find = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    let manifest: Value = serde_json::from_slice(&find("manifest.json").unwrap()).unwrap();
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "dictionary.json"),
        "listed, so the signature covers it: {manifest}"
    );
    let dictionary: Value =
        serde_json::from_slice(&find("dictionary.json").expect("dictionary.json")).unwrap();
    let names: Vec<&str> = dictionary["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["speed_kmh", "lat", "lon"],
        "the exported channels only"
    );
    // The same descriptions as the dictionary the API gives.
    let (_, api) = get_json(&owner, &app, &format!("/api/v1/vehicles/{VIN}/dictionary")).await;
    let speed = api["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "speed_kmh")
        .unwrap();
    assert_eq!(&dictionary["channels"][0], speed);
    assert_eq!(dictionary["channels"][0]["label"]["zh"], "车速");
}

#[tokio::test]
async fn a_bundle_holds_parquet_and_gpx_on_request_and_still_verifies() {
    let app = TestApp::spawn().await;
    import_log(&app, log()).await;
    let owner = new_owner(&app, VIN, None, "include@example.com").await;
    let res = owner
        .get(app.url(&format!(
            "/api/v1/vehicles/{VIN}/export?format=bundle&location=coarse&include=parquet,gpx"
        )))
        .send()
        .await
        .unwrap();
    let zip = res.bytes().await.unwrap().to_vec();
    let key = signing_key(&app).await;
    let (v, theirs) = crate::log_evidence::both_verify(&zip, &key, &[]);
    assert!(v.valid, "{:?} / {theirs}", v.problems);
    // Its members were compressed apart and copied in: common tools still
    // read it, every CRC checked.
    let read = python_reads(
        "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({'bad': z.testzip(), 'names': z.namelist()}))",
        &[("bundle.zip", &zip)],
        "Python's zipfile",
    );
    assert_eq!(read["bad"], Value::Null, "{read}");
    assert_eq!(
        read["names"],
        json!([
            "samples.csv",
            "data.ndjson",
            "report.pdf",
            "dictionary.json",
            "samples.parquet",
            "tracks.gpx",
            "manifest.json",
            "manifest.sig",
            "log-proof.json"
        ]),
        "{read}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.zip"), &zip).unwrap();
    let unzip = std::process::Command::new("unzip")
        .arg("-tqq")
        .arg(dir.path().join("bundle.zip"))
        .output()
        .expect("unzip (./dev.sh installs it)");
    assert!(
        unzip.status.success(),
        "{}",
        String::from_utf8_lossy(&unzip.stdout)
    );
    let files = crate::evidence::members(&zip);
    let find = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("{name} in the bundle"))
    };
    let manifest: Value = serde_json::from_slice(&find("manifest.json")).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"samples.parquet") && listed.contains(&"tracks.gpx"),
        "{listed:?}"
    );
    let csv = String::from_utf8(find("samples.csv")).unwrap();
    let read = pyarrow_against_csv(&find("samples.parquet"), &csv);
    assert_eq!(read["mismatches"], json!([]), "{read}");
    assert_eq!(read["rows"], 720);
    let gpx = read_gpx(&String::from_utf8(find("tracks.gpx")).unwrap());
    assert_eq!(
        points(&gpx),
        csv_positions(&csv),
        "the bundle's tracks are its CSV's positions"
    );

    // Further files belong to bundles; a track needs positions; nothing else is a file.
    for (query, code, field) in [
        (
            "format=csv&include=parquet",
            "include_needs_bundle",
            "include",
        ),
        (
            "format=bundle&include=gpx",
            "gpx_without_location",
            "location",
        ),
        ("format=bundle&include=xlsx", "invalid_query", "include"),
    ] {
        let (status, _, body) = download(&owner, &app, query).await;
        assert!((400..500).contains(&status), "{query}: {status} {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], code, "{query}: {body}");
        assert_eq!(
            error["error"]["details"][0]["field"], field,
            "{query}: {body}"
        );
    }
}
