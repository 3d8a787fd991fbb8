//! Checks an evidence bundle with nothing but the public key: the signature
//! over the manifest, then every file against the manifest's SHA-256 and
//! size, and that no file was added or removed. Offline by construction.

use super::export::bundle::{MANIFEST_FILE, SIGNATURE_FILE};
use super::signing::PublicKey;
use crate::domain::export::{Problem, Verification};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek};

/// What the manifest says about one file.
struct Listed {
    sha256: String,
    size: u64,
}

fn not_a_bundle(reason: impl ToString) -> Verification {
    Verification {
        valid: false,
        problems: vec![Problem::NotABundle {
            reason: reason.to_string(),
        }],
        bundle_id: None,
        vin: None,
        manifest_sha256: None,
    }
}

/// Hashes a member as it is read (bounded memory whatever its size).
fn digest(mut member: impl Read) -> std::io::Result<(String, u64)> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = member.read(&mut buf)?;
        if n == 0 {
            return Ok((hex::encode(hash.finalize()), size));
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
}

pub fn verify_bundle<R: Read + Seek>(reader: R, key: &PublicKey) -> Verification {
    let mut zip = match zip::ZipArchive::new(reader) {
        Ok(z) => z,
        Err(e) => return not_a_bundle(e),
    };
    let mut problems = Vec::new();
    let read_small = |zip: &mut zip::ZipArchive<R>, name: &str| -> Option<Vec<u8>> {
        let mut member = zip.by_name(name).ok()?;
        let mut bytes = Vec::new();
        member
            .by_ref()
            .take(16 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    };
    let Some(manifest_bytes) = read_small(&mut zip, MANIFEST_FILE) else {
        return Verification {
            problems: vec![Problem::MissingManifest],
            ..not_a_bundle("")
        };
    };
    match read_small(&mut zip, SIGNATURE_FILE) {
        None => problems.push(Problem::MissingSignature),
        Some(sig) => {
            let signature = std::str::from_utf8(&sig)
                .ok()
                .and_then(|s| hex::decode(s.trim()).ok());
            if !signature.is_some_and(|s| key.verifies(&manifest_bytes, &s)) {
                problems.push(Problem::BadSignature);
            }
        }
    }
    let manifest: serde_json::Value = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem::BadManifest {
                reason: e.to_string(),
            });
            serde_json::Value::Null
        }
    };
    let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
    for f in manifest["files"].as_array().into_iter().flatten() {
        if let (Some(name), Some(sha256), Some(size)) =
            (f["name"].as_str(), f["sha256"].as_str(), f["size"].as_u64())
        {
            listed.insert(
                name.to_string(),
                Listed {
                    sha256: sha256.to_string(),
                    size,
                },
            );
        } else {
            problems.push(Problem::BadManifest {
                reason: "a file entry lacks name, sha256 or size".into(),
            });
        }
    }
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    for name in &names {
        if name == MANIFEST_FILE || name == SIGNATURE_FILE {
            continue;
        }
        let Some(expected) = listed.get(name) else {
            problems.push(Problem::ExtraFile { file: name.clone() });
            continue;
        };
        let actual = zip
            .by_name(name)
            .map_err(std::io::Error::other)
            .and_then(digest);
        match actual {
            Ok((sha256, size)) if sha256 == expected.sha256 && size == expected.size => {}
            _ => problems.push(Problem::HashMismatch { file: name.clone() }),
        }
    }
    for name in listed.keys() {
        if !names.contains(name) {
            problems.push(Problem::MissingFile { file: name.clone() });
        }
    }
    Verification {
        valid: problems.is_empty(),
        problems,
        bundle_id: manifest["bundle_id"].as_str().map(str::to_string),
        vin: manifest["vin"].as_str().map(str::to_string),
        manifest_sha256: Some(hex::encode(Sha256::digest(&manifest_bytes))),
    }
}
