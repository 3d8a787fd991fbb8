//! The data dictionary: what each channel of a vehicle's telemetry is, in
//! both languages, with what was seen of it (`GET …/dictionary`, the
//! `/vehicles/{vin}/dictionary` page, linked from the export page).

use super::browse::Rate;
use super::log_format::{AdasState, AebState, Gear, CHANNEL_RANGES};
use super::vocabulary::{Term, CHANNELS};
use serde::{Deserialize, Serialize};

/// One phrase in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bilingual {
    pub en: String,
    pub zh: String,
}

/// One channel as the dictionary describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelEntry {
    /// Its name in the exports (CSV column, NDJSON field).
    pub name: String,
    pub label: Bilingual,
    pub about: Bilingual,
    /// Unit symbol; empty for flags and codes.
    pub unit: String,
    /// `number`, `boolean` or `code`.
    pub kind: String,
    /// A code's values.
    pub values: Vec<String>,
    /// The valid range (the interchange format's), where it is bounded.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `telemetry`, or `location` (sensitive personal data).
    pub class: String,
    /// Where its values come from.
    pub source: Bilingual,
    /// Sampling rates seen of this vehicle's telemetry, most common first.
    pub rates: Vec<Rate>,
    /// Share (0–1) of the records of its class that the vehicle itself
    /// signed (format 1.1 seals); 0 when none was.
    pub sealed_share: f64,
}

/// `GET /api/v1/vehicles/{vin}/dictionary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataDictionary {
    pub vin: String,
    /// Times in exports: UTC with the vehicle's offset; this is its zone.
    pub timezone: String,
    pub channels: Vec<ChannelEntry>,
}

/// Positions: the location class.
pub const LOCATION_CHANNELS: [&str; 3] = ["lat", "lon", "heading_deg"];

fn codes<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| name(*v).to_string()).collect()
}

/// The fixed part of a channel's entry (what was seen is filled in later).
pub fn describe(term: &Term) -> ChannelEntry {
    let (kind, values) = match term.name {
        "brake_pedal" | "abs_active" | "esc_active" | "fcw" | "belt_driver" => {
            ("boolean", Vec::new())
        }
        "gear" => ("code", codes(Gear::ALL, Gear::as_str)),
        "aeb_state" => ("code", codes(AebState::ALL, AebState::as_str)),
        "adas_state" => ("code", codes(AdasState::ALL, AdasState::as_str)),
        _ => ("number", Vec::new()),
    };
    let location = LOCATION_CHANNELS.contains(&term.name);
    let range = CHANNEL_RANGES
        .iter()
        .find(|(name, ..)| *name == term.name)
        .map(|(_, lo, hi)| (*lo, *hi));
    ChannelEntry {
        name: term.name.to_string(),
        label: Bilingual {
            en: term.label.en.to_string(),
            zh: term.label.zh.to_string(),
        },
        about: Bilingual {
            en: term.about.en.to_string(),
            zh: term.about.zh.to_string(),
        },
        unit: term.unit.to_string(),
        kind: kind.to_string(),
        values,
        min: range.map(|r| r.0),
        max: range.map(|r| r.1).filter(|hi| *hi < f64::MAX),
        class: if location { "location" } else { "telemetry" }.to_string(),
        source: if location {
            Bilingual {
                en: "the car's position records (format 1.1), or lat/lon of its sample lines"
                    .into(),
                zh: "车辆的位置记录（格式 1.1），或采样记录中的经纬度".into(),
            }
        } else {
            Bilingual {
                en: "the sample lines of the car's log (interchange format)".into(),
                zh: "车辆日志（交换格式）中的采样记录".into(),
            }
        },
        rates: Vec::new(),
        sealed_share: 0.0,
    }
}

/// Every channel, in the format's order.
pub fn channels() -> impl Iterator<Item = ChannelEntry> {
    CHANNELS.iter().map(describe)
}
