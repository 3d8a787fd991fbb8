//! Validated records as the portal holds them: times in UTC microseconds,
//! VINs checked, unknown fields (lenient import only) kept as JSON in `extra`.

use super::log_format::{
    Airbag, BeltStatus, DeltaV, EventType, PreCrash, SampleChannels, Severity, Trigger,
};
use super::Vin;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub vin: Vin,
    pub model: Option<String>,
    pub model_year: Option<i32>,
    pub market: Option<String>,
    /// IANA zone name, e.g. `Asia/Shanghai`.
    pub timezone: String,
    pub edr_ecu: Option<String>,
    pub extra: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_us: i64,
    pub channels: SampleChannels,
    pub extra: Option<String>,
}

/// A `position` record (format 1.1): the location of the sample at the same
/// instant, kept apart so it can be withheld while the rest stays verifiable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub t_us: i64,
    pub lat: f64,
    pub lon: f64,
    pub heading_deg: Option<f64>,
    /// Base64 of 16 random bytes, as sent.
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub t_us: i64,
    pub event_type: EventType,
    pub severity: Severity,
    pub trigger: Option<Trigger>,
    pub note: Option<String>,
    pub extra: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdrRecord {
    pub event_id: String,
    pub t0_us: i64,
    pub standard: Option<String>,
    pub trigger: Option<String>,
    pub locked: bool,
    pub complete: bool,
    pub ignition_cycle_crash: Option<i64>,
    pub ignition_cycle_download: Option<i64>,
    pub max_delta_v_long_kmh: Option<f64>,
    pub time_max_delta_v_ms: Option<f64>,
    pub max_delta_v_lat_kmh: Option<f64>,
    pub belt_driver: Option<BeltStatus>,
    pub airbags: Vec<Airbag>,
    pub pre_crash: PreCrash,
    pub delta_v: DeltaV,
    pub extra: Option<String>,
}
