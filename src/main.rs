//! `portal`: the web server and the command-line tools.

use clap::Parser;
use portal::cli::{run, Cli};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    run(Cli::parse()).await
}
