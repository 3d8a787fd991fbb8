//! `portal`: the web server and the command-line tools.

use clap::Parser;
use portal::cli::{run, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread of the runtime allocates.
    portal::memory::keep_heap_trimmed();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("starting the async runtime")
        .block_on(run(Cli::parse()))
}
