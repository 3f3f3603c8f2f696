//! `mmp2p`: the MMP2P command-line program.

// Doc comments here double as `--help` text, where `[ADDR]:PORT` and `[::1]`
// are address notation, not links.
#![allow(rustdoc::broken_intra_doc_links)]

mod demo;
mod node;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// MMP2P: an IPv6 overlay ring where messenger friends are routing shortcuts.
#[derive(Parser, Debug)]
#[command(name = "mmp2p", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one node on an IPv6 UDP socket, controlled by text or JSON lines
    /// on standard input (see docs/cli.md).
    Node(node::NodeArgs),
    /// Start a key node and 15 more nodes on [::1] (real UDP sockets, one
    /// process), take them through joins, searches, lookups, a friend's file
    /// list and two crashes, and print a transcript and a summary table.
    Demo(demo::DemoArgs),
    /// Build an overlay on the deterministic in-memory network through real
    /// JOINs, run lookups and print hop statistics.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Node(args) => return node::run(&args),
        Command::Demo(args) => return demo::run(&args),
        Command::Simulate(args) => simulate::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error, filtered by `RUST_LOG` (default: warnings).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr).init();
}
