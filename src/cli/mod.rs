//! The `portal` command line: every command reads `DATABASE_URL` and exits
//! non-zero with a clear message on bad input.

mod admin;
mod audit;
mod database;
mod demo;
mod import;
mod serve;
mod verify;
mod witness;

use crate::config::{init_tracing, GlobalOptions};
use admin::{admin, AdminCommand};
use anyhow::Context;
use audit::{audit_verify, AuditCommand};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use database::{backup, migrate_store, BackupArgs, MigrateStoreArgs};
use demo::{demo, DemoArgs};
use import::{import, ImportArgs};
use portal_core::server::store;
use portal_core::server::store::{Pool, Store};
use serve::{serve, ServeArgs};
use std::process::ExitCode;
use std::sync::Arc;
use verify::{verify, VerifyArgs};
use witness::{witness, WitnessArgs};

#[derive(Debug, Parser)]
#[command(name = "portal", version, about = "Owner vehicle-data portal")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do; without one, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (creates and migrates the database on start).
    Serve(ServeArgs),
    /// Import NDJSON files (optionally gzip), atomically per file.
    Import(ImportArgs),
    /// Generate realistic demo data and import it (or only write it with --out).
    Demo(DemoArgs),
    /// Administration: claim codes, staff accounts, ingest tokens, ownership transfers.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check an evidence bundle offline: its signature, every file, nothing added or missing.
    Verify(VerifyArgs),
    /// The audit log (a transparency log).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the database while the portal runs: SQLite
    /// to a new file (VACUUM INTO), PostgreSQL with pg_dump (custom format).
    Backup(BackupArgs),
    /// Witness another portal's transparency log: check each new checkpoint
    /// against the last one cosigned, cosign it and post the cosignature
    /// back (run by a third party, on its own machine).
    Witness(WitnessArgs),
    /// Move a SQLite deployment into an empty PostgreSQL database: every
    /// table as stored, audit chain included; checked after the move.
    MigrateStore(MigrateStoreArgs),
}

pub async fn run(cli: Cli) -> ExitCode {
    init_tracing(&cli.global.log_level);
    let result = match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::from_env()))
    {
        Command::Serve(args) => serve(&cli.global, args).await,
        Command::Import(args) => import(&cli.global, args).await,
        Command::Demo(args) => demo(&cli.global, args).await,
        Command::Admin(command) => admin(&cli.global, command).await,
        Command::Verify(args) => verify(&cli.global, args),
        Command::Audit(AuditCommand::Verify) => audit_verify(&cli.global).await,
        Command::MigrateStore(args) => migrate_store(&cli.global, args).await,
        Command::Backup(args) => backup(&cli.global, args).await,
        Command::Witness(args) => witness(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(super) async fn open_store(global: &GlobalOptions) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_database(global).await?.0)
}

/// Gives waiting audit entries their leaves in the transparency log and
/// signs a checkpoint, as the server does every second: a command that
/// wrote entries leaves them in the log, not waiting for the next start.
pub(super) async fn sequence_log(
    log: Option<Arc<portal_core::server::tlog::LogKey>>,
    store: &Arc<dyn Store>,
) -> anyhow::Result<()> {
    let portal = portal_core::server::Portal {
        log,
        ..portal_core::server::Portal::new(store.clone())
    };
    portal
        .sequence_log()
        .await
        .map_err(|e| anyhow::anyhow!("sequencing the transparency log: {e}"))?;
    Ok(())
}

pub(super) async fn open_database(
    global: &GlobalOptions,
) -> anyhow::Result<(Arc<dyn Store>, Pool)> {
    let url = global
        .database_url()
        .context("creating the data directory")?;
    store::open(&url)
        .await
        .with_context(|| format!("opening the database {url}"))
}

pub(super) fn parse_vin(input: &str) -> anyhow::Result<portal_core::domain::Vin> {
    portal_core::domain::Vin::parse(input).map_err(|e| anyhow::anyhow!("invalid VIN {input}: {e}"))
}

/// RFC 3339, or a plain date taken as midnight in the vehicle's own zone.
pub(super) async fn parse_instant(
    store: &dyn Store,
    vin: &portal_core::domain::Vin,
    input: &str,
) -> anyhow::Result<i64> {
    use chrono::TimeZone;
    if let Ok(t) = portal_core::domain::time::parse_rfc3339_micros(input) {
        return Ok(t);
    }
    let date = NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("`{input}` is neither RFC 3339 nor a date (YYYY-MM-DD)"))?;
    let vehicle = store
        .vehicle(vin)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no vehicle {vin} is held"))?;
    let tz: chrono_tz::Tz = vehicle
        .vehicle
        .timezone
        .parse()
        .map_err(|_| anyhow::anyhow!("the stored zone of {vin} is unreadable"))?;
    let local = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    let t = tz
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| anyhow::anyhow!("midnight of {date} does not exist in {tz}"))?;
    Ok(t.timestamp_micros())
}
