//! Background exports: their progress and their files.

use super::{AccountId, StoreError};
use crate::domain::export::{ExportFormat, ExportJobState};
use async_trait::async_trait;

/// A background export as it starts (see `export::jobs`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewExportJob {
    /// 128 random bits as hex: nobody can guess another's job.
    pub id: String,
    pub account: AccountId,
    pub vin: String,
    pub format: ExportFormat,
    pub rows_expected: u64,
    pub bytes_expected: u64,
    pub at_us: i64,
}

/// A background export as any portal server sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJobRecord {
    pub id: String,
    pub account: AccountId,
    pub vin: String,
    pub format: ExportFormat,
    /// As stored: a running job whose server stopped still says running.
    pub state: ExportJobState,
    pub rows_expected: u64,
    pub bytes_expected: u64,
    pub rows_written: u64,
    pub bytes_written: u64,
    /// Ready jobs: the file's name and exact size.
    pub filename: Option<String>,
    pub size: Option<u64>,
    /// The last sign of life of the server running it (its end, once ended).
    pub updated_us: i64,
}

/// How a background export ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportJobEnd {
    Ready {
        filename: String,
        size: u64,
        rows: u64,
        bytes: u64,
    },
    Failed,
}

impl ExportJobEnd {
    /// The job's columns as this end sets them: state, file name, size,
    /// rows and bytes written (`None` keeps what the heartbeat wrote).
    pub fn columns(
        &self,
    ) -> (
        ExportJobState,
        Option<&str>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    ) {
        match self {
            ExportJobEnd::Ready {
                filename,
                size,
                rows,
                bytes,
            } => (
                ExportJobState::Ready,
                Some(filename.as_str()),
                Some(*size as i64),
                Some(*rows as i64),
                Some(*bytes as i64),
            ),
            ExportJobEnd::Failed => (ExportJobState::Failed, None, None, None, None),
        }
    }
}

/// Background exports: their progress and their files.
#[async_trait]
pub trait ExportJobStore: Send + Sync {
    /// Adds a running job unless its account already runs `max_running`
    /// jobs that showed life since `alive_since_us`; false when it does.
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        max_running: u32,
        alive_since_us: i64,
    ) -> Result<bool, StoreError>;

    /// A running job's progress, and its sign of life.
    async fn export_job_progress(
        &self,
        id: &str,
        rows: u64,
        bytes: u64,
        at_us: i64,
    ) -> Result<(), StoreError>;

    /// Part `seq` (from 0) of a job's file.
    async fn put_export_job_part(&self, id: &str, seq: u32, data: &[u8]) -> Result<(), StoreError>;

    async fn end_export_job(
        &self,
        id: &str,
        end: &ExportJobEnd,
        at_us: i64,
    ) -> Result<(), StoreError>;

    async fn export_job(&self, id: &str) -> Result<Option<ExportJobRecord>, StoreError>;

    async fn export_job_part(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes jobs (and their files) with no sign of life since `before_us`.
    async fn expire_export_jobs(&self, before_us: i64) -> Result<u64, StoreError>;
}
