//! The paper's evaluation: Figures 5–7 and a comparison table, each run
//! written to the output directory as CSV, markdown and SVG plots.

use super::experiment::{self, Baselines, Latency, Routing, Row, Setup, RULES};
use super::output::{self, Series};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mmp2p_core::RoutingRule;
use std::collections::HashMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant as WallClock;

/// A figure or table of the evaluation.
#[derive(Subcommand, Debug)]
pub enum Figure {
    /// Figure 5: stretch and hops against nodes (50 friends), with Chord and CAN.
    Fig5(Fig5Args),
    /// Figure 6: stretch and hops against friends per node (N = 10 000).
    Fig6(Fig6Args),
    /// Figure 7: Figure 6 for 1, 2 and 5 backup branches.
    Fig7(Fig7Args),
    /// MMP2P (each routing mode, either way and clockwise), Chord and CAN
    /// side by side: hops, stretch, state, maintenance.
    Compare(CompareArgs),
    /// Build the largest overlay up to 10^6 nodes that fits the memory budget, and report.
    Scale(super::scale::ScaleArgs),
    /// Conferences of 8 to 64 members: tree delay (RDP), link stress, a file
    /// pushed to all, a stream under loss and churn, repair, control traffic.
    Multicast(super::multicast::MulticastArgs),
    /// fig5, fig6, fig7 and compare with their default options.
    All(Common),
}

/// Options every figure takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Directory for the CSV, markdown and SVG files (created if missing).
    #[arg(long, default_value = "simulate-out")]
    out: PathBuf,
    /// Lookups per configuration (the same queries for every system).
    #[arg(long, default_value_t = 10_000)]
    lookups: usize,
    /// Seed for IDs, positions, friends, queries and the network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// CAN dimensions to compare against (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "2,4")]
    can_dims: Vec<usize>,
    /// Latency model: `plane` (5 ms + 100 ms × distance on the unit square)
    /// or `transit-stub` (GT-ITM style: 144 stub domains in 16 transit domains).
    #[arg(long, value_enum, default_value_t = Latency::Plane)]
    latency: Latency,
}

/// Options of `fig5`.
#[derive(Args, Debug, Clone)]
pub struct Fig5Args {
    #[command(flatten)]
    common: Common,
    /// Node counts (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,200,500,1000,2000,5000,10000")]
    nodes: Vec<usize>,
    /// Friends per node.
    #[arg(long, default_value_t = 50)]
    friends: usize,
    /// Backup branches per side.
    #[arg(long, default_value_t = 2)]
    backups: u8,
}

/// Options of a sweep over friends per node at a fixed size.
#[derive(Args, Debug, Clone)]
pub struct FriendSweep {
    #[command(flatten)]
    common: Common,
    /// Nodes.
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    /// Friends per node (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,5,10,20,50,100")]
    friends: Vec<usize>,
}

/// Options of `fig6`.
#[derive(Args, Debug, Clone)]
pub struct Fig6Args {
    #[command(flatten)]
    sweep: FriendSweep,
    /// Backup branches per side.
    #[arg(long, default_value_t = 2)]
    backups: u8,
}

/// Options of `fig7`.
#[derive(Args, Debug, Clone)]
pub struct Fig7Args {
    #[command(flatten)]
    sweep: FriendSweep,
    /// Backup branches per side (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,5")]
    backups: Vec<u8>,
}

/// Options of `compare`.
#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    #[command(flatten)]
    common: Common,
    /// Node counts (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    nodes: Vec<usize>,
    /// Friends per node.
    #[arg(long, default_value_t = 50)]
    friends: usize,
    /// Backup branches per side.
    #[arg(long, default_value_t = 2)]
    backups: u8,
}

/// Runs one figure (or all of them).
pub fn run(figure: &Figure) -> Result<(), Box<dyn Error>> {
    let started = WallClock::now();
    run_with(&mut Runs::default(), figure)?;
    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs `figure`, sharing configurations already run in `runs`.
fn run_with(runs: &mut Runs, figure: &Figure) -> Result<(), Box<dyn Error>> {
    match figure {
        Figure::Fig5(a) => fig5(runs, a),
        Figure::Fig6(a) => fig6(runs, a),
        Figure::Fig7(a) => fig7(runs, a),
        Figure::Compare(a) => compare(runs, a),
        Figure::Scale(a) => super::scale::run(a),
        Figure::Multicast(a) => super::multicast::run(a),
        Figure::All(common) => {
            // Defaults of each figure, with the shared options given.
            let dims: Vec<String> = common.can_dims.iter().map(usize::to_string).collect();
            for name in ["fig5", "fig6", "fig7", "compare"] {
                let argv = [
                    "simulate".to_owned(),
                    name.to_owned(),
                    "--out".to_owned(),
                    common.out.display().to_string(),
                    "--lookups".to_owned(),
                    common.lookups.to_string(),
                    "--seed".to_owned(),
                    common.seed.to_string(),
                    "--can-dims".to_owned(),
                    dims.join(","),
                ];
                run_with(runs, &<AllParser as clap::Parser>::try_parse_from(argv)?.figure)?;
            }
            Ok(())
        }
    }
}

/// Parses one figure's defaults for `all`.
#[derive(clap::Parser)]
struct AllParser {
    #[command(subcommand)]
    figure: Figure,
}

/// Configurations already run, so `all` measures each only once.
#[derive(Default)]
struct Runs {
    done: HashMap<(Setup, bool), Vec<Row>>,
}

impl Runs {
    /// The rows of each setup, running those not yet run, with a progress bar.
    fn get(
        &mut self,
        title: &str,
        setups: &[Setup],
        baselines: &Baselines,
        maintenance: bool,
    ) -> Result<Vec<Row>, Box<dyn Error>> {
        let bar = ProgressBar::new(setups.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")?
                .progress_chars("=> "),
        );
        bar.set_prefix(title.to_owned());
        let mut rows = Vec::new();
        for setup in setups {
            bar.set_message(format!("N={} friends={} backups={}", setup.nodes, setup.friends, setup.backups));
            let key = (setup.clone(), maintenance);
            if !self.done.contains_key(&key) {
                let measured = experiment::run::<mmp2p_core::profile::Desktop>(setup, baselines, maintenance)?;
                self.done.insert(key.clone(), measured);
            }
            rows.extend(
                self.done[&key].iter().filter(|r| r.system.starts_with("MMP2P") || wanted(r, baselines)).cloned(),
            );
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(rows)
    }
}

/// True if `row` is a baseline asked for.
fn wanted(row: &Row, baselines: &Baselines) -> bool {
    (baselines.chord && row.system == "Chord") || baselines.can_dims.iter().any(|d| row.system == format!("CAN d={d}"))
}

/// A setup with the paper's plain greedy routing, either way round the ring.
fn setup(common: &Common, nodes: usize, friends: usize, backups: u8) -> Setup {
    let (lookups, seed, latency) = (common.lookups, common.seed, common.latency);
    Setup { nodes, friends, backups, lookups, seed, routing: Routing::Plain, rule: RoutingRule::EitherWay, latency }
}

fn all_baselines(common: &Common) -> Baselines {
    Baselines { chord: true, can_dims: common.can_dims.clone() }
}

fn fig5(runs: &mut Runs, a: &Fig5Args) -> Result<(), Box<dyn Error>> {
    let setups: Vec<Setup> = a.nodes.iter().map(|&n| setup(&a.common, n, a.friends, a.backups)).collect();
    let rows = runs.get("fig5", &setups, &all_baselines(&a.common), false)?;
    let by_system = |pick: fn(&Row) -> f64| series(&rows, |r| r.system.clone(), |r| r.setup.nodes as f64, pick);
    let out = &a.common.out;
    write(out, "fig5", &rows)?;
    let title = format!("Latency stretch against nodes ({} friends, {} backups)", a.friends, a.backups);
    output::plot(&out.join("fig5-stretch.svg"), &title, "nodes", "stretch (ratio of sums)", &by_system(stretch))?;
    let title = format!("Hops against nodes ({} friends, {} backups)", a.friends, a.backups);
    output::plot(&out.join("fig5-hops.svg"), &title, "nodes", "mean hops", &by_system(hops))?;
    Ok(())
}

fn fig6(runs: &mut Runs, a: &Fig6Args) -> Result<(), Box<dyn Error>> {
    let (common, nodes) = (&a.sweep.common, a.sweep.nodes);
    let setups: Vec<Setup> = a.sweep.friends.iter().map(|&f| setup(common, nodes, f, a.backups)).collect();
    let chord = Baselines { chord: true, can_dims: Vec::new() };
    let rows = runs.get("fig6", &setups, &chord, false)?;
    let by_system = |pick: fn(&Row) -> f64| series(&rows, |r| r.system.clone(), |r| r.setup.friends as f64, pick);
    let out = &common.out;
    write(out, "fig6", &rows)?;
    let title = format!("Latency stretch against friends (N = {nodes}, {} backups)", a.backups);
    output::plot(
        &out.join("fig6-stretch.svg"),
        &title,
        "friends per node",
        "stretch (ratio of sums)",
        &by_system(stretch),
    )?;
    let title = format!("Hops against friends (N = {nodes}, {} backups)", a.backups);
    output::plot(&out.join("fig6-hops.svg"), &title, "friends per node", "mean hops", &by_system(hops))?;
    Ok(())
}

fn fig7(runs: &mut Runs, a: &Fig7Args) -> Result<(), Box<dyn Error>> {
    let (common, nodes, friends) = (&a.sweep.common, a.sweep.nodes, &a.sweep.friends);
    let setups: Vec<Setup> =
        a.backups.iter().flat_map(|&b| friends.iter().map(move |&f| setup(common, nodes, f, b))).collect();
    let rows = runs.get("fig7", &setups, &Baselines::default(), false)?;
    let label = |r: &Row| format!("{} backups", r.setup.backups);
    let out = &common.out;
    write(out, "fig7", &rows)?;
    let title = format!("Latency stretch against friends, by backups (N = {nodes})");
    let stretch_series = series(&rows, label, |r| r.setup.friends as f64, stretch);
    output::plot(
        &out.join("fig7-stretch.svg"),
        &title,
        "friends per node",
        "stretch (ratio of sums)",
        &stretch_series,
    )?;
    let title = format!("Hops against friends, by backups (N = {nodes})");
    let hop_series = series(&rows, label, |r| r.setup.friends as f64, hops);
    output::plot(&out.join("fig7-hops.svg"), &title, "friends per node", "mean hops", &hop_series)?;
    Ok(())
}

fn compare(runs: &mut Runs, a: &CompareArgs) -> Result<(), Box<dyn Error>> {
    // Each size in every routing mode, each mode either way and clockwise
    // side by side; the baselines, which do not depend on MMP2P's routing,
    // come with the plain run and follow MMP2P's rows.
    let mut rows = Vec::new();
    for &n in &a.nodes {
        let plain = setup(&a.common, n, a.friends, a.backups);
        let others: Vec<Setup> = Routing::ALL
            .into_iter()
            .flat_map(|routing| RULES.map(|rule| Setup { routing, rule, ..plain.clone() }))
            .filter(|s| *s != plain)
            .collect();
        let (mmp2p, baselines): (Vec<Row>, Vec<Row>) = runs
            .get("compare", &[plain], &all_baselines(&a.common), true)?
            .into_iter()
            .partition(|r| r.system.starts_with("MMP2P"));
        rows.extend(mmp2p);
        rows.extend(runs.get("compare", &others, &Baselines::default(), true)?);
        rows.extend(baselines);
    }
    write(&a.common.out, "compare", &rows)
}

fn stretch(row: &Row) -> f64 {
    row.metrics.stretch_ratio_of_sums
}

fn hops(row: &Row) -> f64 {
    row.metrics.hops_mean
}

/// One series per label, points (x, y) in row order.
fn series(rows: &[Row], label: impl Fn(&Row) -> String, x: fn(&Row) -> f64, y: fn(&Row) -> f64) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for row in rows {
        let name = label(row);
        let point = (x(row), y(row));
        match out.iter_mut().find(|s| s.label == name) {
            Some(s) => s.points.push(point),
            None => out.push(Series { label: name, points: vec![point] }),
        }
    }
    out
}

/// Writes `name.csv` and `name.md` and prints the table.
fn write(out: &Path, name: &str, rows: &[Row]) -> Result<(), Box<dyn Error>> {
    fs::create_dir_all(out)?;
    fs::write(out.join(format!("{name}.csv")), output::csv(rows))?;
    let table = output::markdown(rows);
    fs::write(out.join(format!("{name}.md")), format!("# {name}\n\n{table}"))?;
    println!("\n{name} ({}):\n\n{table}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn fig5_files(out: &Path) -> Vec<(String, Vec<u8>)> {
        let argv = ["simulate", "fig5", "--nodes", "100,200", "--lookups", "300", "--seed", "5"];
        let mut argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        argv.extend(["--out".to_owned(), out.display().to_string()]);
        let Figure::Fig5(args) = AllParser::parse_from(argv).figure else { panic!("fig5") };
        fig5(&mut Runs::default(), &args).expect("fig5 runs");
        let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn fig5_is_the_same_bit_for_bit_from_the_same_seed() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = fig5_files(a.path());
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fig5-hops.svg", "fig5-stretch.svg", "fig5.csv", "fig5.md"]);
        assert_eq!(first, fig5_files(b.path()), "same seed, same files");
        let csv = String::from_utf8(first[2].1.clone()).unwrap();
        // MMP2P and three baselines at two sizes, every lookup answered correctly.
        assert_eq!(csv.lines().count(), 1 + 2 * 4, "{csv}");
        assert!(csv.lines().skip(1).all(|l| l.split(',').nth(6) == Some("0")), "no failed lookups: {csv}");
    }
}
