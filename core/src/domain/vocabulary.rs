//! The data vocabulary: what every channel, event type, severity, trigger
//! metric, gear, AEB/ADAS state, belt status, crash-record field and airbag
//! position is called in each language the portal speaks (zh-CN, English).
//!
//! One table for the pages, the column picker, chart titles, tooltips and
//! the PDF report. The files an owner takes away (CSV, NDJSON) keep the
//! machine names of the interchange format; only what a person reads is
//! translated. Units are the SI and industry symbols both languages write
//! (km/h, bar, m/s², N·m), as Chinese standards such as GB 39732 do.

use super::log_format::{
    AdasState, AebState, BeltStatus, EventGroup, EventType, Gear, Severity, Trigger,
};

/// A language a reader reads the portal in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];
}

/// One phrase in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Words {
    pub const fn new(zh: &'static str, en: &'static str) -> Self {
        Words { zh, en }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }

    /// "中文 / English", as the bilingual PDF report writes it.
    pub fn both(self) -> String {
        format!("{} / {}", self.zh, self.en)
    }
}

/// A named quantity: a sample channel, a trigger metric or a crash-record field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Its machine name in the interchange format.
    pub name: &'static str,
    /// Its unit symbol, `""` for none (flags, codes).
    pub unit: &'static str,
    pub label: Words,
    /// One short sentence a tooltip shows.
    pub about: Words,
}

const fn term(name: &'static str, unit: &'static str, label: Words, about: Words) -> Term {
    Term {
        name,
        unit,
        label,
        about,
    }
}

const fn w(zh: &'static str, en: &'static str) -> Words {
    Words::new(zh, en)
}

/// Every sample channel in the interchange format's order.
pub const CHANNELS: &[Term] = &[
    term(
        "speed_kmh",
        "km/h",
        w("车速", "Speed"),
        w("车辆行驶速度。", "How fast the vehicle was moving."),
    ),
    term(
        "accel_pedal_pct",
        "%",
        w("加速踏板", "Accelerator pedal"),
        w(
            "加速踏板踩下的行程，0–100 %。",
            "How far the accelerator pedal was pressed, 0–100 % of its travel.",
        ),
    ),
    term(
        "brake_pedal",
        "",
        w("制动踏板", "Brake pedal"),
        w(
            "制动踏板开关：是否踩下。",
            "Whether the brake pedal was pressed (the service brake switch).",
        ),
    ),
    term(
        "brake_pressure_bar",
        "bar",
        w("制动压力", "Brake pressure"),
        w(
            "制动主缸液压。",
            "Hydraulic pressure in the brake master cylinder.",
        ),
    ),
    term(
        "steering_angle_deg",
        "°",
        w("方向盘转角", "Steering angle"),
        w(
            "方向盘转角，逆时针（向左）为正。",
            "Steering wheel angle; positive is counter-clockwise (to the left).",
        ),
    ),
    term(
        "long_accel_mps2",
        "m/s²",
        w("纵向加速度", "Longitudinal acceleration"),
        w(
            "沿车辆前进方向的加速度，负值为减速。",
            "Acceleration along the vehicle; negative means slowing down.",
        ),
    ),
    term(
        "lat_accel_mps2",
        "m/s²",
        w("横向加速度", "Lateral acceleration"),
        w(
            "垂直于前进方向的加速度（转弯时）。",
            "Acceleration across the vehicle, as in a bend.",
        ),
    ),
    term(
        "yaw_rate_dps",
        "°/s",
        w("横摆角速度", "Yaw rate"),
        w(
            "车辆绕竖直轴转动的速度。",
            "How fast the vehicle turned about its vertical axis.",
        ),
    ),
    term(
        "gear",
        "",
        w("挡位", "Gear"),
        w(
            "驻车挡、倒挡、空挡或前进挡。",
            "Park, reverse, neutral or drive.",
        ),
    ),
    term(
        "abs_active",
        "",
        w("ABS 介入", "ABS active"),
        w(
            "防抱死制动系统是否正在工作。",
            "Whether the anti-lock braking system was working.",
        ),
    ),
    term(
        "esc_active",
        "",
        w("ESC 介入", "ESC active"),
        w(
            "车身电子稳定系统是否正在工作。",
            "Whether electronic stability control was intervening.",
        ),
    ),
    term(
        "aeb_state",
        "",
        w("AEB 状态", "AEB state"),
        w(
            "自动紧急制动：关闭、待命、预警或制动。",
            "Automatic emergency braking: off, standby, warning or braking.",
        ),
    ),
    term(
        "fcw",
        "",
        w("前碰撞预警", "Forward collision warning"),
        w(
            "前碰撞预警是否发出。",
            "Whether the forward collision warning was given.",
        ),
    ),
    term(
        "adas_state",
        "",
        w("辅助驾驶状态", "Driver assistance"),
        w(
            "驾驶辅助系统：关闭、可用或激活。",
            "Driver assistance: off, available or active.",
        ),
    ),
    term(
        "motor_torque_nm",
        "N·m",
        w("电机扭矩", "Motor torque"),
        w("驱动电机输出的扭矩。", "Torque the drive motor delivered."),
    ),
    term(
        "odometer_km",
        "km",
        w("总里程", "Odometer"),
        w(
            "车辆累计行驶里程。",
            "Total distance the vehicle has driven.",
        ),
    ),
    term(
        "soc_pct",
        "%",
        w("电池电量", "Battery charge"),
        w(
            "动力电池荷电状态。",
            "State of charge of the traction battery.",
        ),
    ),
    term(
        "belt_driver",
        "",
        w("驾驶员安全带", "Driver belt"),
        w(
            "驾驶员安全带是否系好。",
            "Whether the driver's seat belt was buckled.",
        ),
    ),
    term(
        "lat",
        "°",
        w("纬度", "Latitude"),
        w(
            "WGS-84 纬度（位置属于敏感个人信息）。",
            "WGS-84 latitude (location is sensitive personal data).",
        ),
    ),
    term(
        "lon",
        "°",
        w("经度", "Longitude"),
        w(
            "WGS-84 经度（位置属于敏感个人信息）。",
            "WGS-84 longitude (location is sensitive personal data).",
        ),
    ),
    term(
        "heading_deg",
        "°",
        w("航向", "Heading"),
        w(
            "行驶方向，正北为 0°，顺时针。",
            "Direction of travel, 0° north, clockwise.",
        ),
    ),
];

/// Trigger metrics an event names besides the channels.
const METRICS: &[Term] = &[
    term(
        "delta_v_long_kmh",
        "km/h",
        w("纵向速度变化", "Longitudinal Δv"),
        w(
            "碰撞中沿车辆方向的速度变化。",
            "Change of velocity along the vehicle in a crash.",
        ),
    ),
    term(
        "delta_v_lat_kmh",
        "km/h",
        w("横向速度变化", "Lateral Δv"),
        w(
            "碰撞中横向的速度变化。",
            "Change of velocity across the vehicle in a crash.",
        ),
    ),
    term(
        "time_to_collision_s",
        "s",
        w("碰撞时间", "Time to collision"),
        w(
            "按当时速度到达前方障碍物所需的时间。",
            "Time left before reaching the obstacle ahead at the speed then.",
        ),
    ),
    term(
        "wheel_slip_pct",
        "%",
        w("车轮滑移率", "Wheel slip"),
        w(
            "车轮与路面之间的滑移程度。",
            "How much a wheel slipped against the road.",
        ),
    ),
];

/// The single values of a crash record (event data recorder) and its series.
pub const CRASH_FIELDS: &[Term] = &[
    term(
        "standard",
        "",
        w("标准", "Standard"),
        w(
            "记录所依据的标准，如 GB 39732-2020。",
            "The standard the record follows, e.g. GB 39732-2020.",
        ),
    ),
    term(
        "t0",
        "",
        w("零时刻", "Time zero"),
        w(
            "记录仪判定碰撞开始的时刻。",
            "When the recorder decided the crash began.",
        ),
    ),
    term(
        "trigger",
        "",
        w("触发条件", "Trigger"),
        w(
            "使记录仪保存记录的条件。",
            "What made the recorder keep the record.",
        ),
    ),
    term(
        "max_delta_v_long_kmh",
        "km/h",
        w("最大纵向速度变化", "Max longitudinal Δv"),
        w(
            "碰撞脉冲中纵向速度变化的最大值。",
            "The largest change of velocity along the vehicle in the crash pulse.",
        ),
    ),
    term(
        "time_max_delta_v_ms",
        "ms",
        w("最大速度变化时刻", "Time of max Δv"),
        w(
            "零时刻之后达到最大速度变化的时间。",
            "When after time zero the largest change of velocity was reached.",
        ),
    ),
    term(
        "max_delta_v_lat_kmh",
        "km/h",
        w("最大横向速度变化", "Max lateral Δv"),
        w(
            "碰撞脉冲中横向速度变化的最大值。",
            "The largest change of velocity across the vehicle.",
        ),
    ),
    term(
        "ignition_cycles",
        "",
        w(
            "点火循环（碰撞时 / 下载时）",
            "Ignition cycles (crash / download)",
        ),
        w(
            "碰撞时与读取记录时的点火次数计数。",
            "The ignition counter at the crash and when the record was read.",
        ),
    ),
    term(
        "belt_driver",
        "",
        w("驾驶员安全带", "Driver belt"),
        w(
            "碰撞时驾驶员安全带状态。",
            "The driver's belt at the crash.",
        ),
    ),
    term(
        "airbags",
        "ms",
        w("气囊展开", "Airbag deployments"),
        w(
            "各气囊在零时刻后展开的时间。",
            "When after time zero each airbag deployed.",
        ),
    ),
    term(
        "locked",
        "",
        w("已锁定（法律保全）", "Locked (legal hold)"),
        w(
            "记录受保护、不会被覆盖，门户按法律保全处理。",
            "The record is protected from overwriting; the portal keeps it under legal hold.",
        ),
    ),
    term(
        "complete",
        "",
        w("完整", "Complete"),
        w(
            "记录仪是否报告记录完整。",
            "Whether the recorder reported the record complete.",
        ),
    ),
    term(
        "t_ms",
        "ms",
        w("相对时间", "Time"),
        w("相对零时刻的时间。", "Time relative to time zero."),
    ),
    term(
        "long_kmh",
        "km/h",
        w("纵向速度变化", "Longitudinal Δv"),
        w(
            "零时刻以来沿车辆方向的速度变化。",
            "Change of velocity along the vehicle since time zero.",
        ),
    ),
    term(
        "lat_kmh",
        "km/h",
        w("横向速度变化", "Lateral Δv"),
        w(
            "零时刻以来横向的速度变化。",
            "Change of velocity across the vehicle since time zero.",
        ),
    ),
];

/// Airbag positions a crash record names.
const AIRBAGS: &[(&str, Words)] = &[
    ("driver_front", w("驾驶员正面气囊", "Driver front")),
    ("passenger_front", w("前排乘客正面气囊", "Front passenger")),
    ("driver_side", w("驾驶员侧气囊", "Driver side")),
    (
        "passenger_side",
        w("前排乘客侧气囊", "Front passenger side"),
    ),
    ("driver_knee", w("驾驶员膝部气囊", "Driver knee")),
    (
        "passenger_knee",
        w("前排乘客膝部气囊", "Front passenger knee"),
    ),
    ("curtain_left", w("左侧气帘", "Left curtain")),
    ("curtain_right", w("右侧气帘", "Right curtain")),
    ("rear_left_side", w("后排左侧气囊", "Rear left side")),
    ("rear_right_side", w("后排右侧气囊", "Rear right side")),
    ("far_side", w("远端气囊", "Far side (centre)")),
];

/// A sample channel by its machine name.
pub fn channel(name: &str) -> Option<&'static Term> {
    CHANNELS.iter().find(|c| c.name == name)
}

/// A trigger metric: one of the channels or a crash quantity.
pub fn metric(name: &str) -> Option<&'static Term> {
    channel(name).or_else(|| METRICS.iter().find(|m| m.name == name))
}

/// A crash-record field or series by its machine name.
pub fn crash_field(name: &str) -> Option<&'static Term> {
    CRASH_FIELDS.iter().find(|f| f.name == name)
}

/// An airbag position; `None` for one the table does not know (shown as sent).
pub fn airbag(position: &str) -> Option<Words> {
    AIRBAGS
        .iter()
        .find(|(p, _)| *p == position)
        .map(|(_, w)| *w)
}

/// An airbag position in `lang`, or its machine name when unknown.
pub fn airbag_in(lang: Lang, position: &str) -> String {
    airbag(position).map_or_else(|| position.to_string(), |w| w.get(lang).to_string())
}

/// "Speed (km/h)": a term's label with its unit, for a column or an axis.
pub fn heading(lang: Lang, term: &Term) -> String {
    if term.unit.is_empty() {
        term.label.get(lang).to_string()
    } else {
        format!("{} ({})", term.label.get(lang), term.unit)
    }
}

/// A channel's heading, or its machine name when it is not a channel.
pub fn channel_heading(lang: Lang, name: &str) -> String {
    channel(name).map_or_else(|| name.to_string(), |c| heading(lang, c))
}

/// A crash-record field's heading, or its machine name when unknown.
pub fn crash_heading(lang: Lang, name: &str) -> String {
    crash_field(name).map_or_else(|| name.to_string(), |f| heading(lang, f))
}

pub fn event_type(t: EventType) -> Words {
    match t {
        EventType::HardBrake => w("急刹车", "Hard braking"),
        EventType::AbsActivation => w("ABS 介入", "ABS activation"),
        EventType::AebActivation => w("自动紧急制动", "Automatic emergency braking"),
        EventType::FcwWarning => w("前碰撞预警", "Forward collision warning"),
        EventType::EscIntervention => w("ESC 介入", "Stability control intervention"),
        EventType::HardAcceleration => w("急加速", "Hard acceleration"),
        EventType::HardCornering => w("急转弯", "Hard cornering"),
        EventType::Collision => w("碰撞", "Collision"),
        EventType::AirbagDeployment => w("气囊展开", "Airbag deployment"),
        EventType::IgnitionOn => w("点火", "Ignition on"),
        EventType::IgnitionOff => w("熄火", "Ignition off"),
        EventType::Dtc => w("故障码", "Diagnostic trouble code"),
        EventType::OtaUpdate => w("远程升级", "Over-the-air update"),
    }
}

pub fn event_group(g: EventGroup) -> Words {
    match g {
        EventGroup::Brake => w("制动（急刹车、ABS、AEB）", "Brake (hard braking, ABS, AEB)"),
        EventGroup::Crash => w("碰撞（碰撞、气囊）", "Crash (collision, airbag)"),
        EventGroup::Warning => w("警示", "Warnings"),
        EventGroup::Other => w("其他", "Other"),
    }
}

pub fn severity(s: Severity) -> Words {
    match s {
        Severity::Info => w("提示", "Info"),
        Severity::Warning => w("警告", "Warning"),
        Severity::Critical => w("严重", "Critical"),
    }
}

pub fn gear(g: Gear) -> Words {
    match g {
        Gear::P => w("P 驻车挡", "P park"),
        Gear::R => w("R 倒挡", "R reverse"),
        Gear::N => w("N 空挡", "N neutral"),
        Gear::D => w("D 前进挡", "D drive"),
    }
}

pub fn aeb(a: AebState) -> Words {
    match a {
        AebState::Off => w("关闭", "Off"),
        AebState::Standby => w("待命", "Standby"),
        AebState::Warning => w("预警", "Warning"),
        AebState::Braking => w("制动中", "Braking"),
    }
}

pub fn adas(a: AdasState) -> Words {
    match a {
        AdasState::Off => w("关闭", "Off"),
        AdasState::Available => w("可用", "Available"),
        AdasState::Active => w("激活", "Active"),
    }
}

pub fn belt(b: BeltStatus) -> Words {
    match b {
        BeltStatus::Buckled => w("已系", "Buckled"),
        BeltStatus::Unbuckled => w("未系", "Unbuckled"),
        BeltStatus::Unknown => w("未知", "Unknown"),
    }
}

/// A flag channel's value.
pub fn flag(on: bool) -> Words {
    if on {
        w("是", "Yes")
    } else {
        w("否", "No")
    }
}

/// A number as a reader reads it: at most `decimals` places, no trailing
/// zeros, a true minus sign, never `-0`.
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    match text.strip_prefix('-') {
        Some("0") => "0".to_string(),
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// A channel's value as a reader reads it: codes and flags in words, numbers
/// as sent (the table keeps every digit the car sent).
pub fn channel_value(lang: Lang, name: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    let coded = |s: &str| -> Option<&'static str> {
        let words = match name {
            "gear" => gear(Gear::parse(s)?),
            "aeb_state" => aeb(AebState::parse(s)?),
            "adas_state" => adas(AdasState::parse(s)?),
            _ => return None,
        };
        Some(words.get(lang))
    };
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => flag(*b).get(lang).to_string(),
        Value::String(s) => coded(s).map_or_else(|| s.clone(), str::to_string),
        other => other.to_string(),
    }
}

/// An event's trigger: "Brake pressure 140.7 bar (threshold 100 bar)".
pub fn trigger(lang: Lang, t: &Trigger) -> String {
    let (label, unit) = match metric(&t.metric) {
        Some(m) => (m.label.get(lang), m.unit),
        None => (t.metric.as_str(), ""),
    };
    let with_unit = |v: f64| {
        let n = number(v, 2);
        if unit.is_empty() {
            n
        } else {
            format!("{n} {unit}")
        }
    };
    match lang {
        Lang::ZhCn => format!(
            "{label} {}（阈值 {}）",
            with_unit(t.value),
            with_unit(t.threshold)
        ),
        Lang::En => format!(
            "{label} {} (threshold {})",
            with_unit(t.value),
            with_unit(t.threshold)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_terms() -> impl Iterator<Item = &'static Term> {
        CHANNELS.iter().chain(METRICS).chain(CRASH_FIELDS)
    }

    #[test]
    fn every_term_is_written_in_both_languages() {
        for term in all_terms() {
            for words in [term.label, term.about] {
                assert!(!words.zh.trim().is_empty(), "{} lacks Chinese", term.name);
                assert!(!words.en.trim().is_empty(), "{} lacks English", term.name);
                assert!(
                    words
                        .zh
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{}: `{}` is not Chinese",
                    term.name,
                    words.zh
                );
            }
        }
        for t in EventType::ALL {
            assert!(event_type(*t).zh.chars().any(|c| c > '\u{2e80}'), "{t}");
        }
        for (p, words) in AIRBAGS {
            assert!(words.zh.contains('气'), "{p}");
        }
    }

    #[test]
    fn names_are_unique_within_each_table() {
        for table in [CHANNELS, METRICS, CRASH_FIELDS] {
            let mut names: Vec<&str> = table.iter().map(|t| t.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), table.len());
        }
        let labels: std::collections::HashSet<&str> =
            EventType::ALL.iter().map(|t| event_type(*t).zh).collect();
        assert_eq!(
            labels.len(),
            EventType::ALL.len(),
            "two event types read alike"
        );
    }

    #[test]
    fn codes_and_flags_read_as_words() {
        let v = |s: &str| serde_json::Value::String(s.into());
        assert_eq!(channel_value(Lang::ZhCn, "gear", &v("D")), "D 前进挡");
        assert_eq!(
            channel_value(Lang::En, "aeb_state", &v("braking")),
            "Braking"
        );
        assert_eq!(
            channel_value(Lang::ZhCn, "adas_state", &v("active")),
            "激活"
        );
        assert_eq!(
            channel_value(Lang::ZhCn, "abs_active", &serde_json::Value::Bool(true)),
            "是"
        );
        assert_eq!(
            channel_value(Lang::En, "speed_kmh", &serde_json::json!(118.5)),
            "118.5"
        );
        assert_eq!(
            channel_value(Lang::En, "gear", &v("X")),
            "X",
            "unknown codes as sent"
        );
        assert_eq!(
            channel_value(Lang::En, "speed_kmh", &serde_json::Value::Null),
            ""
        );
    }

    #[test]
    fn triggers_read_in_the_readers_language() {
        let t = Trigger {
            metric: "delta_v_long_kmh".into(),
            value: -38.2,
            threshold: -8.0,
        };
        assert_eq!(
            trigger(Lang::En, &t),
            "Longitudinal Δv −38.2 km/h (threshold −8 km/h)"
        );
        assert_eq!(
            trigger(Lang::ZhCn, &t),
            "纵向速度变化 −38.2 km/h（阈值 −8 km/h）"
        );
        let unknown = Trigger {
            metric: "rotor_temp_c".into(),
            value: 0.1 + 0.2,
            threshold: 1.0,
        };
        assert_eq!(
            trigger(Lang::En, &unknown),
            "rotor_temp_c 0.3 (threshold 1)"
        );
    }

    #[test]
    fn numbers_have_no_artefacts() {
        assert_eq!(number(0.1 + 0.2, 3), "0.3");
        assert_eq!(number(-0.0001, 2), "0");
        assert_eq!(number(-8.0, 2), "−8");
        assert_eq!(number(140.75, 1), "140.8");
        assert_eq!(number(1200.0, 0), "1200");
    }

    #[test]
    fn headings_carry_units() {
        assert_eq!(channel_heading(Lang::ZhCn, "speed_kmh"), "车速 (km/h)");
        assert_eq!(channel_heading(Lang::En, "gear"), "Gear");
        assert_eq!(channel_heading(Lang::En, "nonsense"), "nonsense");
        assert_eq!(airbag_in(Lang::ZhCn, "driver_front"), "驾驶员正面气囊");
        assert_eq!(airbag_in(Lang::ZhCn, "roof"), "roof");
    }
}
