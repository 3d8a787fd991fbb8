//! A real portal on a loopback port with its own database (a SQLite file, or
//! a fresh PostgreSQL database with `PORTAL_TEST_BACKEND=postgres`), and clients.

use crate::serve::serve_loopback;
use portal_core::server::store::scratch::{Backend, ScratchDatabase};
use portal_core::server::store::{self, Store};
use portal_core::server::Portal;
use std::net::SocketAddr;
use std::sync::Arc;

/// The transparency log's origin in tests.
pub const TEST_LOG_ORIGIN: &str = "portal.test/log";
/// The witness every test portal expects (`--witness`), and its key's seed.
pub const TEST_WITNESS: &str = "notary.test/w";
pub const TEST_WITNESS_SEED: [u8; 32] = [42; 32];

/// The test witness's public key, as a portal is configured with it.
pub fn test_witness() -> portal_core::server::tlog::cosign::WitnessKey {
    let key = ed25519_dalek::SigningKey::from_bytes(&TEST_WITNESS_SEED);
    portal_core::server::tlog::cosign::WitnessKey::new(TEST_WITNESS, key.verifying_key())
        .expect("witness key")
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The services the server runs (to sequence the log now, say).
    pub portal: Portal,
    pub store: Arc<dyn Store>,
    /// The database itself, for tests that simulate time passing.
    pub pool: store::Pool,
    pub client: reqwest::Client,
    /// Shared with any other server started on the same database.
    db: Arc<ScratchDatabase>,
    /// The background sequencer, stopped before a test rewrites the log.
    sequencer: std::sync::Mutex<Option<portal_core::server::tlog::Sequencer>>,
}

/// Far beyond any request of the suite (the slowest, whole-history exports
/// in debug builds, take seconds).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Portal::new).await
    }

    /// Spawns with a customised `Portal` (e.g. a short throttling window).
    pub async fn spawn_with(make: impl FnOnce(Arc<dyn Store>) -> Portal) -> TestApp {
        Self::spawn_full(make, false).await
    }

    /// Spawns as deployed behind HTTPS: Secure `__Host-` cookies and HSTS.
    pub async fn spawn_secure() -> TestApp {
        Self::spawn_full(Portal::new, true).await
    }

    async fn spawn_full(make: impl FnOnce(Arc<dyn Store>) -> Portal, secure: bool) -> TestApp {
        let db = ScratchDatabase::create().await.expect("scratch database");
        Self::serve_on(Arc::new(db), make, secure).await
    }

    /// Spawns on a fresh database of the given backend, whatever the run's.
    pub async fn spawn_on(backend: Backend) -> TestApp {
        let db = ScratchDatabase::create_on(backend)
            .await
            .expect("scratch database");
        Self::serve_on(Arc::new(db), Portal::new, false).await
    }

    /// Another portal server on the same database and data directory (its
    /// own pool, sessions and caches), as behind a load balancer.
    pub async fn another_server(&self) -> TestApp {
        Self::serve_on(self.db.clone(), Portal::new, false).await
    }

    /// A server on an existing database, keeping `keys_from`'s signing key
    /// (as an operator moving a deployment keeps its data directory).
    pub async fn spawn_on_database(db: ScratchDatabase, keys_from: &TestApp) -> TestApp {
        for entry in std::fs::read_dir(keys_from.data_dir()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "ed25519") {
                std::fs::copy(&path, db.dir().join(path.file_name().unwrap())).expect("copy key");
            }
        }
        Self::serve_on(Arc::new(db), Portal::new, false).await
    }

    /// A server on `db`, a database made elsewhere (another PostgreSQL
    /// server than the run's, say).
    pub async fn spawn_on_scratch(
        db: ScratchDatabase,
        make: impl FnOnce(Arc<dyn Store>) -> Portal,
    ) -> TestApp {
        Self::serve_on(Arc::new(db), make, false).await
    }

    async fn serve_on(
        db: Arc<ScratchDatabase>,
        make: impl FnOnce(Arc<dyn Store>) -> Portal,
        secure: bool,
    ) -> TestApp {
        let (store, pool) = store::open(&db.url).await.expect("store");
        let mut portal = make(store.clone());
        let signer =
            portal_core::server::signing::Signer::load_or_create(db.dir()).expect("signing key");
        portal.signer.get_or_insert(Arc::new(signer));
        let font = portal_core::server::export::report::ReportFont::load(None)
            .expect("report font (apt-get install fonts-noto-cjk)");
        portal.report_font.get_or_insert(Arc::new(font));
        if portal.log.is_none() {
            let key = portal_core::server::tlog::LogKey::load_or_create(db.dir(), TEST_LOG_ORIGIN)
                .expect("log key");
            portal.log = Some(Arc::new(key));
        }
        if portal.witnesses.is_empty() {
            portal.witnesses = Arc::new([test_witness()]);
        }
        // As `portal serve` does, a little more often.
        let sequencer = portal_core::server::tlog::spawn_sequencer(
            portal.clone(),
            std::time::Duration::from_millis(200),
        );
        let kept = portal.clone();
        // `secure: false` is plain http on loopback, as `--insecure-cookies`.
        let addr = serve_loopback(portal, &pool, secure).await.expect("serve");
        TestApp {
            addr,
            portal: kept,
            store,
            pool,
            client: Self::new_client(),
            db,
            sequencer: std::sync::Mutex::new(Some(sequencer)),
        }
    }

    /// Rewrites the transparency log behind the portal's back, as an
    /// attacker with the database would: the background sequencer is stopped
    /// first, so no checkpoint it was signing lands after the rewrite.
    pub async fn rewrite_log_tables(&self, sqlite: &str, postgres: &str) {
        let running = self.sequencer.lock().unwrap().take();
        if let Some(sequencer) = running {
            sequencer.stop().await;
        }
        self.sql(sqlite, postgres).await;
    }

    /// A fresh browser-like client with its own cookie jar.
    /// A browser-like client. Requests time out, so a stuck request fails
    /// the test with its URL instead of hanging the whole run.
    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// The data directory (database and signing key), as `--data-dir`.
    pub fn data_dir(&self) -> &std::path::Path {
        self.db.dir()
    }

    /// The database URL, for a second server or the CLI.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// Runs SQL on the database behind the store, bypassing it (tampering,
    /// or time passing); each backend spells it in its own dialect.
    pub async fn sql(&self, sqlite: &str, postgres: &str) {
        match &self.pool {
            store::Pool::Sqlite(pool) => sqlx::raw_sql(sqlite).execute(pool).await.map(drop),
            store::Pool::Postgres(pool) => sqlx::raw_sql(postgres).execute(pool).await.map(drop),
        }
        .expect("raw SQL");
    }

    /// One number read from the database behind the store, bypassing it.
    pub async fn scalar(&self, sqlite: &str, postgres: &str) -> i64 {
        match &self.pool {
            store::Pool::Sqlite(pool) => sqlx::query_scalar(sqlite).fetch_one(pool).await,
            store::Pool::Postgres(pool) => sqlx::query_scalar(postgres).fetch_one(pool).await,
        }
        .expect("scalar SQL")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

pub const PASSWORD: &str = "brake-pedal-2021-spring";

/// Imports a small log for `vin`: samples at 10:15:00+08:00 + `secs` of 2021-02-21.
pub async fn import_vehicle(app: &TestApp, vin: &str, secs: &[u32]) {
    let mut text = format!(r#"{{"kind":"vehicle","vin":"{vin}","timezone":"Asia/Shanghai"}}"#);
    for s in secs {
        text.push_str(&format!(
            "\n{{\"kind\":\"sample\",\"vin\":\"{vin}\",\"t\":\"2021-02-21T10:{:02}:{:02}+08:00\",\"speed_kmh\":{s}}}",
            15 + s / 60,
            s % 60
        ));
    }
    portal_core::server::import::import_reader(
        &*app.store,
        "t",
        std::io::Cursor::new(text.into_bytes()),
        &Default::default(),
        None,
    )
    .await
    .expect("import");
}

/// Records as the interchange format's lines (NDJSON).
pub fn ndjson(lines: &[serde_json::Value]) -> String {
    lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Issues a claim code (optionally with a period start) as `portal admin claim-code` does.
pub async fn claim_code(app: &TestApp, vin: &str, since_us: Option<i64>) -> String {
    let portal = Portal::new(app.store.clone());
    portal
        .issue_claim_code(&portal_core::domain::Vin::parse(vin).unwrap(), since_us)
        .await
        .expect("claim code")
        .code
}

/// Signs up and signs in a new owner with `client`; returns nothing, panics on failure.
pub async fn sign_up_and_in(
    app: &TestApp,
    client: &reqwest::Client,
    account: &str,
    vin: &str,
    code: &str,
) {
    let res = client
        .post(app.url("/api/v1/accounts"))
        .json(&serde_json::json!({"account": account, "password": PASSWORD, "vin": vin, "claim_code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    sign_in(app, client, account, PASSWORD).await;
}

pub async fn sign_in(app: &TestApp, client: &reqwest::Client, account: &str, password: &str) {
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"account": account, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
}

/// Imports an NDJSON text as `portal import` does; panics if it is refused.
pub async fn import_log(app: &TestApp, text: String) {
    portal_core::server::import::import_reader(
        &*app.store,
        "test.ndjson",
        std::io::Cursor::new(text.into_bytes()),
        &Default::default(),
        None,
    )
    .await
    .expect("import");
}

/// A new owner of `vin` from `since_us` (or its first record), signed in.
pub async fn new_owner(
    app: &TestApp,
    vin: &str,
    since_us: Option<i64>,
    account: &str,
) -> reqwest::Client {
    let code = claim_code(app, vin, since_us).await;
    let client = TestApp::new_client();
    sign_up_and_in(app, &client, account, vin, &code).await;
    client
}

/// A staff account created as `portal admin add-staff` does, signed in with
/// its password and current TOTP code. Returns the client and the secret.
pub async fn new_staff(app: &TestApp, account: &str, role: &str) -> (reqwest::Client, String) {
    let portal = Portal::new(app.store.clone());
    let staff = portal.add_staff(None, account, role).await.expect("staff");
    let client = TestApp::new_client();
    let res = staff_sign_in(
        app,
        &client,
        &staff.account,
        &staff.initial_password,
        &totp_now(&staff.totp_secret, 0),
    )
    .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    (client, staff.totp_secret)
}

/// The code an authenticator shows now (`steps` later or earlier).
pub fn totp_now(secret: &str, steps: i64) -> String {
    let now = chrono::Utc::now().timestamp() + steps * 30;
    portal_core::server::totp::code_at(secret, now as u64).unwrap()
}

pub async fn staff_sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    account: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"account": account, "password": password, "totp": code}))
        .send()
        .await
        .unwrap()
}

/// POSTs `body` as JSON to `path` with `client`: the status and the JSON reply (`null` if none).
pub async fn post_json(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = client.post(app.url(path)).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The portal's public signing key as published (JSON).
pub async fn signing_key(app: &TestApp) -> String {
    app.get("/.well-known/portal-signing-key")
        .await
        .text()
        .await
        .unwrap()
}

/// The page at `path` as `client` gets it in `lang` (`Accept-Language`).
pub async fn page_in(client: &reqwest::Client, app: &TestApp, path: &str, lang: &str) -> String {
    client
        .get(app.url(path))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// GETs `path` with `client`: the status and the JSON body (`null` if none).
pub async fn get_json(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
) -> (u16, serde_json::Value) {
    let res = client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// GETs `path` as a grant's recipient (the token alone, no cookies): the
/// status and the JSON body (`null` if none).
pub async fn get_json_as_recipient(
    app: &TestApp,
    token: &str,
    path: &str,
) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The date `days` from today, as a form's date field sends it.
pub fn date_in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}
