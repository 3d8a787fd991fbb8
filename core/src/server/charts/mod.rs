//! Chart data, downsampled on the server: at most `MAX_BUCKETS` (min, max)
//! buckets per series. Whole minutes come from the per-minute summaries, the
//! edges of each permitted range from the samples themselves, so a week costs
//! about as much as a minute and nothing outside the permitted ranges leaks in.

mod ticks;

pub use ticks::time_ticks;

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::query;
use super::store::{ChartRequest, ChartRow, TimeRange};
use super::Portal;
pub use crate::domain::browse::ChartQuery;
use crate::domain::chart::{Chart, ChartChannel, ChartPoint, Series, MAX_BUCKETS};

const MINUTE_US: i64 = 60_000_000;
/// At most this many labelled instants on a chart's time axis.
pub const TIME_TICKS: usize = 8;

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/chart`.
    pub async fn chart(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ChartQuery,
    ) -> Result<Chart, ServiceError> {
        let channels = query::list(
            "channels",
            q.channels.as_deref(),
            ChartChannel::parse,
            "speed_kmh, accel_pedal_pct, brake_pedal, brake_pressure_bar, steering_angle_deg, abs_active or aeb_state",
        )?
        .unwrap_or_else(|| vec![ChartChannel::Speed]);
        let access = self
            .authorize_range(
                who,
                vin,
                Reading::Telemetry,
                q.from.as_deref(),
                q.to.as_deref(),
            )
            .await?;
        let mut chart = self.chart_for(&access, &channels, None).await?;
        chart.ticks = time_ticks(
            chart.from_us,
            chart.to_us,
            &access.vehicle.vehicle.timezone,
            TIME_TICKS,
        );
        Ok(chart)
    }

    /// The chart of `channels` over the permitted ranges of `access`.
    pub(crate) async fn chart_for(
        &self,
        access: &Access,
        channels: &[ChartChannel],
        marker_us: Option<i64>,
    ) -> Result<Chart, ServiceError> {
        let vehicle = access.vehicle.id;
        // Unbounded ends are drawn from the first to the last record held.
        let (mut from_us, mut to_us) = (
            access.ranges[0].from_us,
            access.ranges[access.ranges.len() - 1].to_us,
        );
        if from_us == i64::MIN || to_us == i64::MAX {
            let held = access
                .store()
                .holdings(vehicle, TimeRange { from_us, to_us })
                .await?;
            from_us = from_us.max(held.samples.first_us.unwrap_or(0));
            to_us = to_us.min(held.samples.last_us.map_or(from_us + 1, |t| t + 1));
        }
        let span = (to_us - from_us).max(1);
        let mut bucket_us = (span + MAX_BUCKETS - 1) / MAX_BUCKETS;
        let per_minute = bucket_us >= MINUTE_US;
        if per_minute {
            bucket_us = (bucket_us + MINUTE_US - 1) / MINUTE_US * MINUTE_US;
        }
        let clipped: Vec<TimeRange> = access
            .ranges
            .iter()
            .map(|r| TimeRange {
                from_us: r.from_us.max(from_us),
                to_us: r.to_us.min(to_us),
            })
            .filter(|r| r.from_us < r.to_us)
            .collect();
        let whole = (MAX_BUCKETS * 2) as usize;
        if !per_minute {
            // Few enough samples are drawn whole.
            let raw = ChartRequest {
                per_minute: false,
                buckets: None,
                limit: whole as u32 + 1,
            };
            let mut rows = Vec::new();
            for r in &clipped {
                rows.extend(
                    access
                        .store()
                        .chart_rows(vehicle, *r, channels, raw)
                        .await?,
                );
                if rows.len() > whole {
                    break;
                }
            }
            if rows.len() <= whole {
                return Ok(Chart {
                    from_us,
                    to_us,
                    bucket_us: 0,
                    samples: rows.len() as u64,
                    series: bucketize(&rows, channels, from_us, 0),
                    marker_us,
                    ticks: Vec::new(),
                });
            }
        }
        // Buckets line up with the minute summaries.
        let origin = if per_minute {
            from_us.div_euclid(MINUTE_US) * MINUTE_US
        } else {
            from_us
        };
        let folded = |per_minute| ChartRequest {
            per_minute,
            buckets: Some((origin, bucket_us)),
            limit: u32::MAX,
        };
        let mut rows = Vec::new();
        for r in clipped {
            let inner = TimeRange {
                from_us: (r.from_us + MINUTE_US - 1).div_euclid(MINUTE_US) * MINUTE_US,
                to_us: r.to_us.div_euclid(MINUTE_US) * MINUTE_US,
            };
            if per_minute && inner.from_us < inner.to_us {
                // Whole minutes from the summaries, the edges from the samples.
                let head = TimeRange {
                    from_us: r.from_us,
                    to_us: inner.from_us,
                };
                let tail = TimeRange {
                    from_us: inner.to_us,
                    to_us: r.to_us,
                };
                for (part, summaries) in [(head, false), (inner, true), (tail, false)] {
                    if part.from_us < part.to_us {
                        let got = access
                            .store()
                            .chart_rows(vehicle, part, channels, folded(summaries))
                            .await?;
                        rows.extend(got);
                    }
                }
            } else {
                rows.extend(
                    access
                        .store()
                        .chart_rows(vehicle, r, channels, folded(false))
                        .await?,
                );
            }
        }
        let samples = rows.iter().map(|r| r.n).sum();
        Ok(Chart {
            from_us,
            to_us,
            bucket_us,
            samples,
            series: bucketize(&rows, channels, origin, bucket_us),
            marker_us,
            ticks: Vec::new(),
        })
    }
}

/// Folds rows into buckets of `bucket_us` from `from_us` (0: one point per row),
/// keeping each bucket's lowest and highest value.
fn bucketize(
    rows: &[ChartRow],
    channels: &[ChartChannel],
    from_us: i64,
    bucket_us: i64,
) -> Vec<Series> {
    channels
        .iter()
        .enumerate()
        .map(|(i, &channel)| {
            let mut points: Vec<ChartPoint> = Vec::new();
            for row in rows {
                let Some((lo, hi)) = row.values[i] else {
                    continue;
                };
                let t_us = if bucket_us == 0 {
                    row.t_us
                } else {
                    from_us + (row.t_us - from_us).div_euclid(bucket_us) * bucket_us
                };
                match points.last_mut() {
                    Some(p) if p.t_us == t_us => {
                        p.min = p.min.min(lo);
                        p.max = p.max.max(hi);
                    }
                    _ => points.push(ChartPoint {
                        t_us,
                        min: lo,
                        max: hi,
                    }),
                }
            }
            Series { channel, points }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t_us: i64, v: f64) -> ChartRow {
        ChartRow {
            t_us,
            n: 1,
            values: vec![Some((v, v))],
        }
    }

    #[test]
    fn buckets_keep_the_extremes() {
        let rows: Vec<ChartRow> = (0..10)
            .map(|i| row(i * 10, if i == 3 { 99.0 } else { i as f64 }))
            .collect();
        let series = bucketize(&rows, &[ChartChannel::Speed], 0, 50);
        let points = &series[0].points;
        assert_eq!(points.len(), 2);
        assert_eq!((points[0].min, points[0].max), (0.0, 99.0));
        assert_eq!((points[1].min, points[1].max), (5.0, 9.0));
        assert_eq!(points[1].t_us, 50);
    }

    #[test]
    fn unrecorded_values_leave_gaps_not_zeros() {
        let rows = vec![
            row(0, 1.0),
            ChartRow {
                t_us: 10,
                n: 1,
                values: vec![None],
            },
            row(20, 3.0),
        ];
        let points = &bucketize(&rows, &[ChartChannel::Speed], 0, 0)[0].points;
        assert_eq!(
            points.iter().map(|p| p.t_us).collect::<Vec<_>>(),
            vec![0, 20]
        );
    }
}
