//! Shared helpers: a real store (a SQLite file in a temp dir, or a fresh
//! PostgreSQL database with `PORTAL_TEST_BACKEND=postgres`), and NDJSON builders.

use portal_core::server::import::{import_reader, ImportError, ImportOptions, ImportSummary};
use portal_core::server::store::scratch::ScratchDatabase;
use portal_core::server::store::{Pool, Store};
use std::sync::Arc;

pub const VIN: &str = "LRW3E7EK9NC000017";
pub const VIN2: &str = "1M8GDM9AXKP042788";

pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub pool: Pool,
    _db: ScratchDatabase,
}

pub async fn test_store() -> TestStore {
    let db = ScratchDatabase::create().await.expect("scratch database");
    let (store, pool) = portal_core::server::store::open(&db.url)
        .await
        .expect("open store");
    TestStore {
        store,
        pool,
        _db: db,
    }
}

pub async fn import_text(store: &dyn Store, text: &str) -> Result<ImportSummary, ImportError> {
    import_with(store, text, &ImportOptions::default()).await
}

pub async fn import_with(
    store: &dyn Store,
    text: &str,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    import_reader(
        store,
        "test.ndjson",
        std::io::Cursor::new(text.as_bytes().to_vec()),
        options,
        None,
    )
    .await
}

pub fn vehicle(vin: &str, tz: &str) -> String {
    format!(
        r#"{{"kind":"vehicle","vin":"{vin}","model":"Model 3","model_year":2021,"market":"CN","timezone":"{tz}","edr_ecu":"ACM-2.1"}}"#
    )
}

/// A sample `secs` seconds after 2021-02-21T10:15:00+08:00.
pub fn sample(vin: &str, secs: u32, speed: f64) -> String {
    format!(
        r#"{{"kind":"sample","vin":"{vin}","t":"2021-02-21T10:{:02}:{:02}.000+08:00","speed_kmh":{speed},"brake_pedal":false,"gear":"D","lat":31.2304,"lon":121.4737}}"#,
        15 + secs / 60,
        secs % 60
    )
}

pub fn event(vin: &str, id: &str, event_type: &str, severity: &str) -> String {
    format!(
        r#"{{"kind":"event","vin":"{vin}","id":"{id}","t":"2021-02-21T10:15:03.000+08:00","type":"{event_type}","severity":"{severity}","trigger":{{"metric":"brake_pressure_bar","value":140.7,"threshold":100.0}}}}"#
    )
}

pub fn edr(vin: &str, event_id: &str) -> String {
    format!(
        r#"{{"kind":"edr","vin":"{vin}","event_id":"{event_id}","t0":"2021-02-21T10:15:04.250+08:00","standard":"GB 39732-2020","trigger":"delta_v","locked":true,"complete":true,"ignition_cycle_crash":1532,"ignition_cycle_download":1534,"max_delta_v_long_kmh":-38.2,"time_max_delta_v_ms":95,"max_delta_v_lat_kmh":4.1,"belt_driver":"buckled","airbags":[{{"position":"driver_front","deploy_ms":38}},{{"position":"passenger_front","deploy_ms":40}}],"pre_crash":{{"rate_hz":10,"samples":[{{"t_ms":-100,"speed_kmh":40.0,"brake_pedal":true,"brake_pressure_bar":92.7,"aeb_state":"braking","engine_rpm":null}},{{"t_ms":0,"speed_kmh":35.5,"brake_pedal":true}}]}},"delta_v":{{"rate_hz":100,"samples":[{{"t_ms":0,"long_kmh":0.0,"lat_kmh":0.0}},{{"t_ms":10,"long_kmh":-5.2,"lat_kmh":0.4}}]}}}}"#
    )
}

pub fn lines(parts: &[String]) -> String {
    let mut s = parts.join("\n");
    s.push('\n');
    s
}

/// A demo log of `vehicles` × `days` in memory (format 1: unsealed), with what it holds.
pub fn demo_log(vehicles: u32, days: u32) -> (Vec<u8>, portal_core::server::demo::DemoCounts) {
    demo_log_with(vehicles, days, false)
}

/// A demo log, sealed (format 1.1, by the demo CA) or not.
pub fn demo_log_with(
    vehicles: u32,
    days: u32,
    sealed: bool,
) -> (Vec<u8>, portal_core::server::demo::DemoCounts) {
    let config = portal_core::server::demo::DemoConfig {
        vehicles,
        days,
        sealed,
        ..Default::default()
    };
    let mut text = Vec::new();
    let counts = portal_core::server::demo::generate(&config, &mut text).expect("demo log");
    (text, counts)
}

/// Chart rows of `range` read twice, in buckets of a minute from `origin_us`:
/// from the per-minute summaries, then from the samples themselves.
pub async fn minutes_both_ways(
    store: &dyn Store,
    vehicle: portal_core::server::store::VehicleId,
    range: portal_core::server::store::TimeRange,
    origin_us: i64,
    channels: &[portal_core::domain::chart::ChartChannel],
) -> (
    Vec<portal_core::server::store::ChartRow>,
    Vec<portal_core::server::store::ChartRow>,
) {
    let read = |per_minute| portal_core::server::store::ChartRequest {
        per_minute,
        buckets: Some((origin_us, 60_000_000)),
        limit: 1_000,
    };
    let summaries = store
        .chart_rows(vehicle, range, channels, read(true))
        .await
        .expect("summaries");
    let samples = store
        .chart_rows(vehicle, range, channels, read(false))
        .await
        .expect("samples");
    (summaries, samples)
}

/// Row counts of every table, to prove a rejected import changed nothing.
pub async fn table_counts(pool: &Pool) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in portal_core::server::store::migrate::TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = match pool {
            Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
            Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
        }
        .expect("count");
        out.push((table.to_string(), n));
    }
    out
}
