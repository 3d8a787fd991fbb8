//! Crash safety: the server and a CLI import are killed (SIGKILL) again and
//! again in the middle of imports. After each restart the store must hold
//! every import that was acknowledged, wholly; none partly; pass SQLite's
//! `integrity_check`; and keep an audit chain that verifies.
//!
//! `PORTAL_CRASH_ROUNDS` sets the number of rounds (default 6; the longer
//! run in docs/reliability.md uses 50).

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

const VIN: &str = "LRW3E7EK9NC000017";
/// Samples per file: enough that an import takes a while in a debug build.
const SAMPLES: u64 = 30_000;
/// 2021-02-21T00:00:00Z; file k holds day k after it.
const DAY0_S: i64 = 1_613_865_600;

/// A file of SAMPLES samples at 10 Hz on day `k`.
fn write_file(dir: &Path, k: u64) -> PathBuf {
    let path = dir.join(format!("day-{k}.ndjson"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        out,
        "{{\"kind\":\"vehicle\",\"vin\":\"{VIN}\",\"timezone\":\"Asia/Shanghai\"}}"
    )
    .unwrap();
    let start_ms = (DAY0_S + k as i64 * 86_400) * 1000;
    for i in 0..SAMPLES {
        let t = chrono::DateTime::from_timestamp_millis(start_ms + i as i64 * 100).unwrap();
        writeln!(
            out,
            "{{\"kind\":\"sample\",\"vin\":\"{VIN}\",\"t\":\"{}\",\"speed_kmh\":{}.5,\"brake_pedal\":{}}}",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            i % 200,
            i % 7 == 0
        )
        .unwrap();
    }
    out.flush().unwrap();
    path
}

/// Sends `file` to the ingest endpoint; true only on a 200.
fn http_ingest(addr: &str, token: &str, file: &Path) -> bool {
    let body = std::fs::read(file).unwrap();
    let Ok(mut conn) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let head = format!(
        "POST /api/v1/ingest HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if conn.write_all(head.as_bytes()).is_err() {
        return false;
    }
    for chunk in body.chunks(64 * 1024) {
        if conn.write_all(chunk).is_err() {
            return false;
        }
    }
    let mut reply = String::new();
    let _ = conn.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200")
}

fn kill9(child: &mut std::process::Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

/// Samples held on day `k`, and SQLite's verdict on the file.
fn inspect(db: &Path, days: u64) -> (Vec<i64>, String) {
    let url = format!("sqlite://{}", db.display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let mut counts = Vec::new();
        for k in 0..days {
            let from = (DAY0_S + k as i64 * 86_400) * 1_000_000;
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM samples WHERE t_us >= ? AND t_us < ?")
                    .bind(from)
                    .bind(from + 86_400_000_000)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            counts.push(n);
        }
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        (counts, verdict)
    })
}

#[test]
fn killed_mid_import_the_store_keeps_every_acknowledged_import_whole_and_no_partial_one() {
    let rounds: u64 = std::env::var("PORTAL_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let out = portal(dir.path(), &["admin", "ingest-token", "crash-test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("pit_"))
        .expect("token")
        .to_string();

    // acknowledged[k]: the import of day k was answered with success.
    let mut acknowledged = Vec::new();
    for round in 0..rounds {
        let (http_day, cli_day) = (2 * round, 2 * round + 1);
        let http_file = write_file(files.path(), http_day);
        let cli_file = write_file(files.path(), cli_day);

        let mut server = Server::start(dir.path());
        let addr = server.addr.clone();
        let token = token.clone();
        let sender = std::thread::spawn(move || http_ingest(&addr, &token, &http_file));
        let mut cli = Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["import", cli_file.to_str().unwrap()])
            .env("PORTAL_DATA_DIR", dir.path())
            .env_remove("DATABASE_URL")
            .env("PORTAL_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a different point each round: early, mid-way, near the end.
        std::thread::sleep(Duration::from_millis(150 + (round * 977) % 2500));
        kill9(&mut server.child);
        let cli_done = matches!(cli.try_wait(), Ok(Some(status)) if status.success());
        kill9(&mut cli);
        acknowledged.push(sender.join().unwrap());
        acknowledged.push(cli_done);
    }
    // Restart once more (recovery runs on open), then look.
    let mut server = Server::start(dir.path());
    kill9(&mut server.child);

    let (counts, verdict) = inspect(&dir.path().join("portal.db"), 2 * rounds);
    assert_eq!(verdict, "ok", "PRAGMA integrity_check");
    for (k, (&n, &acked)) in counts.iter().zip(&acknowledged).enumerate() {
        assert!(
            n == 0 || n == SAMPLES as i64,
            "day {k}: {n} of {SAMPLES} samples: a partial import survived"
        );
        if acked {
            assert_eq!(n, SAMPLES as i64, "day {k} was acknowledged but is missing");
        }
    }
    let whole = counts.iter().filter(|&&n| n > 0).count();
    let acked = acknowledged.iter().filter(|&&a| a).count();
    eprintln!(
        "crash test: {rounds} rounds, {acked} imports acknowledged, {whole} whole in the store, {} absent",
        counts.len() - whole
    );
    let out = portal(dir.path(), &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // The rounds must actually have interrupted something, and let something through.
    assert!(
        whole < counts.len(),
        "no import was ever interrupted: {counts:?}"
    );
    assert!(whole > 0, "no import ever finished: {counts:?}");
}
