//! `simulate scale`: how large an overlay of real cores this machine can
//! build through real JOINs, and what limits it.
//!
//! Its nodes have the [`OverlayOnly`] profile: the ring and routing
//! with 50 friends, no applications. Before building, the memory a node
//! costs is estimated as the core's state (`size_of::<Node<OverlayOnly>>()`) plus the memory driver's bookkeeping, measured
//! as the growth of the resident set while a small probe overlay is built.
//! If the requested size would not fit the memory budget, the largest size
//! that fits is built instead and the report says so.

use super::experiment::{self, Baselines, Latency, Routing, Setup};
use clap::Args;
use mmp2p_core::profile::OverlayOnly;
use mmp2p_core::{Config, Node, RoutingRule};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use std::error::Error;
use std::time::Instant as WallClock;

/// Options of `scale`.
#[derive(Args, Debug, Clone)]
pub struct ScaleArgs {
    /// Nodes to build.
    #[arg(long, default_value_t = 1_000_000)]
    nodes: usize,
    /// Friends per node.
    #[arg(long, default_value_t = 50)]
    friends: usize,
    /// Backup branches per side.
    #[arg(long, default_value_t = 5)]
    backups: u8,
    /// Lookups once built.
    #[arg(long, default_value_t = 100_000)]
    lookups: usize,
    /// Memory budget in GiB for the whole run.
    #[arg(long, default_value_t = 16.0)]
    memory_gib: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Nodes in the probe overlay used to measure the cost of a node (fewer if
/// fewer are asked for).
const PROBE_NODES: usize = 2_000;

/// Builds the largest overlay up to `--nodes` that fits the budget and reports.
pub fn run(a: &ScaleArgs) -> Result<(), Box<dyn Error>> {
    let core_bytes = std::mem::size_of::<Node<OverlayOnly>>();
    let probe_nodes = PROBE_NODES.min(a.nodes).max(2);
    let before = resident_bytes();
    let probe = Overlay::<OverlayOnly>::build_with_profile(&spec(a, probe_nodes))?;
    let per_node = resident_bytes().saturating_sub(before) / probe_nodes as u64;
    let per_node = per_node.max(core_bytes as u64);
    drop(probe);
    let budget = (a.memory_gib * f64::from(1u32 << 30)) as u64;
    let fits = usize::try_from(budget / per_node).unwrap_or(usize::MAX);
    println!("core state per node: {core_bytes} bytes (size_of::<Node<OverlayOnly>>())");
    println!("measured memory per node (core + memory driver): {per_node} bytes, from a {probe_nodes}-node probe");
    let nodes = if a.nodes > fits {
        println!(
            "{} nodes would need {:.1} GiB, over the {:.1} GiB budget: building {} nodes, the most that fit",
            a.nodes,
            (a.nodes as u64 * per_node) as f64 / f64::from(1u32 << 30),
            a.memory_gib,
            fits
        );
        fits
    } else {
        a.nodes
    };
    let started = WallClock::now();
    let setup = Setup {
        nodes,
        friends: a.friends,
        backups: a.backups,
        lookups: a.lookups,
        seed: a.seed,
        routing: Routing::Proximity,
        rule: RoutingRule::EitherWay,
        latency: Latency::Plane,
    };
    // Chord's route-level model over the same nodes and queries, for scale.
    let rows = experiment::run::<OverlayOnly>(&setup, &Baselines { chord: true, can_dims: Vec::new() }, false)?;
    let wall = started.elapsed();
    let m = &rows[0].metrics;
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| nodes built through real JOINs | {nodes} |");
    println!("| friends / backups | {} / {} |", a.friends, a.backups);
    println!("| lookups (failed) | {} ({}) |", m.lookups, m.failed);
    println!("| hops mean / median / p99 | {:.2} / {} / {} |", m.hops_mean, m.hops_median, m.hops_p99);
    println!("| stretch (ratio of sums) | {:.2} |", m.stretch_ratio_of_sums);
    if let Some(chord) = rows.iter().find(|r| r.system == "Chord") {
        let c = &chord.metrics;
        println!("| Chord on the same nodes and queries: hops mean / p99 | {:.2} / {} |", c.hops_mean, c.hops_p99);
    }
    let drops: Vec<String> = rows[0].drops.iter().map(|(reason, n)| format!("{reason}: {n}")).collect();
    println!("| drops by reason | {} |", if drops.is_empty() { "none".to_string() } else { drops.join("; ") });
    println!("| wall time | {:.1} s |", wall.as_secs_f64());
    println!("| peak memory | {:.2} GiB |", peak_resident_bytes() as f64 / f64::from(1u32 << 30));
    println!("| core state per node | {core_bytes} bytes |");
    println!("| simulated datagrams per second | {:.0} |", rows[0].datagrams as f64 / wall.as_secs_f64());
    Ok(())
}

fn spec(a: &ScaleArgs, nodes: usize) -> OverlaySpec {
    experiment::overlay_spec(nodes, a.friends, Config { backups: a.backups, ..Config::default() }, a.seed)
}

/// A field of `/proc/self/status` in bytes (0 where there is none).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn resident_bytes() -> u64 {
    status_bytes("VmRSS:")
}

fn peak_resident_bytes() -> u64 {
    status_bytes("VmHWM:")
}
