//! Row helpers both backends share: reading stored enum names, and naming
//! how two samples differ.

use super::{
    AccountId, AuditEntry, NewAuditEntry, SampleBatchOutcome, SealRuns, StoreError, VehicleId,
};
use crate::domain::chart::ChartChannel;
use crate::domain::records::Sample;
use std::collections::HashMap;

/// Parses an enum stored by its wire name; an unknown name is corruption.
pub(crate) fn parse_wire<T>(
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    column: &str,
) -> Result<Option<T>, StoreError> {
    value
        .map(|v| {
            parse(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("{column} holds unknown value `{v}`")))
        })
        .transpose()
}

/// Names the channels in which two samples differ.
fn sample_differences(held: &Sample, new: &Sample) -> String {
    let a = serde_json::to_value(&held.channels).unwrap_or_default();
    let b = serde_json::to_value(&new.channels).unwrap_or_default();
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut names: Vec<&str> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    if held.extra != new.extra {
        names.push("extra");
    }
    format!("held values differ in: {}", names.join(", "))
}

/// How an account is looked up.
pub(crate) enum AccountKey<'a> {
    Name(&'a str),
    Id(AccountId),
}

/// Minute summaries start at multiples of this (60 s), UTC.
pub(crate) const MINUTE_US: i64 = 60_000_000;

/// The AEB state as a level (off 0 … braking 3), for charts and summaries.
pub(crate) const AEB_LEVEL: &str = "CASE aeb_state WHEN 'off' THEN 0 WHEN 'standby' THEN 1 \
    WHEN 'warning' THEN 2 WHEN 'braking' THEN 3 END";

/// The stem of one channel's `_min`/`_max` columns in `sample_minutes`.
pub(crate) fn minute_stem(channel: ChartChannel) -> &'static str {
    match channel {
        ChartChannel::Aeb => "aeb_level",
        other => other.as_str(),
    }
}

/// Per vehicle, the first and last sample time among `rows[indices]`.
pub(crate) fn spans(
    rows: &[(VehicleId, Sample)],
    indices: impl Iterator<Item = usize>,
) -> HashMap<VehicleId, (i64, i64)> {
    let mut by_vehicle: HashMap<VehicleId, (i64, i64)> = HashMap::new();
    for i in indices {
        let (v, s) = &rows[i];
        let e = by_vehicle.entry(*v).or_insert((s.t_us, s.t_us));
        e.0 = e.0.min(s.t_us);
        e.1 = e.1.max(s.t_us);
    }
    by_vehicle
}

/// Classifies rows that were not inserted against the rows held for their
/// identity: the same values (a duplicate) or others (a conflict; the held
/// row is kept). A sealing car sends location only in `position` records,
/// which are compared as such: a sealed sample's location, taken from its
/// position, is not compared.
pub(crate) fn classify_against_held(
    rows: &[(VehicleId, Sample)],
    skipped: &[usize],
    held: &HashMap<(VehicleId, i64), Sample>,
    seals: &SealRuns,
    outcome: &mut SampleBatchOutcome,
) -> Result<(), StoreError> {
    let unlocated = |s: &Sample| {
        let mut s = s.clone();
        (s.channels.lat, s.channels.lon, s.channels.heading_deg) = (None, None, None);
        s
    };
    for &i in skipped {
        let (vehicle, sample) = &rows[i];
        match held.get(&(*vehicle, sample.t_us)) {
            Some(h) if h == sample => outcome.duplicates += 1,
            Some(h) if seals.seal_of(i).is_some() && unlocated(h) == unlocated(sample) => {
                outcome.duplicates += 1
            }
            Some(h) => outcome.conflicts.push((i, sample_differences(h, sample))),
            None => return Err(StoreError::Corrupt("a skipped sample is not held".into())),
        }
    }
    Ok(())
}

/// An entry as appended now: the database gives its seq, the sequencer
/// its leaf.
pub(crate) fn new_entry(entry: &NewAuditEntry) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at_us: chrono::Utc::now().timestamp_micros(),
        actor: entry.actor.clone(),
        action: entry.action.as_str().to_string(),
        vin: entry.vin.clone(),
        details: entry.details.to_string(),
        nonce: {
            let mut bytes = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            hex::encode(bytes)
        },
        leaf: None,
    }
}

/// A case's number, `C-YYYY-NNNNNN`, from its id and the year it was opened (UTC).
pub(crate) fn case_number(id: i64, created_us: i64) -> String {
    let year = chrono::DateTime::from_timestamp_micros(created_us)
        .map_or(1970, |t| chrono::Datelike::year(&t));
    format!("C-{year}-{id:06}")
}
