//! PostgreSQL: background export jobs and their files.

use super::time::Ts;
use super::PgStore;
use crate::server::store::decode::{self, JOB_COLUMNS};
use crate::server::store::{
    ExportJobEnd, ExportJobRecord, ExportJobStore, NewExportJob, StoreError,
};
use async_trait::async_trait;
use sqlx::PgPool;

pub(super) async fn create(
    pool: &PgPool,
    job: &NewExportJob,
    max_running: u32,
    alive_since_us: i64,
) -> Result<bool, StoreError> {
    // One statement. Two servers starting jobs for one account at the same
    // instant may both pass the count: the limit is a courtesy, not a lock.
    let done = sqlx::query(
        "INSERT INTO export_jobs (id, account_id, vin, format, state, rows_expected, \
         bytes_expected, started_at, updated_at) \
         SELECT $1, $2, $3, $4, 'running', $5, $6, $7, $7 \
         WHERE (SELECT count(*) FROM export_jobs WHERE account_id = $2 \
                AND state = 'running' AND updated_at >= $8) < $9",
    )
    .bind(&job.id)
    .bind(job.account)
    .bind(&job.vin)
    .bind(job.format.as_str())
    .bind(job.rows_expected as i64)
    .bind(job.bytes_expected as i64)
    .bind(Ts(job.at_us))
    .bind(Ts(alive_since_us))
    .bind(max_running as i64)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn progress(
    pool: &PgPool,
    id: &str,
    rows: u64,
    bytes: u64,
    at_us: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE export_jobs SET rows_written = $1, bytes_written = $2, updated_at = $3 \
         WHERE id = $4 AND state = 'running'",
    )
    .bind(rows as i64)
    .bind(bytes as i64)
    .bind(Ts(at_us))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

async fn put_part(pool: &PgPool, id: &str, seq: u32, data: &[u8]) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO export_job_parts (job_id, seq, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(seq as i32)
        .bind(data)
        .execute(pool)
        .await?;
    Ok(())
}

async fn finish(pool: &PgPool, id: &str, end: &ExportJobEnd, at_us: i64) -> Result<(), StoreError> {
    // A failed job keeps no part of its file.
    let (state, filename, size, rows, bytes) = end.columns();
    sqlx::query(
        "WITH dropped AS (DELETE FROM export_job_parts WHERE job_id = $1 AND $2 = 'failed') \
         UPDATE export_jobs SET state = $2, filename = $3, size = $4, \
         rows_written = coalesce($5, rows_written), bytes_written = coalesce($6, bytes_written), \
         updated_at = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(filename)
    .bind(size)
    .bind(rows)
    .bind(bytes)
    .bind(Ts(at_us))
    .execute(pool)
    .await?;
    Ok(())
}

async fn get(pool: &PgPool, id: &str) -> Result<Option<ExportJobRecord>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM export_jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode::export_job).transpose()
}

async fn part(pool: &PgPool, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT data FROM export_job_parts WHERE job_id = $1 AND seq = $2")
            .bind(id)
            .bind(seq as i32)
            .fetch_optional(pool)
            .await?,
    )
}

async fn expire(pool: &PgPool, before_us: i64) -> Result<u64, StoreError> {
    // The parts go with their job (ON DELETE CASCADE).
    let done = sqlx::query("DELETE FROM export_jobs WHERE updated_at < $1")
        .bind(Ts(before_us))
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl ExportJobStore for PgStore {
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        max_running: u32,
        alive_since_us: i64,
    ) -> Result<bool, StoreError> {
        create(&self.pool, job, max_running, alive_since_us).await
    }

    async fn export_job_progress(
        &self,
        id: &str,
        rows: u64,
        bytes: u64,
        at_us: i64,
    ) -> Result<(), StoreError> {
        progress(&self.pool, id, rows, bytes, at_us).await
    }

    async fn put_export_job_part(&self, id: &str, seq: u32, data: &[u8]) -> Result<(), StoreError> {
        put_part(&self.pool, id, seq, data).await
    }

    async fn end_export_job(
        &self,
        id: &str,
        end: &ExportJobEnd,
        at_us: i64,
    ) -> Result<(), StoreError> {
        finish(&self.pool, id, end, at_us).await
    }

    async fn export_job(&self, id: &str) -> Result<Option<ExportJobRecord>, StoreError> {
        get(&self.pool, id).await
    }

    async fn export_job_part(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        part(&self.pool, id, seq).await
    }

    async fn expire_export_jobs(&self, before_us: i64) -> Result<u64, StoreError> {
        expire(&self.pool, before_us).await
    }
}
