//! What one file supplied of each vehicle. Every accepted import leaves one
//! audit entry (a leaf of the transparency log) per vehicle it carried
//! records of: the file's digest, the VIN, the span and number of its
//! records and the seals' `seq` range. A bundle proves with these leaves
//! which imports its records came from (`docs/evidence.md`, section 7.7).

use crate::domain::audit::AuditAction;
use crate::domain::time::format_utc;
use crate::server::store::{NewAuditEntry, VehicleId};
use foldhash::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
struct Span {
    records: u64,
    first_us: i64,
    last_us: i64,
    seals: u64,
    seq: Option<(u64, u64)>,
}

impl Default for Span {
    fn default() -> Self {
        Span {
            records: 0,
            first_us: i64::MAX,
            last_us: i64::MIN,
            seals: 0,
            seq: None,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Supplied {
    by_vehicle: HashMap<VehicleId, Span>,
}

impl Supplied {
    /// A record of `vehicle` at `t_us` in the file.
    pub(super) fn record(&mut self, vehicle: VehicleId, t_us: i64) {
        let span = self.by_vehicle.entry(vehicle).or_default();
        span.records += 1;
        span.first_us = span.first_us.min(t_us);
        span.last_us = span.last_us.max(t_us);
    }

    /// A seal of `vehicle` numbered `seq` in the file.
    pub(super) fn seal(&mut self, vehicle: VehicleId, seq: u64) {
        let span = self.by_vehicle.entry(vehicle).or_default();
        span.seals += 1;
        span.seq = Some(
            span.seq
                .map_or((seq, seq), |(a, b)| (a.min(seq), b.max(seq))),
        );
    }

    /// One entry per vehicle with records or seals, by VIN; `file` is the
    /// file's own part (source, digest, size).
    pub(super) fn entries(
        &self,
        vins: &HashMap<Arc<str>, Option<VehicleId>>,
        actor: &str,
        file: &serde_json::Value,
    ) -> Vec<NewAuditEntry> {
        let mut entries: Vec<NewAuditEntry> = vins
            .iter()
            .filter_map(|(vin, id)| Some((vin, self.by_vehicle.get(&(*id)?)?)))
            .map(|(vin, span)| {
                let mut details = file.clone();
                details["records"] = span.records.into();
                details["from"] = (span.records > 0).then(|| format_utc(span.first_us)).into();
                details["to"] = (span.records > 0).then(|| format_utc(span.last_us)).into();
                details["seals"] = span.seals.into();
                details["seal_seq"] = span.seq.map(|(a, b)| vec![a, b]).into();
                NewAuditEntry {
                    actor: actor.to_string(),
                    action: AuditAction::Import,
                    vin: Some(vin.to_string()),
                    details,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.vin.cmp(&b.vin));
        entries
    }
}
