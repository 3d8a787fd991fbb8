//! Cases: staff access to one vehicle's data, for one owner and a stated
//! purpose. Opening, notes, status and exports are audited with the case
//! number; the timeline is read back from the audit chain itself.

use super::authz::{signed_in_account, AccountPrincipal, Principal};
use super::error::ServiceError;
use super::export::Export;
use super::localtime::instant;
use super::store::{CaseRecord, NewCase, NewCaseExport, TimeRange};
use super::Portal;
use crate::domain::audit::AuditAction;
use crate::domain::export::{ExportFormat, ExportQuery};
use crate::domain::staff::{
    CaseExport, CaseExportRequest, CaseStatus, CaseSummary, CaseView, NewCaseRequest, TimelineEntry,
};
use crate::domain::time::format_utc;
use crate::domain::Vin;
use serde_json::json;

/// Longest subject, purpose, note, recipient or legal basis.
const MAX_TEXT: usize = 2_000;

pub(crate) fn required_text(field: &'static str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(
            "missing_field",
            field,
            format!("{field} is required"),
        ));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid(
            "too_long",
            field,
            format!("{field} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_string())
}

/// The staff member asking, or why not: signed out (401), not staff (403).
pub(crate) fn require_staff(who: Option<&Principal>) -> Result<&AccountPrincipal, ServiceError> {
    let who = signed_in_account(who)?;
    if who.role.is_staff() {
        Ok(who)
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// A range end as RFC 3339, or `None` where the range is open.
pub(crate) fn bound(us: i64) -> Option<String> {
    (us != i64::MIN && us != i64::MAX).then(|| format_utc(us))
}

pub(crate) fn summary(case: &CaseRecord, zone: &str) -> CaseSummary {
    CaseSummary {
        case_no: case.case_no.clone(),
        vin: case.vin.clone(),
        owner: case.owner_account.clone(),
        subject: case.subject.clone(),
        purpose: case.purpose.clone(),
        status: case.status,
        opened: instant(case.created_us, zone, None),
        from: bound(case.from_us),
        to: bound(case.to_us),
    }
}

impl Portal {
    /// A case by number, for staff; not-found for anyone's unknown number.
    pub(crate) async fn case_record(
        &self,
        who: Option<&Principal>,
        case_no: &str,
    ) -> Result<(AccountPrincipal, CaseRecord), ServiceError> {
        let who = require_staff(who)?;
        let case = self
            .store
            .case_by_no(case_no.trim())
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok((who.clone(), case))
    }

    /// What a staff member reads a case's vehicle as: the principal acting
    /// in the case (the gate checks it is open and covers the data) and the VIN.
    pub async fn in_case(
        &self,
        who: Option<&Principal>,
        case_no: &str,
    ) -> Result<(Principal, String), ServiceError> {
        let (who, case) = self.case_record(who, case_no).await?;
        Ok((who.in_case(&case.case_no), case.vin))
    }

    /// The ranges a case lets staff read: its own range, within the periods
    /// of the owner it is about (a previous owner's data stays out).
    pub(crate) async fn case_coverage(
        &self,
        case: &CaseRecord,
    ) -> Result<Vec<TimeRange>, ServiceError> {
        let own = TimeRange {
            from_us: case.from_us,
            to_us: case.to_us,
        };
        let Some(owner) = case.owner_account_id else {
            return Ok(vec![own]);
        };
        Ok(self
            .store
            .ownership_of_vehicle(case.vehicle_id)
            .await?
            .into_iter()
            .filter(|p| p.account_id == owner)
            .filter_map(|p| super::authz::intersect(p.range(), own))
            .collect())
    }

    /// `POST /api/v1/staff/cases`: opens a case on the vehicle's current
    /// (or last) owner.
    pub async fn open_case(
        &self,
        who: Option<&Principal>,
        request: &NewCaseRequest,
    ) -> Result<CaseSummary, ServiceError> {
        let who = require_staff(who)?;
        let subject = required_text("subject", &request.subject)?;
        let purpose = required_text("purpose", &request.purpose)?;
        let vin = Vin::parse(request.vin.trim())
            .map_err(|e| ServiceError::invalid("invalid_vin", "vin", e.to_string()))?;
        let vehicle = self
            .store
            .vehicle(&vin)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let zone = vehicle.vehicle.timezone.clone();
        let range = super::query::range_in_zone(
            request.from.as_deref().filter(|s| !s.is_empty()),
            request.to.as_deref().filter(|s| !s.is_empty()),
            &zone,
        )?;
        let owner = self
            .store
            .ownership_of_vehicle(vehicle.id)
            .await?
            .into_iter()
            .max_by_key(|p| (p.to_us.is_none(), p.from_us))
            .map(|p| p.account_id);
        let case = self
            .store
            .create_case(&NewCase {
                vehicle_id: vehicle.id,
                owner_account_id: owner,
                subject: subject.clone(),
                purpose: purpose.clone(),
                from_us: range.from_us,
                to_us: range.to_us,
                created_by: who.account_id,
                created_us: chrono::Utc::now().timestamp_micros(),
            })
            .await?;
        self.audit_case(
            who,
            &case,
            AuditAction::CaseOpened,
            json!({"subject": subject}),
        )
        .await?;
        Ok(summary(&case, &zone))
    }

    /// Appends a staff action on a case to the audit chain.
    pub(crate) async fn audit_case(
        &self,
        who: &AccountPrincipal,
        case: &CaseRecord,
        action: AuditAction,
        mut details: serde_json::Value,
    ) -> Result<(), ServiceError> {
        details["case_no"] = case.case_no.clone().into();
        details["purpose"] = case.purpose.clone().into();
        details["role"] = who.role.as_str().into();
        // Any staff member may work any case (a shared queue); the timeline
        // names who did each thing. Owners are shown the role only.
        details["staff"] = who.account.clone().into();
        self.audit(who.actor(), action, Some(&case.vin), details)
            .await
            .map(drop)
    }

    /// `GET /api/v1/staff/cases/{case_no}`: the case, its timeline (newest
    /// first) and its exports.
    pub async fn case_view(
        &self,
        who: Option<&Principal>,
        case_no: &str,
    ) -> Result<CaseView, ServiceError> {
        let (_, case) = self.case_record(who, case_no).await?;
        let zone = self.zone_of(&case.vin).await?;
        let entries = self
            .store
            .audit_for_vin(&case.vin, AuditAction::CASE_TIMELINE, None, 1_000)
            .await?;
        let timeline = entries
            .iter()
            .filter_map(|e| {
                let action = AuditAction::parse(&e.action)?;
                let d: serde_json::Value = serde_json::from_str(&e.details).ok()?;
                (d["case_no"] == case.case_no.as_str()).then(|| TimelineEntry {
                    at: instant(e.at_us, &zone, None),
                    role: d["role"].as_str().unwrap_or_default().to_string(),
                    by: d["staff"].as_str().unwrap_or_default().to_string(),
                    action,
                    text: timeline_text(action, &d),
                })
            })
            .collect();
        let exports = self
            .store
            .case_exports(case.id)
            .await?
            .into_iter()
            .map(|x| CaseExport {
                at: instant(x.created_us, &zone, None),
                bundle_id: x.bundle_id,
                manifest_sha256: x.manifest_sha256,
                recipient: x.recipient,
                legal_basis: x.legal_basis,
                size: x.size,
            })
            .collect();
        Ok(CaseView {
            case: summary(&case, &zone),
            timeline,
            exports,
        })
    }

    async fn zone_of(&self, vin: &str) -> Result<String, ServiceError> {
        let vin = Vin::parse(vin).map_err(|_| ServiceError::NotFound)?;
        Ok(self
            .store
            .vehicle(&vin)
            .await?
            .map(|v| v.vehicle.timezone)
            .unwrap_or_else(|| "UTC".into()))
    }

    /// `GET /api/v1/staff/cases`: cases, newest first, optionally by status.
    pub async fn case_list(
        &self,
        who: Option<&Principal>,
        status: Option<&str>,
    ) -> Result<Vec<CaseSummary>, ServiceError> {
        require_staff(who)?;
        let status = super::query::one(
            "status",
            status,
            CaseStatus::parse,
            "open, waiting or closed",
        )?;
        let cases = self.store.cases(None, status, 200).await?;
        let mut out = Vec::with_capacity(cases.len());
        for case in &cases {
            out.push(summary(case, &self.zone_of(&case.vin).await?));
        }
        Ok(out)
    }

    /// `POST /api/v1/staff/cases/{case_no}/notes`.
    pub async fn case_note(
        &self,
        who: Option<&Principal>,
        case_no: &str,
        text: &str,
    ) -> Result<(), ServiceError> {
        let (who, case) = self.case_record(who, case_no).await?;
        let text = required_text("text", text)?;
        self.audit_case(&who, &case, AuditAction::CaseNote, json!({"text": text}))
            .await
    }

    /// `POST /api/v1/staff/cases/{case_no}/status`.
    pub async fn set_case_status(
        &self,
        who: Option<&Principal>,
        case_no: &str,
        status: &str,
    ) -> Result<(), ServiceError> {
        let (who, case) = self.case_record(who, case_no).await?;
        let status = CaseStatus::parse(status.trim()).ok_or_else(|| {
            ServiceError::invalid("invalid_status", "status", "open, waiting or closed")
        })?;
        self.store.set_case_status(case.id, status).await?;
        self.audit_case(
            &who,
            &case,
            AuditAction::CaseStatus,
            json!({"from": case.status.as_str(), "to": status.as_str()}),
        )
        .await
    }

    /// `POST /api/v1/staff/cases/{case_no}/exports`: an evidence bundle of
    /// the case's vehicle, attached to the case, with its recipient and legal
    /// basis in the signed manifest. The owner sees it among the disclosures.
    pub async fn export_to_case(
        &self,
        who: Option<&Principal>,
        case_no: &str,
        request: &CaseExportRequest,
    ) -> Result<CaseExport, ServiceError> {
        let recipient = required_text("recipient", &request.recipient)?;
        let legal_basis = required_text("legal_basis", &request.legal_basis)?;
        if request.format.as_deref().is_some_and(|f| f != "bundle") {
            return Err(ServiceError::invalid(
                "invalid_query",
                "format",
                "staff exports are evidence bundles: format=bundle",
            ));
        }
        let (staff, case) = self.case_record(who, case_no).await?;
        let (reader, vin) = (staff.in_case(&case.case_no), case.vin.clone());
        let query = ExportQuery {
            format: Some("bundle".into()),
            location: request.location.clone(),
            from: request.from.clone().filter(|s| !s.is_empty()),
            to: request.to.clone().filter(|s| !s.is_empty()),
            ..ExportQuery::default()
        };
        let mut planned = self.plan_export(Some(&reader), &vin, &query).await?;
        planned.requested_for(json!({
            "role": staff.role.as_str(),
            "purpose": case.purpose,
            "case_no": case.case_no,
            "recipient": recipient,
            "legal_basis": legal_basis,
        }));
        let file = self.export_to_file(planned, None).await?;
        let bundle = std::fs::read(file.file.path())
            .map_err(|e| ServiceError::Internal(format!("reading the bundle: {e}")))?;
        let manifest_sha256 = file.manifest_sha256.clone().unwrap_or_default();
        let bundle_id = file.bundle_id.clone().unwrap_or_default();
        let now = chrono::Utc::now().timestamp_micros();
        self.store
            .attach_case_export(&NewCaseExport {
                case_id: case.id,
                bundle_id: bundle_id.clone(),
                manifest_sha256: manifest_sha256.clone(),
                recipient: recipient.clone(),
                legal_basis: legal_basis.clone(),
                created_by: staff.account_id,
                created_us: now,
                bundle: bundle.clone(),
            })
            .await?;
        let zone = self.zone_of(&vin).await?;
        Ok(CaseExport {
            bundle_id,
            manifest_sha256,
            recipient,
            legal_basis,
            at: instant(now, &zone, None),
            size: bundle.len() as u64,
        })
    }

    /// `GET /api/v1/staff/cases/{case_no}/exports/{bundle_id}`: the zip.
    /// Every download is a disclosure: recorded (with who downloaded it)
    /// before a byte is sent, and shown to the owner.
    pub async fn case_export_file(
        &self,
        who: Option<&Principal>,
        case_no: &str,
        bundle_id: &str,
    ) -> Result<Export, ServiceError> {
        let (staff, case) = self.case_record(who, case_no).await?;
        let export = self
            .store
            .case_exports(case.id)
            .await?
            .into_iter()
            .find(|x| x.bundle_id == bundle_id)
            .ok_or(ServiceError::NotFound)?;
        let bytes = self
            .store
            .case_export_bundle(case.id, bundle_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.audit_case(
            &staff,
            &case,
            AuditAction::CaseDownload,
            json!({
                "bundle_id": export.bundle_id,
                "manifest_sha256": export.manifest_sha256,
                "recipient": export.recipient,
                "legal_basis": export.legal_basis,
                "format": "bundle",
            }),
        )
        .await?;
        Ok(Export::held(
            ExportFormat::Bundle,
            &case.vin,
            Some(bundle_id),
            bytes,
        ))
    }
}

/// A timeline line's text, from the entry's details.
fn timeline_text(action: AuditAction, d: &serde_json::Value) -> String {
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    match action {
        AuditAction::CaseOpened => s("subject"),
        AuditAction::CaseNote => s("text"),
        AuditAction::CaseStatus => format!("{} → {}", s("from"), s("to")),
        AuditAction::Export | AuditAction::CaseDownload => format!(
            "{} → {} ({})",
            s("bundle_id"),
            s("recipient"),
            s("legal_basis")
        ),
        _ => format!("{} – {}", s("from"), s("to")),
    }
}
