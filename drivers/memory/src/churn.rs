//! Continuous churn: nodes join and crash as Poisson processes while lookups
//! run, and every answer is checked against the ring as it then stands.

use crate::overlay::{befriend, Overlay};
use crate::{Network, NodeIndex};
use mmp2p_core::profile::Profile;
use mmp2p_core::{Config, Event, Id, RequestId};
use std::collections::HashMap;
use std::time::Duration;

/// How much churn, for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChurnSpec {
    /// Virtual time to run.
    pub duration: Duration,
    /// Mean time a node stays before it crashes (exponentially distributed).
    pub mean_session: Duration,
    /// Lookups issued per virtual second, from random members for random keys.
    pub lookups_per_second: u32,
    /// Friends each newcomer makes among the members (mutual, where there is room).
    pub friends: usize,
    /// Configuration of newcomers.
    pub config: Config,
}

/// What happened under churn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChurnReport {
    /// Nodes that joined.
    pub joins: usize,
    /// Nodes that crashed.
    pub crashes: usize,
    /// Fewest and most members seen at a tick.
    pub members_min: usize,
    /// Most members seen at a tick.
    pub members_max: usize,
    /// Lookups issued by nodes that lived to see the answer.
    pub lookups: usize,
    /// Lookups that completed with an answer.
    pub succeeded: usize,
    /// Answers that named the true responsible node of the moment.
    pub correct: usize,
    /// Lookups whose origin crashed before an answer (not counted above).
    pub abandoned: usize,
}

impl ChurnReport {
    /// Share of lookups that got an answer.
    pub fn success_rate(&self) -> f64 {
        self.succeeded as f64 / self.lookups.max(1) as f64
    }

    /// Share of lookups answered by the true responsible node.
    pub fn correct_rate(&self) -> f64 {
        self.correct as f64 / self.lookups.max(1) as f64
    }
}

/// The clock step: churn and lookups happen at whole seconds.
const TICK: Duration = Duration::from_secs(1);

impl<P: Profile> Overlay<P> {
    /// Runs `spec`'s churn: each member crashes at rate 1/`mean_session`, and
    /// newcomers join at the rate that keeps the membership level, each through
    /// a random member; lookups run throughout.
    pub fn churn(&mut self, spec: &ChurnSpec) -> ChurnReport {
        let mut report = ChurnReport { members_min: usize::MAX, ..ChurnReport::default() };
        let target = self.ring.len();
        let session = spec.mean_session.as_secs_f64();
        let mut pending: HashMap<(NodeIndex, RequestId), ()> = HashMap::new();
        let end = self.network.now() + spec.duration;
        self.network.take_events();
        while self.network.now() < end {
            self.refresh_members();
            report.members_min = report.members_min.min(self.ring.len());
            report.members_max = report.members_max.max(self.ring.len());
            // Crashes: each member independently, probability 1/session per second.
            let crashes = self.poisson(self.ring.len() as f64 / session);
            for _ in 0..crashes.min(self.ring.len().saturating_sub(2)) {
                let victim = self.random_member();
                self.network.crash(victim);
                self.ring.retain(|&(_, m)| m != victim);
                report.crashes += 1;
            }
            // Joins keep the membership around its starting size.
            let joins = self.poisson(target as f64 / session);
            for _ in 0..joins {
                self.join_newcomer(spec);
                report.joins += 1;
            }
            for _ in 0..spec.lookups_per_second {
                let origin = self.random_member();
                let key = Id((u128::from(self.rng.next_u64()) << 64) | u128::from(self.rng.next_u64()));
                if let Ok(request) = self.network.command(origin, |n, now| n.lookup(now, key)) {
                    pending.insert((origin, request), ());
                    report.lookups += 1;
                }
            }
            self.network.run_for(TICK);
            self.refresh_members();
            for e in self.network.take_events() {
                let (request, answer) = match e.event {
                    Event::LookupSucceeded { request, responsible, key, .. } => (request, Some((responsible, key))),
                    Event::LookupFailed { request, .. } => (request, None),
                    _ => continue,
                };
                if pending.remove(&(e.node, request)).is_none() {
                    continue;
                }
                if let Some((responsible, key)) = answer {
                    report.succeeded += 1;
                    if self.network.locator(self.responsible(key)) == responsible {
                        report.correct += 1;
                    }
                }
            }
            // Lookups whose origin crashed will never be answered.
            let before = pending.len();
            pending.retain(|&(origin, _), _| self.network.is_up(origin));
            report.abandoned += before - pending.len();
        }
        // Let the last lookups finish.
        self.network.run_for(Duration::from_secs(60));
        self.refresh_members();
        for e in self.network.take_events() {
            if let Event::LookupSucceeded { request, responsible, key, .. } = e.event {
                if pending.remove(&(e.node, request)).is_some() {
                    report.succeeded += 1;
                    report.correct += usize::from(self.network.locator(self.responsible(key)) == responsible);
                }
            }
        }
        report.lookups -= report.abandoned;
        report
    }

    /// Re-reads the ring: running nodes that are members (joined, or the founder).
    fn refresh_members(&mut self) {
        let net = &self.network;
        self.ring = net.nodes().filter(|(i, n)| net.is_up(*i) && n.is_member()).map(|(i, n)| (n.id(), i)).collect();
        self.ring.sort_unstable();
    }

    fn random_member(&mut self) -> NodeIndex {
        self.ring[self.rng.below(self.ring.len() as u64) as usize].1
    }

    /// A Poisson-distributed count with mean `mean` (Knuth's method; means here are small).
    fn poisson(&mut self, mean: f64) -> usize {
        let limit = (-mean).exp();
        let mut product = 1.0;
        let mut count = 0;
        loop {
            product *= (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if product <= limit {
                return count;
            }
            count += 1;
        }
    }

    /// Adds a node with a random ID and random member friends, joining through a random member.
    fn join_newcomer(&mut self, spec: &ChurnSpec) {
        let id = Id((u128::from(self.rng.next_u64()) << 64) | u128::from(self.rng.next_u64()));
        let newcomer = self.network.add_node(id, spec.config);
        for _ in 0..spec.friends.min(self.ring.len()) {
            let friend = self.random_member();
            befriend(&mut self.network, newcomer, friend);
            if self.network.node(friend).friends().len() < spec.friends {
                befriend(&mut self.network, friend, newcomer);
            }
        }
        let via = Network::addr(self.random_member());
        // A refused start (cannot happen for a fresh node) just means one joiner fewer.
        let _ = self.network.command(newcomer, |n, now| n.join(now, via));
    }
}
