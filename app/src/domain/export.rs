//! Export requests: the browser's filters plus a format and a location
//! redaction, chosen explicitly.

use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// What an export is written as.
    ExportFormat { Csv = "csv", Ndjson = "ndjson", Bundle = "bundle" }
);

wire_enum!(
    /// How much of the position an export keeps: none (the default), rounded
    /// to 0.01° (about 1 km), or full.
    LocationRedaction { None = "none", Coarse = "coarse", Full = "full" }
);

/// `GET /api/v1/vehicles/{vin}/export` as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub location: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<String>,
    pub gear: Option<String>,
    /// Comma list of channels (default: all).
    pub fields: Option<String>,
    /// Event filters (NDJSON and bundles carry events).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub group: Option<String>,
    pub severity: Option<String>,
}
