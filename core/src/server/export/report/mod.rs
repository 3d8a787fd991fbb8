//! The dispute report (`report.pdf`): what an assessor, a judge or a
//! regulator reads, in Chinese and English in one document. It states where
//! the data came from and how to check it, what is present and what is
//! missing, lists the events, and draws every crash record and every brake
//! event of the range. Generated here, with a font installed on this machine.

mod pdf;
mod words;

pub use pdf::{ReportFont, DEFAULT_FONT, FONT_PACKAGE};

use super::{Plan, GAP_US};
use crate::domain::browse::Limitation;
use crate::domain::export::LocationRedaction;
use crate::domain::log_format::{AebState, EventType};
use crate::domain::records::{EdrRecord, Event, Sample};
use crate::domain::sharing::DataClass;
use crate::domain::vocabulary;
use crate::server::error::ServiceError;
use crate::server::localtime::format_local_rfc3339;
use crate::server::store::{EventPageRequest, Store, TimeRange};
use pdf::{Layout, Series, BLACK, CONTENT_W, GREY};
use std::sync::Arc;
use words::{both, word, Lang};

/// Brake events drawn one by one; beyond this the table lists them all.
const MAX_BRAKE_CHARTS: usize = 60;
/// Events listed in the table.
const MAX_EVENT_ROWS: usize = 2_000;
const WINDOW_US: i64 = 15_000_000;

/// What the bundle knows before the report is drawn.
pub(crate) struct ReportFacts {
    pub bundle_id: String,
    pub fingerprint: String,
    /// (name, SHA-256, size, rows) of the data files the report describes.
    pub files: Vec<(String, String, u64, u64)>,
    pub present: Vec<&'static str>,
    pub absent: Vec<&'static str>,
    pub gaps: Vec<(i64, i64)>,
    pub requested_by: serde_json::Value,
    pub generated_us: i64,
    /// Bundles: what of the exported records the vehicle itself signed.
    pub sealed: Option<SealedCover>,
}

/// The cover's account of the vehicle's own seals.
pub(crate) struct SealedCover {
    /// Exported records (samples, events, crash records) a revealed sealed line vouches for.
    pub signed: u64,
    pub exported: u64,
    pub evidence: Option<crate::domain::sealed::SealedEvidence>,
}

fn is_brake(t: EventType) -> bool {
    matches!(
        t,
        EventType::HardBrake | EventType::AbsActivation | EventType::AebActivation
    )
}

/// The plan's events in time order (at most `MAX_EVENT_ROWS + 1`).
async fn events(store: &Arc<dyn Store>, plan: &Plan) -> Result<Vec<Event>, ServiceError> {
    let mut out: Vec<Event> = Vec::new();
    if !plan.access.may_read(DataClass::Events) {
        return Ok(out);
    }
    let mut after = None;
    loop {
        let page = store
            .event_page(
                plan.access.vehicle.id,
                &plan.access.ranges,
                &plan.events,
                &EventPageRequest {
                    descending: false,
                    after: after.clone(),
                    limit: 500,
                },
            )
            .await?;
        let full = page.len() == 500;
        after = page.last().map(|p| (p.event.t_us, p.event.id.clone()));
        out.extend(page.into_iter().map(|p| p.event));
        if !full || out.len() > MAX_EVENT_ROWS {
            return Ok(out);
        }
    }
}

/// Samples of the ±15 s around `t_us`, within what the plan may read.
async fn window(
    store: &Arc<dyn Store>,
    plan: &Plan,
    t_us: i64,
) -> Result<Vec<Sample>, ServiceError> {
    let mut out = Vec::new();
    if !plan.access.may_read(DataClass::Telemetry) {
        return Ok(out);
    }
    let around = TimeRange {
        from_us: t_us - WINDOW_US,
        to_us: t_us + WINDOW_US + 1,
    };
    for r in &plan.access.ranges {
        if let Some(r) = crate::server::authz::intersect(*r, around) {
            out.extend(store.samples(plan.access.vehicle.id, r, 1_000).await?);
        }
    }
    Ok(out)
}

/// Seconds from `t0_us`, and the values of one channel.
fn series(
    label: String,
    samples: &[Sample],
    t0_us: i64,
    value: impl Fn(&Sample) -> Option<f64>,
) -> Series {
    Series {
        label,
        points: samples
            .iter()
            .filter_map(|s| value(s).map(|v| ((s.t_us - t0_us) as f64 / 1e6, v)))
            .collect(),
    }
}

fn flag(v: Option<bool>) -> Option<f64> {
    v.map(|b| if b { 1.0 } else { 0.0 })
}

fn text_or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "—".into(), |v| v.to_string())
}

/// Writes the report for `plan` as PDF bytes.
pub(crate) async fn write(
    store: &Arc<dyn Store>,
    plan: &Plan,
    facts: &ReportFacts,
    font: &ReportFont,
) -> Result<Vec<u8>, ServiceError> {
    let vehicle = &plan.access.vehicle.vehicle;
    let zone = vehicle.timezone.clone();
    let local = |us: i64| format_local_rfc3339(us, &zone);
    let bound = |us: i64, open: &str| {
        if us == i64::MIN || us == i64::MAX {
            open.to_string()
        } else {
            local(us)
        }
    };
    let events = events(store, plan).await?;
    let mut crashes: Vec<EdrRecord> = Vec::new();
    for r in &plan.access.ranges {
        if plan.access.may_read(DataClass::Crash) {
            crashes.extend(store.edr_records(plan.access.vehicle.id, *r).await?);
        }
    }
    let mut l = Layout::new(font);

    // Cover.
    l.heading(&both!(report_title));
    l.paragraph(&both!(report_lead), 9.0, GREY);
    l.gap(6.0);
    let first = plan.access.ranges[0].from_us;
    let last = plan.access.ranges[plan.access.ranges.len() - 1].to_us;
    let by = &facts.requested_by;
    let text = |k: &str| by[k].as_str().unwrap_or_default().to_string();
    let mut cover = vec![
        (both!(col_vin), vehicle.vin.to_string()),
        (
            both!(report_vehicle),
            format!(
                "{} {} · {}",
                vehicle.model.clone().unwrap_or_default(),
                vehicle
                    .model_year
                    .map(|y| y.to_string())
                    .unwrap_or_default(),
                zone
            ),
        ),
        (
            both!(report_range),
            format!("{} – {}", bound(first, "—"), bound(last, "—")),
        ),
        (both!(report_generated), local(facts.generated_us)),
        (both!(report_bundle_id), facts.bundle_id.clone()),
        (both!(fingerprint), facts.fingerprint.clone()),
        (
            both!(report_requested_by),
            format!("{} · {}", text("role"), text("purpose")),
        ),
    ];
    if by["case_no"].is_string() {
        cover.push((both!(col_case), text("case_no")));
        cover.push((both!(field_recipient), text("recipient")));
        cover.push((both!(field_legal_basis), text("legal_basis")));
    }
    if let Some(s) = &facts.sealed {
        let share = if s.exported == 0 {
            0.0
        } else {
            s.signed as f64 * 100.0 / s.exported as f64
        };
        let keys = s
            .evidence
            .as_ref()
            .map(|e| e.keys.join(", "))
            .unwrap_or_else(|| "—".into());
        cover.push((
            both!(report_sealed_share),
            format!("{share:.1} % ({} / {}) · {keys}", s.signed, s.exported),
        ));
        let missing = s.evidence.as_ref().map_or(Vec::new(), |e| {
            e.missing_batches
                .iter()
                .map(|m| {
                    format!(
                        "{} {}–{} ({} – {})",
                        m.key,
                        m.from_seq,
                        m.to_seq,
                        m.after.as_deref().unwrap_or("—"),
                        m.before
                    )
                })
                .collect()
        });
        cover.push((
            both!(report_missing_batches),
            if missing.is_empty() {
                "0".into()
            } else {
                missing.join("; ")
            },
        ));
    }
    for (name, sha, size, rows) in &facts.files {
        cover.push((format!("{name} (SHA-256)"), sha.clone()));
        cover.push((
            name.clone(),
            format!("{size} B · {rows} {}", both!(report_rows)),
        ));
    }
    l.facts(&cover);
    if facts.files.is_empty() {
        l.paragraph(&both!(report_standalone), 8.5, BLACK);
    }
    l.subheading(&both!(report_verify_title));
    l.paragraph(word(Lang::ZhCn, "report_verify_body"), 8.5, BLACK);
    l.paragraph(word(Lang::En, "report_verify_body"), 8.5, BLACK);

    // What this contains.
    l.heading(&both!(report_contains));
    l.facts(&[
        (both!(report_present), channel_list(&facts.present)),
        (
            both!(report_absent),
            if facts.absent.is_empty() {
                "—".into()
            } else {
                channel_list(&facts.absent)
            },
        ),
        (both!(export_location), location_both(plan.positions.level)),
        (
            both!(report_gaps),
            format!("{} (> {} s)", facts.gaps.len(), GAP_US / 1_000_000),
        ),
    ]);
    if !facts.gaps.is_empty() {
        let rows: Vec<Vec<String>> = facts
            .gaps
            .iter()
            .take(200)
            .map(|(a, b)| vec![local(*a), local(*b), ((b - a) / 1_000_000).to_string()])
            .collect();
        l.table(
            &[
                both!(report_gap_from),
                both!(report_gap_to),
                both!(report_gap_secs),
            ],
            &[200.0, 200.0, CONTENT_W - 400.0],
            &rows,
        );
    }

    // Events.
    l.heading(&both!(events_title));
    if events.is_empty() {
        l.paragraph(&both!(no_events), 9.0, GREY);
    } else {
        let rows: Vec<Vec<String>> = events
            .iter()
            .take(MAX_EVENT_ROWS)
            .map(|e| {
                vec![
                    local(e.t_us),
                    vocabulary::event_type(e.event_type).both(),
                    vocabulary::severity(e.severity).both(),
                    e.trigger
                        .as_ref()
                        .map(|t| vocabulary::trigger(Lang::ZhCn, t))
                        .unwrap_or_default(),
                    e.id.clone(),
                ]
            })
            .collect();
        l.table(
            &[
                both!(col_time),
                both!(col_type),
                both!(col_severity),
                both!(col_trigger),
                "ID".into(),
            ],
            &[150.0, 90.0, 60.0, 130.0, CONTENT_W - 430.0],
            &rows,
        );
        if events.len() > MAX_EVENT_ROWS {
            l.paragraph(&both!(report_events_capped), 8.0, GREY);
        }
    }

    // Crash records.
    for c in &crashes {
        l.new_page();
        l.heading(&format!("{} · {}", both!(crash_title), local(c.t0_us)));
        let airbags = c
            .airbags
            .iter()
            .map(|a| {
                let position = vocabulary::airbag(&a.position)
                    .map_or_else(|| a.position.clone(), |w| w.both());
                format!("{position} {} ms", a.deploy_ms)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let field = |name: &str| {
            vocabulary::crash_field(name).map_or_else(
                || name.to_string(),
                |f| {
                    format!(
                        "{} / {}",
                        vocabulary::heading(Lang::ZhCn, f),
                        vocabulary::heading(Lang::En, f)
                    )
                },
            )
        };
        l.facts(&[
            (field("standard"), text_or_dash(c.standard.as_ref())),
            (field("t0"), local(c.t0_us)),
            (
                field("max_delta_v_long_kmh"),
                text_or_dash(c.max_delta_v_long_kmh),
            ),
            (
                field("time_max_delta_v_ms"),
                text_or_dash(c.time_max_delta_v_ms),
            ),
            (
                field("max_delta_v_lat_kmh"),
                text_or_dash(c.max_delta_v_lat_kmh),
            ),
            (
                field("ignition_cycles"),
                format!(
                    "{} / {}",
                    text_or_dash(c.ignition_cycle_crash),
                    text_or_dash(c.ignition_cycle_download)
                ),
            ),
            (
                field("belt_driver"),
                text_or_dash(c.belt_driver.map(|b| vocabulary::belt(b).both())),
            ),
            (field("airbags"), airbags),
            (field("locked"), vocabulary::flag(c.locked).both()),
            (field("complete"), vocabulary::flag(c.complete).both()),
        ]);
        let pre = &c.pre_crash.samples;
        let secs = |ms: i32| ms as f64 / 1000.0;
        l.chart(
            &format!("{} ({} Hz)", both!(crash_pre_crash), c.pre_crash.rate_hz),
            "s",
            &[
                Series {
                    label: channel_both("speed_kmh"),
                    points: pre
                        .iter()
                        .filter_map(|s| s.speed_kmh.map(|v| (secs(s.t_ms), v)))
                        .collect(),
                },
                Series {
                    label: channel_both("accel_pedal_pct"),
                    points: pre
                        .iter()
                        .filter_map(|s| s.accel_pedal_pct.map(|v| (secs(s.t_ms), v)))
                        .collect(),
                },
            ],
            Some(0.0),
            110.0,
        );
        let rows: Vec<Vec<String>> = pre
            .iter()
            .map(|s| {
                vec![
                    s.t_ms.to_string(),
                    text_or_dash(s.speed_kmh),
                    text_or_dash(s.accel_pedal_pct),
                    text_or_dash(s.brake_pedal.map(|b| vocabulary::flag(b).zh)),
                    text_or_dash(s.brake_pressure_bar),
                    text_or_dash(s.abs_active.map(|b| vocabulary::flag(b).zh)),
                    text_or_dash(s.aeb_state.map(|a| vocabulary::aeb(a).zh)),
                ]
            })
            .collect();
        let two_lines = |term: Option<&vocabulary::Term>| {
            term.map_or_else(String::new, |t| {
                format!(
                    "{}\n{}",
                    vocabulary::heading(Lang::ZhCn, t),
                    vocabulary::heading(Lang::En, t)
                )
            })
        };
        l.table(
            &[
                two_lines(vocabulary::crash_field("t_ms")),
                two_lines(vocabulary::channel("speed_kmh")),
                two_lines(vocabulary::channel("accel_pedal_pct")),
                two_lines(vocabulary::channel("brake_pedal")),
                two_lines(vocabulary::channel("brake_pressure_bar")),
                two_lines(vocabulary::channel("abs_active")),
                two_lines(vocabulary::channel("aeb_state")),
            ],
            &[62.0, 68.0, 85.0, 68.0, 92.0, 65.0, CONTENT_W - 440.0],
            &rows,
        );
        let dv = &c.delta_v.samples;
        l.chart(
            &format!("{} ({} Hz)", both!(crash_delta_v), c.delta_v.rate_hz),
            "ms",
            &[
                Series {
                    label: crash_both("long_kmh"),
                    points: dv
                        .iter()
                        .filter_map(|s| s.long_kmh.map(|v| (s.t_ms as f64, v)))
                        .collect(),
                },
                Series {
                    label: crash_both("lat_kmh"),
                    points: dv
                        .iter()
                        .filter_map(|s| s.lat_kmh.map(|v| (s.t_ms as f64, v)))
                        .collect(),
                },
            ],
            None,
            100.0,
        );
        l.subheading(&both!(limitations_title));
        for (zh, en) in limitations(c) {
            l.paragraph(&format!("• {zh}"), 8.5, BLACK);
            l.paragraph(&format!("  {en}"), 8.5, GREY);
        }
    }

    // Brake events, one chart group each.
    let brakes: Vec<&Event> = events.iter().filter(|e| is_brake(e.event_type)).collect();
    if !brakes.is_empty() {
        l.new_page();
        l.heading(&both!(report_brake_events));
        l.paragraph(&both!(event_marked), 8.5, GREY);
    }
    for e in brakes.iter().take(MAX_BRAKE_CHARTS) {
        let samples = window(store, plan, e.t_us).await?;
        l.subheading(&format!(
            "{} · {} · {}",
            vocabulary::event_type(e.event_type).both(),
            local(e.t_us),
            e.id
        ));
        let ch = channel_both;
        l.chart(
            &ch("speed_kmh"),
            "s",
            &[series(ch("speed_kmh"), &samples, e.t_us, |s| {
                s.channels.speed_kmh
            })],
            Some(0.0),
            55.0,
        );
        l.chart(
            &format!("{} · {}", ch("brake_pressure_bar"), ch("accel_pedal_pct")),
            "s",
            &[
                series(ch("brake_pressure_bar"), &samples, e.t_us, |s| {
                    s.channels.brake_pressure_bar
                }),
                series(ch("accel_pedal_pct"), &samples, e.t_us, |s| {
                    s.channels.accel_pedal_pct
                }),
            ],
            Some(0.0),
            55.0,
        );
        let aeb_scale = AebState::ALL
            .iter()
            .map(|a| format!("{} {}", aeb_level(*a), vocabulary::aeb(*a).both()))
            .collect::<Vec<_>>()
            .join(" · ");
        l.chart(
            &format!(
                "{} · {} · {}",
                ch("brake_pedal"),
                ch("abs_active"),
                ch("aeb_state")
            ),
            "s",
            &[
                series(ch("brake_pedal"), &samples, e.t_us, |s| {
                    flag(s.channels.brake_pedal)
                }),
                series(ch("abs_active"), &samples, e.t_us, |s| {
                    flag(s.channels.abs_active)
                }),
                series(ch("aeb_state"), &samples, e.t_us, |s| {
                    s.channels.aeb_state.map(aeb_level)
                }),
            ],
            Some(0.0),
            40.0,
        );
        l.paragraph(&format!("{} {aeb_scale}", ch("aeb_state")), 7.5, GREY);
    }
    if brakes.len() > MAX_BRAKE_CHARTS {
        l.paragraph(&both!(report_brake_capped), 8.0, GREY);
    }

    let id = facts.bundle_id.clone();
    let vin = vehicle.vin.to_string();
    let footer_label = both!(report_page);
    l.finish(move |page, pages| format!("{vin} · {id} · {footer_label} {page} / {pages}"))
}

/// One limitation of a crash record, in one language.
fn limitation(l: &Limitation, lang: Lang) -> String {
    match l {
        Limitation::PreCrashRate { hz } => {
            format!("{} {hz}", word(lang, "lim_pre_crash_rate"))
        }
        Limitation::DeltaVRate { hz } => format!("{} {hz}", word(lang, "lim_delta_v_rate")),
        Limitation::NotSynchronised => word(lang, "lim_not_synchronised").to_string(),
        Limitation::Incomplete => word(lang, "lim_incomplete").to_string(),
        Limitation::Absent { channels } => {
            let named: Vec<&str> = channels
                .iter()
                .map(|c| vocabulary::channel(c).map_or(c.as_str(), |t| t.label.get(lang)))
                .collect();
            format!("{} {}", word(lang, "lim_absent"), named.join(", "))
        }
    }
}

/// The record's limitations (as the crash record view states them), in Chinese and English.
fn limitations(c: &EdrRecord) -> Vec<(String, String)> {
    crate::server::events::limitations(c)
        .iter()
        .map(|l| (limitation(l, Lang::ZhCn), limitation(l, Lang::En)))
        .collect()
}

/// AEB state as its level, as the charts draw it: off 0, standby 1, warning 2, braking 3.
fn aeb_level(state: AebState) -> f64 {
    match state {
        AebState::Off => 0.0,
        AebState::Standby => 1.0,
        AebState::Warning => 2.0,
        AebState::Braking => 3.0,
    }
}

/// "车速 / Speed (km/h)": a channel's words in both languages, for a chart.
fn channel_both(name: &str) -> String {
    term_both(name, vocabulary::channel(name))
}

/// A crash-record series' words in both languages.
fn crash_both(name: &str) -> String {
    term_both(name, vocabulary::crash_field(name))
}

fn term_both(name: &str, term: Option<&vocabulary::Term>) -> String {
    match term {
        Some(c) if !c.unit.is_empty() => format!("{} ({})", c.label.both(), c.unit),
        Some(c) => c.label.both(),
        None => name.to_string(),
    }
}

/// Channels by their words in both languages: "车速 / Speed; 制动压力 / Brake pressure".
fn channel_list(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| {
            let n = n.as_ref();
            vocabulary::channel(n).map_or_else(|| n.to_string(), |c| c.label.both())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The location redaction the export applied, in both languages.
fn location_both(location: LocationRedaction) -> String {
    match location {
        LocationRedaction::None => both!(location_none),
        LocationRedaction::Coarse => both!(location_coarse),
        LocationRedaction::Full => both!(location_full),
    }
}
