//! PostgreSQL browsing queries: event pages, drives, chart data, sampling
//! intervals, and the per-minute summaries. Buckets are `date_bin`, gaps are
//! intervals; times leave the database as timestamptz.

use super::time::Ts;
use super::{event_from_row, push_ranges, time, StoreError};
use crate::domain::chart::ChartChannel;
use crate::domain::records::Event;
use crate::server::store::rows::{minute_stem, AEB_LEVEL, MINUTE_US};
use crate::server::store::{
    after_cursor, ChartRequest, ChartRow, DriveSummary, EventFilter, EventPageRequest, PageRequest,
    TimeRange, VehicleId,
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

/// The Unix epoch as a timestamptz: the origin of minute buckets.
const EPOCH: &str = "timestamptz '1970-01-01 00:00:00+00'";

pub(super) async fn event_page(
    pool: &PgPool,
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &EventFilter,
    page: &EventPageRequest,
) -> Result<Vec<Event>, StoreError> {
    // The cursor's time narrows the ranges, so the index scan starts at the
    // cursor (ties at that instant are ordered by id below).
    let ranges = after_cursor(
        ranges,
        PageRequest {
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
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {} FROM events WHERE vehicle_id = ",
        super::EVENT_COLUMNS
    ));
    q.push_bind(vehicle);
    push_ranges(&mut q, "t", &ranges);
    if !filter.types.is_empty() {
        let types: Vec<&str> = filter.types.iter().map(|t| t.as_str()).collect();
        q.push(" AND event_type = ANY(").push_bind(types).push(")");
    }
    if let Some(severity) = filter.severity {
        q.push(" AND severity = ").push_bind(severity.as_str());
    }
    if let Some((t_us, id)) = &page.after {
        q.push(if page.descending {
            " AND (t, event_id) < ("
        } else {
            " AND (t, event_id) > ("
        })
        .push_bind(Ts(*t_us))
        .push(", ")
        .push_bind(id.clone())
        .push(")");
    }
    q.push(if page.descending {
        " ORDER BY t DESC, event_id DESC LIMIT "
    } else {
        " ORDER BY t, event_id LIMIT "
    })
    .push_bind(i64::from(page.limit));
    let rows = q.build().fetch_all(pool).await?;
    rows.iter().map(event_from_row).collect()
}

pub(super) async fn drives(
    pool: &PgPool,
    vehicle: VehicleId,
    range: TimeRange,
    gap_us: i64,
    limit: u32,
) -> Result<Vec<DriveSummary>, StoreError> {
    // A drive starts at the first sample and after every gap longer than `gap_us`.
    let rows = sqlx::query(
        "WITH s AS (
             SELECT t, speed_kmh, odometer_km, t - lag(t) OVER (ORDER BY t) AS gap
             FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3),
         d AS (
             SELECT *, sum(CASE WHEN gap IS NULL OR gap > $4 * interval '1 microsecond' THEN 1 ELSE 0 END)
                 OVER (ORDER BY t ROWS UNBOUNDED PRECEDING) AS drive
             FROM s)
         SELECT min(t), max(t), count(*), max(speed_kmh),
                max(odometer_km) - min(odometer_km),
                sum(speed_kmh * extract(epoch FROM gap)::float8)
                    FILTER (WHERE gap <= $4 * interval '1 microsecond') / 3600.0
         FROM d GROUP BY drive ORDER BY drive LIMIT $5",
    )
    .bind(vehicle)
    .bind(Ts(range.from_us))
    .bind(Ts(range.to_us))
    .bind(gap_us as f64)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let odometer: Option<f64> = r.try_get(4)?;
            let integrated: Option<f64> = r.try_get(5)?;
            Ok(DriveSummary {
                first_us: time(r, 0)?,
                last_us: time(r, 1)?,
                samples: r.try_get::<i64, _>(2)? as u64,
                max_speed_kmh: r.try_get(3)?,
                distance_km: odometer.or(integrated),
            })
        })
        .collect()
}

/// One channel's value in `samples`, as double precision.
fn raw_expression(channel: ChartChannel) -> String {
    match channel {
        ChartChannel::Aeb => format!("({AEB_LEVEL})::float8"),
        ChartChannel::BrakePedal | ChartChannel::Abs => {
            format!("{}::int::float8", channel.as_str())
        }
        other => format!("{}::float8", other.as_str()),
    }
}

pub(super) async fn chart_rows(
    pool: &PgPool,
    vehicle: VehicleId,
    range: TimeRange,
    channels: &[ChartChannel],
    request: ChartRequest,
) -> Result<Vec<ChartRow>, StoreError> {
    let grouped = request.buckets.is_some();
    let (time_column, count) = if request.per_minute {
        ("minute", "n")
    } else {
        ("t", "1")
    };
    let mut columns = Vec::new();
    for &c in channels {
        let (lo, hi) = if request.per_minute {
            let stem = minute_stem(c);
            (format!("{stem}_min::float8"), format!("{stem}_max::float8"))
        } else {
            let e = raw_expression(c);
            (e.clone(), e)
        };
        columns.push(if grouped {
            format!("min({lo}), max({hi})")
        } else {
            format!("{lo}, {hi}")
        });
    }
    let (table, end) = if request.per_minute {
        ("sample_minutes", "minute + interval '1 minute' <= $3")
    } else {
        ("samples", "t < $3")
    };
    let (key, n, tail) = match request.buckets {
        // Buckets start at `origin + k·width`; `time >= origin` holds.
        Some((origin, width)) => (
            format!(
                "date_bin({width} * interval '1 microsecond', {time_column}, {EPOCH} + {} * interval '1 microsecond')",
                origin
            ),
            format!("sum({count})::bigint"),
            " GROUP BY 1",
        ),
        None => (time_column.to_string(), format!("{count}::bigint"), ""),
    };
    let sql = format!(
        "SELECT {key}, {n}, {} FROM {table} WHERE vehicle_id = $1 AND {time_column} >= $2 AND {end}{tail} \
         ORDER BY 1 LIMIT $4",
        columns.join(", ")
    );
    let rows = sqlx::query(&sql)
        .bind(vehicle)
        .bind(Ts(range.from_us))
        .bind(Ts(range.to_us))
        .bind(i64::from(request.limit))
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
                t_us: time(r, 0)?,
                n: r.try_get::<i64, _>(1)? as u64,
                values,
            })
        })
        .collect()
}

pub(super) async fn sample_intervals(
    pool: &PgPool,
    vehicle: VehicleId,
    range: TimeRange,
    max_samples: u32,
) -> Result<Vec<(i64, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT (extract(epoch FROM d) * 1000000)::bigint, count(*) FROM (
             SELECT t - lag(t) OVER (ORDER BY t) AS d FROM (
                 SELECT t FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3
                 ORDER BY t LIMIT $4) AS firsts) AS gaps
         WHERE d IS NOT NULL GROUP BY d ORDER BY count(*) DESC, d LIMIT 8",
    )
    .bind(vehicle)
    .bind(Ts(range.from_us))
    .bind(Ts(range.to_us))
    .bind(i64::from(max_samples))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(d, n)| (d, n as u64)).collect())
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
