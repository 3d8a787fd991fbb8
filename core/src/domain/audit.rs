//! What the audit chain records, by name: every action one enum, so a
//! list of actions (the owner's disclosures, a case's timeline) and every
//! reader of one are checked by the compiler.

use super::log_format::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// One kind of audit entry, as stored in the chain.
    AuditAction {
        Import = "import",
        Export = "export",
        StaffRead = "staff_read",
        CaseDownload = "case_download",
        CaseOpened = "case_opened",
        CaseNote = "case_note",
        CaseStatus = "case_status",
        SignUp = "sign_up",
        SignIn = "sign_in",
        SignInFailed = "sign_in_failed",
        PasswordChanged = "password_changed",
        VehicleBound = "vehicle_bound",
        ClaimCodeIssued = "claim_code_issued",
        Transfer = "transfer",
        IngestTokenIssued = "ingest_token_issued",
        IngestTokenRevoked = "ingest_token_revoked",
        RoleChange = "role_change",
        StaffLookup = "staff_lookup",
        GrantCreated = "grant_created",
        GrantRevoked = "grant_revoked",
        GrantRead = "grant_read",
        GrantRefused = "grant_refused",
    }
);

impl AuditAction {
    /// Actions that disclose a vehicle's data, shown to its owner: exports
    /// (the owner's own, a recipient's, or staff's to a case), staff reads
    /// within a case, every download of a case's bundle, and every grant
    /// made, ended, read under or refused.
    pub const DISCLOSURES: &'static [AuditAction] = &[
        AuditAction::Export,
        AuditAction::StaffRead,
        AuditAction::CaseDownload,
        AuditAction::GrantCreated,
        AuditAction::GrantRevoked,
        AuditAction::GrantRead,
        AuditAction::GrantRefused,
    ];

    /// Actions a case's timeline shows.
    pub const CASE_TIMELINE: &'static [AuditAction] = &[
        AuditAction::CaseOpened,
        AuditAction::CaseNote,
        AuditAction::CaseStatus,
        AuditAction::StaffRead,
        AuditAction::Export,
        AuditAction::CaseDownload,
    ];
}
