//! Builds the portal without installing cargo-leptos:
//!
//!   cargo xtask build [--release]   the browser bundle and the server, side by side
//!   cargo xtask site [--release]    the browser bundle only (target/site/pkg)
//!
//! The steps are cargo-leptos's own, done with the library behind
//! `wasm-bindgen-cli`: build the `hydrate` library for wasm32, generate its
//! JavaScript glue, shrink it with `wasm-opt` (release), and copy the style
//! sheet. `cargo leptos watch` remains the development loop.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

/// `output-name` in `[package.metadata.leptos]`, and `LEPTOS_OUTPUT_NAME` in
/// `.cargo/config.toml`: the server links `/pkg/portal.js` and `/pkg/portal.wasm`.
const OUTPUT_NAME: &str = "portal";
/// Where the server looks for `/pkg` (Leptos's default `site-root`).
const SITE_PKG_DIR: &str = "target/site/pkg";
/// The browser build has other features than the server's, so it gets a
/// target directory of its own and both builds can run at once.
const BROWSER_TARGET_DIR: &str = "target/front";
const STYLE_SHEET: &str = "style/main.css";

#[derive(Clone, Copy, PartialEq)]
enum Profile {
    Debug,
    Release,
}

impl Profile {
    /// The server's cargo profile flag and its directory under `target/`.
    fn server(self) -> (&'static [&'static str], &'static str) {
        match self {
            Profile::Release => (&["--release"], "release"),
            Profile::Debug => (&[], "debug"),
        }
    }

    /// The browser bundle's: `wasm-release` is size-optimised (Cargo.toml).
    fn browser(self) -> (&'static [&'static str], &'static str) {
        match self {
            Profile::Release => (&["--profile", "wasm-release"], "wasm-release"),
            Profile::Debug => (&[], "debug"),
        }
    }
}

/// `target/site/pkg/portal.EXT`.
fn pkg_file(ext: &str) -> PathBuf {
    Path::new(SITE_PKG_DIR).join(format!("{OUTPUT_NAME}.{ext}"))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile = if args.iter().any(|a| a == "--release") {
        Profile::Release
    } else {
        Profile::Debug
    };
    let command = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str);
    // Paths below are relative to the workspace root, wherever we are started.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?;
    std::env::set_current_dir(root)?;
    let started = Instant::now();
    match command {
        Some("site") => build_site(profile)?,
        Some("build") => {
            // Two cargo processes, each with the machine's cores: the server's
            // long compile overlaps the browser bundle's single-threaded LTO.
            say("building the server and the browser bundle side by side");
            let mut server = spawn_server_build(profile)?;
            let site = build_site(profile);
            let server_status = server.wait().context("waiting for the server build")?;
            site?;
            if !server_status.success() {
                bail!("the server build failed ({server_status})");
            }
            say(&format!(
                "server built: target/{}/portal",
                profile.server().1
            ));
        }
        _ => bail!("usage: cargo xtask build|site [--release]"),
    }
    say(&format!("done in {}", elapsed(started)));
    Ok(())
}

fn say(line: &str) {
    eprintln!("\n==> {line}");
}

fn elapsed(since: Instant) -> String {
    let s = since.elapsed().as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}

fn cargo() -> Command {
    // Flags (`--cfg erase_components`) come from .cargo/config.toml.
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Two builds print at once: lines, not two fighting progress bars.
    cmd.env("CARGO_TERM_PROGRESS_WHEN", "never");
    cmd
}

fn spawn_server_build(profile: Profile) -> Result<Child> {
    let mut cmd = cargo();
    cmd.args(["build", "--package", "portal", "--bin", "portal"])
        .args(["--no-default-features", "--features", "ssr"])
        .args(profile.server().0);
    cmd.spawn().context("starting cargo for the server")
}

/// target/site/pkg/portal.{js,wasm,css}, as the server's pages link them.
fn build_site(profile: Profile) -> Result<()> {
    let started = Instant::now();
    let wasm = build_browser_wasm(profile)?;
    // The glue and wasm-opt take a minute and more: only when the wasm changed.
    let stamp = Path::new(BROWSER_TARGET_DIR).join("site-built-from");
    let source = describe(&wasm, profile)?;
    let site_wasm = pkg_file("wasm");
    if site_wasm.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&source) {
        say("the browser bundle's wasm is unchanged: keeping target/site/pkg");
    } else {
        let _ = std::fs::remove_file(&stamp);
        // An unshrunk bundle (no wasm-opt yet) is made again next time.
        if generate_bundle(&wasm, profile)? {
            std::fs::write(&stamp, source)?;
        }
    }
    std::fs::copy(STYLE_SHEET, pkg_file("css"))
        .with_context(|| format!("copying {STYLE_SHEET}"))?;
    say(&format!(
        "browser bundle in {SITE_PKG_DIR} ({} KiB of wasm) after {}",
        std::fs::metadata(&site_wasm)?.len() / 1024,
        elapsed(started)
    ));
    Ok(())
}

/// `cargo build` of the `hydrate` library for wasm32; returns the .wasm.
fn build_browser_wasm(profile: Profile) -> Result<PathBuf> {
    say("building the browser bundle (wasm32)");
    let mut cmd = cargo();
    cmd.args(["build", "--package", "portal", "--lib"])
        .args(["--target", "wasm32-unknown-unknown"])
        .args(["--no-default-features", "--features", "hydrate"])
        .args(["--target-dir", BROWSER_TARGET_DIR])
        .args(profile.browser().0);
    let status = cmd
        .status()
        .context("starting cargo for the browser bundle")?;
    if !status.success() {
        bail!("the browser bundle failed to build ({status})");
    }
    Ok(Path::new(BROWSER_TARGET_DIR)
        .join("wasm32-unknown-unknown")
        .join(profile.browser().1)
        .join(format!("{OUTPUT_NAME}.wasm")))
}

/// What the bundle in target/site/pkg was made from: profile, size, mtime.
fn describe(wasm: &Path, profile: Profile) -> Result<String> {
    let meta = std::fs::metadata(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let modified = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let release = profile == Profile::Release;
    Ok(format!(
        "release={release} bytes={} modified={modified:?}",
        meta.len()
    ))
}

/// wasm-bindgen's glue, the wasm under the name Leptos links, and (release)
/// wasm-opt. False when the bundle is usable but wasm-opt was missing.
fn generate_bundle(wasm: &Path, profile: Profile) -> Result<bool> {
    say("generating the JavaScript glue (wasm-bindgen)");
    let pkg = Path::new(SITE_PKG_DIR);
    if pkg.exists() {
        std::fs::remove_dir_all(pkg).with_context(|| format!("clearing {}", pkg.display()))?;
    }
    std::fs::create_dir_all(pkg)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(OUTPUT_NAME)
        .web(true)?
        .typescript(false)
        .debug(profile == Profile::Debug)
        .generate(pkg)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;
    // Leptos links `/pkg/portal.wasm` when LEPTOS_OUTPUT_NAME was set at
    // build time (as cargo-leptos names it), not wasm-bindgen's `portal_bg.wasm`.
    let site_wasm = pkg_file("wasm");
    std::fs::rename(pkg.join(format!("{OUTPUT_NAME}_bg.wasm")), &site_wasm)?;
    match profile {
        Profile::Release => shrink(&site_wasm),
        Profile::Debug => Ok(true),
    }
}

/// `wasm-opt -Oz` (npm's binaryen, which ./dev.sh installs). Without it the
/// bundle still works, only larger: say so rather than fail (false).
fn shrink(wasm: &Path) -> Result<bool> {
    say("shrinking the bundle (wasm-opt -Oz)");
    // The features rustc's wasm32 target emits by default.
    let features = [
        "--enable-bulk-memory",
        "--enable-mutable-globals",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-reference-types",
        "--enable-multivalue",
    ];
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        .args(features)
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status();
    match status {
        Ok(s) if s.success() => Ok(true),
        Ok(s) => bail!("wasm-opt failed ({s})"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "wasm-opt not found: the bundle is served unshrunk (npm install -g binaryen adds it)"
            );
            Ok(false)
        }
        Err(e) => Err(e).context("running wasm-opt"),
    }
}
