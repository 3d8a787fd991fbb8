//! `portal admin`: accounts, claim codes, staff and ingest tokens.

use super::{open_store, parse_instant, parse_vin};
use crate::config::GlobalOptions;
use anyhow::Context;
use clap::Subcommand;
use portal_core::server::Portal;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Issue a one-time claim code for the VIN's next owner.
    ClaimCode {
        vin: String,
        /// Start of the new owner's period: RFC 3339, or a date (midnight in the vehicle's zone).
        #[arg(long)]
        since: Option<String>,
    },
    /// Create a support or admin account: prints its first password and its
    /// TOTP enrolment (a QR code drawn here, and the otpauth address).
    AddStaff {
        account: String,
        #[arg(long, value_parser = ["support", "admin"])]
        role: String,
    },
    /// Issue a token for `POST /api/v1/ingest` (printed once, stored hashed);
    /// `--revoke` ends the named token, `--list` shows every token.
    IngestToken {
        /// The token's name, e.g. the pipeline that uses it (`dc-shanghai-1`).
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// Revoke the live token of this name instead: it stops working at once.
        #[arg(long, conflicts_with = "list")]
        revoke: bool,
        /// List every token, live and revoked (names and times; never secrets).
        #[arg(long)]
        list: bool,
    },
    /// End the VIN's current ownership period.
    Transfer {
        vin: String,
        /// RFC 3339, or a date (midnight in the vehicle's zone).
        #[arg(long)]
        at: String,
    },
}

pub(super) async fn admin(
    global: &GlobalOptions,
    command: AdminCommand,
) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    let portal = Portal::new(store.clone());
    let result = match command {
        AdminCommand::ClaimCode { vin, since } => {
            let vin = parse_vin(&vin)?;
            let since = match since {
                Some(s) => Some(parse_instant(&*store, &vin, &s).await?),
                None => None,
            };
            let issued = portal.issue_claim_code(&vin, since).await?;
            println!("claim code for {vin}: {}", issued.code);
            let from = if issued.since_us == i64::MIN {
                "the first record".to_string()
            } else {
                portal_core::domain::time::format_utc(issued.since_us)
            };
            println!("  the new owner's period starts at {from}");
            println!(
                "  valid until {} (single use)",
                portal_core::domain::time::format_utc(issued.expires_us)
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::AddStaff { account, role } => {
            let staff = portal.add_staff(None, &account, &role).await?;
            println!("{} account {} created.", staff.role, staff.account);
            println!("  first password (shown once): {}", staff.initial_password);
            println!("  enrol the second factor in an authenticator app:");
            println!(
                "{}",
                portal_core::server::totp::qr_text(&staff.otpauth_url)?
            );
            println!("  or enter the secret by hand: {}", staff.totp_secret);
            println!("  otpauth address: {}", staff.otpauth_url);
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::IngestToken { name, revoke, list } => {
            ingest_token(&portal, name, revoke, list).await
        }
        AdminCommand::Transfer { vin, at } => {
            let vin = parse_vin(&vin)?;
            let at_us = parse_instant(&*store, &vin, &at).await?;
            portal.transfer(&vin, at_us).await?;
            println!(
                "{vin}: the current ownership period ends at {}",
                portal_core::domain::time::format_utc(at_us)
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    store.close().await;
    result
}

async fn ingest_token(
    portal: &Portal,
    name: Option<String>,
    revoke: bool,
    list: bool,
) -> anyhow::Result<ExitCode> {
    use portal_core::domain::time::format_utc;
    if list {
        for t in portal.ingest_tokens().await? {
            let state = match t.revoked_us {
                Some(at) => format!("revoked {}", format_utc(at)),
                None => "live".into(),
            };
            println!(
                "{:<24} issued {}  {state}",
                t.name,
                format_utc(t.created_us)
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = name.context("name the token")?;
    if revoke {
        portal
            .revoke_ingest_token(&name)
            .await
            .map_err(|e| match e {
                portal_core::server::error::ServiceError::NotFound => {
                    anyhow::anyhow!("no live ingest token is named {name}")
                }
                other => other.into(),
            })?;
        println!("ingest token {name} revoked: it no longer works");
        return Ok(ExitCode::SUCCESS);
    }
    let issued = portal.issue_ingest_token(&name).await?;
    println!(
        "ingest token {} (shown once; only its hash is kept):",
        issued.name
    );
    println!("{}", issued.token);
    println!("  use it as: Authorization: Bearer <token> on POST /api/v1/ingest");
    Ok(ExitCode::SUCCESS)
}
