//! The `portal` command line: every command reads `DATABASE_URL` and exits
//! non-zero with a clear message on bad input.

use crate::config::{init_tracing, GlobalOptions};
use crate::http::sessions::Sessions;
use crate::http::{router, shutdown_signal, AppState};
use anyhow::{bail, Context};
use app::server::demo::{self, DemoConfig};
use app::server::import::{
    import_file, ImportError, ImportOptions, ImportSummary, Progress, ProgressFn,
};
use app::server::signing::{PublicKey, Signer};
use app::server::store::{self, Pool, Store};
use app::server::vehicles::Retention;
use app::server::verify::verify_bundle;
use app::server::Portal;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
    /// The audit log (a hash chain).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the database while the portal runs: SQLite
    /// to a new file (VACUUM INTO), PostgreSQL with pg_dump (custom format).
    Backup(BackupArgs),
    /// Move a SQLite deployment into an empty PostgreSQL database: every
    /// table as stored, audit chain included; checked after the move.
    MigrateStore(MigrateStoreArgs),
}

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

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain; name the first entry that was edited, deleted or moved.
    /// The head it verified is kept in the data directory (`audit-head.json`),
    /// so the next run also notices deleted newest entries.
    Verify,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle (a zip file).
    pub bundle: PathBuf,
    /// The portal's public key: the JSON of /.well-known/portal-signing-key or
    /// its hex (default: this installation's own key in the data directory).
    #[arg(long)]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Issue a one-time claim code for the VIN's next owner.
    ClaimCode {
        vin: String,
        /// Start of the new owner's period: RFC 3339, or a date (midnight in the vehicle's zone).
        #[arg(long)]
        since: Option<String>,
    },
    /// Create a support or admin account: prints its first password and its
    /// TOTP enrolment (a QR code drawn here, and the otpauth address).
    AddStaff {
        account: String,
        #[arg(long, value_parser = ["support", "admin"])]
        role: String,
    },
    /// Issue a token for `POST /api/v1/ingest` (printed once, stored hashed);
    /// `--revoke` ends the named token, `--list` shows every token.
    IngestToken {
        /// The token's name, e.g. the pipeline that uses it (`dc-shanghai-1`).
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// Revoke the live token of this name instead: it stops working at once.
        #[arg(long, conflicts_with = "list")]
        revoke: bool,
        /// List every token, live and revoked (names and times; never secrets).
        #[arg(long)]
        list: bool,
    },
    /// End the VIN's current ownership period.
    Transfer {
        vin: String,
        /// RFC 3339, or a date (midnight in the vehicle's zone).
        #[arg(long)]
        at: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: the site address in Cargo.toml, 127.0.0.1:3000).
    #[arg(long, env = "PORTAL_BIND")]
    pub bind: Option<SocketAddr>,
    /// Load the demo data first when the database holds no vehicle yet.
    #[arg(long, env = "PORTAL_DEMO_IF_EMPTY")]
    pub demo_if_empty: bool,
    /// Send session cookies without `Secure` (and no HSTS): only for plain-http local use.
    #[arg(long, env = "PORTAL_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
    /// Days telemetry (and location) is kept, as stated to owners.
    #[arg(long, env = "PORTAL_RETENTION_TELEMETRY_DAYS", default_value_t = Retention::default().telemetry_days)]
    pub retention_telemetry_days: u32,
    /// Days events are kept, as stated to owners.
    #[arg(long, env = "PORTAL_RETENTION_EVENTS_DAYS", default_value_t = Retention::default().events_days)]
    pub retention_events_days: u32,
    /// The dispute report's CJK font (default: Debian's fonts-noto-cjk,
    /// /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc).
    #[arg(long, env = "PORTAL_REPORT_FONT")]
    pub report_font: Option<PathBuf>,
    /// Days crash records are kept (locked ones are kept whatever this says).
    #[arg(long, env = "PORTAL_RETENTION_CRASH_DAYS", default_value_t = Retention::default().crash_records_days)]
    pub retention_crash_days: u32,
    /// `POST /api/v1/ingest` refuses bodies larger than this many bytes (as sent).
    #[arg(long, env = "PORTAL_INGEST_MAX_BYTES", default_value_t = app::server::DEFAULT_INGEST_MAX_BYTES)]
    pub ingest_max_bytes: u64,
    /// The public bundle check (`/verify`, `POST /api/v1/verify`) refuses
    /// uploads larger than this many bytes.
    #[arg(long, env = "PORTAL_VERIFY_MAX_BYTES", default_value_t = app::server::DEFAULT_VERIFY_MAX_BYTES)]
    pub verify_max_bytes: u64,
}

impl ServeArgs {
    /// `portal` without a command serves: the flags' defaults and environment.
    fn from_env() -> Self {
        use clap::FromArgMatches;
        let matches =
            ServeArgs::augment_args(clap::Command::new("serve")).get_matches_from(["serve"]);
        ServeArgs::from_arg_matches(&matches).expect("serve takes its defaults")
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON files; `.gz` (or any gzip content) is decompressed.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Keep unknown fields in an `extra` object instead of rejecting them.
    #[arg(long)]
    pub lenient: bool,
    /// Reject a file when any record conflicts with one already held.
    #[arg(long)]
    pub reject_conflicts: bool,
    /// How many errors and conflicts to list per file (all are counted).
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 3)]
    pub vehicles: u32,
    #[arg(long, default_value_t = 21)]
    pub days: u32,
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// First day of the generated period (UTC date).
    #[arg(long, default_value = "2026-10-01")]
    pub start: NaiveDate,
    /// Only write the NDJSON to this file (`.gz` compresses) instead of importing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do nothing when the database already holds vehicles.
    #[arg(long)]
    pub if_empty: bool,
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate_store(global: &GlobalOptions, args: MigrateStoreArgs) -> anyhow::Result<ExitCode> {
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
        "audit chain: {} entries, verified, head {}",
        report.audit_entries,
        report.audit_head.as_deref().unwrap_or("(empty)")
    );
    println!("done: point DATABASE_URL at the new database; everyone signs in again");
    Ok(ExitCode::SUCCESS)
}

async fn backup(global: &GlobalOptions, args: BackupArgs) -> anyhow::Result<ExitCode> {
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

async fn open_store(global: &GlobalOptions) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_database(global).await?.0)
}

async fn open_database(global: &GlobalOptions) -> anyhow::Result<(Arc<dyn Store>, Pool)> {
    let url = global
        .database_url()
        .context("creating the data directory")?;
    store::open(&url)
        .await
        .with_context(|| format!("opening the database {url}"))
}

/// `portal verify`: exit 0 when the bundle verifies, 1 when it does not.
fn verify(global: &GlobalOptions, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let key = match &args.key {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the key {}", path.display()))?;
            PublicKey::parse(&text)?
        }
        None => {
            if !global.data_dir.join("signing-key.ed25519").exists() {
                anyhow::bail!(
                    "no key in {}: pass --key FILE (the portal's /.well-known/portal-signing-key)",
                    global.data_dir.display()
                );
            }
            Signer::load_or_create(&global.data_dir)?.public_key()
        }
    };
    let file = std::fs::File::open(&args.bundle)
        .with_context(|| format!("opening {}", args.bundle.display()))?;
    let v = verify_bundle(std::io::BufReader::new(file), &key);
    println!("key fingerprint: {}", key.fingerprint);
    if let Some(id) = &v.bundle_id {
        println!("bundle: {id} (VIN {})", v.vin.as_deref().unwrap_or("?"));
    }
    if let Some(sha) = &v.manifest_sha256 {
        println!("manifest SHA-256: {sha}");
    }
    if v.valid {
        println!("valid: the signature matches and every file is as the manifest lists it");
        return Ok(ExitCode::SUCCESS);
    }
    println!("NOT valid:");
    for p in &v.problems {
        println!(
            "  - {}",
            serde_json::to_string(p).unwrap_or_else(|_| p.short())
        );
    }
    Ok(ExitCode::from(1))
}

async fn serve(global: &GlobalOptions, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Before anything else: a report without its font would show empty boxes.
    let report_font = app::server::export::report::ReportFont::load(args.report_font.as_deref())
        .map_err(anyhow::Error::msg)?;
    let (store, pool) = open_database(global).await?;
    let signer = Signer::load_or_create(&global.data_dir).context("loading the signing key")?;
    println!(
        "Evidence bundles are signed with the key fingerprinted {}",
        signer.public_key().fingerprint
    );
    if args.demo_if_empty && store.is_empty().await? {
        load_demo(global, &store, &DemoConfig::default()).await?;
    }
    let sessions = Sessions::open(&pool)
        .await
        .context("preparing the session store")?;
    sessions.spawn_purge();
    let secure = !args.insecure_cookies;
    if !secure {
        println!("Session cookies are sent without Secure (--insecure-cookies): use this only on plain http://localhost.");
    }
    let conf =
        leptos::prelude::get_configuration(None).context("reading the Leptos configuration")?;
    let mut leptos_options = conf.leptos_options;
    if let Some(bind) = args.bind {
        leptos_options.site_addr = bind;
    }
    let addr = leptos_options.site_addr;
    let state = AppState {
        leptos_options,
        portal: Portal {
            retention: Retention {
                telemetry_days: args.retention_telemetry_days,
                events_days: args.retention_events_days,
                crash_records_days: args.retention_crash_days,
            },
            signer: Some(Arc::new(signer)),
            report_font: Some(Arc::new(report_font)),
            ingest_max_bytes: args.ingest_max_bytes,
            verify_max_bytes: args.verify_max_bytes,
            ..Portal::new(store.clone())
        },
    };
    let app = router(state, sessions, secure);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    // The real address: `--bind 127.0.0.1:0` picks a free port.
    println!("Serving on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    store.close().await;
    println!("Stopped");
    Ok(ExitCode::SUCCESS)
}

async fn import(global: &GlobalOptions, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    let options = ImportOptions {
        strict: !args.lenient,
        reject_conflicts: args.reject_conflicts,
        max_listed: args.max_errors,
        actor: "cli".into(),
    };
    let mut failed = 0;
    for path in &args.files {
        let bar = progress_bar(path);
        let report: ProgressFn = {
            let bar = bar.clone();
            Arc::new(move |p: Progress| {
                bar.set_position(p.bytes);
                bar.set_message(format!("{} lines", p.lines));
            })
        };
        let outcome = import_file(&*store, path, &options, Some(report)).await;
        bar.finish_and_clear();
        match outcome {
            Ok(summary) => print_summary(&summary, args.format)?,
            Err(e) => {
                failed += 1;
                report_import_error(&e, args.format)?;
            }
        }
    }
    store.close().await;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn progress_bar(path: &Path) -> indicatif::ProgressBar {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    // Drawn only when stderr is a terminal.
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(path.display().to_string());
    bar
}

fn print_summary(s: &ImportSummary, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(s)?)?,
        OutputFormat::Text => {
            writeln!(
                out,
                "{}: imported ({} lines, sha256 {})",
                s.source, s.lines, s.sha256
            )?;
            let i = &s.inserted;
            let d = &s.duplicates;
            writeln!(
                out,
                "  added:      {} vehicles, {} samples, {} events, {} crash records",
                i.vehicles, i.samples, i.events, i.edr
            )?;
            writeln!(out, "  duplicates: {} vehicles, {} samples, {} events, {} crash records (already held, skipped)", d.vehicles, d.samples, d.events, d.edr)?;
            writeln!(
                out,
                "  conflicts:  {} (held values kept)",
                s.conflicts_total
            )?;
            for c in &s.conflicts {
                writeln!(out, "    line {}: {} — {}", c.line, c.identity, c.reason)?;
            }
            if s.conflicts_total as usize > s.conflicts.len() {
                writeln!(
                    out,
                    "    … and {} more",
                    s.conflicts_total as usize - s.conflicts.len()
                )?;
            }
        }
    }
    Ok(())
}

fn report_import_error(e: &ImportError, format: OutputFormat) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    match (e, format) {
        (
            ImportError::Rejected {
                source_name,
                total,
                errors,
                conflicts,
            },
            OutputFormat::Json,
        ) => {
            let body = serde_json::json!({"source": source_name, "rejected": true, "total_errors": total, "errors": errors, "conflicts": conflicts});
            writeln!(std::io::stdout(), "{body}")?;
        }
        (
            ImportError::Rejected {
                source_name,
                total,
                errors,
                conflicts,
            },
            OutputFormat::Text,
        ) => {
            writeln!(err, "{e}")?;
            for x in errors {
                let field = x
                    .field
                    .as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default();
                writeln!(err, "  {source_name}:{}: {field}{}", x.line, x.reason)?;
            }
            for c in conflicts {
                writeln!(
                    err,
                    "  {source_name}:{}: conflict: {} — {}",
                    c.line, c.identity, c.reason
                )?;
            }
            let listed = (errors.len() + conflicts.len()) as u64;
            if *total > listed {
                writeln!(err, "  … and {} more", total - listed)?;
            }
        }
        (other, _) => writeln!(err, "error: {other}")?,
    }
    Ok(())
}

async fn demo(global: &GlobalOptions, args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.vehicles == 0 || args.days == 0 {
        bail!("--vehicles and --days must be at least 1");
    }
    let config = DemoConfig {
        vehicles: args.vehicles,
        days: args.days,
        seed: args.seed,
        start: args.start,
    };
    if let Some(out) = &args.out {
        let counts = write_demo_file(&config, out)?;
        println!(
            "wrote {}: {} vehicles, {} samples, {} events, {} crash records",
            out.display(),
            counts.vehicles,
            counts.samples,
            counts.events,
            counts.edr
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(global).await?;
    if args.if_empty && !store.is_empty().await? {
        println!("the database already holds vehicles; demo data not loaded");
    } else {
        load_demo(global, &store, &config).await?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn write_demo_file(config: &DemoConfig, out: &Path) -> anyhow::Result<demo::DemoCounts> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let counts = if out.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(&mut writer, flate2::Compression::fast());
        let c = demo::generate(config, &mut gz)?;
        gz.finish()?;
        c
    } else {
        demo::generate(config, &mut writer)?
    };
    writer.flush()?;
    Ok(counts)
}

/// The demo owner's sign-in, printed when the demo data is loaded.
pub const DEMO_OWNER: &str = "owner@example.com";
pub const DEMO_OWNER_PASSWORD: &str = "demo-owner-2021";

/// Generates the demo file in the data directory and imports it through the normal path.
async fn load_demo(
    global: &GlobalOptions,
    store: &Arc<dyn Store>,
    config: &DemoConfig,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&global.data_dir)?;
    let path = global.data_dir.join(format!("demo-{}.ndjson", config.seed));
    let counts = write_demo_file(config, &path)?;
    let options = ImportOptions {
        actor: "demo".into(),
        ..ImportOptions::default()
    };
    let result = import_file(&**store, &path, &options, None).await;
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(summary) => {
            println!(
                "demo data loaded: {} vehicles, {} samples, {} events, {} crash records",
                summary.inserted.vehicles, counts.samples, counts.events, counts.edr
            );
            let vins: Vec<_> = (0..config.vehicles).map(demo::demo_vin).collect();
            let portal = Portal::new(store.clone());
            let account = portal
                .create_owner_with_vehicles(DEMO_OWNER, DEMO_OWNER_PASSWORD, &vins)
                .await
                .context("creating the demo owner")?;
            println!(
                "demo sign-in (owner of {} vehicles): {account} / {DEMO_OWNER_PASSWORD}",
                vins.len()
            );
            Ok(())
        }
        Err(e) => bail!("demo import failed: {e}"),
    }
}

async fn admin(global: &GlobalOptions, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    let portal = Portal::new(store.clone());
    let result = match command {
        AdminCommand::ClaimCode { vin, since } => {
            let vin = parse_vin(&vin)?;
            let since = match since {
                Some(s) => Some(parse_instant(&*store, &vin, &s).await?),
                None => None,
            };
            let issued = portal.issue_claim_code(&vin, since).await?;
            println!("claim code for {vin}: {}", issued.code);
            let from = if issued.since_us == i64::MIN {
                "the first record".to_string()
            } else {
                app::domain::time::format_utc(issued.since_us)
            };
            println!("  the new owner's period starts at {from}");
            println!(
                "  valid until {} (single use)",
                app::domain::time::format_utc(issued.expires_us)
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::AddStaff { account, role } => {
            let staff = portal.add_staff(None, &account, &role).await?;
            println!("{} account {} created.", staff.role, staff.account);
            println!("  first password (shown once): {}", staff.initial_password);
            println!("  enrol the second factor in an authenticator app:");
            println!("{}", app::server::totp::qr_text(&staff.otpauth_url)?);
            println!("  or enter the secret by hand: {}", staff.totp_secret);
            println!("  otpauth address: {}", staff.otpauth_url);
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::IngestToken { name, revoke, list } => {
            ingest_token(&portal, name, revoke, list).await
        }
        AdminCommand::Transfer { vin, at } => {
            let vin = parse_vin(&vin)?;
            let at_us = parse_instant(&*store, &vin, &at).await?;
            portal.transfer(&vin, at_us).await?;
            println!(
                "{vin}: the current ownership period ends at {}",
                app::domain::time::format_utc(at_us)
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    store.close().await;
    result
}

async fn ingest_token(
    portal: &Portal,
    name: Option<String>,
    revoke: bool,
    list: bool,
) -> anyhow::Result<ExitCode> {
    use app::domain::time::format_utc;
    if list {
        for t in portal.ingest_tokens().await? {
            let state = match t.revoked_us {
                Some(at) => format!("revoked {}", format_utc(at)),
                None => "live".into(),
            };
            println!(
                "{:<24} issued {}  {state}",
                t.name,
                format_utc(t.created_us)
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = name.context("name the token")?;
    if revoke {
        portal
            .revoke_ingest_token(&name)
            .await
            .map_err(|e| match e {
                app::server::error::ServiceError::NotFound => {
                    anyhow::anyhow!("no live ingest token is named {name}")
                }
                other => other.into(),
            })?;
        println!("ingest token {name} revoked: it no longer works");
        return Ok(ExitCode::SUCCESS);
    }
    let issued = portal.issue_ingest_token(&name).await?;
    println!(
        "ingest token {} (shown once; only its hash is kept):",
        issued.name
    );
    println!("{}", issued.token);
    println!("  use it as: Authorization: Bearer <token> on POST /api/v1/ingest");
    Ok(ExitCode::SUCCESS)
}

/// `portal audit verify`: exit 0 when the chain is whole, 1 at the first break.
async fn audit_verify(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    use app::server::audit::{verify_chain, ChainHead};
    let store = open_store(global).await?;
    let head_file = global.data_dir.join("audit-head.json");
    let known: Option<ChainHead> = match std::fs::read_to_string(&head_file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("reading {}", head_file.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", head_file.display())),
    };
    let report = verify_chain(&*store, known.as_ref()).await?;
    store.close().await;
    if let Some(b) = &report.broken {
        println!(
            "audit chain BROKEN at entry {}: {} ({} entries before it verify)",
            b.seq, b.reason, report.entries
        );
        return Ok(ExitCode::from(1));
    }
    match &report.head {
        Some(head) => {
            std::fs::write(&head_file, serde_json::to_string(head)?)
                .with_context(|| format!("writing {}", head_file.display()))?;
            println!(
                "audit chain intact: {} entries, head {} ({})",
                report.entries, head.seq, head.hash
            );
        }
        None => println!("audit chain intact: no entries yet"),
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_vin(input: &str) -> anyhow::Result<app::domain::Vin> {
    app::domain::Vin::parse(input).map_err(|e| anyhow::anyhow!("invalid VIN {input}: {e}"))
}

/// RFC 3339, or a plain date taken as midnight in the vehicle's own zone.
async fn parse_instant(
    store: &dyn Store,
    vin: &app::domain::Vin,
    input: &str,
) -> anyhow::Result<i64> {
    use chrono::TimeZone;
    if let Ok(t) = app::domain::time::parse_rfc3339_micros(input) {
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
