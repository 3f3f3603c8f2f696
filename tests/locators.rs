//! Locators that never go missing while the ring changes: entries follow
//! responsibility as predecessors come and go, and reach the backup
//! successors within a liveness period, so searches find every live owner
//! while a ring forms and right after a mass crash — long before any owner
//! refreshes.

mod common;

use common::{pick, share_from_pool};
use mmp2p_core::rng::Rng;
use mmp2p_core::{Config, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Network, NetworkConfig, NodeIndex};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// Long enough for any search to complete.
const SEARCH_LIMIT: Duration = Duration::from_secs(30);

/// Searches every name of `truth` at once, each from a random member, and
/// returns the names whose search missed a live owner, with what it found.
fn searches_missing_owners(
    overlay: &mut Overlay,
    truth: &BTreeMap<String, HashSet<ResourceLocator>>,
    dead: &HashSet<ResourceLocator>,
    rng: &mut Rng,
) -> (usize, Vec<String>) {
    let members: Vec<NodeIndex> = overlay.members().collect();
    let wanted: Vec<(&String, HashSet<ResourceLocator>)> = truth
        .iter()
        .map(|(name, owners)| (name, owners.difference(dead).copied().collect::<HashSet<_>>()))
        .filter(|(_, alive)| !alive.is_empty())
        .collect();
    let queries: Vec<(NodeIndex, Id)> = wanted
        .iter()
        .map(|(name, _)| (members[rng.below(members.len() as u64) as usize], Id::from_file_name(name)))
        .collect();
    let outcomes = overlay.search_many(&queries, SEARCH_LIMIT);
    let missing = wanted
        .iter()
        .zip(&outcomes)
        .filter(|((_, alive), found)| !alive.is_subset(&found.owners))
        .map(|((name, alive), found)| {
            let how =
                if found.complete { format!("answered after {:?} hops", found.hops) } else { "failed".to_owned() };
            format!("{name}: {} of {} live owners, {how}", found.owners.len(), alive.len())
        })
        .collect();
    (wanted.len(), missing)
}

#[test]
fn files_findable_while_ring_forms() {
    let config = Config::default();
    let mut rng = Rng::new(700);
    let mut network = Network::new(701, NetworkConfig::default());
    let key = network.add_node(Id::KEY_NODE, config);
    let entry = Network::addr(key);
    let pool: Vec<String> = (0..150).map(|i| format!("track-{i:03}.ogg")).collect();
    let mut truth: BTreeMap<String, HashSet<ResourceLocator>> = BTreeMap::new();
    // 200 nodes join within one second, each sharing its files as it starts,
    // with a few friends among those who started before it.
    let mut started = vec![key];
    for _ in 0..200 {
        let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
        let node = network.add_node(id, config);
        for _ in 0..8.min(started.len()) {
            let friend = started[rng.below(started.len() as u64) as usize];
            let (a, b) = (network.locator(node), network.locator(friend));
            let _ = network.command(node, |n, now| n.add_friend(now, b));
            let _ = network.command(friend, |n, now| n.add_friend(now, a));
        }
        started.push(node);
        let mut names = HashSet::new();
        while names.len() < 3 {
            names.insert(pool[rng.below(pool.len() as u64) as usize].as_str());
        }
        network.command(node, |n, now| n.share(now, names.iter().copied())).expect("shared");
        network.command(node, |n, now| n.join(now, entry)).expect("join starts");
        for name in names {
            truth.entry(name.to_owned()).or_default().insert(network.locator(node));
        }
        network.run_for(Duration::from_millis(5));
    }
    // Every join completes (some are retried after a lost race); searches
    // start 2 s after the last.
    let limit = network.now() + Duration::from_secs(60);
    while network.nodes().any(|(_, n)| !n.is_joined()) && network.now() < limit {
        network.run_for(Duration::from_millis(10));
    }
    let last_join = network.now();
    assert!(network.nodes().all(|(_, n)| n.is_joined()), "every node joined");
    network.run_for(Duration::from_secs(2));
    let mut overlay = Overlay::from_network(network);
    println!("files_findable_while_ring_forms: the last join completed at {:.2} s", last_join.as_micros() as f64 / 1e6);
    let (searched, missing) = searches_missing_owners(&mut overlay, &truth, &HashSet::new(), &mut rng);
    println!("files_findable_while_ring_forms: {searched} searches 2 s after the last join, {} missed", missing.len());
    assert!(missing.is_empty(), "{} of {searched} searches missed owners: {missing:?}", missing.len());
}

#[test]
fn crash_right_after_publish() {
    // Three copies of each entry (the primary and two backups) all die with
    // probability 0.3³ = 2.7 % when 30 % of the nodes crash at once (with two
    // backups, 12 of these 189 searches find no copy left); six copies (five
    // backups, the most a chain keeps) with 0.07 %.
    let config = Config { backups: 5, ..Config::default() };
    let spec = OverlaySpec { nodes: 1000, friends: 50, seed: 710, config, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("the overlay settles");
    let mut rng = Rng::new(711);
    let published = overlay.now();
    let owners = pick(&overlay, &mut rng, 100);
    let pool: Vec<String> = (0..1000).map(|i| format!("new-{i:04}.mkv")).collect();
    let truth = share_from_pool(&mut overlay, &owners, &pool, 3, &mut rng);
    overlay.network.run_for(Duration::from_secs(5));
    let mut dead = HashSet::new();
    let members: Vec<NodeIndex> = overlay.members().collect();
    for &m in &members {
        if rng.below(10) < 3 {
            overlay.network.crash(m);
            dead.insert(overlay.network.locator(m));
        }
    }
    overlay.refresh_ring();
    // Three liveness periods.
    overlay.network.run_for(config.stabilise_interval * 3);
    let (searched, missing) = searches_missing_owners(&mut overlay, &truth, &dead, &mut rng);
    let elapsed = overlay.now().saturating_duration_since(published);
    println!(
        "crash_right_after_publish: {} of 1000 crashed 5 s after publishing; {searched} searches {:.1} s after \
         publishing, {} missed a live owner",
        dead.len(),
        elapsed.as_secs_f64(),
        missing.len()
    );
    // Owners refresh at the earliest 0.75 store intervals after publishing.
    assert!(elapsed < config.store_interval * 3 / 4, "every search ended before any refresh");
    assert!(missing.is_empty(), "{} of {searched} searches missed live owners: {missing:?}", missing.len());
}
