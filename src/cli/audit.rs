//! `portal audit verify`: the audit chain against the head last seen.

use super::open_store;
use crate::config::GlobalOptions;
use anyhow::Context;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain; name the first entry that was edited, deleted or moved.
    /// The head it verified is kept in the data directory (`audit-head.json`),
    /// so the next run also notices deleted newest entries.
    Verify,
}

/// `portal audit verify`: exit 0 when the chain is whole, 1 at the first break.
pub(super) async fn audit_verify(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    use portal_core::server::audit::{verify_chain, ChainHead};
    let store = open_store(global).await?;
    let head_file = global.data_dir.join("audit-head.json");
    let known: Option<ChainHead> = match std::fs::read_to_string(&head_file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("reading {}", head_file.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", head_file.display())),
    };
    let report = verify_chain(&*store, known.as_ref()).await?;
    store.close().await;
    if let Some(b) = &report.broken {
        println!(
            "audit chain BROKEN at entry {}: {} ({} entries before it verify)",
            b.seq, b.reason, report.entries
        );
        return Ok(ExitCode::from(1));
    }
    match &report.head {
        Some(head) => {
            std::fs::write(&head_file, serde_json::to_string(head)?)
                .with_context(|| format!("writing {}", head_file.display()))?;
            println!(
                "audit chain intact: {} entries, head {} ({})",
                report.entries, head.seq, head.hash
            );
        }
        None => println!("audit chain intact: no entries yet"),
    }
    Ok(ExitCode::SUCCESS)
}
