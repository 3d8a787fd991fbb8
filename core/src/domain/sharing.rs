//! Grants: the third parties an owner lets read one vehicle's data, and
//! within what scope (EU Data Act Art. 5, PIPL Art. 45).

use super::browse::Instant;
use super::export::LocationRedaction;
use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// Who the recipient is, as the owner describes them.
    RecipientKind {
        Insurer = "insurer",
        Repairer = "repairer",
        Lawyer = "lawyer",
        Family = "family",
        Other = "other",
    }
);

wire_enum!(
    /// What a grant may cover besides the location level.
    DataClass {
        Telemetry = "telemetry",
        Events = "events",
        Crash = "crash",
    }
);

wire_enum!(
    /// Where a grant is: usable, past its expiry, or ended.
    GrantStatus { Active = "active", Expired = "expired", Revoked = "revoked" }
);

wire_enum!(
    /// Why a grant ended: the owner revoked it, or the vehicle changed hands.
    RevokedBecause { Owner = "owner", Transfer = "transfer" }
);

/// `POST /api/v1/vehicles/{vin}/grants` as it arrives (JSON or a form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewGrantRequest {
    pub recipient: String,
    /// One of `RecipientKind`.
    pub kind: String,
    /// What the recipient may use the data for; they see it.
    pub purpose: String,
    /// `DataClass` names.
    #[serde(default)]
    pub classes: Vec<String>,
    /// `none` (the default), `coarse` or `full`.
    #[serde(default)]
    pub location: Option<String>,
    /// A fixed window: both ends, RFC 3339 or vehicle-local.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Continuous: everything recorded from now on (no `from`/`to`).
    #[serde(default)]
    pub continuous: bool,
    /// When the grant ends: RFC 3339, vehicle-local time, or a date (the end
    /// of that day in the vehicle's zone); at most a year from now.
    pub expires: String,
}

/// A grant as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantSummary {
    pub id: i64,
    pub vin: String,
    pub recipient: String,
    pub kind: RecipientKind,
    pub purpose: String,
    pub classes: Vec<DataClass>,
    pub location: LocationRedaction,
    /// The window (RFC 3339 UTC); `to` is `None` for a continuous grant.
    pub from: Option<String>,
    pub to: Option<String>,
    pub continuous: bool,
    pub created: Instant,
    pub expires: Instant,
    pub status: GrantStatus,
    pub revoked: Option<Instant>,
    pub revoked_because: Option<RevokedBecause>,
}

/// A grant just made: its token is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedGrant {
    #[serde(flatten)]
    pub grant: GrantSummary,
    /// For `Authorization: Bearer …` on the API.
    pub token: String,
    /// The link to give the recipient (a path on this portal).
    pub link: String,
}
