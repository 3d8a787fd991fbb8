//! The car's side of a sealed log: certify a vehicle key with a CA and seal
//! batches of lines, exactly as `docs/evidence.md` says a car does. The demo
//! data and the tests write their sealed files with it; the import checks
//! them with `lines.rs`, which shares only the payloads and the tree hash.

use super::lines::payload_digest;
use super::payload::{self, SealFields};
use super::{leaf_hash, TreeBuilder};
use crate::domain::sealed::{SealLine, VehicleKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};

/// A vehicle key certified by `ca` (whose id is `ca_id`).
pub fn certify(
    ca: &SigningKey,
    ca_id: &str,
    vin: &str,
    key_id: &str,
    car: &SigningKey,
    not_before: &str,
) -> VehicleKey {
    let public = BASE64.encode(car.verifying_key().as_bytes());
    let signed = payload::key_certificate(vin, key_id, &public, not_before);
    VehicleKey {
        id: key_id.into(),
        public,
        not_before: not_before.into(),
        ca: ca_id.into(),
        cert: BASE64.encode(ca.sign(signed.as_bytes()).to_bytes()),
    }
}

/// One vehicle key sealing the lines it is given, batch after batch.
pub struct CarSealer {
    vin: String,
    key_id: String,
    key: SigningKey,
    /// The seq of the next seal, and the digest of the last one's payload.
    next_seq: u64,
    prev: String,
    batch: TreeBuilder,
    first_t: Option<String>,
    last_t: String,
}

impl CarSealer {
    pub fn new(vin: &str, key_id: &str, key: SigningKey) -> Self {
        CarSealer {
            vin: vin.into(),
            key_id: key_id.into(),
            key,
            next_seq: 1,
            prev: payload::FIRST_PREV.into(),
            batch: TreeBuilder::new(),
            first_t: None,
            last_t: String::new(),
        }
    }

    /// Adds a line (without its terminator) to the open batch; `t` is its
    /// `t` (for a crash record `t0`) exactly as written in it.
    pub fn cover(&mut self, line: &str, t: &str) {
        self.batch.push(leaf_hash(line.as_bytes()));
        self.first_t.get_or_insert_with(|| t.to_string());
        self.last_t = t.to_string();
    }

    /// Lines in the open batch.
    pub fn open_lines(&self) -> u64 {
        self.batch.len()
    }

    /// Seals the open batch; `None` when it is empty (a seal covers at least one line).
    pub fn seal(&mut self) -> Option<SealLine> {
        let root = hex::encode(self.batch.root()?);
        let mut line = SealLine {
            kind: "seal".into(),
            vin: self.vin.clone(),
            key: self.key_id.clone(),
            seq: self.next_seq,
            count: self.batch.len(),
            first_t: self.first_t.take().unwrap_or_default(),
            last_t: std::mem::take(&mut self.last_t),
            prev: std::mem::take(&mut self.prev),
            root,
            sig: String::new(),
        };
        let signed = payload::seal(&SealFields {
            vin: &line.vin,
            key: &line.key,
            seq: line.seq,
            count: line.count,
            first_t: &line.first_t,
            last_t: &line.last_t,
            prev: &line.prev,
            root: &line.root,
        });
        line.sig = BASE64.encode(self.key.sign(signed.as_bytes()).to_bytes());
        self.prev = payload_digest(&line);
        self.next_seq += 1;
        self.batch = TreeBuilder::new();
        Some(line)
    }
}

/// A position's nonce: 16 bytes of base64.
pub fn nonce(bytes: [u8; 16]) -> String {
    BASE64.encode(bytes)
}
