//! Cosignatures (C2SP `tlog-cosignature`, the Ed25519 `cosignature/v1`): a
//! witness's statement that, as of its timestamp, the checkpoint is the
//! largest tree of the log it has seen, consistent with every one before.
//!
//! A cosignature is a note signature line
//! `— <witness name> base64(key id ‖ timestamp ‖ signature)`, where the key
//! id is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[..4], the timestamp is
//! POSIX seconds as 8 bytes big-endian, and the Ed25519 signature covers
//! `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's text.

use super::note::{
    check_name, ed25519_key, encode_vkey, key_id, parse_vkey, NoteError, NoteSignature,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};

/// The key type byte of Ed25519 cosigners.
pub const COSIGNATURE_V1: u8 = 0x04;

/// The message a witness signs for `text` (a checkpoint's text) at `timestamp`.
pub fn message(text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

/// Cosigns a checkpoint's `text` as witness `name` at `timestamp`.
pub fn cosign(text: &str, name: &str, key: &SigningKey, timestamp: u64) -> NoteSignature {
    let signature = key.sign(&message(text, timestamp)).to_bytes();
    let mut bytes = timestamp.to_be_bytes().to_vec();
    bytes.extend_from_slice(&signature);
    NoteSignature {
        name: name.to_string(),
        id: key_id(name, COSIGNATURE_V1, key.verifying_key().as_bytes()),
        signature: bytes,
    }
}

/// A witness's public key, by name: what a portal or a verifier is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

impl WitnessKey {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(WitnessKey {
            name: name.to_string(),
            id: key_id(name, COSIGNATURE_V1, key.as_bytes()),
            key,
        })
    }

    /// `<name>+<hex id>+<base64(0x04 ‖ key)>` (a C2SP verifier key).
    pub fn encode(&self) -> String {
        encode_vkey(&self.name, self.id, COSIGNATURE_V1, &self.key)
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let (name, key) = parse_vkey(text, COSIGNATURE_V1)?;
        WitnessKey::new(&name, key)
    }

    /// `NAME=KEY`, as `--witness` takes it: KEY is the witness's verifier
    /// key (whose name must be NAME) or its bare base64 Ed25519 key.
    pub fn parse_config(text: &str) -> Result<Self, NoteError> {
        let bad = |reason: &str| NoteError::BadKey(format!("`{text}`: {reason}"));
        let (name, key) = text
            .trim()
            .split_once('=')
            .filter(|(name, key)| !name.is_empty() && !key.is_empty())
            .ok_or_else(|| bad("expected NAME=KEY"))?;
        if let Ok(parsed) = WitnessKey::parse(key) {
            return match parsed.name == name {
                true => Ok(parsed),
                false => Err(bad("the verifier key is of another name")),
            };
        }
        let public = BASE64
            .decode(key)
            .map_err(|_| bad("KEY is neither a verifier key nor base64"))?;
        WitnessKey::new(name, ed25519_key(&public).map_err(bad)?)
    }

    /// Whether a signature line claims to be by this witness (name and id).
    pub fn signed(&self, line: &NoteSignature) -> bool {
        line.name == self.name && line.id == self.id
    }

    /// Checks this witness's cosignature on a checkpoint's `text`; returns
    /// its timestamp.
    pub fn verify(&self, text: &str, line: &NoteSignature) -> Result<u64, NoteError> {
        let bad = || NoteError::BadSignature(self.name.clone());
        if !self.signed(line) || line.signature.len() != 8 + 64 {
            return Err(bad());
        }
        let (stamp, signature) = line.signature.split_at(8);
        let timestamp = u64::from_be_bytes(stamp.try_into().expect("8 bytes"));
        if timestamp > i64::MAX as u64 {
            return Err(bad());
        }
        let signature = Signature::from_slice(signature).map_err(|_| bad())?;
        self.key
            .verify(&message(text, timestamp), &signature)
            .map_err(|_| bad())?;
        Ok(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::tlog::note::{NoteVerifier, SignedNote};

    /// The C2SP specification's example: a checkpoint cosigned by
    /// `witness.example.com/w1` at 1679315147 (its key is not published, so
    /// this reads the line's parts; our own round trip checks the signature).
    #[test]
    fn the_specifications_example_line_reads_as_key_id_timestamp_and_signature() {
        let note = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
                    \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
                    \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
        let parsed = SignedNote::parse(note).unwrap();
        let line = &parsed.signatures[1];
        assert_eq!(line.name, "witness.example.com/w1");
        assert_eq!(line.signature.len(), 72);
        let stamp = u64::from_be_bytes(line.signature[..8].try_into().unwrap());
        assert_eq!(stamp, 1679315147);
        assert_eq!(
            String::from_utf8(message(&parsed.text, stamp)).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosignature_verifies_only_for_its_checkpoint_key_and_time() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let witness = WitnessKey::new("notary.example/w", key.verifying_key()).unwrap();
        let text = "portal.example/log\n3\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n";
        let line = cosign(text, "notary.example/w", &key, 1_800_000_000);
        assert_eq!(witness.verify(text, &line), Ok(1_800_000_000));
        // The line as written in a note reads back and still verifies.
        let note = SignedNote::parse(&format!("{text}\n{}", line.line())).unwrap();
        assert_eq!(witness.verify(text, &note.signatures[0]), Ok(1_800_000_000));

        let other_text = text.replace("\n3\n", "\n4\n");
        assert!(witness.verify(&other_text, &line).is_err());
        let mut later = line.clone();
        later.signature[7] ^= 1;
        assert!(witness.verify(text, &later).is_err());
        // A cosigner's key is not a log's key: type 0x04, not 0x01.
        let as_log = NoteVerifier::new("notary.example/w", key.verifying_key()).unwrap();
        assert_ne!(as_log.id, witness.id);
        assert!(NoteVerifier::parse(&witness.encode()).is_err());
        assert_eq!(WitnessKey::parse(&witness.encode()).unwrap(), witness);
    }

    #[test]
    fn the_witness_option_takes_a_verifier_key_or_a_bare_key() {
        let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let witness = WitnessKey::new("w1.example", key).unwrap();
        let bare = BASE64.encode(key.as_bytes());
        assert_eq!(
            WitnessKey::parse_config(&format!("w1.example={bare}")).unwrap(),
            witness
        );
        assert_eq!(
            WitnessKey::parse_config(&format!("w1.example={}", witness.encode())).unwrap(),
            witness
        );
        for bad in [
            "w1.example".to_string(),
            "=abc".to_string(),
            "w1.example=not base64!".to_string(),
            format!("w1.example={}", BASE64.encode([1u8; 31])),
            format!(
                "w2.example={}",
                witness.encode().replacen("w1.example", "w2.example", 1)
            ),
        ] {
            assert!(WitnessKey::parse_config(&bad).is_err(), "{bad}");
        }
    }
}
