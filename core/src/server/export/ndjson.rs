//! NDJSON in the interchange format: the vehicle, its samples, events and
//! crash records within the export. Importing it into an empty portal gives
//! the same data back; unknown fields kept at import (`extra`) go back out.

use super::channels::{reader, ChannelReader, ChannelValue};
use super::{for_each_sample, Plan, Sink};
use crate::domain::log_format::{EdrLine, EventLine, VehicleLine};
use crate::domain::records::Sample;
use crate::domain::sharing::DataClass;
use crate::server::error::ServiceError;
use crate::server::localtime::{format_local_rfc3339, zone, TimeWriter};
use crate::server::privacy::PositionView;
use crate::server::store::{EventPageRequest, Store};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Adds the record's kept unknown fields back (they never replace known ones).
fn with_extra(mut line: Map<String, Value>, extra: Option<&str>) -> Map<String, Value> {
    if let Some(Ok(Value::Object(extra))) = extra.map(serde_json::from_str::<Value>) {
        for (k, v) in extra {
            line.entry(k).or_insert(v);
        }
    }
    line
}

fn object<T: serde::Serialize>(value: &T) -> Result<Map<String, Value>, ServiceError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ServiceError::Internal("a record is not an object".into())),
        Err(e) => Err(ServiceError::Internal(format!("writing NDJSON: {e}"))),
    }
}

fn push_line(out: &mut Vec<u8>, line: &Map<String, Value>) -> Result<(), ServiceError> {
    serde_json::to_writer(&mut *out, line)
        .map_err(|e| ServiceError::Internal(format!("writing NDJSON: {e}")))?;
    out.push(b'\n');
    Ok(())
}

/// A sample line through serde_json's map: the general way, which keeps
/// the sample's unknown fields.
fn sample_line(
    s: &Sample,
    vin: &str,
    zone: &str,
    columns: &[(&'static str, &'static str)],
    positions: &PositionView,
) -> Result<Map<String, Value>, ServiceError> {
    let mut line = Map::new();
    line.insert("kind".into(), "sample".into());
    line.insert("vin".into(), vin.into());
    line.insert("t".into(), format_local_rfc3339(s.t_us, zone).into());
    let mut channels = s.channels.clone();
    (channels.lat, channels.lon) = positions.show(channels.lat, channels.lon);
    for (k, value) in object(&channels)? {
        if columns.iter().any(|(name, _)| *name == k) {
            line.insert(k, value);
        }
    }
    Ok(with_extra(line, s.extra.as_deref()))
}

/// What a sample line holds under one key.
enum Field {
    Kind,
    Vin,
    T,
    Channel(ChannelReader),
}

/// Writes the lines of samples without unknown fields byte for byte as
/// [`sample_line`] would (keys in serde_json's sorted order, its number
/// format), without building a map per sample: a whole history's bundle
/// writes a million of them.
struct SampleLineWriter {
    /// `"name":` and what follows it, in the order the map writes them.
    fields: Vec<(String, Field)>,
    vin: String,
    times: TimeWriter,
    time: String,
}

impl SampleLineWriter {
    fn new(vin: &str, zone_name: &str, columns: &[(&'static str, &'static str)]) -> Self {
        let mut named: Vec<(&str, Field)> =
            vec![("kind", Field::Kind), ("vin", Field::Vin), ("t", Field::T)];
        named.extend(
            columns
                .iter()
                .map(|(name, _)| (*name, Field::Channel(reader(name)))),
        );
        named.sort_by(|a, b| a.0.cmp(b.0));
        let fields = named
            .into_iter()
            .map(|(name, field)| (format!("{}:", Value::from(name)), field))
            .collect();
        SampleLineWriter {
            fields,
            vin: Value::from(vin).to_string(),
            times: TimeWriter::new(zone(zone_name)),
            time: String::new(),
        }
    }

    fn write(&mut self, out: &mut Vec<u8>, s: &Sample, positions: &PositionView) {
        let mut first = true;
        out.push(b'{');
        for (key, field) in &self.fields {
            let mark = out.len();
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            match field {
                Field::Kind => out.extend_from_slice(b"\"sample\""),
                Field::Vin => out.extend_from_slice(self.vin.as_bytes()),
                Field::T => {
                    self.time.clear();
                    self.times.write_local(&mut self.time, s.t_us);
                    out.push(b'"');
                    out.extend_from_slice(self.time.as_bytes());
                    out.push(b'"');
                }
                Field::Channel(read) => match read(&s.channels, positions) {
                    ChannelValue::Number(Some(v)) if v.is_finite() => {
                        // serde_json's own number format (`1e+21`, not ryu's `1e21`);
                        // writing into a Vec cannot fail.
                        let _ = CompactFormatter.write_f64(out, v);
                    }
                    ChannelValue::Number(Some(_)) => out.extend_from_slice(b"null"),
                    ChannelValue::Flag(Some(v)) => {
                        out.extend_from_slice(if v { b"true" } else { b"false" })
                    }
                    // Codes are plain ASCII words: nothing to escape.
                    ChannelValue::Code(Some(code)) => {
                        out.push(b'"');
                        out.extend_from_slice(code.as_bytes());
                        out.push(b'"');
                    }
                    ChannelValue::Number(None)
                    | ChannelValue::Flag(None)
                    | ChannelValue::Code(None) => {
                        // Absent: take the key (and its comma) back out.
                        out.truncate(mark);
                        continue;
                    }
                },
            }
            first = false;
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Lines written, for the manifest.
pub(super) async fn write(
    store: Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<u64, ServiceError> {
    let mut lines = 1u64;
    let v = &plan.access.vehicle.vehicle;
    let vin = v.vin.to_string();
    let zone = v.timezone.clone();
    let vehicle = VehicleLine {
        kind: "vehicle".into(),
        vin: vin.clone(),
        model: v.model.clone(),
        model_year: v.model_year,
        market: v.market.clone(),
        timezone: v.timezone.clone(),
        edr_ecu: v.edr_ecu.clone(),
        keys: Vec::new(),
    };
    push_line(
        sink.buffer(),
        &with_extra(object(&vehicle)?, v.extra.as_deref()),
    )?;

    let columns = super::csv::columns(plan);
    let mut direct = SampleLineWriter::new(&vin, &zone, &columns);
    lines += for_each_sample(&store, plan, sink, |s, out| {
        if s.extra.is_none() {
            direct.write(out, s, &plan.positions);
            return Ok(());
        }
        push_line(
            out,
            &sample_line(s, &vin, &zone, &columns, &plan.positions)?,
        )
    })
    .await?;

    // Events of the export, then the crash records that belong to them.
    let vehicle_id = plan.access.vehicle.id;
    let mut page = EventPageRequest {
        descending: false,
        after: None,
        limit: 1000,
    };
    let mut crash_events = Vec::new();
    // A grant without events exports none (a grant of crash records alone
    // exports each crash record of the range, below).
    while plan.access.may_read(DataClass::Events) {
        let events = store
            .event_page(vehicle_id, &plan.access.ranges, &plan.events, &page)
            .await?;
        for e in events.iter().map(|p| &p.event) {
            let line = EventLine {
                kind: "event".into(),
                vin: vin.clone(),
                id: e.id.clone(),
                t: format_local_rfc3339(e.t_us, &zone),
                event_type: e.event_type,
                severity: e.severity,
                trigger: e.trigger.clone(),
                note: e.note.clone(),
            };
            push_line(
                sink.buffer(),
                &with_extra(object(&line)?, e.extra.as_deref()),
            )?;
            lines += 1;
            if e.event_type.is_crash() {
                crash_events.push(e.id.clone());
            }
        }
        sink.flush(false).await?;
        match events.last().map(|p| &p.event) {
            Some(last) if events.len() == page.limit as usize => {
                page.after = Some((last.t_us, last.id.clone()))
            }
            _ => break,
        }
    }
    if !plan.access.may_read(DataClass::Crash) {
        crash_events.clear();
    } else if !plan.access.may_read(DataClass::Events) {
        for range in &plan.access.ranges {
            for r in store.edr_records(vehicle_id, *range).await? {
                crash_events.push(r.event_id);
            }
        }
    }
    for id in crash_events {
        let Some(r) = store.edr_record(vehicle_id, &id).await? else {
            continue;
        };
        let line = EdrLine {
            kind: "edr".into(),
            vin: vin.clone(),
            event_id: r.event_id.clone(),
            t0: format_local_rfc3339(r.t0_us, &zone),
            standard: r.standard.clone(),
            trigger: r.trigger.clone(),
            locked: r.locked,
            complete: r.complete,
            ignition_cycle_crash: r.ignition_cycle_crash,
            ignition_cycle_download: r.ignition_cycle_download,
            max_delta_v_long_kmh: r.max_delta_v_long_kmh,
            time_max_delta_v_ms: r.time_max_delta_v_ms,
            max_delta_v_lat_kmh: r.max_delta_v_lat_kmh,
            belt_driver: r.belt_driver,
            airbags: r.airbags.clone(),
            pre_crash: r.pre_crash.clone(),
            delta_v: r.delta_v.clone(),
        };
        push_line(
            sink.buffer(),
            &with_extra(object(&line)?, r.extra.as_deref()),
        )?;
        lines += 1;
        sink.flush(false).await?;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::LocationRedaction;
    use crate::domain::log_format::{SampleChannels, CHANNELS};

    fn both_ways(s: &Sample, columns: &[(&'static str, &'static str)], positions: &PositionView) {
        let (vin, zone) = ("LFV2A21K6M4\"00001", "Europe/Berlin");
        let mut slow = Vec::new();
        push_line(
            &mut slow,
            &sample_line(s, vin, zone, columns, positions).unwrap(),
        )
        .unwrap();
        let mut fast = Vec::new();
        SampleLineWriter::new(vin, zone, columns).write(&mut fast, s, positions);
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(slow).unwrap()
        );
    }

    #[test]
    fn sample_lines_written_directly_are_the_map_s_bytes() {
        let mut every: serde_json::Map<String, Value> = serde_json::Map::new();
        for c in CHANNELS {
            let value = match c.name {
                "brake_pedal" | "abs_active" | "fcw" => serde_json::json!(true),
                "esc_active" | "belt_driver" => serde_json::json!(false),
                "gear" => serde_json::json!("D"),
                "aeb_state" => serde_json::json!("standby"),
                "adas_state" => serde_json::json!("off"),
                "lat" => serde_json::json!(31.230416),
                "lon" => serde_json::json!(121.473701),
                "odometer_km" => serde_json::json!(1e21),
                "long_accel_mps2" => serde_json::json!(-0.000123),
                _ => serde_json::json!(1.0),
            };
            every.insert(c.name.to_string(), value);
        }
        let full: SampleChannels = serde_json::from_value(every.into()).unwrap();
        let sparse = SampleChannels {
            speed_kmh: Some(42.5),
            steering_angle_deg: Some(f64::NAN),
            ..Default::default()
        };
        let all: Vec<_> = CHANNELS.iter().map(|c| (c.name, c.unit)).collect();
        let some: Vec<_> = all
            .iter()
            .copied()
            .filter(|(n, _)| n.starts_with('s') || *n == "lat")
            .collect();
        // Either side of a DST change, with and without fractions.
        for t_us in [
            0,
            1_711_846_799_500_000,
            1_711_846_800_000_000,
            1_700_000_000_000_001,
            -1,
        ] {
            for channels in [&full, &sparse, &SampleChannels::default()] {
                for level in [
                    LocationRedaction::Full,
                    LocationRedaction::Coarse,
                    LocationRedaction::None,
                ] {
                    let positions = PositionView {
                        level,
                        zones: Vec::new(),
                    };
                    let s = Sample {
                        t_us,
                        channels: channels.clone(),
                        extra: None,
                    };
                    both_ways(&s, &all, &positions);
                    both_ways(&s, &some, &positions);
                    both_ways(&s, &[], &positions);
                }
            }
        }
    }
}
