//! Checks an evidence bundle with nothing but the public key: the archive's
//! structure (one reading only, bounded work: see [`archive`]), the
//! signature over the manifest, then every file against the manifest's
//! SHA-256 and size, and that no file was added or removed. Offline by
//! construction.

pub mod archive;
mod log;
mod sealed;

pub use log::LogTrust;

use super::export::bundle::{
    DATA_FILE, LOG_PROOF_FILE, MANIFEST_FILE, SEALED_FILE, SIGNATURE_FILE,
};
use super::seal::TrustAnchors;
use super::signing::PublicKey;
use crate::domain::export::{Problem, Verification};
use crate::domain::manifest::{Manifest, ManifestFile};
use archive::{ArchiveError, StrictZip};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek};

/// The manifest is read whole; larger ones are refused.
const MANIFEST_LIMIT: u64 = 16 * 1024 * 1024;
/// A hex Ed25519 signature is 128 characters.
const SIGNATURE_LIMIT: u64 = 1024;

fn refused(problem: Problem) -> Verification {
    Verification {
        valid: false,
        problems: vec![problem],
        bundle_id: None,
        vin: None,
        manifest_sha256: None,
        sealed: None,
        log: None,
    }
}

fn archive_problem(e: ArchiveError) -> Problem {
    match e {
        ArchiveError::Unreadable(reason) => Problem::NotABundle { reason },
        ArchiveError::DuplicateMember(file) => Problem::DuplicateMember { file },
        ArchiveError::Ambiguous(reason) => Problem::AmbiguousArchive { reason },
        ArchiveError::Unsafe(reason) => Problem::UnsafeArchive { reason },
    }
}

/// What a reader trusts beyond the portal's key.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trust<'a> {
    /// The vehicle CAs the seals' keys are checked against; without them
    /// only against the keys the bundle lists.
    pub vehicle_cas: Option<&'a TrustAnchors>,
    pub log: LogTrust<'a>,
}

/// Checks a bundle; its vehicle seals, if any, only against the keys it
/// lists, its log proof with the log key its manifest names.
pub fn verify_bundle<R: Read + Seek>(reader: R, key: &PublicKey) -> Verification {
    verify_bundle_with(reader, key, &Trust::default())
}

/// Checks a bundle with what the reader trusts.
pub fn verify_bundle_with<R: Read + Seek>(
    reader: R,
    key: &PublicKey,
    trust: &Trust,
) -> Verification {
    let vehicle_cas = trust.vehicle_cas;
    let mut zip = match StrictZip::open(reader) {
        Ok(z) => z,
        Err(e) => return refused(archive_problem(e)),
    };
    let mut problems = Vec::new();
    let Some(manifest_member) = zip.member(MANIFEST_FILE).cloned() else {
        return refused(Problem::MissingManifest);
    };
    let manifest_bytes = match zip.read_small(&manifest_member, MANIFEST_LIMIT) {
        Ok(bytes) => bytes,
        Err(_) => {
            return refused(Problem::CorruptMember {
                file: MANIFEST_FILE.into(),
            })
        }
    };
    match zip.member(SIGNATURE_FILE).cloned() {
        None => problems.push(Problem::MissingSignature),
        Some(member) => {
            let signature = zip
                .read_small(&member, SIGNATURE_LIMIT)
                .ok()
                .and_then(|sig| String::from_utf8(sig).ok())
                .and_then(|s| hex::decode(s.trim()).ok());
            if !signature.is_some_and(|s| key.verifies(&manifest_bytes, &s)) {
                problems.push(Problem::BadSignature);
            }
        }
    }
    let manifest: Option<Manifest> = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(Problem::BadManifest {
                reason: e.to_string(),
            });
            None
        }
    };
    let mut listed: BTreeMap<&str, &ManifestFile> = BTreeMap::new();
    for file in manifest.iter().flat_map(|m| &m.files) {
        if listed.insert(&file.name, file).is_some() {
            problems.push(Problem::BadManifest {
                reason: format!("{} is listed twice", file.name),
            });
        }
    }
    let members = zip.members().to_vec();
    for member in &members {
        let name = &member.name;
        if name == MANIFEST_FILE || name == SIGNATURE_FILE || name == LOG_PROOF_FILE {
            continue;
        }
        let Some(expected) = listed.get(name.as_str()) else {
            problems.push(Problem::ExtraFile { file: name.clone() });
            continue;
        };
        if member.size != expected.size {
            // Not inflated at all: the size alone says it differs.
            problems.push(Problem::HashMismatch { file: name.clone() });
            continue;
        }
        let mut hash = Sha256::new();
        match zip.read_member(member, |chunk| hash.update(chunk)) {
            Err(_) => problems.push(Problem::CorruptMember { file: name.clone() }),
            Ok(()) if hex::encode(hash.finalize()) != expected.sha256 => {
                problems.push(Problem::HashMismatch { file: name.clone() })
            }
            Ok(()) => {}
        }
    }
    for name in listed.keys() {
        if !members.iter().any(|m| m.name == *name) {
            problems.push(Problem::MissingFile {
                file: name.to_string(),
            });
        }
    }
    let sealed = match zip.member(SEALED_FILE).cloned() {
        Some(member) => {
            let data = zip.member(DATA_FILE).cloned();
            let (report, sealed_problems) =
                sealed::check(&mut zip, &member, data.as_ref(), vehicle_cas);
            problems.extend(sealed_problems);
            Some(report)
        }
        None => None,
    };
    let manifest_sha256 = hex::encode(Sha256::digest(&manifest_bytes));
    let (log, log_problems) = log::check(&mut zip, manifest.as_ref(), &manifest_sha256, &trust.log);
    problems.extend(log_problems);
    Verification {
        valid: problems.is_empty(),
        problems,
        sealed,
        log,
        bundle_id: manifest.as_ref().map(|m| m.bundle_id.clone()),
        vin: manifest.as_ref().map(|m| m.vin.clone()),
        manifest_sha256: Some(manifest_sha256),
    }
}
