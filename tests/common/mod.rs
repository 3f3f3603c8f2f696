//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use mmp2p_core::rng::Rng;
use mmp2p_core::wire::Repr;
use mmp2p_core::ResourceLocator;
use mmp2p_core::{Config, Event, Id, Instant, Side};
use mmp2p_memory::overlay::Overlay;
use mmp2p_memory::{LatencyModel, Network, NetworkConfig, NodeIndex, Step};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// `repr` encoded as a datagram.
pub fn datagram(repr: &Repr) -> Vec<u8> {
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut bytes).expect("a datagram of at most 1232 bytes");
    bytes
}

/// The default configuration without periodic maintenance, so a scenario
/// goes quiet once its messages are exchanged.
pub fn quiet() -> Config {
    Config { maintenance: false, ..Config::default() }
}

/// A network with a constant 10 ms latency, so datagrams arrive in send order.
pub fn constant_latency_network(seed: u64) -> Network {
    let config = NetworkConfig { latency: LatencyModel::Constant(Duration::from_millis(10)), ..Default::default() };
    Network::new(seed, config)
}

/// Adds nodes with the given IDs; the first founds the ring and each other joins through it.
pub fn ring_of(net: &mut Network, ids: &[u128], config: Config) -> Vec<NodeIndex> {
    let nodes: Vec<NodeIndex> = ids.iter().map(|&id| net.add_node(Id(id), config)).collect();
    net.command(nodes[0], |n, _| n.found_ring());
    let entry = Network::addr(nodes[0]);
    for &node in &nodes[1..] {
        net.command(node, |n, now| n.join(now, entry)).expect("join starts");
        if config.maintenance {
            // Periodic maintenance never goes quiet: give the join time instead.
            net.run_for(Duration::from_secs(10));
        } else {
            assert!(net.run_until_quiet(net.now() + Duration::from_secs(60)), "join settles");
        }
        assert!(net.node(node).is_joined());
    }
    nodes
}

/// The IDs of a node's chain on one side, as small numbers.
pub fn chain_ids(net: &Network, node: NodeIndex, side: Side) -> Vec<u128> {
    net.node(node).neighbours().chain(side).iter().map(|c| c.id.0).collect()
}

/// A one-line description of a datagram: `from→to`, then the message as
/// [`Repr`]'s `Display` prints it (`JOIN joiner=12 hops=1`).
pub fn describe(net: &Network, to: NodeIndex, bytes: &[u8]) -> String {
    let repr = Repr::parse_bytes(bytes).expect("nodes only send valid datagrams");
    format!("{}→{} {repr}", repr.header.sender.id.0, net.node(to).id().0)
}

/// Steps the network until quiet, describing every delivered datagram.
pub fn deliveries_until_quiet(net: &mut Network) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(step) = net.step() {
        assert!(net.now() < Instant::from_millis(3_600_000), "scenario settles");
        if let Step::Delivered { to, bytes, .. } = step {
            seen.push(describe(net, to, &bytes));
        }
    }
    seen
}

/// `count` distinct members picked at random.
pub fn pick(overlay: &Overlay, rng: &mut Rng, count: usize) -> Vec<NodeIndex> {
    let members: Vec<NodeIndex> = overlay.members().collect();
    let mut chosen = HashSet::new();
    while chosen.len() < count.min(members.len()) {
        chosen.insert(members[rng.below(members.len() as u64) as usize]);
    }
    let mut chosen: Vec<NodeIndex> = chosen.into_iter().collect();
    chosen.sort();
    chosen
}

/// Shares, for each owner, `per_owner` names drawn from a pool (so some are shared by several owners).
pub fn share_from_pool(
    overlay: &mut Overlay,
    owners: &[NodeIndex],
    pool: &[String],
    per_owner: usize,
    rng: &mut Rng,
) -> BTreeMap<String, HashSet<ResourceLocator>> {
    let mut truth: BTreeMap<String, HashSet<ResourceLocator>> = BTreeMap::new();
    for &owner in owners {
        let mut names = HashSet::new();
        while names.len() < per_owner {
            names.insert(pool[rng.below(pool.len() as u64) as usize].clone());
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        overlay.share(owner, &names).expect("shared");
        for name in names {
            truth.entry(name.to_string()).or_default().insert(overlay.network.locator(owner));
        }
    }
    truth
}

/// Runs until `node` got an event `wanted` picks since event `since`, for at most `limit`.
pub fn wait_for(
    overlay: &mut Overlay,
    node: NodeIndex,
    since: usize,
    limit: Duration,
    wanted: impl Fn(&Event) -> bool,
) {
    let until = overlay.network.now() + limit;
    while overlay.network.now() < until {
        if overlay.network.events()[since..].iter().any(|e| e.node == node && wanted(&e.event)) {
            return;
        }
        overlay.network.run_for(Duration::from_millis(100));
    }
    panic!("{node:?} never got the event within {limit:?}");
}

/// `a` asks `b`, `b` accepts: both are contacts.
pub fn befriend(overlay: &mut Overlay, a: NodeIndex, b: NodeIndex) {
    let (a_id, b_id) = (overlay.network.locator(a).id, overlay.network.locator(b).id);
    let since = overlay.network.events().len();
    overlay.network.command(a, |n, now| n.request_friend(now, b_id, "hello")).expect("request starts");
    wait_for(
        overlay,
        b,
        since,
        Duration::from_secs(30),
        |e| matches!(e, Event::FriendRequest { from } if from.id == a_id),
    );
    overlay.network.command(b, |n, now| n.accept_friend(now, a_id)).expect("accepted");
    wait_for(
        overlay,
        a,
        since,
        Duration::from_secs(30),
        |e| matches!(e, Event::FriendAccepted { friend } if *friend == b_id),
    );
    assert!(overlay.network.node(a).contacts().get(b_id).is_some());
    assert!(overlay.network.node(b).contacts().get(a_id).is_some());
    assert!(overlay.network.node(a).friends().get(b_id).is_some(), "a contact is a friend for routing too");
}
