//! A witness's side of the log (`portal witness`): a third party that reads
//! the log's newest checkpoint, checks that it extends the last one it
//! cosigned, and only then cosigns it. Its memory is one small record per
//! log ([`Witnessed`]), kept by its operator, never by the portal.
//!
//! A witness never cosigns a checkpoint that does not extend what it has
//! seen: a different root at a size it cosigned, a smaller tree, or a
//! consistency proof that fails are refused as [`WitnessError::Inconsistent`],
//! the sign that the log was rewritten (or shows different views to
//! different readers).

use super::cosign::{cosign, WitnessKey};
use super::note::{Checkpoint, NoteError, NoteSignature, NoteVerifier, SignedNote};
use super::proof::verify_consistency;
use crate::server::seal::Hash;
use crate::server::signing::Signer;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;

/// What a witness remembers of a log: the last checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Witnessed {
    /// The log's verifier key, pinned at the first checkpoint.
    pub log_key: String,
    pub size: u64,
    /// Base64, as in the checkpoint.
    pub root: String,
    /// The checkpoint's note as cosigned (log signature and cosignature).
    pub note: String,
    /// POSIX seconds of the cosignature.
    pub cosigned_at: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("the log's checkpoint is unreadable or not signed by its key: {0}")]
    Unsigned(#[from] NoteError),
    /// The checkpoint does not extend what the witness cosigned.
    #[error(
        "the log is INCONSISTENT with what this witness cosigned: size {seen_size} with root \
         {seen_root} was cosigned, now the log shows size {size} with root {root}: {reason}"
    )]
    Inconsistent {
        seen_size: u64,
        seen_root: String,
        size: u64,
        root: String,
        reason: String,
    },
}

/// A checkpoint as read from the log, its signature checked.
pub struct Offered {
    pub note: SignedNote,
    pub checkpoint: Checkpoint,
}

/// A witness: its name and key, and the log it watches.
pub struct Witness {
    pub name: String,
    key: SigningKey,
    pub log: NoteVerifier,
}

impl Witness {
    pub fn new(name: &str, key: &Signer, log: NoteVerifier) -> Result<Witness, NoteError> {
        WitnessKey::new(name, key.verifying_key())?;
        Ok(Witness {
            name: name.to_string(),
            key: key.key().clone(),
            log,
        })
    }

    /// The key a portal and verifiers are given for this witness.
    pub fn public(&self) -> WitnessKey {
        WitnessKey::new(&self.name, self.key.verifying_key()).expect("checked in new")
    }

    /// Reads the log's note and checks the log's signature (by its origin).
    pub fn read(&self, note: &str) -> Result<Offered, WitnessError> {
        let note = SignedNote::parse(note)?;
        note.verify(&self.log)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        if checkpoint.origin != self.log.name {
            return Err(NoteError::NotACheckpoint(format!(
                "its origin is `{}`, not `{}`",
                checkpoint.origin, self.log.name
            ))
            .into());
        }
        Ok(Offered { note, checkpoint })
    }

    /// The consistency proof to ask the log for, `(old, new)`, when the
    /// tree grew since the last cosigned checkpoint.
    pub fn proof_needed(last: Option<&Witnessed>, offered: &Offered) -> Option<(u64, u64)> {
        let last = last?;
        let size = offered.checkpoint.size;
        (last.size > 0 && last.size < size).then_some((last.size, size))
    }

    /// Checks that `offered` extends `last` (with `proof` from
    /// [`Witness::proof_needed`]) and cosigns it at `now` (POSIX seconds).
    /// Returns the cosignature line and what to remember; the caller keeps
    /// the record before it sends the cosignature anywhere.
    pub fn cosign(
        &self,
        last: Option<&Witnessed>,
        offered: &Offered,
        proof: &[Hash],
        now: u64,
    ) -> Result<(NoteSignature, Witnessed), WitnessError> {
        let Checkpoint { size, root, .. } = offered.checkpoint;
        if let Some(last) = last {
            let seen_root = BASE64
                .decode(&last.root)
                .ok()
                .and_then(|r| Hash::try_from(r).ok());
            let inconsistent = |reason: String| WitnessError::Inconsistent {
                seen_size: last.size,
                seen_root: last.root.clone(),
                size,
                root: BASE64.encode(root),
                reason,
            };
            let Some(seen_root) = seen_root else {
                return Err(inconsistent("the remembered root is unreadable".into()));
            };
            if size < last.size {
                return Err(inconsistent("the tree is smaller than one cosigned".into()));
            }
            if last.size > 0 {
                verify_consistency(last.size, size, &seen_root, &root, proof)
                    .map_err(|e| inconsistent(e.to_string()))?;
            }
        }
        // Cosignature times never go back, whatever this machine's clock does.
        let timestamp = now.max(last.map_or(0, |l| l.cosigned_at));
        let line = cosign(&offered.note.text, &self.name, &self.key, timestamp);
        // What is posted back and kept: the log's signature and this one.
        let mut cosigned = offered.note.clone();
        cosigned
            .signatures
            .retain(|s| s.name == self.log.name && s.id == self.log.id);
        cosigned.signatures.push(line.clone());
        let record = Witnessed {
            log_key: self.log.encode(),
            size,
            root: BASE64.encode(root),
            note: cosigned.encode(),
            cosigned_at: timestamp,
        };
        Ok((line, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::log::grow;
    use crate::server::tlog::proof;

    const ORIGIN: &str = "portal.test/log";

    /// A log of `leaves` leaves (leaf i hashes to [i; 32], or [i + 100; 32]
    /// when `rewritten` and i is 1), its signed note at every size.
    struct Log {
        key: SigningKey,
        leaves: Vec<Hash>,
    }

    impl Log {
        fn new(n: u8, rewritten: bool) -> Log {
            let leaves = (0..n)
                .map(|i| [if rewritten && i == 1 { i + 100 } else { i }; 32])
                .collect();
            Log {
                key: SigningKey::from_bytes(&[1; 32]),
                leaves,
            }
        }

        fn note(&self, size: u64) -> String {
            let root = grow(0, &[], &self.leaves[..size as usize]).root.unwrap();
            let text = Checkpoint {
                origin: ORIGIN.into(),
                size,
                root,
            }
            .text();
            SignedNote::sign(text, ORIGIN, &self.key).unwrap().encode()
        }

        fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
            struct Leaves<'a>(&'a [Hash]);
            impl proof::Subtrees for Leaves<'_> {
                type Error = std::convert::Infallible;
                fn complete(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
                    let from = (index << level) as usize;
                    Ok(grow(0, &[], &self.0[from..from + (1 << level)])
                        .root
                        .unwrap())
                }
            }
            proof::consistency(&mut Leaves(&self.leaves), old, new).unwrap()
        }

        fn verifier(&self) -> NoteVerifier {
            NoteVerifier::new(ORIGIN, self.key.verifying_key()).unwrap()
        }
    }

    fn witness(log: &Log) -> Witness {
        let key = Signer::from_key(SigningKey::from_bytes(&[2; 32]));
        Witness::new("notary.test/w", &key, log.verifier()).unwrap()
    }

    fn step(
        w: &Witness,
        log: &Log,
        last: Option<&Witnessed>,
        size: u64,
        now: u64,
    ) -> Result<(NoteSignature, Witnessed), WitnessError> {
        let offered = w.read(&log.note(size))?;
        let proof = match Witness::proof_needed(last, &offered) {
            Some((old, new)) => log.consistency(old, new),
            None => Vec::new(),
        };
        w.cosign(last, &offered, &proof, now)
    }

    #[test]
    fn a_witness_cosigns_a_growing_log_and_its_cosignatures_verify() {
        let log = Log::new(13, false);
        let w = witness(&log);
        let (line, first) = step(&w, &log, None, 3, 100).unwrap();
        let offered = w.read(&log.note(3)).unwrap();
        assert_eq!(w.public().verify(&offered.note.text, &line), Ok(100));
        let (_, second) = step(&w, &log, Some(&first), 13, 90).unwrap();
        assert_eq!(second.size, 13);
        // The clock went back; the cosignature's time does not.
        assert_eq!(second.cosigned_at, 100);
        // The same checkpoint again is cosigned again (a fresher statement).
        let (_, again) = step(&w, &log, Some(&second), 13, 200).unwrap();
        assert_eq!(again.cosigned_at, 200);
        // The cosigned note carries both signatures and still reads as the log's.
        let kept = SignedNote::parse(&again.note).unwrap();
        kept.verify(&log.verifier()).unwrap();
        assert_eq!(kept.signatures.len(), 2);
    }

    #[test]
    fn a_rewritten_log_is_refused_at_the_same_size_at_a_larger_one_and_when_smaller() {
        let honest = Log::new(13, false);
        let w = witness(&honest);
        let (_, seen) = step(&w, &honest, None, 5, 100).unwrap();
        let rewritten = Log::new(13, true);
        for size in [5, 8, 13] {
            let refused = step(&w, &rewritten, Some(&seen), size, 101).unwrap_err();
            assert!(
                matches!(refused, WitnessError::Inconsistent { seen_size: 5, .. }),
                "size {size}: {refused}"
            );
        }
        let smaller = step(&w, &honest, Some(&seen), 4, 101).unwrap_err();
        assert!(smaller.to_string().contains("smaller"), "{smaller}");
        // A note not signed by the log's key is refused before anything else.
        let forged = honest.note(6).replacen("\n6\n", "\n7\n", 1);
        assert!(matches!(w.read(&forged), Err(WitnessError::Unsigned(_))));
    }
}
