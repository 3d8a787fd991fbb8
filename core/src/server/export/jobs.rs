//! Background exports. A large export is written to a temporary file while
//! its progress is counted; once written, the file is stored in the database
//! in parts and downloads with its length (so the browser shows progress
//! too) until it expires.
//!
//! Jobs live in the database, not in the process that runs them: behind a
//! load balancer any portal server reports a job's progress and hands out
//! its file. The server running a job writes its progress every second; a
//! job that shows no life for `STALE` (its server stopped) is reported as
//! failed.

use super::{naming, receiver_stream, Export, ExportFile, Progress};
use crate::domain::export::{ExportFormat, ExportJobState, ExportJobStatus, ExportQuery};
use crate::server::authz::Principal;
use crate::server::error::ServiceError;
use crate::server::store::{ExportJobEnd, ExportJobRecord, NewExportJob, Store};
use crate::server::{now_us, Portal};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A job and its file are kept this long after its last sign of life.
const KEEP: Duration = Duration::from_secs(60 * 60);
/// Jobs one account may have running at once.
const RUNNING_PER_ACCOUNT: u32 = 2;
/// How often the server running a job writes its progress.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A running job silent this long has lost its server.
const STALE: Duration = Duration::from_secs(30);
/// The file is stored in parts of this size.
const PART: usize = 1 << 20;

fn ago_us(span: Duration) -> i64 {
    now_us() - span.as_micros() as i64
}

/// 128 random bits as hex: a job id nobody can guess.
fn random_id() -> String {
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    hex::encode(id)
}

/// The job's state as of `now_us`: a running job whose server stopped
/// showing life has failed.
fn state(job: &ExportJobRecord, now_us: i64) -> ExportJobState {
    match job.state {
        ExportJobState::Running if job.updated_us < now_us - STALE.as_micros() as i64 => {
            ExportJobState::Failed
        }
        state => state,
    }
}

/// What a job's page shows, as of `now_us`.
fn status(job: &ExportJobRecord, now_us: i64) -> ExportJobStatus {
    ExportJobStatus {
        id: job.id.clone(),
        vin: job.vin.clone(),
        format: job.format.as_str().to_string(),
        state: state(job, now_us),
        rows_written: job.rows_written,
        rows_expected: job.rows_expected,
        bytes_written: job.bytes_written,
        bytes_expected: job.bytes_expected,
        size: job.size,
    }
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
        // A bundle writes the samples twice: as CSV and as NDJSON.
        let passes = match planned.format {
            ExportFormat::Bundle => 2 + p.include.len() as u64,
            ExportFormat::Pdf => 2,
            ExportFormat::Csv
            | ExportFormat::Ndjson
            | ExportFormat::Gpx
            | ExportFormat::Parquet => 1,
        };
        let job = NewExportJob {
            id: random_id(),
            account: who.account()?.account_id,
            vin: planned.vin.clone(),
            format: planned.format,
            rows_expected: info.samples * passes,
            bytes_expected: info.approx_bytes * passes,
            at_us: now_us(),
        };
        self.store.expire_export_jobs(ago_us(KEEP)).await?;
        if !self
            .store
            .create_export_job(&job, RUNNING_PER_ACCOUNT, ago_us(STALE))
            .await?
        {
            return Err(ServiceError::Conflict {
                code: "exports_running",
                message: format!(
                    "{RUNNING_PER_ACCOUNT} exports are still being prepared; wait for one to finish"
                ),
            });
        }
        tokio::spawn(run(self.clone(), job.id.clone(), planned));
        Ok(ExportJobStatus {
            id: job.id,
            vin: job.vin,
            format: job.format.as_str().to_string(),
            state: ExportJobState::Running,
            rows_written: 0,
            rows_expected: job.rows_expected,
            bytes_written: 0,
            bytes_expected: job.bytes_expected,
            size: None,
        })
    }

    /// The job, if `who` started it and it has not expired; anyone else
    /// gets not-found, as does everyone once it has expired.
    async fn owned_job(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<ExportJobRecord, ServiceError> {
        // Jobs belong to accounts: a recipient has none to see.
        let who = who
            .ok_or(ServiceError::Unauthenticated)?
            .account()
            .map_err(|_| ServiceError::NotFound)?;
        self.store
            .export_job(id)
            .await?
            .filter(|job| job.account == who.account_id && job.updated_us >= ago_us(KEEP))
            .ok_or(ServiceError::NotFound)
    }

    /// `GET /api/v1/exports/{id}`: how far the job is.
    pub async fn export_job(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<ExportJobStatus, ServiceError> {
        Ok(status(&self.owned_job(who, id).await?, now_us()))
    }

    /// `GET /api/v1/exports/{id}/file`: the finished file, with its length.
    pub async fn export_job_file(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<Export, ServiceError> {
        let job = self.owned_job(who, id).await?;
        match state(&job, now_us()) {
            ExportJobState::Ready => Ok(stored_file(self.store.clone(), job)),
            ExportJobState::Running => Err(ServiceError::Conflict {
                code: "export_not_ready",
                message: "the export is still being prepared".into(),
            }),
            ExportJobState::Failed => Err(ServiceError::Conflict {
                code: "export_failed",
                message: "the export failed; start it again".into(),
            }),
        }
    }
}

/// Stops a task when dropped, on a panic too.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Writes the job's export, stores its file, and records how it ended,
/// writing its progress every `HEARTBEAT` until then. Should this task die,
/// the heartbeat stops with it and the job soon reads as failed.
async fn run(portal: Portal, id: String, planned: super::Planned) {
    let store = portal.store.clone();
    let progress = Arc::<Progress>::default();
    let heartbeat = AbortOnDrop(tokio::spawn({
        let (store, id, progress) = (store.clone(), id.clone(), progress.clone());
        async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let rows = progress.rows.load(Ordering::Relaxed);
                let bytes = progress.bytes.load(Ordering::Relaxed);
                if let Err(e) = store.export_job_progress(&id, rows, bytes, now_us()).await {
                    tracing::warn!(error = %e, "an export job's progress was not recorded");
                }
            }
        }
    }));
    let stored = match portal.export_to_file(planned, Some(progress.clone())).await {
        Ok(file) => store_file(&*store, &id, &file, &progress).await,
        Err(e) => Err(e),
    };
    drop(heartbeat);
    let end = stored.unwrap_or_else(|e| {
        tracing::error!(error = %e, "background export failed");
        ExportJobEnd::Failed
    });
    if let Err(e) = store.end_export_job(&id, &end, now_us()).await {
        // Without a heartbeat the job reads as failed once it is stale.
        tracing::error!(error = %e, "an export job's end was not recorded");
    }
}

/// Copies a written export into the database, part by part.
async fn store_file(
    store: &dyn Store,
    id: &str,
    file: &ExportFile,
    progress: &Progress,
) -> Result<ExportJobEnd, ServiceError> {
    use tokio::io::AsyncReadExt;
    let io = |e: std::io::Error| ServiceError::Internal(format!("reading an export: {e}"));
    let mut reader = tokio::fs::File::from_std(file.file.reopen().map_err(io)?);
    let (mut seq, mut size) = (0u32, 0u64);
    loop {
        let mut part = Vec::with_capacity(PART);
        let n = (&mut reader)
            .take(PART as u64)
            .read_to_end(&mut part)
            .await
            .map_err(io)?;
        if n == 0 {
            break;
        }
        store.put_export_job_part(id, seq, &part).await?;
        seq += 1;
        size += n as u64;
    }
    Ok(ExportJobEnd::Ready {
        filename: file.filename.clone(),
        size,
        rows: progress.rows.load(Ordering::Relaxed),
        bytes: progress.bytes.load(Ordering::Relaxed),
    })
}

/// A ready job's file as a download, read from the database part by part.
fn stored_file(store: Arc<dyn Store>, mut job: ExportJobRecord) -> Export {
    let size = job.size.unwrap_or(0);
    let (content_type, _) = naming(job.format, &job.vin, None);
    let filename = job.filename.take().unwrap_or_default();
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let (mut seq, mut sent) = (0u32, 0u64);
        loop {
            let part = match store.export_job_part(&job.id, seq).await {
                Ok(Some(part)) => part,
                Ok(None) if sent == size => break,
                // Expired (or damaged) while it was read: the client sees a
                // broken download, never a short file that looks whole.
                Ok(None) => {
                    let message = format!("export {} ends at {sent} of {size} bytes", job.id);
                    let _ = tx.send(Err(ServiceError::Internal(message))).await;
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    break;
                }
            };
            sent += part.len() as u64;
            seq += 1;
            if tx.send(Ok(part)).await.is_err() {
                break;
            }
        }
    });
    Export {
        content_type,
        filename,
        length: Some(size),
        body: receiver_stream(rx),
    }
}
