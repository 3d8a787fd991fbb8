//! The vehicle's own evidence in a bundle: `sealed.ndjson`, laid out in
//! `docs/evidence.md` ("6. Sealed records in a bundle"). For every seal whose
//! covered records reach into the export: the seal as the car wrote it, then
//! one line per covered line, in order: the line itself where it is
//! revealed, `{"leaf":"<hex>"}` (its Merkle leaf hash) where it is withheld.
//! With the vehicle's keys on the first line, anyone recomputes each root
//! and checks each signature without the portal.

use super::{Plan, Sink};
use crate::domain::export::LocationRedaction;
use crate::domain::sealed::{MissingBatch, SealedEvidence};
use crate::domain::sharing::DataClass;
use crate::domain::time::parse_rfc3339_micros;
use crate::server::authz::Access;
use crate::server::error::ServiceError;
use crate::server::privacy::PositionView;
use crate::server::seal::leaf_hash;
use crate::server::store::{Store, StoredSeal};
use std::collections::BTreeSet;
use std::sync::Arc;

pub const SEALED_FILE: &str = "sealed.ndjson";

/// Seals read per query.
const SEAL_PAGE: u32 = 200;

/// What one covered line tells about itself, for the reveal decision.
#[derive(serde::Deserialize)]
struct CoveredProbe {
    kind: String,
    t: Option<String>,
    t0: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// Whether a covered line is handed over as signed: its class is one the
/// reader may read, its time is inside the export (the request within the
/// reader's periods), and it reveals no coordinates unless the export's
/// location is `full` and they lie outside every privacy zone in force.
/// Returns (revealed, a record of `data.ndjson`: not a position).
fn revealed(line: &str, access: &Access, positions: &PositionView) -> (bool, bool) {
    let Ok(probe) = serde_json::from_str::<CoveredProbe>(line) else {
        return (false, false);
    };
    let record = probe.kind != "position";
    let class = match probe.kind.as_str() {
        "event" => DataClass::Events,
        "edr" => DataClass::Crash,
        _ => DataClass::Telemetry,
    };
    if !access.may_read(class) {
        return (false, record);
    }
    let ranges = &access.ranges;
    let Some(t) = probe
        .t
        .or(probe.t0)
        .and_then(|t| parse_rfc3339_micros(&t).ok())
    else {
        return (false, record);
    };
    let inside = ranges.iter().any(|r| r.from_us <= t && t < r.to_us);
    let shown = match (probe.lat, probe.lon) {
        (None, None) => record,
        (Some(lat), Some(lon)) => {
            positions.level == LocationRedaction::Full && !positions.hides(lat, lon)
        }
        // Half a position cannot be placed against a zone: revealed only
        // at `full` with no zone in force.
        _ => positions.level == LocationRedaction::Full && positions.zones.is_empty(),
    };
    (inside && shown, record)
}

/// What `write` found, besides the manifest's account of it.
pub(crate) struct SealedWritten {
    pub evidence: SealedEvidence,
    pub lines: u64,
    /// Revealed lines that are records of `data.ndjson` (not positions).
    pub records: u64,
}

fn internal(what: &'static str) -> impl Fn(std::io::Error) -> ServiceError {
    move |e| ServiceError::Internal(format!("{what}: {e}"))
}

/// Writes `sealed.ndjson`; `None` (and nothing written) when no seal covers
/// anything of the export.
pub(crate) async fn write(
    store: &Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<Option<SealedWritten>, ServiceError> {
    let vehicle = &plan.access.vehicle;
    let ranges = &plan.access.ranges;
    let (Some(from), Some(to)) = (
        ranges.iter().map(|r| r.from_us).min(),
        ranges.iter().map(|r| r.to_us.saturating_sub(1)).max(),
    ) else {
        return Ok(None);
    };
    let mut evidence = SealedEvidence {
        file: SEALED_FILE.into(),
        seals: 0,
        revealed: 0,
        withheld: 0,
        keys: Vec::new(),
        missing_batches: Vec::new(),
    };
    let mut keys = BTreeSet::new();
    let mut last: Option<(String, u64, String)> = None;
    let mut after = None;
    let mut lines = 0u64;
    let mut records = 0u64;
    loop {
        let page = store
            .seal_page(vehicle.id, (from, to), after.clone(), SEAL_PAGE)
            .await?;
        if lines == 0 && !page.is_empty() {
            let held = store.vehicle_keys(vehicle.id).await?;
            let first = serde_json::json!({
                "kind": "vehicle",
                "vin": vehicle.vehicle.vin.as_str(),
                "keys": held,
            });
            push(sink.buffer(), &first.to_string());
            lines += 1;
        }
        for seal in &page {
            note_gap(&mut evidence.missing_batches, last.as_ref(), seal);
            lines += write_seal(
                sink,
                seal,
                vehicle.vehicle.vin.as_str(),
                plan,
                &mut evidence,
                &mut records,
            )?;
            keys.insert(seal.line.key.clone());
            last = Some((
                seal.line.key.clone(),
                seal.line.seq,
                seal.line.last_t.clone(),
            ));
            sink.flush(false).await?;
        }
        match page.last() {
            Some(l) if page.len() == SEAL_PAGE as usize => {
                after = Some((l.line.key.clone(), l.line.seq))
            }
            _ => break,
        }
    }
    if evidence.seals == 0 {
        return Ok(None);
    }
    evidence.keys = keys.into_iter().collect();
    Ok(Some(SealedWritten {
        evidence,
        lines,
        records,
    }))
}

/// A jump in one key's seq between two seals of the bundle is a missing batch.
fn note_gap(gaps: &mut Vec<MissingBatch>, last: Option<&(String, u64, String)>, seal: &StoredSeal) {
    if let Some((key, seq, last_t)) = last {
        if *key == seal.line.key && seal.line.seq > seq + 1 {
            gaps.push(MissingBatch {
                key: key.clone(),
                from_seq: seq + 1,
                to_seq: seal.line.seq - 1,
                after: Some(last_t.clone()),
                before: seal.line.first_t.clone(),
            });
        }
    }
}

/// One seal and its covered lines (revealed, or as leaf hashes); returns the lines written.
fn write_seal(
    sink: &mut Sink,
    seal: &StoredSeal,
    vin: &str,
    plan: &Plan,
    evidence: &mut SealedEvidence,
    records: &mut u64,
) -> Result<u64, ServiceError> {
    let mut line = seal.line.clone();
    line.vin = vin.into();
    let text = serde_json::to_string(&line)
        .map_err(|e| ServiceError::Internal(format!("writing a seal: {e}")))?;
    push(sink.buffer(), &text);
    let covered = crate::server::seal::kept::read_kept(&seal.covered)
        .map_err(internal("reading a seal's covered lines"))?;
    let mut written = 1;
    // Split on `\n` only: a line is kept exactly, a `\r` in it included.
    for covered_line in covered.split_terminator('\n') {
        let (reveal, record) = revealed(covered_line, &plan.access, &plan.positions);
        if reveal {
            push(sink.buffer(), covered_line);
            evidence.revealed += 1;
            *records += u64::from(record);
        } else {
            let leaf = hex::encode(leaf_hash(covered_line.as_bytes()));
            push(sink.buffer(), &format!(r#"{{"leaf":"{leaf}"}}"#));
            evidence.withheld += 1;
        }
        written += 1;
    }
    evidence.seals += 1;
    Ok(written)
}

fn push(buffer: &mut Vec<u8>, line: &str) {
    buffer.extend_from_slice(line.as_bytes());
    buffer.push(b'\n');
}
