//! The resource-locator DHT on whole overlays: publish and search, expiry,
//! store bounds, and batch routing.

mod common;

use common::{pick, share_from_pool};

use mmp2p_core::locator_signature::sign_locator;
use mmp2p_core::rng::Rng;
use mmp2p_core::wire::{FileEntry, Header, Message, Repr, MAX_STORE_BATCH};
use mmp2p_core::{Config, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Network, NetworkConfig, NodeIndex};
use quickcheck::{QuickCheck, TestResult};
use std::collections::HashSet;
use std::time::Duration;

const SEARCH_LIMIT: Duration = Duration::from_secs(60);

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 50, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

#[test]
fn publish_and_search() {
    let mut overlay = overlay(1000, 400);
    let mut rng = Rng::new(401);
    // One refresh of one owner with 100 files, while nobody else publishes.
    let members: Vec<NodeIndex> = overlay.members().collect();
    let publisher = members[7];
    let names: Vec<String> = (0..100).map(|i| format!("album-{i:03}.flac")).collect();
    let before = overlay.store_datagrams();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    overlay.share(publisher, &names).expect("shared");
    overlay.network.run_for(Duration::from_secs(5));
    let per_refresh = overlay.store_datagrams() - before;
    // What one routed message per file would take: the hops of a lookup of
    // each key and of its mirror (see `Id::mirror`).
    let report_hops: u64 = names
        .iter()
        .flat_map(|name| [Id::from_file_name(name), Id::from_file_name(name).mirror()])
        .map(|key| {
            overlay.network.command(publisher, |n, now| n.lookup(now, key)).expect("lookup starts");
            overlay.network.run_for(Duration::from_secs(2));
            overlay
                .network
                .take_events()
                .iter()
                .find_map(|e| match e.event {
                    mmp2p_core::Event::LookupSucceeded { key: k, hops, .. } if k == key => Some(u64::from(hops)),
                    _ => None,
                })
                .unwrap_or(0)
        })
        .sum();
    println!(
        "publish_and_search: one refresh of 100 files in a 1000-node overlay takes {per_refresh} STORE datagrams \
         (one routed message per file and mirror would take {report_hops})"
    );
    assert!(per_refresh <= report_hops, "batching never costs more than a message per file");
    let owners = pick(&overlay, &mut rng, 100);
    let pool: Vec<String> = (0..600).map(|i| format!("track-{i:04}.mp3")).collect();
    let truth = share_from_pool(&mut overlay, &owners, &pool, 10, &mut rng);
    assert!(truth.values().any(|o| o.len() > 1), "some names have several owners");
    // Let the STOREs and their return-routability checks finish.
    overlay.network.run_for(Duration::from_secs(20));
    let members: Vec<NodeIndex> = overlay.members().collect();
    let mut hops = Vec::new();
    for (name, owners) in &truth {
        let origin = members[rng.below(members.len() as u64) as usize];
        let found = overlay.search(origin, Id::from_file_name(name), SEARCH_LIMIT);
        assert!(found.complete, "search for {name} completed");
        assert_eq!(&found.owners, owners, "owners of {name}");
        hops.extend(found.hops);
    }
    hops.sort_unstable();
    let mean = hops.iter().map(|&h| f64::from(h)).sum::<f64>() / hops.len() as f64;
    println!(
        "publish_and_search: {} names of 100 owners x 10 files, all owners found; hops per search mean {mean:.2}, \
         median {}, p99 {}",
        truth.len(),
        hops[hops.len() / 2],
        hops[hops.len() * 99 / 100]
    );

    for name in &names {
        let found = overlay.search(members[3], Id::from_file_name(name), SEARCH_LIMIT);
        assert!(found.owners.contains(&overlay.network.locator(publisher)), "{name}");
    }
}

#[test]
fn expiry() {
    let mut overlay = overlay(100, 410);
    let config = Config::default();
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (gone, stays, asker) = (members[5], members[6], members[7]);
    overlay.share(gone, &["ephemeral.txt"]).expect("shared");
    overlay.share(stays, &["durable.txt"]).expect("shared");
    overlay.network.run_for(Duration::from_secs(10));
    let gone_loc = overlay.network.locator(gone);
    overlay.network.crash(gone);
    overlay.refresh_ring();
    // Before the expiry the crashed owner's locator is still answered ...
    overlay.network.run_for(config.store_lifetime / 2);
    let found = overlay.search(asker, Id::from_file_name("ephemeral.txt"), SEARCH_LIMIT);
    assert!(found.owners.contains(&gone_loc), "still answered before the expiry");
    // ... and gone after it, removed by the timer.
    overlay.network.run_for(config.store_lifetime);
    let holder_entries: usize = overlay
        .network
        .nodes()
        .filter(|(i, _)| overlay.network.is_up(*i))
        .map(|(_, n)| n.store().entries().iter().filter(|e| e.owner == gone_loc).count())
        .sum();
    assert_eq!(holder_entries, 0, "expired entries are removed, not only hidden");
    let found = overlay.search(asker, Id::from_file_name("ephemeral.txt"), SEARCH_LIMIT);
    assert!(found.complete && found.owners.is_empty(), "gone after the expiry");
    // A live owner's locator never lapses across 10 refresh periods.
    let stays_loc = overlay.network.locator(stays);
    for _ in 0..10 {
        overlay.network.run_for(config.store_interval);
        let found = overlay.search(asker, Id::from_file_name("durable.txt"), SEARCH_LIMIT);
        assert!(found.owners.contains(&stays_loc), "a live owner never lapses");
    }
}

#[test]
fn store_bounds() {
    let mut overlay = overlay(200, 420);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (honest, hostile, asker) = (members[10], members[11], members[12]);
    overlay.share(honest, &["honest.txt"]).expect("shared");
    overlay.network.run_for(Duration::from_secs(10));
    // The hostile node STOREs 100 000 distinct IDs it does not share, each
    // batch sent straight to the node responsible for its first key.
    let mut rng = Rng::new(421);
    let owner = overlay.network.locator(hostile);
    let identity = overlay.network.node(hostile).identity().clone();
    let mut sent = 0;
    while sent < 100_000 {
        let mut keys: Vec<Id> =
            (0..MAX_STORE_BATCH).map(|_| Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))).collect();
        keys.sort_unstable();
        let entries = keys
            .iter()
            .map(|&key| FileEntry { key, name: Default::default(), signature: sign_locator(&identity, key, &owner) })
            .collect();
        let repr = Repr {
            header: Header { flags: 0, hop_limit: 255, txid: rng.next_u64(), sender: owner },
            message: Message::Store { owner, key: identity.public_key(), hops: 1, entries },
        };
        let mut bytes = vec![0; repr.buffer_len().min(1232)];
        let Ok(len) = repr.emit(&mut bytes) else { continue };
        bytes.truncate(len);
        let target = overlay.responsible(keys[0]);
        overlay.network.inject(hostile, Network::addr(target), bytes);
        sent += MAX_STORE_BATCH;
        if sent % (MAX_STORE_BATCH * 50) == 0 {
            overlay.network.run_for(Duration::from_millis(500));
        }
    }
    overlay.network.run_for(Duration::from_secs(30));
    let mut refused = 0;
    for (_, node) in overlay.network.nodes() {
        let store = node.store();
        assert!(store.len() <= mmp2p_core::config::MAX_STORE_ENTRIES);
        let hostile_entries = store.entries().iter().filter(|e| e.owner.id == owner.id).count();
        assert!(hostile_entries <= mmp2p_core::config::MAX_ENTRIES_PER_OWNER);
        refused += node.stats().store_refused_owner_cap + node.stats().store_unverified_dropped;
    }
    println!("store_bounds: 100000 hostile IDs; {refused} refused or dropped after the owner denied them");
    assert!(refused > 0);
    let found = overlay.search(asker, Id::from_file_name("honest.txt"), SEARCH_LIMIT);
    assert!(found.owners.contains(&overlay.network.locator(honest)), "others' entries survive");
    let served: usize = overlay
        .network
        .nodes()
        .map(|(_, n)| n.store().entries().iter().filter(|e| e.owner.id == owner.id && e.verified).count())
        .sum();
    assert_eq!(served, 0, "nothing the hostile node does not share is ever served");
}

/// STORE batches deliver every ID to its responsible node, for random rings and ID sets.
fn batch_routing_delivers_every_id(seed: u64, size: u8, files: u16) -> TestResult {
    let size = 3 + usize::from(size) % 40;
    let files = 1 + usize::from(files) % 300;
    let quiet = Config { maintenance: false, ..Config::default() };
    let mut rng = Rng::new(seed);
    let mut net = Network::new(seed, NetworkConfig::default());
    let first = net.add_node(Id(u128::from(rng.next_u64()) << 64), quiet);
    net.command(first, |n, _| n.found_ring());
    for _ in 1..size {
        let node = net.add_node(Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())), quiet);
        net.command(node, |n, now| n.join(now, Network::addr(first))).expect("join starts");
        net.run_until_quiet(net.now() + Duration::from_secs(60));
    }
    let mut overlay = Overlay::from_network(net);
    let owner = overlay.members().nth(rng.below(size as u64) as usize).expect("a member");
    let names: Vec<String> = (0..files).map(|i| format!("{seed}-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if overlay.share(owner, &names).is_err() {
        return TestResult::discard();
    }
    overlay.network.run_until_quiet(overlay.network.now() + Duration::from_secs(120));
    let owner_loc = overlay.network.locator(owner);
    for name in &names {
        let key = Id::from_file_name(name);
        let holder = overlay.responsible(key);
        let store = overlay.network.node(holder).store();
        let kept = store.owners(key).any(|e| e.owner == owner_loc);
        // A node keeps at most MAX_ENTRIES_PER_OWNER of one owner's files.
        let capped = store.entries().iter().filter(|e| e.owner == owner_loc).count()
            == mmp2p_core::config::MAX_ENTRIES_PER_OWNER
            && overlay.network.node(holder).stats().store_refused_owner_cap > 0;
        if !kept && !capped {
            return TestResult::error(format!("{name} not at its responsible node {}", holder.0));
        }
    }
    TestResult::passed()
}

#[test]
fn quickcheck_store_batches_reach_every_responsible_node() {
    QuickCheck::new().tests(40).quickcheck(batch_routing_delivers_every_id as fn(u64, u8, u16) -> TestResult);
}

#[test]
fn replication_survives_crash() {
    let mut overlay = overlay(300, 430);
    let config = Config::default();
    let mut rng = Rng::new(431);
    let owners = pick(&overlay, &mut rng, 30);
    let pool: Vec<String> = (0..300).map(|i| format!("clip-{i:03}.avi")).collect();
    let truth = share_from_pool(&mut overlay, &owners, &pool, 10, &mut rng);
    // Two refresh periods: published, verified and copied to the successors.
    overlay.network.run_for(config.store_interval * 2);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let mut crashed = HashSet::new();
    for &m in &members {
        if rng.below(5) == 0 {
            overlay.network.crash(m);
            crashed.insert(overlay.network.locator(m));
        }
    }
    overlay.refresh_ring();
    let repaired = overlay.settle(Duration::from_secs(40)).expect("the ring repairs");
    let survivors: Vec<NodeIndex> = overlay.members().collect();
    let (mut searched, mut found_all) = (0, 0);
    for (name, owners) in &truth {
        let alive: HashSet<ResourceLocator> = owners.difference(&crashed).copied().collect();
        if alive.is_empty() {
            continue;
        }
        let origin = survivors[rng.below(survivors.len() as u64) as usize];
        let found = overlay.search(origin, Id::from_file_name(name), SEARCH_LIMIT);
        searched += 1;
        found_all += usize::from(alive.is_subset(&found.owners));
    }
    println!(
        "replication_survives_crash: {} of {} crashed, ring repaired in {:.0} s; {found_all}/{searched} searches \
         found every surviving owner, {:.0} s before the next refresh",
        crashed.len(),
        members.len(),
        repaired.as_secs_f64(),
        (config.store_interval - repaired).as_secs_f64()
    );
    assert!(repaired < config.store_interval, "checked before the next refresh");
    assert_eq!(found_all, searched);
}

#[test]
fn handover_on_join() {
    // No refresh during the test: what the joiners serve came by handover.
    let config = Config {
        store_interval: Duration::from_secs(3600),
        store_lifetime: Duration::from_secs(3 * 3600),
        ..Config::default()
    };
    let spec = OverlaySpec { nodes: 200, friends: 50, seed: 440, config, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("the overlay settles");
    let mut rng = Rng::new(441);
    let owners = pick(&overlay, &mut rng, 40);
    let pool: Vec<String> = (0..400).map(|i| format!("doc-{i:03}.odt")).collect();
    let truth = share_from_pool(&mut overlay, &owners, &pool, 5, &mut rng);
    overlay.network.run_for(Duration::from_secs(20));
    // 200 more nodes join.
    let entry = Network::addr(NodeIndex(0));
    for _ in 0..200 {
        let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
        let joiner = overlay.network.add_node(id, config);
        overlay.network.command(joiner, |n, now| n.join(now, entry)).expect("join starts");
        overlay.network.run_for(Duration::from_millis(100));
    }
    overlay.refresh_ring();
    overlay.settle(Duration::from_secs(120)).expect("one ring of 400");
    let members: Vec<NodeIndex> = overlay.members().collect();
    let moved = truth.keys().filter(|name| overlay.responsible(Id::from_file_name(name)).0 >= 200).count();
    for (name, owners) in &truth {
        let origin = members[rng.below(members.len() as u64) as usize];
        let found = overlay.search(origin, Id::from_file_name(name), SEARCH_LIMIT);
        assert_eq!(&found.owners, owners, "owners of {name}");
    }
    println!(
        "handover_on_join: 200 nodes joined a 200-node overlay; {moved} of {} names moved to a joiner; every search \
         found every owner without a refresh",
        truth.len()
    );
    assert!(moved > 0);
}

#[test]
fn friend_file_list() {
    let mut net = common::constant_latency_network(450);
    let nodes = common::ring_of(&mut net, &[0, 100, 200, 300], common::quiet());
    let (sharer, friend, stranger) = (nodes[1], nodes[2], nodes[3]);
    let names: Vec<String> = (0..300).map(|i| format!("holiday-photo-{i:03}.jpg")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    net.command(sharer, |n, now| n.share(now, refs.iter().copied())).expect("shared");
    let (sharer_loc, friend_loc) = (net.locator(sharer), net.locator(friend));
    net.command(sharer, |n, now| n.add_friend(now, friend_loc)).expect("friends");
    net.command(friend, |n, now| n.add_friend(now, sharer_loc)).expect("friends");
    net.command(stranger, |n, now| n.add_friend(now, sharer_loc)).expect("one-sided");
    net.take_events();

    let request = net.command(friend, |n, now| n.list_files(now, sharer_loc.id)).expect("list starts");
    net.run_for(Duration::from_secs(30));
    let events = net.take_events();
    let listed: HashSet<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            mmp2p_core::Event::FileListed { request: r, name, .. } if *r == request => Some(name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(listed, names.iter().cloned().collect::<HashSet<_>>());
    assert!(events
        .iter()
        .any(|e| e.event == mmp2p_core::Event::FileListComplete { request, friend: sharer_loc.id, files: 300 }));
    let pages = net
        .trace()
        .iter()
        .filter(|t| t.from == sharer_loc.addr && t.repr().is_ok_and(|r| r.message.message_type().name() == "FILE_LIST"))
        .count();
    println!("friend_file_list: 300 names in {pages} FILE_LIST datagrams");
    assert!(pages > 1, "paged across datagrams");

    // The sharer does not count the stranger as a friend: refused.
    let request = net.command(stranger, |n, now| n.list_files(now, sharer_loc.id)).expect("list starts");
    net.run_for(Duration::from_secs(120));
    assert!(net
        .take_events()
        .iter()
        .any(|e| e.event == mmp2p_core::Event::FileListFailed { request, friend: sharer_loc.id }));
    assert!(net.node(sharer).stats().dropped(mmp2p_core::DropReason::NotAFriend) > 0);
}

#[test]
fn planted_locators_are_never_served() {
    let mut overlay = overlay(60, 460);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (attacker, victim, asker) = (members[1], members[2], members[3]);
    let key = Id::from_file_name("malware.exe");
    let holder = overlay.responsible(key);
    // The attacker claims, signing with its own key, that the victim (a real
    // node that shares nothing), an unregistered ID at an address where no
    // node listens, and the holder itself own the file.
    let victim_loc = overlay.network.locator(victim);
    let nobody = ResourceLocator::new(Id(0xdead), Network::addr(NodeIndex(9999)));
    let itself = overlay.network.locator(holder);
    let identity = overlay.network.node(attacker).identity().clone();
    // Twice: the holder fetches the owners' registrations the first time.
    for round in 0..2 {
        for owner in [victim_loc, nobody, itself] {
            let signature = sign_locator(&identity, key, &owner);
            let entries =
                [FileEntry { key, name: "malware.exe".try_into().expect("short"), signature }].into_iter().collect();
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 64, txid: round, sender: overlay.network.locator(attacker) },
                message: Message::Store { owner, key: identity.public_key(), hops: 1, entries },
            };
            let mut bytes = vec![0; repr.buffer_len()];
            repr.emit(&mut bytes).expect("fits");
            overlay.network.inject(attacker, Network::addr(holder), bytes);
        }
        overlay.network.run_for(Duration::from_secs(10));
    }
    overlay.network.run_for(Config::default().store_interval * 2);
    let found = overlay.search(asker, key, SEARCH_LIMIT);
    assert!(found.complete && found.owners.is_empty(), "no planted locator is served: {:?}", found.owners);
    assert!(overlay.network.node(holder).store().entries().iter().all(|e| e.key != key), "none is kept");
    let refused = overlay.network.node(holder).stats().dropped(mmp2p_core::DropReason::Unidentified);
    assert!(refused >= 3, "each refused against its registration: {refused}");
}

#[test]
fn the_founders_files_move_to_its_first_joiner() {
    let mut net = common::constant_latency_network(3);
    let founder = net.add_node(Id::KEY_NODE, Config::default());
    net.command(founder, |n, _| n.found_ring());
    let joiner_id = Id(u128::MAX / 2);
    // A name the joiner becomes responsible for: its ID falls in (founder, joiner].
    let name = (0..).map(|i| format!("founder-{i}.txt")).find(|n| Id::from_file_name(n) < joiner_id).expect("found");
    net.command(founder, |n, now| n.share(now, [name.as_str()])).expect("shared");
    let joiner = net.add_node(joiner_id, Config::default());
    net.command(joiner, |n, now| n.join(now, Network::addr(founder))).expect("join starts");
    // Well inside the first STORE period: only a handover can have moved it.
    net.run_for(Duration::from_secs(5));
    let request = net.command(joiner, |n, now| n.search(now, &name)).expect("search starts");
    net.run_for(Duration::from_secs(2));
    let founder_locator = net.locator(founder);
    let found = net.take_events().iter().any(|e| {
        matches!(e.event, mmp2p_core::Event::SearchResult { request: r, owner, .. }
            if r == request && owner == founder_locator)
    });
    assert!(found, "the joiner serves the founder's file at once");
}
