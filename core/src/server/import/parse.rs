//! Parses and validates one NDJSON line of the interchange format. Pure and
//! synchronous: the import pipeline runs it on a blocking thread.

use crate::domain::log_format::{
    EdrLine, EventLine, PreCrashSample, RecordKind, SampleChannels, SampleLine, VehicleLine,
    CHANNEL_RANGES,
};
use crate::domain::records::{EdrRecord, Event, Position, Sample, Vehicle};
use crate::domain::sealed::{PositionLine, SealLine, VehicleKey};
use crate::domain::time::parse_rfc3339_micros;
use crate::domain::Vin;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// One problem found in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub reason: String,
}

/// A line that parsed and validated. `vin` is normalised to upper case.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A vehicle, with its certified keys (format 1.1; unchecked here).
    Vehicle(Vehicle, Vec<VehicleKey>),
    Sample {
        vin: Arc<str>,
        sample: Sample,
    },
    Event {
        vin: Arc<str>,
        event: Event,
    },
    Edr {
        vin: Arc<str>,
        edr: EdrRecord,
    },
    Position {
        vin: Arc<str>,
        position: Position,
    },
    /// A seal's own fields are checked where its key is known (the import).
    Seal {
        vin: Arc<str>,
        seal: SealLine,
    },
}

/// Parses lines; remembers the last VIN so consecutive samples share one allocation.
pub struct LineParser {
    strict: bool,
    trusts_vehicle_ca: bool,
    last_vin: Arc<str>,
}

type LineResult<T> = Result<T, Vec<LineError>>;

impl LineParser {
    /// `strict`: unknown fields are errors (the default for import); otherwise
    /// they are kept verbatim in the record's `extra` object.
    pub fn new(strict: bool) -> Self {
        LineParser {
            strict,
            trusts_vehicle_ca: false,
            last_vin: Arc::from(""),
        }
    }

    /// Whether a vehicle CA is configured: it decides how a sealed line
    /// (format 1.1) is refused.
    pub fn trusting_vehicle_cas(mut self, configured: bool) -> Self {
        self.trusts_vehicle_ca = configured;
        self
    }

    /// Whether format 1.1 lines are read (a vehicle CA is configured); the
    /// import then keeps each line's exact text for the seals.
    pub fn reads_sealed_logs(&self) -> bool {
        self.trusts_vehicle_ca
    }

    /// The refusal of a format 1.1 line (`seal`, `position`, vehicle `keys`)
    /// when no vehicle CA is configured.
    fn sealed_line(&self, line: u64, field: &str) -> Vec<LineError> {
        let reason = "sealed logs (format 1.1) are checked against a trusted vehicle CA, and \
             this portal trusts none: configure one with --vehicle-ca FILE or PORTAL_VEHICLE_CA \
             (a JSON list of {\"id\", \"public\"})";
        vec![LineError {
            line,
            field: Some(field.into()),
            reason: reason.into(),
        }]
    }

    pub fn parse(&mut self, line: u64, text: &str) -> LineResult<Parsed> {
        // Fast path: almost every line is a sample written with `kind` first.
        let kind = if text.starts_with(r#"{"kind":"sample""#) {
            RecordKind::Sample
        } else {
            match kind_of(line, text)? {
                RecordKind::Position | RecordKind::Seal if !self.trusts_vehicle_ca => {
                    return Err(self.sealed_line(line, "kind"))
                }
                kind => kind,
            }
        };
        match kind {
            RecordKind::Sample => {
                let (l, extra) = self.decode::<SampleLine>(line, text)?;
                let vin = self.intern_vin(&l.vin);
                let t_us = time_field(line, "t", &l.t)?;
                let channels = l.channels();
                let mut errors = Vec::new();
                check_channels(line, "", &channels, &mut errors);
                done(
                    errors,
                    Parsed::Sample {
                        vin,
                        sample: Sample {
                            t_us,
                            channels,
                            extra,
                        },
                    },
                )
            }
            RecordKind::Vehicle => {
                let (l, extra) = self.decode::<VehicleLine>(line, text)?;
                if !l.keys.is_empty() && !self.trusts_vehicle_ca {
                    return Err(self.sealed_line(line, "keys"));
                }
                vehicle_from_line(line, l, extra)
            }
            RecordKind::Position => {
                let l: PositionLine = strict_decode(line, text)?;
                let vin = self.intern_vin(&l.vin);
                position_from_line(line, l).map(|position| Parsed::Position { vin, position })
            }
            RecordKind::Seal => {
                let seal: SealLine = strict_decode(line, text)?;
                let vin = self.intern_vin(&seal.vin);
                Ok(Parsed::Seal { vin, seal })
            }
            RecordKind::Event => {
                let (l, extra) = self.decode::<EventLine>(line, text)?;
                let vin = self.intern_vin(&l.vin);
                event_from_line(line, l, extra).map(|event| Parsed::Event { vin, event })
            }
            RecordKind::Edr => {
                let (l, extra) = self.decode::<EdrLine>(line, text)?;
                let vin = self.intern_vin(&l.vin);
                edr_from_line(line, l, extra).map(|edr| Parsed::Edr { vin, edr })
            }
        }
    }

    fn intern_vin(&mut self, vin: &str) -> Arc<str> {
        let vin = vin.trim();
        if !self.last_vin.eq_ignore_ascii_case(vin) {
            self.last_vin = Arc::from(vin.to_ascii_uppercase());
        }
        self.last_vin.clone()
    }

    /// Decodes a line into its wire struct; in lenient mode unknown top-level
    /// fields are split off into `extra` (a JSON object, as text).
    fn decode<T: DeserializeOwned>(
        &self,
        line: u64,
        text: &str,
    ) -> LineResult<(T, Option<String>)> {
        match serde_json::from_str::<T>(text) {
            Ok(v) => Ok((v, None)),
            Err(_) if !self.strict => {
                let mut object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(text).map_err(|e| vec![json_error(line, None, &e)])?;
                let known = struct_fields::<T>();
                let unknown: Vec<String> = object
                    .keys()
                    .filter(|k| !known.contains(&k.as_str()))
                    .cloned()
                    .collect();
                let mut extra = serde_json::Map::new();
                for key in unknown {
                    let value = object.remove(&key).expect("key listed from this map");
                    extra.insert(key, value);
                }
                let value = serde_json::Value::Object(object);
                let decoded: T = serde_path_to_error::deserialize(&value).map_err(|e| {
                    vec![LineError {
                        line,
                        field: field_of(e.path()),
                        reason: strip_location(&e.inner().to_string()),
                    }]
                })?;
                let extra =
                    (!extra.is_empty()).then(|| serde_json::Value::Object(extra).to_string());
                Ok((decoded, extra))
            }
            Err(_) => {
                // Decode again, tracking the path, to name the offending field.
                let mut de = serde_json::Deserializer::from_str(text);
                match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Ok(_) => unreachable!("the same input failed above"),
                    Err(e) => Err(vec![json_error(line, field_of(e.path()), e.inner())]),
                }
            }
        }
    }
}

fn done<T>(errors: Vec<LineError>, value: T) -> LineResult<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Decodes a line that has no lenient mode (format 1.1 lines are signed as
/// they are: an unknown field is an error), naming the offending field.
fn strict_decode<T: DeserializeOwned>(line: u64, text: &str) -> LineResult<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|e| vec![json_error(line, field_of(e.path()), e.inner())])
}

/// Reads only the `kind` of a line.
fn kind_of(line: u64, text: &str) -> LineResult<RecordKind> {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: Option<String>,
    }
    let probe: KindOnly = serde_json::from_str(text).map_err(|e| {
        let reason = if e.is_data() {
            "a line must be a JSON object with a \"kind\"".to_string()
        } else {
            format!("invalid JSON: {}", strip_location(&e.to_string()))
        };
        vec![LineError {
            line,
            field: None,
            reason,
        }]
    })?;
    let kind = probe.kind.ok_or_else(|| {
        vec![LineError {
            line,
            field: Some("kind".into()),
            reason: "missing; expected vehicle, sample, event, edr, position or seal".into(),
        }]
    })?;
    RecordKind::parse(&kind).ok_or_else(|| {
        vec![LineError {
            line,
            field: Some("kind".into()),
            reason: format!(
                "unknown kind `{kind}`; expected vehicle, sample, event, edr, position or seal"
            ),
        }]
    })
}

fn json_error(line: u64, field: Option<String>, e: &serde_json::Error) -> LineError {
    let message = strip_location(&e.to_string());
    let reason = if e.is_syntax() || e.is_eof() {
        format!("invalid JSON: {message}")
    } else {
        message
    };
    LineError {
        line,
        field,
        reason,
    }
}

fn field_of(path: &serde_path_to_error::Path) -> Option<String> {
    let p = path.to_string();
    (p != ".").then_some(p)
}

/// serde_json appends " at line 1 column N"; the line is ours, the column noise.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn time_field(line: u64, field: &str, value: &str) -> LineResult<i64> {
    parse_rfc3339_micros(value).map_err(|reason| {
        vec![LineError {
            line,
            field: Some(field.into()),
            reason,
        }]
    })
}

fn check_range(
    line: u64,
    field: impl FnOnce() -> String,
    value: Option<f64>,
    lo: f64,
    hi: f64,
    errors: &mut Vec<LineError>,
) {
    if let Some(v) = value {
        if !(lo..=hi).contains(&v) {
            errors.push(LineError {
                line,
                field: Some(field()),
                reason: format!("{v} is outside {lo}–{hi}"),
            });
        }
    }
}

/// Range checks from the spec's channel table. Field names are built only
/// for an error: this runs for every sample.
fn check_channels(line: u64, prefix: &str, c: &SampleChannels, errors: &mut Vec<LineError>) {
    // In `CHANNEL_RANGES`' order.
    let values = [
        c.speed_kmh,
        c.accel_pedal_pct,
        c.brake_pressure_bar,
        c.soc_pct,
        c.odometer_km,
        c.lat,
        c.lon,
        c.heading_deg,
    ];
    for ((name, lo, hi), value) in CHANNEL_RANGES.into_iter().zip(values) {
        check_range(line, || format!("{prefix}{name}"), value, lo, hi, errors);
    }
}

fn check_pre_crash(line: u64, i: usize, p: &PreCrashSample, errors: &mut Vec<LineError>) {
    let channels = SampleChannels {
        speed_kmh: p.speed_kmh,
        accel_pedal_pct: p.accel_pedal_pct,
        brake_pressure_bar: p.brake_pressure_bar,
        ..SampleChannels::default()
    };
    check_channels(line, &format!("pre_crash.samples[{i}]."), &channels, errors);
    check_range(
        line,
        || format!("pre_crash.samples[{i}].engine_rpm"),
        p.engine_rpm,
        0.0,
        20_000.0,
        errors,
    );
    if !(-20_000..=0).contains(&p.t_ms) {
        errors.push(LineError {
            line,
            field: Some(format!("pre_crash.samples[{i}].t_ms")),
            reason: format!("{} is outside -20000–0 ms", p.t_ms),
        });
    }
}

fn vehicle_from_line(line: u64, l: VehicleLine, extra: Option<String>) -> LineResult<Parsed> {
    let mut errors = Vec::new();
    let vin = Vin::parse(&l.vin)
        .map_err(|e| {
            errors.push(LineError {
                line,
                field: Some("vin".into()),
                reason: e.to_string(),
            })
        })
        .ok();
    if l.timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.push(LineError {
            line,
            field: Some("timezone".into()),
            reason: format!(
                "`{}` is not an IANA time zone name (e.g. Asia/Shanghai)",
                l.timezone
            ),
        });
    }
    if let Some(year) = l.model_year {
        if !(1980..=2100).contains(&year) {
            errors.push(LineError {
                line,
                field: Some("model_year".into()),
                reason: format!("{year} is outside 1980–2100"),
            });
        }
    }
    match vin {
        Some(vin) if errors.is_empty() => Ok(Parsed::Vehicle(
            Vehicle {
                vin,
                model: l.model,
                model_year: l.model_year,
                market: l.market,
                timezone: l.timezone,
                edr_ecu: l.edr_ecu,
                extra,
            },
            l.keys,
        )),
        _ => Err(errors),
    }
}

fn position_from_line(line: u64, l: PositionLine) -> LineResult<Position> {
    let t_us = time_field(line, "t", &l.t)?;
    let mut errors = Vec::new();
    let channels = SampleChannels {
        lat: Some(l.lat),
        lon: Some(l.lon),
        heading_deg: l.heading_deg,
        ..SampleChannels::default()
    };
    check_channels(line, "", &channels, &mut errors);
    if let Err((field, reason)) = crate::server::seal::lines::check_position(&l) {
        errors.push(LineError {
            line,
            field: Some(field),
            reason,
        });
    }
    done(
        errors,
        Position {
            t_us,
            lat: l.lat,
            lon: l.lon,
            heading_deg: l.heading_deg,
            nonce: l.nonce,
        },
    )
}

fn check_id(line: u64, field: &str, id: &str, errors: &mut Vec<LineError>) {
    if id.trim().is_empty() || id.len() > 128 {
        errors.push(LineError {
            line,
            field: Some(field.into()),
            reason: "must be 1–128 characters".into(),
        });
    }
}

fn event_from_line(line: u64, l: EventLine, extra: Option<String>) -> LineResult<Event> {
    let mut errors = Vec::new();
    check_id(line, "id", &l.id, &mut errors);
    let t_us = time_field(line, "t", &l.t)?;
    done(
        errors,
        Event {
            id: l.id,
            t_us,
            event_type: l.event_type,
            severity: l.severity,
            trigger: l.trigger,
            note: l.note,
            extra,
        },
    )
}

fn edr_from_line(line: u64, l: EdrLine, extra: Option<String>) -> LineResult<EdrRecord> {
    let mut errors = Vec::new();
    check_id(line, "event_id", &l.event_id, &mut errors);
    let t0_us = time_field(line, "t0", &l.t0)?;
    if l.pre_crash.rate_hz != 2.0 && l.pre_crash.rate_hz != 10.0 {
        errors.push(LineError {
            line,
            field: Some("pre_crash.rate_hz".into()),
            reason: format!("{} Hz; expected 2 or 10", l.pre_crash.rate_hz),
        });
    }
    for (i, p) in l.pre_crash.samples.iter().enumerate() {
        check_pre_crash(line, i, p, &mut errors);
    }
    if l.delta_v.rate_hz != 100.0 {
        errors.push(LineError {
            line,
            field: Some("delta_v.rate_hz".into()),
            reason: format!("{} Hz; expected 100", l.delta_v.rate_hz),
        });
    }
    for (i, d) in l.delta_v.samples.iter().enumerate() {
        if !(0..=300).contains(&d.t_ms) {
            errors.push(LineError {
                line,
                field: Some(format!("delta_v.samples[{i}].t_ms")),
                reason: format!("{} is outside 0–300 ms", d.t_ms),
            });
        }
    }
    let mut positions: Vec<&str> = l.airbags.iter().map(|a| a.position.as_str()).collect();
    positions.sort_unstable();
    if positions.windows(2).any(|w| w[0] == w[1]) {
        errors.push(LineError {
            line,
            field: Some("airbags".into()),
            reason: "an airbag position is listed twice".into(),
        });
    }
    let mut times: Vec<i32> = l.pre_crash.samples.iter().map(|p| p.t_ms).collect();
    times.sort_unstable();
    if times.windows(2).any(|w| w[0] == w[1]) {
        errors.push(LineError {
            line,
            field: Some("pre_crash.samples".into()),
            reason: "two samples share one t_ms".into(),
        });
    }
    let mut times: Vec<i32> = l.delta_v.samples.iter().map(|d| d.t_ms).collect();
    times.sort_unstable();
    if times.windows(2).any(|w| w[0] == w[1]) {
        errors.push(LineError {
            line,
            field: Some("delta_v.samples".into()),
            reason: "two samples share one t_ms".into(),
        });
    }
    done(
        errors,
        EdrRecord {
            event_id: l.event_id,
            t0_us,
            standard: l.standard,
            trigger: l.trigger,
            locked: l.locked,
            complete: l.complete,
            ignition_cycle_crash: l.ignition_cycle_crash,
            ignition_cycle_download: l.ignition_cycle_download,
            max_delta_v_long_kmh: l.max_delta_v_long_kmh,
            time_max_delta_v_ms: l.time_max_delta_v_ms,
            max_delta_v_lat_kmh: l.max_delta_v_lat_kmh,
            belt_driver: l.belt_driver,
            airbags: l.airbags,
            pre_crash: l.pre_crash,
            delta_v: l.delta_v,
            extra,
        },
    )
}

/// The field names a derived `Deserialize` struct accepts, read from serde
/// itself so the lenient split can never drift from the structs.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probe only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIN: &str = "LRW3E7EK9NC000017";

    fn parse(text: &str) -> LineResult<Parsed> {
        LineParser::new(true).parse(7, text)
    }

    fn only_error(text: &str) -> LineError {
        let errors = parse(text).expect_err("line must be rejected");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn parses_a_sample_with_offset_and_lower_case_vin() {
        let text = format!(
            r#"{{"kind":"sample","vin":"{}","t":"2021-02-21T10:15:02.100+08:00","speed_kmh":118.5,"brake_pedal":true,"gear":"D","aeb_state":"braking"}}"#,
            VIN.to_lowercase()
        );
        match parse(&text).unwrap() {
            Parsed::Sample { vin, sample } => {
                assert_eq!(&*vin, VIN);
                assert_eq!(sample.t_us, 1_613_873_702_100_000);
                assert_eq!(sample.channels.speed_kmh, Some(118.5));
                assert_eq!(
                    sample.channels.accel_pedal_pct, None,
                    "absent stays absent, never 0"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_field_and_reason_for_each_error_class() {
        let e =
            only_error(r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02","speed_kmh":1}"#);
        assert_eq!(e.field.as_deref(), Some("t"));
        assert!(e.reason.contains("offset"), "{}", e.reason);

        let e =
            only_error(r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02Z","speed_kmh":301}"#);
        assert_eq!((e.line, e.field.as_deref()), (7, Some("speed_kmh")));
        assert!(e.reason.contains("outside 0–300"), "{}", e.reason);

        let e = only_error(r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02Z","gear":"X"}"#);
        assert_eq!(e.field.as_deref(), Some("gear"));
        assert!(e.reason.contains("unknown variant"), "{}", e.reason);

        let e = only_error(
            r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02Z","speed_kmh":"fast"}"#,
        );
        assert_eq!(e.field.as_deref(), Some("speed_kmh"));

        let e =
            only_error(r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02Z","colour":"red"}"#);
        assert!(e.reason.contains("unknown field `colour`"), "{}", e.reason);

        let e = only_error(r#"{"kind":"truck"}"#);
        assert_eq!(e.field.as_deref(), Some("kind"));

        let e = only_error(r#"{"kind":"sample", oops"#);
        assert!(e.reason.starts_with("invalid JSON"), "{}", e.reason);

        let e = only_error(
            r#"{"kind":"vehicle","vin":"LRW3E7EK8NC000017","timezone":"Asia/Shanghai"}"#,
        );
        assert_eq!(e.field.as_deref(), Some("vin"));
        assert!(e.reason.contains("expected '9' found '8'"), "{}", e.reason);

        let e = only_error(&format!(
            r#"{{"kind":"vehicle","vin":"{VIN}","timezone":"Mars/Olympus"}}"#
        ));
        assert_eq!(e.field.as_deref(), Some("timezone"));

        let e = only_error(&format!(
            r#"{{"kind":"event","vin":"{VIN}","id":"e1","t":"2021-02-21T10:15:02Z","type":"meteor","severity":"info"}}"#
        ));
        assert_eq!(e.field.as_deref(), Some("type"));
    }

    #[test]
    fn reports_every_range_error_of_a_line() {
        let errors = parse(r#"{"kind":"sample","vin":"X","t":"2021-02-21T10:15:02Z","speed_kmh":-1,"soc_pct":101,"lat":91}"#)
            .unwrap_err();
        let fields: Vec<_> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, ["speed_kmh", "soc_pct", "lat"]);
    }

    #[test]
    fn lenient_mode_keeps_unknown_fields_in_extra() {
        let mut p = LineParser::new(false);
        let text = format!(
            r#"{{"kind":"sample","vin":"{VIN}","t":"2021-02-21T10:15:02Z","speed_kmh":5,"colour":"red"}}"#
        );
        match p.parse(1, &text).unwrap() {
            Parsed::Sample { sample, .. } => {
                assert_eq!(sample.extra.as_deref(), Some(r#"{"colour":"red"}"#));
                assert_eq!(sample.channels.speed_kmh, Some(5.0));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn struct_fields_reads_serde_field_names() {
        let fields = struct_fields::<SampleLine>();
        assert!(
            fields.contains(&"speed_kmh")
                && fields.contains(&"heading_deg")
                && fields.contains(&"kind")
        );
        assert_eq!(
            struct_fields::<EventLine>()
                .iter()
                .filter(|f| **f == "type")
                .count(),
            1
        );
    }
}
