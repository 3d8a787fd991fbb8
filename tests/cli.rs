//! The `portal` binary as a user runs it: exit codes and messages. The
//! tests of a `Deployment` run on the run's backend (`PORTAL_TEST_BACKEND`).

mod support;

use portal_core::server::store::scratch::{Backend, ScratchDatabase};
use std::process::Command;
use support::*;

/// `portal ARGS` on the data dir's SQLite file.
fn portal(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    portal_on(data_dir, None, args)
}

/// A deployment as an operator runs it: a data directory and a database of
/// the run's backend. On SQLite no `DATABASE_URL` is set, so the default
/// (the data directory's `portal.db`) is what runs; on PostgreSQL it names
/// a fresh database, dropped afterwards.
struct Deployment {
    db: ScratchDatabase,
}

impl Deployment {
    fn new() -> Deployment {
        let db = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(ScratchDatabase::create())
            .expect("scratch database");
        Deployment { db }
    }

    fn dir(&self) -> &std::path::Path {
        self.db.dir()
    }

    fn database_url(&self) -> Option<&str> {
        (self.db.backend == Backend::Postgres).then_some(self.db.url.as_str())
    }

    fn portal(&self, args: &[&str]) -> std::process::Output {
        portal_on(self.dir(), self.database_url(), args)
    }

    /// Changes the database behind the portal's back.
    fn sql(&self, statement: &str) {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            match self.db.backend {
                Backend::Sqlite => {
                    let pool = sqlx::SqlitePool::connect(&self.db.url).await.unwrap();
                    sqlx::query(statement).execute(&pool).await.unwrap();
                    pool.close().await;
                }
                Backend::Postgres => {
                    let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
                    sqlx::query(statement).execute(&pool).await.unwrap();
                    pool.close().await;
                }
            }
        });
    }
}

/// The demo vehicle CA `portal demo --out FILE` writes beside FILE.
fn demo_ca(file: &std::path::Path) -> String {
    let ca = file.with_file_name("demo-vehicle-ca.json");
    assert!(ca.exists(), "portal demo wrote {}", ca.display());
    ca.to_str().unwrap().to_string()
}

/// `portal demo --out`: a demo log of `vehicles` × `days` in `dir`, not imported.
fn demo_file(
    dir: &std::path::Path,
    vehicles: u32,
    days: u32,
) -> (std::path::PathBuf, std::process::Output) {
    let file = dir.join("demo.ndjson.gz");
    let (vehicles, days) = (vehicles.to_string(), days.to_string());
    let out = portal(
        dir,
        &[
            "demo",
            "--vehicles",
            &vehicles,
            "--days",
            &days,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    (file, out)
}

#[test]
fn demo_writes_a_file_that_import_loads_and_a_second_import_skips() {
    let deployment = Deployment::new();
    let (file, out) = demo_file(deployment.dir(), 2, 2);
    assert!(text(&out.stdout).contains("2 vehicles"));

    let out = deployment.portal(&[
        "import",
        "--vehicle-ca",
        &demo_ca(&file),
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("added:      2 vehicles"), "{stdout}");
    assert_eq!(
        deployment.dir().join("portal.db").exists(),
        deployment.db.backend == Backend::Sqlite,
        "without DATABASE_URL, the default database under the data dir"
    );

    let out = deployment.portal(&[
        "import",
        "--vehicle-ca",
        &demo_ca(&file),
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["inserted"]["samples"], 0);
    assert!(summary["duplicates"]["samples"].as_u64().unwrap() > 1000);
}

#[test]
fn a_bad_file_exits_non_zero_naming_line_field_and_reason() {
    let deployment = Deployment::new();
    let file = deployment.dir().join("bad.ndjson");
    std::fs::write(
        &file,
        "{\"kind\":\"vehicle\",\"vin\":\"LRW3E7EK9NC000017\",\"timezone\":\"Asia/Shanghai\"}\n\
         {\"kind\":\"sample\",\"vin\":\"LRW3E7EK9NC000017\",\"t\":\"2021-02-21T10:15:02+08:00\",\"brake_pressure_bar\":300}\n",
    )
    .unwrap();
    let out = deployment.portal(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("rejected with 1 error(s); nothing was imported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.ndjson:2: brake_pressure_bar: 300 is outside 0–250"),
        "{stderr}"
    );
    // Nothing of it was kept: the vehicle is still new to the next import.
    let good = deployment.dir().join("good.ndjson");
    std::fs::write(
        &good,
        "{\"kind\":\"vehicle\",\"vin\":\"LRW3E7EK9NC000017\",\"timezone\":\"Asia/Shanghai\"}\n",
    )
    .unwrap();
    let out = deployment.portal(&["import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("added:      1 vehicles"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_vehicle_ca_file_that_is_unreadable_or_bad_stops_the_command_naming_it() {
    let deployment = Deployment::new();
    let file = deployment.dir().join("ok.ndjson");
    std::fs::write(
        &file,
        "{\"kind\":\"vehicle\",\"vin\":\"LRW3E7EK9NC000017\",\"timezone\":\"Asia/Shanghai\"}\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let missing = deployment.dir().join("none.json");
    let out = deployment.portal(&["import", file, "--vehicle-ca", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("loading the vehicle CAs"), "{stderr}");
    assert!(stderr.contains("none.json"), "{stderr}");

    let bad = deployment.dir().join("ca.json");
    std::fs::write(&bad, r#"[{"id":"demo-ca","public":"AAAA"}]"#).unwrap();
    let out = deployment.portal(&["import", file, "--vehicle-ca", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("CA `demo-ca`: public key has 3 bytes, not 32"),
        "{stderr}"
    );
    // Nothing was imported: the vehicle is new to an import without the option.
    let out = deployment.portal(&["import", file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("added:      1 vehicles"));
}

#[test]
fn a_missing_file_and_bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal(dir.path(), &["import", "/no/such/file.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read /no/such/file.ndjson"));

    let out = portal(dir.path(), &["demo", "--vehicles", "many"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    assert!(text(&out.stderr).contains("invalid value 'many'"));

    let out = portal(
        dir.path(),
        &["import", "x.ndjson", "--database-url", "mysql://x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unsupported DATABASE_URL"));

    // A witness the portal cannot read, or one named twice, stops the server.
    let key = "notary.example/w=iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=";
    for (witnesses, says) in [
        (vec!["notary.example/w"], "expected NAME=KEY"),
        (vec!["notary.example/w=bm90IGEga2V5"], "32 bytes"),
        (vec![key, key], "names `notary.example/w` twice"),
    ] {
        let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
        for w in &witnesses {
            args.extend(["--witness", w]);
        }
        let out = portal(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{witnesses:?}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }

    // A witness whose portal does not answer says so and exits 1.
    let (key, state) = (dir.path().join("w.key"), dir.path().join("state"));
    let out = portal(
        dir.path(),
        &[
            "witness",
            "--log",
            "http://127.0.0.1:9",
            "--name",
            "w.example",
            "--key",
            key.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--once",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("GET http://127.0.0.1:9/log/key"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    use std::io::Read;
    let deployment = Deployment::new();
    let mut server = Server::start_on(deployment.dir(), deployment.database_url());
    let seen = &server.seen;
    assert!(seen.contains("signed with the key fingerprinted"), "{seen}");

    let response = server.get("/");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit: {status:?}");
    let mut rest = String::new();
    server.stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("Stopped"), "{rest}");
}

/// `./dev.sh serve` on a fresh clone: no data directory, demo data loaded.
#[test]
fn serve_with_demo_data_starts_where_no_data_directory_exists_yet() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let server = Server::start_with(&data_dir, None, &["--demo-if-empty", "--insecure-cookies"]);
    assert!(server.seen.contains("demo sign-in"), "{}", server.seen);
    assert!(data_dir.join("portal.db").exists());
    let response = server.get("/");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn add_staff_prints_a_first_password_and_an_enrolment_and_audit_verify_finds_edits() {
    let deployment = Deployment::new();
    let out = deployment.portal(&[
        "admin",
        "add-staff",
        "agent@example.com",
        "--role",
        "support",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("support account agent@example.com created"),
        "{stdout}"
    );
    assert!(stdout.contains("first password (shown once): "), "{stdout}");
    assert!(stdout.contains("otpauth://totp/"), "{stdout}");
    assert!(
        stdout.contains('█') || stdout.contains('▀'),
        "a QR code drawn in the terminal: {stdout}"
    );
    let again = deployment.portal(&[
        "admin",
        "add-staff",
        "agent@example.com",
        "--role",
        "support",
    ]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
    let owner = deployment.portal(&["admin", "add-staff", "x@example.com", "--role", "owner"]);
    assert!(!owner.status.success(), "staff roles only");

    let out = deployment.portal(&["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("transparency log intact: 1 leaves"),
        "{}",
        text(&out.stdout)
    );
    assert!(deployment.dir().join("log-head.json").exists());

    // Someone with access to the database rewrites history: the command names the leaf.
    deployment.sql("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1");
    let out = deployment.portal(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("BROKEN at leaf 0: entry seq 1 does not match its leaf hash"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn serve_refuses_to_start_without_the_report_font_and_names_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal(
        dir.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--report-font",
            "/nonexistent/NotoSansCJK.ttc",
        ],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("fonts-noto-cjk") && stderr.contains("/nonexistent/NotoSansCJK.ttc"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_read_replicas_it_cannot_use_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let replica = ["serve", "--bind", "127.0.0.1:0", "--database-read-url"];
    let out = portal(
        dir.path(),
        &[&replica[..], &["postgres://portal@127.0.0.1:1/portal"]].concat(),
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--database-read-url needs a PostgreSQL DATABASE_URL"),
        "{stderr}"
    );
    let deployment = Deployment::new();
    if deployment.db.backend == Backend::Postgres {
        let out = deployment.portal(&[&replica[..], &["sqlite://replica.db"]].concat());
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("a read replica is a PostgreSQL streaming replica"),
            "{stderr}"
        );
    }
}

#[test]
fn ingest_tokens_are_issued_once_listed_without_secrets_and_revoked() {
    let deployment = Deployment::new();
    let out = deployment.portal(&["admin", "ingest-token", "dc-shanghai-1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let token = stdout
        .lines()
        .find(|l| l.starts_with("pit_"))
        .unwrap_or_else(|| panic!("no token printed: {stdout}"))
        .to_string();

    let out = deployment.portal(&["admin", "ingest-token", "dc-shanghai-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("revoke it first"),
        "{}",
        text(&out.stderr)
    );

    let out = deployment.portal(&["admin", "ingest-token", "--list"]);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("dc-shanghai-1") && listed.contains("live"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the list shows no secret");

    let out = deployment.portal(&["admin", "ingest-token", "dc-shanghai-1", "--revoke"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = deployment.portal(&["admin", "ingest-token", "--list"]);
    assert!(
        text(&out.stdout).contains("revoked"),
        "{}",
        text(&out.stdout)
    );
    let out = deployment.portal(&["admin", "ingest-token", "dc-shanghai-1", "--revoke"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no live ingest token is named dc-shanghai-1"));
}

/// The data directory's keys (bundle signing, transparency log), which an
/// operator keeps beside the database's backups.
fn copy_keys(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ed25519") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn a_backup_restores_to_the_same_data_and_audit_log_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = demo_file(dir.path(), 1, 1);
    let out = portal(
        dir.path(),
        &[
            "import",
            "--vehicle-ca",
            &demo_ca(&file),
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = portal(dir.path(), &["audit", "verify"]);
    let head = text(&out.stdout);
    assert!(head.contains("transparency log intact"), "{head}");

    let copy = dir.path().join("backup.db");
    let out = portal(dir.path(), &["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("integrity_check ok"),
        "{}",
        text(&out.stdout)
    );
    let out = portal(dir.path(), &["backup", copy.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a second backup to the same file"
    );
    assert!(
        text(&out.stderr).contains("never overwrites"),
        "{}",
        text(&out.stderr)
    );

    // Restore as the operator would: the copy becomes the database of a new
    // data directory, beside the keys kept with it.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("portal.db")).unwrap();
    copy_keys(dir.path(), restored.path());
    let out = portal(restored.path(), &["audit", "verify"]);
    assert_eq!(text(&out.stdout), head, "the same log, to the same head");
    let out = portal(
        restored.path(),
        &[
            "import",
            "--vehicle-ca",
            &demo_ca(&file),
            "--format",
            "json",
            file.to_str().unwrap(),
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["inserted"]["samples"], 0,
        "every sample is in the copy"
    );
    assert!(summary["duplicates"]["samples"].as_u64().unwrap() > 1000);
}

#[test]
fn a_postgres_backup_by_pg_dump_restores_with_pg_restore_to_the_same_log() {
    use portal_core::server::store::scratch::{postgres_server, Backend, ScratchDatabase};
    if postgres_server().is_none() {
        eprintln!("SKIPPED a_postgres_backup_…: set TEST_POSTGRES_URL to run it");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let source = rt
        .block_on(ScratchDatabase::create_on(Backend::Postgres))
        .unwrap();
    let target = rt
        .block_on(ScratchDatabase::create_on(Backend::Postgres))
        .unwrap();
    let dir = source.dir();
    let (file, _) = demo_file(dir, 1, 1);
    let out = portal_on(
        dir,
        Some(&source.url),
        &[
            "import",
            "--vehicle-ca",
            &demo_ca(&file),
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let head = text(&portal_on(dir, Some(&source.url), &["audit", "verify"]).stdout);
    assert!(head.contains("transparency log intact"), "{head}");

    let dump = dir.join("portal.dump");
    let out = portal_on(dir, Some(&source.url), &["backup", dump.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("pg_dump --format=custom"),
        "{}",
        text(&out.stdout)
    );

    // Restore as the printed hint says, into an empty database.
    let restored = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--dbname",
            &target.url,
            dump.to_str().unwrap(),
        ])
        .output()
        .expect("pg_restore (postgresql-client)");
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let fresh = tempfile::tempdir().unwrap();
    copy_keys(dir, fresh.path());
    let out = portal_on(fresh.path(), Some(&target.url), &["audit", "verify"]);
    assert_eq!(text(&out.stdout), head, "the same log, to the same head");
    let out = portal_on(
        fresh.path(),
        Some(&target.url),
        &[
            "import",
            "--vehicle-ca",
            &demo_ca(&file),
            "--format",
            "json",
            file.to_str().unwrap(),
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["inserted"]["samples"], 0,
        "every sample is in the copy"
    );
}
