//! The exact bytes that are signed in a sealed log: lines, each ending
//! with `\n`, every value as it is written in the log line (numbers in
//! decimal). Signatures are Ed25519 over these bytes.

/// What a vehicle CA signs to certify a vehicle key (`keys[].cert`).
pub fn key_certificate(vin: &str, id: &str, public: &str, not_before: &str) -> String {
    lines(&["vdp-vehicle-key/1", vin, id, public, not_before])
}

/// What a vehicle key signs for a batch (`seal.sig`).
pub struct SealFields<'a> {
    pub vin: &'a str,
    pub key: &'a str,
    pub seq: u64,
    pub count: u64,
    pub first_t: &'a str,
    pub last_t: &'a str,
    /// Hex SHA-256 of the previous seal's payload (64 zeros for `seq` 1).
    pub prev: &'a str,
    /// Hex Merkle root of the covered lines.
    pub root: &'a str,
}

/// `prev` of a key's first seal.
pub const FIRST_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn seal(f: &SealFields<'_>) -> String {
    let (seq, count) = (f.seq.to_string(), f.count.to_string());
    lines(&[
        "vdp-seal/1",
        f.vin,
        f.key,
        &seq,
        &count,
        f.first_t,
        f.last_t,
        f.prev,
        f.root,
    ])
}

fn lines(values: &[&str]) -> String {
    let mut out = String::with_capacity(values.iter().map(|v| v.len() + 1).sum());
    for v in values {
        out.push_str(v);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_newline_terminated_lines_in_the_spec_order() {
        assert_eq!(
            key_certificate("LRW3E7EK9NC000017", "k1", "AAAA", "2021-01-01T00:00:00Z"),
            "vdp-vehicle-key/1\nLRW3E7EK9NC000017\nk1\nAAAA\n2021-01-01T00:00:00Z\n"
        );
        let payload = seal(&SealFields {
            vin: "LRW3E7EK9NC000017",
            key: "k1",
            seq: 42,
            count: 600,
            first_t: "2021-02-21T10:14:02.100+08:00",
            last_t: "2021-02-21T10:15:02.000+08:00",
            prev: FIRST_PREV,
            root: "ab",
        });
        assert_eq!(
            payload,
            format!(
                "vdp-seal/1\nLRW3E7EK9NC000017\nk1\n42\n600\n2021-02-21T10:14:02.100+08:00\n\
                 2021-02-21T10:15:02.000+08:00\n{FIRST_PREV}\nab\n"
            )
        );
        assert_eq!(FIRST_PREV.len(), 64);
    }
}
