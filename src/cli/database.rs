//! `portal backup` and `portal migrate-store`: the store as a whole.

use super::open_database;
use crate::config::GlobalOptions;
use anyhow::Context;
use clap::Args;
use portal_core::server::store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy; it must not exist yet.
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The SQLite database (default: this installation's, from --database-url or the data dir).
    #[arg(long)]
    pub from: Option<String>,
    /// The PostgreSQL database, e.g. postgres://portal@db.internal/portal (it must exist and be empty).
    #[arg(long)]
    pub to: String,
}

pub(super) async fn migrate_store(
    global: &GlobalOptions,
    args: MigrateStoreArgs,
) -> anyhow::Result<ExitCode> {
    let from = match args.from {
        Some(url) => url,
        None => global
            .database_url()
            .context("creating the data directory")?,
    };
    let report = store::migrate::sqlite_to_postgres(&from, &args.to)
        .await
        .with_context(|| format!("moving {from} to {}", args.to))?;
    for (table, rows) in &report.tables {
        println!("{table:>18}  {rows} rows");
    }
    println!(
        "transparency log: {} entries, verified, root {}",
        report.audit_entries,
        report.audit_head.as_deref().unwrap_or("(empty)")
    );
    println!("done: point DATABASE_URL at the new database; everyone signs in again");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn backup(global: &GlobalOptions, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let url = global
        .database_url()
        .context("creating the data directory")?;
    let (store, pool) = open_database(global).await?;
    let done = store::backup::backup(&pool, &url, &args.path).await;
    store.close().await;
    let report = done.with_context(|| format!("backing up to {}", args.path.display()))?;
    println!(
        "backup written: {} ({} bytes, {})",
        args.path.display(),
        report.bytes,
        report.method
    );
    println!(
        "  keep the data directory's signing key (signing-key.ed25519) safe as well: bundles are signed with it"
    );
    println!("  restore: {}", report.restore_hint);
    Ok(ExitCode::SUCCESS)
}
