//! The protocol driven through the harness: joins, routing, the DHT, friends and LEAVE.

use super::{quiet, Harness, Step};
use crate::config::Config;
use crate::event::{CommandError, Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::rng::Rng;
use crate::wire::Side;
use core::time::Duration;
use std::collections::BTreeSet;

/// `count` distinct random non-zero IDs.
fn random_ids(rng: &mut Rng, count: usize) -> Vec<u128> {
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    while ids.len() < count {
        let id = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        if id != 0 && seen.insert(id) {
            ids.push(id);
        }
    }
    ids
}

/// A random key.
fn random_key(rng: &mut Rng) -> Id {
    Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
}

/// A ring of the key node and `others` random IDs, each joining through a random member.
fn random_ring(seed: u64, others: usize, config: Config) -> (Harness, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut ids = vec![0];
    ids.extend(random_ids(&mut rng, others));
    let mut h = Harness::new(seed);
    let members = h.ring(&ids, config, |members| members[rng.below(members.len() as u64) as usize]);
    (h, members)
}

/// Looks up `key` from `origin` in a quiet harness; returns the responsible node's ID and the hops.
fn lookup(h: &mut Harness, origin: usize, key: Id) -> (Id, u8) {
    lookup_within(h, origin, key, Duration::ZERO)
}

/// Looks up `key` from `origin`, running for `time` (or until quiet if zero).
fn lookup_within(h: &mut Harness, origin: usize, key: Id, time: Duration) -> (Id, u8) {
    h.take_events(origin);
    let request = h.command(origin, |node, now| node.lookup(now, key)).expect("lookup starts");
    if time.is_zero() {
        h.settle();
    } else {
        h.run_for(time);
    }
    let events = h.take_events(origin);
    let found = events.iter().find_map(|e| match *e {
        Event::LookupSucceeded { request: r, key: k, responsible, hops } if r == request && k == key => {
            Some((responsible.id, hops))
        }
        _ => None,
    });
    found.unwrap_or_else(|| panic!("lookup of {key:?} from {:?} succeeded: {events:?}", h.node(origin).id()))
}

/// Searches `name` from `origin`; returns the owners found and the owner count `SearchComplete` reported.
fn search(h: &mut Harness, origin: usize, name: &str) -> (BTreeSet<Id>, u16) {
    h.take_events(origin);
    let request = h.command(origin, |node, now| node.search(now, name)).expect("search starts");
    h.run_for(Duration::from_secs(2));
    let mut owners = BTreeSet::new();
    let mut complete = None;
    for event in h.take_events(origin) {
        match event {
            Event::SearchResult { request: r, owner, .. } if r == request => assert!(owners.insert(owner.id)),
            Event::SearchComplete { request: r, owners, .. } if r == request => complete = Some(owners),
            other => panic!("unexpected event during the search for {name}: {other:?}"),
        }
    }
    (owners, complete.unwrap_or_else(|| panic!("the search for {name} completed")))
}

#[test]
fn two_nodes_join() {
    let mut h = Harness::new(1);
    let key = h.add(0);
    let joiner = h.add(0x42);
    assert!(h.node(key).is_member() && !h.node(key).is_joined(), "the key node founds a ring on its own");
    let request = h.command(joiner, |node, now| node.join(now, Harness::addr(key))).expect("join starts");
    assert!(h.node(joiner).is_joining());
    h.settle();
    let (k, j) = (h.locator(key), h.locator(joiner));
    for (node, other) in [(key, j), (joiner, k)] {
        assert_eq!(h.node(node).neighbours().left(), Some(&other));
        assert_eq!(h.node(node).neighbours().right(), Some(&other));
        assert_eq!(h.node(node).neighbours().chain(Side::Left).len(), 1, "a ring of two has no backups");
    }
    assert!(!h.node(joiner).is_joining());
    assert_eq!(h.events(joiner), [Event::Joined { request, left: k, right: k, hops: 1 }]);
    assert!(h.events(key).contains(&Event::NeighbourChanged { side: Side::Left, neighbour: Some(j) }));
    h.assert_ring(&[key, joiner]);
    // A second join is refused locally.
    let again = h.command(joiner, |node, now| node.join(now, Harness::addr(key)));
    assert_eq!(again, Err(CommandError::AlreadyJoined));
}

#[test]
fn joins_in_any_order_make_a_consistent_ring() {
    for seed in [10, 11, 12] {
        let (h, members) = random_ring(seed, 11, quiet());
        h.assert_ring(&members);
        for &m in &members[1..] {
            let joined = h.events(m).iter().find_map(|e| match *e {
                Event::Joined { left, right, hops, .. } => Some((left.id, right.id, hops)),
                _ => None,
            });
            let (left, right, hops) = joined.expect("every joiner reports Joined");
            assert!(hops >= 1);
            // Its neighbours when it joined were its true neighbours among those already in.
            let before = &members[..members.iter().position(|&x| x == m).expect("a member")];
            let at_join: Vec<usize> = before.iter().copied().chain([m]).collect();
            assert_eq!(right, h.true_chain(&at_join, m, true, 1)[0], "successor of {:?}", h.node(m).id());
            assert_eq!(left, h.true_chain(&at_join, m, false, 1)[0], "predecessor of {:?}", h.node(m).id());
        }
    }
}

#[test]
fn lookups_from_every_node_end_at_the_successor() {
    let (mut h, members) = random_ring(20, 15, quiet());
    let mut rng = Rng::new(21);
    for &origin in &members {
        let node_ids: Vec<Id> = members.iter().map(|&m| h.node(m).id()).collect();
        // Random keys, a member's own ID, and the key just after a member.
        let pick = node_ids[rng.below(node_ids.len() as u64) as usize];
        let keys = [random_key(&mut rng), random_key(&mut rng), random_key(&mut rng), pick, Id(pick.0.wrapping_add(1))];
        for key in keys {
            let (responsible, hops) = lookup(&mut h, origin, key);
            let truth = h.successor(&members, key);
            assert_eq!(responsible, h.node(truth).id(), "lookup of {key:?} from {:?}", h.node(origin).id());
            assert_eq!(hops == 0, truth == origin, "0 hops exactly when the origin is responsible");
        }
    }
    let completed: u64 = members.iter().map(|&m| h.node(m).stats().lookups_completed).sum();
    assert_eq!(completed, 5 * members.len() as u64, "every lookup counted once");
}

#[test]
fn friends_shorten_routes_and_keep_them_right() {
    // The paper's plain greedy routing, so friends are the only shortcuts.
    let config = Config { lookahead: false, ..quiet() };
    let (mut h, members) = random_ring(30, 31, config);
    let mut rng = Rng::new(31);
    let keys: Vec<Id> = (0..4).map(|_| random_key(&mut rng)).collect();
    let all_hops = |h: &mut Harness| -> u32 {
        let mut total = 0;
        for &origin in &members {
            for &key in &keys {
                let (responsible, hops) = lookup(h, origin, key);
                assert_eq!(responsible, h.node(h.successor(&members, key)).id(), "lookup of {key:?}");
                total += u32::from(hops);
            }
        }
        total
    };
    let plain = all_hops(&mut h);
    let mut friendships = Vec::new();
    for &a in &members {
        while friendships.iter().filter(|(x, _)| *x == a).count() < 3 {
            let b = members[rng.below(members.len() as u64) as usize];
            if b != a && !friendships.contains(&(a, b)) {
                h.befriend(a, b);
                friendships.push((a, b));
            }
        }
    }
    h.settle();
    let with_friends = all_hops(&mut h);
    assert!(with_friends < plain, "friends shorten routes: {with_friends} hops against {plain}");
    for (a, b) in friendships {
        assert!(h.unfriend(a, b), "{b} was a friend of {a}");
        assert!(h.node(a).friends().get(h.locator(b).id).is_none());
    }
    assert_eq!(all_hops(&mut h), plain, "without friends the routes are the ring's again");
}

#[test]
fn published_files_are_found_from_another_node() {
    let (mut h, members) = random_ring(40, 9, quiet());
    let (alice, bob, carol) = (members[2], members[5], members[8]);
    h.command(alice, |node, now| node.share(now, ["song.mp3", "film.mkv"])).expect("shared");
    h.command(bob, |node, now| node.share(now, ["song.mp3"])).expect("shared");
    h.run_for(Duration::from_secs(2));
    // The successor of each key keeps its owners.
    let song = Id::from_file_name("song.mp3");
    let holder = h.successor(&members, song);
    let kept: Vec<ResourceLocator> = h.node(holder).store().owners(song).map(|e| e.owner).collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.contains(&h.locator(alice)) && kept.contains(&h.locator(bob)), "{kept:?}");
    let (alice_id, bob_id) = (h.locator(alice).id, h.locator(bob).id);
    for origin in [carol, alice, members[0]] {
        assert_eq!(search(&mut h, origin, "song.mp3"), (BTreeSet::from([alice_id, bob_id]), 2));
        assert_eq!(search(&mut h, origin, "film.mkv"), (BTreeSet::from([alice_id]), 1));
        assert_eq!(search(&mut h, origin, "nobody-shares-this"), (BTreeSet::new(), 0));
    }
}

#[test]
fn search_pages_through_many_owners() {
    let (mut h, members) = random_ring(50, 19, quiet());
    // More owners than one SEARCH_REPLY carries.
    let owners = &members[1..=crate::wire::MAX_OWNERS_PER_REPLY + 3];
    for &owner in owners {
        h.command(owner, |node, now| node.share(now, ["popular.txt"])).expect("shared");
    }
    h.run_for(Duration::from_secs(2));
    let truth: BTreeSet<Id> = owners.iter().map(|&o| h.locator(o).id).collect();
    let (found, count) = search(&mut h, members[0], "popular.txt");
    assert_eq!(found, truth);
    assert_eq!(usize::from(count), truth.len());
}

#[test]
fn a_joiner_takes_over_the_keys_it_is_responsible_for() {
    let (mut h, members) = random_ring(60, 5, quiet());
    let owner = members[3];
    h.command(owner, |node, now| node.share(now, ["handed-over.txt"])).expect("shared");
    h.run_for(Duration::from_secs(2));
    // A node with the key's own ID joins: it is now responsible for the key.
    let key = Id::from_file_name("handed-over.txt");
    let joiner = h.add(key.0);
    h.command(joiner, |node, now| node.join(now, Harness::addr(members[1]))).expect("join starts");
    h.run_for(Duration::from_secs(2));
    let all: Vec<usize> = members.iter().copied().chain([joiner]).collect();
    h.assert_ring(&all);
    assert_eq!(h.successor(&all, key), joiner);
    assert!(h.node(joiner).store().owners(key).any(|e| e.owner == h.locator(owner)), "the joiner got the key");
    assert_eq!(search(&mut h, members[4], "handed-over.txt"), (BTreeSet::from([h.locator(owner).id]), 1));
}

#[test]
fn a_friend_lists_files() {
    let (mut h, members) = random_ring(70, 4, quiet());
    let (sharer, friend, stranger) = (members[1], members[2], members[3]);
    let names: Vec<String> = (0..30).map(|i| format!("holiday-photo-{i:02}.jpg")).collect();
    h.command(sharer, |node, now| node.share(now, names.iter().map(String::as_str))).expect("shared");
    h.befriend(sharer, friend);
    h.befriend(friend, sharer);
    h.run_for(Duration::from_secs(2));
    h.clear_events();
    let sharer_id = h.locator(sharer).id;
    let request = h.command(friend, |node, now| node.list_files(now, sharer_id)).expect("list starts");
    h.run_for(Duration::from_secs(2));
    let mut listed = BTreeSet::new();
    let mut complete = None;
    for event in h.take_events(friend) {
        match event {
            Event::FileListed { request: r, friend: f, name } if r == request && f == sharer_id => {
                assert!(listed.insert(name.as_str().to_string()), "{name} listed once");
            }
            Event::FileListComplete { request: r, files, .. } if r == request => complete = Some(files),
            other => panic!("unexpected event: {other:?}"),
        }
    }
    assert_eq!(listed, names.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(complete, Some(names.len() as u16));
    // Only friends may ask, and only of their friends.
    let asked = h.command(stranger, |node, now| node.list_files(now, sharer_id));
    assert_eq!(asked, Err(CommandError::NotAFriend));
    h.befriend(stranger, sharer);
    let request = h.command(stranger, |node, now| node.list_files(now, sharer_id)).expect("list starts");
    h.run_for(Duration::from_secs(60));
    let failed = Event::FileListFailed { request, friend: sharer_id };
    assert!(h.events(stranger).contains(&failed), "{:?}", h.events(stranger));
    assert!(!h.events(stranger).iter().any(|e| matches!(e, Event::FileListed { .. })));
}

#[test]
fn leave_hands_over_the_chain() {
    let (mut h, mut members) = random_ring(80, 9, quiet());
    let mut rng = Rng::new(81);
    for _ in 0..3 {
        // Never the key node: it is the entry point of the ring.
        let leaver = members[1 + rng.below(members.len() as u64 - 1) as usize];
        let id = h.node(leaver).id();
        h.clear_events();
        let request = h.command(leaver, |node, now| node.leave(now)).expect("leave starts");
        h.settle();
        assert_eq!(h.events(leaver).last(), Some(&Event::Left { request }));
        assert!(!h.node(leaver).is_joined(), "the leaver is alone");
        members.retain(|&m| m != leaver);
        h.assert_ring(&members);
        // Its keys are its successor's now.
        let origin = members[rng.below(members.len() as u64) as usize];
        let (responsible, _) = lookup(&mut h, origin, id);
        assert_eq!(responsible, h.node(h.successor(&members, id)).id());
    }
}

#[test]
fn runs_are_deterministic_and_clean() {
    let run = || {
        let (mut h, members) = random_ring(90, 7, quiet());
        let request: RequestId = h.command(members[3], |node, now| node.lookup(now, Id(12345))).expect("lookup");
        let mut steps = Vec::new();
        while let Some(step) = h.step() {
            assert!(!matches!(step, Step::Delivered { result: Err(_), .. } | Step::Undeliverable { .. }), "{step:?}");
            steps.push(step);
        }
        let nodes: Vec<String> = (0..h.len()).map(|i| format!("{:?}", h.node(i))).collect();
        (request, steps, nodes, h.now())
    };
    assert_eq!(run(), run());
}

#[test]
fn leaves_shrink_a_small_ring_to_one() {
    let mut h = Harness::new(85);
    let mut members = h.ring(&[0, 1 << 126, 2 << 126, 3 << 126], quiet(), |m| m[0]);
    // In rings this small the leaver sits in both chains of those that stay.
    while members.len() > 1 {
        let leaver = *members.last().expect("a member");
        let request = h.command(leaver, |node, now| node.leave(now)).expect("leave starts");
        h.settle();
        assert!(h.events(leaver).contains(&Event::Left { request }));
        members.pop();
        h.assert_ring(&members);
    }
    assert!(!h.node(members[0]).is_joined(), "the key node is alone again");
    assert!(h.node(members[0]).is_member(), "and still answers JOINs");
}

#[test]
fn concurrent_joins_make_a_consistent_ring() {
    let mut rng = Rng::new(95);
    let mut h = Harness::new(95);
    let key = h.add(0);
    let mut members = vec![key];
    for id in random_ids(&mut rng, 11) {
        members.push(h.add(id));
    }
    // Every node asks the key node at the same instant.
    for &m in &members[1..] {
        h.command(m, |node, now| node.join(now, Harness::addr(key))).expect("join starts");
    }
    h.settle();
    for &m in &members[1..] {
        assert!(h.events(m).iter().any(|e| matches!(e, Event::Joined { .. })), "{:?}", h.events(m));
    }
    h.assert_ring(&members);
}

#[test]
fn maintenance_repairs_the_ring_around_a_crash() {
    let (mut h, mut members) = random_ring(100, 9, Config::default());
    h.run_for(Duration::from_secs(60));
    h.assert_ring(&members);
    let crashed = members.remove(4);
    let id = h.node(crashed).id();
    h.crash(crashed);
    h.run_for(Duration::from_secs(90));
    h.assert_ring(&members);
    let neighbour = h.successor(&members, id);
    let gone = h.events(neighbour).iter().any(|e| matches!(e, Event::PeerDown { peer } if peer.id == id));
    assert!(gone, "its successor saw it go: {:?}", h.events(neighbour));
    let (responsible, _) = lookup_within(&mut h, members[0], id, Duration::from_secs(10));
    assert_eq!(responsible, h.node(neighbour).id(), "its keys are its successor's");
}

#[test]
fn a_new_entry_reaches_the_backup_successors_within_a_liveness_period() {
    // Quiet: no periodic refresh or replication, so only replication at once can copy it.
    let config = quiet();
    let (mut h, members) = random_ring(41, 11, config);
    let owner = members[4];
    h.command(owner, |node, now| node.share(now, ["fresh.txt"])).expect("shared");
    let key = Id::from_file_name("fresh.txt");
    let holder = h.successor(&members, key);
    let backups: Vec<usize> = h
        .true_chain(&members, holder, true, config.backups.into())
        .into_iter()
        .map(|id| members.iter().copied().find(|&m| h.locator(m).id == id).expect("a member"))
        .collect();
    let held =
        |h: &Harness, at: usize| h.node(at).store().owners(key).map(|e| (e.owner, e.expires)).collect::<Vec<_>>();
    h.run_for(Duration::from_millis(200));
    let primary = held(&h, holder);
    assert_eq!(primary.len(), 1, "the responsible node keeps the verified entry");
    for &b in &backups {
        assert!(held(&h, b).is_empty(), "copies are batched, not sent entry by entry");
    }
    h.run_for(config.stabilise_interval);
    let (owner, expires) = primary[0];
    for &b in &backups {
        // A copy carries the whole seconds its entry has left, and arrives one latency later.
        let copy = held(&h, b);
        assert_eq!(copy.iter().map(|c| c.0).collect::<Vec<_>>(), [owner], "backup {b} holds the entry");
        let gap = copy[0].1.saturating_duration_since(expires) + expires.saturating_duration_since(copy[0].1);
        assert!(gap <= Duration::from_secs(1), "backup {b}: the copy lives as long as the primary ({gap:?} apart)");
    }
}

#[test]
fn a_handed_over_entry_far_from_its_key_goes_straight_to_its_responsible_node() {
    use crate::wire::{Header, Message, ReplicaEntry, Repr};
    // Quiet: no stabilisation rounds, so only what the handover itself sets off moves the entry.
    let config = quiet();
    let (mut h, members) = random_ring(62, 15, config);
    let key = Id::from_file_name("far.txt");
    // The owner is a member (its registration vouches for its key) and shares the file.
    let owner = h.add_with(key.0 ^ (1 << 127), config);
    let via = h.locator(members[0]).addr;
    h.command(owner, |node, now| node.join(now, via)).expect("join starts");
    h.run_for(Duration::from_secs(5));
    h.command(owner, |node, now| node.share(now, ["far.txt"])).expect("shared");
    let responsible = h.successor(&members, key);
    // The member farthest from the key takes a handover of the entry from
    // its right neighbour, as a node that knew less of the ring would send it.
    let holder = *members.iter().max_by_key(|&&m| h.locator(m).id.ring_distance(key)).expect("members");
    let right = *h.node(holder).neighbours().neighbour(Side::Right).expect("a right neighbour");
    let signature = crate::locator_signature::sign_locator(h.node(owner).identity(), key, &h.locator(owner));
    let entry = ReplicaEntry {
        key,
        owner: h.locator(owner),
        lifetime_secs: 600,
        name: "far.txt".try_into().unwrap(),
        owner_key: h.node(owner).public_key(),
        signature,
    };
    let repr = Repr {
        header: Header { flags: 0, hop_limit: 1, txid: 9, sender: right },
        message: Message::Replicate { entries: [entry].into_iter().collect() },
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut bytes).expect("fits");
    h.command(holder, |node, now| node.handle_datagram(now, right.addr, &bytes)).expect("a handover from the right");
    h.run_for(Duration::from_secs(2));
    // A routed STORE in the owner's name, which the owner confirmed: the
    // responsible node serves it, and no node between keeps a copy.
    let held =
        |h: &Harness, at: usize| h.node(at).store().owners(key).any(|e| e.owner == h.locator(owner) && e.verified);
    assert!(held(&h, responsible), "the responsible node holds the entry");
    // Replication copies to the whole right chain: the backups and one more.
    let backups = h.true_chain(&members, responsible, true, usize::from(config.backups) + 1);
    let holders: Vec<Id> = members.iter().filter(|&&m| held(&h, m)).map(|&m| h.locator(m).id).collect();
    for id in &holders {
        let expected = *id == h.locator(holder).id || *id == h.locator(responsible).id || backups.contains(id);
        assert!(expected, "only the holder, the responsible node and its right chain keep it: {holders:x?}");
    }
}
