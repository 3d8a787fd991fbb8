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
use archive::{ArchiveError, Member, StrictZip};
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

/// Members smaller than this are hashed where they are inflated.
const HASHED_ASIDE_FROM: u64 = 1024 * 1024;
/// Large members inflated on threads of their own, at most: a bundle has
/// a few (CSV, NDJSON, sealed evidence, Parquet, GPX); an archive made to
/// hold 64 must not start 128 threads with their buffers. Those past it are
/// inflated by the calling thread.
const INFLATED_ASIDE: usize = 4;

/// Checks every member but the manifest, its signature and the log proof
/// against the files the manifest lists (size, then SHA-256). A large
/// member is hashed on a thread of its own while it is inflated and its
/// CRC-32 checked: by this thread, which then goes on to the next; or, when
/// the archive is a `file`, by one more thread with a reader of its own, so
/// that the large members are all checked at once (SHA-256 takes longer
/// than inflating: one member after the other, the hashing set the pace).
/// Problems come in the archive's order.
fn check_members<R: Read + Seek>(
    zip: &mut StrictZip<R>,
    members: &[Member],
    listed: &BTreeMap<&str, &ManifestFile>,
    file: Option<&std::fs::File>,
) -> Vec<Problem> {
    /// A member's check: a problem found, or its SHA-256 (known, or on
    /// its way) and what the manifest says it is; a member inflated aside
    /// also says whether its size and CRC-32 held.
    enum Outcome<'s> {
        Found(Problem),
        Hashed(String, String),
        Hashing(String, std::thread::ScopedJoinHandle<'s, String>),
        Aside(
            String,
            std::thread::ScopedJoinHandle<'s, std::io::Result<()>>,
            std::thread::ScopedJoinHandle<'s, String>,
        ),
    }
    std::thread::scope(|scope| {
        let mut outcomes = Vec::new();
        let mut aside_left = INFLATED_ASIDE;
        for member in members {
            let name = &member.name;
            if name == MANIFEST_FILE || name == SIGNATURE_FILE || name == LOG_PROOF_FILE {
                continue;
            }
            let Some(expected) = listed.get(name.as_str()) else {
                outcomes.push(Outcome::Found(Problem::ExtraFile { file: name.clone() }));
                continue;
            };
            if member.size != expected.size {
                // Not inflated at all: the size alone says it differs.
                outcomes.push(Outcome::Found(Problem::HashMismatch { file: name.clone() }));
                continue;
            }
            let read = if member.size < HASHED_ASIDE_FROM {
                let mut hash = Sha256::new();
                zip.read_member(member, |chunk| hash.update(chunk))
                    .map(|()| Outcome::Hashed(name.clone(), hex::encode(hash.finalize())))
            } else {
                // Chunks go to the hashing thread and their buffers come
                // back to be filled again: a few buffers, no copies.
                let (chunks, received) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(8);
                let (spent, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
                let hashing = scope.spawn(move || {
                    let mut hash = Sha256::new();
                    for (chunk, filled) in received {
                        hash.update(&chunk[..filled]);
                        // Fails once the member is read: the buffer is dropped.
                        let _ = spent.send(chunk);
                    }
                    hex::encode(hash.finalize())
                });
                let pass_on = move |chunk: Vec<u8>, filled: usize| {
                    // Fails only if the hashing thread is gone (its join says so).
                    let _ = chunks.send((chunk, filled));
                    recycled.try_recv().unwrap_or_default()
                };
                match aside(file).filter(|_| aside_left > 0) {
                    Some(mut reader) => {
                        aside_left -= 1;
                        let member = member.clone();
                        let inflating = scope.spawn(move || {
                            archive::read_member_buffers(&mut reader, &member, pass_on)
                        });
                        Ok(Outcome::Aside(name.clone(), inflating, hashing))
                    }
                    None => zip
                        .read_member_buffers(member, pass_on)
                        .map(|()| Outcome::Hashing(name.clone(), hashing)),
                }
            };
            outcomes.push(
                read.unwrap_or_else(|_| {
                    Outcome::Found(Problem::CorruptMember { file: name.clone() })
                }),
            );
        }
        outcomes
            .into_iter()
            .filter_map(|outcome| {
                let (name, sha256) = match outcome {
                    Outcome::Found(problem) => return Some(problem),
                    Outcome::Hashed(name, sha256) => (name, Some(sha256)),
                    Outcome::Hashing(name, hashing) => (name, hashing.join().ok()),
                    Outcome::Aside(name, inflating, hashing) => {
                        let inflated = matches!(inflating.join(), Ok(Ok(())));
                        let sha256 = hashing.join().ok();
                        (name, sha256.filter(|_| inflated))
                    }
                };
                match sha256 {
                    None => Some(Problem::CorruptMember { file: name }),
                    Some(sha256) if sha256 != listed[name.as_str()].sha256 => {
                        Some(Problem::HashMismatch { file: name })
                    }
                    Some(_) => None,
                }
            })
            .collect()
    })
}

/// A reader of its own over `file`, where the platform reads a file at
/// several positions at once.
fn aside(file: Option<&std::fs::File>) -> Option<impl Read + Seek + Send + '_> {
    #[cfg(unix)]
    return file.map(|f| std::io::BufReader::with_capacity(256 * 1024, archive::FileAt::new(f)));
    #[cfg(not(unix))]
    return file.and(None::<std::io::Cursor<Vec<u8>>>);
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
    verify(reader, None, key, trust)
}

/// Checks a bundle file with what the reader trusts; its large members are
/// read side by side, each through a reader of its own.
pub fn verify_bundle_file(file: &std::fs::File, key: &PublicKey, trust: &Trust) -> Verification {
    #[cfg(unix)]
    let reader = std::io::BufReader::new(archive::FileAt::new(file));
    #[cfg(not(unix))]
    let reader = std::io::BufReader::new(file);
    verify(reader, Some(file), key, trust)
}

fn verify<R: Read + Seek>(
    reader: R,
    file: Option<&std::fs::File>,
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
    problems.extend(check_members(&mut zip, &members, &listed, file));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod::{Deflated, Stored};

    fn zip_of(members: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, method) in members {
            let options = SimpleFileOptions::default().compression_method(*method);
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn listed(name: &str, bytes: &[u8]) -> ManifestFile {
        ManifestFile {
            name: name.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
            rows: None,
        }
    }

    /// What the check finds, the same whether the archive is read from
    /// memory (one member after the other) or from a file (large members
    /// side by side, each through a reader of its own).
    fn problems_of(archive: Vec<u8>, files: &[ManifestFile]) -> Vec<Problem> {
        let listed = files.iter().map(|f| (f.name.as_str(), f)).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&archive).unwrap();
        let mut zip = StrictZip::open(Cursor::new(archive)).unwrap();
        let members = zip.members().to_vec();
        let in_memory = check_members(&mut zip, &members, &listed, None);
        let mut zip =
            StrictZip::open(std::io::BufReader::new(archive::FileAt::new(&file))).unwrap();
        let from_file = check_members(&mut zip, &members, &listed, Some(&file));
        assert_eq!(in_memory, from_file);
        in_memory
    }

    /// Large members are hashed on threads of their own: what they find
    /// still comes in the archive's order, as the small ones' does.
    #[test]
    fn members_large_and_small_are_checked_in_the_archive_s_order() {
        let large: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert!(large.len() as u64 > HASHED_ASIDE_FROM);
        let mut altered = large.clone();
        altered[2_000_000] ^= 1;
        let archive = zip_of(&[
            ("samples.csv", &large, Deflated),
            ("data.ndjson", &altered, Deflated),
            ("report.pdf", b"tiny, and changed", Deflated),
            ("extra.txt", b"not listed", Stored),
            ("dictionary.json", b"{}", Deflated),
        ]);
        let files = [
            listed("samples.csv", &large),
            listed("data.ndjson", &large),
            listed("report.pdf", b"tiny, and CHANGED"),
            listed("dictionary.json", b"{}"),
        ];
        assert_eq!(
            problems_of(archive, &files),
            [
                Problem::HashMismatch {
                    file: "data.ndjson".into()
                },
                Problem::HashMismatch {
                    file: "report.pdf".into()
                },
                Problem::ExtraFile {
                    file: "extra.txt".into()
                },
            ]
        );
    }

    /// More large members than are inflated aside: the rest are read by
    /// the calling thread, and each is still checked.
    #[test]
    fn large_members_past_those_read_aside_are_checked_too() {
        let count = INFLATED_ASIDE + 2;
        let contents: Vec<Vec<u8>> = (0..count as u32)
            .map(|m| {
                (0..1_500_000u32)
                    .map(|i| ((i * 7 + m) % 251) as u8)
                    .collect()
            })
            .collect();
        let names: Vec<String> = (0..count).map(|m| format!("part-{m}.csv")).collect();
        let mut altered = contents[count - 1].clone();
        altered[1_000_000] ^= 1;
        let members: Vec<(&str, &[u8], zip::CompressionMethod)> = names
            .iter()
            .zip(&contents)
            .enumerate()
            .map(|(m, (name, bytes))| {
                let bytes: &[u8] = if m == count - 1 { &altered } else { bytes };
                (name.as_str(), bytes, Deflated)
            })
            .collect();
        let files: Vec<ManifestFile> = names
            .iter()
            .zip(&contents)
            .map(|(name, bytes)| listed(name, bytes))
            .collect();
        assert_eq!(
            problems_of(zip_of(&members), &files),
            [Problem::HashMismatch {
                file: names[count - 1].clone()
            }]
        );
    }

    #[test]
    fn a_large_member_whose_bytes_differ_from_its_crc_is_corrupt() {
        let large = vec![b'x'; 2 * 1024 * 1024];
        let mut archive = zip_of(&[
            ("samples.csv", &large, Stored),
            ("dictionary.json", b"{}", Deflated),
        ]);
        // Inside the stored member's data: its CRC-32 no longer matches.
        archive[1024 * 1024] = b'y';
        let files = [
            listed("samples.csv", &large),
            listed("dictionary.json", b"{}"),
        ];
        assert_eq!(
            problems_of(archive, &files),
            [Problem::CorruptMember {
                file: "samples.csv".into()
            }]
        );
    }
}
