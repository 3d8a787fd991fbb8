//! Vehicle reads for a principal, all through the gate: the list of the
//! caller's vehicles and the "what we hold" overview.

use super::authz::{signed_in_account, Access, Principal, Reading};
use super::error::ServiceError;
use super::localtime::instant;
use super::store::{ClassHoldings, CoveredCounts, Holdings, TimeRange};
use super::Portal;
use crate::domain::account::VehicleBinding;
use crate::domain::browse::{ClassSummary, Overview, Period, Rate};
use crate::domain::export::LocationRedaction;
use crate::domain::sharing::DataClass;

/// How long each data class is kept after it was recorded (configurable;
/// locked crash records are kept whatever this says: they are under legal hold).
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub telemetry_days: u32,
    pub events_days: u32,
    pub crash_records_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            telemetry_days: 3 * 365,
            events_days: 3 * 365,
            crash_records_days: 10 * 365,
        }
    }
}

/// Intervals looked at to tell the sampling rates.
const RATE_SAMPLE: u32 = 20_000;

impl Portal {
    pub async fn my_vehicles(
        &self,
        who: Option<&Principal>,
    ) -> Result<Vec<VehicleBinding>, ServiceError> {
        let who = signed_in_account(who)?;
        self.bindings(who.account_id).await
    }

    /// `GET /api/v1/vehicles/{vin}`: per data class, what is held for the caller.
    pub async fn overview(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<Overview, ServiceError> {
        let access = self
            .authorize(who, vin, Reading::Overview, TimeRange::ALL)
            .await?;
        let vehicle = access.vehicle.id;
        let (total, rates) = self.held(&access).await?;
        let withheld = self.withheld(&access, &total).await?;
        let zone = access.vehicle.vehicle.timezone.clone();
        let class =
            |h: &ClassHoldings, withheld: u64, retention_days: u32, held: u64, rates: Vec<Rate>| {
                ClassSummary {
                    count: h.count,
                    sealed: h.sealed,
                    withheld,
                    first: h.first_us.map(|t| instant(t, &zone, None)),
                    last: h.last_us.map(|t| instant(t, &zone, None)),
                    rates,
                    retention_days,
                    held,
                }
            };
        let within = |t: &str| {
            crate::domain::time::parse_rfc3339_micros(t)
                .is_ok_and(|t| access.ranges.iter().any(|r| r.from_us <= t && t < r.to_us))
        };
        let missing_batches = access
            .store()
            .missing_batches(vehicle)
            .await?
            .into_iter()
            .filter(|m| within(&m.before) || m.after.as_deref().is_some_and(within))
            .collect();
        let r = &self.retention;
        // A recipient learns nothing of the classes outside their grant.
        let shown = |class: DataClass, summary: ClassSummary| {
            if access.may_read(class) {
                summary
            } else {
                ClassSummary::default()
            }
        };
        let location_shown = access.location != LocationRedaction::None;
        Ok(Overview {
            vin: access.vehicle.vehicle.vin.to_string(),
            model: access.vehicle.vehicle.model.clone(),
            periods: access
                .ranges
                .iter()
                .map(|p| Period {
                    from: (p.from_us > 0).then(|| instant(p.from_us, &zone, None)),
                    to: (p.to_us != i64::MAX).then(|| instant(p.to_us, &zone, None)),
                })
                .collect(),
            telemetry: shown(
                DataClass::Telemetry,
                class(
                    &total.samples,
                    withheld.samples,
                    r.telemetry_days,
                    total.held_samples,
                    rates.clone(),
                ),
            ),
            location: match location_shown {
                true => shown(
                    DataClass::Telemetry,
                    class(
                        &total.location,
                        withheld.positions,
                        r.telemetry_days,
                        0,
                        rates,
                    ),
                ),
                false => ClassSummary::default(),
            },
            events: shown(
                DataClass::Events,
                class(&total.events, withheld.events, r.events_days, 0, Vec::new()),
            ),
            crash_records: shown(
                DataClass::Crash,
                class(
                    &total.edr_records,
                    withheld.edr,
                    r.crash_records_days,
                    total.locked_edr_records,
                    Vec::new(),
                ),
            ),
            timezone: zone,
            missing_batches,
        })
    }
}

impl Portal {
    /// What is held within `access` per class, and the sampling rates seen
    /// (not recorded: the caller passed the gate).
    pub(crate) async fn held(
        &self,
        access: &Access,
    ) -> Result<(Holdings, Vec<Rate>), ServiceError> {
        let vehicle = access.vehicle.id;
        let mut total = Holdings::default();
        let mut intervals: Vec<(i64, u64)> = Vec::new();
        for range in &access.ranges {
            total.add(&access.store().holdings(vehicle, *range).await?);
            for (d, n) in access
                .store()
                .sample_intervals(vehicle, *range, RATE_SAMPLE)
                .await?
            {
                match intervals.iter_mut().find(|(e, _)| *e == d) {
                    Some(e) => e.1 += n,
                    None => intervals.push((d, n)),
                }
            }
        }
        Ok((total, sampling_rates(&intervals)))
    }

    /// Per class, the lines sealed together with the reader's records that
    /// fall outside the reader's periods: what the seals reaching into the
    /// periods cover, less what of it lies inside them. A seal reaching into
    /// two periods (it spans the gap between them) is counted once.
    async fn withheld(
        &self,
        access: &Access,
        inside: &Holdings,
    ) -> Result<CoveredCounts, ServiceError> {
        let (vehicle, ranges) = (access.vehicle.id, &access.ranges);
        let mut covered = CoveredCounts::default();
        let mut positions_inside = 0;
        for range in ranges {
            let (from, to) = (range.from_us, range.to_us);
            covered = covered.plus(access.store().seal_lines(vehicle, from, to).await?);
            positions_inside += access
                .store()
                .sealed_position_count(vehicle, from, to)
                .await?;
        }
        let mut spanning = CoveredCounts::default();
        for pair in ranges.windows(2) {
            let gap = (pair[1].from_us, pair[0].to_us);
            spanning = spanning.plus(access.store().seal_lines(vehicle, gap.0, gap.1).await?);
        }
        let outside = |covered: u64, spanning: u64, inside: u64| {
            covered.saturating_sub(spanning).saturating_sub(inside)
        };
        Ok(CoveredCounts {
            samples: outside(covered.samples, spanning.samples, inside.samples.sealed),
            positions: outside(covered.positions, spanning.positions, positions_inside),
            events: outside(covered.events, spanning.events, inside.events.sealed),
            edr: outside(covered.edr, spanning.edr, inside.edr_records.sealed),
        })
    }
}

/// The rates that make up at least 1 % of the intervals, most common first.
/// Pauses (intervals over a minute) are not a rate.
fn sampling_rates(intervals: &[(i64, u64)]) -> Vec<Rate> {
    let usable: Vec<_> = intervals
        .iter()
        .filter(|(d, _)| *d > 0 && *d <= 60_000_000)
        .collect();
    let total: u64 = usable.iter().map(|(_, n)| n).sum();
    let mut rates: Vec<Rate> = usable
        .iter()
        .map(|(d, n)| Rate {
            hz: (1e6 / *d as f64 * 100.0).round() / 100.0,
            share: *n as f64 / total as f64,
        })
        .filter(|r| r.share >= 0.01)
        .collect();
    rates.sort_by(|a, b| b.share.total_cmp(&a.share));
    rates
}
