//! Minute summaries of the samples an import copies straight in, computed
//! as they pass and merged into `sample_minutes` at commit: re-reading a
//! million fresh rows to aggregate them costs more than the COPY itself.
//! Merging min/max/count is exact here because these rows are all new
//! (the fast path only takes batches that overlap nothing held).

use super::copy::{CopyWriter, Field};
use super::time::{Ts, EPOCH};
use crate::domain::chart::ChartChannel;
use crate::domain::log_format::{AebState, SampleChannels};
use crate::domain::records::Sample;
use crate::server::store::rows::{minute_stem, AEB_LEVEL, MINUTE_US};
use crate::server::store::{StoreError, VehicleId};
use sqlx::PgConnection;
use std::collections::HashMap;

/// One channel's value as the summaries keep it (`None`: not recorded).
fn summary_value(c: &SampleChannels, channel: ChartChannel) -> Option<f64> {
    let flag = |b: Option<bool>| b.map(|b| f64::from(u8::from(b)));
    match channel {
        ChartChannel::Speed => c.speed_kmh,
        ChartChannel::AccelPedal => c.accel_pedal_pct,
        ChartChannel::BrakePedal => flag(c.brake_pedal),
        ChartChannel::BrakePressure => c.brake_pressure_bar,
        ChartChannel::Steering => c.steering_angle_deg,
        ChartChannel::Abs => flag(c.abs_active),
        ChartChannel::Aeb => c.aeb_state.map(|s| match s {
            AebState::Off => 0.0,
            AebState::Standby => 1.0,
            AebState::Warning => 2.0,
            AebState::Braking => 3.0,
        }),
    }
}

/// Integer columns in `sample_minutes` (on/off and state levels).
fn is_level(channel: ChartChannel) -> bool {
    matches!(
        channel,
        ChartChannel::BrakePedal | ChartChannel::Abs | ChartChannel::Aeb
    )
}

#[derive(Default)]
pub(super) struct Minute {
    n: i64,
    values: [Option<(f64, f64)>; ChartChannel::ALL.len()],
}

/// The summaries of one transaction's new samples.
#[derive(Default)]
pub(super) struct MinuteSummaries {
    minutes: HashMap<(VehicleId, i64), Minute>,
}

impl MinuteSummaries {
    pub fn add(&mut self, vehicle: VehicleId, s: &Sample) {
        let minute = s.t_us.div_euclid(MINUTE_US) * MINUTE_US;
        let m = self.minutes.entry((vehicle, minute)).or_default();
        m.n += 1;
        for (slot, &channel) in m.values.iter_mut().zip(ChartChannel::ALL.iter()) {
            if let Some(v) = summary_value(&s.channels, channel) {
                *slot = Some(match *slot {
                    Some((lo, hi)) => (lo.min(v), hi.max(v)),
                    None => (v, v),
                });
            }
        }
    }

    /// Merges the summaries into `sample_minutes` (inside the import's transaction).
    pub async fn merge_into(self, conn: &mut PgConnection) -> Result<(), StoreError> {
        if self.minutes.is_empty() {
            return Ok(());
        }
        let stems: Vec<&str> = ChartChannel::ALL.iter().map(|&c| minute_stem(c)).collect();
        let columns: String = stems
            .iter()
            .map(|s| format!("{s}_min, {s}_max"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query("CREATE TEMPORARY TABLE import_minutes (LIKE sample_minutes) ON COMMIT DROP")
            .execute(&mut *conn)
            .await?;
        let mut copy = conn
            .copy_in_raw(&format!(
                "COPY import_minutes (vehicle_id, minute, n, {columns}) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        let mut w = CopyWriter::new();
        for ((vehicle, minute), m) in &self.minutes {
            let mut fields = vec![
                Field::Int8(*vehicle),
                Field::Time(Ts(*minute)),
                Field::Int8(m.n),
            ];
            for (value, &channel) in m.values.iter().zip(ChartChannel::ALL.iter()) {
                let (lo, hi) = match value {
                    None => (Field::Null, Field::Null),
                    Some((lo, hi)) if is_level(channel) => {
                        (Field::Int4(*lo as i32), Field::Int4(*hi as i32))
                    }
                    Some((lo, hi)) => (Field::Float8(*lo), Field::Float8(*hi)),
                };
                fields.push(lo);
                fields.push(hi);
            }
            w.row(&fields);
        }
        copy.send(w.finish()).await?;
        copy.finish().await?;
        let merged: String = stems
            .iter()
            .map(|s| {
                format!(
                    "{s}_min = least(sample_minutes.{s}_min, excluded.{s}_min), \
                     {s}_max = greatest(sample_minutes.{s}_max, excluded.{s}_max)"
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO sample_minutes (vehicle_id, minute, n, {columns}) \
             SELECT vehicle_id, minute, n, {columns} FROM import_minutes \
             ON CONFLICT (vehicle_id, minute) DO UPDATE SET n = sample_minutes.n + excluded.n, {merged}"
        ))
        .execute(&mut *conn)
        .await?;
        // Merged: a later merge in the same transaction makes its own.
        sqlx::query("DROP TABLE import_minutes")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// Recomputes the minute summaries that `[lo_us, hi_us]` touches, from the
/// samples, inside the import's transaction. A per-vehicle advisory lock
/// keeps two servers importing the same vehicle from racing on one minute.
pub(super) async fn refresh_minutes(
    conn: &mut PgConnection,
    vehicle: VehicleId,
    lo_us: i64,
    hi_us: i64,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(1, $1::int)")
        .bind(vehicle as i32)
        .execute(&mut *conn)
        .await?;
    let from = Ts(lo_us.div_euclid(MINUTE_US) * MINUTE_US);
    let to = Ts((hi_us.div_euclid(MINUTE_US) + 1) * MINUTE_US);
    sqlx::query(
        "DELETE FROM sample_minutes WHERE vehicle_id = $1 AND minute >= $2 AND minute < $3",
    )
    .bind(vehicle)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    let channels = ChartChannel::ALL
        .iter()
        .map(|&c| {
            let e = match c {
                ChartChannel::Aeb => AEB_LEVEL.to_string(),
                ChartChannel::BrakePedal | ChartChannel::Abs => format!("{}::int", c.as_str()),
                other => other.as_str().to_string(),
            };
            format!("min({e}), max({e})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let column_names = ChartChannel::ALL
        .iter()
        .map(|&c| {
            let stem = minute_stem(c);
            format!("{stem}_min, {stem}_max")
        })
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "INSERT INTO sample_minutes (vehicle_id, minute, n, {column_names}) \
         SELECT vehicle_id, date_bin(interval '1 minute', t, {EPOCH}), count(*), {channels} \
         FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3 \
         GROUP BY 1, 2"
    ))
    .bind(vehicle)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
