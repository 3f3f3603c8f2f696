//! Tests of the locator store: bounds, refreshes, replicas, verification, expiry.

use super::*;
use crate::config::MAX_ENTRIES_PER_OWNER;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use std::vec::Vec;

/// Owner `id` on host `host`, alone in its /64 network.
fn loc(id: u128, host: u16) -> ResourceLocator {
    loc_in(id, host, 1)
}

/// Owner `id` at address `host` of /64 network `network`.
fn loc_in(id: u128, network: u16, host: u16) -> ResourceLocator {
    ResourceLocator::new(Id(id), SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, network, 0, 0, 0, host), 4000, 0, 0))
}

fn at(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

fn keys(store: &LocatorStore) -> Vec<u128> {
    store.entries().iter().map(|e| e.key.0).collect()
}

#[test]
fn owner_refresh_extends_but_never_shortens() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let alice = loc(1, 1);
    assert_eq!(store.upsert(Id(7), alice, "a", at(100), Origin::Owner), Ok(Upserted::Inserted));
    assert_eq!(store.upsert(Id(7), alice, "a", at(200), Origin::Owner), Ok(Upserted::Refreshed));
    assert_eq!(store.entries()[0].expires, at(200));
    assert_eq!(store.upsert(Id(7), alice, "a", at(50), Origin::Owner), Ok(Upserted::Refreshed));
    assert_eq!(store.entries()[0].expires, at(200));
    assert_eq!(store.len(), 1);
}

#[test]
fn a_replica_never_outlives_the_owners_refresh() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let alice = loc(1, 1);
    store.upsert(Id(7), alice, "a", at(100), Origin::Owner).unwrap();
    store.verify(&alice, |_| true);
    assert_eq!(store.upsert(Id(7), alice, "a", at(500), Origin::Replica), Ok(Upserted::Unchanged));
    assert_eq!(store.entries()[0].expires, at(100));
    assert!(!store.entries()[0].replica);
    // A copy, then a newer copy (the owner refreshed the primary): the copy
    // follows the primary's expiry, and an older copy changes nothing.
    store.upsert(Id(8), alice, "b", at(100), Origin::Replica).unwrap();
    assert_eq!(store.upsert(Id(8), alice, "b", at(160), Origin::Replica), Ok(Upserted::Refreshed));
    assert_eq!(store.upsert(Id(8), alice, "b", at(120), Origin::Replica), Ok(Upserted::Unchanged));
    let copy = store.entries().iter().find(|e| e.key == Id(8)).unwrap();
    assert_eq!(copy.expires, at(160));
    assert!(copy.replica && copy.verified, "a replica arrives verified");
    // The owner announcing it to us directly makes it ours.
    assert_eq!(store.upsert(Id(8), alice, "b", at(300), Origin::Owner), Ok(Upserted::Refreshed));
    let own = store.entries().iter().find(|e| e.key == Id(8)).unwrap();
    assert_eq!(own.expires, at(300));
    assert!(!own.replica && own.verified);
}

#[test]
fn an_owner_alone_may_keep_its_cap_and_shares_shrink_as_holders_arrive() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let hog = loc(1, 1);
    for k in 0..MAX_ENTRIES_PER_OWNER as u128 {
        assert_eq!(store.upsert(Id(k), hog, "", at(10), Origin::Owner), Ok(Upserted::Inserted));
    }
    assert_eq!(store.upsert(Id(1000), hog, "", at(10), Origin::Owner), Err(StoreRefusal::OwnerQuota));
    // Copies count too; the same ID at another address has a share of its own.
    assert_eq!(store.upsert(Id(1000), hog, "", at(10), Origin::Replica), Err(StoreRefusal::OwnerQuota));
    assert_eq!(store.upsert(Id(1000), loc(1, 2), "", at(10), Origin::Owner), Ok(Upserted::Inserted));
    // Refreshing a known entry is never refused.
    assert_eq!(store.upsert(Id(0), hog, "", at(20), Origin::Owner), Ok(Upserted::Refreshed));
    // Thirty more networks: each share is now 256 / 32 = 8, and the hog's
    // network, far above it, may add nothing.
    for network in 3..33 {
        store.upsert(Id(5000 + u128::from(network)), loc(network.into(), network), "", at(10), Origin::Owner).unwrap();
    }
    assert_eq!(store.upsert(Id(2000), loc(7, 1), "", at(10), Origin::Owner), Err(StoreRefusal::NetworkQuota));
    assert_eq!(store.upsert(Id(2000), loc(7, 40), "", at(10), Origin::Owner), Ok(Upserted::Inserted));
}

#[test]
fn one_network_with_many_addresses_and_identities_keeps_only_its_share() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let honest: Vec<ResourceLocator> = (100..110).map(|i| loc(i, i as u16)).collect();
    for (i, owner) in honest.iter().enumerate() {
        for k in 0..3 {
            store.upsert(Id::from_md5(&[i as u8, k]), *owner, "f", at(60), Origin::Owner).unwrap();
        }
        store.verify(owner, |_| true);
    }
    let before: Vec<StoredLocator> = store.entries().to_vec();
    // 16 addresses of one /64, 64 identities, every entry checked.
    let hostile = |k: u128| loc_in(666 + k % 64, 666, 1 + (k % 16) as u16);
    for k in 0..20_000u128 {
        let owner = hostile(k);
        if store.upsert(Id(k << 64 | k), owner, "spam", at(60), Origin::Owner).is_ok() {
            store.verify(&owner, |_| true);
        }
    }
    let theirs = store.entries().iter().filter(|e| e.owner.addr.ip().segments()[3] == 666).count();
    assert_eq!(theirs, MAX_STORE_ENTRIES / 11, "a fair share among 11 networks");
    assert_eq!(store.entries().iter().filter(|e| e.owner.id.0 < 666).cloned().collect::<Vec<_>>(), before);
}

#[test]
fn when_full_the_largest_holder_gives_way_and_checked_entries_never_to_unchecked() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    // One network fills the store alone: checked entries up to the reserve,
    // then unchecked ones.
    let hog = |k: u128| loc_in(k % 8, 9, 1 + (k % 8) as u16);
    let checked = MAX_STORE_ENTRIES - fair::unverified_reserve(MAX_STORE_ENTRIES);
    for k in 0..MAX_STORE_ENTRIES as u128 {
        let owner = hog(k);
        store.upsert(Id(k), owner, "", at(60), Origin::Owner).unwrap();
        let expected = if k < checked as u128 { Confirmation::Kept } else { Confirmation::NoRoom };
        assert_eq!(store.confirm(&owner, Id(k), true), expected, "entry {k}");
        if expected == Confirmation::NoRoom {
            store.upsert(Id(k), owner, "", at(60), Origin::Owner).unwrap();
        }
    }
    assert_eq!(store.len(), MAX_STORE_ENTRIES);
    assert_eq!(store.entries().iter().filter(|e| e.verified).count(), checked);
    // A newcomer displaces the hog's oldest unchecked entry, never a checked one.
    let alice = loc(1, 1);
    let Ok(Upserted::Displaced { verified, owner, .. }) = store.upsert(Id(9000), alice, "", at(60), Origin::Owner)
    else {
        panic!("a newcomer finds room");
    };
    assert!(!verified && owner.addr.ip().segments()[3] == 9);
    assert_eq!(store.entries().iter().filter(|e| e.verified).count(), checked);
    // Once alice answers the check, the hog's oldest checked entry gives way.
    let oldest_checked = store.entries().iter().find(|e| e.verified).cloned().unwrap();
    assert_eq!(store.confirm(&alice, Id(9000), true), Confirmation::Kept);
    assert!(store.owners(Id(9000)).any(|e| e.owner == alice));
    assert!(!store.entries().contains(&oldest_checked));
    // The hog cannot take it back: its network is over its share now.
    assert_eq!(store.upsert(Id(9001), hog(0), "", at(60), Origin::Owner), Err(StoreRefusal::NetworkQuota));
}

#[test]
fn expire_removes_only_due_entries() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    assert_eq!(store.next_expiry(), None);
    for (k, secs) in [(1, 30), (2, 10), (3, 20), (4, 10)] {
        store.upsert(Id(k), loc(k, 1), "", at(secs), Origin::Owner).unwrap();
    }
    assert_eq!(store.next_expiry(), Some(at(10)));
    assert_eq!(store.expire(at(10) - Duration::from_micros(1)), 0);
    assert_eq!(store.expire(at(10)), 2);
    assert_eq!(keys(&store), [1, 3]);
    assert_eq!(store.next_expiry(), Some(at(20)));
    assert_eq!(store.expire(at(25)), 1);
    assert_eq!(store.next_expiry(), Some(at(30)));
    assert_eq!(store.expire(Instant::MAX), 1);
    assert!(store.is_empty());
    assert_eq!(store.next_expiry(), None);
}

#[test]
fn expiry_saturates_at_the_end_of_time() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let forever = at(5) + Duration::MAX;
    assert_eq!(forever, Instant::MAX);
    store.upsert(Id(1), loc(1, 1), "", forever, Origin::Owner).unwrap();
    store.upsert(Id(1), loc(1, 1), "", at(7), Origin::Owner).unwrap();
    assert_eq!(store.next_expiry(), Some(Instant::MAX));
    assert_eq!(store.expire(Instant::MAX - Duration::from_micros(1)), 0);
    assert_eq!(store.expire(Instant::MAX), 1);
}

#[test]
fn another_address_is_another_entry_to_verify() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let home = loc(1, 1);
    let claimant = loc(1, 2);
    store.upsert(Id(7), home, "a", at(100), Origin::Owner).unwrap();
    store.verify(&home, |_| true);
    assert_eq!(store.owners(Id(7)).count(), 1);
    // Someone claims the owner's ID from another address: the honest entry stays served.
    assert_eq!(store.upsert(Id(7), claimant, "a", at(80), Origin::Owner), Ok(Upserted::Inserted));
    assert_eq!(store.owners(Id(7)).map(|e| e.owner).collect::<Vec<_>>(), [home]);
    assert_eq!(store.unverified_keys(&claimant).collect::<Vec<_>>(), [Id(7)]);
    assert_eq!(store.unverified_keys(&home).count(), 0);
    assert_eq!(store.remove_owner_unverified(&claimant), 1);
    assert_eq!(store.owners(Id(7)).count(), 1, "the claim failed; the owner is untouched");
}

#[test]
fn verify_keeps_the_confirmed_and_drops_the_unconfirmed() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let alice = loc(1, 1);
    let bob = loc(2, 2);
    for k in 1..=4 {
        store.upsert(Id(k), alice, "", at(100), Origin::Owner).unwrap();
    }
    store.upsert(Id(5), alice, "", at(100), Origin::Replica).unwrap();
    store.upsert(Id(1), bob, "", at(100), Origin::Owner).unwrap();
    let mut unverified: Vec<Id> = store.unverified_keys(&alice).collect();
    unverified.sort();
    assert_eq!(unverified, [Id(1), Id(2), Id(3), Id(4)]);
    assert_eq!(store.owners(Id(1)).count(), 0);
    // Alice confirms 1 and 3 only.
    assert_eq!(store.verify(&alice, |k| k == Id(1) || k == Id(3)), 2);
    assert_eq!(keys(&store), [1, 3, 5, 1]);
    assert_eq!(store.owners(Id(1)).map(|e| e.owner).collect::<Vec<_>>(), [alice]);
    assert!(store.owners(Id(5)).all(|e| e.replica), "the replica stays");
    // Someone else claiming Alice's ID from another address verifies nothing of hers.
    store.upsert(Id(9), alice, "", at(100), Origin::Owner).unwrap();
    assert_eq!(store.verify(&loc(1, 9), |_| true), 0);
    assert_eq!(store.unverified_keys(&alice).collect::<Vec<_>>(), [Id(9)]);
    // Bob's entry is untouched until Bob answers.
    assert_eq!(store.unverified_keys(&bob).collect::<Vec<_>>(), [Id(1)]);
    assert_eq!(store.remove_owner_unverified(&bob), 1);
    assert_eq!(keys(&store), [1, 3, 5, 9]);
}

#[test]
fn confirm_applies_one_answer_at_a_time() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let alice = loc(1, 1);
    for k in 1..=3 {
        store.upsert(Id(k), alice, "", at(100), Origin::Owner).unwrap();
    }
    store.upsert(Id(4), alice, "", at(100), Origin::Replica).unwrap();
    assert_eq!(store.confirm(&alice, Id(1), true), Confirmation::Kept);
    assert_eq!(store.confirm(&alice, Id(2), false), Confirmation::Denied, "a denied key is dropped");
    assert_eq!(store.confirm(&alice, Id(4), false), Confirmation::Kept, "a verified entry is kept");
    assert_eq!(store.confirm(&alice, Id(9), false), Confirmation::Kept, "no entry, nothing dropped");
    assert_eq!(store.confirm(&loc(1, 7), Id(3), false), Confirmation::Kept, "another address cannot deny it");
    assert_eq!(store.confirm(&loc(1, 7), Id(3), true), Confirmation::Kept, "nor confirm it");
    assert_eq!(keys(&store), [1, 3, 4]);
    assert_eq!(store.unverified_keys(&alice).collect::<Vec<_>>(), [Id(3)]);
    assert_eq!(store.owners(Id(1)).count(), 1);
}

#[test]
fn owners_lists_verified_entries_in_insertion_order() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let owners: Vec<ResourceLocator> = (1..=6).map(|i| loc(i, i as u16)).collect();
    for (i, owner) in owners.iter().enumerate() {
        store.upsert(Id(42), *owner, "x", at(100), Origin::Owner).unwrap();
        store.upsert(Id(43), *owner, "y", at(10 + i as u64), Origin::Owner).unwrap();
        if i != 2 {
            store.verify(owner, |_| true);
        }
    }
    assert_eq!(store.remove_owner_unverified(&owners[2]), 2);
    assert_eq!(store.expire(at(11)), 2);
    let got: Vec<ResourceLocator> = store.owners(Id(42)).map(|e| e.owner).collect();
    assert_eq!(got, [owners[0], owners[1], owners[3], owners[4], owners[5]]);
    let got: Vec<ResourceLocator> = store.owners(Id(43)).map(|e| e.owner).collect();
    assert_eq!(got, [owners[3], owners[4], owners[5]]);
    assert_eq!(store.owners(Id(44)).count(), 0);
}

#[test]
fn ranges_wrap_around_the_ring() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let max = u128::MAX;
    for k in [max - 1, max, 0, 1, 2, 3, 1 << 100] {
        store.upsert(Id(k), loc(k, 1), "", at(100), Origin::Owner).unwrap();
    }
    let got: Vec<u128> = store.in_range(Id(max - 1), Id(2)).map(|e| e.key.0).collect();
    assert_eq!(got, [max, 0, 1, 2]);
    assert_eq!(store.in_range(Id(3), Id(3)).count(), store.len(), "a degenerate range is the whole ring");
    assert_eq!(store.in_range(Id(1), Id(1 << 99)).map(|e| e.key.0).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn only_short_true_names_are_kept() {
    let mut store = LocatorStore::<Cap<MAX_STORE_ENTRIES>>::default();
    let fits = "n".repeat(STORE_NAME_LEN);
    let long = "n".repeat(STORE_NAME_LEN + 1);
    let wide = "é".repeat(17);
    let keyed = |name: &str| Id::from_file_name(name);
    store.upsert(keyed(&fits), loc(1, 1), &fits, at(100), Origin::Owner).unwrap();
    store.upsert(keyed(&long), loc(1, 1), &long, at(100), Origin::Owner).unwrap();
    store.upsert(keyed(&wide), loc(1, 1), &wide, at(100), Origin::Replica).unwrap();
    store.upsert(Id(4), loc(1, 1), "not the name of key 4", at(100), Origin::Owner).unwrap();
    assert_eq!(store.entries()[0].name.as_str(), fits);
    assert_eq!(store.entries()[1].name.as_str(), "");
    assert_eq!(store.entries()[2].name.as_str(), "", "34 bytes do not fit");
    assert_eq!(store.entries()[3].name.as_str(), "", "a name that is not the key's is not kept");
}
