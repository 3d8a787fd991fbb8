//! One sample's channels as the export formats write them: each channel
//! read once per column into a typed value (a number, an on/off flag or a
//! code), positions as the reader may see them. CSV writes the values as
//! text, Parquet into typed columns.

use crate::domain::log_format::SampleChannels;
use crate::server::privacy::PositionView;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A channel's value in one sample, absent when the sample lacks it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ChannelValue {
    Number(Option<f64>),
    Flag(Option<bool>),
    Code(Option<&'static str>),
}

/// Reads one channel of a sample (chosen once per column, not per cell).
pub(crate) type ChannelReader = fn(&SampleChannels, &PositionView) -> ChannelValue;

use ChannelValue::{Code, Flag, Number};

/// The reader of the channel `name` (of `CHANNELS`).
pub(crate) fn reader(name: &str) -> ChannelReader {
    match name {
        "speed_kmh" => |c, _| Number(c.speed_kmh),
        "accel_pedal_pct" => |c, _| Number(c.accel_pedal_pct),
        "brake_pedal" => |c, _| Flag(c.brake_pedal),
        "brake_pressure_bar" => |c, _| Number(c.brake_pressure_bar),
        "steering_angle_deg" => |c, _| Number(c.steering_angle_deg),
        "long_accel_mps2" => |c, _| Number(c.long_accel_mps2),
        "lat_accel_mps2" => |c, _| Number(c.lat_accel_mps2),
        "yaw_rate_dps" => |c, _| Number(c.yaw_rate_dps),
        "gear" => |c, _| Code(c.gear.map(|g| g.as_str())),
        "abs_active" => |c, _| Flag(c.abs_active),
        "esc_active" => |c, _| Flag(c.esc_active),
        "aeb_state" => |c, _| Code(c.aeb_state.map(|s| s.as_str())),
        "fcw" => |c, _| Flag(c.fcw),
        "adas_state" => |c, _| Code(c.adas_state.map(|s| s.as_str())),
        "motor_torque_nm" => |c, _| Number(c.motor_torque_nm),
        "odometer_km" => |c, _| Number(c.odometer_km),
        "soc_pct" => |c, _| Number(c.soc_pct),
        "belt_driver" => |c, _| Flag(c.belt_driver),
        "lat" => |c, positions| Number(positions.show(c.lat, c.lon).0),
        "lon" => |c, positions| Number(positions.show(c.lat, c.lon).1),
        "heading_deg" => |c, _| Number(c.heading_deg),
        _ => |_, _| Code(None),
    }
}

/// Where a format's writer puts its bytes until they are moved to the sink
/// (the writer owns its output; this lets the bytes be taken out as they come).
#[derive(Clone, Default)]
pub(crate) struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |b| b.len())
    }

    pub fn drain_into(&self, out: &mut Vec<u8>) {
        if let Ok(mut bytes) = self.0.lock() {
            out.append(&mut bytes);
        }
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("export buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::LocationRedaction;
    use crate::domain::log_format::CHANNELS;

    #[test]
    fn every_channel_has_a_reader_that_reads_it() {
        let full = PositionView {
            level: LocationRedaction::Full,
            zones: Vec::new(),
        };
        let mut sample = serde_json::Map::new();
        for c in CHANNELS {
            let value = match c.name {
                "brake_pedal" | "abs_active" | "esc_active" | "fcw" | "belt_driver" => {
                    serde_json::json!(true)
                }
                "gear" => serde_json::json!("D"),
                "aeb_state" => serde_json::json!("standby"),
                "adas_state" => serde_json::json!("off"),
                _ => serde_json::json!(1.5),
            };
            sample.insert(c.name.to_string(), value);
        }
        let channels: SampleChannels = serde_json::from_value(sample.into()).unwrap();
        for c in CHANNELS {
            let read = reader(c.name)(&channels, &full);
            assert!(
                !matches!(read, Number(None) | Flag(None) | Code(None)),
                "{}: {read:?}",
                c.name
            );
        }
    }
}
