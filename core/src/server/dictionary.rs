//! The data dictionary of a vehicle: every channel the reader may see,
//! described in both languages, with the sampling rates seen and the share
//! the car itself signed (read through the gate, as the overview). Bundles
//! carry it too, for the channels they export.

use super::authz::{Access, Principal, Reading};
use super::error::ServiceError;
use super::store::{ClassHoldings, TimeRange};
use super::Portal;
use crate::domain::dictionary::{channels, DataDictionary};
use crate::domain::export::LocationRedaction;
use crate::domain::sharing::DataClass;

fn sealed_share(class: &ClassHoldings) -> f64 {
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
        let access = self
            .authorize(who, vin, Reading::Overview, TimeRange::ALL)
            .await?;
        self.dictionary_of(&access, None).await
    }

    /// The dictionary of what `access` may read (not recorded: the caller
    /// passed the gate); only the channels named in `only`, when given.
    pub(crate) async fn dictionary_of(
        &self,
        access: &Access,
        only: Option<&[&str]>,
    ) -> Result<DataDictionary, ServiceError> {
        let telemetry = access.may_read(DataClass::Telemetry);
        let location = telemetry && access.location != LocationRedaction::None;
        let (held, rates) = self.held(access).await?;
        let channels = channels()
            .filter(|c| match c.class.as_str() {
                "location" => location,
                _ => telemetry,
            })
            .filter(|c| only.is_none_or(|names| names.contains(&c.name.as_str())))
            .map(|mut c| {
                let class = match c.class.as_str() {
                    "location" => &held.location,
                    _ => &held.samples,
                };
                c.rates = rates.clone();
                c.sealed_share = sealed_share(class);
                c
            })
            .collect();
        let vehicle = &access.vehicle.vehicle;
        Ok(DataDictionary {
            vin: vehicle.vin.to_string(),
            timezone: vehicle.timezone.clone(),
            channels,
        })
    }
}
