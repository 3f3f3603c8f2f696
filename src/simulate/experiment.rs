//! One configuration of the evaluation: an MMP2P overlay of real cores on
//! the memory driver, and the baselines over the same nodes, positions and
//! queries.

use super::baseline::{RouteModel, ENTRY_BYTES};
use super::can::Can;
use super::chord::Chord;
use super::metrics::{Metrics, Trip};
use mmp2p_core::profile::Profile;
use mmp2p_core::{Config, DropReason, Id, RoutingRule};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{LatencyModel, NodeIndex};
use std::error::Error;
use std::time::Duration;

/// What to build and measure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    /// Nodes, the key node included.
    pub nodes: usize,
    /// Friends per node.
    pub friends: usize,
    /// Backup branches per side.
    pub backups: u8,
    /// Lookups (the same queries for every system).
    pub lookups: usize,
    /// Seed for IDs, positions, friends, queries and the network.
    pub seed: u64,
    /// How MMP2P routes.
    pub routing: Routing,
    /// Which way round the ring MMP2P's routes close in on the key.
    pub rule: RoutingRule,
    /// How latency follows from the nodes' positions.
    pub latency: Latency,
}

/// The latency model of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Latency {
    /// 5 ms + 100 ms × distance on the unit square.
    Plane,
    /// A GT-ITM-style transit-stub internet over the unit square (see
    /// `LatencyModel::TransitStub`): 2 ms within a stub domain, 22 ms
    /// between stub domains of one transit domain, more across the backbone.
    TransitStub,
}

impl Latency {
    /// The memory driver's model.
    pub fn model(self) -> LatencyModel {
        match self {
            Latency::Plane => LatencyModel::default(),
            Latency::TransitStub => LatencyModel::transit_stub(),
        }
    }

    /// The model's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Latency::Plane => "plane",
            Latency::TransitStub => "transit-stub",
        }
    }
}

/// How MMP2P routes in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Routing {
    /// The paper's greedy routing over the node's own contacts.
    Plain,
    /// Looking one hop ahead through friends' digests, up to three detours per route.
    Lookahead,
    /// Looking ahead, and through the nearest of next hops that make
    /// near-equal progress (the core's default).
    Proximity,
}

impl Routing {
    /// Every mode, the paper's first.
    pub const ALL: [Routing; 3] = [Routing::Plain, Routing::Lookahead, Routing::Proximity];

    /// The node configuration for this mode under `rule`.
    pub fn config(self, backups: u8, rule: RoutingRule) -> Config {
        let (lookahead, proximity) = match self {
            Routing::Plain => (false, false),
            Routing::Lookahead => (true, false),
            Routing::Proximity => (true, true),
        };
        Config { backups, lookahead, proximity, routing: rule, ..Config::default() }
    }

    /// The system's name in tables and plots: the mode's, and "clockwise"
    /// after it for Chord's rule (the paper's, either way, goes unsaid).
    pub fn name(self, rule: RoutingRule) -> String {
        let mode = match self {
            Routing::Plain => "MMP2P",
            Routing::Lookahead => "MMP2P lookahead",
            Routing::Proximity => "MMP2P lookahead+proximity",
        };
        match rule {
            RoutingRule::EitherWay => mode.to_owned(),
            RoutingRule::Clockwise => format!("{mode} clockwise"),
        }
    }
}

/// Both routing rules, the paper's first.
pub const RULES: [RoutingRule; 2] = [RoutingRule::EitherWay, RoutingRule::Clockwise];

/// Which systems to measure besides MMP2P.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baselines {
    /// Chord, with a successor list as long as MMP2P's neighbour chain.
    pub chord: bool,
    /// CAN, one per dimension count.
    pub can_dims: Vec<usize>,
}

/// Virtual time over which a simulated overlay's nodes join, whatever its
/// size: joins overlap in large overlays, so the build's maintenance traffic
/// grows with the nodes rather than with their square.
const JOIN_WINDOW: Duration = Duration::from_secs(100);
/// Longest virtual time between two joins (small overlays).
const MAX_JOIN_SPACING: Duration = Duration::from_millis(100);

/// The overlay the simulator builds: `nodes` joining one after another
/// within [`JOIN_WINDOW`] of virtual time, on the plane latency model.
pub fn overlay_spec(nodes: usize, friends: usize, config: Config, seed: u64) -> OverlaySpec {
    let spacing = JOIN_WINDOW / u32::try_from(nodes.max(1)).unwrap_or(u32::MAX);
    OverlaySpec { nodes, friends, config, seed, join_spacing: spacing.min(MAX_JOIN_SPACING), ..OverlaySpec::default() }
}

/// How long to measure maintenance traffic, when asked.
const MAINTENANCE_WINDOW: Duration = Duration::from_secs(120);

/// One system's figures in one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The configuration.
    pub setup: Setup,
    /// "MMP2P", "Chord", "CAN d=2", …
    pub system: String,
    /// Hops and stretch.
    pub metrics: Metrics,
    /// Mean routing entries per node.
    pub state_entries: f64,
    /// Mean bytes of routing entries per node.
    pub state_bytes: f64,
    /// Maintenance datagrams per node per minute (`None`: not measured).
    pub maintenance_per_minute: Option<f64>,
    /// Datagrams the simulation delivered (MMP2P rows; 0 for models).
    pub datagrams: u64,
    /// Datagrams and outputs the nodes dropped, by reason, over the whole run (MMP2P rows; empty for models).
    pub drops: Vec<(DropReason, u64)>,
}

/// Builds the MMP2P overlay through real JOINs, runs the queries on it and
/// routes the same queries through each baseline. With `maintenance`, also
/// runs the built overlay for two virtual minutes to measure its upkeep.
pub fn run<P: Profile>(setup: &Setup, baselines: &Baselines, maintenance: bool) -> Result<Vec<Row>, Box<dyn Error>> {
    let spec = OverlaySpec {
        latency: setup.latency.model(),
        ..overlay_spec(setup.nodes, setup.friends, setup.routing.config(setup.backups, setup.rule), setup.seed)
    };
    let mut overlay = Overlay::<P>::build_with_profile(&spec)?;
    if spec.config.lookahead {
        // Friends were added before their nodes joined: let every friend
        // send a digest of its contacts in the ring (one full round after
        // the first, jittered, period).
        overlay.network.run_for(spec.config.digest_interval * 5 / 2);
    }
    let queries = overlay.random_queries(setup.lookups);
    let report = overlay.run_queries(&queries);
    let trips: Vec<Trip> =
        report.samples.iter().map(|s| Trip { hops: u32::from(s.hops), path: s.path, direct: s.direct }).collect();
    let entries = overlay
        .network
        .nodes()
        .map(|(_, node)| (node.neighbours().contacts().count() + node.friends().len()) as f64)
        .sum::<f64>()
        / setup.nodes as f64;
    let upkeep = maintenance.then(|| {
        let mark = overlay.network.maintenance_mark();
        overlay.network.run_for(MAINTENANCE_WINDOW);
        overlay.network.maintenance_rate(mark)
    });
    let mut rows = vec![Row {
        setup: setup.clone(),
        system: setup.routing.name(setup.rule),
        metrics: Metrics::of(&trips, report.failed + report.wrong),
        state_entries: entries,
        state_bytes: entries * ENTRY_BYTES as f64,
        maintenance_per_minute: upkeep,
        datagrams: overlay.network.nodes().map(|(_, n)| n.stats().datagrams_in).sum(),
        drops: DropReason::all()
            .map(|r| (r, overlay.network.nodes().map(|(_, n)| n.stats().dropped(r)).sum()))
            .filter(|&(_, n)| n > 0)
            .collect(),
    }];
    let ids: Vec<Id> = (0..setup.nodes).map(|i| overlay.network.locator(NodeIndex(i)).id).collect();
    let mut models: Vec<Box<dyn RouteModel>> = Vec::new();
    if baselines.chord {
        models.push(Box::new(Chord::new(&ids, 1 + usize::from(setup.backups))));
    }
    for &dims in &baselines.can_dims {
        models.push(Box::new(Can::new(&ids, dims, setup.seed)));
    }
    for model in models {
        let trips: Vec<Trip> =
            queries.iter().map(|&(origin, key)| model_trip(&overlay, model.as_ref(), origin, key)).collect();
        let state = model.state();
        rows.push(Row {
            setup: setup.clone(),
            system: model.name(),
            metrics: Metrics::of(&trips, 0),
            state_entries: state.entries,
            state_bytes: state.bytes,
            maintenance_per_minute: maintenance.then(|| model.maintenance_per_minute()),
            datagrams: 0,
            drops: Vec::new(),
        });
    }
    Ok(rows)
}

/// A model's route for one query, with latencies from the overlay's positions.
fn model_trip<P: Profile>(overlay: &Overlay<P>, model: &dyn RouteModel, origin: NodeIndex, key: Id) -> Trip {
    let path = model.route(origin.0, key);
    let latency = |a: usize, b: usize| overlay.network.latency(NodeIndex(a), NodeIndex(b));
    let along: Duration = path.windows(2).map(|w| latency(w[0], w[1])).sum();
    let end = *path.last().unwrap_or(&origin.0);
    let direct = if end == origin.0 { Duration::ZERO } else { latency(origin.0, end) };
    Trip { hops: (path.len().saturating_sub(1)) as u32, path: along, direct }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmp2p_core::profile::Desktop;

    fn rows(latency: Latency) -> Vec<Row> {
        let setup = Setup {
            nodes: 300,
            friends: 10,
            backups: 2,
            lookups: 500,
            seed: 3,
            routing: Routing::Plain,
            rule: RoutingRule::EitherWay,
            latency,
        };
        run::<Desktop>(&setup, &Baselines { chord: true, can_dims: vec![2] }, false).expect("overlay builds")
    }

    #[test]
    fn the_latency_model_changes_stretch_not_routes() {
        let (plane, transit_stub) = (rows(Latency::Plane), rows(Latency::TransitStub));
        assert_eq!(plane.len(), 3, "MMP2P, Chord, CAN d=2");
        for (p, t) in plane.iter().zip(&transit_stub) {
            assert_eq!(p.system, t.system);
            assert_eq!(p.metrics.failed, 0, "{}", p.system);
            assert_eq!(p.metrics.hops_mean, t.metrics.hops_mean, "{}: same routes", p.system);
            assert_ne!(p.metrics.stretch_ratio_of_sums, t.metrics.stretch_ratio_of_sums, "{}", p.system);
        }
    }

    #[test]
    fn looking_ahead_and_either_way_take_fewer_hops() {
        let setup = |routing, rule| Setup {
            nodes: 600,
            friends: 10,
            backups: 2,
            lookups: 500,
            seed: 5,
            routing,
            rule,
            latency: Latency::Plane,
        };
        let hops = |routing, rule| {
            let row = &run::<Desktop>(&setup(routing, rule), &Baselines::default(), false).unwrap()[0];
            assert_eq!(row.metrics.failed, 0, "{}", row.system);
            row.metrics.hops_mean
        };
        for rule in RULES {
            let (plain, ahead) = (hops(Routing::Plain, rule), hops(Routing::Lookahead, rule));
            assert!(ahead < 0.8 * plain, "{rule:?}: lookahead {ahead:.2} hops, plain {plain:.2}");
        }
        let (either_way, clockwise) =
            (hops(Routing::Plain, RoutingRule::EitherWay), hops(Routing::Plain, RoutingRule::Clockwise));
        assert!(either_way < 0.9 * clockwise, "plain: either way {either_way:.2} hops, clockwise {clockwise:.2}");
    }
}
