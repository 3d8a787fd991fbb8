//! Telemetry samples: pages, counts, drives and chart data.

use super::{StoreError, TimeRange, VehicleId};
use crate::domain::chart::ChartChannel;
use crate::domain::records::Sample;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Value filters on telemetry (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleFilter {
    pub min_speed_kmh: Option<f64>,
    pub max_speed_kmh: Option<f64>,
    pub brake_pedal: Option<bool>,
    pub abs_active: Option<bool>,
    pub aeb_state: Option<crate::domain::log_format::AebState>,
    pub gear: Option<crate::domain::log_format::Gear>,
}

/// One keyset page request: samples strictly after (or, descending, before) `after_us`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRequest {
    pub descending: bool,
    pub after_us: Option<i64>,
    pub limit: u32,
}

/// The parts of `ranges` a keyset page still has to read: after (or,
/// descending, before) the cursor.
pub(crate) fn after_cursor(ranges: &[TimeRange], page: PageRequest) -> Vec<TimeRange> {
    ranges
        .iter()
        .filter_map(|r| {
            let r = match page.after_us {
                None => *r,
                Some(after) if page.descending => TimeRange {
                    from_us: r.from_us,
                    to_us: r.to_us.min(after),
                },
                Some(after) => TimeRange {
                    from_us: r.from_us.max(after.saturating_add(1)),
                    to_us: r.to_us,
                },
            };
            (r.from_us < r.to_us).then_some(r)
        })
        .collect()
}

/// A drive: samples with no gap longer than the split threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveSummary {
    /// First and last sample.
    pub first_us: i64,
    pub last_us: i64,
    pub samples: u64,
    pub max_speed_kmh: Option<f64>,
    /// From the odometer where recorded, else integrated from speed.
    pub distance_km: Option<f64>,
}

/// What `chart_rows` reads and how it folds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartRequest {
    /// Read the per-minute summaries of whole minutes (the caller aligns the
    /// range), not the samples.
    pub per_minute: bool,
    /// Fold rows into buckets `(origin_us, width_us)` in the database.
    pub buckets: Option<(i64, i64)>,
    /// At most this many rows.
    pub limit: u32,
}

/// One row of chart data: a sample (`n` = 1), a minute summary or a bucket, with the
/// (min, max) of each requested channel in order (`None`: not recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    pub t_us: i64,
    pub n: u64,
    pub values: Vec<Option<(f64, f64)>>,
}

/// Where the car was at one instant (the average of a bucket's positions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    pub t_us: i64,
    pub lat: f64,
    pub lon: f64,
}

/// The bucket width that splits `range` into at most `max_points` buckets.
pub(crate) fn track_bucket_us(range: TimeRange, max_points: u32) -> i64 {
    (range.to_us.saturating_sub(range.from_us) / i64::from(max_points.max(1))).max(1)
}

/// Telemetry samples: pages, counts, drives and chart data.
#[async_trait]
pub trait SampleStore: Send + Sync {
    /// Samples in time order within `range`, at most `limit`.
    async fn samples(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        limit: u32,
    ) -> Result<Vec<Sample>, StoreError>;

    /// One page of samples within any of `ranges`, filtered, in time order.
    /// Keyset pagination: a page never shifts when data is imported meanwhile.
    async fn sample_page(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
        page: PageRequest,
    ) -> Result<Vec<Sample>, StoreError>;

    /// How many samples `sample_page` would walk through in all.
    async fn sample_count(
        &self,
        vehicle: VehicleId,
        ranges: &[TimeRange],
        filter: &SampleFilter,
    ) -> Result<u64, StoreError>;

    /// The first `limit` drives starting within `range`, split where samples
    /// are more than `gap_us` apart.
    async fn drives(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        gap_us: i64,
        limit: u32,
    ) -> Result<Vec<DriveSummary>, StoreError>;

    /// Chart data within `range`, in time order.
    async fn chart_rows(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        channels: &[ChartChannel],
        request: ChartRequest,
    ) -> Result<Vec<ChartRow>, StoreError>;

    /// Where the car was within `range` (a bounded range): the samples that
    /// carry a position, averaged over at most `max_points` equal spans of
    /// time, in time order.
    async fn track(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_points: u32,
    ) -> Result<Vec<TrackPoint>, StoreError>;

    /// Intervals between consecutive samples among the first `max_samples`
    /// of `range`: (interval in µs, how often), most frequent first.
    async fn sample_intervals(
        &self,
        vehicle: VehicleId,
        range: TimeRange,
        max_samples: u32,
    ) -> Result<Vec<(i64, u64)>, StoreError>;
}
