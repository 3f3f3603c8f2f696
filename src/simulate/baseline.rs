//! Route-level models of baseline overlays, to compare with MMP2P on the same
//! nodes, positions and queries.
//!
//! A *route-level model* has no messages and no timers: it holds the routing
//! tables every node would have once the overlay has converged (no churn, no
//! failures, every table exact) and computes the path a lookup takes through
//! them. Two baselines implement [`RouteModel`]:
//!
//! * [`Chord`](super::chord::Chord): Chord (Stoica et al., SIGCOMM 2001) on
//!   the same 128-bit ring as MMP2P, so it answers the same node for a key;
//! * [`Can`](super::can::Can): CAN (Ratnasamy et al., SIGCOMM 2001) on a
//!   d-dimensional unit torus.
//!
//! Conventions shared by the models:
//!
//! * **Hops** are the message hops of a lookup: `route(from, key).len() - 1`,
//!   counting the final hop to the responsible node. A lookup whose start is
//!   responsible for the key costs 0 hops.
//! * **State** counts a routing entry as [`ENTRY_BYTES`] = 34 bytes: a
//!   16-byte ID, a 16-byte IPv6 address and a 2-byte port. Anything else a
//!   model keeps is documented with the model.
//! * **Maintenance** counts the datagrams one node *sends* per minute at the
//!   model's documented default timers: its own requests plus, where the
//!   protocol replies, its share of the replies. In a converged overlay every
//!   node receives on average as many requests as it sends, so a protocol
//!   whose requests are all answered costs twice its request rate.
//! * **Randomness** comes from [`Rng`](mmp2p_core::rng::Rng) only, so every model, ID set and query
//!   set is a pure function of its seed.

use mmp2p_core::Id;

/// Bytes of one routing entry: a 16-byte ID, a 16-byte IPv6 address and a
/// 2-byte port.
pub const ENTRY_BYTES: usize = Id::LEN + 16 + 2;

/// A route-level model of an overlay: its routing state and the path a lookup takes.
pub trait RouteModel {
    /// Short name for tables and plots, e.g. "Chord" or "CAN d=2".
    fn name(&self) -> String;
    /// Nodes in the model (indices 0..len).
    fn len(&self) -> usize;
    /// The nodes a lookup for `key` started at `from` visits, `from` first, the
    /// node responsible for `key` last (a single element if `from` is
    /// responsible). Hops = path.len() - 1.
    fn route(&self, from: usize, key: Id) -> Vec<usize>;
    /// The node responsible for `key` in this model.
    fn responsible(&self, key: Id) -> usize;
    /// Routing state: mean entries per node and mean bytes per node (an entry
    /// counts [`ENTRY_BYTES`], plus whatever else the model keeps, documented).
    fn state(&self) -> StateSize;
    /// Maintenance datagrams a node sends per minute at the model's documented
    /// default timers.
    fn maintenance_per_minute(&self) -> f64;
}

/// Mean routing state per node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StateSize {
    /// Mean routing entries per node.
    pub entries: f64,
    /// Mean bytes of routing state per node.
    pub bytes: f64,
}

/// `path`, a route for `key`, checked in debug builds to end at the node
/// responsible for it.
pub fn checked_route(model: &impl RouteModel, key: Id, path: Vec<usize>) -> Vec<usize> {
    debug_assert_eq!(path.last(), Some(&model.responsible(key)), "{} routed {key:?} to the wrong node", model.name());
    path
}

/// Datagrams per minute of an action that sends `datagrams` every `period_secs` seconds.
pub fn per_minute(datagrams: f64, period_secs: f64) -> f64 {
    datagrams * 60.0 / period_secs
}

/// Random IDs, lookups and checks shared by the models' tests.
#[cfg(test)]
pub(crate) mod checks {
    use super::*;
    use mmp2p_core::rng::Rng;
    use std::collections::HashSet;

    /// A uniformly random 128-bit ID.
    pub(crate) fn random_id(rng: &mut Rng) -> Id {
        Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
    }

    /// `n` distinct uniformly random IDs, determined by `seed`.
    pub(crate) fn random_ids(n: usize, seed: u64) -> Vec<Id> {
        let mut rng = Rng::new(seed);
        let mut seen = HashSet::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        while ids.len() < n {
            let id = random_id(&mut rng);
            if seen.insert(id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Mean hops of `lookups` lookups, each for a uniformly random key from a
    /// uniformly random node, determined by `seed`. NaN if `lookups` is 0 or the
    /// model is empty.
    pub(crate) fn mean_hops(model: &dyn RouteModel, lookups: usize, seed: u64) -> f64 {
        if model.len() == 0 {
            return f64::NAN;
        }
        let mut rng = Rng::new(seed);
        let total: usize = (0..lookups)
            .map(|_| {
                let from = rng.below(model.len() as u64) as usize;
                model.route(from, random_id(&mut rng)).len() - 1
            })
            .sum();
        total as f64 / lookups as f64
    }

    /// Checks `lookups` random lookups (from `seed`): every route starts at
    /// `from`, ends at `responsible(key)` and never revisits a node, and a
    /// lookup started at the responsible node is that node alone.
    pub(crate) fn assert_routes_are_sound(model: &dyn RouteModel, lookups: usize, seed: u64) {
        let mut rng = Rng::new(seed);
        for _ in 0..lookups {
            let from = rng.below(model.len() as u64) as usize;
            let key = random_id(&mut rng);
            if let Err(e) = route_is_sound(model, from, key) {
                panic!("{}: lookup of {key:?} from node {from}: {e}", model.name());
            }
            let responsible = model.responsible(key);
            assert_eq!(model.route(responsible, key), [responsible], "{}: lookup of {key:?} at its node", model.name());
        }
    }

    /// Whether the route for `key` from `from` starts at `from`, ends at the
    /// responsible node, visits only valid nodes and visits none twice.
    /// Fifty random lookups on `model` from `seed`, each checked by [`route_is_sound`] (for quickcheck).
    pub(crate) fn random_routes_are_sound(model: &dyn RouteModel, seed: u64) -> quickcheck::TestResult {
        let mut rng = Rng::new(seed ^ 1);
        for _ in 0..50 {
            let from = rng.below(model.len() as u64) as usize;
            if let Err(e) = route_is_sound(model, from, random_id(&mut rng)) {
                return quickcheck::TestResult::error(e);
            }
        }
        quickcheck::TestResult::passed()
    }

    pub(crate) fn route_is_sound(model: &dyn RouteModel, from: usize, key: Id) -> Result<(), String> {
        let path = model.route(from, key);
        if path.first() != Some(&from) {
            return Err(format!("path {path:?} does not start at {from}"));
        }
        let responsible = model.responsible(key);
        if path.last() != Some(&responsible) {
            return Err(format!("path {path:?} does not end at the responsible node {responsible}"));
        }
        if let Some(&bad) = path.iter().find(|&&n| n >= model.len()) {
            return Err(format!("path {path:?} visits node {bad}, out of range"));
        }
        let distinct: HashSet<usize> = path.iter().copied().collect();
        if distinct.len() != path.len() {
            return Err(format!("path {path:?} revisits a node"));
        }
        Ok(())
    }

    /// Asserts `measured` is within `tolerance` (relative) of `expected`.
    pub(crate) fn assert_close(what: &str, measured: f64, expected: f64, tolerance: f64) {
        let error = (measured - expected).abs() / expected;
        assert!(
            error <= tolerance,
            "{what}: measured {measured:.3}, expected {expected:.3} (off by {:.1} %, tolerance {:.0} %)",
            error * 100.0,
            tolerance * 100.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::checks::random_ids;
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_ids_are_distinct_and_deterministic() {
        let a = random_ids(1000, 5);
        assert_eq!(a, random_ids(1000, 5));
        assert_ne!(a, random_ids(1000, 6));
        assert_eq!(a.iter().collect::<HashSet<_>>().len(), 1000);
    }

    #[test]
    fn entry_is_an_id_an_ipv6_address_and_a_port() {
        assert_eq!(ENTRY_BYTES, 34);
        assert_eq!(per_minute(2.0, 5.0), 24.0);
    }
}
