//! `mmp2p`: the MMP2P command-line program.

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
    /// Build an overlay on the deterministic in-memory network through real
    /// JOINs, run lookups and print hop statistics.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
