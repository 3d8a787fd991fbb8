//! SQLite: per-minute summaries that keep long charts fast.

use crate::domain::chart::ChartChannel;
use crate::server::store::rows::{minute_stem, AEB_LEVEL, MINUTE_US};
use crate::server::store::{StoreError, VehicleId};
use sqlx::SqliteConnection;

/// Recomputes the minute summaries that `[lo_us, hi_us]` touches, from the
/// samples (inside the import's transaction).
pub(super) async fn refresh_minutes(
    conn: &mut SqliteConnection,
    vehicle: VehicleId,
    lo_us: i64,
    hi_us: i64,
) -> Result<(), StoreError> {
    let from = lo_us.div_euclid(MINUTE_US) * MINUTE_US;
    let to = (hi_us.div_euclid(MINUTE_US) + 1) * MINUTE_US;
    sqlx::query("DELETE FROM sample_minutes WHERE vehicle_id = ? AND minute >= ? AND minute < ?")
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
         SELECT vehicle_id, (t / {MINUTE_US}) * {MINUTE_US}, count(*), {channels} \
         FROM samples WHERE vehicle_id = ? AND t >= ? AND t < ? \
         GROUP BY t / {MINUTE_US}"
    ))
    .bind(vehicle)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
