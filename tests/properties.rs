//! Properties of whole overlays on the memory driver.

use mmp2p_core::rng::Rng;
use mmp2p_core::{Config, Id, Side};
use mmp2p_memory::overlay::Overlay;
use mmp2p_memory::{Network, NetworkConfig, NodeIndex};
use quickcheck::{QuickCheck, TestResult};
use std::time::Duration;

/// The default configuration without periodic maintenance.
fn quiet() -> Config {
    Config { maintenance: false, ..Config::default() }
}

/// Nodes with random IDs join one by one, each through a random member,
/// and the ring is consistent after every join.
fn joins_in_random_order_give_a_consistent_ring(seed: u64, size: u8, backups: u8) -> TestResult {
    let size = 2 + usize::from(size) % 60;
    let config = Config { backups: 1 + backups % 5, maintenance: false, ..Config::default() };
    let mut rng = Rng::new(seed);
    let mut net = Network::new(seed, NetworkConfig::default());
    let mut members = vec![net.add_node(Id((u128::from(rng.next_u64()) << 64) | 1), config)];
    net.command(members[0], |n, _| n.found_ring());
    for _ in 1..size {
        let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
        let joiner = net.add_node(id, config);
        let via = Network::addr(members[rng.below(members.len() as u64) as usize]);
        net.command(joiner, |n, now| n.join(now, via)).expect("join starts");
        if !net.run_until_quiet(net.now() + Duration::from_secs(600)) {
            return TestResult::error("join did not settle");
        }
        members.push(joiner);
        // Each node's right neighbour's left neighbour is the node itself.
        for &m in &members {
            let right = net.node(m).neighbours().right().copied();
            let Some(right) = right else { return TestResult::error(format!("node {} has no right neighbour", m.0)) };
            let back = net.index_of(&right.addr).and_then(|r| net.node(r).neighbours().left().copied());
            if back.map(|b| b.id) != Some(net.node(m).id()) {
                return TestResult::error(format!("node {}: right {:?} points back to {:?}", m.0, right, back));
            }
        }
    }
    // And every chain, backups included, is exactly the true ring.
    let mut overlay = Overlay::from_network(net);
    overlay.refresh_ring();
    match overlay.check_ring() {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e.to_string()),
    }
}

#[test]
fn quickcheck_joins_in_random_order_give_a_consistent_ring() {
    QuickCheck::new()
        .tests(60)
        .quickcheck(joins_in_random_order_give_a_consistent_ring as fn(u64, u8, u8) -> TestResult);
}

#[test]
fn two_nodes_are_each_others_both_neighbours() {
    let mut net = Network::new(9, NetworkConfig::default());
    let a = net.add_node(Id(100), quiet());
    let b = net.add_node(Id(200), quiet());
    net.command(a, |n, _| n.found_ring());
    net.command(b, |n, now| n.join(now, Network::addr(a))).unwrap();
    assert!(net.run_until_quiet(net.now() + Duration::from_secs(60)));
    for (node, other) in [(a, b), (b, a)] {
        for side in [Side::Left, Side::Right] {
            let chain: Vec<NodeIndex> =
                net.node(node).neighbours().chain(side).iter().filter_map(|c| net.index_of(&c.addr)).collect();
            assert_eq!(chain, [other], "{side:?} chain of node {}", node.0);
        }
    }
}
