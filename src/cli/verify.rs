//! `portal verify`: an evidence bundle, offline.

use crate::config::GlobalOptions;
use anyhow::Context;
use clap::Args;
use portal_core::server::signing::{PublicKey, Signer};
use portal_core::server::tlog::note::NoteVerifier;
use portal_core::server::verify::{verify_bundle_file, LogTrust, Trust};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle (a zip file).
    pub bundle: PathBuf,
    /// The portal's public key: the JSON of /.well-known/portal-signing-key or
    /// its hex (default: this installation's own key in the data directory).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The transparency log's verifier key (`<origin>+<id>+<key>`, as
    /// `/log/key` serves it); by default the one the signed manifest names.
    /// The witnesses whose cosignature is required come with `--witness`.
    #[arg(long)]
    pub log_key: Option<String>,
}

/// `portal verify`: exit 0 when the bundle verifies, 1 when it does not.
pub(super) fn verify(global: &GlobalOptions, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let key = match &args.key {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the key {}", path.display()))?;
            PublicKey::parse(&text)?
        }
        None => {
            if !global.data_dir.join("signing-key.ed25519").exists() {
                anyhow::bail!(
                    "no key in {}: pass --key FILE (the portal's /.well-known/portal-signing-key)",
                    global.data_dir.display()
                );
            }
            Signer::load_or_create(&global.data_dir)?.public_key()
        }
    };
    let file = std::fs::File::open(&args.bundle)
        .with_context(|| format!("opening {}", args.bundle.display()))?;
    let vehicle_cas = global.vehicle_cas()?;
    let witnesses = global.witnesses()?;
    let log_key = args
        .log_key
        .as_deref()
        .map(NoteVerifier::parse)
        .transpose()
        .context("reading --log-key")?;
    let trust = Trust {
        vehicle_cas: (!vehicle_cas.is_empty()).then_some(&*vehicle_cas),
        log: LogTrust {
            log_key: log_key.as_ref(),
            witnesses: &witnesses,
        },
    };
    let v = verify_bundle_file(&file, &key, &trust);
    println!("key fingerprint: {}", key.fingerprint);
    if let Some(id) = &v.bundle_id {
        println!("bundle: {id} (VIN {})", v.vin.as_deref().unwrap_or("?"));
    }
    if let Some(sha) = &v.manifest_sha256 {
        println!("manifest SHA-256: {sha}");
    }
    if let Some(s) = &v.sealed {
        println!(
            "signed by the vehicle (keys {}): {} records verified against the car's key, {} withheld (as hashes) in {} seals; {} records unsealed; {} missing batches",
            s.keys.join(", "),
            s.verified,
            s.withheld,
            s.seals,
            s.unsealed,
            s.missing_batches.len()
        );
        for m in &s.missing_batches {
            println!(
                "  missing: key {} seals {}–{} (after {}, before {})",
                m.key,
                m.from_seq,
                m.to_seq,
                m.after.as_deref().unwrap_or("the first seal"),
                m.before
            );
        }
        if !s.ca_checked {
            println!("  the vehicle keys were NOT checked against a vehicle CA: pass --vehicle-ca FILE (the maker's CA keys)");
        }
    }
    if let Some(l) = &v.log {
        println!(
            "transparency log {}: this disclosure is leaf {} of the checkpoint of {} leaves, with {} import leaves of the vehicle",
            l.origin,
            l.disclosure.unwrap_or_default(),
            l.size,
            l.imports
        );
        match &l.witnessed {
            Some(w) if !w.cosigned_by.is_empty() => {
                let by: Vec<String> =
                    w.cosigned_by.iter().map(|c| format!("{} at {}", c.name, c.at)).collect();
                println!(
                    "  these records were in the log at size {} ({} import leaves), cosigned by {}",
                    w.size,
                    w.imports,
                    by.join(", ")
                );
            }
            Some(w) => println!(
                "  the log extends its checkpoint of {} leaves, which carries cosignatures: pass --witness NAME=KEY to check them",
                w.size
            ),
            None if l.witnesses_checked => {}
            None => println!("  no witness had cosigned the log when the bundle was made"),
        }
    }
    if v.valid {
        println!("valid: the signature matches and every file is as the manifest lists it");
        return Ok(ExitCode::SUCCESS);
    }
    println!("NOT valid:");
    for p in &v.problems {
        println!(
            "  - {}",
            serde_json::to_string(p).unwrap_or_else(|_| p.short())
        );
    }
    Ok(ExitCode::from(1))
}
