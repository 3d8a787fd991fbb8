//! The changes feed (EU Data Act Art. 4: access "continuously"): a vehicle's
//! records in the order they were stored, not the order they were recorded,
//! so a client that keeps its cursor misses nothing that arrives late.
//!
//! Every accepted import leaves one audit entry per vehicle with the span of
//! its records (`import/supplied.rs`); within one VIN those entries' `seq`
//! follows commit order. The feed walks them after the cursor and, for each,
//! hands out the records of its span that the reader may see: samples by
//! time, then events (with their crash records). A span that overlaps what
//! an earlier import stored hands those records out again: the feed is
//! at-least-once, and each item carries its record's key (`t`, or the event
//! id) for the client to keep the last copy.
//!
//! Cursor: `S` (imports up to `seq` S delivered), `S:s:T` (within import S,
//! samples up to `t` = T µs delivered) or `S:e:T:ID` (within import S, all
//! samples and the events up to (T, ID) delivered).

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::events::event_item;
use super::query;
use super::store::{
    AuditEntry, EventFilter, EventPageRequest, PageRequest, SampleFilter, TimeRange,
};
use super::telemetry::sample_item;
use super::Portal;
use crate::domain::audit::AuditAction;
use crate::domain::browse::PageQuery;
use crate::domain::sharing::DataClass;
use crate::domain::time::parse_rfc3339_micros;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Imports read from the audit log at a time.
const IMPORTS_PER_READ: u32 = 64;

/// `GET /api/v1/vehicles/{vin}/changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePage {
    /// Records in import order; each has `kind` (`sample`, `event`, `edr`)
    /// and `import` (the import's `seq`).
    pub items: Vec<Value>,
    /// Where to resume; always given, so a client can ask again later for
    /// what arrives next.
    pub next_cursor: String,
    /// Whether more is ready now (the page was full).
    pub more: bool,
}

/// Where a reader is in the feed.
#[derive(Debug, Clone, PartialEq)]
enum Position {
    /// Imports up to this `seq` are delivered.
    Done(i64),
    /// Within import `seq`, samples up to `t` delivered.
    Samples(i64, i64),
    /// Within import `seq`, every sample and the events up to (t, id).
    Events(i64, i64, String),
}

impl Position {
    fn parse(cursor: Option<&str>) -> Result<Position, ServiceError> {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(Position::Done(0));
        };
        let bad = || query::cursor_error();
        let mut parts = cursor.splitn(4, ':');
        let seq: i64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let position = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => Position::Done(seq),
            (Some("s"), Some(t), None) => Position::Samples(seq, t.parse().map_err(|_| bad())?),
            (Some("e"), Some(t), Some(id)) => {
                Position::Events(seq, t.parse().map_err(|_| bad())?, id.to_string())
            }
            _ => return Err(bad()),
        };
        Ok(position)
    }

    fn cursor(&self) -> String {
        match self {
            Position::Done(seq) => seq.to_string(),
            Position::Samples(seq, t) => format!("{seq}:s:{t}"),
            Position::Events(seq, t, id) => format!("{seq}:e:{t}:{id}"),
        }
    }

    /// The imports still to read from: the one in progress, or those after.
    fn after_seq(&self) -> i64 {
        match self {
            Position::Done(seq) => *seq,
            Position::Samples(seq, _) | Position::Events(seq, _, _) => seq - 1,
        }
    }
}

/// The span of records an import brought (inclusive ends), if any.
fn span_of(entry: &AuditEntry) -> Option<TimeRange> {
    let details: Value = serde_json::from_str(&entry.details).ok()?;
    let time = |k: &str| {
        details[k]
            .as_str()
            .and_then(|t| parse_rfc3339_micros(t).ok())
    };
    Some(TimeRange {
        from_us: time("from")?,
        to_us: time("to")?.checked_add(1)?,
    })
}

/// Rings after every import this process commits, so live streams wake at
/// once; imports committed by another process (another server, the CLI)
/// are found by the streams' own polls.
static STORED: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Tells the live streams of this process that an import was committed.
pub fn announce_stored() {
    STORED.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes after every import this process commits.
pub fn stored_signal() -> tokio::sync::watch::Receiver<u64> {
    STORED.subscribe()
}

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/changes?cursor=&limit=`: for the owner,
    /// and for recipients of a continuous grant (within its scope).
    pub async fn changes(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &PageQuery,
    ) -> Result<ChangePage, ServiceError> {
        let limit = query::limit(q.limit)?;
        let mut at = Position::parse(q.cursor.as_deref())?;
        let access = self
            .authorize(who, vin, Reading::Changes, TimeRange::ALL)
            .await?;
        let vin = access.vehicle.vehicle.vin.to_string();
        let mut items = Vec::new();
        loop {
            let imports = self
                .store
                .imports_of_vin(&vin, at.after_seq(), IMPORTS_PER_READ)
                .await?;
            for import in &imports {
                if !matches!(&at, Position::Samples(s, _) | Position::Events(s, _, _) if *s == import.seq)
                {
                    at = Position::Samples(import.seq, i64::MIN);
                }
                if items.len() >= limit as usize {
                    return Ok(ChangePage {
                        items,
                        next_cursor: at.cursor(),
                        more: true,
                    });
                }
                if let Some(span) = span_of(import) {
                    let ranges: Vec<TimeRange> =
                        access.narrow(span).map(|a| a.ranges).unwrap_or_default();
                    if !ranges.is_empty() {
                        let full = self
                            .read_import(&access, &ranges, import.seq, &mut at, &mut items, limit)
                            .await?;
                        if full {
                            return Ok(ChangePage {
                                items,
                                next_cursor: at.cursor(),
                                more: true,
                            });
                        }
                    }
                }
                at = Position::Done(import.seq);
            }
            if imports.len() < IMPORTS_PER_READ as usize {
                return Ok(ChangePage {
                    items,
                    next_cursor: at.cursor(),
                    more: false,
                });
            }
        }
    }

    /// Adds import `seq`'s records within `ranges` after `at` to `items`,
    /// moving `at` along; true when the page filled up first.
    async fn read_import(
        &self,
        access: &Access,
        ranges: &[TimeRange],
        seq: i64,
        at: &mut Position,
        items: &mut Vec<Value>,
        limit: u32,
    ) -> Result<bool, ServiceError> {
        let vehicle = access.vehicle.id;
        let zone = access.vehicle.vehicle.timezone.as_str();
        if let Position::Samples(_, after) = *at {
            if access.may_read(DataClass::Telemetry) {
                let room = limit.saturating_sub(items.len() as u32);
                let page = PageRequest {
                    descending: false,
                    after_us: (after != i64::MIN).then_some(after),
                    limit: room,
                };
                let rows = self
                    .store
                    .sample_page(vehicle, ranges, &SampleFilter::default(), page)
                    .await?;
                let positions = access.positions();
                for s in &rows {
                    let mut item = sample_item(s, zone, None, None, &positions);
                    item.insert("kind".into(), "sample".into());
                    item.insert("import".into(), seq.into());
                    items.push(Value::Object(item));
                }
                if let Some(last) = rows.last() {
                    *at = Position::Samples(seq, last.t_us);
                }
                if rows.len() == room as usize {
                    return Ok(true);
                }
            }
            *at = Position::Events(seq, i64::MIN, String::new());
        }
        let (events, crash) = (
            access.may_read(DataClass::Events),
            access.may_read(DataClass::Crash),
        );
        if !events && !crash {
            return Ok(false);
        }
        loop {
            let Position::Events(_, t, id) = &*at else {
                return Ok(false);
            };
            let room = limit.saturating_sub(items.len() as u32);
            if room == 0 {
                return Ok(true);
            }
            let page = EventPageRequest {
                descending: false,
                after: (*t != i64::MIN).then(|| (*t, id.clone())),
                limit: room,
            };
            let rows = self
                .store
                .event_page(vehicle, ranges, &EventFilter::default(), &page)
                .await?;
            for e in rows.iter().map(|p| &p.event) {
                if events {
                    let mut item = serde_json::to_value(event_item(e, zone, None))
                        .map_err(|e| ServiceError::Internal(format!("an event item: {e}")))?;
                    item["kind"] = "event".into();
                    item["import"] = seq.into();
                    items.push(item);
                }
                if crash && e.event_type.is_crash() {
                    if let Some(record) = self.store.edr_record(vehicle, &e.id).await? {
                        items.push(json!({"kind": "edr", "import": seq, "event_id": e.id, "record": record}));
                    }
                }
                *at = Position::Events(seq, e.t_us, e.id.clone());
            }
            if rows.len() < room as usize {
                return Ok(false);
            }
            if items.len() >= limit as usize {
                return Ok(true);
            }
        }
    }
}

impl Portal {
    /// Where a live view starts: after the newest import, so only what is
    /// stored from now on is sent. Passes the gate as the feed does.
    pub async fn live_cursor(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<(String, String), ServiceError> {
        let access = self
            .authorize(who, vin, Reading::Changes, TimeRange::ALL)
            .await?;
        let vin = access.vehicle.vehicle.vin.to_string();
        let newest = self.newest_import(&vin).await?;
        Ok((vin, Position::Done(newest).cursor()))
    }

    /// Whether `who` may still follow `vin` (not recorded: a live view asks
    /// this while nothing new arrives, so a revoked grant's or a signed-out
    /// session's stream ends without waiting for data).
    pub async fn may_follow(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<bool, ServiceError> {
        let Some(who) = who else {
            return Ok(false);
        };
        let vehicle = match crate::domain::Vin::parse(vin) {
            Ok(vin) => self.store.vehicle(&vin).await?,
            Err(_) => None,
        };
        let Some(vehicle) = vehicle else {
            return Ok(false);
        };
        let permit = self.permitted(who, &vehicle, Reading::Changes).await?;
        Ok(!permit.ranges().is_empty())
    }

    /// Whether something was stored of `vin` after `cursor` (a live view
    /// asks this cheaply, and reads the feed through the gate only then).
    pub async fn stored_after(&self, vin: &str, cursor: &str) -> Result<bool, ServiceError> {
        let at = Position::parse(Some(cursor))?;
        Ok(self.newest_import(vin).await? > at.after_seq())
    }

    async fn newest_import(&self, vin: &str) -> Result<i64, ServiceError> {
        let newest = self
            .store
            .audit_for_vin(vin, &[AuditAction::Import], None, 1)
            .await?;
        Ok(newest.first().map_or(0, |e| e.seq))
    }
}
