//! Vehicle reads for a principal, all through the gate.

use super::authz::Principal;
use super::error::ServiceError;
use super::store::{Holdings, TimeRange};
use super::Portal;
use crate::domain::account::VehicleBinding;
use serde::Serialize;

/// `GET /api/v1/vehicles/{vin}`: what is held for the caller, per data class.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub vin: String,
    pub model: Option<String>,
    pub timezone: String,
    /// The caller's permitted ranges (RFC 3339 UTC; `to` null while open).
    pub periods: Vec<(String, Option<String>)>,
    pub holdings: Holdings,
}

impl Portal {
    pub async fn my_vehicles(
        &self,
        who: Option<&Principal>,
    ) -> Result<Vec<VehicleBinding>, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        self.bindings(who.account_id).await
    }

    pub async fn overview(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<Overview, ServiceError> {
        let access = self.authorize(who, vin, TimeRange::ALL).await?;
        let mut total = Holdings::default();
        for range in &access.ranges {
            total.add(&self.store.holdings(access.vehicle.id, *range).await?);
        }
        let fmt = crate::domain::time::format_utc;
        Ok(Overview {
            vin: access.vehicle.vehicle.vin.to_string(),
            model: access.vehicle.vehicle.model.clone(),
            timezone: access.vehicle.vehicle.timezone.clone(),
            periods: access
                .ranges
                .iter()
                .map(|r| {
                    (
                        fmt(r.from_us.max(0)),
                        (r.to_us != i64::MAX).then(|| fmt(r.to_us)),
                    )
                })
                .collect(),
            holdings: total,
        })
    }
}
