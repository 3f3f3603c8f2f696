//! Tests of the locator store: bounds, refreshes, replicas, verification, expiry.

use super::*;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use std::vec::Vec;

fn loc(id: u128, host: u16) -> ResourceLocator {
    ResourceLocator::new(Id(id), SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host), 4000, 0, 0))
}

fn at(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

fn keys(store: &LocatorStore) -> Vec<u128> {
    store.entries().iter().map(|e| e.key.0).collect()
}

#[test]
fn owner_refresh_extends_but_never_shortens() {
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
fn owner_cap_and_full_table_refuse_new_entries() {
    let mut store = LocatorStore::default();
    let hog = loc(1, 1);
    for k in 0..MAX_ENTRIES_PER_OWNER as u128 {
        assert_eq!(store.upsert(Id(k), hog, "", at(10), Origin::Owner), Ok(Upserted::Inserted));
    }
    assert_eq!(store.upsert(Id(1000), hog, "", at(10), Origin::Owner), Err(StoreRefusal::OwnerCapReached));
    // The cap counts replicas too, per owner locator: the same ID at
    // another address has a share of its own and cannot use up this one's.
    assert_eq!(store.upsert(Id(1000), hog, "", at(10), Origin::Replica), Err(StoreRefusal::OwnerCapReached));
    assert_eq!(store.upsert(Id(1000), loc(1, 2), "", at(10), Origin::Owner), Ok(Upserted::Inserted));
    // Refreshing a known entry is not refused.
    assert_eq!(store.upsert(Id(0), hog, "", at(20), Origin::Owner), Ok(Upserted::Refreshed));
    let mut owner = 2;
    while store.len() < MAX_STORE_ENTRIES {
        store.upsert(Id(store.len() as u128), loc(owner, 2), "", at(10), Origin::Owner).unwrap();
        owner += 1;
    }
    assert_eq!(store.upsert(Id(5000), loc(9999, 3), "", at(10), Origin::Owner), Err(StoreRefusal::Full));
    assert_eq!(store.upsert(Id(5000), hog, "", at(10), Origin::Owner), Err(StoreRefusal::OwnerCapReached));
    assert_eq!(store.len(), MAX_STORE_ENTRIES);
}

#[test]
fn a_hostile_owner_cannot_crowd_out_others() {
    let mut store = LocatorStore::default();
    let honest: Vec<ResourceLocator> = (100..110).map(|i| loc(i, i as u16)).collect();
    for (i, owner) in honest.iter().enumerate() {
        for k in 0..3 {
            store.upsert(Id::from_md5(&[i as u8, k]), *owner, "f", at(60), Origin::Owner).unwrap();
        }
        store.verify(owner, |_| true);
    }
    let before: Vec<StoredLocator> = store.entries().to_vec();
    let hostile = loc(666, 666);
    let mut refused = 0;
    for k in 0..100_000u128 {
        if store.upsert(Id(k << 64 | k), hostile, "spam", at(60), Origin::Owner).is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 100_000 - MAX_ENTRIES_PER_OWNER);
    assert_eq!(store.entries().iter().filter(|e| e.owner.id == hostile.id).count(), MAX_ENTRIES_PER_OWNER);
    assert_eq!(store.entries().iter().filter(|e| e.owner.id != hostile.id).cloned().collect::<Vec<_>>(), before);
    assert_eq!(store.len(), before.len() + MAX_ENTRIES_PER_OWNER);
}

#[test]
fn expire_removes_only_due_entries() {
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
    let alice = loc(1, 1);
    for k in 1..=3 {
        store.upsert(Id(k), alice, "", at(100), Origin::Owner).unwrap();
    }
    store.upsert(Id(4), alice, "", at(100), Origin::Replica).unwrap();
    assert!(store.confirm(&alice, Id(1), true));
    assert!(!store.confirm(&alice, Id(2), false), "a denied key is dropped");
    assert!(store.confirm(&alice, Id(4), false), "a verified entry is kept");
    assert!(store.confirm(&alice, Id(9), false), "no entry, nothing dropped");
    assert!(store.confirm(&loc(1, 7), Id(3), false), "another address cannot deny it");
    assert!(store.confirm(&loc(1, 7), Id(3), true), "nor confirm it");
    assert_eq!(keys(&store), [1, 3, 4]);
    assert_eq!(store.unverified_keys(&alice).collect::<Vec<_>>(), [Id(3)]);
    assert_eq!(store.owners(Id(1)).count(), 1);
}

#[test]
fn owners_lists_verified_entries_in_insertion_order() {
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
    let mut store = LocatorStore::default();
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
