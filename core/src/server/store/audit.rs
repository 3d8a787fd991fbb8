//! The audit log: append and read. Entries become the transparency log's
//! leaves (`log.rs`) when the sequencer gives them a place.

use super::StoreError;
use crate::domain::audit::AuditAction;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor: String,
    pub action: AuditAction,
    pub vin: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    pub vin: Option<String>,
    pub details: String,
    /// 16 random bytes (hex) in its leaf, so the leaf's public hash cannot
    /// be confirmed by guessing the entry.
    pub nonce: String,
    /// Its place in the transparency log; `None` until sequenced.
    pub leaf: Option<i64>,
}

/// The audit log: append and read.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;

    /// Audit entries with `seq > after`, oldest first.
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The imports that brought records of a VIN (one entry per file, with
    /// the span of its records), oldest first, `seq > after`: the changes
    /// feed reads these in import order. Within one VIN their `seq` order is
    /// their commit order (imports of one vehicle are serialised).
    async fn imports_of_vin(
        &self,
        vin: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// A VIN's audit entries with one of `actions`, newest first, `seq < before`.
    async fn audit_for_vin(
        &self,
        vin: &str,
        actions: &[AuditAction],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
