//! The memory driver's own promises: determinism, faults, partitions, crash and restart.

use mmp2p_core::{Config, Event, Id, Instant, Side};
use mmp2p_memory::{Fate, LatencyModel, Network, NetworkConfig, NodeIndex, Step};
use std::time::Duration;

fn quiet() -> Config {
    Config { maintenance: false, ..Config::default() }
}

fn faulty() -> NetworkConfig {
    NetworkConfig { loss: 0.05, duplicate: 0.05, reorder: 0.2, ..NetworkConfig::default() }
}

/// Twenty nodes join through node 0 over a faulty network; every node then looks up a key.
fn scenario(seed: u64) -> Network {
    let mut net = Network::new(seed, faulty());
    let key = net.add_node(Id::KEY_NODE, quiet());
    for i in 1..20u128 {
        let node = net.add_node(Id(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)), quiet());
        net.command(node, |n, now| n.join(now, Network::addr(key))).unwrap();
        net.run_for(Duration::from_secs(2));
    }
    for i in 0..20 {
        let _ = net.command(NodeIndex(i), |n, now| n.lookup(now, Id(0x5555 << 100)));
    }
    net.run_until_quiet(net.now() + Duration::from_secs(600));
    net
}

#[test]
fn same_seed_same_trace_bit_for_bit() {
    let (a, b, c) = (scenario(7), scenario(7), scenario(8));
    assert!(a.trace().len() > 100);
    assert_eq!(a.trace(), b.trace());
    assert_eq!(a.trace_digest(), b.trace_digest());
    assert_eq!(a.events(), b.events());
    assert_ne!(a.trace_digest(), c.trace_digest());
    // The faults really happened.
    assert!(a.trace().iter().any(|e| e.fate == Fate::Lost));
    assert!(a.trace().iter().any(|e| e.fate == Fate::Sent { duplicate: true }));
}

#[test]
fn constant_latency_delivers_in_send_order_and_steps_show_each_datagram() {
    let mut net = Network::new(
        1,
        NetworkConfig { latency: LatencyModel::Constant(Duration::from_millis(10)), ..NetworkConfig::default() },
    );
    let a = net.add_node(Id(1), quiet());
    let b = net.add_node(Id(2), quiet());
    net.command(a, |n, _| n.found_ring());
    net.command(b, |n, now| n.join(now, Network::addr(a))).unwrap();
    let first = net.step().expect("the JOIN is in flight");
    match first {
        Step::Delivered { at, from, to, result, .. } => {
            assert_eq!((at, from, to, result), (Instant::from_millis(10), Network::addr(b), a, Ok(())));
        }
        other => panic!("expected a delivery, got {other:?}"),
    }
    assert!(net.run_until_quiet(Instant::from_millis(10_000)));
    assert_eq!(net.trace()[0].repr().unwrap().message.message_type().name(), "JOIN");
}

#[test]
fn partition_blocks_traffic_until_healed() {
    let mut net = Network::new(2, NetworkConfig::default());
    let a = net.add_node(Id(1), quiet());
    let b = net.add_node(Id(2), quiet());
    net.command(a, |n, _| n.found_ring());
    net.partition(|i| i.0 as u32);
    net.command(b, |n, now| n.join(now, Network::addr(a))).unwrap();
    net.run_until_quiet(net.now() + Duration::from_secs(60));
    assert!(net.trace().iter().all(|e| e.fate == Fate::Partitioned));
    assert!(net.events().iter().any(|e| matches!(e.event, Event::JoinFailed { .. })));
    net.heal();
    net.command(b, |n, now| n.join(now, Network::addr(a))).unwrap();
    net.run_until_quiet(net.now() + Duration::from_secs(60));
    assert!(net.node(b).is_joined());
}

#[test]
fn crashed_nodes_receive_nothing_and_restart_empty() {
    let mut net = Network::new(3, NetworkConfig::default());
    let a = net.add_node(Id(1), quiet());
    let b = net.add_node(Id(2), quiet());
    net.command(a, |n, _| n.found_ring());
    net.command(b, |n, now| n.join(now, Network::addr(a))).unwrap();
    net.run_until_quiet(net.now() + Duration::from_secs(60));
    assert!(net.node(a).is_joined());
    net.crash(a);
    assert!(!net.is_up(a));
    net.command(b, |n, now| n.ping(now, Network::addr(a))).unwrap();
    let step = net.step();
    assert!(matches!(step, Some(Step::Undeliverable { to, .. }) if to == Network::addr(a)), "{step:?}");
    net.run_until_quiet(net.now() + Duration::from_secs(60));
    assert!(net.events().iter().any(|e| matches!(e.event, Event::PingFailed { .. })));
    net.restart(a);
    assert!(net.is_up(a));
    assert!(net.node(a).neighbours().chain(Side::Right).is_empty());
    net.command(b, |n, now| n.ping(now, Network::addr(a))).unwrap();
    net.run_until_quiet(net.now() + Duration::from_secs(60));
    assert!(net.events().iter().any(|e| matches!(e.event, Event::PingSucceeded { .. })));
}

#[test]
fn addresses_map_back_to_nodes() {
    let mut net = Network::new(4, NetworkConfig::default());
    let a = net.add_node(Id(1), quiet());
    assert_eq!(net.index_of(&Network::addr(a)), Some(a));
    assert_eq!(net.index_of(&Network::addr(NodeIndex(5))), None);
    assert_eq!(Network::addr(NodeIndex(0)).to_string(), "[fd00:0:0:1::1]:4000");
    assert_eq!(Network::addr(NodeIndex(0x1_0000)).to_string(), "[fd00:0:1:1::1]:4000", "each node its own /64");
    let other_host = "[fd00:0:0:1::2]:4000".parse().unwrap();
    assert_eq!(net.index_of(&other_host), None);
}
