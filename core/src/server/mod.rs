//! Server-side services (the `server` feature). Server functions, REST
//! handlers and the CLI all call `Portal`, so they cannot drift apart.
pub mod accounts;
pub mod activity;
pub mod audit;
pub mod authz;
pub mod cases;
pub mod changes;
pub mod charts;
pub mod claims;
pub mod csp;
pub mod demo;
pub mod dictionary;
pub mod disclosures;
pub mod drives;
pub mod error;
pub mod events;
pub mod export;
pub mod identity;
pub mod import;
pub mod ingest;
pub mod localtime;
pub mod location;
pub mod openapi;
pub mod password;
pub mod privacy;
pub mod query;
pub mod replicas;
pub mod seal;
pub mod sharing;
pub mod signing;
pub mod staff;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod tlog;
pub mod totp;
pub mod vehicles;
pub mod verify;

use std::sync::Arc;
use store::Store;
use throttle::ThrottlePolicy;

/// 1 GiB: a day of a busy fleet's logs, gzip, per request.
pub const DEFAULT_INGEST_MAX_BYTES: u64 = 1 << 30;
/// 512 MiB: the whole history of a vehicle driven daily for years, as a bundle.
pub const DEFAULT_VERIFY_MAX_BYTES: u64 = 512 << 20;

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub database: bool,
    pub migrations_applied: usize,
    pub migrations_known: usize,
}

/// The service facade: one per process, cheap to clone.
#[derive(Clone)]
pub struct Portal {
    pub store: Arc<dyn Store>,
    pub throttle: ThrottlePolicy,
    /// A session ends this long after sign-in, however active (12 h).
    pub session_lifetime: std::time::Duration,
    pub retention: vehicles::Retention,
    /// Signs evidence bundles; loaded from the data directory at start.
    pub signer: Option<Arc<signing::Signer>>,
    /// The dispute report's font (CJK-capable), loaded at start.
    pub report_font: Option<Arc<export::report::ReportFont>>,
    /// `POST /api/v1/ingest` refuses bodies larger than this (as sent,
    /// compressed or not).
    pub ingest_max_bytes: u64,
    /// `POST /api/v1/verify` and the `/verify` page check bundles up to this
    /// size (anyone may call them; `portal verify` takes any size).
    pub verify_max_bytes: u64,
    /// The vehicle CAs sealed logs are checked against, published at
    /// `/.well-known/vehicle-ca` (`--vehicle-ca`).
    pub vehicle_cas: Arc<seal::TrustAnchors>,
    /// Hashes and checks passwords, a few at a time.
    pub passwords: password::Hasher,
    /// Signs the transparency log's checkpoints; without it entries are
    /// still sequenced, but no checkpoint is signed.
    pub log: Option<Arc<tlog::LogKey>>,
    /// The witnesses whose cosignatures the log takes and serves
    /// (`--witness NAME=KEY`).
    pub witnesses: Arc<[tlog::cosign::WitnessKey]>,
    /// PostgreSQL streaming replicas that browsing and exports read from
    /// (`--database-read-url`).
    pub replicas: Option<Arc<replicas::ReadReplicas>>,
}

/// Now, in µs since the epoch (the store's time unit).
pub(crate) fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Portal {
    /// Ready to serve: the database answers and is fully migrated. A
    /// failure is logged here and reported without its cause.
    pub async fn readiness(&self) -> Readiness {
        match self.store.migration_status().await {
            Ok((applied, known)) => Readiness {
                ready: applied == known,
                database: true,
                migrations_applied: applied,
                migrations_known: known,
            },
            Err(e) => {
                tracing::warn!(error = %e, "readiness: the database does not answer");
                Readiness {
                    ready: false,
                    database: false,
                    migrations_applied: 0,
                    migrations_known: 0,
                }
            }
        }
    }

    pub fn new(store: Arc<dyn Store>) -> Self {
        Portal {
            store,
            throttle: ThrottlePolicy::default(),
            session_lifetime: std::time::Duration::from_secs(identity::ABSOLUTE_LIFETIME_SECS),
            retention: vehicles::Retention::default(),
            signer: None,
            report_font: None,
            ingest_max_bytes: DEFAULT_INGEST_MAX_BYTES,
            verify_max_bytes: DEFAULT_VERIFY_MAX_BYTES,
            vehicle_cas: Arc::default(),
            passwords: password::Hasher::default(),
            log: None,
            witnesses: Arc::new([]),
            replicas: None,
        }
    }
}
