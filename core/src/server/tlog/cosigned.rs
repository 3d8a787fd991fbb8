//! The portal's side of witnessing: it takes cosignatures from the
//! witnesses it expects (`--witness NAME=KEY`), serves each checkpoint with
//! those it received, and says when each witness last cosigned. Witnesses
//! come to the portal (`portal witness` reads checkpoints and posts back);
//! the portal never waits for one.

use super::cosign::WitnessKey;
use super::note::{Checkpoint, SignedNote};
use crate::domain::time::format_utc;
use crate::domain::transparency::{
    CheckpointSummary, CosignatureKept, LastCosignature, LogOverview, WitnessStatus,
};
use crate::server::error::ServiceError;
use crate::server::store::{StoredCheckpoint, StoredCosignature};
use crate::server::{now_us, Portal};
use base64::Engine as _;

/// A witness is late when it has not cosigned for this long while the log
/// signed newer checkpoints (witnesses usually look every minute or so).
pub const LATE_AFTER_US: i64 = 10 * 60 * 1_000_000;
/// Cosignatures dated further ahead than this are refused (clock skew).
const FUTURE_SLACK_US: i64 = 5 * 60 * 1_000_000;

fn refused(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(code, "note", message)
}

impl Portal {
    /// Takes a checkpoint note carrying cosignatures (`POST
    /// /log/cosignatures`): the checkpoint must be one this log signed, and
    /// at least one signature line must be a valid cosignature by an
    /// expected witness. Returns what was kept.
    pub async fn add_cosignature(&self, note: &str) -> Result<Vec<CosignatureKept>, ServiceError> {
        let note = SignedNote::parse(note)
            .map_err(|e| refused("not_a_cosigned_checkpoint", e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text)
            .map_err(|e| refused("not_a_cosigned_checkpoint", e.to_string()))?;
        let stored = self
            .store
            .checkpoint_at(checkpoint.size)
            .await?
            .ok_or_else(|| {
                refused(
                    "unknown_checkpoint",
                    format!(
                        "this log signed no checkpoint of {} leaves",
                        checkpoint.size
                    ),
                )
            })?;
        let signed = SignedNote::parse(&stored.note).map_err(|e| {
            ServiceError::Internal(format!("a stored checkpoint is unreadable: {e}"))
        })?;
        if signed.text != note.text {
            return Err(refused(
                "checkpoint_mismatch",
                format!(
                    "this is not the checkpoint the log signed at {} leaves",
                    checkpoint.size
                ),
            ));
        }
        // Every line is checked before any is kept: a refused note changes nothing.
        let now = now_us();
        let mut checked = Vec::new();
        for witness in self.witnesses.iter() {
            let Some(line) = note.signatures.iter().find(|s| witness.signed(s)) else {
                continue;
            };
            let timestamp = witness
                .verify(&note.text, line)
                .map_err(|e| refused("bad_cosignature", e.to_string()))?;
            let cosigned_at_us = i64::try_from(timestamp)
                .ok()
                .and_then(|t| t.checked_mul(1_000_000))
                .filter(|t| *t <= now + FUTURE_SLACK_US)
                .ok_or_else(|| {
                    refused(
                        "cosignature_in_future",
                        format!(
                            "the cosignature by `{}` is dated in the future",
                            witness.name
                        ),
                    )
                })?;
            checked.push(StoredCosignature {
                size: checkpoint.size,
                witness: witness.name.clone(),
                key_id: hex::encode(witness.id),
                line: line.line().trim_end().to_string(),
                cosigned_at_us,
                received_at_us: now,
            });
        }
        if checked.is_empty() {
            let expected: Vec<&str> = self.witnesses.iter().map(|w| w.name.as_str()).collect();
            return Err(refused(
                "unknown_witness",
                match expected.is_empty() {
                    true => "this portal expects no witness (see --witness)".to_string(),
                    false => format!(
                        "no signature on the note is by a witness this portal expects ({})",
                        expected.join(", ")
                    ),
                },
            ));
        }
        let mut kept = Vec::with_capacity(checked.len());
        for cosignature in checked {
            self.store.put_cosignature(&cosignature).await?;
            kept.push(CosignatureKept {
                witness: cosignature.witness,
                size: cosignature.size,
                cosigned_at: format_utc(cosignature.cosigned_at_us),
            });
        }
        Ok(kept)
    }

    /// A checkpoint's note with its log signature and the cosignatures of
    /// the witnesses this portal expects: the newest checkpoint, or the one
    /// of `size` leaves.
    pub async fn checkpoint_note(&self, size: Option<u64>) -> Result<String, ServiceError> {
        let stored = match size {
            None => self.store.latest_checkpoint().await?,
            Some(size) => self.store.checkpoint_at(size).await?,
        }
        .ok_or(ServiceError::NotFound)?;
        self.with_cosignatures(stored).await
    }

    pub(super) async fn with_cosignatures(
        &self,
        stored: StoredCheckpoint,
    ) -> Result<String, ServiceError> {
        let mut note = stored.note;
        for c in self.store.cosignatures(stored.size).await? {
            if self.expects(&c) {
                note.push_str(&c.line);
                note.push('\n');
            }
        }
        Ok(note)
    }

    fn expects(&self, c: &StoredCosignature) -> bool {
        self.witnesses
            .iter()
            .any(|w| w.name == c.witness && hex::encode(w.id) == c.key_id)
    }

    /// The log's size, newest checkpoint and every expected witness's last
    /// cosignature (`GET /log/overview`, the `/transparency` page).
    pub async fn log_overview(&self) -> Result<LogOverview, ServiceError> {
        let latest = self.store.latest_checkpoint().await?;
        let now = now_us();
        let mut witnesses = Vec::with_capacity(self.witnesses.len());
        for w in self.witnesses.iter() {
            let last = self
                .store
                .last_cosignature(&w.name, &hex::encode(w.id))
                .await?;
            witnesses.push(witness_status(w, last.as_ref(), latest.as_ref(), now));
        }
        Ok(LogOverview {
            origin: self
                .log
                .as_ref()
                .map(|k| k.origin.clone())
                .unwrap_or_default(),
            key: self.log.as_ref().map(|k| k.verifier().encode()),
            size: self.store.log_size().await?,
            pending: self.store.log_pending().await?,
            checkpoint: latest.as_ref().map(summary),
            witnesses,
        })
    }
}

/// A checkpoint as shown: size, root (base64), when signed.
pub(super) fn summary(c: &StoredCheckpoint) -> CheckpointSummary {
    CheckpointSummary {
        size: c.size,
        root: base64::engine::general_purpose::STANDARD.encode(c.root),
        signed_at: format_utc(c.signed_at_us),
    }
}

/// Late: the log has a checkpoint the witness has not cosigned, and the
/// witness has been silent (or the checkpoint unwitnessed) for
/// [`LATE_AFTER_US`].
fn witness_status(
    w: &WitnessKey,
    last: Option<&StoredCosignature>,
    latest: Option<&StoredCheckpoint>,
    now: i64,
) -> WitnessStatus {
    let late = match (latest, last) {
        (None, _) => false,
        (Some(c), None) => now - c.signed_at_us > LATE_AFTER_US,
        (Some(c), Some(l)) => c.size > l.size && now - l.cosigned_at_us > LATE_AFTER_US,
    };
    WitnessStatus {
        name: w.name.clone(),
        key: w.encode(),
        last: last.map(|l| LastCosignature {
            size: l.size,
            cosigned_at: format_utc(l.cosigned_at_us),
        }),
        late,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn cosigned(size: u64, at: i64) -> StoredCosignature {
        StoredCosignature {
            size,
            witness: "w".into(),
            key_id: String::new(),
            line: String::new(),
            cosigned_at_us: at,
            received_at_us: at,
        }
    }

    fn checkpoint(size: u64, at: i64) -> StoredCheckpoint {
        StoredCheckpoint {
            size,
            root: [0; 32],
            note: String::new(),
            signed_at_us: at,
        }
    }

    #[test]
    fn a_witness_is_late_only_when_silent_while_the_log_moved_on() {
        let w = WitnessKey::new("w", SigningKey::from_bytes(&[1; 32]).verifying_key()).unwrap();
        let now = 100 * LATE_AFTER_US;
        let late = |last: Option<StoredCosignature>, latest: Option<StoredCheckpoint>| {
            witness_status(&w, last.as_ref(), latest.as_ref(), now).late
        };
        assert!(!late(None, None));
        assert!(!late(None, Some(checkpoint(5, now - 1))));
        assert!(late(None, Some(checkpoint(5, now - LATE_AFTER_US - 1))));
        // Cosigned the newest long ago: nothing new to cosign, not late.
        assert!(!late(Some(cosigned(5, 0)), Some(checkpoint(5, 0))));
        assert!(!late(Some(cosigned(4, now - 1)), Some(checkpoint(5, now))));
        assert!(late(
            Some(cosigned(4, now - LATE_AFTER_US - 1)),
            Some(checkpoint(5, now))
        ));
    }
}
