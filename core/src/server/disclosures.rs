//! The owner's "access and disclosures" log: every export of the vehicle's
//! data (and, with the support console, every staff read), newest first,
//! within the owner's own periods.

use super::authz::{Principal, Reading};
use super::error::ServiceError;
use super::localtime::instant;
use super::query;
use super::store::TimeRange;
use super::Portal;
use crate::domain::audit::AuditAction;
use crate::domain::export::{AccessEntry, AccessPage, ExportFormat, LocationRedaction};

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/access-log`.
    pub async fn access_log(
        &self,
        who: Option<&Principal>,
        vin: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<AccessPage, ServiceError> {
        let limit = query::limit(limit)?;
        let before = query::time_cursor(cursor)?;
        let access = self
            .authorize(who, vin, Reading::OwnerOnly, TimeRange::ALL)
            .await?;
        let me = who.map(Principal::actor);
        let vin = access.vehicle.vehicle.vin.to_string();
        let zone = &access.vehicle.vehicle.timezone;
        let rows = self
            .store
            .audit_for_vin(&vin, AuditAction::DISCLOSURES, before, limit)
            .await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|e| e.seq.to_string()))
            .flatten();
        let items = rows
            .iter()
            .filter(|e| {
                access
                    .ranges
                    .iter()
                    .any(|r| r.from_us <= e.at_us && e.at_us < r.to_us)
            })
            .filter_map(|e| {
                // Only disclosure actions were asked for: each parses.
                let action = AuditAction::parse(&e.action)?;
                let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let text = |k: &str| d[k].as_str().map(str::to_string);
                Some(AccessEntry {
                    at: instant(e.at_us, zone, None),
                    // Staff appear by role and case, never by name.
                    by: if Some(&e.actor) == me.as_ref() {
                        "you".into()
                    } else if e.actor.starts_with("grant:") {
                        "recipient".into()
                    } else {
                        text("role").unwrap_or_else(|| "another account".into())
                    },
                    case_no: text("case_no"),
                    purpose: text("purpose"),
                    recipient: text("recipient"),
                    legal_basis: text("legal_basis"),
                    action,
                    format: d["format"].as_str().and_then(ExportFormat::parse),
                    location: d["location"].as_str().and_then(LocationRedaction::parse),
                    from: text("from"),
                    to: text("to"),
                    bundle_id: text("bundle_id"),
                    manifest_sha256: text("manifest_sha256"),
                    grant_id: d["grant_id"].as_i64(),
                    reading: text("reading"),
                    refused: text("refused"),
                })
            })
            .collect();
        Ok(AccessPage { items, next_cursor })
    }
}
