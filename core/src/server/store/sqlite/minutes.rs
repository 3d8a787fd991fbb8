//! SQLite: per-minute summaries that keep long charts fast.

use crate::domain::chart::ChartChannel;
use crate::server::store::rows::{minute_stem, AEB_LEVEL, MINUTE_US};
use crate::server::store::{StoreError, VehicleId};
use sqlx::SqliteConnection;

/// The span one statement summarises. SQLite sorts a `GROUP BY` it cannot
/// take from an index in memory (`temp_store = memory`): over a whole
/// import's span, one statement held all of a vehicle's rows in the file
/// (a single vehicle's 217 days raised an import's peak memory by 80 MB).
const SLICE_US: i64 = 3_600_000_000;

/// Recomputes the minute summaries that `[lo_us, hi_us]` touches, from the
/// samples (inside the import's transaction), an hour of data at a time.
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
    let insert = format!(
        "INSERT INTO sample_minutes (vehicle_id, minute, n, {column_names}) \
         SELECT vehicle_id, (t / {MINUTE_US}) * {MINUTE_US}, count(*), {channels} \
         FROM samples WHERE vehicle_id = ? AND t >= ? AND t < ? \
         GROUP BY t / {MINUTE_US}"
    );
    // Slice by slice, from the first sample on, empty stretches skipped.
    let mut cursor = from;
    while let Some(first) = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT min(t) FROM samples WHERE vehicle_id = ? AND t >= ? AND t < ?",
    )
    .bind(vehicle)
    .bind(cursor)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?
    {
        // Minute-aligned, so no minute is split between two slices. Before
        // 1970 SQL's division (towards zero) groups otherwise: the rest of
        // the span then goes in one statement, as it always did.
        let (start, end) = if first >= MINUTE_US {
            let start = first / MINUTE_US * MINUTE_US;
            (start, start.saturating_add(SLICE_US).min(to))
        } else {
            (cursor, to)
        };
        sqlx::query(&insert)
            .bind(vehicle)
            .bind(start)
            .bind(end)
            .execute(&mut *conn)
            .await?;
        cursor = end;
    }
    Ok(())
}
