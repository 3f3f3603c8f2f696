//! `mmp2p simulate`: overlays of real cores on the memory driver.
//!
//! Without a subcommand: one overlay, checked against the true ring, with
//! lookup hop statistics. With `fig5`, `fig6`, `fig7`, `compare` or `all`:
//! the paper's evaluation, MMP2P beside Chord and CAN on the same nodes,
//! positions and queries, written as CSV, markdown and SVG plots. With
//! `multicast`: conferences of 8 to 64 members over a transit-stub
//! internet — tree delay, link stress, file push, a stream under loss and
//! churn, repair and control traffic.

pub mod baseline;
pub mod can;
pub mod chord;
mod experiment;
mod figures;
mod metrics;
mod multicast;
mod output;
mod scale;

use clap::Args;
use mmp2p_core::Config;
use mmp2p_memory::overlay::Overlay;
use std::error::Error;
use std::time::Instant as WallClock;

/// Options of `mmp2p simulate`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    figure: Option<figures::Figure>,
    #[command(flatten)]
    single: SingleArgs,
}

/// Options of a single overlay.
#[derive(Args, Debug)]
struct SingleArgs {
    /// Nodes in the overlay, the key node included.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    nodes: u32,
    /// Random friends per node (routing shortcuts; at most 128).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=128))]
    friends: u32,
    /// Backup branches per side (1–5).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=5))]
    backups: u8,
    /// Random lookups to run once the overlay is built.
    #[arg(long, default_value_t = 10_000)]
    lookups: u32,
    /// Seed for IDs, positions, friends, lookups and the network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs a figure, or builds one overlay and prints its figures.
pub fn run(args: &SimulateArgs) -> Result<(), Box<dyn Error>> {
    match &args.figure {
        Some(figure) => figures::run(figure),
        None => run_single(&args.single),
    }
}

/// Builds the overlay, checks it, runs the lookups and prints the figures.
fn run_single(args: &SingleArgs) -> Result<(), Box<dyn Error>> {
    let config = Config { backups: args.backups, ..Config::default() };
    let spec = experiment::overlay_spec(args.nodes as usize, args.friends as usize, config, args.seed);
    println!(
        "building an overlay of {} nodes ({} friends, {} backups, seed {}) through real JOINs ...",
        spec.nodes, spec.friends, spec.config.backups, spec.seed
    );
    let started = WallClock::now();
    let mut overlay = Overlay::build(&spec)?;
    let built = started.elapsed();
    overlay.check_ring()?;
    let join_datagrams: u64 = overlay.network.nodes().map(|(_, n)| n.stats().datagrams_out).sum();
    println!("ring verified: every node's neighbours and backups are the true ones");
    let report = overlay.run_lookups(args.lookups as usize);
    let total = started.elapsed();

    println!();
    println!("| metric | value |");
    println!("|---|---|");
    println!("| nodes | {} |", spec.nodes);
    println!("| friends per node | {} |", spec.friends);
    println!("| backups per side | {} |", spec.config.backups);
    println!("| datagrams while building (joins and maintenance) | {join_datagrams} |");
    println!("| lookups | {} |", args.lookups);
    println!("| correct / wrong / failed | {} / {} / {} |", report.samples.len(), report.wrong, report.failed);
    println!("| mean hops | {:.2} |", report.mean_hops());
    println!("| median hops | {} |", report.quantile_hops(0.5));
    println!("| p99 hops | {} |", report.quantile_hops(0.99));
    println!("| max hops | {} |", report.max_hops());
    println!("| virtual time | {:?} |", overlay.now());
    println!("| wall time (build / total) | {:.2?} / {:.2?} |", built, total);
    if report.wrong + report.failed > 0 {
        return Err(format!("{} lookups wrong, {} failed", report.wrong, report.failed).into());
    }
    Ok(())
}
