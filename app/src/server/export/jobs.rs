//! Background exports. A large export is written to a temporary file while
//! its progress page counts rows and bytes; once ready it downloads with its
//! length (so the browser shows progress too) until it expires.
//!
//! Jobs live in this process's memory: behind a load balancer the progress
//! page and the download must reach the server that runs the job (sticky
//! sessions), or the client uses the plain streamed export instead.

use super::{ExportFile, Progress};
use crate::domain::export::{ExportJobState, ExportJobStatus, ExportQuery};
use crate::server::authz::Principal;
use crate::server::error::ServiceError;
use crate::server::store::AccountId;
use crate::server::Portal;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A finished job's file is kept this long for its download.
const KEEP: Duration = Duration::from_secs(60 * 60);
/// Jobs one account may have running at once.
const RUNNING_PER_ACCOUNT: usize = 2;

enum Outcome {
    Running,
    Ready(Arc<ExportFile>),
    Failed,
}

struct Job {
    account: AccountId,
    vin: String,
    format: &'static str,
    expected_rows: u64,
    expected_bytes: u64,
    progress: Arc<Progress>,
    outcome: Mutex<Outcome>,
    finished: Mutex<Option<Instant>>,
}

/// This process's export jobs.
#[derive(Default)]
pub struct ExportJobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
}

impl ExportJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Job>>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets (and so deletes the files of) jobs finished over `KEEP` ago.
    fn expire(&self) {
        self.lock().retain(|_, job| {
            let finished = *job.finished.lock().unwrap_or_else(|e| e.into_inner());
            finished.is_none_or(|at| at.elapsed() < KEEP)
        });
    }

    /// The job, if `who` started it (anyone else gets not-found).
    fn get(&self, who: &Principal, id: &str) -> Result<Arc<Job>, ServiceError> {
        self.expire();
        self.lock()
            .get(id)
            .filter(|job| job.account == who.account_id)
            .cloned()
            .ok_or(ServiceError::NotFound)
    }
}

impl Job {
    fn status(&self, id: &str) -> ExportJobStatus {
        let outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        let (state, size) = match &*outcome {
            Outcome::Running => (ExportJobState::Running, None),
            Outcome::Ready(file) => (ExportJobState::Ready, Some(file.size())),
            Outcome::Failed => (ExportJobState::Failed, None),
        };
        ExportJobStatus {
            id: id.to_string(),
            vin: self.vin.clone(),
            format: self.format.to_string(),
            state,
            rows_written: self.progress.rows.load(Ordering::Relaxed),
            rows_expected: self.expected_rows,
            bytes_written: self.progress.bytes.load(Ordering::Relaxed),
            bytes_expected: self.expected_bytes,
            size,
        }
    }
}

/// 128 random bits as hex: a job id nobody can guess.
fn random_id() -> String {
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    hex::encode(id)
}

impl Portal {
    /// `POST /api/v1/vehicles/{vin}/exports`: starts writing the export in
    /// the background. It is checked (and passes the gate) before it starts.
    pub async fn start_export_job(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
    ) -> Result<ExportJobStatus, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        let planned = self.plan_export(Some(who), vin, q).await?;
        let p = &planned.plan;
        let info = self
            .estimate(&p.access, &p.filter, p.fields.as_deref())
            .await?;
        let jobs = self.export_jobs.clone();
        jobs.expire();
        let running = jobs
            .lock()
            .values()
            .filter(|j| j.account == who.account_id && j.finished.lock().is_ok_and(|f| f.is_none()))
            .count();
        if running >= RUNNING_PER_ACCOUNT {
            return Err(ServiceError::Conflict {
                code: "exports_running",
                message: format!(
                    "{running} exports are still being prepared; wait for one to finish"
                ),
            });
        }
        // A bundle writes the samples twice: as CSV and as NDJSON.
        let passes = if matches!(
            planned.format,
            crate::domain::export::ExportFormat::Bundle | crate::domain::export::ExportFormat::Pdf
        ) {
            2
        } else {
            1
        };
        let job = Arc::new(Job {
            account: who.account_id,
            vin: planned.vin.clone(),
            format: planned.format.as_str(),
            expected_rows: info.samples * passes,
            expected_bytes: info.approx_bytes * passes,
            progress: Arc::default(),
            outcome: Mutex::new(Outcome::Running),
            finished: Mutex::new(None),
        });
        let id = random_id();
        jobs.lock().insert(id.clone(), job.clone());
        let portal = self.clone();
        let status = job.status(&id);
        tokio::spawn(async move {
            let outcome = match portal
                .export_to_file(planned, Some(job.progress.clone()))
                .await
            {
                Ok(file) => Outcome::Ready(Arc::new(file)),
                Err(e) => {
                    tracing::error!(error = %e, "background export failed");
                    Outcome::Failed
                }
            };
            *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = outcome;
            *job.finished.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        });
        Ok(status)
    }

    /// `GET /api/v1/exports/{id}`: how far the job is.
    pub fn export_job(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<ExportJobStatus, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        Ok(self.export_jobs.get(who, id)?.status(id))
    }

    /// `GET /api/v1/exports/{id}/file`: the finished file, with its length.
    pub fn export_job_file(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<super::Export, ServiceError> {
        let who = who.ok_or(ServiceError::Unauthenticated)?;
        let job = self.export_jobs.get(who, id)?;
        let outcome = job.outcome.lock().unwrap_or_else(|e| e.into_inner());
        match &*outcome {
            Outcome::Ready(file) => file.download(),
            Outcome::Running => Err(ServiceError::Conflict {
                code: "export_not_ready",
                message: "the export is still being prepared".into(),
            }),
            Outcome::Failed => Err(ServiceError::Conflict {
                code: "export_failed",
                message: "the export failed; start it again".into(),
            }),
        }
    }
}
