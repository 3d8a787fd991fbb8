//! PostgreSQL: telemetry samples: pages, counts, drives and chart data.

use super::binds::bind;
use super::time::{time, Ts, EPOCH};
use super::PgStore;
use crate::domain::chart::ChartChannel;
use crate::domain::log_format::{AdasState, AebState, Gear, SampleChannels};
use crate::domain::records::Sample;
use crate::server::store::rows::{minute_stem, parse_wire, AEB_LEVEL};
use crate::server::store::samples::track_bucket_us;
use crate::server::store::sql;
use crate::server::store::{
    ChartRequest, ChartRow, DriveSummary, PageRequest, SampleFilter, SampleStore, StoreError,
    TimeRange, TrackPoint, VehicleId,
};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

pub(crate) const SAMPLE_COLUMNS: &str = "vehicle_id, t, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra";

/// What an import writes of a sample: its columns and the seal covering it.
pub(crate) const SAMPLE_WRITE_COLUMNS: &str =
    "vehicle_id, t, speed_kmh, accel_pedal_pct, brake_pedal, \
    brake_pressure_bar, steering_angle_deg, long_accel_mps2, lat_accel_mps2, yaw_rate_dps, gear, \
    abs_active, esc_active, aeb_state, fcw, adas_state, motor_torque_nm, odometer_km, soc_pct, \
    belt_driver, lat, lon, heading_deg, extra, seal_id";

/// Reads a sample from a row selected with `SAMPLE_COLUMNS` (vehicle_id first).
pub(crate) fn sample_from_row(row: &PgRow) -> Result<Sample, StoreError> {
    Ok(Sample {
        t_us: time(row, 1)?,
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

async fn track(
    pool: &PgPool,
    vehicle: VehicleId,
    range: TimeRange,
    max_points: u32,
) -> Result<Vec<TrackPoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT min(t), avg(lat), avg(lon) FROM samples \
         WHERE vehicle_id = $1 AND t >= $2 AND t < $3 AND lat IS NOT NULL AND lon IS NOT NULL \
         GROUP BY date_bin($4 * interval '1 microsecond', t, $2) ORDER BY 1",
    )
    .bind(vehicle)
    .bind(Ts(range.from_us))
    .bind(Ts(range.to_us))
    .bind(track_bucket_us(range, max_points) as f64)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TrackPoint {
                t_us: time(r, 0)?,
                lat: r.try_get(1)?,
                lon: r.try_get(2)?,
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

async fn chart_rows(
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

async fn sample_intervals(
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

#[async_trait]
impl SampleStore for PgStore {
    async fn samples(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        limit: u32,
    ) -> Result<Vec<Sample>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t < $3 \
             ORDER BY t LIMIT $4"
        ))
        .bind(vehicle)
        .bind(Ts(range.from_us))
        .bind(Ts(range.to_us))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn sample_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
        page: PageRequest,
    ) -> Result<Vec<Sample>, StoreError> {
        // The cursor narrows the ranges themselves: each page's index scan
        // starts where the last one ended.
        let ranges = crate::server::store::after_cursor(ranges, page);
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        super::copy_out::sample_page(&self.pool, vehicle, &ranges, filter, page).await
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
        let mut q = QueryBuilder::<Postgres>::new("SELECT count(*) FROM samples");
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
        chart_rows(&self.pool, vehicle, range, channels, request).await
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
