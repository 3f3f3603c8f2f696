//! Bad input, stray responses and lost requests, driven on single nodes step by step.

mod common;

use common::*;
use core::net::{Ipv6Addr, SocketAddrV6};
use mmp2p_core::wire::{Chain, Header, JoinStatus, Message, Repr, SignedOwner, WireError};
use mmp2p_core::{DropReason, Event, Id, Instant, JoinFailure, Node, Output, ResourceLocator, Side, MAX_DATAGRAM};
use mmp2p_memory::Network;
use std::time::Duration;

fn addr(host: u16) -> SocketAddrV6 {
    SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host), 4000, 0, 0)
}

fn node(id: u128, host: u16) -> Node {
    Node::new(quiet(), ResourceLocator::new(Id(id), addr(host)), Instant::ZERO, 7).unwrap()
}

/// Drains a node: its transmissions (decoded, with destination), events, and deadline.
fn drain(node: &mut Node) -> (Vec<(SocketAddrV6, Repr)>, Vec<Event>, Option<Instant>) {
    let mut buf = [0u8; MAX_DATAGRAM];
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    loop {
        match node.poll_output(&mut buf) {
            Output::Transmit(t) => sent.push((t.to, Repr::parse_bytes(&buf[..t.len]).unwrap())),
            Output::Event(e) => events.push(e),
            Output::Write(_) => {}
            Output::Timeout(at) => return (sent, events, at),
        }
    }
}

/// Node 5, founder of a ring that node 100 has joined: keys in (5, 100] are node 100's.
fn node_with_neighbour_100() -> Node {
    let mut n = node(5, 5);
    n.found_ring();
    let mut joiner = node(100, 100);
    joiner.join(Instant::ZERO, addr(5)).unwrap();
    // JOIN, JOIN_REPLY (Retry), JOIN with the cookie: then node 5 links node 100.
    let mut buf = [0u8; MAX_DATAGRAM];
    for _ in 0..2 {
        let (sent, _, _) = drain(&mut joiner);
        let join = sent.iter().find(|(_, r)| matches!(r.message, Message::Join { .. })).expect("a JOIN");
        let len = join.1.emit(&mut buf).unwrap();
        n.handle_datagram(Instant::ZERO, addr(100), &buf[..len]).unwrap();
        let (replies, _, _) = drain(&mut n);
        for (_, reply) in replies.iter().filter(|(to, _)| *to == addr(100)) {
            let len = reply.emit(&mut buf).unwrap();
            let _ = joiner.handle_datagram(Instant::ZERO, addr(5), &buf[..len]);
        }
    }
    assert!(joiner.is_joined(), "node 100 joined node 5");
    n
}

fn reply(sender: ResourceLocator, txid: u64, message: Message) -> Vec<u8> {
    let repr = Repr { header: Header { flags: 0, hop_limit: 0, txid, sender }, message };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut buf).unwrap();
    buf
}

#[test]
fn requests_are_retransmitted_with_backoff_then_fail_with_an_event() {
    let mut n = node(5, 5);
    n.join(Instant::ZERO, addr(1)).unwrap();
    let mut sent_at = Vec::new();
    let mut now = Instant::ZERO;
    let events = loop {
        let (sent, events, deadline) = drain(&mut n);
        sent_at.extend(sent.iter().map(|_| now));
        if !events.is_empty() {
            break events;
        }
        now = deadline.expect("a retransmission or the failure is scheduled");
        n.handle_timeout(now);
    };
    let secs: Vec<u64> = sent_at.iter().map(|t| t.as_micros() / 1_000_000).collect();
    assert_eq!(secs, [0, 2, 6, 14], "2 s, then doubling");
    assert_eq!(now, Instant::from_millis(30_000));
    assert!(matches!(events.as_slice(), [Event::JoinFailed { reason: JoinFailure::Timeout, .. }]));
    assert_eq!((n.stats().retransmits, n.stats().requests_failed), (3, 1));
    assert_eq!(n.poll_timeout(), None, "nothing left to do");
    assert!(!n.is_joining());
}

#[test]
fn poll_timeout_is_exact() {
    let mut n = node(5, 5);
    n.ping(Instant::from_millis(100), addr(1)).unwrap();
    let (_, _, deadline) = drain(&mut n);
    assert_eq!(deadline, Some(Instant::from_millis(2100)));
    // Just before the deadline nothing happens.
    n.handle_timeout(Instant::from_micros(2_099_999));
    assert!(drain(&mut n).0.is_empty());
    assert_eq!(n.poll_timeout(), Some(Instant::from_millis(2100)));
    n.handle_timeout(Instant::from_millis(2100));
    assert_eq!(drain(&mut n).0.len(), 1, "the retransmission");
}

#[test]
fn a_response_counts_only_from_the_address_asked_with_the_right_txid() {
    let mut n = node(5, 5);
    n.ping(Instant::ZERO, addr(1)).unwrap();
    let (sent, _, _) = drain(&mut n);
    let txid = sent[0].1.header.txid;
    let peer = ResourceLocator::new(Id(1), addr(1));
    let stranger = ResourceLocator::new(Id(1), addr(2));
    let now = Instant::from_millis(20);
    // Right txid, wrong source; wrong txid, right source.
    assert_eq!(
        n.handle_datagram(now, addr(2), &reply(stranger, txid, Message::Pong)),
        Err(DropReason::UnexpectedResponse)
    );
    assert_eq!(
        n.handle_datagram(now, addr(1), &reply(peer, txid ^ 1, Message::Pong)),
        Err(DropReason::UnexpectedResponse)
    );
    // An ACK is not a PONG.
    assert_eq!(n.handle_datagram(now, addr(1), &reply(peer, txid, Message::Ack)), Err(DropReason::UnexpectedResponse));
    assert!(drain(&mut n).1.is_empty());
    assert_eq!(n.handle_datagram(now, addr(1), &reply(peer, txid, Message::Pong)), Ok(()));
    let (_, events, _) = drain(&mut n);
    assert!(matches!(events.as_slice(), [Event::PingSucceeded { rtt, .. }] if *rtt == Duration::from_millis(20)));
    // Answered once; a repeat is a duplicate, told apart from stray answers.
    assert_eq!(n.handle_datagram(now, addr(1), &reply(peer, txid, Message::Pong)), Err(DropReason::DuplicateResponse));
    assert_eq!(n.stats().dropped(DropReason::UnexpectedResponse), 3);
    assert_eq!(n.stats().dropped(DropReason::DuplicateResponse), 1);
}

#[test]
fn a_routed_reply_must_come_from_the_address_its_header_names() {
    let mut n = node(12, 12);
    n.join(Instant::ZERO, addr(1)).unwrap();
    let (sent, _, _) = drain(&mut n);
    let txid = sent[0].1.header.txid;
    let me = *n.locator();
    let responder = ResourceLocator::new(Id(14), addr(14));
    let chains = |left: &[ResourceLocator]| Message::JoinReply {
        status: JoinStatus::Accepted,
        hops: 2,
        left: left.iter().copied().collect(),
        right: Chain::new(),
        cookie: 0,
        seq: 0,
    };
    let now = Instant::from_millis(30);
    // The header names [fd00::e] but the datagram comes from [fd00::66].
    let forged = reply(responder, txid, chains(&[me]));
    assert_eq!(n.handle_datagram(now, addr(0x66), &forged), Err(DropReason::UnexpectedResponse));
    // A reply that does not put us first on the left is not for us.
    let other = ResourceLocator::new(Id(13), addr(13));
    assert_eq!(
        n.handle_datagram(now, addr(14), &reply(responder, txid, chains(&[other]))),
        Err(DropReason::InvalidReply)
    );
    assert!(n.is_joining());
    assert_eq!(n.handle_datagram(now, addr(14), &forged), Ok(()));
    let (_, events, _) = drain(&mut n);
    assert!(matches!(events.as_slice(), [Event::Joined { right, .. }] if *right == responder));
    assert_eq!(n.neighbours().left(), Some(&responder), "alone before us, the responder is both neighbours");
}

#[test]
fn a_twin_with_another_key_is_refused_and_the_owner_told() {
    let mut net = constant_latency_network(5);
    let nodes = ring_of(&mut net, &[0, 9, 14], quiet());
    // Node 9 registered ID 9 when it joined; the twin signs with another key.
    let twin = net.add_node(Id(9), quiet());
    net.command(twin, |n, now| n.join(now, Network::addr(nodes[0]))).unwrap();
    assert!(net.run_until_quiet(net.now() + Duration::from_secs(60)));
    assert!(net.events().iter().any(|e| e.node == twin
        && e.event == Event::JoinFailed { request: mmp2p_core::RequestId(1), reason: JoinFailure::IdRegistered }));
    let claimant = Network::addr(twin);
    assert!(net.events().iter().any(|e| e.node == nodes[1] && e.event == Event::IdentityClaimed { claimant }));
    assert!(!net.node(twin).is_joined());
    assert_eq!(chain_ids(&net, nodes[0], Side::Right), [9, 14]);
}

#[test]
fn a_neighbour_update_from_anyone_but_the_neighbour_is_ignored_and_counted() {
    let mut net = constant_latency_network(6);
    let nodes = ring_of(&mut net, &[0, 9, 14], quiet());
    let n9 = nodes[1];
    let before = (chain_ids(&net, n9, Side::Left), chain_ids(&net, n9, Side::Right));
    let impostor = ResourceLocator::new(Id(10), addr(0x66));
    let spoof = ResourceLocator::new(Id(14), addr(0x66)); // node 14's ID at another address
    let update = |side| Message::NeighbourUpdate { side, chain: [impostor].into_iter().collect() };
    for (sender, side) in [(impostor, Side::Right), (spoof, Side::Right), (spoof, Side::Left)] {
        let bytes = reply(sender, 99, update(side));
        let result = net.command(n9, |n, now| n.handle_datagram(now, sender.addr, &bytes));
        assert_eq!(result, Err(DropReason::UnexpectedNeighbourUpdate));
    }
    assert!(net.run_until_quiet(net.now() + Duration::from_secs(60)));
    assert_eq!((chain_ids(&net, n9, Side::Left), chain_ids(&net, n9, Side::Right)), before);
    assert_eq!(net.node(n9).stats().dropped(DropReason::UnexpectedNeighbourUpdate), 3);
    assert!(net.trace().iter().all(|e| e.to != addr(0x66)), "no ACK to the impostor");
}

#[test]
fn malformed_datagrams_are_dropped_and_counted_by_reason() {
    let mut n = node(5, 5);
    let now = Instant::ZERO;
    assert_eq!(n.handle_datagram(now, addr(1), b"hello"), Err(DropReason::Malformed(WireError::BadMagic)));
    assert_eq!(n.handle_datagram(now, addr(1), b"MM"), Err(DropReason::Malformed(WireError::Truncated)));
    assert_eq!(n.handle_datagram(now, addr(1), &[0u8; 2000]), Err(DropReason::Malformed(WireError::Oversized)));
    let mut ping = reply(ResourceLocator::new(Id(1), addr(1)), 1, Message::Ping);
    ping[3] = 0x7f;
    assert_eq!(n.handle_datagram(now, addr(1), &ping), Err(DropReason::Malformed(WireError::UnknownType)));
    assert_eq!(n.stats().malformed(), 4);
    assert_eq!(n.stats().datagrams_in, 4);
    assert_eq!(drain(&mut n), (vec![], vec![], None), "nothing sent, nothing scheduled");
}

#[test]
fn a_message_claiming_to_be_from_ourselves_is_dropped() {
    let mut n = node(5, 5);
    let me = *n.locator();
    assert_eq!(n.handle_datagram(Instant::ZERO, addr(1), &reply(me, 1, Message::Ping)), Err(DropReason::FromSelf));
}

#[test]
fn routed_messages_die_at_the_hop_limit() {
    // A neighbour, so the lookup must be relayed onward.
    let mut n = node_with_neighbour_100();
    let origin = ResourceLocator::new(Id(1), addr(1));
    let lookup = |hop_limit| {
        let repr = Repr {
            header: Header { flags: 0, hop_limit, txid: 5, sender: origin },
            message: Message::Lookup { origin, key: Id(50), hops: 1 },
        };
        let mut bytes = vec![0; repr.buffer_len()];
        repr.emit(&mut bytes).unwrap();
        bytes
    };
    // Key 50 belongs to node 100, so node 5 must relay.
    assert_eq!(n.handle_datagram(Instant::ZERO, addr(1), &lookup(0)), Err(DropReason::HopLimitExceeded));
    assert_eq!(n.handle_datagram(Instant::ZERO, addr(1), &lookup(1)), Ok(()));
    let (sent, _, _) = drain(&mut n);
    // Both copies reached us, so both hops are acknowledged; one goes on.
    let acks = sent.iter().filter(|(to, r)| *to == addr(1) && r.message == Message::HopAck).count();
    assert_eq!(acks, 2);
    let relayed: Vec<_> = sent.iter().filter(|(_, r)| matches!(r.message, Message::Lookup { .. })).collect();
    assert_eq!(relayed.len(), 1);
    assert_eq!(relayed[0].0, addr(100));
    assert_eq!(relayed[0].1.header.hop_limit, 0);
    assert!(matches!(relayed[0].1.message, Message::Lookup { hops: 2, .. }));
}

#[test]
fn strangers_cannot_make_a_node_drop_or_adopt_neighbours() {
    let mut net = constant_latency_network(7);
    let nodes = ring_of(&mut net, &[0, 9, 14], quiet());
    let n9 = nodes[1];
    let tables = |net: &Network| (chain_ids(net, n9, Side::Left), chain_ids(net, n9, Side::Right));
    let before = tables(&net);
    let deliver = |net: &mut Network, sender: ResourceLocator, message: Message| {
        let bytes = reply(sender, 0xdead, message);
        net.command(n9, |n, now| n.handle_datagram(now, sender.addr, &bytes))
    };
    // A LEAVE in the right neighbour's name, from another address.
    let spoof14 = ResourceLocator::new(Id(14), addr(0x66));
    let leave = Message::Leave { side: Side::Right, chain: Chain::new() };
    assert_eq!(deliver(&mut net, spoof14, leave), Err(DropReason::UnexpectedNeighbourUpdate));
    // Liveness answers nobody asked for.
    let real14 = net.locator(nodes[2]);
    assert_eq!(deliver(&mut net, real14, Message::Pong), Err(DropReason::UnexpectedResponse));
    let fake = Message::StabiliseReply { left: Chain::new(), right: Chain::new(), proof: None };
    assert_eq!(deliver(&mut net, real14, fake), Err(DropReason::UnexpectedResponse));
    assert_eq!(deliver(&mut net, real14, Message::HopAck), Err(DropReason::UnexpectedResponse));
    // A stranger claiming a place between 9 and 14 is only probed; it never
    // answers from its address, so it is never adopted.
    let stranger = ResourceLocator::new(Id(12), addr(0x77));
    assert_eq!(deliver(&mut net, stranger, Message::Stabilise { identify: false }), Ok(()));
    assert!(net.run_until_quiet(net.now() + Duration::from_secs(60)));
    assert!(net
        .trace()
        .iter()
        .any(|e| e.to == addr(0x77) && e.repr().unwrap().message == Message::Stabilise { identify: true }));
    assert_eq!(tables(&net), before, "nothing changed");
    let stats = net.node(n9).stats();
    assert_eq!(stats.dropped(DropReason::UnexpectedNeighbourUpdate), 1);
    assert_eq!(stats.dropped(DropReason::UnexpectedResponse), 3);
}

#[test]
fn a_silent_link_evicts_no_one() {
    let mut net = constant_latency_network(8);
    let nodes = ring_of(&mut net, &[0, 9, 14], mmp2p_core::Config::default());
    net.run_for(Duration::from_secs(30));
    let n9 = nodes[1];
    let before = (chain_ids(&net, n9, Side::Left), chain_ids(&net, n9, Side::Right));
    // Node 9's own link goes down: it hears nothing and reaches no one.
    net.partition(|i| u32::from(i == n9));
    net.take_events();
    net.run_for(Duration::from_secs(60));
    assert!(net.node(n9).is_link_down(), "node 9 blames its own link");
    assert_eq!((chain_ids(&net, n9, Side::Left), chain_ids(&net, n9, Side::Right)), before, "and evicts no one");
    assert!(net.events().iter().any(|e| e.node == n9 && e.event == Event::LinkDown));
    net.heal();
    net.run_for(Duration::from_secs(120));
    assert!(!net.node(n9).is_link_down(), "traffic brings it back");
    assert!(net.events().iter().any(|e| e.node == n9 && e.event == Event::LinkUp));
    assert_eq!((chain_ids(&net, n9, Side::Left), chain_ids(&net, n9, Side::Right)), before);
}

#[test]
fn a_repeated_leave_is_acknowledged_without_changes() {
    let mut net = constant_latency_network(9);
    let nodes = ring_of(&mut net, &[0, 9, 14, 20], quiet());
    let (n9, n14) = (nodes[1], nodes[2]);
    let leaver = net.locator(n14);
    let chain: Chain = net.node(n14).neighbours().chain(Side::Right).iter().copied().collect();
    let bytes = reply(leaver, 0x1ea5e, Message::Leave { side: Side::Right, chain });
    assert_eq!(net.command(n9, |n, now| n.handle_datagram(now, leaver.addr, &bytes)), Ok(()));
    let after = chain_ids(&net, n9, Side::Right);
    assert_eq!(after[0], 20, "node 9 links to node 20 at once");
    // The ACK was lost; the same LEAVE arrives again.
    assert_eq!(net.command(n9, |n, now| n.handle_datagram(now, leaver.addr, &bytes)), Ok(()));
    assert_eq!(chain_ids(&net, n9, Side::Right), after);
    let acks = net
        .trace()
        .iter()
        .map(|e| e.repr().unwrap())
        .filter(|r| r.header.txid == 0x1ea5e && r.message == Message::Ack)
        .count();
    assert_eq!(acks, 2, "both copies acknowledged");
}

#[test]
fn a_search_page_past_the_end_completes_the_search() {
    let mut n = node_with_neighbour_100();
    // Key 50 is node 100's: the search goes there.
    let request = n.search_id(Instant::ZERO, Id(50)).unwrap();
    let (sent, _, _) = drain(&mut n);
    let search = sent.iter().find(|(_, r)| matches!(r.message, Message::Search { .. })).expect("routed").1.clone();
    let responder = ResourceLocator::new(Id(100), addr(100));
    let page = |p: u8, pages: u8, owners: &[SignedOwner]| Message::SearchReply {
        key: Id(50),
        hops: 1,
        page: p,
        pages,
        owners: owners.iter().copied().collect(),
    };
    let owner = ResourceLocator::new(Id(7), addr(7));
    let key = mmp2p_core::identity::Identity::from_seed([7; 32]);
    let signed = SignedOwner { owner, signature: mmp2p_core::locator_signature::sign_locator(&key, Id(50), &owner) };
    let now = Instant::from_millis(10);
    n.handle_datagram(now, addr(100), &reply(responder, search.header.txid, page(0, 2, &[signed]))).unwrap();
    let (sent, events, _) = drain(&mut n);
    assert!(events.is_empty(), "the owner is reported only once its registration is known");
    // The owner's registration, fetched from the node after its ID.
    let get = sent.iter().find(|(_, r)| matches!(r.message, Message::RegistryGet { id: Id(7), .. })).expect("fetched");
    let record = mmp2p_core::registration::Registration::sign(&key, Id(7), addr(7), 1, 1);
    let answer = Message::RegistryRecord { id: Id(7), record: Some(record) };
    n.handle_datagram(now, addr(100), &reply(responder, get.1.header.txid, answer)).unwrap();
    let (_, events, _) = drain(&mut n);
    assert!(matches!(events.as_slice(), [Event::SearchResult { owner: o, .. }] if *o == owner));
    let ask =
        sent.iter().find(|(_, r)| matches!(r.message, Message::SearchPage { page: 1, .. })).expect("page 1 asked");
    assert_eq!(ask.0, addr(100), "further pages only from the node that answered");
    // Meanwhile the owners shrank to one page: the answer is page 0 of 1.
    let txid = ask.1.header.txid;
    n.handle_datagram(now, addr(100), &reply(responder, txid, page(0, 1, &[]))).unwrap();
    let (_, events, _) = drain(&mut n);
    assert_eq!(events, [Event::SearchComplete { request, key: Id(50), owners: 1 }]);
}
