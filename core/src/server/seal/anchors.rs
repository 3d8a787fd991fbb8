//! The vehicle CAs this portal trusts: a JSON file of `{"id", "public"}`
//! entries (`--vehicle-ca FILE` or `PORTAL_VEHICLE_CA`), the public key in
//! base64 (32 bytes, Ed25519). Published as they were read at
//! `/.well-known/vehicle-ca`, so anyone can check a car's key against the
//! same anchors.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One trusted CA, as written in the file and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleCa {
    pub id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public: String,
}

/// The configured CAs, checked when loaded.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    cas: Vec<(VehicleCa, VerifyingKey)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnchorError {
    #[error("reading the vehicle CA file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the vehicle CA file {path} is not a JSON list of {{\"id\", \"public\"}}: {reason}")]
    Format { path: String, reason: String },
    #[error("the vehicle CA file {path} lists CA `{id}` twice")]
    Duplicate { path: String, id: String },
    #[error("the vehicle CA file {path}: CA `{id}`: {reason}")]
    BadKey {
        path: String,
        id: String,
        reason: String,
    },
}

/// `N` bytes written in base64, or why they are not.
fn base64_bytes<const N: usize>(text: &str, what: &str) -> Result<[u8; N], String> {
    let bytes = BASE64
        .decode(text)
        .map_err(|e| format!("{what} is not base64: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what} has {} bytes, not {N}", b.len()))
}

/// A base64 Ed25519 public key, or why it is not one.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    VerifyingKey::from_bytes(&base64_bytes(text, "public key")?)
        .map_err(|_| "not an Ed25519 public key".to_string())
}

/// A base64 Ed25519 signature, or why it is not one.
pub fn signature(text: &str) -> Result<Signature, String> {
    Ok(Signature::from_bytes(&base64_bytes(text, "signature")?))
}

impl TrustAnchors {
    pub fn load(path: &Path) -> Result<Self, AnchorError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| AnchorError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let listed: Vec<VehicleCa> =
            serde_json::from_str(&text).map_err(|e| AnchorError::Format {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        Self::from_list(&shown, listed)
    }

    pub fn from_list(path: &str, listed: Vec<VehicleCa>) -> Result<Self, AnchorError> {
        let mut cas: Vec<(VehicleCa, VerifyingKey)> = Vec::with_capacity(listed.len());
        for ca in listed {
            if cas.iter().any(|(held, _)| held.id == ca.id) {
                return Err(AnchorError::Duplicate {
                    path: path.into(),
                    id: ca.id,
                });
            }
            let key = public_key(&ca.public).map_err(|reason| AnchorError::BadKey {
                path: path.into(),
                id: ca.id.clone(),
                reason,
            })?;
            cas.push((ca, key));
        }
        Ok(TrustAnchors { cas })
    }

    /// These CAs and `ca` (already listed identically: unchanged).
    pub fn including(&self, ca: VehicleCa) -> Result<Self, AnchorError> {
        let mut listed = self.published();
        if !listed.contains(&ca) {
            listed.push(ca);
        }
        Self::from_list("the configured vehicle CAs", listed)
    }

    /// No CA configured: sealed files are refused.
    pub fn is_empty(&self) -> bool {
        self.cas.is_empty()
    }

    /// The CAs as published.
    pub fn published(&self) -> Vec<VehicleCa> {
        self.cas.iter().map(|(ca, _)| ca.clone()).collect()
    }

    /// Checks a signature by the CA `id` over `payload`.
    pub fn verify(&self, id: &str, payload: &[u8], sig: &Signature) -> Result<(), String> {
        let (_, key) = self
            .cas
            .iter()
            .find(|(ca, _)| ca.id == id)
            .ok_or_else(|| format!("certified by `{id}`, a CA this portal does not trust"))?;
        key.verify(payload, sig)
            .map_err(|_| format!("the certificate does not verify against CA `{id}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn ca(seed: u8, id: &str) -> (SigningKey, VehicleCa) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = BASE64.encode(key.verifying_key().as_bytes());
        (
            key,
            VehicleCa {
                id: id.into(),
                public,
            },
        )
    }

    #[test]
    fn a_loaded_ca_verifies_its_own_signatures_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.json");
        let (key, listed) = ca(1, "demo-ca");
        std::fs::write(&path, serde_json::to_string(&[&listed]).unwrap()).unwrap();
        let anchors = TrustAnchors::load(&path).unwrap();
        assert_eq!(anchors.published(), vec![listed]);
        let sig = key.sign(b"payload");
        assert_eq!(anchors.verify("demo-ca", b"payload", &sig), Ok(()));
        assert!(anchors.verify("demo-ca", b"payloaD", &sig).is_err());
        let other = anchors.verify("other-ca", b"payload", &sig).unwrap_err();
        assert!(other.contains("does not trust"), "{other}");
    }

    #[test]
    fn a_bad_file_is_refused_with_its_reason() {
        let (_, a) = ca(1, "a");
        let twice = TrustAnchors::from_list("f", vec![a.clone(), a.clone()]).unwrap_err();
        assert_eq!(
            twice,
            AnchorError::Duplicate {
                path: "f".into(),
                id: "a".into()
            }
        );
        let short = VehicleCa {
            id: "b".into(),
            public: BASE64.encode([7u8; 31]),
        };
        let err = TrustAnchors::from_list("f", vec![short])
            .unwrap_err()
            .to_string();
        assert!(err.contains("31 bytes, not 32"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.json");
        std::fs::write(&path, r#"{"id":"a"}"#).unwrap();
        let err = TrustAnchors::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a JSON list"), "{err}");
        let missing = TrustAnchors::load(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(missing, AnchorError::Read { .. }));
    }
}
