//! `portal import`: log files into the store, with a progress bar and a summary.

use super::open_store;
use crate::config::GlobalOptions;
use clap::{Args, ValueEnum};
use portal_core::server::import::{
    import_file, ImportError, ImportOptions, ImportSummary, Progress, ProgressFn,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON files; `.gz` (or any gzip content) is decompressed.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Keep unknown fields in an `extra` object instead of rejecting them.
    #[arg(long)]
    pub lenient: bool,
    /// Reject a file when any record conflicts with one already held.
    #[arg(long)]
    pub reject_conflicts: bool,
    /// How many errors and conflicts to list per file (all are counted).
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub(super) async fn import(global: &GlobalOptions, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    let options = ImportOptions {
        strict: !args.lenient,
        reject_conflicts: args.reject_conflicts,
        max_listed: args.max_errors,
        actor: "cli".into(),
        vehicle_cas: global.vehicle_cas()?,
    };
    let mut failed = 0;
    for path in &args.files {
        let bar = progress_bar(path);
        let report: ProgressFn = {
            let bar = bar.clone();
            Arc::new(move |p: Progress| {
                bar.set_position(p.bytes);
                bar.set_message(format!("{} lines", p.lines));
            })
        };
        let outcome = import_file(&*store, path, &options, Some(report)).await;
        bar.finish_and_clear();
        match outcome {
            Ok(summary) => print_summary(&summary, args.format)?,
            Err(e) => {
                failed += 1;
                report_import_error(&e, args.format)?;
            }
        }
    }
    let sequenced = match global.log_key() {
        Ok(key) => super::sequence_log(Some(key), &store).await,
        Err(e) => Err(e),
    };
    store.close().await;
    sequenced?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn progress_bar(path: &Path) -> indicatif::ProgressBar {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    // Drawn only when stderr is a terminal.
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(path.display().to_string());
    bar
}

fn print_summary(s: &ImportSummary, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(s)?)?,
        OutputFormat::Text => {
            writeln!(
                out,
                "{}: imported ({} lines, sha256 {})",
                s.source, s.lines, s.sha256
            )?;
            let i = &s.inserted;
            let d = &s.duplicates;
            writeln!(
                out,
                "  added:      {} vehicles, {} samples, {} events, {} crash records",
                i.vehicles, i.samples, i.events, i.edr
            )?;
            writeln!(out, "  duplicates: {} vehicles, {} samples, {} events, {} crash records (already held, skipped)", d.vehicles, d.samples, d.events, d.edr)?;
            writeln!(
                out,
                "  conflicts:  {} (held values kept)",
                s.conflicts_total
            )?;
            for c in &s.conflicts {
                writeln!(out, "    line {}: {} — {}", c.line, c.identity, c.reason)?;
            }
            if s.conflicts_total as usize > s.conflicts.len() {
                writeln!(
                    out,
                    "    … and {} more",
                    s.conflicts_total as usize - s.conflicts.len()
                )?;
            }
        }
    }
    Ok(())
}

fn report_import_error(e: &ImportError, format: OutputFormat) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    match (e, format) {
        (
            ImportError::Rejected {
                source_name,
                total,
                errors,
                conflicts,
            },
            OutputFormat::Json,
        ) => {
            let body = serde_json::json!({"source": source_name, "rejected": true, "total_errors": total, "errors": errors, "conflicts": conflicts});
            writeln!(std::io::stdout(), "{body}")?;
        }
        (
            ImportError::Rejected {
                source_name,
                total,
                errors,
                conflicts,
            },
            OutputFormat::Text,
        ) => {
            writeln!(err, "{e}")?;
            for x in errors {
                let field = x
                    .field
                    .as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default();
                writeln!(err, "  {source_name}:{}: {field}{}", x.line, x.reason)?;
            }
            for c in conflicts {
                writeln!(
                    err,
                    "  {source_name}:{}: conflict: {} — {}",
                    c.line, c.identity, c.reason
                )?;
            }
            let listed = (errors.len() + conflicts.len()) as u64;
            if *total > listed {
                writeln!(err, "  … and {} more", total - listed)?;
            }
        }
        (other, _) => writeln!(err, "error: {other}")?,
    }
    Ok(())
}
