//! How a seal's covered lines are kept: their exact bytes, each followed by
//! `\n`, as one raw deflate stream per seal (zlib-rs's fastest level: the
//! import compresses every covered line it keeps). zstd packed them about
//! 4 % smaller per sample but its C library added a minute to a fresh
//! release build on two cores (BENCHMARKS.md, "Sealed import, fourth step").

use flate2::write::DeflateEncoder;
use std::io::{Read as _, Write as _};

/// Compresses seals' covered lines, one seal at a time; reused so a group
/// of seals allocates one encoder.
pub struct KeptWriter(DeflateEncoder<Vec<u8>>);

impl Default for KeptWriter {
    fn default() -> Self {
        Self(DeflateEncoder::new(Vec::new(), flate2::Compression::fast()))
    }
}

impl KeptWriter {
    /// The kept form of one seal's covered lines.
    pub fn compress(&mut self, lines: &[u8]) -> std::io::Result<Vec<u8>> {
        self.0.write_all(lines)?;
        // Room for the next seal, about this one's size (deflate's fastest
        // level keeps under half of such lines): it is not regrown.
        self.0.reset(Vec::with_capacity(lines.len() / 2))
    }
}

/// A seal's covered lines as received, from their kept form.
pub fn read_kept(kept: &[u8]) -> std::io::Result<String> {
    let mut lines = String::new();
    flate2::read::DeflateDecoder::new(kept).read_to_string(&mut lines)?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = "{\"kind\":\"sample\",\"t\":\"2026-10-01T08:00:00Z\"}\n\
                         {\"kind\":\"position\",\"t\":\"2026-10-01T08:00:00Z\"}\r\n";

    #[test]
    fn covered_lines_are_read_back_exactly_and_the_encoder_is_reused() {
        let mut writer = KeptWriter::default();
        let kept = writer.compress(LINES.as_bytes()).unwrap();
        assert_eq!(read_kept(&kept).unwrap(), LINES);
        let again = writer.compress(b"{}\n").unwrap();
        assert_eq!(read_kept(&again).unwrap(), "{}\n");
    }

    #[test]
    fn a_damaged_kept_form_is_an_error_not_a_panic() {
        let mut kept = KeptWriter::default().compress(LINES.as_bytes()).unwrap();
        let end = kept.len() - 6;
        kept.truncate(end);
        assert!(read_kept(&kept).is_err());
        assert!(read_kept(&[0xff, 0xff, 0xff]).is_err());
    }
}
