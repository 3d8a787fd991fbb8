//! The demo's sealed logs (format 1.1): a demo vehicle CA derived from the
//! seed, a certified key per sealing vehicle, positions as their own records
//! (1 Hz, with nonces) and a seal every minute or so of driving. One vehicle
//! loses two batches on the way, so missing batches show up as they would.

use crate::domain::sealed::VehicleKey;
use crate::server::seal::car::{certify, nonce, CarSealer};
use crate::server::seal::VehicleCa;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::io::Write;

/// The demo CA's id, as listed in its trust-anchor file.
pub const DEMO_CA_ID: &str = "demo-ca";

/// A car seals once a batch spans this long (µs).
const SEAL_EVERY_US: i64 = 60_000_000;

/// The demo CA's key: derived from the seed, so a demo file and the portal
/// that trusts it agree without sharing anything but the seed.
fn demo_ca_key(seed: u64) -> SigningKey {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EA1_CA00);
    SigningKey::from_bytes(&rng.gen())
}

/// The demo CA as a trust anchor (`--vehicle-ca` file entry).
pub fn demo_ca(seed: u64) -> VehicleCa {
    VehicleCa {
        id: DEMO_CA_ID.into(),
        public: BASE64.encode(demo_ca_key(seed).verifying_key().as_bytes()),
    }
}

/// How much the sealing wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealCounts {
    pub positions: u64,
    pub seals: u64,
    /// Seals made but not written (missing batches), and what they covered.
    pub lost: u64,
    pub lost_records: [u64; 4],
}

/// The kinds of covered lines, to count what a lost batch took with it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Covered {
    Sample = 0,
    Position = 1,
    Event = 2,
    Edr = 3,
}

/// Writes one vehicle's covered lines, sealing them in batches.
pub(super) struct SealingWriter {
    car: CarSealer,
    nonces: ChaCha8Rng,
    /// The open batch's lines, written when sealed (or dropped when lost).
    batch: Vec<u8>,
    batch_start_us: Option<i64>,
    batch_kinds: [u64; 4],
    /// Seals (by seq) that never reach the portal.
    lose: Vec<u64>,
    made: u64,
    pub counts: SealCounts,
}

#[derive(Serialize)]
struct PositionOut<'a> {
    kind: &'a str,
    vin: &'a str,
    t: &'a str,
    lat: f64,
    lon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    heading_deg: Option<f64>,
    nonce: String,
}

impl SealingWriter {
    /// The vehicle's key, certified by the demo CA; `lose` lists the seals
    /// (by seq) that go missing.
    pub fn new(seed: u64, index: u32, vin: &str, lose: Vec<u64>) -> (Self, VehicleKey) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(7_919).wrapping_add(index as u64));
        let key = SigningKey::from_bytes(&rng.gen());
        let certified = certify(
            &demo_ca_key(seed),
            DEMO_CA_ID,
            vin,
            "k1",
            &key,
            "2024-01-01T00:00:00Z",
        );
        let writer = SealingWriter {
            car: CarSealer::new(vin, "k1", key),
            nonces: rng,
            batch: Vec::new(),
            batch_start_us: None,
            batch_kinds: [0; 4],
            lose,
            made: 0,
            counts: SealCounts::default(),
        };
        (writer, certified)
    }

    /// Adds a covered line; `t` is its time as written, `t_us` the same in µs.
    pub fn cover<T: Serialize>(
        &mut self,
        kind: Covered,
        value: &T,
        (t, t_us): (&str, i64),
    ) -> std::io::Result<()> {
        let line = serde_json::to_string(value)?;
        self.batch_kinds[kind as usize] += 1;
        self.car.cover(&line, t);
        self.batch.extend_from_slice(line.as_bytes());
        self.batch.push(b'\n');
        self.batch_start_us.get_or_insert(t_us);
        Ok(())
    }

    /// Seals once the open batch spans a minute (called between instants,
    /// so a sample and its position stay in one batch).
    pub fn seal_if_due(&mut self, out: &mut dyn Write, t_us: i64) -> std::io::Result<()> {
        match self.batch_start_us {
            Some(start) if t_us - start >= SEAL_EVERY_US => self.seal(out),
            _ => Ok(()),
        }
    }

    /// A position record at `t`.
    pub fn position(
        &mut self,
        vin: &str,
        t: &str,
        t_us: i64,
        (lat, lon, heading_deg): (f64, f64, Option<f64>),
    ) -> std::io::Result<()> {
        let position = PositionOut {
            kind: "position",
            vin,
            t,
            lat,
            lon,
            heading_deg,
            nonce: nonce(self.nonces.gen()),
        };
        self.counts.positions += 1;
        self.cover(Covered::Position, &position, (t, t_us))
    }

    /// Seals the open batch: writes its lines and the seal, unless the
    /// batch is one that goes missing.
    pub fn seal(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let Some(seal) = self.car.seal() else {
            return Ok(());
        };
        self.made += 1;
        self.batch_start_us = None;
        let kinds = std::mem::take(&mut self.batch_kinds);
        if self.lose.contains(&self.made) {
            self.counts.lost += 1;
            for (lost, n) in self.counts.lost_records.iter_mut().zip(kinds) {
                *lost += n;
            }
            self.batch.clear();
            return Ok(());
        }
        out.write_all(&self.batch)?;
        self.batch.clear();
        serde_json::to_writer(&mut *out, &seal)?;
        out.write_all(b"\n")?;
        self.counts.seals += 1;
        Ok(())
    }
}
