//! Checks a bundle's `sealed.ndjson` (`docs/evidence.md`, section 6): the
//! vehicle's keys against the vehicle CAs given (if any), then for every seal
//! the root recomputed from its revealed lines and leaf hashes, the car's
//! signature, and the chain between consecutive seals of a key. Then counts
//! the records of `data.ndjson` that no revealed sealed line vouches for.

use super::archive::{Member, StrictZip};
use crate::domain::export::{Problem, SealCheck, SealedReport};
use crate::domain::sealed::{MissingBatch, SealLine, VehicleKey};
use crate::domain::time::parse_rfc3339_micros;
use crate::server::seal::anchors::public_key;
use crate::server::seal::lines::{certified_key, check_seal, payload_digest};
use crate::server::seal::{leaf_hash, Hash, TreeBuilder, TrustAnchors};
use ed25519_dalek::VerifyingKey;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

/// Lines are handed over one at a time, split on `\n` only.
struct Lines<F: FnMut(u64, &[u8])> {
    pending: Vec<u8>,
    number: u64,
    each: F,
}

impl<F: FnMut(u64, &[u8])> Lines<F> {
    fn feed(&mut self, mut chunk: &[u8]) {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&chunk[..end]);
            self.number += 1;
            (self.each)(self.number, &self.pending);
            self.pending.clear();
            chunk = &chunk[end + 1..];
        }
        self.pending.extend_from_slice(chunk);
    }

    fn finish(mut self) {
        if !self.pending.is_empty() {
            self.number += 1;
            (self.each)(self.number, &self.pending);
        }
    }
}

/// Reads a member line by line.
fn read_lines<R: Read + Seek>(
    zip: &mut StrictZip<R>,
    member: &Member,
    each: impl FnMut(u64, &[u8]),
) -> std::io::Result<()> {
    let mut lines = Lines {
        pending: Vec::new(),
        number: 0,
        each,
    };
    zip.read_member(member, |chunk| lines.feed(chunk))?;
    lines.finish();
    Ok(())
}

/// A revealed line's identity, to match it with the portal's `data.ndjson`.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Identity {
    Sample(i64),
    Event(String),
    Edr(String),
}

#[derive(serde::Deserialize)]
struct IdentityProbe {
    kind: String,
    t: Option<String>,
    id: Option<String>,
    event_id: Option<String>,
}

fn identity(line: &[u8]) -> Option<Identity> {
    let probe: IdentityProbe = serde_json::from_slice(line).ok()?;
    match probe.kind.as_str() {
        "sample" => Some(Identity::Sample(parse_rfc3339_micros(&probe.t?).ok()?)),
        "event" => Some(Identity::Event(probe.id?)),
        "edr" => Some(Identity::Edr(probe.event_id?)),
        _ => None,
    }
}

/// The seal being read: its line, the tree so far and what is left to read.
struct Open {
    seal: SealLine,
    line: u64,
    tree: TreeBuilder,
    left: u64,
    revealed: u64,
    withheld: u64,
    identities: Vec<Identity>,
}

struct Checker<'a> {
    file: &'a str,
    anchors: Option<&'a TrustAnchors>,
    keys: HashMap<String, VerifyingKey>,
    open: Option<Open>,
    /// Per key, the last seal read: seq and payload digest.
    last: HashMap<String, (u64, String, String)>,
    vin: Option<String>,
    vouched: HashSet<Identity>,
    report: SealedReport,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, line: u64, reason: impl Into<String>) {
        if self.problems.len() < 100 {
            self.problems.push(Problem::SealedLine {
                file: self.file.into(),
                line,
                reason: reason.into(),
            });
        }
    }

    fn line(&mut self, number: u64, text: &[u8]) {
        if number == 1 {
            return self.vehicle(text);
        }
        if self.open.is_some() {
            return self.covered(text);
        }
        match serde_json::from_slice::<SealLine>(text) {
            Ok(seal) if seal.kind == "seal" => self.seal(number, seal),
            _ => self.problem(number, "expected a seal line"),
        }
    }

    fn vehicle(&mut self, text: &[u8]) {
        #[derive(serde::Deserialize)]
        struct VehicleKeys {
            vin: String,
            keys: Vec<VehicleKey>,
        }
        let Ok(v) = serde_json::from_slice::<VehicleKeys>(text) else {
            return self.problem(1, "expected the vehicle line with its keys");
        };
        for (i, key) in v.keys.iter().enumerate() {
            let checked = match self.anchors {
                Some(anchors) => {
                    certified_key(anchors, &v.vin, i, key).map_err(|(f, r)| format!("{f}: {r}"))
                }
                None => public_key(&key.public).map_err(|r| format!("keys[{i}].public: {r}")),
            };
            match checked {
                Ok(public) => {
                    self.keys.insert(key.id.clone(), public);
                }
                Err(reason) => self.problem(1, reason),
            }
        }
        self.report.ca_checked = self.anchors.is_some();
        self.vin = Some(v.vin);
    }

    fn seal(&mut self, number: u64, seal: SealLine) {
        if Some(&seal.vin) != self.vin.as_ref() {
            self.problem(number, "the seal names another VIN");
        }
        let Some(key) = self.keys.get(&seal.key).copied() else {
            return self.problem(
                number,
                format!("key `{}` is not among the vehicle's keys", seal.key),
            );
        };
        if let Err((field, reason)) = check_seal(&seal, &key) {
            self.problem(number, format!("{field}: {reason}"));
        }
        if let Some((seq, digest, last_t)) = self.last.get(&seal.key).cloned() {
            if seal.seq == seq + 1 && seal.prev != digest {
                self.problem(
                    number,
                    format!("prev does not link to seal {seq} of key {}", seal.key),
                );
            } else if seal.seq > seq + 1 {
                self.report.missing_batches.push(MissingBatch {
                    key: seal.key.clone(),
                    from_seq: seq + 1,
                    to_seq: seal.seq - 1,
                    after: Some(last_t),
                    before: seal.first_t.clone(),
                });
            } else if seal.seq <= seq {
                self.problem(number, "seals of a key must come in rising seq");
            }
        }
        self.last.insert(
            seal.key.clone(),
            (seal.seq, payload_digest(&seal), seal.last_t.clone()),
        );
        if !self.report.keys.contains(&seal.key) {
            self.report.keys.push(seal.key.clone());
        }
        self.open = Some(Open {
            left: seal.count,
            seal,
            line: number,
            tree: TreeBuilder::new(),
            revealed: 0,
            withheld: 0,
            identities: Vec::new(),
        });
    }

    fn covered(&mut self, text: &[u8]) {
        let open = self.open.as_mut().expect("a seal is open");
        match withheld_leaf(text) {
            Some(leaf) => {
                open.tree.push(leaf);
                open.withheld += 1;
            }
            None => {
                open.tree.push(leaf_hash(text));
                open.revealed += 1;
                if let Some(id) = identity(text) {
                    open.identities.push(id);
                }
            }
        }
        open.left -= 1;
        if open.left == 0 {
            let open = self.open.take().expect("open");
            self.close(open);
        }
    }

    fn close(&mut self, open: Open) {
        let root = open.tree.root().map(hex::encode);
        let ok = root.as_deref() == Some(open.seal.root.as_str());
        if !ok {
            self.problem(
                open.line,
                format!(
                    "the root of the {} covered lines after it does not match the seal's root: a revealed line or a leaf hash was changed",
                    open.seal.count
                ),
            );
        } else {
            self.report.verified += open.revealed;
            self.vouched.extend(open.identities);
        }
        self.report.withheld += open.withheld;
        self.report.seals += 1;
        self.report.by_seal.push(SealCheck {
            key: open.seal.key,
            seq: open.seal.seq,
            first_t: open.seal.first_t,
            last_t: open.seal.last_t,
            revealed: open.revealed,
            withheld: open.withheld,
            verified: ok,
        });
    }
}

/// `{"leaf":"<hex>"}` and nothing else: a withheld line's leaf hash.
fn withheld_leaf(text: &[u8]) -> Option<Hash> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Leaf {
        leaf: String,
    }
    let leaf: Leaf = serde_json::from_slice(text).ok()?;
    hex::decode(&leaf.leaf).ok()?.try_into().ok()
}

/// Checks `sealed.ndjson` and counts what of `data.ndjson` is unsealed.
pub(super) fn check<R: Read + Seek>(
    zip: &mut StrictZip<R>,
    sealed: &Member,
    data: Option<&Member>,
    anchors: Option<&TrustAnchors>,
) -> (SealedReport, Vec<Problem>) {
    let file = sealed.name.clone();
    let mut checker = Checker {
        file: &file,
        anchors,
        keys: HashMap::new(),
        open: None,
        last: HashMap::new(),
        vin: None,
        vouched: HashSet::new(),
        report: SealedReport::default(),
        problems: Vec::new(),
    };
    let read = read_lines(zip, sealed, |n, text| checker.line(n, text));
    if read.is_err() {
        checker
            .problems
            .push(Problem::CorruptMember { file: file.clone() });
    }
    if let Some(open) = checker.open.take() {
        let line = open.line;
        checker.problem(
            line,
            format!(
                "the file ends before the {} lines this seal covers",
                open.seal.count
            ),
        );
    }
    let Checker {
        mut report,
        problems,
        vouched,
        ..
    } = checker;
    if let Some(data) = data {
        let _ = read_lines(zip, data, |_, text| {
            if let Some(id) = identity(text) {
                if !vouched.contains(&id) {
                    report.unsealed += 1;
                }
            }
        });
    }
    (report, problems)
}
