//! NDJSON in the interchange format: the vehicle, its samples, events and
//! crash records within the export. Importing it into an empty portal gives
//! the same data back; unknown fields kept at import (`extra`) go back out.

use super::{for_each_sample, Plan, Sink};
use crate::domain::log_format::{EdrLine, EventLine, VehicleLine};
use crate::domain::sharing::DataClass;
use crate::server::error::ServiceError;
use crate::server::localtime::format_local_rfc3339;
use crate::server::store::{EventPageRequest, Store};
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
    lines += for_each_sample(&store, plan, sink, |s, out| {
        let mut line = Map::new();
        line.insert("kind".into(), "sample".into());
        line.insert("vin".into(), vin.clone().into());
        line.insert("t".into(), format_local_rfc3339(s.t_us, &zone).into());
        let mut channels = s.channels.clone();
        (channels.lat, channels.lon) = plan.positions.show(channels.lat, channels.lon);
        for (k, value) in object(&channels)? {
            if columns.iter().any(|(name, _)| *name == k) {
                line.insert(k, value);
            }
        }
        push_line(out, &with_extra(line, s.extra.as_deref()))
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
        for e in &events {
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
        match events.last() {
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
