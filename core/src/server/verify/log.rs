//! Checks `log-proof.json` (`docs/evidence.md`, section 7.7) offline: the
//! checkpoint's signature by the log, every leaf's inclusion proof, what
//! each leaf says (an import of this VIN; this very disclosure, by the
//! manifest's SHA-256), and that the checkpoint extends one cosigned by the
//! witnesses the reader trusts.

use super::archive::StrictZip;
use crate::domain::export::{Cosigner, LogReport, Problem, WitnessedReport};
use crate::domain::manifest::{LogProof, Manifest};
use crate::domain::time::format_utc;
use crate::server::export::bundle::LOG_PROOF_FILE;
use crate::server::seal::{leaf_hash, Hash};
use crate::server::tlog::cosign::WitnessKey;
use crate::server::tlog::decoded;
use crate::server::tlog::note::{Checkpoint, NoteVerifier, SignedNote};
use crate::server::tlog::proof::{verify_consistency, verify_inclusion};
use std::io::{Read, Seek};

/// A log proof is read whole; larger ones are refused.
const LOG_PROOF_LIMIT: u64 = 64 * 1024 * 1024;

/// What a reader trusts the log proof with.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogTrust<'a> {
    /// The log's key; by default the one the (signed) manifest names.
    pub log_key: Option<&'a NoteVerifier>,
    /// Witnesses whose cosignature the reader requires (one is enough).
    pub witnesses: &'a [WitnessKey],
}

fn problem(reason: impl Into<String>) -> Problem {
    Problem::LogProof {
        reason: reason.into(),
    }
}

fn hashes(list: &[String], what: &str) -> Result<Vec<Hash>, Problem> {
    list.iter()
        .map(|h| {
            decoded(h).ok_or_else(|| problem(format!("{what}: `{h}` is not a base64 SHA-256 hash")))
        })
        .collect()
}

/// A checkpoint note signed by the log: its checkpoint.
fn signed_checkpoint(
    note: &str,
    key: &NoteVerifier,
    what: &str,
) -> Result<(SignedNote, Checkpoint), Problem> {
    let note = SignedNote::parse(note).map_err(|e| problem(format!("{what}: {e}")))?;
    note.verify(key)
        .map_err(|e| problem(format!("{what}: {e}")))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|e| problem(format!("{what}: {e}")))?;
    if checkpoint.origin != key.name {
        return Err(problem(format!(
            "{what}: it is of the log `{}`, not `{}`",
            checkpoint.origin, key.name
        )));
    }
    Ok((note, checkpoint))
}

/// What a leaf says: `[nonce, seq, at_us, actor, action, vin, details]`.
fn check_leaf(
    role: &str,
    leaf: &str,
    manifest: &Manifest,
    manifest_sha256: &str,
) -> Result<(), String> {
    let fields: Vec<serde_json::Value> =
        serde_json::from_str(leaf).map_err(|_| "is not a JSON array".to_string())?;
    let [_, _, _, _, action, vin, details] = &fields[..] else {
        return Err("does not have 7 fields".into());
    };
    if vin.as_str() != Some(manifest.vin.as_str()) {
        return Err(format!("is of {vin}, not of {}", manifest.vin));
    }
    match role {
        "import" if action == "import" => Ok(()),
        "disclosure" if action == "export" => {
            let details: serde_json::Value = details
                .as_str()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            match details["manifest_sha256"].as_str() == Some(manifest_sha256) {
                true => Ok(()),
                false => Err("records another manifest".into()),
            }
        }
        _ => Err(format!("is a `{action}` entry, not an {role}")),
    }
}

pub(super) fn check<R: Read + Seek>(
    zip: &mut StrictZip<R>,
    manifest: Option<&Manifest>,
    manifest_sha256: &str,
    trust: &LogTrust,
) -> (Option<LogReport>, Vec<Problem>) {
    let Some(manifest) = manifest else {
        return (None, Vec::new());
    };
    let Some(member) = zip.member(LOG_PROOF_FILE).cloned() else {
        let mut problems = Vec::new();
        if manifest.transparency_log.is_some() {
            problems.push(problem(format!(
                "the manifest names a transparency log but the bundle has no {LOG_PROOF_FILE}"
            )));
        } else if !trust.witnesses.is_empty() {
            problems.push(problem(
                "the bundle carries no log proof to check against the witnesses given",
            ));
        }
        return (None, problems);
    };
    let proof: LogProof = match zip
        .read_small(&member, LOG_PROOF_LIMIT)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(proof) => proof,
        Err(e) => {
            return (
                None,
                vec![problem(format!("{LOG_PROOF_FILE} is unreadable: {e}"))],
            )
        }
    };
    let named = manifest
        .transparency_log
        .as_deref()
        .map(NoteVerifier::parse);
    let key = match (trust.log_key, named) {
        (Some(key), _) => key.clone(),
        (None, Some(Ok(key))) => key,
        (None, Some(Err(e))) => {
            return (None, vec![problem(format!("the manifest's log key: {e}"))])
        }
        (None, None) => {
            return (
                None,
                vec![problem(
                    "no log key: the manifest names none and none was given",
                )],
            )
        }
    };
    match check_proof(&proof, &key, manifest, manifest_sha256, trust) {
        Ok(report) => (Some(report), Vec::new()),
        Err(p) => (None, vec![p]),
    }
}

fn check_proof(
    proof: &LogProof,
    key: &NoteVerifier,
    manifest: &Manifest,
    manifest_sha256: &str,
    trust: &LogTrust,
) -> Result<LogReport, Problem> {
    let (_, checkpoint) = signed_checkpoint(&proof.checkpoint, key, "the checkpoint")?;
    let mut report = LogReport {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size,
        witnesses_checked: !trust.witnesses.is_empty(),
        ..LogReport::default()
    };
    for leaf in &proof.leaves {
        let what = format!("leaf {} ({})", leaf.index, leaf.role);
        check_leaf(&leaf.role, &leaf.leaf, manifest, manifest_sha256)
            .map_err(|e| problem(format!("{what} {e}")))?;
        let path = hashes(&leaf.proof, &what)?;
        verify_inclusion(
            &leaf_hash(leaf.leaf.as_bytes()),
            leaf.index,
            checkpoint.size,
            &path,
            &checkpoint.root,
        )
        .map_err(|e| problem(format!("{what}: its inclusion proof fails: {e}")))?;
        match leaf.role.as_str() {
            "disclosure" if report.disclosure.is_some() => {
                return Err(problem("more than one disclosure leaf"));
            }
            "disclosure" => report.disclosure = Some(leaf.index),
            _ => report.imports += 1,
        }
    }
    if report.disclosure.is_none() {
        return Err(problem("no leaf records this disclosure"));
    }
    let Some(witnessed) = &proof.witnessed else {
        if !trust.witnesses.is_empty() {
            return Err(problem("no checkpoint in the bundle is cosigned: it cannot be checked against the witnesses given"));
        }
        return Ok(report);
    };
    let (note, old) = signed_checkpoint(&witnessed.checkpoint, key, "the witnessed checkpoint")?;
    let path = hashes(&witnessed.consistency, "the consistency proof")?;
    verify_consistency(
        old.size,
        checkpoint.size,
        &old.root,
        &checkpoint.root,
        &path,
    )
    .map_err(|e| {
        problem(format!(
            "the checkpoint does not extend the witnessed one ({} to {} leaves): {e}",
            old.size, checkpoint.size
        ))
    })?;
    let mut cosigned_by = Vec::new();
    for w in trust.witnesses {
        let Some(line) = note.signatures.iter().find(|s| w.signed(s)) else {
            continue;
        };
        let at = w
            .verify(&note.text, line)
            .map_err(|_| problem(format!("the cosignature by {} does not verify", w.name)))?;
        cosigned_by.push(Cosigner {
            name: w.name.clone(),
            at: format_utc((at as i64).saturating_mul(1_000_000)),
        });
    }
    if !trust.witnesses.is_empty() && cosigned_by.is_empty() {
        let names: Vec<&str> = trust.witnesses.iter().map(|w| w.name.as_str()).collect();
        return Err(problem(format!(
            "the witnessed checkpoint is not cosigned by any witness given ({})",
            names.join(", ")
        )));
    }
    report.witnessed = Some(WitnessedReport {
        size: old.size,
        imports: proof
            .leaves
            .iter()
            .filter(|l| l.role == "import" && l.index < old.size)
            .count() as u64,
        cosigned_by,
    });
    Ok(report)
}
