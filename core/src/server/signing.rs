//! The portal's Ed25519 key pair. Created on first start in the data
//! directory (the private key file readable by the owner only) and never
//! sent anywhere; the public key is published so anyone can verify bundles.

use super::error::ServiceError;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

const KEY_FILE: &str = "signing-key.ed25519";

/// Signs evidence manifests.
pub struct Signer {
    key: SigningKey,
}

/// The public half, as served at `/.well-known/portal-signing-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKey {
    pub algorithm: String,
    /// 32 bytes, hex.
    pub public_key: String,
    /// SHA-256 of the key bytes, hex: what a reader compares by eye.
    pub fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the signing key {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the signing key {0} is damaged: expected 32 bytes")]
    Damaged(String),
    #[error("not an Ed25519 public key: {0}")]
    BadPublicKey(String),
}

impl Signer {
    /// Loads the key from `data_dir`, creating it (mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Signer, KeyError> {
        Self::load_or_create_file(&data_dir.join(KEY_FILE))
    }

    /// Loads the key in `path` (32 bytes), creating it (mode 0600, with its
    /// directory) if missing.
    pub fn load_or_create_file(path: &Path) -> Result<Signer, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let seed: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| KeyError::Damaged(path.display().to_string()))?;
                Ok(Signer {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                let mut seed = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
                write_private(path, &seed).map_err(io)?;
                Ok(Signer {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A signer of a given key (tests and the demo).
    pub fn from_key(key: SigningKey) -> Signer {
        Signer { key }
    }

    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_key(&self.key.verifying_key())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, seed: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(seed)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, seed: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, seed)
}

impl PublicKey {
    fn from_key(key: &VerifyingKey) -> PublicKey {
        PublicKey {
            algorithm: "Ed25519".into(),
            public_key: hex::encode(key.as_bytes()),
            fingerprint: hex::encode(Sha256::digest(key.as_bytes())),
        }
    }

    /// Reads a key as published (this JSON) or as a bare hex line.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let hex_key = match serde_json::from_str::<PublicKey>(text) {
            Ok(k) => k.public_key,
            Err(_) => text.trim().to_string(),
        };
        let bytes: [u8; 32] = hex::decode(&hex_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| KeyError::BadPublicKey("expected 64 hex digits".into()))?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|e| KeyError::BadPublicKey(e.to_string()))?;
        Ok(PublicKey::from_key(&key))
    }

    /// True when `signature` (64 bytes) signs `message` with this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = hex::decode(&self.public_key) else {
            return false;
        };
        let Ok(bytes) = <[u8; 32]>::try_from(bytes) else {
            return false;
        };
        let (Ok(key), Ok(signature)) = (
            VerifyingKey::from_bytes(&bytes),
            Signature::from_slice(signature),
        ) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }
}

impl From<KeyError> for ServiceError {
    fn from(e: KeyError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_signs_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::load_or_create(dir.path()).unwrap();
        let again = Signer::load_or_create(dir.path()).unwrap();
        assert_eq!(
            signer.public_key(),
            again.public_key(),
            "loaded, not re-created"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let public =
            PublicKey::parse(&serde_json::to_string(&signer.public_key()).unwrap()).unwrap();
        let signature = signer.sign(b"manifest");
        assert!(public.verifies(b"manifest", &signature));
        assert!(!public.verifies(b"manifest!", &signature));
        assert_eq!(PublicKey::parse(&public.public_key).unwrap(), public);
    }
}
