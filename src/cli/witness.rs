//! `portal witness`: a witness of a portal's transparency log, run by a
//! third party (an insurers' association, a notary) on its own machine. It
//! reads the log's newest checkpoint, checks that it extends the last one
//! it cosigned (a consistency proof), cosigns it and posts the cosignature
//! back. It never cosigns a log that was rewritten, and says so loudly.
//!
//! Its state directory holds the log key it trusts (`log-key`), the last
//! checkpoint it cosigned (`witnessed.json`) and, if it ever saw the log
//! contradict itself, the evidence (`conflict-<time>.txt`).

use anyhow::Context;
use base64::Engine as _;
use clap::Args;
use portal_core::server::seal::Hash;
use portal_core::server::signing::Signer;
use portal_core::server::tlog::note::NoteVerifier;
use portal_core::server::tlog::witness::{Offered, Witness, WitnessError, Witnessed};
use portal_core::server::tlog::{decoded, ConsistencyProof};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The portal's address, e.g. https://portal.example.com (its /log/ is read).
    #[arg(long)]
    pub log: String,
    /// This witness's private key (32 bytes); created on first use.
    #[arg(long)]
    pub key: PathBuf,
    /// Where this witness keeps what it cosigned (one directory per log).
    #[arg(long)]
    pub state: PathBuf,
    /// This witness's name, as portals and verifiers know its key: a name
    /// unique to it, e.g. `witness.insurers.example/1`.
    #[arg(long, env = "PORTAL_WITNESS_NAME")]
    pub name: String,
    /// The log's verifier key (`<origin>+<id>+<key>`). Without it, the key
    /// the log publishes is trusted at the first visit and kept.
    #[arg(long)]
    pub log_key: Option<String>,
    /// Visit once and exit: 0 cosigned, 1 failed, 2 the log is inconsistent.
    #[arg(long)]
    pub once: bool,
    /// Seconds between visits.
    #[arg(long, default_value_t = 60)]
    pub every: u64,
}

/// Exit code when the log contradicts what this witness cosigned.
const INCONSISTENT: u8 = 2;

pub(super) async fn witness(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || run(&args))
        .await
        .context("the witness stopped")?
}

fn run(args: &WitnessArgs) -> anyhow::Result<ExitCode> {
    let signer = Signer::load_or_create_file(&args.key)
        .with_context(|| format!("loading the witness key {}", args.key.display()))?;
    std::fs::create_dir_all(&args.state)
        .with_context(|| format!("creating {}", args.state.display()))?;
    let http = Http::new(&args.log);
    let log_key = trusted_log_key(args, &http)?;
    let witness = Witness::new(&args.name, &signer, log_key)?;
    let public = witness.public();
    println!("witness {} of {}", public.encode(), witness.log.encode());
    println!(
        "the portal takes its cosignatures when started with --witness {}={}",
        public.name,
        base64::engine::general_purpose::STANDARD.encode(public.key.as_bytes())
    );
    loop {
        let code = match visit(&witness, &http, &args.state) {
            Ok(said) => {
                println!("{said}");
                ExitCode::SUCCESS
            }
            Err(Failure::Inconsistent(e)) => {
                eprintln!("ALERT: {e}");
                eprintln!(
                    "ALERT: nothing was cosigned; the evidence is in {}",
                    args.state.display()
                );
                ExitCode::from(INCONSISTENT)
            }
            Err(Failure::Other(e)) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
        if args.once {
            return Ok(code);
        }
        std::thread::sleep(Duration::from_secs(args.every.max(1)));
    }
}

enum Failure {
    Inconsistent(WitnessError),
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Other(e.into())
    }
}

/// One visit: read, check, remember, cosign, post.
fn visit(witness: &Witness, http: &Http, state: &Path) -> Result<String, Failure> {
    let (status, note) = http.get("/log/checkpoint")?;
    if status == 404 {
        return Ok("the log has no checkpoint yet; nothing to cosign".into());
    }
    if status != 200 {
        return Err(anyhow::anyhow!("GET /log/checkpoint answered {status}: {note}").into());
    }
    let offered = witness.read(&note).map_err(anyhow::Error::from)?;
    let last = read_state(state)?;
    let proof = match Witness::proof_needed(last.as_ref(), &offered) {
        Some((old, new)) => consistency(http, old, new)?,
        None => Vec::new(),
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let (_, record) = match witness.cosign(last.as_ref(), &offered, &proof, now) {
        Ok(done) => done,
        Err(e @ WitnessError::Inconsistent { .. }) => {
            keep_evidence(state, last.as_ref(), &offered, &note, &proof)?;
            return Err(Failure::Inconsistent(e));
        }
        Err(e) => return Err(anyhow::Error::from(e).into()),
    };
    // Remembered before it leaves this machine: a crash never lets this
    // witness cosign something it would not remember.
    write_atomically(
        &state.join(STATE_FILE),
        &serde_json::to_vec_pretty(&record)?,
    )?;
    let (status, reply) = http.post("/log/cosignatures", &record.note)?;
    if status != 200 {
        return Err(anyhow::anyhow!(
            "cosigned {} leaves, but the portal refused the cosignature ({status}): {reply}",
            record.size
        )
        .into());
    }
    let since = match &last {
        Some(l) if l.size < record.size => {
            format!("consistent with the {} cosigned before", l.size)
        }
        Some(_) => "the same tree as cosigned before".into(),
        None => "the first checkpoint this witness saw".into(),
    };
    Ok(format!(
        "cosigned {} at {} leaves (root {}), {since}",
        offered.checkpoint.origin, record.size, record.root
    ))
}

fn consistency(http: &Http, old: u64, new: u64) -> anyhow::Result<Vec<Hash>> {
    let (status, body) = http.get(&format!("/log/proof/consistency?old={old}&new={new}"))?;
    if status != 200 {
        anyhow::bail!(
            "the log gives no consistency proof from {old} to {new} leaves ({status}): {body}"
        );
    }
    let proof: ConsistencyProof =
        serde_json::from_str(&body).context("reading the consistency proof")?;
    proof
        .hashes
        .iter()
        .map(|h| {
            decoded(h)
                .ok_or_else(|| anyhow::anyhow!("the consistency proof holds `{h}`, not a hash"))
        })
        .collect()
}

const STATE_FILE: &str = "witnessed.json";
const LOG_KEY_FILE: &str = "log-key";

fn read_state(state: &Path) -> anyhow::Result<Option<Witnessed>> {
    let path = state.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The log key this witness trusts: the one it kept, which `--log-key` (if
/// given) must match; else `--log-key`; else the one the log publishes now.
fn trusted_log_key(args: &WitnessArgs, http: &Http) -> anyhow::Result<NoteVerifier> {
    let path = args.state.join(LOG_KEY_FILE);
    let given = args
        .log_key
        .as_deref()
        .map(NoteVerifier::parse)
        .transpose()
        .context("reading --log-key")?;
    let kept = match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            NoteVerifier::parse(&text).with_context(|| format!("reading {}", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    match (kept, given) {
        (Some(kept), Some(given)) if kept != given => anyhow::bail!(
            "{} watches the log with key {}, not {}: give each log its own --state",
            args.state.display(),
            kept.encode(),
            given.encode()
        ),
        (Some(kept), _) => Ok(kept),
        (None, given) => {
            let key = match given {
                Some(key) => key,
                None => {
                    let (status, text) = http.get("/log/key")?;
                    if status != 200 {
                        anyhow::bail!("GET /log/key answered {status}: {text}");
                    }
                    let key = NoteVerifier::parse(&text).context("reading the log's key")?;
                    println!(
                        "trusting the log key {} from its first visit (give --log-key to check it instead)",
                        key.encode()
                    );
                    key
                }
            };
            write_atomically(&path, format!("{}\n", key.encode()).as_bytes())?;
            Ok(key)
        }
    }
}

/// What a witness keeps when the log contradicts itself: the checkpoint it
/// cosigned, the one offered now and the proof that failed, so its operator
/// can show anyone.
fn keep_evidence(
    state: &Path,
    last: Option<&Witnessed>,
    offered: &Offered,
    note: &str,
    proof: &[Hash],
) -> anyhow::Result<()> {
    let b64 = |h: &Hash| base64::engine::general_purpose::STANDARD.encode(h);
    let proof: Vec<String> = proof.iter().map(b64).collect();
    let text = format!(
        "The log {origin} offered a checkpoint inconsistent with the one this witness cosigned.\n\n\
         Cosigned before:\n{seen}\nOffered now:\n{note}\nConsistency proof from {old} to {new} leaves as served:\n{proof}\n",
        origin = offered.checkpoint.origin,
        seen = last.map_or("(none)\n".to_string(), |l| l.note.clone()),
        old = last.map_or(0, |l| l.size),
        new = offered.checkpoint.size,
        proof = proof.join("\n"),
    );
    let name = format!(
        "conflict-{}.txt",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    write_atomically(&state.join(name), text.as_bytes())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The portal over HTTP(S): status and body text of each request.
struct Http {
    base: String,
    agent: ureq::Agent,
}

impl Http {
    fn new(base: &str) -> Http {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        Http {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .with_context(|| format!("GET {url}"))?;
        let body = response.body_mut().read_to_string()?;
        Ok((response.status().as_u16(), body))
    }

    fn post(&self, path: &str, text: &str) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(text)
            .with_context(|| format!("POST {url}"))?;
        let body = response.body_mut().read_to_string()?;
        Ok((response.status().as_u16(), body))
    }
}
