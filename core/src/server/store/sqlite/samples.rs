//! SQLite: telemetry samples: pages, counts, drives and chart data.

use super::binds::{bind, bulk_sql};
use super::bulk::Bind;
use super::inline::InlineRow;
use super::SqliteStore;
use crate::domain::chart::ChartChannel;
use crate::domain::log_format::{AdasState, AebState, Gear, SampleChannels};
use crate::domain::records::Sample;
use crate::server::store::rows::{minute_stem, parse_wire, AEB_LEVEL, MINUTE_US};
use crate::server::store::samples::track_bucket_us;
use crate::server::store::sql;
use crate::server::store::{
    ChartRequest, ChartRow, DriveSummary, PageRequest, SampleFilter, SampleStore, StoreError,
    TimeRange, TrackPoint, VehicleId,
};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

pub(super) const SAMPLE_COLUMNS: &str = "vehicle_id, t, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra";

/// Reads a sample from a row selected with `SAMPLE_COLUMNS` (vehicle_id first).
/// A row of `SAMPLE_COLUMNS` read inline, by position: samples are the hot
/// path (a page, an event's window), and a name lookup per value shows.
fn positional_sample(row: &InlineRow<'_>) -> Result<Sample, StoreError> {
    let real = |i| row.real_at(i);
    let flag = |i| row.int_at(i).map(|v| v != 0);
    Ok(Sample {
        // The key column: NULL would be a damaged file, never the epoch.
        t_us: row
            .int_at(1)
            .ok_or_else(|| StoreError::Corrupt("a stored sample has no time (t is NULL)".into()))?,
        channels: SampleChannels {
            speed_kmh: real(2),
            accel_pedal_pct: real(3),
            brake_pedal: flag(4),
            brake_pressure_bar: real(5),
            steering_angle_deg: real(6),
            long_accel_mps2: real(7),
            lat_accel_mps2: real(8),
            yaw_rate_dps: real(9),
            gear: parse_wire(row.text_at(10), Gear::parse, "gear")?,
            abs_active: flag(11),
            esc_active: flag(12),
            aeb_state: parse_wire(row.text_at(13), AebState::parse, "aeb_state")?,
            fcw: flag(14),
            adas_state: parse_wire(row.text_at(15), AdasState::parse, "adas_state")?,
            motor_torque_nm: real(16),
            odometer_km: real(17),
            soc_pct: real(18),
            belt_driver: flag(19),
            lat: real(20),
            lon: real(21),
            heading_deg: real(22),
        },
        extra: row.text_at(23),
    })
}

pub(super) fn sample_from_row(row: &SqliteRow) -> Result<Sample, StoreError> {
    Ok(Sample {
        t_us: row.try_get(1)?,
        channels: SampleChannels {
            speed_kmh: row.try_get(2)?,
            accel_pedal_pct: row.try_get(3)?,
            brake_pedal: row.try_get(4)?,
            brake_pressure_bar: row.try_get(5)?,
            steering_angle_deg: row.try_get(6)?,
            long_accel_mps2: row.try_get(7)?,
            lat_accel_mps2: row.try_get(8)?,
            yaw_rate_dps: row.try_get(9)?,
            gear: parse_wire(row.try_get(10)?, Gear::parse, "gear")?,
            abs_active: row.try_get(11)?,
            esc_active: row.try_get(12)?,
            aeb_state: parse_wire(row.try_get(13)?, AebState::parse, "aeb_state")?,
            fcw: row.try_get(14)?,
            adas_state: parse_wire(row.try_get(15)?, AdasState::parse, "adas_state")?,
            motor_torque_nm: row.try_get(16)?,
            odometer_km: row.try_get(17)?,
            soc_pct: row.try_get(18)?,
            belt_driver: row.try_get(19)?,
            lat: row.try_get(20)?,
            lon: row.try_get(21)?,
            heading_deg: row.try_get(22)?,
        },
        extra: row.try_get(23)?,
    })
}

async fn drives(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    gap_us: i64,
    limit: u32,
) -> Result<Vec<DriveSummary>, StoreError> {
    // A drive starts at the first sample and after every gap longer than `gap_us`.
    let rows = sqlx::query(
        "WITH s AS (
             SELECT t, speed_kmh, odometer_km, t - lag(t) OVER (ORDER BY t) AS gap
             FROM samples WHERE vehicle_id = ?1 AND t >= ?2 AND t < ?3),
         d AS (
             SELECT *, sum(CASE WHEN gap IS NULL OR gap > ?4 THEN 1 ELSE 0 END)
                 OVER (ORDER BY t ROWS UNBOUNDED PRECEDING) AS drive
             FROM s)
         SELECT min(t), max(t), count(*), max(speed_kmh),
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

async fn track(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    max_points: u32,
) -> Result<Vec<TrackPoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT min(t), avg(lat), avg(lon) FROM samples \
         WHERE vehicle_id = ?1 AND t >= ?2 AND t < ?3 AND lat IS NOT NULL AND lon IS NOT NULL \
         GROUP BY (t - ?2) / ?4 ORDER BY 1",
    )
    .bind(vehicle)
    .bind(range.from_us)
    .bind(range.to_us)
    .bind(track_bucket_us(range, max_points))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TrackPoint {
                t_us: r.try_get(0)?,
                lat: r.try_get(1)?,
                lon: r.try_get(2)?,
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

async fn chart_rows(
    pool: &SqlitePool,
    inline: &super::inline::InlineReader,
    vehicle: VehicleId,
    range: TimeRange,
    channels: &[ChartChannel],
    request: ChartRequest,
) -> Result<Vec<ChartRow>, StoreError> {
    let grouped = request.buckets.is_some();
    let (time, count, mut columns) = if request.per_minute {
        ("minute", "n", Vec::new())
    } else {
        ("t", "1", Vec::new())
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
        ("sample_minutes", format!("minute + {MINUTE_US} <= ?"))
    } else {
        ("samples", "t < ?".to_string())
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
    if !request.per_minute && range.to_us.saturating_sub(range.from_us) <= INLINE_CHART_SPAN_US {
        // An event's window or a zoomed chart: a few hundred samples, inline.
        let binds = [
            Bind::Int(vehicle),
            Bind::Int(range.from_us),
            Bind::Int(range.to_us),
            Bind::Int(request.limit.into()),
        ];
        return inline.rows(&sql, &binds, |r| {
            Ok(ChartRow {
                t_us: r.int_at(0).unwrap_or_default(),
                n: r.int_at(1).unwrap_or_default().max(0) as u64,
                values: (0..channels.len())
                    .map(|i| r.real_at(2 + 2 * i).zip(r.real_at(3 + 2 * i)))
                    .collect(),
            })
        });
    }
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

/// Charts of at most this span read their samples inline (`inline.rs`);
/// longer ones stay off the async threads.
const INLINE_CHART_SPAN_US: i64 = 3_600_000_000;

async fn sample_intervals(
    pool: &SqlitePool,
    vehicle: VehicleId,
    range: TimeRange,
    max_samples: u32,
) -> Result<Vec<(i64, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT d, count(*) FROM (
             SELECT t - lag(t) OVER (ORDER BY t) AS d FROM (
                 SELECT t FROM samples WHERE vehicle_id = ? AND t >= ? AND t < ?
                 ORDER BY t LIMIT ?))
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

#[async_trait]
impl SampleStore for SqliteStore {
    async fn samples(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        limit: u32,
    ) -> Result<Vec<Sample>, StoreError> {
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = ? AND t >= ? AND t < ? \
             ORDER BY t LIMIT ?"
        );
        let binds = [
            Bind::Int(vehicle),
            Bind::Int(range.from_us),
            Bind::Int(range.to_us),
            Bind::Int(limit.into()),
        ];
        // A bounded read on the key (an event's window): inline.
        self.inline.rows(&sql, &binds, positional_sample)
    }

    async fn sample_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
        page: PageRequest,
    ) -> Result<Vec<Sample>, StoreError> {
        // The cursor narrows the ranges themselves: with a second lower bound
        // (`t_us > ?`) SQLite seeks to the range's start and every page would
        // re-read all the pages before it.
        let ranges = crate::server::store::after_cursor(ranges, page);
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let (conditions, mut binds) = bulk_sql(sql::sample_where(vehicle, &ranges, filter));
        let order = if page.descending { "DESC" } else { "ASC" };
        let sql =
            format!("SELECT {SAMPLE_COLUMNS} FROM samples{conditions} ORDER BY t {order} LIMIT ?");
        binds.push(Bind::Int(page.limit.into()));
        // A bounded page on the key: inline (`inline.rs`).
        self.inline.rows(&sql, &binds, positional_sample)
    }

    async fn sample_count(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
    ) -> Result<u64, StoreError> {
        if ranges.is_empty() {
            return Ok(0);
        }
        let mut q = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM samples");
        sql::sample_where(vehicle, ranges, filter).push_into(&mut q, bind);
        let n: i64 = q.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

    async fn drives(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        gap_us: i64,
        limit: u32,
    ) -> Result<Vec<DriveSummary>, StoreError> {
        drives(&self.pool, vehicle, range, gap_us, limit).await
    }

    async fn chart_rows(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        channels: &[ChartChannel],
        request: ChartRequest,
    ) -> Result<Vec<ChartRow>, StoreError> {
        chart_rows(&self.pool, &self.inline, vehicle, range, channels, request).await
    }

    async fn track(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_points: u32,
    ) -> Result<Vec<TrackPoint>, StoreError> {
        track(&self.pool, vehicle, range, max_points).await
    }

    async fn sample_intervals(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_samples: u32,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        sample_intervals(&self.pool, vehicle, range, max_samples).await
    }
}
