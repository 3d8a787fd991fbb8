//! A bundle's place in the log (`log-proof.json`): the leaves of the
//! imports that supplied the vehicle's records in the exported ranges and
//! of the disclosure itself, their inclusion proofs to the newest
//! checkpoint, and the newest cosigned checkpoint with the consistency
//! proof from it (`docs/evidence.md`, section 7.7).

use super::{encoded, leaf_bytes};
use crate::domain::audit::AuditAction;
use crate::domain::manifest::{LogProof, ProvenLeaf, WitnessedCheckpoint};
use crate::domain::time::parse_rfc3339_micros;
use crate::server::error::ServiceError;
use crate::server::store::{AuditEntry, TimeRange};
use crate::server::Portal;

/// Import entries read per query while looking for a vehicle's imports.
const IMPORT_PAGE: u32 = 1_000;

/// Whether an import entry's records (`from`..=`to` in its details) fall
/// in one of `ranges`.
fn supplied(entry: &AuditEntry, ranges: &[TimeRange]) -> bool {
    let Ok(details) = serde_json::from_str::<serde_json::Value>(&entry.details) else {
        return false;
    };
    let time = |key: &str| {
        details[key]
            .as_str()
            .and_then(|t| parse_rfc3339_micros(t).ok())
    };
    let (Some(from), Some(to)) = (time("from"), time("to")) else {
        return false;
    };
    ranges.iter().any(|r| from < r.to_us && to >= r.from_us)
}

impl Portal {
    /// Sequences the log now (so the disclosure has its leaf) and proves
    /// the disclosure and the imports of its vehicle that supplied records
    /// in `ranges`.
    pub(crate) async fn log_proof(
        &self,
        disclosure: &AuditEntry,
        ranges: &[TimeRange],
    ) -> Result<LogProof, ServiceError> {
        let checkpoint = self
            .sequence_log()
            .await?
            .ok_or_else(|| ServiceError::Internal("no checkpoint after sequencing".into()))?;
        let size = checkpoint.size;
        let vin = disclosure.vin.as_deref().unwrap_or_default();
        let mut entries = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .store
                .audit_for_vin(vin, &[AuditAction::Import], before, IMPORT_PAGE)
                .await?;
            before = page.last().map(|e| e.seq);
            let done = page.len() < IMPORT_PAGE as usize;
            entries.extend(page.into_iter().filter(|e| supplied(e, ranges)));
            if done {
                break;
            }
        }
        let this = self
            .store
            .audit_entries(disclosure.seq - 1, 1)
            .await?
            .into_iter()
            .next()
            .filter(|e| e.seq == disclosure.seq)
            .ok_or_else(|| ServiceError::Internal("the disclosure's entry is gone".into()))?;
        entries.push(this);
        entries.retain(|e| e.leaf.is_some_and(|l| (l as u64) < size));
        let indexes: Vec<u64> = entries
            .iter()
            .filter_map(|e| e.leaf)
            .map(|l| l as u64)
            .collect();
        let proofs = self.log_inclusions(&indexes, size).await?;
        let mut leaves: Vec<ProvenLeaf> = entries
            .iter()
            .zip(indexes)
            .zip(proofs)
            .map(|((entry, index), proof)| ProvenLeaf {
                role: match entry.seq == disclosure.seq {
                    true => "disclosure",
                    false => "import",
                }
                .into(),
                index,
                leaf: String::from_utf8(leaf_bytes(entry)).expect("JSON is UTF-8"),
                proof: encoded(proof),
            })
            .collect();
        if !leaves.iter().any(|l| l.role == "disclosure") {
            return Err(ServiceError::Internal(
                "the disclosure has no leaf after sequencing".into(),
            ));
        }
        leaves.sort_by_key(|l| l.index);
        let witnessed = match self.store.latest_cosigned(size).await? {
            Some(old) => Some(WitnessedCheckpoint {
                checkpoint: self.checkpoint_note(Some(old)).await?,
                consistency: match old < size {
                    true => encoded(self.log_consistency(old, size).await?),
                    false => Vec::new(),
                },
            }),
            None => None,
        };
        Ok(LogProof {
            checkpoint: self.with_cosignatures(checkpoint).await?,
            leaves,
            witnessed,
        })
    }
}
