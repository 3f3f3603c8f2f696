//! Who gets room in the locator store: quotas that scale with what is
//! stored, checked entries before unchecked ones, and eviction of the
//! largest holder when full.
//!
//! A *holder* is an owner's network, the /64 prefix of its address (one
//! host, or one attacker's many addresses), and within it each owner
//! locator. Each may keep its fair share of the store: the capacity divided
//! by the number of holders of its kind stored (its own counted), never
//! less than [`MIN_SHARE`] and, for an owner, never more than
//! [`MAX_ENTRIES_PER_OWNER`]. So a lone owner may use much of an empty
//! store, and every newcomer shrinks the share of those already there.
//!
//! Checked (verified) entries — copies, or owners that answered the
//! return-routability check — never give way to unchecked ones, and take at
//! most the capacity − [`unverified_reserve`] slots, so an
//! unchecked newcomer always finds room. When the store is full, a newcomer
//! displaces the oldest unchecked entry of the network holding the most
//! unchecked entries; an entry being checked when the checked slots are
//! full displaces the oldest checked entry of the network holding the most
//! checked entries, if that network holds more than its own plus one.

use super::{LocatorStore, StoreRefusal, StoredLocator};
use crate::capacity::{Capacity, Table};
use crate::config::MAX_ENTRIES_PER_OWNER;
use crate::id::ResourceLocator;

/// Entries every holder may keep, however many holders there are.
pub const MIN_SHARE: usize = 8;
/// Slots of a store of `capacity` that only unchecked entries may use, so
/// that a newcomer is always heard: an eighth, and at least one (none of none).
pub const fn unverified_reserve(capacity: usize) -> usize {
    if capacity >= 8 {
        capacity / 8
    } else if capacity > 0 {
        1
    } else {
        0
    }
}

/// The network (/64 prefix) of an owner's address.
fn network(owner: &ResourceLocator) -> u64 {
    (u128::from(*owner.addr.ip()) >> 64) as u64
}

/// `capacity` shared among `holders`, within [`MIN_SHARE`]..=`cap`.
fn share(capacity: usize, holders: usize, cap: usize) -> usize {
    (capacity / holders.max(1)).clamp(MIN_SHARE, cap.max(MIN_SHARE))
}

/// The number of distinct values in `values` (at most `C::MAX` of them),
/// and the most common one with its count.
fn census<C: Capacity, T: Ord + Copy>(values: impl Iterator<Item = T>) -> (usize, Option<(T, usize)>) {
    // Cannot overflow: the store holds at most C::MAX entries.
    let mut sorted: Table<T, C> = values.collect();
    sorted.sort_unstable();
    let (mut distinct, mut largest) = (0, None::<(T, usize)>);
    for run in sorted.chunk_by(|a, b| a == b) {
        distinct += 1;
        if largest.is_none_or(|(_, n)| run.len() > n) {
            largest = Some((run[0], run.len()));
        }
    }
    (distinct, largest)
}

impl<C: Capacity> LocatorStore<C> {
    /// Checks `owner`'s quotas for one more entry: its network's share and
    /// its own (see the module documentation).
    pub(super) fn check_quotas(&self, owner: &ResourceLocator) -> Result<(), StoreRefusal> {
        // A share is never below MIN_SHARE: below it, no census is needed.
        let net = network(owner);
        let in_network = self.entries.iter().filter(|e| network(&e.owner) == net).count();
        if in_network >= MIN_SHARE {
            let (networks, _) = census::<C, _>(self.entries.iter().map(|e| network(&e.owner)));
            if in_network >= share(C::MAX, networks, C::MAX) {
                return Err(StoreRefusal::NetworkQuota);
            }
        }
        // One share per owner locator: the same ID elsewhere cannot use up this one's.
        let own = self.entries.iter().filter(|e| e.owner == *owner).count();
        if own >= MIN_SHARE {
            let (owners, _) = census::<C, _>(self.entries.iter().map(|e| (e.owner.id, e.owner.addr)));
            if own >= share(C::MAX, owners, MAX_ENTRIES_PER_OWNER) {
                return Err(StoreRefusal::OwnerQuota);
            }
        }
        Ok(())
    }

    /// Makes room for one more entry of `owner`, checked if `verified` (a
    /// copy); returns the entry evicted, if any. Only a checked newcomer can
    /// find no room (`Full`): the reserve keeps room for unchecked ones.
    pub(super) fn make_room(
        &mut self,
        owner: &ResourceLocator,
        verified: bool,
    ) -> Result<Option<StoredLocator>, StoreRefusal> {
        if verified && self.checked_full() {
            return self.evict_largest(true, Some(network(owner))).map(Some).ok_or(StoreRefusal::Full);
        }
        if !self.entries.is_full() {
            return Ok(None);
        }
        self.evict_largest(false, None).map(Some).ok_or(StoreRefusal::Full)
    }

    /// Makes room among the checked entries for an entry of `owner` about
    /// to be checked (the entry evicted, if any, is a checked one, so not
    /// that one); false if there is none for it.
    pub(super) fn make_checked_room(&mut self, owner: &ResourceLocator) -> bool {
        !self.checked_full() || self.evict_largest(true, Some(network(owner))).is_some()
    }

    /// True if checked entries take every slot they may.
    fn checked_full(&self) -> bool {
        self.entries.iter().filter(|e| e.verified).count() >= C::MAX - unverified_reserve(C::MAX)
    }

    /// Removes the oldest entry, checked or not as `verified` says, of the
    /// network holding the most such entries — if `against` is given, only
    /// if that network holds more than `against` holds plus one.
    fn evict_largest(&mut self, verified: bool, against: Option<u64>) -> Option<StoredLocator> {
        let of_kind = |e: &StoredLocator| e.verified == verified;
        let (_, largest) = census::<C, _>(self.entries.iter().filter(|e| of_kind(e)).map(|e| network(&e.owner)));
        let (net, count) = largest?;
        if let Some(against) = against {
            let theirs = self.entries.iter().filter(|e| of_kind(e) && network(&e.owner) == against).count();
            if count <= theirs + 1 {
                return None;
            }
        }
        let index = self.entries.iter().position(|e| of_kind(e) && network(&e.owner) == net)?;
        Some(self.entries.remove(index))
    }
}
