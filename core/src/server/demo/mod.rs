//! `portal demo`: realistic synthetic vehicle logs in the interchange format.
//! The output goes through the normal import, so demo data is exactly what
//! the data center could send. Deterministic for a given seed.
//!
//! By default the fleet seals its logs (format 1.1, `sealed.rs`): every
//! vehicle but the third, which sends format 1 as an older vehicle would.

mod sealed;

pub use sealed::{demo_ca, DEMO_CA_ID};
use sealed::{Covered, SealingWriter};

use crate::domain::log_format::{
    AdasState, AebState, Airbag, BeltStatus, DeltaV, DeltaVSample, EventType, Gear, PreCrash,
    PreCrashSample, SampleChannels, Severity, Trigger,
};
use crate::domain::Vin;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub vehicles: u32,
    pub days: u32,
    pub seed: u64,
    /// First day (UTC date) of the generated period.
    pub start: NaiveDate,
    /// Vehicles seal their logs (format 1.1, certified by [`demo_ca`]);
    /// without it every vehicle sends format 1.
    pub sealed: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            vehicles: 3,
            days: 21,
            seed: 2021,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
            sealed: true,
        }
    }
}

/// How much a generation wrote, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoCounts {
    pub vehicles: u64,
    pub samples: u64,
    pub events: u64,
    pub edr: u64,
    /// Format 1.1: positions and seals written, and seals made but lost.
    pub positions: u64,
    pub seals: u64,
    pub missing_batches: u64,
}

impl DemoCounts {
    fn add_sealing(&mut self, s: &sealed::SealCounts) {
        self.positions += s.positions - s.lost_records[Covered::Position as usize];
        self.samples -= s.lost_records[Covered::Sample as usize];
        self.events -= s.lost_records[Covered::Event as usize];
        self.edr -= s.lost_records[Covered::Edr as usize];
        self.seals += s.seals;
        self.missing_batches += s.lost;
    }
}

/// Whether demo vehicle `index` seals its logs: all but the third.
pub fn seals(config: &DemoConfig, index: u32) -> bool {
    config.sealed && index != 2
}

/// The demo vehicle that loses two batches on the way (seals 5 and 12).
const LOSES_BATCHES: u32 = 1;

struct Profile {
    model: &'static str,
    timezone: &'static str,
    home: (f64, f64),
}

const PROFILES: &[Profile] = &[
    Profile {
        model: "Aurora 3",
        timezone: "Asia/Shanghai",
        home: (31.2304, 121.4737),
    },
    Profile {
        model: "Aurora Y",
        timezone: "Asia/Urumqi",
        home: (43.8256, 87.6168),
    },
    Profile {
        model: "Aurora S",
        timezone: "Asia/Hong_Kong",
        home: (22.3193, 114.1694),
    },
    Profile {
        model: "Aurora 3",
        timezone: "Europe/Berlin",
        home: (52.5200, 13.4050),
    },
];

/// The VIN of demo vehicle `index` (check digit computed).
pub fn demo_vin(index: u32) -> Vin {
    Vin::with_check_digit(&format!("LDPA1B2C0RS{:06}", 100 + index))
        .expect("demo VIN stem is valid")
}

/// Writes the demo logs as NDJSON to `out`.
pub fn generate(config: &DemoConfig, out: &mut dyn Write) -> std::io::Result<DemoCounts> {
    generate_vehicles(config, 0..config.vehicles, out)
}

/// Writes the logs of the demo vehicles numbered `indices` (each exactly as
/// [`generate`] writes it in a larger fleet), so a very large fleet can be
/// written and imported a part at a time.
pub fn generate_vehicles(
    config: &DemoConfig,
    indices: std::ops::Range<u32>,
    out: &mut dyn Write,
) -> std::io::Result<DemoCounts> {
    let mut counts = DemoCounts::default();
    for index in indices {
        let profile = &PROFILES[index as usize % PROFILES.len()];
        let vin = demo_vin(index);
        let tz: Tz = profile.timezone.parse().expect("demo zones are IANA names");
        let mut rng = ChaCha8Rng::seed_from_u64(
            config
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(index as u64),
        );
        let (mut sealer, key) = if seals(config, index) {
            let lose = if index == LOSES_BATCHES {
                vec![5, 12]
            } else {
                Vec::new()
            };
            let (writer, key) = SealingWriter::new(config.seed, index, vin.as_str(), lose);
            (Some(writer), Some(key))
        } else {
            (None, None)
        };
        write_line(
            out,
            &VehicleOut {
                kind: "vehicle",
                vin: vin.as_str(),
                model: profile.model,
                model_year: 2024,
                market: if profile.timezone.starts_with("Asia/") {
                    "CN"
                } else {
                    "EU"
                },
                timezone: profile.timezone,
                edr_ecu: "ACM-2.1",
                keys: key.map(|k| vec![k]),
            },
        )?;
        counts.vehicles += 1;
        let mut car = Car::new(profile.home, rng.gen_range(3_000.0..40_000.0));
        let mut event_no = 0u32;
        for day in 0..config.days {
            let date = config.start + Duration::days(day as i64);
            // The first vehicle ends its period with a collision; every
            // vehicle meets one FCW → AEB sequence in its second week.
            let crash_day = index == 0 && day + 1 == config.days;
            let aeb_day = day == 8.min(config.days - 1);
            let mut starts = drive_starts(&mut rng, date, tz);
            if starts.is_empty() && (crash_day || aeb_day) {
                starts = drive_at(date, 11.0, tz).into_iter().collect();
            }
            for (n, start) in starts.iter().enumerate() {
                let plan = DrivePlan {
                    crash: crash_day && n + 1 == starts.len(),
                    aeb: aeb_day && n == 0,
                };
                let mut drive = simulate_drive(&mut rng, &mut car, *start, plan);
                for (tick, s) in drive.samples.iter().enumerate() {
                    let t = local(s.t_us, tz);
                    let Some(sealer) = sealer.as_mut() else {
                        let line = SampleOut {
                            kind: "sample",
                            vin: vin.as_str(),
                            t,
                            channels: &s.channels,
                        };
                        write_line(out, &line)?;
                        continue;
                    };
                    // A sealing car sends location apart, once a second.
                    let mut channels = s.channels.clone();
                    let place = (
                        channels.lat.take(),
                        channels.lon.take(),
                        channels.heading_deg.take(),
                    );
                    let line = SampleOut {
                        kind: "sample",
                        vin: vin.as_str(),
                        t: t.clone(),
                        channels: &channels,
                    };
                    sealer.cover(Covered::Sample, &line, (&t, s.t_us))?;
                    if let (0, (Some(lat), Some(lon), heading)) = (tick % HZ, place) {
                        sealer.position(vin.as_str(), &t, s.t_us, (lat, lon, heading))?;
                    }
                    sealer.seal_if_due(out, s.t_us)?;
                }
                counts.samples += drive.samples.len() as u64;
                for e in drive.events.iter_mut() {
                    event_no += 1;
                    e.id = format!("ev-{index:03}-{event_no:06}");
                }
                for e in &drive.events {
                    let t = local(e.t_us, tz);
                    let line = EventOut {
                        kind: "event",
                        vin: vin.as_str(),
                        id: &e.id,
                        t: t.clone(),
                        event_type: e.event_type,
                        severity: e.severity,
                        trigger: e.trigger.as_ref(),
                        note: e.note,
                    };
                    match sealer.as_mut() {
                        Some(sealer) => sealer.cover(Covered::Event, &line, (&t, e.t_us))?,
                        None => write_line(out, &line)?,
                    }
                }
                counts.events += drive.events.len() as u64;
                if let Some(edr) = drive.edr {
                    let event_id = drive
                        .events
                        .iter()
                        .find(|e| e.event_type == EventType::Collision)
                        .map(|e| e.id.clone())
                        .expect("a crash drive has a collision event");
                    let t0 = local(edr.t0_us, tz);
                    let line = edr.to_line(vin.as_str(), &event_id, t0.clone());
                    match sealer.as_mut() {
                        Some(sealer) => sealer.cover(Covered::Edr, &line, (&t0, edr.t0_us))?,
                        None => write_line(out, &line)?,
                    }
                    counts.edr += 1;
                }
                // The drive ends: what it left in the open batch is sealed.
                if let Some(sealer) = sealer.as_mut() {
                    sealer.seal(out)?;
                }
            }
        }
        if let Some(sealer) = &sealer {
            counts.add_sealing(&sealer.counts);
        }
    }
    Ok(counts)
}

fn write_line<T: Serialize>(out: &mut dyn Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// RFC 3339 in the vehicle's own zone, with its offset spelled out.
fn local(t_us: i64, tz: Tz) -> String {
    Utc.timestamp_micros(t_us)
        .single()
        .expect("in range")
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Drive start times for one local day: commutes on weekdays, errands at weekends.
fn drive_starts(rng: &mut ChaCha8Rng, date: NaiveDate, tz: Tz) -> Vec<i64> {
    use chrono::Datelike;
    let weekend = date.weekday().number_from_monday() >= 6;
    let mut hours: Vec<f64> = if weekend {
        (0..rng.gen_range(0..=2))
            .map(|i| 10.0 + 4.0 * i as f64 + rng.gen_range(0.0..2.0))
            .collect()
    } else {
        vec![
            7.2 + rng.gen_range(0.0..1.3),
            17.3 + rng.gen_range(0.0..1.5),
        ]
    };
    if !weekend && rng.gen_bool(0.25) {
        hours.insert(1, 12.0 + rng.gen_range(0.0..1.0));
    }
    hours
        .into_iter()
        .filter_map(|h| drive_at(date, h, tz))
        .collect()
}

/// The instant `hour` (fractional) of a local day, in UTC microseconds.
fn drive_at(date: NaiveDate, hour: f64, tz: Tz) -> Option<i64> {
    let naive = date.and_hms_opt(0, 0, 0)? + Duration::seconds((hour * 3600.0) as i64);
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|dt| dt.timestamp_micros())
}

#[derive(Clone, Copy)]
struct DrivePlan {
    crash: bool,
    aeb: bool,
}

/// The car's state carried across drives.
struct Car {
    lat: f64,
    lon: f64,
    heading: f64,
    odometer_km: f64,
    soc_pct: f64,
}

impl Car {
    fn new(home: (f64, f64), odometer_km: f64) -> Self {
        Car {
            lat: home.0,
            lon: home.1,
            heading: 90.0,
            odometer_km,
            soc_pct: 88.0,
        }
    }
}

struct DemoSample {
    t_us: i64,
    channels: SampleChannels,
}

struct DemoEvent {
    id: String,
    t_us: i64,
    event_type: EventType,
    severity: Severity,
    trigger: Option<Trigger>,
    note: Option<&'static str>,
}

struct Drive {
    samples: Vec<DemoSample>,
    events: Vec<DemoEvent>,
    edr: Option<DemoEdr>,
}

/// What the driver (or the car) is doing in a stretch of the drive.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Cruise { target: f64 },
    HardBrake { until: usize, decel: f64, abs: bool },
    FcwWarning { until: usize },
    AebBraking { until: usize },
    PreCrashBraking { until: usize },
    Stopped,
}

const HZ: usize = 10;
const WINDOW_TICKS: usize = 15 * HZ;

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn simulate_drive(rng: &mut ChaCha8Rng, car: &mut Car, start_us: i64, plan: DrivePlan) -> Drive {
    let minutes = rng.gen_range(12..55) as usize;
    let ticks = minutes * 60 * HZ;
    let highway = rng.gen_bool(0.4);
    let cruise_speed = |rng: &mut ChaCha8Rng| {
        if highway && rng.gen_bool(0.7) {
            rng.gen_range(95.0..122.0)
        } else {
            rng.gen_range(30.0..65.0)
        }
    };
    // When the scripted moments happen (as tick numbers).
    let aeb_at = plan.aeb.then_some(ticks / 2);
    let crash_at = plan.crash.then(|| ticks.saturating_sub(40 * HZ));
    let mut hard_brakes: Vec<usize> = (0..rng.gen_range(0..=2))
        .map(|_| rng.gen_range(120 * HZ..ticks.max(121 * HZ) - 60 * HZ))
        .collect();
    hard_brakes.sort_unstable();

    let mut speed = 0.0f64; // km/h
    let mut steering = 0.0f64;
    let mut phase = Phase::Cruise {
        target: cruise_speed(rng),
    };
    let mut next_change = rng.gen_range(30..120) * HZ;
    let mut trace: Vec<(SampleChannels, f64)> = Vec::with_capacity(ticks); // channels, decel
    let mut events = Vec::new();
    let mut windows: Vec<usize> = Vec::new();
    let mut crash_tick = None;
    let dt = 1.0 / HZ as f64;

    let t_of = |tick: usize| start_us + (tick as i64) * (1_000_000 / HZ as i64);
    for tick in 0..ticks {
        // Scripted transitions.
        if Some(tick) == aeb_at && speed > 20.0 {
            phase = Phase::FcwWarning { until: tick + 15 };
            events.push(DemoEvent {
                id: String::new(),
                t_us: t_of(tick),
                event_type: EventType::FcwWarning,
                severity: Severity::Warning,
                trigger: Some(Trigger {
                    metric: "time_to_collision_s".into(),
                    value: 1.9,
                    threshold: 2.5,
                }),
                note: Some("forward collision warning"),
            });
            windows.push(tick);
        }
        if Some(tick) == crash_at {
            phase = Phase::PreCrashBraking {
                until: tick + 6 * HZ,
            };
            speed = speed.max(72.0);
        }
        if hard_brakes.first() == Some(&tick) {
            hard_brakes.remove(0);
            if speed > 45.0 && matches!(phase, Phase::Cruise { .. }) {
                let decel = rng.gen_range(6.2..8.4);
                let abs = decel > 7.4;
                phase = Phase::HardBrake {
                    until: tick + rng.gen_range(18..30),
                    decel,
                    abs,
                };
                let value = round(-decel, 1);
                events.push(DemoEvent {
                    id: String::new(),
                    t_us: t_of(tick + 5),
                    event_type: EventType::HardBrake,
                    severity: Severity::Warning,
                    trigger: Some(Trigger {
                        metric: "long_accel_mps2".into(),
                        value,
                        threshold: -6.0,
                    }),
                    note: None,
                });
                if abs {
                    events.push(DemoEvent {
                        id: String::new(),
                        t_us: t_of(tick + 8),
                        event_type: EventType::AbsActivation,
                        severity: Severity::Warning,
                        trigger: Some(Trigger {
                            metric: "wheel_slip_pct".into(),
                            value: 18.5,
                            threshold: 12.0,
                        }),
                        note: None,
                    });
                }
                windows.push(tick + 5);
            }
        }

        // Longitudinal dynamics for the phase.
        let (accel_mps2, pedal, brake, pressure, abs, aeb, fcw) = match phase {
            Phase::Cruise { target } => {
                if tick >= next_change {
                    let target = if !highway && rng.gen_bool(0.25) {
                        0.0
                    } else {
                        cruise_speed(rng)
                    };
                    phase = if target == 0.0 {
                        Phase::Cruise { target: 0.0 }
                    } else {
                        Phase::Cruise { target }
                    };
                    next_change = tick + rng.gen_range(25..110) * HZ;
                }
                let err = target - speed;
                let a = (err * 0.08).clamp(-2.6, 1.9) + rng.gen_range(-0.05..0.05);
                if a >= 0.0 {
                    (
                        a,
                        (12.0 + a * 22.0 + speed * 0.12).min(100.0),
                        false,
                        0.0,
                        false,
                        AebState::Standby,
                        false,
                    )
                } else if a > -0.6 {
                    (a, 0.0, false, 0.0, false, AebState::Standby, false)
                } else {
                    (a, 0.0, true, -a * 11.5, false, AebState::Standby, false)
                }
            }
            Phase::HardBrake { until, decel, abs } => {
                if tick >= until {
                    phase = Phase::Cruise {
                        target: cruise_speed(rng),
                    };
                }
                (
                    -decel,
                    0.0,
                    true,
                    decel * 13.0,
                    abs,
                    AebState::Standby,
                    false,
                )
            }
            Phase::FcwWarning { until } => {
                if tick >= until {
                    phase = Phase::AebBraking { until: tick + 25 };
                    events.push(DemoEvent {
                        id: String::new(),
                        t_us: t_of(tick),
                        event_type: EventType::AebActivation,
                        severity: Severity::Critical,
                        trigger: Some(Trigger {
                            metric: "brake_pressure_bar".into(),
                            value: 140.7,
                            threshold: 100.0,
                        }),
                        note: Some(
                            "forward collision warning followed by automatic emergency braking",
                        ),
                    });
                }
                (-0.3, 0.0, false, 0.0, false, AebState::Warning, true)
            }
            Phase::AebBraking { until } => {
                if tick >= until || speed < 1.0 {
                    phase = Phase::Cruise {
                        target: cruise_speed(rng),
                    };
                }
                (-9.0, 0.0, true, 140.7, true, AebState::Braking, true)
            }
            Phase::PreCrashBraking { until } => {
                if tick + 1 >= until {
                    crash_tick = Some(tick);
                    phase = Phase::Stopped;
                }
                // Late, partial braking: the car still hits at ~35 km/h.
                let late = tick + 20 >= until;
                if late {
                    (-5.1, 0.0, true, 92.7, true, AebState::Braking, true)
                } else {
                    (-0.4, 8.0, false, 0.0, false, AebState::Standby, false)
                }
            }
            Phase::Stopped => (
                -speed / 3.6 / dt,
                0.0,
                true,
                30.0,
                false,
                AebState::Off,
                false,
            ),
        };
        speed = (speed + accel_mps2 * dt * 3.6).clamp(0.0, 180.0);
        if phase == Phase::Stopped && crash_tick.is_some() && tick > crash_tick.expect("set") {
            speed = 0.0;
        }
        steering = (steering * 0.98 + rng.gen_range(-1.5..1.5)).clamp(-90.0, 90.0);
        let v = speed / 3.6;
        let yaw = if v > 1.0 { steering * 0.09 } else { 0.0 };
        car.heading = (car.heading + yaw * dt).rem_euclid(360.0);
        let dist_km = v * dt / 1000.0;
        car.odometer_km += dist_km;
        car.soc_pct = (car.soc_pct - dist_km * 0.16).max(5.0);
        let rad = car.heading.to_radians();
        car.lat += dist_km * rad.cos() / 111.0;
        car.lon += dist_km * rad.sin() / (111.0 * car.lat.to_radians().cos());
        let parked = tick == 0 || (tick + 1 == ticks && crash_tick.is_none());
        let channels = SampleChannels {
            speed_kmh: Some(round(speed, 1)),
            accel_pedal_pct: Some(round(pedal, 1)),
            brake_pedal: Some(brake),
            brake_pressure_bar: Some(round(pressure.min(250.0), 1)),
            steering_angle_deg: Some(round(steering, 1)),
            long_accel_mps2: Some(round(accel_mps2.max(-12.0), 2)),
            lat_accel_mps2: Some(round(v * yaw.to_radians(), 2)),
            yaw_rate_dps: Some(round(yaw, 2)),
            gear: Some(if parked { Gear::P } else { Gear::D }),
            abs_active: Some(abs),
            esc_active: Some(false),
            aeb_state: Some(if speed < 8.0 && aeb == AebState::Standby {
                AebState::Off
            } else {
                aeb
            }),
            fcw: Some(fcw),
            adas_state: Some(if highway && speed > 80.0 {
                AdasState::Active
            } else {
                AdasState::Available
            }),
            motor_torque_nm: Some(round(
                if accel_mps2 > 0.0 {
                    accel_mps2 * 95.0
                } else {
                    accel_mps2 * 25.0
                },
                0,
            )),
            odometer_km: Some(round(car.odometer_km, 2)),
            soc_pct: Some(round(car.soc_pct, 1)),
            belt_driver: Some(true),
            lat: Some(round(car.lat, 6)),
            lon: Some(round(car.lon, 6)),
            heading_deg: Some(round(car.heading, 1)),
        };
        trace.push((channels, accel_mps2));
        if crash_tick.is_some() && tick >= crash_tick.expect("set") + 5 * HZ {
            break;
        }
    }

    let mut edr = None;
    if let Some(ct) = crash_tick {
        let t0 = t_of(ct);
        for (event_type, note) in [
            (EventType::Collision, "frontal collision"),
            (EventType::AirbagDeployment, "front airbags deployed"),
        ] {
            events.push(DemoEvent {
                id: String::new(),
                t_us: t0,
                event_type,
                severity: Severity::Critical,
                trigger: Some(Trigger {
                    metric: "delta_v_long_kmh".into(),
                    value: -38.2,
                    threshold: -8.0,
                }),
                note: Some(note),
            });
        }
        windows.push(ct);
        edr = Some(DemoEdr::from_trace(&trace, ct, t0));
    }
    events.insert(
        0,
        DemoEvent {
            id: String::new(),
            t_us: start_us,
            event_type: EventType::IgnitionOn,
            severity: Severity::Info,
            trigger: None,
            note: None,
        },
    );
    if crash_tick.is_none() {
        events.push(DemoEvent {
            id: String::new(),
            t_us: t_of(trace.len() - 1),
            event_type: EventType::IgnitionOff,
            severity: Severity::Info,
            trigger: None,
            note: None,
        });
    }
    events.sort_by_key(|e| e.t_us);

    // 1 Hz everywhere, 10 Hz within ±15 s of each event of interest.
    let in_window = |tick: usize| {
        windows
            .iter()
            .any(|&w| tick + WINDOW_TICKS >= w && tick <= w + WINDOW_TICKS)
    };
    let samples = trace
        .into_iter()
        .enumerate()
        .filter(|(tick, _)| tick % HZ == 0 || in_window(*tick))
        .map(|(tick, (channels, _))| DemoSample {
            t_us: t_of(tick),
            channels,
        })
        .collect();
    Drive {
        samples,
        events,
        edr,
    }
}

struct DemoEdr {
    t0_us: i64,
    pre_crash: Vec<PreCrashSample>,
    delta_v: Vec<DeltaVSample>,
}

impl DemoEdr {
    /// The pre-crash series is read from the same 10 Hz trace the samples
    /// come from, so the crash record agrees with the telemetry before it.
    fn from_trace(trace: &[(SampleChannels, f64)], crash_tick: usize, t0_us: i64) -> Self {
        let pre_crash = (0..=50)
            .rev()
            .filter_map(|back| {
                let tick = crash_tick.checked_sub(back)?;
                let c = &trace[tick].0;
                Some(PreCrashSample {
                    t_ms: -(back as i32) * 100,
                    speed_kmh: c.speed_kmh,
                    accel_pedal_pct: c.accel_pedal_pct,
                    brake_pedal: c.brake_pedal,
                    brake_pressure_bar: c.brake_pressure_bar,
                    steering_angle_deg: c.steering_angle_deg,
                    abs_active: c.abs_active,
                    esc_active: c.esc_active,
                    aeb_state: c.aeb_state,
                    engine_rpm: None,
                })
            })
            .collect();
        // A half-sine crash pulse: ΔV reaches -38.2 km/h at 95 ms, then holds.
        let delta_v = (0..=25)
            .map(|i| {
                let t_ms = i * 10;
                let phase = (t_ms as f64 / 95.0).min(1.0);
                let long = -38.2 * (1.0 - (phase * std::f64::consts::PI).cos()) / 2.0;
                DeltaVSample {
                    t_ms,
                    long_kmh: Some(round(long, 1)),
                    lat_kmh: Some(round(4.1 * phase, 1)),
                }
            })
            .collect();
        DemoEdr {
            t0_us,
            pre_crash,
            delta_v,
        }
    }

    fn to_line<'a>(&'a self, vin: &'a str, event_id: &'a str, t0: String) -> EdrOut<'a> {
        EdrOut {
            kind: "edr",
            vin,
            event_id,
            t0,
            standard: "GB 39732-2020",
            trigger: "delta_v",
            locked: true,
            complete: true,
            ignition_cycle_crash: 1532,
            ignition_cycle_download: 1534,
            max_delta_v_long_kmh: -38.2,
            time_max_delta_v_ms: 95.0,
            max_delta_v_lat_kmh: 4.1,
            belt_driver: BeltStatus::Buckled,
            airbags: vec![
                Airbag {
                    position: "driver_front".into(),
                    deploy_ms: 38.0,
                },
                Airbag {
                    position: "passenger_front".into(),
                    deploy_ms: 40.0,
                },
            ],
            pre_crash: PreCrash {
                rate_hz: 10.0,
                samples: self.pre_crash.clone(),
            },
            delta_v: DeltaV {
                rate_hz: 100.0,
                samples: self.delta_v.clone(),
            },
        }
    }
}

#[derive(Serialize)]
struct VehicleOut<'a> {
    kind: &'a str,
    vin: &'a str,
    model: &'a str,
    model_year: i32,
    market: &'a str,
    timezone: &'a str,
    edr_ecu: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<crate::domain::sealed::VehicleKey>>,
}

#[derive(Serialize)]
struct SampleOut<'a> {
    kind: &'a str,
    vin: &'a str,
    t: String,
    #[serde(flatten)]
    channels: &'a SampleChannels,
}

#[derive(Serialize)]
struct EventOut<'a> {
    kind: &'a str,
    vin: &'a str,
    id: &'a str,
    t: String,
    #[serde(rename = "type")]
    event_type: EventType,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<&'a Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct EdrOut<'a> {
    kind: &'a str,
    vin: &'a str,
    event_id: &'a str,
    t0: String,
    standard: &'a str,
    trigger: &'a str,
    locked: bool,
    complete: bool,
    ignition_cycle_crash: i64,
    ignition_cycle_download: i64,
    max_delta_v_long_kmh: f64,
    time_max_delta_v_ms: f64,
    max_delta_v_lat_kmh: f64,
    belt_driver: BeltStatus,
    airbags: Vec<Airbag>,
    pre_crash: PreCrash,
    delta_v: DeltaV,
}

/// The demo period's bounds, for callers that want to show them.
pub fn period(config: &DemoConfig) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc.from_utc_datetime(&config.start.and_hms_opt(0, 0, 0).expect("midnight"));
    (start, start + Duration::days(config.days as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_written_in_parts_is_the_fleet_written_at_once() {
        let config = DemoConfig {
            vehicles: 4,
            days: 2,
            ..DemoConfig::default()
        };
        let mut whole = Vec::new();
        let counts = generate(&config, &mut whole).expect("generate");
        let mut parts = Vec::new();
        let first = generate_vehicles(&config, 0..1, &mut parts).expect("first part");
        let rest = generate_vehicles(&config, 1..4, &mut parts).expect("the rest");
        assert!(counts.samples > 0 && first.samples > 0 && rest.samples > 0);
        assert_eq!(counts.samples, first.samples + rest.samples);
        assert_eq!(counts.seals, first.seals + rest.seals);
        assert!(whole == parts, "the parts differ from the whole fleet");
    }
}
