//! The support console's shared types: cases, their timeline and exports,
//! and lookups (metadata only: never log data).

use super::browse::Instant;
use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// Where a case is. Staff read vehicle data only while it is open.
    CaseStatus { Open = "open", Waiting = "waiting", Closed = "closed" }
);

/// A case as listed: which vehicle and owner, about what, for what purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub case_no: String,
    pub vin: String,
    /// The owner the case is about (their periods bound what it covers).
    pub owner: Option<String>,
    pub subject: String,
    pub purpose: String,
    pub status: CaseStatus,
    pub opened: Instant,
    /// The data the case covers (RFC 3339 UTC; `None`: unbounded on that side).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One line of a case's timeline (from the audit log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Instant,
    /// The staff role that acted (`support`, `admin`).
    pub role: String,
    /// The staff account that acted (staff see who; owners see the role only).
    pub by: String,
    /// One of `AuditAction::CASE_TIMELINE`.
    pub action: super::audit::AuditAction,
    pub text: String,
}

/// An evidence bundle exported to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseExport {
    pub bundle_id: String,
    pub manifest_sha256: String,
    pub recipient: String,
    pub legal_basis: String,
    pub at: Instant,
    pub size: u64,
}

/// `GET /api/v1/staff/cases/{case_no}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub timeline: Vec<TimelineEntry>,
    pub exports: Vec<CaseExport>,
}

/// An ownership period, as a lookup shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodMeta {
    pub account: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleMeta {
    pub vin: String,
    pub model: Option<String>,
    pub timezone: String,
    pub periods: Vec<PeriodMeta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountMeta {
    pub account: String,
    pub role: String,
    pub vins: Vec<String>,
}

/// `GET /api/v1/staff/lookup?q=`: what matched, metadata only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lookup {
    pub cases: Vec<CaseSummary>,
    pub vehicles: Vec<VehicleMeta>,
    pub accounts: Vec<AccountMeta>,
}

/// A new case (`POST /api/v1/staff/cases`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NewCaseRequest {
    pub vin: String,
    pub subject: String,
    pub purpose: String,
    /// The data the case covers, RFC 3339 or vehicle-local (default: all of the owner's).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// An export to a case (`POST /api/v1/staff/cases/{case_no}/exports`):
/// always an evidence bundle, with who receives it and on what legal basis.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaseExportRequest {
    pub format: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub location: Option<String>,
    pub recipient: String,
    pub legal_basis: String,
}

/// A staff account just created: its first password and TOTP enrolment,
/// shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStaff {
    pub account: String,
    pub role: String,
    pub initial_password: String,
    pub totp_secret: String,
    pub otpauth_url: String,
}

/// One API operation as the staff reference page lists it (from the
/// OpenAPI document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationLine {
    pub tag: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub parameters: Vec<String>,
    pub statuses: Vec<String>,
}

/// `GET /api/v1/staff/lookup`: a case number, VIN or account name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    pub q: String,
}

/// `GET /api/v1/staff/cases`: cases with one status, or all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseListQuery {
    pub status: Option<String>,
}
