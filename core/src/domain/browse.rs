//! What the browsing views return: shared by the REST API, the server
//! functions and the pages. Times are RFC 3339 UTC (`t`) plus the vehicle's
//! local time with its offset (`t_local`).

use super::chart::Chart;
use super::log_format::{EventGroup, EventType, Severity, Trigger};
use super::records::EdrRecord;
use serde::{Deserialize, Serialize};

/// One keyset page of a list: `next_cursor` is null at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A moment, in UTC and in the vehicle's zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instant {
    pub t: String,
    pub t_local: String,
    /// In the zone the reader asked for (`tz`), when they asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_viewer: Option<String>,
    pub t_us: i64,
}

/// `GET /api/v1/vehicles/{vin}`: what is held, per data class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub vin: String,
    pub model: Option<String>,
    pub timezone: String,
    /// The reader's permitted periods (`to` null while open).
    pub periods: Vec<Period>,
    pub telemetry: ClassSummary,
    pub location: ClassSummary,
    pub events: ClassSummary,
    pub crash_records: ClassSummary,
    /// Batches the vehicle sealed that never arrived, within the reader's
    /// periods (format 1.1): never hidden.
    #[serde(default)]
    pub missing_batches: Vec<super::sealed::MissingBatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// `None`: from the first record held.
    pub from: Option<Instant>,
    pub to: Option<Instant>,
}

/// One data class: how much, from when to when, how often, how long kept.
/// (All zero for a class a recipient's grant does not cover.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassSummary {
    pub count: u64,
    /// Of them, records the vehicle itself signed (format 1.1); the rest are unsealed.
    #[serde(default)]
    pub sealed: u64,
    /// Lines the car sealed together with these records that fall outside
    /// the reader's periods (another owner's, or outside a case): a bundle
    /// hands them over as hashes only, so its seals still verify.
    #[serde(default)]
    pub withheld: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    /// Sampling rates seen (telemetry and location only), most common first.
    pub rates: Vec<Rate>,
    /// How long records are kept after they were recorded.
    pub retention_days: u32,
    /// Records under legal hold, kept whatever the retention: locked crash
    /// records, and the samples of the 30 minutes before each.
    pub held: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub hz: f64,
    /// Share of the sampled intervals at this rate (0–1).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventItem {
    pub id: String,
    pub at: Instant,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub group: EventGroup,
    pub severity: Severity,
    pub trigger: Option<Trigger>,
    pub note: Option<String>,
    /// The vehicle key whose seal covers the event (format 1.1); none: unsealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_by: Option<String>,
}

pub type EventPage = Page<EventItem>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveItem {
    pub start: Instant,
    pub end: Instant,
    pub duration_s: i64,
    pub samples: u64,
    pub distance_km: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    /// Events inside the drive, and how many of them are brake or crash events.
    pub events: u64,
    pub brake_events: u64,
    pub crash_events: u64,
    /// Of the drive's samples, those a vehicle seal covers.
    #[serde(default)]
    pub sealed_samples: u64,
}

pub type DrivePage = Page<DriveItem>;

/// `GET /api/v1/vehicles/{vin}/route`: both ends are required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Where the car went within a range, for a reader who chose to see
/// locations (`shown`); for one who did not, nothing but `shown: false`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub shown: bool,
    /// Positions averaged over equal spans of `bucket_us`, in time order.
    pub points: Vec<RoutePoint>,
    pub bucket_us: i64,
    /// Brake and crash events inside the range, placed at the route's
    /// point nearest in time.
    pub events: Vec<RouteEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoutePoint {
    pub t_us: i64,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub group: EventGroup,
    pub t_us: i64,
    pub lat: f64,
    pub lon: f64,
}

/// `GET /api/v1/vehicles/{vin}/activity`: what happened lately. Days are
/// the vehicle's local days; the strip ends today, or on the day of the
/// newest record the reader may see when that is older than the strip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub timezone: String,
    /// Every day of the strip, oldest first, empty days included.
    pub days: Vec<DayActivity>,
    /// The newest drive of the strip.
    pub latest_drive: Option<DriveItem>,
    /// The newest brake and crash events the reader may see, however old.
    pub latest_brake: Option<EventItem>,
    pub latest_crash: Option<EventItem>,
}

/// One local day: the drives that started on it, their distance, its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayActivity {
    /// `YYYY-MM-DD` in the vehicle's zone.
    pub date: String,
    /// False when none of the reader's periods reaches into the day (before
    /// they owned the car, say): nothing there is theirs to see.
    pub readable: bool,
    pub drives: u32,
    /// The sum of the day's drive distances as the drives list gives them
    /// (each to 0.1 km); none when no drive's distance is known.
    pub distance_km: Option<f64>,
    pub events: u32,
    pub brake_events: u32,
    pub crash_events: u32,
}

/// `GET /api/v1/vehicles/{vin}/events/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    pub timezone: String,
    pub event: EventItem,
    /// The ±15 s window (clipped to what the reader may see).
    pub window_from: Instant,
    pub window_to: Instant,
    pub samples: Vec<serde_json::Map<String, serde_json::Value>>,
    pub chart: Chart,
    pub edr: Option<CrashRecord>,
}

/// An EDR record with what a reader needs to weigh it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrashRecord {
    pub t0: Instant,
    pub record: EdrRecord,
    /// Plain-language limitations, as codes the UI translates.
    pub limitations: Vec<Limitation>,
    /// Pre-crash speeds compared with telemetry at the same instants.
    pub cross_check: CrossCheck,
    /// The vehicle key whose seal covers the record (format 1.1); none: unsealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Limitation {
    /// Pre-crash data are sampled at this rate only.
    PreCrashRate { hz: f64 },
    /// The crash pulse (ΔV) is sampled at this rate, on its own clock.
    DeltaVRate { hz: f64 },
    /// Pre-crash samples and the crash pulse are not synchronised.
    NotSynchronised,
    /// The recorder marked the record incomplete.
    Incomplete,
    /// Channels the recorder did not record.
    Absent { channels: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossCheck {
    pub tolerance_kmh: f64,
    /// Pre-crash samples with a telemetry sample at the same instant.
    pub compared: u32,
    pub disagreements: Vec<Disagreement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    pub t_ms: i32,
    pub edr_speed_kmh: f64,
    pub telemetry_speed_kmh: f64,
}

// The queries of the list views, as they arrive (strings as typed; the
// server checks every part).

/// The query as it arrives (strings as typed); `parse` checks every part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<String>,
    pub gear: Option<String>,
    /// Comma list of channels to return (default: all).
    pub fields: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// The reader's zone for `t_viewer` (IANA name or `UTC`).
    pub tz: Option<String>,
}

/// Telemetry rows: each a map of `t`, `t_local`, `t_viewer`? and the channels.
pub type SamplePage = Page<serde_json::Map<String, serde_json::Value>>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Comma list of event types.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Comma list of groups: brake, crash, warning, other.
    pub group: Option<String>,
    pub severity: Option<String>,
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Comma list of channels (default: speed).
    pub channels: Option<String>,
}

/// The telemetry browser page: one page of rows and the chart of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryView {
    pub timezone: String,
    pub from: Instant,
    pub to: Instant,
    /// The range as `datetime-local` values in the vehicle's zone, for the form.
    pub from_input: String,
    pub to_input: String,
    /// Presets in the same form: the day of `from`, and the 7 days ending with it.
    pub day_from: String,
    pub day_to: String,
    pub week_from: String,
    pub page: SamplePage,
    pub chart: super::chart::Chart,
}

/// A reply that is one record, read in the reader's zone (`?tz=`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneQuery {
    pub tz: Option<String>,
}

/// One page of a list with nothing else to filter by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
