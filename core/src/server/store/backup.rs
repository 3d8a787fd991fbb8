//! Online backups: a consistent copy of the database while portal servers
//! keep serving. SQLite copies itself (`VACUUM INTO`, one read transaction);
//! PostgreSQL is dumped by its own `pg_dump`, in the custom format that
//! `pg_restore` reads.

use super::{Pool, StoreError};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct BackupReport {
    pub bytes: u64,
    pub method: &'static str,
    /// How to bring the copy back, for the operator.
    pub restore_hint: String,
}

/// Writes a copy of the database `url` names to `to`, a file that must not
/// exist yet; the copy is checked before this returns.
pub async fn backup(pool: &Pool, url: &str, to: &Path) -> Result<BackupReport, StoreError> {
    if to.exists() {
        return Err(StoreError::Backup(format!(
            "{} exists; name a new file (a backup never overwrites)",
            to.display()
        )));
    }
    let method = match pool {
        Pool::Sqlite(pool) => {
            let target = to.to_str().ok_or_else(|| {
                StoreError::Backup(format!("{} is not a UTF-8 path", to.display()))
            })?;
            sqlx::query("VACUUM INTO ?")
                .bind(target)
                .execute(pool)
                .await?;
            check_sqlite_copy(to).await?;
            "SQLite VACUUM INTO, integrity_check ok"
        }
        Pool::Postgres(_) => {
            pg_dump(url, to).await?;
            "pg_dump --format=custom"
        }
    };
    let bytes = std::fs::metadata(to)
        .map_err(|e| StoreError::Backup(format!("reading {}: {e}", to.display())))?
        .len();
    let restore_hint = match pool {
        Pool::Sqlite(_) => format!(
            "stop the portal, copy {} to the database file (or point DATABASE_URL=sqlite://{} at it), start it",
            to.display(),
            to.display()
        ),
        Pool::Postgres(_) => format!(
            "createdb NEW && pg_restore --no-owner --dbname=postgres://…/NEW {}, then DATABASE_URL=postgres://…/NEW",
            to.display()
        ),
    };
    Ok(BackupReport {
        bytes,
        method,
        restore_hint,
    })
}

async fn check_sqlite_copy(path: &Path) -> Result<(), StoreError> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    drop(conn);
    if verdict != "ok" {
        return Err(StoreError::Backup(format!(
            "the copy fails integrity_check: {verdict}"
        )));
    }
    Ok(())
}

async fn pg_dump(url: &str, to: &Path) -> Result<(), StoreError> {
    let (url, to) = (url.to_string(), to.to_path_buf());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--file")
            .arg(&to)
            .arg(&url)
            .output()
    })
    .await
    .map_err(|e| StoreError::Backup(e.to_string()))?;
    match output {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(StoreError::Backup(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::Backup(
            "pg_dump is not installed (Debian: apt-get install postgresql-client); \
             or run it yourself: pg_dump --format=custom --file PATH DATABASE_URL"
                .into(),
        )),
        Err(e) => Err(StoreError::Backup(format!("running pg_dump: {e}"))),
    }
}
