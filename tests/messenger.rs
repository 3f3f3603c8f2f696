//! The messenger on the memory network: friend requests with consent,
//! presence, and end-to-end sealed chat delivered exactly once and in order.

mod common;

use mmp2p_core::{DropReason, Event, Id};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{NetworkConfig, NodeIndex};
use std::collections::BTreeMap;
use std::time::Duration;

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 0, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// Runs until `node` got an event `wanted` picks since event `since`, for at most `limit`.
fn wait_for(overlay: &mut Overlay, node: NodeIndex, since: usize, limit: Duration, wanted: impl Fn(&Event) -> bool) {
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
fn befriend(overlay: &mut Overlay, a: NodeIndex, b: NodeIndex) {
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

#[test]
fn requests_need_consent_and_answers_reach_the_asker() {
    let mut overlay = overlay(12, 1400);
    let m: Vec<NodeIndex> = overlay.members().collect();
    befriend(&mut overlay, m[1], m[2]);
    // A declined request: no contact either side, the asker is told.
    let (asker, asked) = (m[3], m[4]);
    let (asker_id, asked_id) = (overlay.network.locator(asker).id, overlay.network.locator(asked).id);
    let since = overlay.network.events().len();
    overlay.network.command(asker, |n, now| n.request_friend(now, asked_id, "hi")).unwrap();
    wait_for(&mut overlay, asked, since, Duration::from_secs(30), |e| matches!(e, Event::FriendRequest { .. }));
    overlay.network.command(asked, |n, now| n.decline_friend(now, asker_id)).unwrap();
    wait_for(&mut overlay, asker, since, Duration::from_secs(30), |e| matches!(e, Event::FriendDeclined { .. }));
    assert!(overlay.network.node(asker).contacts().is_empty() && overlay.network.node(asked).contacts().is_empty());
    assert!(overlay.network.node(asker).friend_requests().outgoing().is_empty(), "answered: no more sends");
    // A blocked asker is dropped silently and counted.
    overlay.network.command(asked, |n, now| n.block(now, asker_id)).unwrap();
    overlay.network.command(asker, |n, now| n.request_friend(now, asked_id, "again")).unwrap();
    overlay.network.run_for(Duration::from_secs(20));
    assert!(overlay.network.node(asked).friend_requests().incoming().is_empty());
    assert!(overlay.network.node(asked).stats().dropped(DropReason::Blocked) > 0);
    // Unfriending tells the other side.
    let (one, two) = (overlay.network.locator(m[1]).id, m[2]);
    let since = overlay.network.events().len();
    overlay.network.command(two, |n, now| n.unfriend(now, one)).unwrap();
    wait_for(&mut overlay, m[1], since, Duration::from_secs(30), |e| matches!(e, Event::Unfriended { .. }));
    assert!(overlay.network.node(m[1]).contacts().is_empty() && overlay.network.node(two).contacts().is_empty());
}

/// 10 000 messages between 100 pairs of friends under 20 % loss, 5 %
/// duplication and reordering: each read once, in order; every receipt back.
#[test]
fn chat_exactly_once() {
    let mut overlay = overlay(200, 1410);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let pairs: Vec<(NodeIndex, NodeIndex)> = (0..100).map(|i| (m[i], m[i + 100])).collect();
    for &(a, b) in &pairs {
        befriend(&mut overlay, a, b);
    }
    let faults = NetworkConfig { loss: 0.2, duplicate: 0.05, reorder: 0.1, ..NetworkConfig::default() };
    overlay.network.set_config(faults);
    // 50 messages each way per pair, some longer than a datagram.
    let mut backlog: BTreeMap<NodeIndex, Vec<(Id, Vec<u8>)>> = BTreeMap::new();
    for &(a, b) in &pairs {
        for (from, to) in [(a, b), (b, a)] {
            let to_id = overlay.network.locator(to).id;
            let texts = (0..50).map(|i| {
                let len = if i % 10 == 9 { 2500 } else { 20 };
                let mut text = format!("{from:?}->{to:?} #{i:03} ").into_bytes();
                text.resize(len, b'.');
                (to_id, text)
            });
            backlog.entry(from).or_default().extend(texts);
        }
    }
    let sent: Vec<(NodeIndex, Id, Vec<u8>)> =
        backlog.iter().flat_map(|(&n, texts)| texts.iter().map(move |(to, t)| (n, *to, t.clone()))).collect();
    let mut seqs = BTreeMap::new();
    let events_from = overlay.network.events().len();
    let reads_from = overlay.network.chats().len();
    let deadline = overlay.network.now() + Duration::from_secs(3600);
    while backlog.values().any(|b| !b.is_empty()) && overlay.network.now() < deadline {
        for (&node, texts) in backlog.iter_mut() {
            while let Some((to, text)) = texts.first() {
                match overlay.network.command(node, |n, now| n.say(now, *to, text)) {
                    Ok(seq) => {
                        seqs.insert((node, seq), text.clone());
                        texts.remove(0);
                    }
                    Err(_) => break,
                }
            }
        }
        overlay.network.run_for(Duration::from_millis(200));
    }
    overlay.network.set_config(NetworkConfig::default());
    overlay.network.run_for(Duration::from_secs(300));
    assert_eq!(seqs.len(), 10_000);
    // Every message read once, in order, per conversation direction.
    let mut read: BTreeMap<(NodeIndex, Id), Vec<Vec<u8>>> = BTreeMap::new();
    for chat in &overlay.network.chats()[reads_from..] {
        read.entry((chat.node, chat.from)).or_default().push(chat.text.clone());
    }
    let by_id: BTreeMap<Id, NodeIndex> = m.iter().map(|&n| (overlay.network.locator(n).id, n)).collect();
    let mut expected: BTreeMap<(NodeIndex, Id), Vec<Vec<u8>>> = BTreeMap::new();
    for (from, to, text) in &sent {
        let to_node = by_id[to];
        expected.entry((to_node, overlay.network.locator(*from).id)).or_default().push(text.clone());
    }
    assert_eq!(read.len(), expected.len());
    for (conversation, texts) in &expected {
        assert_eq!(read.get(conversation), Some(texts), "{conversation:?}: lost, repeated or out of order");
    }
    // Every receipt arrived, once.
    let receipts =
        overlay.network.events()[events_from..].iter().filter(|e| matches!(e.event, Event::Delivered { .. }));
    assert_eq!(receipts.count(), 10_000);
    assert!(overlay.network.nodes().all(|(_, n)| n.undelivered().next().is_none()));
}
