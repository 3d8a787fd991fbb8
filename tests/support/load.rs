//! A load generator: N signed-in sessions browse telemetry and events (API
//! and server-rendered pages) for a while, as one ingest and one large
//! export run beside them. Used by the bounded test (`tests/load.rs`,
//! debug build: errors and completion only) and by `cargo bench --bench
//! load` (release: the latency figures in BENCHMARKS.md).

use std::time::{Duration, Instant};

pub struct LoadPlan {
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    pub vin: String,
    pub account: String,
    pub password: String,
    pub sessions: usize,
    /// How long the sessions browse.
    pub duration: Duration,
    /// A reader's pause between two pages (zero: back to back, which
    /// measures the server's capacity rather than what readers see).
    pub think: Duration,
    /// Days of data to pick browse ranges from, starting at `first_day` (RFC 3339 date).
    pub first_day: chrono::NaiveDate,
    pub days: u32,
    /// A token and an NDJSON body for one `POST /api/v1/ingest` meanwhile.
    pub ingest: Option<(String, Vec<u8>)>,
    /// One large export meanwhile (a path with its query).
    pub export: Option<String>,
}

#[derive(Debug, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
    pub fn count(&self) -> usize {
        self.0.len()
    }
    pub fn p50_ms(&self) -> f64 {
        self.quantile(0.50)
    }
    pub fn p99_ms(&self) -> f64 {
        self.quantile(0.99)
    }
    pub fn max_ms(&self) -> f64 {
        self.quantile(1.0)
    }
}

#[derive(Debug, Default)]
pub struct LoadReport {
    /// Per request kind: API samples, API events, telemetry page, events page.
    pub kinds: Vec<(&'static str, Latencies)>,
    pub all: Latencies,
    pub errors: Vec<String>,
    pub sign_in: Duration,
    /// Each ingest, back to back while the sessions browse: status,
    /// duration and the summary's inserted sample count (the first inserts,
    /// the repeats find every sample held).
    pub ingest: Vec<(u16, Duration, u64)>,
    /// Each export, back to back: status, duration and bytes received.
    pub export: Vec<(u16, Duration, u64)>,
}

impl LoadReport {
    pub fn print(&self, sessions: usize, duration: Duration, think: Duration) {
        println!(
            "load: {sessions} sessions for {:.0?}, {:.0?} between pages: {} requests, {} errors (sign-in of all sessions {:.1?})",
            duration,
            think,
            self.all.count(),
            self.errors.len(),
            self.sign_in
        );
        let rows = self
            .kinds
            .iter()
            .map(|(kind, l)| (*kind, l))
            .chain(std::iter::once(("all browsing", &self.all)));
        for (kind, l) in rows {
            println!(
                "  {kind:<22} n={:<6} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
                l.count(),
                l.p50_ms(),
                l.p99_ms(),
                l.max_ms()
            );
        }
        let runs = |label: &str, unit: &str, runs: &[(u16, Duration, u64)]| {
            let ok = runs.iter().filter(|r| r.0 == 200).count();
            if let Some((status, took, amount)) = runs.first() {
                println!(
                    "  {label}: {} back to back, {ok} answered 200; the first: {status} in {took:.1?} ({amount} {unit})",
                    runs.len()
                );
            }
        };
        runs("ingest", "samples inserted", &self.ingest);
        runs("export", "bytes", &self.export);
        for e in self.errors.iter().take(10) {
            println!("  error: {e}");
        }
    }
}

const KINDS: [&str; 4] = ["api samples", "api events", "telemetry page", "events page"];

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

/// One session's browsing: (kind index, latency) per request, and errors.
async fn browse(
    plan: &LoadPlan,
    client: reqwest::Client,
    seed: usize,
) -> (Vec<(usize, Duration)>, Vec<String>) {
    let (mut seen, mut errors) = (Vec::new(), Vec::new());
    // Readers arrive spread over one pause, not all in the same instant.
    if !plan.think.is_zero() {
        tokio::time::sleep(plan.think.mul_f64((seed % 100) as f64 / 100.0)).await;
    }
    let until = Instant::now() + plan.duration;
    let mut i = seed;
    while Instant::now() < until {
        let day = plan.first_day + chrono::Days::new((i % plan.days as usize) as u64);
        let next = day + chrono::Days::new(1);
        let vin = &plan.vin;
        let kind = i % KINDS.len();
        let path = match kind {
            0 => format!("/api/v1/vehicles/{vin}/samples?from={day}T00:00:00%2B08:00&to={next}T00:00:00%2B08:00&limit=100&min_speed_kmh={}", i % 60),
            1 => format!("/api/v1/vehicles/{vin}/events?limit=100"),
            2 => format!("/vehicles/{vin}/telemetry?from={day}T00:00&to={next}T00:00"),
            _ => format!("/vehicles/{vin}/events"),
        };
        let started = Instant::now();
        match client.get(format!("{}{path}", plan.origin)).send().await {
            Ok(res) if res.status() == 200 => match res.bytes().await {
                Ok(_) => seen.push((kind, started.elapsed())),
                Err(e) => errors.push(format!("{path}: body: {e}")),
            },
            Ok(res) => errors.push(format!("{path}: {}", res.status())),
            Err(e) => errors.push(format!("{path}: {e:?}")),
        }
        i += 1;
        if !plan.think.is_zero() {
            // ±50 %, so the sessions do not march in step.
            let jitter = 0.5 + (i * 7919 % 1000) as f64 / 1000.0;
            tokio::time::sleep(plan.think.mul_f64(jitter)).await;
        }
    }
    (seen, errors)
}

pub async fn run(plan: LoadPlan) -> LoadReport {
    let plan = std::sync::Arc::new(plan);
    let mut report = LoadReport::default();

    // Sign every session in first (Argon2 is deliberately slow).
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..plan.sessions {
        let c = client();
        let res = c
            .post(format!("{}/api/v1/session", plan.origin))
            .json(&serde_json::json!({"account": plan.account, "password": plan.password}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), 204, "sign in");
        clients.push(c);
    }
    report.sign_in = started.elapsed();

    // The heavy work repeats until the sessions are done, so it runs beside
    // all of the browsing, not only its first seconds.
    let until = Instant::now() + plan.think + plan.duration;
    let ingest = plan.ingest.clone().map(|(token, body)| {
        let origin = plan.origin.clone();
        tokio::spawn(async move {
            let mut runs = Vec::new();
            while runs.is_empty() || Instant::now() < until {
                let started = Instant::now();
                let res = client()
                    .post(format!("{origin}/api/v1/ingest"))
                    .bearer_auth(&token)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("ingest");
                let status = res.status().as_u16();
                let summary: serde_json::Value = res.json().await.unwrap_or_default();
                let inserted = summary["inserted"]["samples"].as_u64().unwrap_or(0);
                runs.push((status, started.elapsed(), inserted));
            }
            runs
        })
    });
    let export = plan.export.clone().map(|path| {
        let (origin, c) = (plan.origin.clone(), clients[0].clone());
        tokio::spawn(async move {
            use futures::StreamExt;
            let mut runs = Vec::new();
            while runs.is_empty() || Instant::now() < until {
                let started = Instant::now();
                let res = c
                    .get(format!("{origin}{path}"))
                    .send()
                    .await
                    .expect("export");
                let status = res.status().as_u16();
                let mut bytes = 0u64;
                let mut body = res.bytes_stream();
                while let Some(chunk) = body.next().await {
                    bytes += chunk.map(|c| c.len() as u64).unwrap_or(0);
                }
                runs.push((status, started.elapsed(), bytes));
            }
            runs
        })
    });
    let sessions: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let plan = plan.clone();
            tokio::spawn(async move { browse(&plan, c, n * 37).await })
        })
        .collect();
    let mut kinds: Vec<Latencies> = KINDS.iter().map(|_| Latencies::default()).collect();
    for s in sessions {
        let (seen, errors) = s.await.expect("session task");
        for (kind, took) in seen {
            kinds[kind].0.push(took);
            report.all.0.push(took);
        }
        report.errors.extend(errors);
    }
    report.kinds = KINDS.iter().copied().zip(kinds).collect();
    if let Some(task) = ingest {
        report.ingest = task.await.expect("ingest task");
    }
    if let Some(task) = export {
        report.export = task.await.expect("export task");
    }
    report
}
