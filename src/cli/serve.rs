//! `portal serve`: the web server.

use super::demo::{load_demo, trusting_demo_ca};
use super::open_database;
use crate::config::GlobalOptions;
use crate::http::sessions::Sessions;
use crate::http::{router, shutdown_signal, AppState};
use anyhow::Context;
use clap::Args;
use portal_core::server::demo::DemoConfig;
use portal_core::server::replicas::{replica_name, ReadReplicas, DEFAULT_MAX_LAG};
use portal_core::server::signing::Signer;
use portal_core::server::store::{self, Pool, Store};
use portal_core::server::vehicles::Retention;
use portal_core::server::Portal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: the site address in Cargo.toml, 127.0.0.1:3000).
    #[arg(long, env = "PORTAL_BIND")]
    pub bind: Option<SocketAddr>,
    /// Load the demo data first when the database holds no vehicle yet, and
    /// trust the demo vehicle CA its sealed logs are certified by.
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
    #[arg(long, env = "PORTAL_INGEST_MAX_BYTES", default_value_t = portal_core::server::DEFAULT_INGEST_MAX_BYTES)]
    pub ingest_max_bytes: u64,
    /// The public bundle check (`/verify`, `POST /api/v1/verify`) refuses
    /// uploads larger than this many bytes.
    #[arg(long, env = "PORTAL_VERIFY_MAX_BYTES", default_value_t = portal_core::server::DEFAULT_VERIFY_MAX_BYTES)]
    pub verify_max_bytes: u64,
    /// A PostgreSQL streaming replica of DATABASE_URL that browsing and
    /// exports read from; repeat the flag for several (space-separated in
    /// the environment). Writes, sessions, the authorization decision and
    /// the audit record stay on DATABASE_URL.
    #[arg(
        long = "database-read-url",
        env = "PORTAL_DATABASE_READ_URL",
        value_delimiter = ' '
    )]
    pub database_read_urls: Vec<String>,
    /// A read replica further behind the primary than this many seconds is
    /// skipped until it catches up.
    #[arg(long, env = "PORTAL_DATABASE_READ_MAX_LAG", default_value_t = DEFAULT_MAX_LAG.as_secs())]
    pub database_read_max_lag: u64,
}

impl ServeArgs {
    /// `portal` without a command serves: the flags' defaults and environment.
    pub(super) fn from_env() -> Self {
        use clap::FromArgMatches;
        let matches =
            ServeArgs::augment_args(clap::Command::new("serve")).get_matches_from(["serve"]);
        ServeArgs::from_arg_matches(&matches).expect("serve takes its defaults")
    }
}

/// How often new audit entries become leaves of the transparency log (and a
/// checkpoint is signed, if the tree grew).
const SEQUENCE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) async fn serve(global: &GlobalOptions, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Before anything else: a report without its font would show empty boxes.
    let report_font =
        portal_core::server::export::report::ReportFont::load(args.report_font.as_deref())
            .map_err(anyhow::Error::msg)?;
    let mut vehicle_cas = global.vehicle_cas()?;
    if args.demo_if_empty {
        // The demo fleet seals its logs: its CA is trusted beside any configured.
        vehicle_cas = trusting_demo_ca(global, &vehicle_cas)?;
        println!(
            "Trusting the demo vehicle CA ({}) for --demo-if-empty",
            global.data_dir.join(super::demo::DEMO_CA_FILE).display()
        );
    }
    let (store, pool) = open_database(global).await?;
    let replicas = read_replicas(&args, &store, &pool).await?;
    let signer = Signer::load_or_create(&global.data_dir).context("loading the signing key")?;
    println!(
        "Evidence bundles are signed with the key fingerprinted {}",
        signer.public_key().fingerprint
    );
    let log_key = global.log_key()?;
    println!(
        "Transparency log checkpoints are signed as {}",
        log_key.verifier().encode()
    );
    let witnesses = global.witnesses()?;
    for w in witnesses.iter() {
        println!("Taking cosignatures from the witness {}", w.encode());
    }
    if args.demo_if_empty && store.is_empty().await? {
        load_demo(global, &store, &DemoConfig::default()).await?;
    }
    let sessions = Sessions::open(&pool, store.clone())
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
            vehicle_cas,
            log: Some(log_key),
            witnesses,
            replicas,
            ..Portal::new(store.clone())
        },
    };
    portal_core::server::tlog::spawn_sequencer(state.portal.clone(), SEQUENCE_EVERY);
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

/// The read replicas `--database-read-url` names, checked once now and then
/// every second while the server runs.
async fn read_replicas(
    args: &ServeArgs,
    primary: &Arc<dyn Store>,
    pool: &Pool,
) -> anyhow::Result<Option<Arc<ReadReplicas>>> {
    if args.database_read_urls.is_empty() {
        return Ok(None);
    }
    anyhow::ensure!(
        matches!(pool, Pool::Postgres(_)),
        "--database-read-url needs a PostgreSQL DATABASE_URL: a SQLite store has no replicas"
    );
    let mut replicas = Vec::new();
    for url in &args.database_read_urls {
        let name = replica_name(url);
        let replica = store::open_replica(url).with_context(|| format!("read replica {name}"))?;
        replicas.push((name, replica));
    }
    let max_lag = std::time::Duration::from_secs(args.database_read_max_lag);
    let replicas = Arc::new(ReadReplicas::new(primary.clone(), replicas, max_lag));
    for (name, standing) in replicas.check().await {
        println!("Read replica {name}: {standing}");
    }
    replicas.spawn_monitor();
    Ok(Some(replicas))
}
