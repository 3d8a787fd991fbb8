//! Checks of the format 1.1 lines that need no other line: a vehicle key's
//! certificate against the trusted CAs, a position's nonce and a seal's
//! fields and signature. What needs the covered lines (the root, `count`,
//! `first_t`/`last_t`) is checked by the import as the lines stream past.

use super::anchors::{public_key, signature, TrustAnchors};
use super::payload::{self, SealFields};
use super::Hash;
use crate::domain::sealed::{PositionLine, SealLine, VehicleKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// A problem in one field of a line: (field, reason).
pub type FieldError = (String, String);

fn field(name: impl Into<String>, reason: impl Into<String>) -> FieldError {
    (name.into(), reason.into())
}

/// The key, if its certificate verifies against a trusted CA.
pub fn certified_key(
    anchors: &TrustAnchors,
    vin: &str,
    index: usize,
    key: &VehicleKey,
) -> Result<VerifyingKey, FieldError> {
    let at = |name: &str| format!("keys[{index}].{name}");
    let public = public_key(&key.public).map_err(|r| field(at("public"), r))?;
    let cert = signature(&key.cert).map_err(|r| field(at("cert"), r))?;
    let signed = payload::key_certificate(vin, &key.id, &key.public, &key.not_before);
    anchors
        .verify(&key.ca, signed.as_bytes(), &cert)
        .map_err(|r| field(at("cert"), r))?;
    Ok(public)
}

/// A position's nonce is 16 bytes of base64.
pub fn check_position(p: &PositionLine) -> Result<(), FieldError> {
    let bytes = BASE64
        .decode(&p.nonce)
        .map_err(|e| field("nonce", format!("not base64: {e}")))?;
    if bytes.len() != 16 {
        return Err(field("nonce", format!("has {} bytes, not 16", bytes.len())));
    }
    Ok(())
}

fn hex_hash(name: &str, value: &str) -> Result<Hash, FieldError> {
    let bytes = hex::decode(value)
        .ok()
        .filter(|_| value.bytes().all(|b| !b.is_ascii_uppercase()))
        .ok_or_else(|| field(name, "not lower-case hexadecimal"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| field(name, format!("has {} bytes, not 32", b.len())))
}

/// The seal's payload, the bytes its `prev` chain and signature cover.
pub fn seal_payload(s: &SealLine) -> String {
    payload::seal(&SealFields {
        vin: &s.vin,
        key: &s.key,
        seq: s.seq,
        count: s.count,
        first_t: &s.first_t,
        last_t: &s.last_t,
        prev: &s.prev,
        root: &s.root,
    })
}

/// Hex SHA-256 of a seal's payload: the next seal's `prev`.
pub fn payload_digest(s: &SealLine) -> String {
    hex::encode(Sha256::digest(seal_payload(s).as_bytes()))
}

/// The seal's own fields and its signature by `key`; returns its root.
pub fn check_seal(s: &SealLine, key: &VerifyingKey) -> Result<Hash, FieldError> {
    let root = check_seal_fields(s)?;
    check_signature(s, key)?;
    Ok(root)
}

/// The seal's own fields, all but the signature's check; returns its root.
pub fn check_seal_fields(s: &SealLine) -> Result<Hash, FieldError> {
    if s.seq == 0 {
        return Err(field("seq", "seals are counted from 1"));
    }
    if s.count == 0 {
        return Err(field("count", "a seal covers at least one line"));
    }
    hex_hash("prev", &s.prev)?;
    if s.seq == 1 && s.prev != payload::FIRST_PREV {
        return Err(field("prev", "the first seal of a key has 64 zeros"));
    }
    let root = hex_hash("root", &s.root)?;
    signature(&s.sig).map_err(|r| field("sig", r))?;
    Ok(root)
}

/// The seal's signature by `key` over its payload.
pub fn check_signature(s: &SealLine, key: &VerifyingKey) -> Result<(), FieldError> {
    SignedPayload::of(s)?.check(&s.key, key)
}

/// A seal's payload and its signature, all its signature's check needs
/// but the key: a seal's check can wait holding this much, not the seal.
pub struct SignedPayload {
    payload: Box<str>,
    sig: Signature,
}

impl SignedPayload {
    pub fn of(s: &SealLine) -> Result<Self, FieldError> {
        Ok(Self {
            payload: seal_payload(s).into_boxed_str(),
            sig: signature(&s.sig).map_err(|r| field("sig", r))?,
        })
    }

    /// The signature's check by the key with id `key_id`.
    pub fn check(&self, key_id: &str, key: &VerifyingKey) -> Result<(), FieldError> {
        key.verify(self.payload.as_bytes(), &self.sig)
            .map_err(|_| field("sig", format!("does not verify with key `{key_id}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::seal::anchors::VehicleCa;
    use crate::server::seal::{leaf_hash, TreeBuilder};
    use ed25519_dalek::{Signer as _, SigningKey};

    const VIN: &str = "LRW3E7EK9NC000017";

    fn b64(bytes: &[u8]) -> String {
        BASE64.encode(bytes)
    }

    fn anchors(ca: &SigningKey) -> TrustAnchors {
        let listed = VehicleCa {
            id: "demo-ca".into(),
            public: b64(ca.verifying_key().as_bytes()),
        };
        TrustAnchors::from_list("test", vec![listed]).unwrap()
    }

    fn certify(ca: &SigningKey, car: &SigningKey) -> VehicleKey {
        let public = b64(car.verifying_key().as_bytes());
        let not_before = "2021-01-01T00:00:00Z";
        let signed = payload::key_certificate(VIN, "k1", &public, not_before);
        VehicleKey {
            id: "k1".into(),
            public,
            not_before: not_before.into(),
            ca: "demo-ca".into(),
            cert: b64(&ca.sign(signed.as_bytes()).to_bytes()),
        }
    }

    fn seal(car: &SigningKey, lines: &[&str], seq: u64, prev: &str) -> SealLine {
        let mut tree = TreeBuilder::new();
        lines
            .iter()
            .for_each(|l| tree.push(leaf_hash(l.as_bytes())));
        let mut s = SealLine {
            kind: "seal".into(),
            vin: VIN.into(),
            key: "k1".into(),
            seq,
            count: lines.len() as u64,
            first_t: "2021-02-21T10:14:02.100+08:00".into(),
            last_t: "2021-02-21T10:15:02.000+08:00".into(),
            prev: prev.into(),
            root: hex::encode(tree.root().unwrap()),
            sig: String::new(),
        };
        s.sig = b64(&car.sign(seal_payload(&s).as_bytes()).to_bytes());
        s
    }

    #[test]
    fn a_certified_key_verifies_its_chained_seals() {
        let (ca, car) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let key = certified_key(&anchors(&ca), VIN, 0, &certify(&ca, &car)).unwrap();
        let first = seal(&car, &["a", "b", "c"], 1, payload::FIRST_PREV);
        let root = check_seal(&first, &key).unwrap();
        assert_eq!(hex::encode(root), first.root);
        let second = seal(&car, &["d"], 2, &payload_digest(&first));
        assert!(check_seal(&second, &key).is_ok());
        assert_eq!(second.prev.len(), 64);
    }

    #[test]
    fn every_bad_key_or_seal_names_its_field() {
        let (ca, car) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let trusted = anchors(&ca);
        let key = certify(&ca, &car);
        let reason = |r: Result<VerifyingKey, FieldError>| r.unwrap_err();

        // Certified by a CA nobody trusts, or by a key that is not the CA's.
        let mut other_ca = key.clone();
        other_ca.ca = "other-ca".into();
        let (f, r) = reason(certified_key(&trusted, VIN, 0, &other_ca));
        assert_eq!(f, "keys[0].cert");
        assert!(r.contains("does not trust"), "{r}");
        let forged = certify(&SigningKey::from_bytes(&[3; 32]), &car);
        assert_eq!(
            reason(certified_key(&trusted, VIN, 1, &forged)).0,
            "keys[1].cert"
        );
        // The certificate binds the VIN.
        assert!(certified_key(&trusted, "LRW3E7EK9NC000018", 0, &key).is_err());
        let mut short = key.clone();
        short.public = b64(&[0; 8]);
        assert_eq!(
            reason(certified_key(&trusted, VIN, 0, &short)).0,
            "keys[0].public"
        );

        let public = certified_key(&trusted, VIN, 0, &key).unwrap();
        let good = seal(&car, &["a"], 1, payload::FIRST_PREV);
        let broken = |change: fn(&mut SealLine)| {
            let mut s = good.clone();
            change(&mut s);
            check_seal(&s, &public).unwrap_err().0
        };
        assert_eq!(broken(|s| s.count = 2), "sig");
        assert_eq!(broken(|s| s.last_t.push('0')), "sig");
        assert_eq!(
            broken(|s| {
                let first = if s.root.starts_with('0') { "1" } else { "0" };
                s.root = format!("{first}{}", &s.root[1..]);
            }),
            "sig"
        );
        assert_eq!(broken(|s| s.root = s.root.to_uppercase()), "root");
        assert_eq!(broken(|s| s.seq = 0), "seq");
        assert_eq!(broken(|s| s.count = 0), "count");
        assert_eq!(broken(|s| s.prev = "1".repeat(64)), "prev");
        assert_eq!(broken(|s| s.sig = b64(&[0; 10])), "sig");
        // Signed by another car's key.
        let stranger = seal(
            &SigningKey::from_bytes(&[4; 32]),
            &["a"],
            1,
            payload::FIRST_PREV,
        );
        assert_eq!(check_seal(&stranger, &public).unwrap_err().0, "sig");
    }

    #[test]
    fn a_position_needs_a_sixteen_byte_nonce() {
        let mut p = PositionLine {
            kind: "position".into(),
            vin: VIN.into(),
            t: "2021-02-21T10:15:02.100+08:00".into(),
            lat: 31.2304,
            lon: 121.4737,
            heading_deg: None,
            nonce: b64(&[9; 16]),
        };
        assert!(check_position(&p).is_ok());
        p.nonce = b64(&[9; 15]);
        assert_eq!(check_position(&p).unwrap_err().1, "has 15 bytes, not 16");
        p.nonce = "not base64!".into();
        assert_eq!(check_position(&p).unwrap_err().0, "nonce");
    }
}
