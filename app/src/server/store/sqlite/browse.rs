//! Browsing queries: event pages, drives, chart data, sampling intervals,
//! and the per-minute summaries that keep long charts fast.

use super::{event_from_row, StoreError};
use crate::domain::chart::ChartChannel;
use crate::domain::records::Event;
use crate::server::store::rows::{minute_stem, AEB_LEVEL, MINUTE_US};
use crate::server::store::{
    ChartRequest, ChartRow, DriveSummary, EventFilter, EventPageRequest, TimeRange, VehicleId,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

/// ` AND (t >= a AND t < b OR …)` for the permitted ranges.
pub(super) fn push_ranges(q: &mut QueryBuilder<'_, Sqlite>, column: &str, ranges: &[TimeRange]) {
    q.push(" AND (");
    for (i, r) in ranges.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(format!("({column} >= "))
            .push_bind(r.from_us)
            .push(format!(" AND {column} < "))
            .push_bind(r.to_us)
            .push(")");
    }
    q.push(")");
}

pub(super) async fn event_page(
    pool: &SqlitePool,
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &EventFilter,
    page: &EventPageRequest,
) -> Result<Vec<Event>, StoreError> {
    // As for samples: the cursor's time narrows the ranges, so the index
    // seek starts at the cursor (ties at that instant are sorted by id below).
    let ranges = crate::server::store::after_cursor(
        ranges,
        crate::server::store::PageRequest {
            descending: page.descending,
            after_us: page.after.as_ref().map(|(t_us, _)| {
                if page.descending {
                    t_us.saturating_add(1)
                } else {
                    t_us.saturating_sub(1)
                }
            }),
            limit: page.limit,
        },
    );
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM events WHERE vehicle_id = ",
        super::EVENT_COLUMNS
    ));
    q.push_bind(vehicle);
    push_ranges(&mut q, "t_us", &ranges);
    if !filter.types.is_empty() {
        q.push(" AND event_type IN (");
        let mut list = q.separated(", ");
        for t in &filter.types {
            list.push_bind(t.as_str());
        }
        q.push(")");
    }
    if let Some(severity) = filter.severity {
        q.push(" AND severity = ").push_bind(severity.as_str());
    }
    if let Some((t_us, id)) = &page.after {
        q.push(if page.descending {
            " AND (t_us, event_id) < ("
        } else {
            " AND (t_us, event_id) > ("
        })
        .push_bind(*t_us)
        .push(", ")
        .push_bind(id.clone())
        .push(")");
    }
    q.push(if page.descending {
        " ORDER BY t_us DESC, event_id DESC LIMIT "
    } else {
        " ORDER BY t_us, event_id LIMIT "
    })
    .push_bind(page.limit);
    let rows = q.build().fetch_all(pool).await?;
    rows.iter().map(event_from_row).collect()
}

pub(super) async fn drives(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    gap_us: i64,
    limit: u32,
) -> Result<Vec<DriveSummary>, StoreError> {
    // A drive starts at the first sample and after every gap longer than `gap_us`.
    let rows = sqlx::query(
        "WITH s AS (
             SELECT t_us, speed_kmh, odometer_km, t_us - lag(t_us) OVER (ORDER BY t_us) AS gap
             FROM samples WHERE vehicle_id = ?1 AND t_us >= ?2 AND t_us < ?3),
         d AS (
             SELECT *, sum(CASE WHEN gap IS NULL OR gap > ?4 THEN 1 ELSE 0 END)
                 OVER (ORDER BY t_us ROWS UNBOUNDED PRECEDING) AS drive
             FROM s)
         SELECT min(t_us), max(t_us), count(*), max(speed_kmh),
                max(odometer_km) - min(odometer_km),
                sum(CASE WHEN gap <= ?4 THEN speed_kmh * gap END) / 3600000000.0
         FROM d GROUP BY drive ORDER BY drive LIMIT ?5",
    )
    .bind(vehicle)
    .bind(range.from_us)
    .bind(range.to_us)
    .bind(gap_us)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let odometer: Option<f64> = r.try_get(4)?;
            let integrated: Option<f64> = r.try_get(5)?;
            Ok(DriveSummary {
                first_us: r.try_get(0)?,
                last_us: r.try_get(1)?,
                samples: r.try_get::<i64, _>(2)? as u64,
                max_speed_kmh: r.try_get(3)?,
                distance_km: odometer.or(integrated),
            })
        })
        .collect()
}

/// The SQL for one channel's value in `samples`, as REAL.
fn raw_expression(channel: ChartChannel) -> String {
    match channel {
        ChartChannel::Aeb => format!("CAST({AEB_LEVEL} AS REAL)"),
        other => format!("CAST({} AS REAL)", other.as_str()),
    }
}

pub(super) async fn chart_rows(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    channels: &[ChartChannel],
    request: ChartRequest,
) -> Result<Vec<ChartRow>, StoreError> {
    let grouped = request.buckets.is_some();
    let (time, count, mut columns) = if request.per_minute {
        ("minute_us", "n", Vec::new())
    } else {
        ("t_us", "1", Vec::new())
    };
    for &c in channels {
        let (lo, hi) = if request.per_minute {
            let stem = minute_stem(c);
            (format!("{stem}_min"), format!("{stem}_max"))
        } else {
            let e = raw_expression(c);
            (e.clone(), e)
        };
        columns.push(if grouped {
            format!("CAST(min({lo}) AS REAL), CAST(max({hi}) AS REAL)")
        } else {
            format!("CAST({lo} AS REAL), CAST({hi} AS REAL)")
        });
    }
    let (table, end) = if request.per_minute {
        ("sample_minutes", format!("minute_us + {MINUTE_US} <= ?"))
    } else {
        ("samples", "t_us < ?".to_string())
    };
    let (key, n, tail) = match request.buckets {
        // Buckets start at `origin + k·width`; `time >= origin` holds.
        Some((origin, width)) => (
            format!("{origin} + (({time} - {origin}) / {width}) * {width}"),
            format!("sum({count})"),
            " GROUP BY 1".to_string(),
        ),
        None => (time.to_string(), count.to_string(), String::new()),
    };
    let sql = format!(
        "SELECT {key}, {n}, {} FROM {table} WHERE vehicle_id = ? AND {time} >= ? AND {end}{tail} \
         ORDER BY 1 LIMIT ?",
        columns.join(", ")
    );
    let rows = sqlx::query(&sql)
        .bind(vehicle)
        .bind(range.from_us)
        .bind(range.to_us)
        .bind(request.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let mut values = Vec::with_capacity(channels.len());
            for i in 0..channels.len() {
                let lo: Option<f64> = r.try_get(2 + 2 * i)?;
                let hi: Option<f64> = r.try_get(3 + 2 * i)?;
                values.push(lo.zip(hi));
            }
            Ok(ChartRow {
                t_us: r.try_get(0)?,
                n: r.try_get::<i64, _>(1)? as u64,
                values,
            })
        })
        .collect()
}

pub(super) async fn sample_intervals(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    max_samples: u32,
) -> Result<Vec<(i64, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT d, count(*) FROM (
             SELECT t_us - lag(t_us) OVER (ORDER BY t_us) AS d FROM (
                 SELECT t_us FROM samples WHERE vehicle_id = ? AND t_us >= ? AND t_us < ?
                 ORDER BY t_us LIMIT ?))
         WHERE d IS NOT NULL GROUP BY d ORDER BY count(*) DESC, d LIMIT 8",
    )
    .bind(vehicle)
    .bind(range.from_us)
    .bind(range.to_us)
    .bind(max_samples)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(d, n)| (d, n as u64)).collect())
}

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
    sqlx::query(
        "DELETE FROM sample_minutes WHERE vehicle_id = ? AND minute_us >= ? AND minute_us < ?",
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
        "INSERT INTO sample_minutes (vehicle_id, minute_us, n, {column_names}) \
         SELECT vehicle_id, (t_us / {MINUTE_US}) * {MINUTE_US}, count(*), {channels} \
         FROM samples WHERE vehicle_id = ? AND t_us >= ? AND t_us < ? \
         GROUP BY t_us / {MINUTE_US}"
    ))
    .bind(vehicle)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
