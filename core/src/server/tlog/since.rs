//! A reader's kept checkpoint against the log now: owners keep the
//! checkpoint their access page showed (its size and root) and come back
//! with it; the log must prove it still starts with that tree. A log that
//! was rewritten or shortened since cannot.

use super::cosigned::summary;
use super::proof::verify_consistency;
use super::{decoded, encoded};
use crate::domain::transparency::{LogSince, SeenBreak, SeenCheck};
use crate::server::error::ServiceError;
use crate::server::Portal;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

impl Portal {
    /// The newest checkpoint, and the check of `seen` (a kept checkpoint's
    /// size and base64 root) against it.
    pub async fn log_since(&self, seen: Option<(u64, &str)>) -> Result<LogSince, ServiceError> {
        let latest = self.store.latest_checkpoint().await?;
        let now = latest.as_ref().map(summary);
        let Some((size, root_text)) = seen else {
            return Ok(LogSince { now, seen: None });
        };
        let root = decoded(root_text.trim()).ok_or_else(|| {
            ServiceError::invalid("invalid_root", "root", "the root is a base64 SHA-256 hash")
        })?;
        if size == 0 {
            return Err(ServiceError::invalid(
                "size_out_of_range",
                "size",
                "a checkpoint has at least one leaf",
            ));
        }
        let mut check = SeenCheck {
            size,
            root: BASE64.encode(root),
            consistent: false,
            broken: None,
            reason: None,
            proof: Vec::new(),
        };
        match &latest {
            None => {
                check.broken = Some(SeenBreak::NoCheckpoint);
                check.reason = Some("the log has no checkpoint now".into());
            }
            Some(l) if l.size < size => {
                check.broken = Some(SeenBreak::Shorter);
                check.reason = Some(format!(
                    "the log now has {} leaves, fewer than the {size} of the checkpoint kept: entries were removed",
                    l.size
                ));
            }
            Some(l) => {
                let proof = match size < l.size {
                    true => self.log_consistency(size, l.size).await?,
                    false => Vec::new(),
                };
                match verify_consistency(size, l.size, &root, &l.root, &proof) {
                    Ok(()) => check.consistent = true,
                    Err(e) => {
                        check.broken = Some(SeenBreak::Rewritten);
                        check.reason = Some(format!(
                            "the log of {} leaves does not extend the checkpoint kept: {e}",
                            l.size
                        ))
                    }
                }
                check.proof = encoded(proof);
            }
        }
        Ok(LogSince {
            now,
            seen: Some(check),
        })
    }
}
