//! New seals' signatures, checked at the end of the file. A signature
//! gates the commit, not the writes: a seal's records are written once the
//! rest of it is checked, and the signatures are checked while the store
//! brings its per-minute summaries up to date, on the core the store
//! leaves idle then. A file with a bad signature is still rolled back,
//! naming the seal's line, and nothing of it is kept.
//!
//! Memory: at most [`WAITING`] seals wait (a few MiB); past that they are
//! checked in the background while the import goes on, one group at a time.

use crate::domain::sealed::SealLine;
use crate::server::seal::lines::{FieldError, SignedPayload};
use crate::server::store::StoreError;
use ed25519_dalek::VerifyingKey;
use foldhash::{HashMap, HashSet};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Seals whose signature waits: about 13,500 seals come with a million
/// samples at 1 Hz, so a file of that size is checked at its end whole.
const WAITING: usize = 16_384;
/// Seals checked by one task: the checks at the end share the cores.
const PER_TASK: usize = 2048;

/// A seal's signature failure: its line, the field and why.
pub(super) type SignatureFailure = (u64, FieldError);

/// A seal waiting for its signature's check (about 400 bytes).
struct Waiting {
    line: u64,
    signed: SignedPayload,
    key_id: Box<str>,
    key: Arc<VerifyingKey>,
}

pub(super) struct DeferredSignatures {
    /// How many may wait ([`WAITING`]).
    limit: usize,
    waiting: Vec<Waiting>,
    /// The keys the waiting seals name, each held once.
    keys: HashMap<[u8; 32], Arc<VerifyingKey>>,
    checking: VecDeque<JoinHandle<Vec<SignatureFailure>>>,
    failures: Vec<SignatureFailure>,
    /// Seals rejected already for another reason, their signature checked
    /// first (see `ready::FinishJob`): not reported twice.
    rejected: HashSet<u64>,
}

impl Default for DeferredSignatures {
    fn default() -> Self {
        Self::waiting_at_most(WAITING)
    }
}

impl DeferredSignatures {
    fn waiting_at_most(limit: usize) -> Self {
        Self {
            limit,
            waiting: Vec::new(),
            keys: HashMap::default(),
            checking: VecDeque::new(),
            failures: Vec::new(),
            rejected: HashSet::default(),
        }
    }

    /// Leaves the signature of the seal on `line` to be checked later.
    pub(super) async fn check_later(
        &mut self,
        line: u64,
        seal: &SealLine,
        key: VerifyingKey,
    ) -> Result<(), StoreError> {
        let signed = match SignedPayload::of(seal) {
            Ok(signed) => signed,
            // Not a signature at all (the seal's fields were checked, so
            // this does not happen): reported with the others.
            Err(failure) => {
                self.failures.push((line, failure));
                return Ok(());
            }
        };
        let key = self
            .keys
            .entry(key.to_bytes())
            .or_insert_with(|| Arc::new(key))
            .clone();
        self.waiting.push(Waiting {
            line,
            signed,
            key_id: seal.key.as_str().into(),
            key,
        });
        if self.waiting.len() >= self.limit {
            // One group in the background at a time: memory stays bounded.
            while !self.checking.is_empty() {
                self.take_oldest().await?;
            }
            self.start(self.waiting.len());
        }
        Ok(())
    }

    /// The seal on `line` was rejected with its signature checked first.
    pub(super) fn rejected(&mut self, line: u64) {
        self.rejected.insert(line);
    }

    /// Starts checking every signature still waiting, in tasks of their own.
    pub(super) fn check_rest(&mut self) {
        while !self.waiting.is_empty() {
            self.start(PER_TASK.min(self.waiting.len()));
        }
    }

    /// Every failure, in line order, once all are checked.
    pub(super) async fn failures(&mut self) -> Result<Vec<SignatureFailure>, StoreError> {
        self.check_rest();
        while !self.checking.is_empty() {
            self.take_oldest().await?;
        }
        let mut failures = std::mem::take(&mut self.failures);
        failures.retain(|(line, _)| !self.rejected.contains(line));
        failures.sort_by_key(|(line, _)| *line);
        Ok(failures)
    }

    fn start(&mut self, n: usize) {
        let group: Vec<Waiting> = self.waiting.drain(..n).collect();
        self.checking
            .push_back(tokio::task::spawn_blocking(move || {
                group
                    .into_iter()
                    .filter_map(|w| {
                        let checked = w.signed.check(&w.key_id, &w.key);
                        checked.err().map(|failure| (w.line, failure))
                    })
                    .collect()
            }));
    }

    async fn take_oldest(&mut self) -> Result<(), StoreError> {
        if let Some(group) = self.checking.pop_front() {
            let failures = group
                .await
                .map_err(|e| StoreError::Engine(format!("checking signatures: {e}")))?;
            self.failures.extend(failures);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::seal::lines::seal_payload;
    use ed25519_dalek::{Signer as _, SigningKey};

    /// A seal signed by `signed_by` (only its signature matters here).
    fn seal(seq: u64, signed_by: &SigningKey) -> SealLine {
        let mut seal = SealLine {
            kind: "seal".into(),
            vin: "LVSHCAMB1CE054249".into(),
            key: "k1".into(),
            seq,
            count: 1,
            first_t: "2026-10-01T08:00:00Z".into(),
            last_t: "2026-10-01T08:00:00Z".into(),
            prev: String::new(),
            root: "0".repeat(64),
            sig: String::new(),
        };
        let signature = signed_by.sign(seal_payload(&seal).as_bytes());
        seal.sig = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            signature.to_bytes(),
        );
        seal
    }

    #[tokio::test]
    async fn every_bad_signature_is_found_in_line_order_whether_checked_early_or_at_the_end() {
        let car = SigningKey::from_bytes(&[7; 32]);
        let stranger = SigningKey::from_bytes(&[8; 32]);
        // Four may wait: lines 1–4 are checked in the background while
        // the rest come, 5–10 at the end.
        let mut signatures = DeferredSignatures::waiting_at_most(4);
        for line in 1..=10u64 {
            let signer = if line == 2 || line == 9 {
                &stranger
            } else {
                &car
            };
            signatures
                .check_later(line, &seal(line, signer), car.verifying_key())
                .await
                .unwrap();
        }
        assert!(signatures.waiting.len() < 10, "the first four went ahead");
        let failures = signatures.failures().await.unwrap();
        let lines: Vec<u64> = failures.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 9]);
        assert!(failures.iter().all(|(_, (field, _))| field == "sig"));
    }

    #[tokio::test]
    async fn a_seal_rejected_already_is_not_reported_again() {
        let car = SigningKey::from_bytes(&[7; 32]);
        let stranger = SigningKey::from_bytes(&[8; 32]);
        let mut signatures = DeferredSignatures::default();
        for line in [3, 5] {
            signatures
                .check_later(line, &seal(line, &stranger), car.verifying_key())
                .await
                .unwrap();
        }
        signatures.rejected(3);
        let failures = signatures.failures().await.unwrap();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, 5);
    }
}
