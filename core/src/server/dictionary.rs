//! The data dictionary of a vehicle: every channel the reader may see,
//! described in both languages, with the sampling rates seen and the share
//! the car itself signed (read through the gate, as the overview).

use super::authz::Principal;
use super::error::ServiceError;
use super::Portal;
use crate::domain::browse::ClassSummary;
use crate::domain::dictionary::{channels, DataDictionary};

fn sealed_share(class: &ClassSummary) -> f64 {
    match class.count {
        0 => 0.0,
        n => class.sealed as f64 / n as f64,
    }
}

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/dictionary`. A recipient's dictionary
    /// lists only the channels of their grant (positions only with a
    /// location level).
    pub async fn data_dictionary(
        &self,
        who: Option<&Principal>,
        vin: &str,
    ) -> Result<DataDictionary, ServiceError> {
        // The overview is what the reader may see of each class (nothing of
        // a class outside a grant), through the gate.
        let overview = self.overview(who, vin).await?;
        let (telemetry, location) = match who {
            Some(Principal::Recipient(grant)) => (
                grant
                    .classes
                    .contains(&crate::domain::sharing::DataClass::Telemetry),
                grant.location != crate::domain::export::LocationRedaction::None,
            ),
            _ => (true, true),
        };
        let channels = channels()
            .filter(|c| match c.class.as_str() {
                "location" => location,
                _ => telemetry,
            })
            .map(|mut c| {
                let class = match c.class.as_str() {
                    "location" => &overview.location,
                    _ => &overview.telemetry,
                };
                c.rates = class.rates.clone();
                c.sealed_share = sealed_share(class);
                c
            })
            .collect();
        Ok(DataDictionary {
            vin: overview.vin,
            timezone: overview.timezone,
            channels,
        })
    }
}
