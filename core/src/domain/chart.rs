//! What a chart shows: channels over time, downsampled on the server to at
//! most `MAX_BUCKETS` min/max pairs per series, so a week draws like a minute.

use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

/// At most this many buckets per series (each drawn as its min and max: ≤2,000 points).
pub const MAX_BUCKETS: i64 = 1000;

wire_enum!(
    /// The channels a chart can draw (named as in the log format).
    ChartChannel {
        Speed = "speed_kmh",
        AccelPedal = "accel_pedal_pct",
        BrakePedal = "brake_pedal",
        BrakePressure = "brake_pressure_bar",
        Steering = "steering_angle_deg",
        Abs = "abs_active",
        Aeb = "aeb_state",
    }
);

impl ChartChannel {
    /// The unit shown on the axis (`""` for on/off and state channels).
    pub fn unit(self) -> &'static str {
        super::vocabulary::channel(self.as_str()).map_or("", |c| c.unit)
    }

    /// The fixed value range of on/off and state channels (`None`: from the data).
    pub fn fixed_range(self) -> Option<(f64, f64)> {
        match self {
            Self::BrakePedal | Self::Abs => Some((0.0, 1.0)),
            Self::Aeb => Some((0.0, 3.0)),
            Self::AccelPedal => Some((0.0, 100.0)),
            _ => None,
        }
    }
}

/// One bucket of a series: the lowest and highest value inside it
/// (equal when a bucket holds one sample).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub t_us: i64,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub channel: ChartChannel,
    pub points: Vec<ChartPoint>,
}

/// A chart's data: one series per channel over `[from_us, to_us)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub from_us: i64,
    pub to_us: i64,
    /// Bucket width in microseconds; 0 when every sample is drawn.
    pub bucket_us: i64,
    /// Samples summarised.
    pub samples: u64,
    pub series: Vec<Series>,
    /// A moment to mark (the event), if any.
    pub marker_us: Option<i64>,
}
