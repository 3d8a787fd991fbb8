//! Signed notes (C2SP `signed-note`) and the checkpoints they carry (C2SP
//! `tlog-checkpoint`): the text a log signs to commit to its tree, and that
//! witnesses cosign.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one line per
//! signature: `— <key name> <base64(key id ‖ signature)>`. An Ed25519 key's
//! id is the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key);
//! the signature covers the text, final newline included. A verifier key is
//! written `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.

use crate::server::seal::Hash;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 note signatures.
pub const ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Notes with more signatures than this are refused (as Go's `note` does).
const MAX_SIGNATURES: usize = 100;

/// Why a note or a checkpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed note: {0}")]
    Malformed(String),
    #[error("not a checkpoint: {0}")]
    NotACheckpoint(String),
    #[error("not a verifier key: {0}")]
    BadKey(String),
    #[error("no signature by `{0}` on the note")]
    Unsigned(String),
    #[error("the signature by `{0}` does not verify")]
    BadSignature(String),
}

fn malformed(reason: impl Into<String>) -> NoteError {
    NoteError::Malformed(reason.into())
}

/// A key name is non-empty and has no spaces and no `+`.
pub(super) fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(NoteError::BadKey(format!(
            "the name `{name}` is empty or has a space or `+`"
        )));
    }
    Ok(())
}

/// The 4-byte id of a key: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[..4].
pub fn key_id(name: &str, signature_type: u8, public: &[u8]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', signature_type])
        .chain_update(public)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// An Ed25519 key that verifies notes, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

impl NoteVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(NoteVerifier {
            name: name.to_string(),
            id: key_id(name, ED25519, key.as_bytes()),
            key,
        })
    }

    /// `<name>+<hex id>+<base64(0x01 ‖ key)>`, as published and configured.
    pub fn encode(&self) -> String {
        encode_vkey(&self.name, self.id, ED25519, &self.key)
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, key) = parse_vkey(text, ED25519)?;
        NoteVerifier::new(&name, key)
    }
}

/// Reads a verifier key `<name>+<hex id>+<base64(type ‖ key)>` of an Ed25519
/// key of `signature_type`, checking its id.
pub(super) fn parse_vkey(
    text: &str,
    signature_type: u8,
) -> Result<(String, VerifyingKey), NoteError> {
    let bad = |reason: &str| NoteError::BadKey(format!("`{text}`: {reason}"));
    // A name has no `+`; the base64 key may.
    let mut parts = text.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected <name>+<key id>+<key>"));
    };
    check_name(name)?;
    let typed = BASE64
        .decode(key)
        .map_err(|_| bad("the key is not base64"))?;
    match typed.split_first() {
        Some((&t, _)) if t == signature_type => {}
        _ => {
            return Err(bad(&format!(
                "expected an Ed25519 key of type 0x{signature_type:02x}"
            )))
        }
    }
    let key = ed25519_key(&typed[1..]).map_err(bad)?;
    if hex::encode(key_id(name, signature_type, key.as_bytes())) != id {
        return Err(bad("the key id does not match the name and key"));
    }
    Ok((name.to_string(), key))
}

/// A 32-byte Ed25519 public key.
pub(super) fn ed25519_key(public: &[u8]) -> Result<VerifyingKey, &'static str> {
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| "an Ed25519 key has 32 bytes")?;
    VerifyingKey::from_bytes(&public).map_err(|_| "not an Ed25519 point")
}

/// `<name>+<hex id>+<base64(type ‖ key)>`.
pub(super) fn encode_vkey(
    name: &str,
    id: [u8; 4],
    signature_type: u8,
    key: &VerifyingKey,
) -> String {
    let mut typed = vec![signature_type];
    typed.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(id), BASE64.encode(typed))
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: [u8; 4],
    /// What follows the key id: a signature, or for cosignatures a
    /// timestamp and a signature.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    pub fn line(&self) -> String {
        let mut bytes = self.id.to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// A note's text and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Signs `text` (which must end in a newline) as `name`.
    pub fn sign(text: String, name: &str, key: &SigningKey) -> Result<Self, NoteError> {
        check_text(&text)?;
        let verifier = NoteVerifier::new(name, key.verifying_key())?;
        let signature = key.sign(text.as_bytes()).to_bytes().to_vec();
        Ok(SignedNote {
            text,
            signatures: vec![NoteSignature {
                name: verifier.name,
                id: verifier.id,
                signature,
            }],
        })
    }

    pub fn encode(&self) -> String {
        let mut out = format!("{}\n", self.text);
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out
    }

    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(malformed("it has control characters"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let text = &note[..split + 1];
        let lines = note[split + 2..]
            .strip_suffix('\n')
            .ok_or_else(|| malformed("the last signature line has no newline"))?;
        let mut signatures = Vec::new();
        for line in lines.split('\n') {
            let rest = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or_else(|| malformed(format!("`{line}` is not a signature line")))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| malformed(format!("`{line}` has no signature")))?;
            check_name(name).map_err(|_| malformed(format!("`{name}` is not a key name")))?;
            let bytes = BASE64
                .decode(b64)
                .map_err(|_| malformed(format!("the signature by `{name}` is not base64")))?;
            if bytes.len() < 5 {
                return Err(malformed(format!("the signature by `{name}` is too short")));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                id: [bytes[0], bytes[1], bytes[2], bytes[3]],
                signature: bytes[4..].to_vec(),
            });
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(malformed("more than 100 signatures"));
        }
        Ok(SignedNote {
            text: text.to_string(),
            signatures,
        })
    }

    /// The first signature by `verifier`'s name and key id decides.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), NoteError> {
        let line = self
            .signatures
            .iter()
            .find(|s| s.name == verifier.name && s.id == verifier.id)
            .ok_or_else(|| NoteError::Unsigned(verifier.name.clone()))?;
        let signature = Signature::from_slice(&line.signature)
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
        verifier
            .key
            .verify(self.text.as_bytes(), &signature)
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') || text.contains("\n\n") || text.chars().any(|c| c < ' ' && c != '\n')
    {
        return Err(malformed(
            "a note's text ends in a newline and has no blank line or control character",
        ));
    }
    Ok(())
}

/// What a checkpoint commits to: the log's origin, its size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n`.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Reads a checkpoint's text (extension lines after the root are allowed).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |reason: &str| NoteError::NotACheckpoint(reason.into());
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin"))?;
        let size = lines
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|s| s.len() == 1 || !s.starts_with('0'))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("the second line is not a tree size"))?;
        let root = lines
            .next()
            .and_then(super::decoded)
            .ok_or_else(|| bad("the third line is not a base64 SHA-256 root"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    /// The C2SP specification's example key and note (signed-note.md):
    /// an independent implementation's output, byte for byte.
    #[test]
    fn the_specifications_example_note_verifies() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let verifier = NoteVerifier::parse(vkey).unwrap();
        assert_eq!(verifier.encode(), vkey);
        let note = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\
                    \n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let parsed = SignedNote::parse(note).unwrap();
        assert_eq!(parsed.encode(), note);
        parsed.verify(&verifier).unwrap();
        let mut altered = parsed.clone();
        altered.text = altered.text.replace("answer", "Answer");
        assert_eq!(
            altered.verify(&verifier),
            Err(NoteError::BadSignature("PeterNeumann".into()))
        );
    }

    #[test]
    fn a_signed_checkpoint_round_trips_and_names_what_fails() {
        let log = key(1);
        let checkpoint = Checkpoint {
            origin: "portal.example/log".into(),
            size: 12,
            root: [7; 32],
        };
        let note = SignedNote::sign(checkpoint.text(), "portal.example/log", &log).unwrap();
        let text = note.encode();
        assert!(text.starts_with("portal.example/log\n12\nBwcH"), "{text}");
        let back = SignedNote::parse(&text).unwrap();
        let verifier = NoteVerifier::new("portal.example/log", log.verifying_key()).unwrap();
        back.verify(&verifier).unwrap();
        assert_eq!(Checkpoint::parse(&back.text).unwrap(), checkpoint);
        let other = NoteVerifier::new("portal.example/log", key(2).verifying_key()).unwrap();
        assert_eq!(
            back.verify(&other),
            Err(NoteError::Unsigned("portal.example/log".into()))
        );
        let forged = text.replacen("\n12\n", "\n13\n", 1);
        assert_eq!(
            SignedNote::parse(&forged).unwrap().verify(&verifier),
            Err(NoteError::BadSignature("portal.example/log".into()))
        );
        assert!(SignedNote::parse("no blank line\n").is_err());
        assert!(Checkpoint::parse("origin\n012\nBwcH\n").is_err());
        assert!(NoteVerifier::parse("name+00000000+AQ==").is_err());
        // Keys whose base64 holds `+` read back too.
        for seed in 0..32u8 {
            let verifier =
                NoteVerifier::new("portal.example/log", key(seed).verifying_key()).unwrap();
            assert_eq!(NoteVerifier::parse(&verifier.encode()).unwrap(), verifier);
        }
    }
}
