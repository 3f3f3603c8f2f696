//! Greedy routing on random rings, plain and looking ahead through friends'
//! digests (true ones, stale ones, or garbage a liar might send), with or
//! without measured round-trip times, under both routing rules (either way
//! round the ring, and clockwise): every route ends at the responsible node
//! (the key's successor), within the hop limit, takes at most
//! `MAX_DETOURS` detours, never two in a row, makes every other hop closer
//! to the key by the rule's distance, and revisits no node between two
//! detours.

use core::net::{Ipv6Addr, SocketAddrV6};
use mmp2p_core::routing::{next_hop, Guides, NextHop};
use mmp2p_core::tables::digests::Digests;
use mmp2p_core::tables::neighbours::Neighbours;
use mmp2p_core::tables::rtts::Rtts;
use mmp2p_core::wire::{Chain, MAX_DETOURS};
use mmp2p_core::{Config, Id, ResourceLocator, RoutingRule};
use quickcheck::{quickcheck, Arbitrary, Gen, TestResult};
use std::collections::HashSet;

struct Ring {
    /// Sorted by ID.
    nodes: Vec<ResourceLocator>,
    neighbours: Vec<Neighbours>,
    friends: Vec<Vec<ResourceLocator>>,
    /// Each node's digests of its friends' and neighbours' contacts (empty: plain routing).
    digests: Vec<Digests>,
    /// Each node's measured round trips (empty: no proximity).
    rtts: Vec<Rtts>,
}

/// What friends' and neighbours' digests say of their contacts.
#[derive(Clone, Copy)]
enum Told {
    /// Their contacts now.
    True,
    /// Their contacts in an older ring, with nodes that have left since.
    Stale,
    /// Random IDs, for about half the friends; the truth for the rest.
    Lies,
}

/// The chains of `nodes[i]` in the ring `nodes` (sorted by ID), `chain_len` a side.
fn chains(nodes: &[ResourceLocator], i: usize, chain_len: usize) -> Neighbours {
    let n = nodes.len();
    let left: Chain = (1..=chain_len).map(|k| nodes[(i + n - k) % n]).collect();
    let right: Chain = (1..=chain_len).map(|k| nodes[(i + k) % n]).collect();
    Neighbours::from_chains(left, right)
}

fn locator(id: u128, index: usize) -> ResourceLocator {
    let ip = Ipv6Addr::from((0xfd00u128 << 112) | (index as u128 + 1));
    ResourceLocator::new(Id(id), SocketAddrV6::new(ip, 4000, 0, 0))
}

impl Ring {
    fn random(g: &mut Gen, size: usize, backups: usize, friends: usize) -> Ring {
        let mut rng = mmp2p_core::rng::Rng::new(u64::arbitrary(g));
        let mut ids: Vec<u128> =
            (0..size).map(|_| (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())).collect();
        ids.sort_unstable();
        ids.dedup();
        let nodes: Vec<ResourceLocator> = ids.iter().enumerate().map(|(i, &id)| locator(id, i)).collect();
        let n = nodes.len();
        let chain_len = (1 + backups).min(n - 1);
        let neighbours = (0..n).map(|i| chains(&nodes, i, chain_len)).collect();
        let friends = (0..n)
            .map(|i| (0..friends).map(|_| nodes[usize::arbitrary(g) % n]).filter(|f| f.id != nodes[i].id).collect())
            .collect();
        Ring { nodes, neighbours, friends, digests: Vec::new(), rtts: Vec::new() }
    }

    /// Gives every node its friends' and neighbours' digests, as `told` says.
    fn with_digests(mut self, g: &mut Gen, told: Told) -> Ring {
        // A stale digest was true of an older ring, which also held nodes
        // that have left since: the friend's chains then.
        let older = {
            let departed = (0..self.nodes.len() / 4 + 1).map(|i| locator(u128::arbitrary(g), self.nodes.len() + i));
            let mut older: Vec<ResourceLocator> = self.nodes.iter().copied().chain(departed).collect();
            older.sort_unstable_by_key(|c| c.id);
            older.dedup_by_key(|c| c.id);
            older
        };
        let chain_len = self.neighbours[0].chain(mmp2p_core::Side::Right).len();
        let contacts = |i: usize| -> Vec<Id> {
            let chains = match told {
                Told::Stale => chains(&older, older.partition_point(|c| c.id < self.nodes[i].id), chain_len),
                _ => self.neighbours[i].clone(),
            };
            chains.contacts().chain(&self.friends[i]).map(|c| c.id).collect()
        };
        self.digests = (0..self.nodes.len())
            .map(|i| {
                let mut digests = Digests::default();
                for peer in self.friends[i].iter().chain(self.neighbours[i].contacts()) {
                    let ids = if matches!(told, Told::Lies) && bool::arbitrary(g) {
                        (0..40).map(|_| Id(u128::arbitrary(g))).collect()
                    } else {
                        contacts(self.index(peer))
                    };
                    digests.replace(peer.id, &ids);
                }
                digests
            })
            .collect();
        self
    }

    /// Gives every node random round trips to each of its contacts.
    fn with_rtts(mut self, g: &mut Gen) -> Ring {
        let now = mmp2p_core::Instant::ZERO;
        self.rtts = (0..self.nodes.len())
            .map(|i| {
                let mut rtts = Rtts::default();
                for c in self.neighbours[i].contacts().chain(&self.friends[i]) {
                    rtts.sample(c.addr, std::time::Duration::from_micros(u64::from(u16::arbitrary(g))), now);
                }
                rtts
            })
            .collect();
        self
    }

    fn successor(&self, key: Id) -> usize {
        self.nodes.partition_point(|c| c.id < key) % self.nodes.len()
    }

    fn index(&self, locator: &ResourceLocator) -> usize {
        self.nodes.binary_search_by_key(&locator.id, |c| c.id).expect("routes only to ring members")
    }

    /// Follows the route from `origin` by `rule`; the node it ends at and the hops taken.
    fn route(&self, rule: RoutingRule, origin: usize, key: Id, hop_limit: u8) -> Result<(usize, u8), String> {
        let mut at = origin;
        let mut hops = 0u8;
        let mut visited = HashSet::from([origin]);
        let (mut detours, mut by_detour) = (0, false);
        loop {
            let me = self.nodes[at].id;
            // As a node decides from the header's count and the hop that brought the message.
            let may_detour = detours < MAX_DETOURS && !by_detour;
            let guides = Guides { rule, digests: self.digests.get(at), may_detour, rtts: self.rtts.get(at) };
            let hop = next_hop(me, key, &self.neighbours[at], &self.friends[at], None, &[], &guides);
            by_detour = matches!(hop, NextHop::Detour(_));
            if by_detour {
                if !may_detour {
                    return Err(format!("a detour at {at} where none is allowed"));
                }
                // Past a detour, the route may cross nodes it saw before it.
                detours += 1;
                visited.clear();
            } else if let NextHop::Forward(next) = hop {
                let owner = next.id == self.nodes[self.successor(key)].id;
                if rule.distance(next.id, key) >= rule.distance(me, key) && !owner {
                    return Err(format!("a hop from {at} that gets no closer, not counted as a detour"));
                }
            }
            match hop.step() {
                None => return Ok((at, hops)),
                Some((next, _)) => {
                    if hops == hop_limit {
                        return Err(format!(
                            "hop limit {hop_limit} exceeded at {at} of {} origin {origin}",
                            self.nodes.len()
                        ));
                    }
                    hops += 1;
                    at = self.index(&next);
                    if !visited.insert(at) {
                        return Err(format!("revisited node {at}"));
                    }
                }
            }
        }
    }
}

fn every_lookup_ends_at_the_responsible_node(size: u16, backups: u8, friends: u8, mode: u8) -> TestResult {
    let mut g = Gen::new(1 << 20);
    let size = 1 + usize::from(size) % 500;
    let backups = 1 + usize::from(backups) % 5;
    let friends = usize::from(friends) % 51;
    let ring = Ring::random(&mut g, size, backups, friends);
    // Plain; looking ahead with true, stale or some lying digests; each of
    // these with random round trips.
    let ring = match mode % 4 {
        0 => ring,
        1 => ring.with_digests(&mut g, Told::True),
        2 => ring.with_digests(&mut g, Told::Stale),
        _ => ring.with_digests(&mut g, Told::Lies),
    };
    let ring = if mode & 4 != 0 { ring.with_rtts(&mut g) } else { ring };
    let hop_limit = Config::default().hop_limit;
    for _ in 0..50 {
        let origin = usize::arbitrary(&mut g) % ring.nodes.len();
        let key = if bool::arbitrary(&mut g) {
            Id(u128::arbitrary(&mut g))
        } else {
            // Keys exactly on a node's ID are the sharpest case.
            ring.nodes[usize::arbitrary(&mut g) % ring.nodes.len()].id
        };
        for rule in [RoutingRule::EitherWay, RoutingRule::Clockwise] {
            match ring.route(rule, origin, key, hop_limit) {
                Ok((end, _)) if end == ring.successor(key) => {}
                Ok((end, hops)) => {
                    return TestResult::error(format!(
                        "{rule:?}: key {key:?} ended at {end} after {hops} hops, not {}",
                        ring.successor(key)
                    ))
                }
                Err(e) => return TestResult::error(format!("{rule:?}: {e}")),
            }
        }
    }
    TestResult::passed()
}

#[test]
fn quickcheck_routes_end_at_the_responsible_node() {
    quickcheck::QuickCheck::new()
        .tests(200)
        .quickcheck(every_lookup_ends_at_the_responsible_node as fn(u16, u8, u8, u8) -> TestResult);
}

#[test]
fn largest_rings_without_friends_stay_within_the_hop_limit() {
    let mut g = Gen::new(1 << 20);
    let ring = Ring::random(&mut g, 500, 1, 0);
    assert_eq!(ring.nodes.len(), 500);
    let n = ring.nodes.len();
    for origin in [0, 250, 499] {
        // Just beyond the left chain: the whole way round clockwise, two
        // steps back either way.
        let key = ring.nodes[(origin + n - 4) % n].id;
        let (end, hops) = ring.route(RoutingRule::Clockwise, origin, key, 255).expect("within hop limit");
        assert_eq!(end, ring.successor(key));
        assert!(hops > 100, "a walk around the ring: {hops} hops");
        assert_eq!(ring.route(RoutingRule::EitherWay, origin, key, 255), Ok((ring.successor(key), 2)));
        // Either way, the furthest key is half way round.
        let key = ring.nodes[(origin + n / 2) % n].id;
        let (end, hops) = ring.route(RoutingRule::EitherWay, origin, key, 255).expect("within hop limit");
        assert_eq!(end, ring.successor(key));
        assert!((100..=130).contains(&hops), "a walk half way round: {hops} hops");
    }
}

#[test]
fn proximity_picks_the_nearest_of_next_hops_that_make_near_equal_progress() {
    let id = |n: u128| Id(n << 96);
    let node = |n: u128| locator(id(n).0, n as usize);
    let me = node(0);
    let neighbours = Neighbours::from_chains([node(90)].into_iter().collect(), [node(1)].into_iter().collect());
    let friends = [node(62), node(65), node(66)];
    let now = mmp2p_core::Instant::ZERO;
    let mut rtts = Rtts::default();
    for (friend, ms) in [(62, 1), (65, 5), (66, 80)] {
        rtts.sample(node(friend).addr, std::time::Duration::from_millis(ms), now);
    }
    let route = |key: u128, rtts: Option<&Rtts>| {
        let guides: Guides = Guides { rtts, ..Guides::default() };
        next_hop(me.id, id(key), &neighbours, &friends, None, &[], &guides)
    };
    // Towards 74: 66 leaves 8; 65 leaves 9, within 8 + 8/8; 62 leaves 12.
    assert_eq!(route(74, None), NextHop::Forward(node(66)), "without round trips: the furthest");
    assert_eq!(route(74, Some(&rtts)), NextHop::Forward(node(65)), "the nearer of 66 and 65");
    // Towards 70: 66 leaves 4; 65 leaves 5, more than 4 + 4/8: 66 despite its 80 ms.
    assert_eq!(route(70, Some(&rtts)), NextHop::Forward(node(66)));

    // Walking the ring, by either rule: the backup two ahead, not the
    // nearer neighbour one ahead, though both leave about as much of a long way.
    let chain = Neighbours::from_chains([node(90)].into_iter().collect(), [node(1), node(2)].into_iter().collect());
    let mut rtts = Rtts::default();
    rtts.sample(node(1).addr, std::time::Duration::from_millis(1), now);
    rtts.sample(node(2).addr, std::time::Duration::from_millis(90), now);
    for rule in [RoutingRule::EitherWay, RoutingRule::Clockwise] {
        let guides: Guides = Guides { rule, rtts: Some(&rtts), ..Guides::default() };
        assert_eq!(next_hop(me.id, id(40), &chain, &[], None, &[], &guides), NextHop::Forward(node(2)), "{rule:?}");
    }
}

quickcheck! {
    fn a_lone_node_is_responsible_for_everything(key: u128) -> bool {
        let me = locator(7, 0);
        let plain: Guides = Guides::default();
        next_hop(me.id, Id(key), &Neighbours::default(), &[], None, &[], &plain) == NextHop::Local
    }
}
