//! Read replicas (`--database-read-url`) on a real PostgreSQL primary and
//! streaming replica, made on loopback by Debian's `initdb` and
//! `pg_basebackup`. Both servers log every statement, so the test sees
//! which one a request's reads went to.

use crate::browse::{generated_log, VIN};
use crate::evidence::{bundle, public_key};
use crate::helpers::*;
use portal_core::server::replicas::{ReadReplicas, Standing};
use portal_core::server::signing::PublicKey;
use portal_core::server::store::scratch::{postgres_server, ScratchDatabase};
use portal_core::server::store::{self, Store};
use portal_core::server::verify::verify_bundle;
use portal_core::server::Portal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL server of its own in a temp dir, stopped when dropped.
struct Server {
    data: PathBuf,
    port: u16,
    bin: PathBuf,
    _root: tempfile::TempDir,
}

/// Debian's PostgreSQL programs (`postgresql` package), newest version.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_basebackup").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("initdb and pg_basebackup under /usr/lib/postgresql (apt-get install postgresql)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A PostgreSQL program, run as the `postgres` user when the tests run as
/// root (the server refuses to run as root).
fn pg_command(bin: &Path, program: &str) -> Command {
    match running_as_root() {
        true => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(program));
            c
        }
        false => Command::new(bin.join(program)),
    }
}

fn run_pg(bin: &Path, program: &str, args: &[&str]) {
    let out = pg_command(bin, program).args(args).output().expect(program);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A temp dir the `postgres` user may write when run as root.
fn server_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    if running_as_root() {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(root.path())
            .status()
            .expect("chown");
        assert!(ok.success());
    }
    root
}

impl Server {
    /// A new primary: trust on loopback (replication too), every statement logged.
    fn primary() -> Server {
        let bin = postgres_bin();
        let root = server_root();
        let data = root.path().join("primary");
        let data_s = data.to_str().unwrap();
        run_pg(
            &bin,
            "initdb",
            &["-D", data_s, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        Self::start(bin, root, data)
    }

    /// A streaming replica of `primary`, from a base backup of it now.
    fn replica_of(primary: &Server) -> Server {
        let root = server_root();
        let data = root.path().join("replica");
        let port = primary.port.to_string();
        run_pg(
            &primary.bin,
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        Self::start(primary.bin.clone(), root, data)
    }

    fn start(bin: PathBuf, root: tempfile::TempDir, data: PathBuf) -> Server {
        let port = free_port();
        let socket_dir = root.path().to_str().unwrap().to_string();
        let log = root.path().join("server.log");
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={socket_dir} \
             -c log_statement=all -c fsync=off -c logging_collector=off"
        );
        run_pg(
            &bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        Server {
            data,
            port,
            bin,
            _root: root,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.data.parent().unwrap().join("server.log")).unwrap_or_default()
    }

    /// The statements this server logged that read samples, since `from`
    /// bytes of its log.
    fn sample_reads_since(&self, from: usize) -> usize {
        self.log_text()[from..]
            .lines()
            .filter(|l| {
                (l.contains("statement:") || l.contains("execute")) && l.contains("FROM samples")
            })
            .count()
    }

    async fn sql(&self, database: &str, statement: &str) {
        let pool = sqlx::PgPool::connect(&format!("{}/{database}", self.url()))
            .await
            .unwrap();
        sqlx::raw_sql(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }

    fn stop(&self) {
        run_pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A server stopped already makes this fail, which is fine.
        let _ = pg_command(&self.bin, "pg_ctl")
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// The owner exports a bundle of the whole history; it must verify.
async fn exported_bundle_verifies(c: &reqwest::Client, app: &TestApp, key: &PublicKey) {
    let zip = bundle(c, app, "").await;
    let problems = verify_bundle(std::io::Cursor::new(&zip), key).problems;
    assert!(problems.is_empty(), "{problems:?}");
}

/// Checks the replicas until `want` (a check each 100 ms, for up to 20 s).
async fn wait_for(replicas: &ReadReplicas, want: fn(&Standing) -> bool) -> Standing {
    let mut last = None;
    for _ in 0..200 {
        let standing = replicas.check().await.pop().expect("one replica").1;
        if want(&standing) {
            return standing;
        }
        last = Some(standing);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the replica never came to the wanted standing: {last:?}");
}

#[tokio::test]
async fn browsing_and_exports_read_from_a_current_replica_and_skip_one_that_lags_or_stops() {
    if postgres_server().is_none() {
        eprintln!("SKIPPED browsing_and_exports_read_from_a_current_replica…: set TEST_POSTGRES_URL to run it");
        return;
    }
    let primary = Server::primary();
    let replica = Server::replica_of(&primary);
    let db = ScratchDatabase::create_on_server(&primary.url())
        .await
        .unwrap();
    let replica_url = format!("{}/{}", replica.url(), db.postgres_name().unwrap());
    let replica_store: Arc<dyn Store> = store::open_replica(&replica_url).unwrap();
    let mut replicas = None;
    let app = TestApp::spawn_on_scratch(db, |primary_store| {
        let read = Arc::new(ReadReplicas::new(
            primary_store.clone(),
            vec![("replica".into(), replica_store)],
            Duration::from_secs(1),
        ));
        replicas = Some(read.clone());
        Portal {
            replicas: Some(read),
            ..Portal::new(primary_store)
        }
    })
    .await;
    let replicas = replicas.unwrap();
    import_log(&app, generated_log()).await;
    let c = new_owner(&app, VIN, None, "o@example.com").await;
    let key = public_key(&app).await;

    // Current: the samples are read on the replica, none on the primary.
    wait_for(&replicas, |s| *s == Standing::Usable).await;
    let (p0, r0) = (primary.log_text().len(), replica.log_text().len());
    exported_bundle_verifies(&c, &app, &key).await;
    let (on_primary, on_replica) = (
        primary.sample_reads_since(p0),
        replica.sample_reads_since(r0),
    );
    assert_eq!(on_primary, 0, "the primary read no sample");
    assert!(on_replica > 0, "the replica served the samples");
    let page = get_json(
        &c,
        &app,
        &format!("/api/v1/vehicles/{VIN}/samples?limit=10"),
    )
    .await;
    assert_eq!(page.0, 200, "{}", page.1);
    assert_eq!(primary.sample_reads_since(p0), 0, "browsing too");

    // Lagging: replay paused while the primary takes more writes; once it is
    // further behind than the bound, the primary serves, the same bundle.
    replica
        .sql("postgres", "SELECT pg_wal_replay_pause()")
        .await;
    import_log(&app, generated_log().replace("2021-", "2022-")).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    wait_for(&replicas, |s| *s == Standing::Lagging).await;
    let (p1, r1) = (primary.log_text().len(), replica.log_text().len());
    exported_bundle_verifies(&c, &app, &key).await;
    assert!(primary.sample_reads_since(p1) > 0, "the primary served");
    assert_eq!(
        replica.sample_reads_since(r1),
        0,
        "the lagging replica was skipped"
    );

    // Caught up, it serves again; stopped, it is skipped and nothing fails.
    replica
        .sql("postgres", "SELECT pg_wal_replay_resume()")
        .await;
    wait_for(&replicas, |s| *s == Standing::Usable).await;
    let (p2, r2) = (primary.log_text().len(), replica.log_text().len());
    exported_bundle_verifies(&c, &app, &key).await;
    assert_eq!(
        primary.sample_reads_since(p2),
        0,
        "the replica serves again"
    );
    assert!(replica.sample_reads_since(r2) > 0, "in use again");
    replica.stop();
    wait_for(&replicas, |s| matches!(s, Standing::Unreachable(_))).await;
    let p3 = primary.log_text().len();
    exported_bundle_verifies(&c, &app, &key).await;
    assert!(primary.sample_reads_since(p3) > 0, "the primary served");
    drop(app);
}
