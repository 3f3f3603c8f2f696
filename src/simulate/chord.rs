//! A route-level model of Chord (Stoica et al., SIGCOMM 2001), on the same
//! 128-bit ring as MMP2P.
//!
//! # Routing state
//!
//! Every node has the converged, exact tables of classic Chord over the
//! 2¹²⁸ ring:
//!
//! * **fingers**: finger *k* of node *n* is `successor(n + 2^k)` for
//!   *k* = 0..128. Only the distinct entries are kept (≈ log₂ N of them; the
//!   other *k* name the same nodes), nearest first; finger 0 is *n*'s
//!   successor. A finger that wraps round to *n* itself is dropped.
//! * a **successor list** of the next `successors` nodes (at most N − 1);
//! * the **predecessor**.
//!
//! A key's responsible node is its successor, the first node with ID ≥ key,
//! wrapping: the same rule as MMP2P, so both overlays answer the same node
//! for the same key on the same IDs.
//!
//! # Lookups
//!
//! A lookup is iterative, as in the paper's `find_successor`: the querier
//! asks node *c* (starting with itself) whether the key lies in
//! `(c, successor(c)]`; if not, *c* names the closest node preceding the key
//! among its fingers *and* its successor list, and the querier asks that node
//! next. Once the key lies in `(c, successor(c)]`, the querier contacts the
//! successor, the responsible node. The route is every node contacted: the
//! querier, each closest preceding node, and the responsible node, so its
//! hops are the ≈ ½ log₂ N finger hops of the standard analysis plus the
//! final hop to the successor. A lookup started at the responsible node
//! (the key lies in `(predecessor, self]`) costs no hop.
//!
//! With fingers alone (`successors` = 1) the mean is within 3 % of
//! ½ log₂ N + 1 (5.85 hops at N = 10³, 7.50 at 10⁴, 9.17 at 10⁵). A longer
//! successor list is a dense table of the last stretch before the key and
//! saves finger hops: ≈ 0.17 with 3 successors, 0.55 with 8, 0.95 with 16.
//! A node does not answer from its successor list directly (the optimisation
//! of some implementations that would save the hop through the key's
//! predecessor): the paper's `find_successor` is modelled as written.
//!
//! # State size
//!
//! Entries per node: distinct fingers + successor list + predecessor, each
//! [`ENTRY_BYTES`]. The tables are counted separately, as an implementation
//! keeps them, even though the nearest fingers are also in the successor
//! list. The finger starts `n + 2^k` are computed, not stored.
//!
//! # Maintenance
//!
//! Default timers, after the paper's `stabilize`, `fix_fingers` and the
//! successor-list liveness checks:
//!
//! * **stabilise** every 5 s: a request to the successor ("your
//!   predecessor?", which also serves as `notify`) and its reply. A node
//!   sends its own request and answers its predecessor's: 2 datagrams.
//! * **fix one finger** every 5 s, taking the node's distinct fingers in
//!   turn: an iterative lookup of the finger's first start `n + 2^k` from the
//!   node itself. It costs one request and one reply per node *asked*: every
//!   node of the route but the querier and the final successor (whose
//!   address the last node asked returns), so 2 · (hops − 1) datagrams, and
//!   none when the finger is the node's own successor. The cost is averaged
//!   over each node's distinct fingers, then over nodes: exactly, or in
//!   overlays with more than [`FINGER_FIX_SAMPLES`] fingers from as many
//!   random nodes, each with a random finger of its own (a fixed seed, so
//!   the figure is deterministic).
//! * **ping** every successor-list entry every 30 s: the node's pings plus
//!   its share of the pongs, 2 · `successors` datagrams.
//!
//! A node thus sends 24 + 24 · (mean requests per finger fix) + 4 ·
//! `successors` datagrams a minute: ≈ 159 at N = 10⁴ with 8 successors
//! (≈ 4.3 requests per fix), ≈ 149 with 3.

use super::baseline::{checked_route, per_minute, RouteModel, StateSize, ENTRY_BYTES};
use mmp2p_core::rng::Rng;
use mmp2p_core::Id;

/// Seconds between a node's stabilisations with its successor.
pub const STABILISE_SECS: f64 = 5.0;
/// Seconds between a node's finger fixes (one finger each time).
pub const FIX_FINGER_SECS: f64 = 5.0;
/// Seconds between a node's pings of each successor-list entry.
pub const PING_SUCCESSORS_SECS: f64 = 30.0;
/// (node, finger) pairs sampled to estimate the cost of a finger fix when the
/// overlay has more fingers than this.
pub const FINGER_FIX_SAMPLES: usize = 16_384;

/// Chord's converged routing tables over a set of node IDs.
#[derive(Clone, Debug)]
pub struct Chord {
    /// Node IDs in ring (ascending) order.
    ring: Vec<u128>,
    /// The node index at each ring position.
    order: Vec<u32>,
    /// The ring position of each node index.
    position: Vec<u32>,
    /// The fingers of the node at ring position `p` are
    /// `fingers[finger_start[p]..finger_start[p + 1]]`, as ring positions,
    /// distinct and nearest first.
    finger_start: Vec<usize>,
    /// Every node's fingers, concatenated.
    fingers: Vec<u32>,
    /// Length of every successor list (the requested length, at most N − 1).
    successors: usize,
}

impl Chord {
    /// Chord over `ids` (node `i` has `ids[i]`) with successor lists of
    /// `successors` nodes (capped at N − 1).
    ///
    /// Takes O(N log N) memory and O(N · log N · log N) time: one sort, then
    /// one binary search per distinct finger.
    ///
    /// # Panics
    ///
    /// If `ids` is empty or has duplicates, if it has more than 2³² − 1 nodes,
    /// or if `successors` is 0 (a Chord node always knows its successor).
    pub fn new(ids: &[Id], successors: usize) -> Chord {
        assert!(!ids.is_empty(), "Chord needs at least one node");
        assert!(successors >= 1, "a Chord node knows at least its successor");
        let n = ids.len();
        assert!(u32::try_from(n).is_ok(), "too many nodes for the model's 32-bit indices");
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&i| ids[i as usize]);
        let ring: Vec<u128> = order.iter().map(|&i| ids[i as usize].0).collect();
        assert!(ring.windows(2).all(|w| w[0] < w[1]), "Chord node IDs must be distinct");
        let mut position = vec![0; n];
        for (p, &i) in order.iter().enumerate() {
            position[i as usize] = p as u32;
        }
        let mut chord = Chord {
            ring,
            order,
            position,
            finger_start: Vec::with_capacity(n + 1),
            fingers: Vec::new(),
            successors: successors.min(n - 1),
        };
        chord.build_fingers();
        chord
    }

    /// Fills the finger tables: for each node, jumps from one distinct finger
    /// to the next by finding the first `k` whose start lies beyond the
    /// current finger.
    fn build_fingers(&mut self) {
        let n = self.ring.len();
        self.finger_start.push(0);
        for p in 0..n {
            let here = self.ring[p];
            let mut finger = (p + 1) % n;
            while finger != p {
                self.fingers.push(finger as u32);
                // The smallest k with 2^k beyond this finger.
                let k = first_start_beyond(here, self.ring[finger]);
                if k >= 128 {
                    break;
                }
                finger = self.successor_position(here.wrapping_add(1 << k));
            }
            self.finger_start.push(self.fingers.len());
        }
    }

    /// Ring position of the first node with ID ≥ `key`, wrapping.
    fn successor_position(&self, key: u128) -> usize {
        let p = self.ring.partition_point(|&id| id < key);
        if p == self.ring.len() {
            0
        } else {
            p
        }
    }

    /// How many ring positions `to` lies clockwise of `from`.
    fn ahead(&self, from: usize, to: usize) -> usize {
        let n = self.ring.len();
        (to + n - from) % n
    }

    /// The fingers of the node at ring position `p`, nearest first.
    fn fingers_of(&self, p: usize) -> &[u32] {
        &self.fingers[self.finger_start[p]..self.finger_start[p + 1]]
    }

    /// The entry of node `p`'s fingers and successor list nearest before ring
    /// position `target` (which lies at least 2 positions ahead of `p`).
    fn closest_preceding(&self, p: usize, target: usize) -> usize {
        let limit = self.ahead(p, target);
        // The successor list covers positions 1..=successors ahead.
        let by_successors = self.successors.min(limit - 1);
        let fingers = self.fingers_of(p);
        let before = fingers.partition_point(|&f| self.ahead(p, f as usize) < limit);
        let by_fingers = if before == 0 { 0 } else { self.ahead(p, fingers[before - 1] as usize) };
        (p + by_successors.max(by_fingers)) % self.ring.len()
    }

    /// Ring positions of a lookup for the node at ring position `target`
    /// started at ring position `p`, as in [`RouteModel::route`].
    fn route_positions(&self, mut p: usize, target: usize) -> Vec<usize> {
        let mut path = vec![p];
        while p != target {
            p = if (p + 1) % self.ring.len() == target { target } else { self.closest_preceding(p, target) };
            path.push(p);
        }
        path
    }

    /// Mean requests a finger fix sends (nodes asked, each answering once):
    /// the mean over nodes of each node's mean over its distinct fingers,
    /// exactly, or estimated from [`FINGER_FIX_SAMPLES`] random nodes, each
    /// with a random finger of its own.
    fn mean_finger_fix_exchanges(&self) -> f64 {
        let exchanges = |p: usize, j: usize| {
            let fingers = self.fingers_of(p);
            let here = self.ring[p];
            // The finger's first start n + 2^k: k = 0 for the successor, else
            // the first k beyond the previous finger.
            let k = match j {
                0 => 0,
                _ => first_start_beyond(here, self.ring[fingers[j - 1] as usize]),
            };
            let path = self.route_positions(p, self.successor_position(here.wrapping_add(1 << k)));
            debug_assert_eq!(path.last(), Some(&(fingers[j] as usize)));
            path.len().saturating_sub(2) as f64
        };
        let n = self.ring.len();
        if n == 1 {
            return 0.0;
        }
        if self.fingers.len() <= FINGER_FIX_SAMPLES {
            let per_node = |p: usize| {
                let count = self.fingers_of(p).len();
                (0..count).map(|j| exchanges(p, j)).sum::<f64>() / count as f64
            };
            (0..n).map(per_node).sum::<f64>() / n as f64
        } else {
            let mut rng = Rng::new(0x6368_6f72_6466_6978); // "chordfix"
            let total: f64 = (0..FINGER_FIX_SAMPLES)
                .map(|_| {
                    let p = rng.below(n as u64) as usize;
                    exchanges(p, rng.below(self.fingers_of(p).len() as u64) as usize)
                })
                .sum();
            total / FINGER_FIX_SAMPLES as f64
        }
    }

    /// Mean distinct fingers per node.
    pub fn mean_fingers(&self) -> f64 {
        self.fingers.len() as f64 / self.ring.len() as f64
    }
}

/// The smallest `k` with `from + 2^k` clockwise beyond `to` (128 if none).
fn first_start_beyond(from: u128, to: u128) -> u32 {
    128 - Id(from).distance_to(Id(to)).leading_zeros()
}

impl RouteModel for Chord {
    fn name(&self) -> String {
        "Chord".to_string()
    }

    fn len(&self) -> usize {
        self.ring.len()
    }

    fn route(&self, from: usize, key: Id) -> Vec<usize> {
        let path = self.route_positions(self.position[from] as usize, self.successor_position(key.0));
        checked_route(self, key, path.into_iter().map(|p| self.order[p] as usize).collect())
    }

    fn responsible(&self, key: Id) -> usize {
        self.order[self.successor_position(key.0)] as usize
    }

    fn state(&self) -> StateSize {
        let predecessor = usize::from(self.ring.len() > 1);
        let entries = self.mean_fingers() + (self.successors + predecessor) as f64;
        StateSize { entries, bytes: entries * ENTRY_BYTES as f64 }
    }

    fn maintenance_per_minute(&self) -> f64 {
        if self.ring.len() == 1 {
            return 0.0;
        }
        per_minute(2.0, STABILISE_SECS)
            + per_minute(2.0 * self.mean_finger_fix_exchanges(), FIX_FINGER_SECS)
            + per_minute(2.0 * self.successors as f64, PING_SUCCESSORS_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::super::baseline::checks::{
        assert_close, assert_routes_are_sound, mean_hops, random_ids, random_routes_are_sound,
    };
    use super::*;
    use quickcheck::{QuickCheck, TestResult};

    /// The fingers by the definition: successor(n + 2^k) for every k, deduplicated, self excluded.
    fn fingers_by_definition(ids: &[Id], node: usize) -> Vec<usize> {
        let successor =
            |key: u128| (0..ids.len()).min_by_key(|&i| Id(key).distance_to(ids[i])).expect("at least one node");
        let mut fingers: Vec<usize> = Vec::new();
        for k in 0..128 {
            let f = successor(ids[node].0.wrapping_add(1 << k));
            if f != node && fingers.last() != Some(&f) {
                fingers.push(f);
            }
        }
        fingers
    }

    #[test]
    fn fingers_and_responsible_nodes_follow_the_definitions() {
        let ids = random_ids(300, 11);
        let chord = Chord::new(&ids, 4);
        for node in 0..ids.len() {
            let p = chord.position[node] as usize;
            let fingers: Vec<usize> = chord.fingers_of(p).iter().map(|&f| chord.order[f as usize] as usize).collect();
            assert_eq!(fingers, fingers_by_definition(&ids, node), "fingers of node {node}");
            assert_eq!(chord.responsible(ids[node]), node);
            assert_eq!(chord.route(node, ids[node]), [node]);
        }
        for key in random_ids(300, 12) {
            let expected = (0..ids.len()).min_by_key(|&i| key.distance_to(ids[i])).unwrap();
            assert_eq!(chord.responsible(key), expected);
        }
    }

    #[test]
    fn tiny_rings() {
        let one = Chord::new(&[Id(7)], 8);
        assert_eq!(one.route(0, Id(3)), [0]);
        assert_eq!(one.maintenance_per_minute(), 0.0);
        assert_eq!(one.state().entries, 0.0);
        let two = Chord::new(&[Id(10), Id(20)], 8);
        assert_eq!(two.route(0, Id(15)), [0, 1]);
        assert_eq!(two.route(0, Id(25)), [0]);
        assert_eq!(two.route(1, Id(5)), [1, 0]);
        // One finger, one successor, one predecessor.
        assert_eq!(two.state().entries, 3.0);
        // Stabilise 2 per 5 s, ping the successor 2 per 30 s; the only finger is the successor, fixed for free.
        assert_eq!(two.maintenance_per_minute(), 24.0 + 4.0);
    }

    fn routes_are_sound(seed: u64, nodes: u16, successors: u8) -> TestResult {
        let ids = random_ids(usize::from(nodes % 500) + 1, seed);
        let chord = Chord::new(&ids, usize::from(successors % 16) + 1);
        random_routes_are_sound(&chord, seed)
    }

    #[test]
    fn quickcheck_routes_end_at_the_responsible_node_without_revisits() {
        QuickCheck::new().tests(200).quickcheck(routes_are_sound as fn(u64, u16, u8) -> TestResult);
    }

    /// Mean hops over 10 000 random lookups with successor lists of `successors`.
    fn measured_mean_hops(n: usize, successors: usize) -> f64 {
        let chord = Chord::new(&random_ids(n, n as u64), successors);
        assert_routes_are_sound(&chord, 2_000, 3);
        mean_hops(&chord, 10_000, 4)
    }

    /// The standard analysis: ½ log₂ N finger hops to the key's predecessor,
    /// plus the final hop to its successor. The analysis is of finger routing
    /// alone, so the successor list is just the successor.
    fn mean_hops_match_the_analysis(n: usize) {
        let expected = 0.5 * (n as f64).log2() + 1.0;
        assert_close(&format!("Chord mean hops at N = {n}"), measured_mean_hops(n, 1), expected, 0.05);
    }

    #[test]
    fn mean_hops_at_1000_nodes() {
        mean_hops_match_the_analysis(1_000);
    }

    #[test]
    fn mean_hops_at_10_000_nodes() {
        mean_hops_match_the_analysis(10_000);
    }

    /// A successor list is a dense table of the last stretch before the key:
    /// routing through it saves finger hops, ≈ 0.55 with 8 successors and
    /// ≈ 0.95 with 16 at N = 10⁴.
    #[test]
    fn successor_lists_shorten_the_last_stretch() {
        let hops: Vec<f64> = [1, 8, 16].iter().map(|&s| measured_mean_hops(10_000, s)).collect();
        let saved = [hops[0] - hops[1], hops[1] - hops[2]];
        assert!((0.4..0.7).contains(&saved[0]) && (0.25..0.5).contains(&saved[1]), "{hops:?}");
    }

    #[test]
    fn state_and_maintenance_are_plausible() {
        let n = 10_000;
        let chord = Chord::new(&random_ids(n, 21), 8);
        let log_n = (n as f64).log2();
        // Distinct fingers: ≈ log₂ N (a few more from the closely spaced nearest nodes).
        assert!((log_n..log_n + 4.0).contains(&chord.mean_fingers()), "{} fingers", chord.mean_fingers());
        let state = chord.state();
        assert_eq!(state.entries, chord.mean_fingers() + 9.0);
        assert_eq!(state.bytes, state.entries * 34.0);
        // Stabilise 24 + pings 32 + finger fixes: 24 per exchange, fewer than a lookup's hops.
        let maintenance = chord.maintenance_per_minute();
        assert!((24.0 + 32.0 + 24.0..24.0 + 32.0 + 24.0 * log_n).contains(&maintenance), "{maintenance}");
    }
}
