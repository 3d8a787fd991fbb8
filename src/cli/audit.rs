//! `portal audit verify`: the transparency log against the head last seen.

use super::open_store;
use crate::config::GlobalOptions;
use anyhow::Context;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole log (after giving entries written since the server
    /// last ran their leaves): every entry against its leaf, every stored
    /// subtree, the newest checkpoint's root and signature. The head it
    /// verified is kept in the data directory (`log-head.json`), so the next
    /// run also notices a rewritten or shortened log.
    Verify,
}

/// `portal audit verify`: exit 0 when the log is whole, 1 at the first break.
pub(super) async fn audit_verify(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    use portal_core::server::audit::{verify_log, LogHead};
    let store = open_store(global).await?;
    // Checkpoints are checked with this data directory's log key; without
    // one (a database moved without its keys), the signatures are not.
    let key_file = global
        .data_dir
        .join(portal_core::server::tlog::LOG_KEY_FILE);
    let log_key = match key_file.exists() {
        true => Some(global.log_key()?),
        false => None,
    };
    // Entries written since the server last ran become leaves first.
    super::sequence_log(log_key.clone(), &store).await?;
    let head_file = global.data_dir.join("log-head.json");
    let known: Option<LogHead> = match std::fs::read_to_string(&head_file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("reading {}", head_file.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", head_file.display())),
    };
    let verifier = log_key.as_ref().map(|k| k.verifier());
    let report = verify_log(&*store, known.as_ref(), verifier).await?;
    store.close().await;
    if let Some(b) = &report.broken {
        println!(
            "transparency log BROKEN at leaf {}: {} ({} leaves before it verify)",
            b.leaf, b.reason, report.entries
        );
        return Ok(ExitCode::from(1));
    }
    let pending = match report.pending {
        0 => String::new(),
        n => format!("; {n} newer entries wait for the sequencer"),
    };
    match &report.head {
        Some(head) => {
            std::fs::write(&head_file, serde_json::to_string(head)?)
                .with_context(|| format!("writing {}", head_file.display()))?;
            let checkpoint = match (report.checkpoint, &log_key) {
                (Some(size), Some(key)) => {
                    format!("newest checkpoint ({size} leaves) signed by {}", key.origin)
                }
                (Some(size), None) => format!(
                    "newest checkpoint ({size} leaves) matches; its signature was not checked \
                     (no {} in the data directory)",
                    key_file.display()
                ),
                (None, _) => "no checkpoint signed yet".into(),
            };
            println!(
                "transparency log intact: {} leaves, root {}, {checkpoint}{pending}",
                head.size, head.root
            );
        }
        None => println!("transparency log intact: no leaves yet{pending}"),
    }
    Ok(ExitCode::SUCCESS)
}
