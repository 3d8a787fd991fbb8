//! The import transaction's connection, with one COPY into `samples` kept
//! open across batches on a task of its own. PostgreSQL stores one batch
//! while the portal parses and encodes the next, instead of each side
//! waiting for the other at every batch. Any other statement first ends the
//! COPY and takes the transaction back; the import avoids that on its hot
//! path (see `import.rs`).

use super::copy::{CopyWriter, Field};
use super::samples::SAMPLE_WRITE_COLUMNS;
use super::time::Ts;
use crate::domain::log_format::{AdasState, AebState, Gear};
use crate::domain::records::Sample;
use crate::server::store::{SealRuns, StoreError, VehicleId};
use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type PgTx = Transaction<'static, Postgres>;

/// Encoded batches waiting for the COPY task: bounds the memory in flight.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Appends one sample row with the seal covering it (and, for the staging
/// table, its ordinal).
pub(super) fn encode_sample(
    w: &mut CopyWriter,
    vehicle: VehicleId,
    s: &Sample,
    seal: Option<i64>,
    ordinal: Option<i32>,
) {
    let c = &s.channels;
    let fields = [
        Field::Int8(vehicle),
        Field::Time(Ts(s.t_us)),
        c.speed_kmh.into(),
        c.accel_pedal_pct.into(),
        c.brake_pedal.into(),
        c.brake_pressure_bar.into(),
        c.steering_angle_deg.into(),
        c.long_accel_mps2.into(),
        c.lat_accel_mps2.into(),
        c.yaw_rate_dps.into(),
        c.gear.map(Gear::as_str).into(),
        c.abs_active.into(),
        c.esc_active.into(),
        c.aeb_state.map(AebState::as_str).into(),
        c.fcw.into(),
        c.adas_state.map(AdasState::as_str).into(),
        c.motor_torque_nm.into(),
        c.odometer_km.into(),
        c.soc_pct.into(),
        c.belt_driver.into(),
        c.lat.into(),
        c.lon.into(),
        c.heading_deg.into(),
        s.extra.as_deref().into(),
        seal.map_or(Field::Null, Field::Int8),
    ];
    match ordinal {
        None => w.row(&fields),
        Some(i) => {
            let mut with_ordinal = fields.to_vec();
            with_ordinal.push(Field::Int4(i));
            w.row(&with_ordinal);
        }
    }
}

enum State {
    Ready(PgTx),
    Copying {
        rows: CopyWriter,
        chunks: mpsc::Sender<Vec<u8>>,
        task: JoinHandle<Result<PgTx, StoreError>>,
    },
    /// A COPY failed and took the transaction with it (rolled back).
    Failed,
}

pub(super) struct ImportConnection {
    state: State,
}

impl ImportConnection {
    pub fn new(tx: PgTx) -> Self {
        ImportConnection {
            state: State::Ready(tx),
        }
    }

    /// The transaction, for any other statement: ends an open COPY first.
    pub async fn tx(&mut self) -> Result<&mut PgTx, StoreError> {
        self.end_copy().await?;
        match &mut self.state {
            State::Ready(tx) => Ok(tx),
            _ => Err(failed()),
        }
    }

    /// The transaction itself, for commit or rollback.
    pub async fn into_tx(mut self) -> Result<PgTx, StoreError> {
        self.end_copy().await?;
        match self.state {
            State::Ready(tx) => Ok(tx),
            _ => Err(failed()),
        }
    }

    /// Rolls back. A COPY that failed took the transaction with it, so its
    /// error (already reported by the call that met it) is not repeated.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        if self.end_copy().await.is_ok() {
            if let State::Ready(tx) = self.state {
                tx.rollback().await?;
            }
        }
        Ok(())
    }

    /// Sends `rows` down the open COPY into `samples`, opening it if needed.
    /// Returns once they are on their way; a failure surfaces here on a
    /// later call, or at the next statement.
    pub async fn copy_samples(
        &mut self,
        rows: &[(VehicleId, Sample)],
        seals: &SealRuns,
    ) -> Result<(), StoreError> {
        if !matches!(self.state, State::Copying { .. }) {
            self.start_copy()?;
        }
        let State::Copying {
            rows: w, chunks, ..
        } = &mut self.state
        else {
            unreachable!("started above")
        };
        for (i, (vehicle, sample)) in rows.iter().enumerate() {
            encode_sample(w, *vehicle, sample, seals.seal_of(i), None);
        }
        if chunks.send(w.take()).await.is_err() {
            // The task stopped: its result says why.
            self.end_copy().await?;
            return Err(failed());
        }
        Ok(())
    }

    fn start_copy(&mut self) -> Result<(), StoreError> {
        let State::Ready(mut tx) = std::mem::replace(&mut self.state, State::Failed) else {
            return Err(failed());
        };
        let (chunks, mut received) = mpsc::channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let task = tokio::spawn(async move {
            let mut copy = tx
                .copy_in_raw(&format!(
                    "COPY samples ({SAMPLE_WRITE_COLUMNS}) FROM STDIN (FORMAT binary)"
                ))
                .await?;
            while let Some(chunk) = received.recv().await {
                copy.send(chunk).await?;
            }
            copy.finish().await?;
            Ok(tx)
        });
        self.state = State::Copying {
            rows: CopyWriter::new(),
            chunks,
            task,
        };
        Ok(())
    }

    async fn end_copy(&mut self) -> Result<(), StoreError> {
        if !matches!(self.state, State::Copying { .. }) {
            return Ok(());
        }
        let State::Copying { rows, chunks, task } =
            std::mem::replace(&mut self.state, State::Failed)
        else {
            unreachable!("checked above")
        };
        // If the task already stopped, this send fails and its result says why.
        let _ = chunks.send(rows.finish()).await;
        drop(chunks);
        let tx = match task.await {
            Ok(result) => result?,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => return Err(StoreError::Engine(format!("import COPY stopped: {join}"))),
        };
        self.state = State::Ready(tx);
        Ok(())
    }
}

fn failed() -> StoreError {
    StoreError::Engine("the import transaction ended after a failed COPY".into())
}
