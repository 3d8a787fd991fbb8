//! Settings shared by every command: where the data lives and how to log.

use anyhow::Context;
use clap::Args;
use portal_core::server::seal::TrustAnchors;
use portal_core::server::tlog::cosign::WitnessKey;
use portal_core::server::tlog::LogKey;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Database to use: sqlite://PATH (default: sqlite://<data dir>/portal.db) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for the database and the portal's keys.
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Log filter, e.g. `info` or `portal=debug,sqlx=warn` (RUST_LOG syntax).
    #[arg(
        long,
        env = "PORTAL_LOG",
        default_value = "info,sqlx=warn,leptos_i18n=warn",
        global = true
    )]
    pub log_level: String,

    /// The vehicle CAs whose certified vehicle keys sealed logs (format 1.1)
    /// are checked against: a JSON list of {"id", "public"} (base64 Ed25519).
    /// Without it, files carrying seals or vehicle keys are refused.
    #[arg(long, env = "PORTAL_VEHICLE_CA", global = true)]
    pub vehicle_ca: Option<PathBuf>,

    /// The transparency log's name, the first line of every checkpoint and
    /// the name witnesses know its key by: this portal's host and path
    /// (e.g. `portal.example.com/log`), unique to this deployment.
    #[arg(
        long,
        env = "PORTAL_LOG_ORIGIN",
        default_value = "localhost/vehicle-data-portal/log",
        global = true
    )]
    pub log_origin: String,

    /// A witness whose cosignatures of the log's checkpoints this portal
    /// takes and serves: NAME=KEY, KEY being the witness's verifier key or
    /// its base64 Ed25519 public key (`portal witness` prints both). Repeat
    /// the option per witness (comma-separated in the environment).
    #[arg(
        long = "witness",
        env = "PORTAL_WITNESSES",
        value_delimiter = ',',
        global = true
    )]
    pub witnesses: Vec<String>,
}

impl GlobalOptions {
    /// The trusted vehicle CAs (none without `--vehicle-ca`); a file that
    /// cannot be read or holds a bad key stops the command.
    pub fn vehicle_cas(&self) -> anyhow::Result<Arc<TrustAnchors>> {
        let Some(path) = &self.vehicle_ca else {
            return Ok(Arc::default());
        };
        let anchors = TrustAnchors::load(path).context("loading the vehicle CAs")?;
        Ok(Arc::new(anchors))
    }

    /// The transparency log's key (created in the data directory on first
    /// use) under its origin.
    pub fn log_key(&self) -> anyhow::Result<Arc<LogKey>> {
        let key = LogKey::load_or_create(&self.data_dir, &self.log_origin)
            .map_err(|e| anyhow::anyhow!("loading the transparency log's key: {e}"))?;
        Ok(Arc::new(key))
    }

    /// The witnesses this portal expects (`--witness`); a bad key or a
    /// name given twice stops the command.
    pub fn witnesses(&self) -> anyhow::Result<Arc<[WitnessKey]>> {
        let mut keys: Vec<WitnessKey> = Vec::with_capacity(self.witnesses.len());
        for text in &self.witnesses {
            let key = WitnessKey::parse_config(text).context("reading --witness")?;
            if keys.iter().any(|k| k.name == key.name) {
                anyhow::bail!("--witness names `{}` twice", key.name);
            }
            keys.push(key);
        }
        Ok(keys.into())
    }

    /// The database URL, creating the data directory for the default SQLite file.
    pub fn database_url(&self) -> std::io::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)?;
                Ok(format!(
                    "sqlite://{}",
                    self.data_dir.join("portal.db").display()
                ))
            }
        }
    }
}

/// Logs go to stderr so command output (summaries, JSON) stays clean on stdout.
pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
