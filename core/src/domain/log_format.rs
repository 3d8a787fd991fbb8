//! The vehicle log interchange format, version 1 (`shared/spec/vehicle-log-format.md`).
//!
//! These are the wire shapes: what crosses the boundary on import and NDJSON
//! export. Channel values are `Option`: a channel that was not recorded is
//! absent or `null`, never 0.

use serde::{Deserialize, Serialize};

/// Generates a string enum with its wire names, so parsing, storage and
/// export all use one spelling.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;

wire_enum!(Gear { P = "P", R = "R", N = "N", D = "D" });
wire_enum!(AebState { Off = "off", Standby = "standby", Warning = "warning", Braking = "braking" });
wire_enum!(AdasState { Off = "off", Available = "available", Active = "active" });
wire_enum!(Severity { Info = "info", Warning = "warning", Critical = "critical" });
wire_enum!(BeltStatus { Buckled = "buckled", Unbuckled = "unbuckled", Unknown = "unknown" });
wire_enum!(
    /// Event types; brake events are hard_brake, abs_activation and
    /// aeb_activation; crash events are collision and airbag_deployment.
    EventType {
        HardBrake = "hard_brake",
        AbsActivation = "abs_activation",
        AebActivation = "aeb_activation",
        FcwWarning = "fcw_warning",
        EscIntervention = "esc_intervention",
        HardAcceleration = "hard_acceleration",
        HardCornering = "hard_cornering",
        Collision = "collision",
        AirbagDeployment = "airbag_deployment",
        IgnitionOn = "ignition_on",
        IgnitionOff = "ignition_off",
        Dtc = "dtc",
        OtaUpdate = "ota_update",
    }
);

impl EventType {
    pub fn is_brake(self) -> bool {
        matches!(
            self,
            Self::HardBrake | Self::AbsActivation | Self::AebActivation
        )
    }
    pub fn is_crash(self) -> bool {
        matches!(self, Self::Collision | Self::AirbagDeployment)
    }

    /// The group an owner filters by (`brake`, `crash`, `warning`, `other`).
    pub fn group(self) -> EventGroup {
        match self {
            t if t.is_brake() => EventGroup::Brake,
            t if t.is_crash() => EventGroup::Crash,
            Self::FcwWarning
            | Self::EscIntervention
            | Self::HardAcceleration
            | Self::HardCornering
            | Self::Dtc => EventGroup::Warning,
            _ => EventGroup::Other,
        }
    }
}

wire_enum!(
    /// How the events list groups event types.
    EventGroup { Brake = "brake", Crash = "crash", Warning = "warning", Other = "other" }
);

impl EventGroup {
    pub fn types(self) -> Vec<EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| t.group() == self)
            .collect()
    }
}

/// Every sample channel in the spec's order, with its unit and its words.
pub use super::vocabulary::CHANNELS;

/// The valid range of each bounded sample channel (the format's channel
/// table), in the order the importer checks them; others are unbounded.
pub const CHANNEL_RANGES: [(&str, f64, f64); 8] = [
    ("speed_kmh", 0.0, 300.0),
    ("accel_pedal_pct", 0.0, 100.0),
    ("brake_pressure_bar", 0.0, 250.0),
    ("soc_pct", 0.0, 100.0),
    ("odometer_km", 0.0, f64::MAX),
    ("lat", -90.0, 90.0),
    ("lon", -180.0, 180.0),
    ("heading_deg", 0.0, 360.0),
];

/// `{"kind":"vehicle", ...}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleLine {
    pub kind: String,
    pub vin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    pub timezone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edr_ecu: Option<String>,
    /// Format 1.1: the vehicle's certified keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<super::sealed::VehicleKey>,
}

/// The telemetry channels of a sample, shared by `sample` lines and stored rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleChannels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accel_pedal_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_pedal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_pressure_bar: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steering_angle_deg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_accel_mps2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat_accel_mps2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaw_rate_dps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gear: Option<Gear>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esc_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeb_state: Option<AebState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcw: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adas_state: Option<AdasState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motor_torque_nm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub belt_driver: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading_deg: Option<f64>,
}

/// `{"kind":"sample", ...}`: identity is (`vin`, `t`).
///
/// The channels are repeated here rather than `#[serde(flatten)]`ed: flatten
/// buffers every field and halves import speed on this hot path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleLine {
    /// Checked before this struct is chosen; kept so strict mode accepts it.
    pub kind: serde::de::IgnoredAny,
    pub vin: String,
    pub t: String,
    pub speed_kmh: Option<f64>,
    pub accel_pedal_pct: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub brake_pressure_bar: Option<f64>,
    pub steering_angle_deg: Option<f64>,
    pub long_accel_mps2: Option<f64>,
    pub lat_accel_mps2: Option<f64>,
    pub yaw_rate_dps: Option<f64>,
    pub gear: Option<Gear>,
    pub abs_active: Option<bool>,
    pub esc_active: Option<bool>,
    pub aeb_state: Option<AebState>,
    pub fcw: Option<bool>,
    pub adas_state: Option<AdasState>,
    pub motor_torque_nm: Option<f64>,
    pub odometer_km: Option<f64>,
    pub soc_pct: Option<f64>,
    pub belt_driver: Option<bool>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub heading_deg: Option<f64>,
}

impl SampleLine {
    pub fn channels(&self) -> SampleChannels {
        SampleChannels {
            speed_kmh: self.speed_kmh,
            accel_pedal_pct: self.accel_pedal_pct,
            brake_pedal: self.brake_pedal,
            brake_pressure_bar: self.brake_pressure_bar,
            steering_angle_deg: self.steering_angle_deg,
            long_accel_mps2: self.long_accel_mps2,
            lat_accel_mps2: self.lat_accel_mps2,
            yaw_rate_dps: self.yaw_rate_dps,
            gear: self.gear,
            abs_active: self.abs_active,
            esc_active: self.esc_active,
            aeb_state: self.aeb_state,
            fcw: self.fcw,
            adas_state: self.adas_state,
            motor_torque_nm: self.motor_torque_nm,
            odometer_km: self.odometer_km,
            soc_pct: self.soc_pct,
            belt_driver: self.belt_driver,
            lat: self.lat,
            lon: self.lon,
            heading_deg: self.heading_deg,
        }
    }
}

/// What tripped an event: the metric, the value seen and the threshold used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub metric: String,
    pub value: f64,
    pub threshold: f64,
}

/// `{"kind":"event", ...}`: identity is (`vin`, `id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLine {
    pub kind: String,
    pub vin: String,
    pub id: String,
    pub t: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Airbag {
    pub position: String,
    pub deploy_ms: f64,
}

/// One pre-crash sample: channels as in `sample`, plus engine speed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreCrashSample {
    pub t_ms: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accel_pedal_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_pedal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_pressure_bar: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steering_angle_deg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esc_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeb_state: Option<AebState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_rpm: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreCrash {
    pub rate_hz: f64,
    pub samples: Vec<PreCrashSample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaVSample {
    pub t_ms: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat_kmh: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaV {
    pub rate_hz: f64,
    pub samples: Vec<DeltaVSample>,
}

/// `{"kind":"edr", ...}`: a crash record; identity is (`vin`, `event_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdrLine {
    pub kind: String,
    pub vin: String,
    pub event_id: String,
    pub t0: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    pub locked: bool,
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignition_cycle_crash: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignition_cycle_download: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delta_v_long_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_max_delta_v_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delta_v_lat_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub belt_driver: Option<BeltStatus>,
    #[serde(default)]
    pub airbags: Vec<Airbag>,
    pub pre_crash: PreCrash,
    pub delta_v: DeltaV,
}

/// The record kinds of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Vehicle,
    Sample,
    Event,
    Edr,
    /// Format 1.1: a location as its own record.
    Position,
    /// Format 1.1: the vehicle's signature over the lines before it.
    Seal,
}

impl RecordKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vehicle" => Some(Self::Vehicle),
            "sample" => Some(Self::Sample),
            "event" => Some(Self::Event),
            "edr" => Some(Self::Edr),
            "position" => Some(Self::Position),
            "seal" => Some(Self::Seal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The channel list names exactly the fields of `SampleChannels`.
    #[test]
    fn channel_list_matches_the_sample_fields() {
        let all: super::SampleChannels = serde_json::from_str(
            r#"{"speed_kmh":0,"accel_pedal_pct":0,"brake_pedal":false,"brake_pressure_bar":0,
            "steering_angle_deg":0,"long_accel_mps2":0,"lat_accel_mps2":0,"yaw_rate_dps":0,
            "gear":"P","abs_active":false,"esc_active":false,"aeb_state":"off","fcw":false,
            "adas_state":"off","motor_torque_nm":0,"odometer_km":0,"soc_pct":0,
            "belt_driver":false,"lat":0,"lon":0,"heading_deg":0}"#,
        )
        .unwrap();
        let serde_json::Value::Object(map) = serde_json::to_value(all).unwrap() else {
            panic!("an object")
        };
        let mut names: Vec<&str> = super::CHANNELS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), names);
    }
}
