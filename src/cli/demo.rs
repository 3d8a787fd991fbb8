//! `portal demo`: a demo fleet, as a file or loaded into the store.

use super::open_store;
use crate::config::GlobalOptions;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::Args;
use portal_core::server::demo::DemoConfig;
use portal_core::server::import::{import_file, ImportOptions};
use portal_core::server::seal::TrustAnchors;
use portal_core::server::store::Store;
use portal_core::server::{demo, Portal};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 3)]
    pub vehicles: u32,
    #[arg(long, default_value_t = 21)]
    pub days: u32,
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// First day of the generated period (UTC date).
    #[arg(long, default_value = "2026-10-01")]
    pub start: NaiveDate,
    /// Only write the NDJSON to this file (`.gz` compresses) instead of importing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do nothing when the database already holds vehicles.
    #[arg(long)]
    pub if_empty: bool,
    /// Write format 1 only: no vehicle keys, positions or seals.
    #[arg(long)]
    pub unsealed: bool,
}

pub(super) async fn demo(global: &GlobalOptions, args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.vehicles == 0 || args.days == 0 {
        bail!("--vehicles and --days must be at least 1");
    }
    let config = DemoConfig {
        vehicles: args.vehicles,
        days: args.days,
        seed: args.seed,
        start: args.start,
        sealed: !args.unsealed,
    };
    if let Some(out) = &args.out {
        let counts = write_demo_file(&config, out)?;
        println!(
            "wrote {}: {} vehicles, {} samples, {} events, {} crash records",
            out.display(),
            counts.vehicles,
            counts.samples,
            counts.events,
            counts.edr
        );
        if config.sealed {
            let dir = out.parent().unwrap_or(Path::new("."));
            let ca = write_demo_ca(&config, dir)?;
            print_sealing(&counts, &ca);
            println!(
                "import it with: portal import --vehicle-ca {} {}",
                ca.display(),
                out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(global).await?;
    if args.if_empty && !store.is_empty().await? {
        println!("the database already holds vehicles; demo data not loaded");
    } else {
        load_demo(global, &store, &config).await?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn write_demo_file(config: &DemoConfig, out: &Path) -> anyhow::Result<demo::DemoCounts> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let counts = if out.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(&mut writer, flate2::Compression::fast());
        let c = demo::generate(config, &mut gz)?;
        gz.finish()?;
        c
    } else {
        demo::generate(config, &mut writer)?
    };
    writer.flush()?;
    Ok(counts)
}

/// Writes the demo vehicle CA as a trust-anchor file in `dir`; returns its path.
fn write_demo_ca(config: &DemoConfig, dir: &Path) -> anyhow::Result<PathBuf> {
    // `serve --demo-if-empty` on a fresh clone: no data directory yet.
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(DEMO_CA_FILE);
    let listed = serde_json::to_string_pretty(&[demo::demo_ca(config.seed)])?;
    std::fs::write(&path, listed + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn print_sealing(counts: &demo::DemoCounts, ca: &Path) {
    println!(
        "sealed by the vehicles: {} seals over {} positions and the records beside them; {} batches lost on the way (missing batches)",
        counts.seals, counts.positions, counts.missing_batches
    );
    println!("vehicle CA (trust anchor) used: {}", ca.display());
}

/// The file the demo vehicle CA is written to (in the data directory, or beside `--out`).
pub const DEMO_CA_FILE: &str = "demo-vehicle-ca.json";

/// The CAs a portal with demo data trusts: those configured and the demo CA.
pub(super) fn trusting_demo_ca(
    global: &GlobalOptions,
    configured: &TrustAnchors,
) -> anyhow::Result<Arc<TrustAnchors>> {
    let config = DemoConfig::default();
    write_demo_ca(&config, &global.data_dir)?;
    let anchors = configured
        .including(demo::demo_ca(config.seed))
        .context("adding the demo vehicle CA")?;
    Ok(Arc::new(anchors))
}

/// The demo owner's sign-in, printed when the demo data is loaded.
pub const DEMO_OWNER: &str = "owner@example.com";

pub const DEMO_OWNER_PASSWORD: &str = "demo-owner-2021";

/// Generates the demo file in the data directory and imports it through the normal path.
pub(super) async fn load_demo(
    global: &GlobalOptions,
    store: &Arc<dyn Store>,
    config: &DemoConfig,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&global.data_dir)?;
    let path = global.data_dir.join(format!("demo-{}.ndjson", config.seed));
    let counts = write_demo_file(config, &path)?;
    let configured = global.vehicle_cas()?;
    let vehicle_cas = if config.sealed {
        let ca = write_demo_ca(config, &global.data_dir)?;
        print_sealing(&counts, &ca);
        Arc::new(configured.including(demo::demo_ca(config.seed))?)
    } else {
        configured
    };
    let options = ImportOptions {
        actor: "demo".into(),
        vehicle_cas,
        ..ImportOptions::default()
    };
    let result = import_file(&**store, &path, &options, None).await;
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(summary) => {
            println!(
                "demo data loaded: {} vehicles, {} samples, {} events, {} crash records",
                summary.inserted.vehicles, counts.samples, counts.events, counts.edr
            );
            let vins: Vec<_> = (0..config.vehicles).map(demo::demo_vin).collect();
            let portal = Portal::new(store.clone());
            let account = portal
                .create_owner_with_vehicles(DEMO_OWNER, DEMO_OWNER_PASSWORD, &vins)
                .await
                .context("creating the demo owner")?;
            println!(
                "demo sign-in (owner of {} vehicles): {account} / {DEMO_OWNER_PASSWORD}",
                vins.len()
            );
            Ok(())
        }
        Err(e) => bail!("demo import failed: {e}"),
    }
}
