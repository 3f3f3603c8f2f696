//! Whole overlays for tests and the simulator: build a ring through real
//! JOINs, give every node random friends, check the ring against the truth,
//! and run lookups, checking each against the true responsible node.

use crate::{LatencyModel, Network, NetworkConfig, NodeIndex};
use mmp2p_core::profile::{Desktop, Profile};
use mmp2p_core::rng::Rng;
use mmp2p_core::{Config, Event, Id, Instant, Side};
use std::fmt;
use std::time::Duration;

/// What overlay to build.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlaySpec {
    /// Nodes, the key node (ID 0) included.
    pub nodes: usize,
    /// Random friends per node (capped by the core's friends capacity).
    pub friends: usize,
    /// Node configuration (backups, timers).
    pub config: Config,
    /// Seed for IDs, positions, friends, lookups and the network.
    pub seed: u64,
    /// The network's latency model.
    pub latency: LatencyModel,
    /// Virtual time between one node's JOIN and the next.
    pub join_spacing: Duration,
}

impl Default for OverlaySpec {
    /// 1 000 nodes, 50 friends, default node configuration.
    fn default() -> OverlaySpec {
        OverlaySpec {
            nodes: 1000,
            friends: 50,
            config: Config::default(),
            seed: 1,
            latency: LatencyModel::default(),
            join_spacing: Duration::from_millis(100),
        }
    }
}

/// A built overlay and the truth to check it against.
pub struct Overlay<P: Profile = Desktop> {
    /// The network carrying it.
    pub network: Network<P>,
    /// (ID, index) of every member, sorted by ID.
    pub(crate) ring: Vec<(Id, NodeIndex)>,
    pub(crate) rng: Rng,
}

/// A way the overlay differs from the true ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayError {
    /// A node could not start its join.
    JoinFailed(NodeIndex),
    /// A node's chain on a side is not the true next nodes.
    WrongChain {
        /// The node.
        node: NodeIndex,
        /// The side.
        side: Side,
        /// The chain's IDs as the node holds them.
        found: Vec<Id>,
        /// The true IDs.
        expected: Vec<Id>,
    },
}

impl fmt::Display for OverlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverlayError::JoinFailed(n) => write!(f, "node {} could not start its join", n.0),
            OverlayError::WrongChain { node, side, found, expected } => {
                write!(f, "node {} {side:?} chain {found:?}, expected {expected:?}", node.0)
            }
        }
    }
}

impl std::error::Error for OverlayError {}

/// One lookup that reached the true responsible node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupSample {
    /// Where it started.
    pub origin: NodeIndex,
    /// The node responsible for its key.
    pub responsible: NodeIndex,
    /// Overlay hops.
    pub hops: u8,
    /// One-way latency along the overlay path: from the command to the
    /// answer, less the answer's direct trip back from the responsible node.
    pub path: Duration,
    /// One-way latency straight from the origin to the responsible node.
    pub direct: Duration,
}

/// Hop counts, latencies and outcomes of a batch of lookups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LookupReport {
    /// Each lookup that reached the true responsible node.
    pub samples: Vec<LookupSample>,
    /// Lookups answered by a node other than the true responsible one.
    pub wrong: usize,
    /// Lookups that failed or got no answer.
    pub failed: usize,
    /// Completion events for lookups already completed (a duplicate side effect).
    pub duplicates: usize,
}

impl LookupReport {
    /// Hops of the correct lookups, in completion order.
    pub fn hops(&self) -> impl Iterator<Item = u8> + '_ {
        self.samples.iter().map(|s| s.hops)
    }

    /// Mean hops of the correct lookups.
    pub fn mean_hops(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.hops().map(f64::from).sum::<f64>() / self.samples.len() as f64
    }

    /// The `q`-quantile (0–1) of hops of the correct lookups (nearest rank).
    pub fn quantile_hops(&self, q: f64) -> u8 {
        let mut sorted: Vec<u8> = self.hops().collect();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(rank).copied().unwrap_or(0)
    }

    /// The most hops of any correct lookup.
    pub fn max_hops(&self) -> u8 {
        self.hops().max().unwrap_or(0)
    }
}

/// How many friends a node can have among `members` nodes.
fn friend_target(friends: usize, members: usize) -> usize {
    friends.min(mmp2p_core::config::MAX_FRIENDS).min(members.saturating_sub(1))
}

/// Makes `b` a friend of `a` (if it is not `a` itself and `a` has room).
pub(crate) fn befriend<P: Profile>(network: &mut Network<P>, a: NodeIndex, b: NodeIndex) {
    if a != b {
        let friend = network.locator(b);
        // A full table refuses; the caller stops adding at the target anyway.
        let _ = network.command(a, |node, now| node.add_friend(now, friend));
    }
}

/// A uniformly random friendship graph over `nodes` nodes, planned before
/// anyone joins: each node gets up to `friends` mutual friends, every pair
/// equally likely (messenger friendships are mutual, and who joined first
/// does not make a node more popular).
fn plan_friendships(rng: &mut Rng, nodes: usize, friends: usize) -> Vec<Vec<u32>> {
    let wanted = friend_target(friends, nodes);
    let mut plan: Vec<Vec<u32>> = vec![Vec::new(); nodes];
    for i in 0..nodes {
        let mut attempts = 0;
        while plan[i].len() < wanted && attempts < 8 * wanted {
            attempts += 1;
            let j = rng.below(nodes as u64) as usize;
            if j != i && plan[j].len() < wanted && !plan[i].contains(&(j as u32)) {
                plan[i].push(j as u32);
                plan[j].push(i as u32);
            }
        }
    }
    plan
}

/// Before node `index` joins, it and its planned friends that are already
/// members befriend each other: friends known at join time route the JOIN,
/// and the rest arrive as they join.
fn befriend_members<P: Profile>(network: &mut Network<P>, plan: &[Vec<u32>], index: NodeIndex) {
    for &other in &plan[index.0] {
        let other = NodeIndex(other as usize);
        if other.0 < index.0 {
            befriend(network, index, other);
            befriend(network, other, index);
        }
    }
}

/// Virtual time allowed for the overlay to settle, or a batch of lookups to finish.
const SETTLE: Duration = Duration::from_secs(600);
/// Fewest lookups issued together before the network is run.
const LOOKUP_BATCH: usize = 64;
/// Most lookups issued together (large overlays).
const MAX_LOOKUP_BATCH: usize = 1024;
/// How often a settling overlay is checked against the truth.
const CHECK_EVERY: Duration = Duration::from_secs(1);

impl Overlay {
    /// Builds the overlay of [`Desktop`] nodes: the key node (ID 0) first,
    /// then every other node (random ID; its planned friends that are
    /// already members as friends) joins through the key node, one every
    /// `join_spacing`; then every node is topped up to its friends, and the
    /// network runs until every chain is the true one.
    pub fn build(spec: &OverlaySpec) -> Result<Overlay, OverlayError> {
        Overlay::build_with_profile(spec)
    }
}

impl<P: Profile> Overlay<P> {
    /// Builds the overlay as [`build`](Overlay::build) does, of nodes of profile `P`.
    pub fn build_with_profile(spec: &OverlaySpec) -> Result<Overlay<P>, OverlayError> {
        let mut rng = Rng::new(spec.seed);
        let net_config = NetworkConfig { latency: spec.latency, ..NetworkConfig::default() };
        let mut network = Network::with_profile(rng.next_u64(), net_config);
        network.set_tracing(false);
        let key = network.add_node(Id::KEY_NODE, spec.config);
        let plan = plan_friendships(&mut rng, spec.nodes, spec.friends);
        let mut ids = std::collections::BTreeSet::from([Id::KEY_NODE]);
        for _ in 1..spec.nodes {
            let id = loop {
                let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
                if ids.insert(id) {
                    break id;
                }
            };
            let index = network.add_node(id, spec.config);
            befriend_members(&mut network, &plan, index);
            let via = Network::addr(key);
            network.command(index, |node, now| node.join(now, via)).map_err(|_| OverlayError::JoinFailed(index))?;
            network.run_for(spec.join_spacing);
        }
        let mut overlay = Overlay { ring: Vec::new(), network, rng };
        overlay.refresh_ring();
        overlay.top_up_friends(spec.friends);
        overlay.settle(SETTLE)?;
        overlay.network.take_events();
        Ok(overlay)
    }

    /// Runs the network until every running node is in the ring with its true
    /// chains, re-joining nodes that gave up, for at most `limit` of virtual
    /// time. Returns how long it took.
    pub fn settle(&mut self, limit: Duration) -> Result<Duration, OverlayError> {
        let started = self.network.now();
        let key = Network::addr(NodeIndex(0));
        loop {
            let entry = self.members().find(|&m| self.network.node(m).is_member()).map(Network::addr).unwrap_or(key);
            let stranded: Vec<NodeIndex> = self
                .members()
                .filter(|&m| {
                    let node = self.network.node(m);
                    !node.is_member() && !node.is_joining() && Network::addr(m) != entry
                })
                .collect();
            for node in stranded {
                // Joining may have failed under load; a real client tries again.
                let _ = self.network.command(node, |n, now| n.join(now, entry));
            }
            if self.check_ring().is_ok() {
                return Ok(self.network.now().saturating_duration_since(started));
            }
            if self.network.now() >= started + limit {
                return self.check_ring().map(|_| limit);
            }
            self.network.run_for(CHECK_EVERY);
        }
    }

    /// Wraps a network built some other way, to check it against the truth.
    /// Call [`refresh_ring`](Overlay::refresh_ring) after changing membership.
    pub fn from_network(network: Network<P>) -> Overlay<P> {
        let mut overlay = Overlay { network, ring: Vec::new(), rng: Rng::new(0) };
        overlay.refresh_ring();
        overlay
    }

    /// Re-reads which nodes are up (after crashes or restarts).
    pub fn refresh_ring(&mut self) {
        let net = &self.network;
        self.ring = net.nodes().filter(|(i, _)| net.is_up(*i)).map(|(i, n)| (n.id(), i)).collect();
        self.ring.sort_unstable();
    }

    /// Gives every member random friends until it has `friends` (or as many as there are others).
    fn top_up_friends(&mut self, friends: usize) {
        let wanted = friend_target(friends, self.ring.len());
        for position in 0..self.ring.len() {
            let index = self.ring[position].1;
            while self.network.node(index).friends().len() < wanted {
                let other = self.ring[self.rng.below(self.ring.len() as u64) as usize].1;
                befriend(&mut self.network, index, other);
            }
        }
    }

    /// The members, sorted by ID.
    pub fn members(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.ring.iter().map(|(_, i)| *i)
    }

    /// The true responsible node for `key`: its successor among the members.
    pub fn responsible(&self, key: Id) -> NodeIndex {
        let at = self.ring.partition_point(|(id, _)| *id < key);
        self.ring[at % self.ring.len()].1
    }

    /// Checks every member's left and right chains against the true ring.
    pub fn check_ring(&self) -> Result<(), OverlayError> {
        let count = self.ring.len();
        let chain_len = |node: NodeIndex| self.network.node(node).config().chain_len().min(count - 1);
        for (position, &(_, node)) in self.ring.iter().enumerate() {
            for side in [Side::Left, Side::Right] {
                let expected: Vec<Id> = (1..=chain_len(node))
                    .map(|k| {
                        let at = match side {
                            Side::Right => (position + k) % count,
                            Side::Left => (position + count - k % count) % count,
                        };
                        self.ring[at].0
                    })
                    .collect();
                let found: Vec<Id> = self.network.node(node).neighbours().chain(side).iter().map(|c| c.id).collect();
                if found != expected {
                    return Err(OverlayError::WrongChain { node, side, found, expected });
                }
            }
        }
        Ok(())
    }

    /// Runs `count` lookups of random keys from random members and checks
    /// each answer against the true responsible node.
    pub fn run_lookups(&mut self, count: usize) -> LookupReport {
        let queries = self.random_queries(count);
        self.run_queries(&queries)
    }

    /// `count` lookups from random members for random keys.
    pub fn random_queries(&mut self, count: usize) -> Vec<(NodeIndex, Id)> {
        (0..count)
            .map(|_| {
                let origin = self.ring[self.rng.below(self.ring.len() as u64) as usize].1;
                let key = Id((u128::from(self.rng.next_u64()) << 64) | u128::from(self.rng.next_u64()));
                (origin, key)
            })
            .collect()
    }

    /// Runs the given lookups (origin, key), a batch at a time, and checks
    /// each answer against the true responsible node.
    pub fn run_queries(&mut self, queries: &[(NodeIndex, Id)]) -> LookupReport {
        let mut report = LookupReport::default();
        // Enough in flight to keep virtual time short, few enough per node for its request table.
        let batch_size = (self.ring.len() / 4).clamp(LOOKUP_BATCH, MAX_LOOKUP_BATCH);
        for batch in queries.chunks(batch_size) {
            let mut expected = std::collections::HashMap::new();
            let mut done = std::collections::HashSet::new();
            let mut seen = self.network.events().len();
            for &(origin, key) in batch {
                match self.network.command(origin, |node, now| node.lookup(now, key)) {
                    Ok(request) => {
                        expected.insert((origin, request), (self.responsible(key), self.network.now()));
                    }
                    Err(_) => report.failed += 1,
                }
            }
            let limit = self.network.now() + SETTLE;
            loop {
                let events = self.network.events();
                for e in &events[seen..] {
                    let (request, answer) = match &e.event {
                        Event::LookupSucceeded { request, responsible, hops, .. } => {
                            (request, Some((*responsible, *hops)))
                        }
                        Event::LookupFailed { request, .. } => (request, None),
                        _ => continue,
                    };
                    let Some((truth, issued)) = expected.remove(&(e.node, *request)) else {
                        if done.contains(&(e.node, *request)) {
                            report.duplicates += 1;
                        }
                        continue;
                    };
                    done.insert((e.node, *request));
                    match answer {
                        Some((responsible, hops)) if self.network.locator(truth) == responsible => {
                            let back = self.network.latency(truth, e.node);
                            let path = e.at.saturating_duration_since(issued).saturating_sub(back);
                            let direct =
                                if truth == e.node { Duration::ZERO } else { self.network.latency(e.node, truth) };
                            let origin = e.node;
                            report.samples.push(LookupSample { origin, responsible: truth, hops, path, direct });
                        }
                        Some(_) => report.wrong += 1,
                        None => report.failed += 1,
                    }
                }
                seen = events.len();
                if expected.is_empty() || self.network.next_instant().is_none_or(|at| at > limit) {
                    break;
                }
                self.network.step();
            }
            report.failed += expected.len();
            self.network.take_events();
        }
        report
    }

    /// The virtual time now.
    pub fn now(&self) -> Instant {
        self.network.now()
    }
}
