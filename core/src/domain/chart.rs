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
    /// Round instants for the time axis, labelled in the zone the reader
    /// reads (the vehicle's unless they chose another); empty when the axis
    /// is relative to the marked moment.
    #[serde(default)]
    pub ticks: Vec<TimeTick>,
}

/// A labelled instant on a chart's time axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeTick {
    pub t_us: i64,
    pub label: String,
}

/// Round values from `lo` to `hi`, 1, 2 or 5 × 10ⁿ apart, at most `max` of
/// them, each with its label (as many decimals as the step needs).
pub fn value_ticks(lo: f64, hi: f64, max: usize) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let raw = (hi - lo) / max.max(1) as f64;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            (v, super::vocabulary::number(v, decimals))
        })
        .collect()
}

/// Ticks on an axis relative to an instant (an event, a crash's time zero):
/// `−15 s … 0 … +15 s`, or in milliseconds for a crash pulse.
pub fn relative_ticks(from_us: i64, to_us: i64, zero_us: i64, millis: bool) -> Vec<TimeTick> {
    let unit = if millis { 1_000.0 } else { 1_000_000.0 };
    let symbol = if millis { "ms" } else { "s" };
    let lo = (from_us - zero_us) as f64 / unit;
    let hi = (to_us - zero_us) as f64 / unit;
    value_ticks(lo, hi, 8)
        .into_iter()
        .map(|(v, label)| TimeTick {
            t_us: zero_us + (v * unit).round() as i64,
            label: if v > 0.0 {
                format!("+{label} {symbol}")
            } else if v < 0.0 {
                format!("{label} {symbol}")
            } else {
                "0".to_string()
            },
        })
        .collect()
}

/// Which points start a new stroke: the first, and each that follows a pause
/// longer than the sampling interval, so a pause is drawn as a gap, never as
/// a line across it. The interval is read from the spacing around each step
/// (the upper median of the two steps before and the two after), so 10 Hz
/// windows inside 1 Hz driving join up while a lone sample between two
/// pauses stands alone; a missing bucket of a downsampled chart is a gap too.
pub fn stroke_starts(points: &[ChartPoint], bucket_us: i64) -> Vec<bool> {
    let steps: Vec<i64> = points.windows(2).map(|w| w[1].t_us - w[0].t_us).collect();
    let mut starts = Vec::with_capacity(points.len());
    if !points.is_empty() {
        starts.push(true);
    }
    for (i, step) in steps.iter().enumerate() {
        let mut around: Vec<i64> = steps[i.saturating_sub(2)..i]
            .iter()
            .chain(steps.iter().skip(i + 1).take(2))
            .copied()
            .collect();
        around.sort_unstable();
        let usual = around.get(around.len() / 2).copied().unwrap_or(*step);
        starts.push(*step > usual.max(bucket_us) * 3 / 2);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_s: f64) -> ChartPoint {
        let t_us = (t_s * 1e6) as i64;
        ChartPoint {
            t_us,
            min: 1.0,
            max: 1.0,
        }
    }

    #[test]
    fn value_ticks_are_round_and_have_no_artefacts() {
        let labels = |lo, hi| -> Vec<String> {
            value_ticks(lo, hi, 5).into_iter().map(|(_, l)| l).collect()
        };
        assert_eq!(labels(0.0, 118.5), ["0", "50", "100"]);
        assert_eq!(labels(0.0, 1.0), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(labels(-38.2, 4.1), ["−30", "−20", "−10", "0"]);
        assert_eq!(labels(0.1, 0.3), ["0.1", "0.15", "0.2", "0.25", "0.3"]);
        assert!(value_ticks(1.0, 1.0, 5).is_empty());
        assert!(value_ticks(f64::NAN, 1.0, 5).is_empty());
    }

    #[test]
    fn an_event_window_reads_from_minus_fifteen_to_plus_fifteen_seconds() {
        let zero = 1_000_000_000_000;
        let ticks = relative_ticks(zero - 15_000_000, zero + 15_000_000, zero, false);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["−15 s", "−10 s", "−5 s", "0", "+5 s", "+10 s", "+15 s"]
        );
        assert_eq!(ticks[3].t_us, zero);
        let pulse = relative_ticks(zero, zero + 250_000, zero, true);
        let labels: Vec<&str> = pulse.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["0", "+50 ms", "+100 ms", "+150 ms", "+200 ms", "+250 ms"]
        );
    }

    #[test]
    fn a_pause_longer_than_the_sampling_interval_lifts_the_pen() {
        // 1 Hz, a 3 s pause, 1 Hz again.
        let points: Vec<ChartPoint> = [0.0, 1.0, 2.0, 5.0, 6.0, 7.0].map(at).to_vec();
        assert_eq!(
            stroke_starts(&points, 0),
            [true, false, false, true, false, false]
        );
        // 10 Hz around an event inside 1 Hz driving: no gap at the change of rate.
        let mut mixed: Vec<f64> = (0..20).map(|i| i as f64).collect();
        mixed.extend((1..=30).map(|i| 19.0 + i as f64 / 10.0));
        mixed.extend((23..40).map(|i| i as f64));
        let points: Vec<ChartPoint> = mixed.into_iter().map(at).collect();
        let starts = stroke_starts(&points, 0);
        assert_eq!(starts.iter().filter(|s| **s).count(), 1, "{starts:?}");
        // Buckets: a missing bucket is a gap.
        let points: Vec<ChartPoint> = [0.0, 60.0, 120.0, 240.0, 300.0].map(at).to_vec();
        assert_eq!(
            stroke_starts(&points, 60_000_000),
            [true, false, false, true, false]
        );
        // A lone sample between two pauses is drawn alone.
        let points: Vec<ChartPoint> = [0.0, 1.0, 2.0, 302.0, 702.0, 703.0, 704.0].map(at).to_vec();
        assert_eq!(
            stroke_starts(&points, 0),
            [true, false, false, true, true, false, false]
        );
        assert!(stroke_starts(&[], 0).is_empty());
    }
}
