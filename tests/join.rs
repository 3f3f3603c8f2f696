//! The paper's join and routing examples (Figures 3 and 4), step by step, and
//! a 1 000-node overlay built through real JOINs.

mod common;

use common::*;
use mmp2p_core::wire::{Header, Message, Repr};
use mmp2p_core::{Config, DropReason, Event, Id, Side};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Network, Step};

#[test]
fn fig3_join_step_by_step() {
    let mut net = constant_latency_network(3);
    let nodes = ring_of(&mut net, &[0, 9, 14], quiet());
    let [n0, n9, n14] = [nodes[0], nodes[1], nodes[2]];
    assert_eq!(chain_ids(&net, n9, Side::Right), [14, 0]);
    net.take_events();
    let surplus_before = net.node(n9).stats().dropped(DropReason::DuplicateResponse);

    let n12 = net.add_node(Id(12), quiet());
    net.command(n12, |node, now| node.join(now, Network::addr(n0))).unwrap();
    let seen = deliveries_until_quiet(&mut net);
    let expected = [
        // Figure 3: 12 asks the key node, which relays to the responsible node 14.
        "12→0 JOIN joiner=12 hops=1",
        "0→12 HOP_ACK",
        "0→14 JOIN joiner=12 hops=2",
        "14→0 HOP_ACK",
        // 14 changes nothing before 12 shows that it receives at its
        // address: a reply smaller than the JOIN, with a cookie and the
        // sequence number 12's registration must carry (ID 12 is new: 1) ...
        "14→12 JOIN_REPLY Retry hops=2 left=[] right=[] cookie=c3997b1febccd955 seq=1",
        // ... which 12 echoes in its JOIN, now straight to 14, with its
        // registration signed over the cookie.
        "12→14 JOIN joiner=12 hops=2 cookie=c3997b1febccd955 key=4ba51584 seq=1",
        "14→12 HOP_ACK",
        // 14 answers 12 with its chains (12 now first on its left) ...
        "14→12 JOIN_REPLY Accepted hops=2 left=[12, 9, 0] right=[0, 9]",
        // ... tells 9 that its right neighbour is now 12 ...
        "14→9 NEIGHBOUR_UPDATE Right [12, 14, 0, 9]",
        // ... and tells its right neighbour 0 its new left chain; 12, now
        // the node after ID 9, gets 9's registration from 14 ...
        "14→0 NEIGHBOUR_UPDATE Left [14, 12, 9, 0]",
        "14→12 REGISTRY_COPY [9]",
        // 9 acknowledges, copies its registration to its new right neighbour
        // too, passes its new right chain left, and gives 12 its left chain.
        "9→14 ACK",
        "9→12 REGISTRY_COPY [9]",
        "9→0 NEIGHBOUR_UPDATE Right [9, 12, 14, 0]",
        "9→12 NEIGHBOUR_UPDATE Left [9, 0, 14]",
        // The backup lists settle around the ring.
        "0→14 ACK",
        "0→9 NEIGHBOUR_UPDATE Left [0, 14, 12, 9]",
        "0→9 ACK",
        "0→14 NEIGHBOUR_UPDATE Right [0, 9, 12, 14]",
        "12→9 ACK",
        "12→14 NEIGHBOUR_UPDATE Left [12, 9, 0, 14]",
        "9→0 ACK",
        "9→12 NEIGHBOUR_UPDATE Left [9, 0, 14, 12]",
        "14→0 ACK",
        "14→12 NEIGHBOUR_UPDATE Right [14, 0, 9, 12]",
        "14→12 ACK",
        "12→9 ACK",
        "12→14 ACK",
    ];
    assert_eq!(seen, expected);

    // Final tables: every chain holds the true next nodes around 0, 9, 12, 14.
    let tables = [
        (n0, [14, 12, 9], [9, 12, 14]),
        (n9, [0, 14, 12], [12, 14, 0]),
        (n12, [9, 0, 14], [14, 0, 9]),
        (n14, [12, 9, 0], [0, 9, 12]),
    ];
    for (node, left, right) in tables {
        assert_eq!(chain_ids(&net, node, Side::Left), left, "left chain of {}", net.node(node).id().0);
        assert_eq!(chain_ids(&net, node, Side::Right), right, "right chain of {}", net.node(node).id().0);
    }
    let joined: Vec<_> = net.events().iter().filter(|e| matches!(e.event, Event::Joined { .. })).collect();
    assert_eq!(joined.len(), 1);
    assert!(
        matches!(joined[0].event, Event::Joined { left, right, hops: 2, .. } if left.id == Id(9) && right.id == Id(14))
    );
    // 9 sent its update to 12 twice under one txid (its chain changed while
    // the first was outstanding); the second ACK is a counted duplicate.
    assert_eq!(net.node(n9).stats().dropped(DropReason::DuplicateResponse), surplus_before + 1);
    let stray: u64 = net.nodes().map(|(_, n)| n.stats().dropped(DropReason::UnexpectedResponse)).sum();
    assert_eq!(stray, 0, "no response in a clean run is stray");
}

#[test]
fn fig4_friend_shortcut() {
    let mut net = constant_latency_network(4);
    let ids = [1, 3, 5, 8, 9, 10, 11, 12, 14, 17];
    // The paper's plain greedy routing, without digests.
    let nodes = ring_of(&mut net, &ids, Config { lookahead: false, ..quiet() });
    let node = |id: u128| nodes[ids.iter().position(|&i| i == id).unwrap()];
    let n8 = node(8);
    assert_eq!(chain_ids(&net, n8, Side::Left), [5, 3, 1]);
    assert_eq!(chain_ids(&net, n8, Side::Right), [9, 10, 11]);
    for friend in [1, 3, 14] {
        let locator = net.locator(node(friend));
        net.command(n8, |n, now| n.add_friend(now, locator)).unwrap();
    }
    net.take_events();

    net.command(n8, |n, now| n.lookup(now, Id(16))).unwrap();
    let seen = deliveries_until_quiet(&mut net);
    assert_eq!(
        seen,
        [
            // Straight to friend 14, not via neighbour 9.
            "8→14 LOOKUP origin=8 key=16 hops=1",
            "14→8 HOP_ACK",
            // 14's right neighbour 17 is the successor of 16.
            "14→17 LOOKUP origin=8 key=16 hops=2",
            "17→14 HOP_ACK",
            "17→8 LOOKUP_REPLY key=16 hops=2",
        ]
    );
    let events = net.take_events();
    assert!(matches!(
        events.as_slice(),
        [e] if matches!(e.event, Event::LookupSucceeded { responsible, hops: 2, .. } if responsible.id == Id(17))
    ));

    // Without the friend, the first hop goes along the ring.
    net.command(n8, |n, now| n.remove_friend(now, Id(14)));
    net.command(n8, |n, now| n.lookup(now, Id(16))).unwrap();
    let first = net.step();
    assert!(matches!(first, Some(Step::Delivered { to, .. }) if to == node(11)), "{first:?}");
}

#[test]
fn lookahead_takes_one_detour_through_a_friends_digest() {
    let mut net = constant_latency_network(4);
    // Digests keep the top 32 bits of IDs: node n has ID n << 96.
    let small = [1, 3, 5, 8, 9, 10, 11, 12, 14, 17, 20, 25, 30];
    let ids: Vec<u128> = small.iter().map(|n| n << 96).collect();
    let nodes = ring_of(&mut net, &ids, quiet());
    let node = |n: u128| nodes[small.iter().position(|&i| i == n).unwrap()];
    let (n3, n8) = (node(3), node(8));
    // 8 befriends 3, which lies behind it; then 3 befriends 8, so 8 hears
    // 3's digest: its contacts, among them its left chain 1, 30, 25.
    let (l3, l8) = (net.locator(n3), net.locator(n8));
    net.command(n8, |n, now| n.add_friend(now, l3)).unwrap();
    net.command(n3, |n, now| n.add_friend(now, l8)).unwrap();
    assert!(net.run_until_quiet(net.now() + std::time::Duration::from_secs(10)));
    assert!(net.node(n8).digests().of(Id(3 << 96)).any(|id| id == Id(30 << 96)), "8 keeps 3's digest");
    net.take_events();

    net.command(n8, |n, now| n.lookup(now, Id(29 << 96))).unwrap();
    let mut seen = deliveries_until_quiet(&mut net);
    for line in &mut seen {
        for n in small.iter().chain(&[29]) {
            // Routes name nodes by their ID in decimal, messages by the ID's hex digits.
            *line = line.replace(&(n << 96).to_string(), &n.to_string());
            *line = line.replace(&Id(n << 96).to_string(), &n.to_string());
        }
    }
    assert_eq!(
        seen,
        [
            // Not along the ring (11 is as far as 8's contacts get) but
            // back to 3, which reported 25 and 30: the detour.
            "8→3 LOOKUP origin=8 key=29 hops=1 detours=1",
            "3→8 HOP_ACK",
            // 3's left chain brackets the key: straight to its successor.
            "3→30 LOOKUP origin=8 key=29 hops=2 detours=1",
            "30→3 HOP_ACK",
            "30→8 LOOKUP_REPLY key=29 hops=2",
        ]
    );
    // The hop acknowledgement measured the round trip to 3: 10 ms each way.
    assert_eq!(net.node(n8).rtts().get(l3.addr), Some(20_000));
}

#[test]
fn neighbours_exchange_digests_and_strangers_are_refused() {
    let mut net = constant_latency_network(6);
    let small = [1, 3, 5, 8, 9, 10, 11, 12, 14, 17];
    let ids: Vec<u128> = small.iter().map(|n| n << 96).collect();
    let config = Config::default();
    let nodes = ring_of(&mut net, &ids, config);
    let node = |n: u128| nodes[small.iter().position(|&i| i == n).unwrap()];
    net.run_for(config.digest_interval * 2);
    // No friends anywhere: 8 keeps a digest from each node of its chains,
    // 3, 5, 9, 10, 11 and 12; 5's reports its own chains, 1 among them.
    let n8 = node(8);
    let digest = |net: &Network, of: u128| net.node(n8).digests().of(Id(of << 96)).collect::<Vec<Id>>();
    for peer in [3, 5, 9, 10, 11] {
        assert!(!digest(&net, peer).is_empty(), "8 keeps {peer}'s digest");
    }
    assert!(digest(&net, 5).contains(&Id(1 << 96)), "5 reported its left chain");
    assert!(digest(&net, 14).is_empty(), "14 is no neighbour of 8");

    // A digest from a node that is neither friend nor neighbour is dropped.
    let stranger = net.add_node(Id(40 << 96), config);
    let repr = Repr {
        header: Header { flags: 0, hop_limit: 1, txid: 7, sender: net.locator(stranger) },
        message: Message::FriendDigest { ids: [Id(2 << 96)].into_iter().collect() },
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut bytes).expect("fits");
    net.inject(stranger, Network::addr(n8), bytes);
    net.run_for(std::time::Duration::from_secs(1));
    assert_eq!(net.node(n8).stats().dropped(DropReason::NotADigestPeer), 1);
    assert!(digest(&net, 40).is_empty());

    // A neighbour that dies leaves 8's chains, and its digest goes with it.
    net.crash(node(9));
    net.run_for(config.stabilise_interval * 6);
    assert!(net.node(n8).neighbours().find(Id(9 << 96)).is_none(), "9 is out of 8's chains");
    assert!(digest(&net, 9).is_empty(), "9's digest is forgotten");
    // 12, now in 8's chain, sends its digest in its next round.
    net.run_for(config.digest_interval);
    assert!(!digest(&net, 12).is_empty(), "12's digest is kept");
}

#[test]
fn join_1000_nodes() {
    let spec = OverlaySpec { nodes: 1000, friends: 50, seed: 1000, ..OverlaySpec::default() };
    assert_eq!(spec.config.backups, 2);
    let mut overlay = Overlay::build(&spec).expect("every node joins");
    overlay.check_ring().expect("every node's neighbours are correct");
    let report = overlay.run_lookups(10_000);
    assert_eq!(report.wrong, 0, "lookups answered by the wrong node");
    assert_eq!(report.failed, 0, "lookups that failed");
    assert_eq!(report.samples.len(), 10_000);
    println!(
        "join_1000_nodes: 10000 lookups, mean hops {:.2}, median {}, p99 {}, max {}",
        report.mean_hops(),
        report.quantile_hops(0.5),
        report.quantile_hops(0.99),
        report.max_hops()
    );
}

#[test]
fn join_cost() {
    // The paper's plain join into a quiet 100-node ring: every datagram it
    // draws, from the first JOIN to the last acknowledgement.
    let config = Config { maintenance: false, ..Config::default() };
    let spec = OverlaySpec { nodes: 100, friends: 10, seed: 1200, config, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("every node joins");
    let newcomer = overlay.network.add_node(Id(0x7777 << 112), config);
    overlay.network.set_tracing(true);
    let key = Network::addr(mmp2p_memory::NodeIndex(0));
    overlay.network.command(newcomer, |n, now| n.join(now, key)).expect("join starts");
    assert!(overlay.network.run_until_quiet(overlay.network.now() + std::time::Duration::from_secs(60)));
    assert!(overlay.network.node(newcomer).is_joined());
    let sent: Vec<usize> = overlay.network.trace().iter().map(|t| t.bytes.len()).collect();
    let (datagrams, bytes) = (sent.len(), sent.iter().sum::<usize>());
    println!("join_cost: {datagrams} datagrams, {bytes} bytes");
    // JOIN, RETRY, JOIN with cookie and registration, the hops' HOP_ACKs,
    // JOIN_REPLY, and the neighbour updates around the joiner with their ACKs.
    assert!(datagrams <= 40 && bytes <= 6_000, "{datagrams} datagrams, {bytes} bytes");
}
