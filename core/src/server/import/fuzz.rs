//! Property tests of the NDJSON parser and validator: whatever a line holds,
//! the parser answers (a record or errors naming the line), never panics;
//! a valid record comes back with exactly its values. The bounded case
//! count keeps the suite quick; `PROPTEST_CASES=100000 cargo test …
//! import::fuzz` runs longer (docs/reliability.md).

use super::{LineParser, Parsed};
use proptest::prelude::*;
use serde_json::{json, Value};

const LINE: u64 = 42;
const VIN: &str = "LRW3E7EK9NC000017";

/// 512 per property in the suite; `PROPTEST_CASES` for longer runs.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

/// Parses in strict and lenient mode; every error must name the line.
fn parse_both(text: &str) -> Vec<Result<Parsed, Vec<super::LineError>>> {
    [true, false]
        .into_iter()
        .map(|strict| {
            let parsed = LineParser::new(strict).parse(LINE, text);
            if let Err(errors) = &parsed {
                assert!(!errors.is_empty(), "rejected without a reason: {text}");
                for e in errors {
                    assert_eq!(e.line, LINE, "{e:?} for {text}");
                    assert!(!e.reason.is_empty(), "{e:?}");
                }
            }
            parsed
        })
        .collect()
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![
            Just(1e308),
            Just(-0.0),
            Just(f64::MIN_POSITIVE),
            Just(300.000001)
        ]
        .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("2021-02-21T10:15:02+08:00"),
            Just("2021-02-21T10:15:02"),
            Just("9999-12-31T23:59:59.999999Z"),
            Just("0000-01-01T00:00:00Z"),
            Just("2021-02-30T00:00:00Z"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid line of each kind, to mutate.
fn seeds() -> Vec<Value> {
    vec![
        json!({"kind":"vehicle","vin":VIN,"timezone":"Asia/Shanghai","model":"X"}),
        json!({"kind":"sample","vin":VIN,"t":"2021-02-21T10:15:02.100+08:00","speed_kmh":118.5,
               "brake_pedal":true,"brake_pressure_bar":80.0,"gear":"D","aeb_state":"braking","lat":31.2,"lon":121.4}),
        json!({"kind":"event","vin":VIN,"id":"e1","t":"2021-02-21T10:15:02Z","type":"hard_brake","severity":"warning"}),
        json!({"kind":"edr","vin":VIN,"event_id":"e1","t0":"2021-02-21T10:15:02Z",
               "standard":"GB 39732-2020","trigger":"delta_v","locked":true,"complete":false,
               "max_delta_v_long_kmh":-28.4,"belt_driver":"buckled",
               "airbags":[{"position":"driver_front","deploy_ms":38.0}],
               "pre_crash":{"rate_hz":2.0,"samples":[{"t_ms":-500,"speed_kmh":50.0,"brake_pedal":true}]},
               "delta_v":{"rate_hz":100.0,"samples":[{"t_ms":0,"long_kmh":0.0}]}}),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_text_gets_an_answer(text in "\\PC{0,200}") {
        parse_both(&text);
    }

    #[test]
    fn any_json_object_gets_an_answer(kind in prop_oneof![
        Just("sample"), Just("vehicle"), Just("event"), Just("edr"), Just("truck")
    ], fields in prop::collection::btree_map("[a-z_]{1,20}", any_json(), 0..8)) {
        let mut object: serde_json::Map<String, Value> = fields.into_iter().collect();
        object.insert("kind".into(), json!(kind));
        parse_both(&Value::Object(object).to_string());
    }

    #[test]
    fn a_valid_line_with_one_field_changed_gets_an_answer(
        seed in 0..4usize,
        field in 0..12usize,
        value in any_json(),
        drop_it in any::<bool>(),
    ) {
        let mut line = seeds().swap_remove(seed);
        let object = line.as_object_mut().unwrap();
        let key = object.keys().nth(field % object.len()).unwrap().clone();
        if drop_it { object.remove(&key); } else { object.insert(key, value); }
        parse_both(&line.to_string());
    }

    #[test]
    fn a_valid_sample_comes_back_with_its_values(
        t_s in 946_684_800i64..4_102_444_800,
        micros in 0i64..1_000_000,
        offset_min in -720i32..=840,
        speed in 0.0f64..=300.0,
        pressure in proptest::option::of(0.0f64..=250.0),
        brake in proptest::option::of(any::<bool>()),
    ) {
        let offset = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
        let t_us = t_s * 1_000_000 + micros;
        let t = chrono::DateTime::from_timestamp_micros(t_us).unwrap().with_timezone(&offset);
        let mut line = json!({"kind":"sample","vin":VIN.to_lowercase(),
            "t": t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false),"speed_kmh":speed});
        if let Some(p) = pressure { line["brake_pressure_bar"] = json!(p); }
        if let Some(b) = brake { line["brake_pedal"] = json!(b); }
        for parsed in parse_both(&line.to_string()) {
            match parsed {
                Ok(Parsed::Sample { vin, sample }) => {
                    prop_assert_eq!(&*vin, VIN);
                    prop_assert_eq!(sample.t_us, t_us);
                    prop_assert_eq!(sample.channels.speed_kmh, Some(speed));
                    prop_assert_eq!(sample.channels.brake_pressure_bar, pressure);
                    prop_assert_eq!(sample.channels.brake_pedal, brake);
                    prop_assert_eq!(sample.channels.accel_pedal_pct, None);
                }
                other => prop_assert!(false, "{line}: {other:?}"),
            }
        }
    }
}

#[test]
fn the_seeds_are_valid() {
    for seed in seeds() {
        for parsed in parse_both(&seed.to_string()) {
            assert!(parsed.is_ok(), "{seed}: {parsed:?}");
        }
    }
}
