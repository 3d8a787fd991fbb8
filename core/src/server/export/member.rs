//! A bundle member deflated while it is written: the format's bytes go to a
//! thread of their own that compresses them into a one-member zip, so
//! formatting and compression run side by side (and two members on two
//! cores). The bundle then takes each member's compressed bytes as they are
//! ([`zip::ZipWriter::merge_archive`]): nothing is compressed twice.

use super::bundle::zip_options;
use crate::server::error::ServiceError;
use sha2::{Digest, Sha256};
use std::io::Write;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight to the compressing thread: enough to keep it busy,
/// few enough that memory stays flat when it falls behind.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The writing end: hashes and counts the uncompressed bytes (what the
/// manifest states) and hands them to the compressing thread.
pub(crate) struct Deflating {
    chunks: Option<mpsc::Sender<Vec<u8>>>,
    thread: JoinHandle<Result<(), ServiceError>>,
    hash: Sha256,
    size: u64,
}

fn zipping(e: &dyn std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("zipping: {e}"))
}

impl Deflating {
    /// Starts compressing the member `name` into `into` (a new, empty file).
    pub fn start(name: &'static str, into: std::fs::File) -> Deflating {
        let (chunks, mut received) = mpsc::channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let thread = tokio::task::spawn_blocking(move || {
            let mut zip = zip::ZipWriter::new(into);
            zip.start_file(name, zip_options())
                .map_err(|e| zipping(&e))?;
            while let Some(chunk) = received.blocking_recv() {
                zip.write_all(&chunk).map_err(|e| zipping(&e))?;
            }
            zip.finish()
                .map_err(|e| zipping(&e))?
                .flush()
                .map_err(|e| zipping(&e))
        });
        Deflating {
            chunks: Some(chunks),
            thread,
            hash: Sha256::new(),
            size: 0,
        }
    }

    pub async fn write(&mut self, chunk: Vec<u8>) -> Result<(), ServiceError> {
        self.hash.update(&chunk);
        self.size += chunk.len() as u64;
        let sent = match &self.chunks {
            Some(chunks) => chunks.send(chunk).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The thread stopped early: its error says why.
        self.chunks = None;
        match (&mut self.thread).await {
            Ok(Err(e)) => Err(e),
            _ => Err(ServiceError::Internal(
                "zipping: the compressing thread stopped".into(),
            )),
        }
    }

    /// Waits for the member to be complete; its (SHA-256 hex, size).
    pub async fn finish(mut self) -> Result<(String, u64), ServiceError> {
        self.chunks = None;
        self.thread.await.map_err(|e| zipping(&e))??;
        Ok((hex::encode(self.hash.finalize()), self.size))
    }
}
