//! The locator store: the resource locators a node holds for the keys it is responsible for.
//!
//! An owner announces "file `key` is at my address" to the key's successor,
//! which keeps one entry per (key, owner locator) until it expires. An announced
//! entry is served only once the owner's address passed the return-routability
//! check ([`StoredLocator::verified`]); an owner that fails it loses its
//! unverified entries. Replicas, copies held for the node on our left or handed
//! over when responsibility moves, come from a node that already checked them.
//!
//! The table holds at most [`MAX_STORE_ENTRIES`] entries, shared fairly
//! among owners and their networks ([`fair`]): quotas that shrink as
//! holders arrive, checked entries before unchecked ones, and the largest
//! holder evicted first when full. Refreshing never shortens an entry's life. A replica
//! carries the expiry its owner's latest refresh gave the primary: it may bring
//! an older copy up to date, but never changes an entry the owner refreshed
//! with us directly, and never outlives that refresh.

use crate::capacity::{Cap, Capacity, Table};
use crate::config::{MAX_STORE_ENTRIES, STORE_NAME_LEN};
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};
use crate::time::Instant;
use core::fmt;

/// An owner's public key and its signature of a locator (see
/// [`locator_signature`](crate::locator_signature)), checked before it is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerProof {
    /// The owner's public key.
    pub key: PublicKey,
    /// Its signature of "the owner shares the file".
    pub signature: Signature,
}

impl OwnerProof {
    /// No proof yet (all zeros): no searcher accepts it.
    pub const NONE: OwnerProof = OwnerProof { key: PublicKey([0; 32]), signature: Signature([0; 64]) };
}

/// One resource locator held for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLocator {
    /// The file's ID.
    pub key: Id,
    /// The node that has the file, and its address.
    pub owner: ResourceLocator,
    /// When the entry lapses unless refreshed.
    pub expires: Instant,
    /// The file's name, if it was announced and fits [`STORE_NAME_LEN`] bytes; else empty.
    pub name: heapless::String<STORE_NAME_LEN>,
    /// The owner's address passed the return-routability check: the entry may be served.
    pub verified: bool,
    /// A copy held for a node on our left, or handed over to us.
    pub replica: bool,
    /// The store's change number when the owner last announced the entry or
    /// it was verified (see [`LocatorStore::changes`]): what replication
    /// has yet to copy.
    pub changed: u32,
    /// The owner's signature of the locator, served with it.
    pub proof: OwnerProof,
}

/// Where an announced locator comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The owner announced it: it must be verified before it is served.
    Owner,
    /// Another node replicated or handed it over: already verified there.
    Replica,
}

/// What [`LocatorStore::upsert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upserted {
    /// A new entry was stored.
    Inserted,
    /// A new entry was stored in the place of this one (see [`fair`]).
    Displaced {
        /// The key of the entry that gave way.
        key: Id,
        /// Its owner.
        owner: ResourceLocator,
        /// Whether it was verified.
        verified: bool,
    },
    /// The owner refreshed a known entry.
    Refreshed,
    /// A replica changed nothing (the entry is newer, or the owner's own).
    Unchanged,
}

/// Why a new entry was not stored (see [`fair`] for the rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreRefusal {
    /// The table holds [`MAX_STORE_ENTRIES`] entries and nobody's may give way.
    Full,
    /// The owner locator holds its share of the store.
    OwnerQuota,
    /// The owner's network (/64 prefix) holds its share of the store.
    NetworkQuota,
}

impl fmt::Display for StoreRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreRefusal::Full => "the locator store is full",
            StoreRefusal::OwnerQuota => "the owner holds its share of the locator store",
            StoreRefusal::NetworkQuota => "the owner's /64 network holds its share of the locator store",
        })
    }
}

/// What became of an owner's answer for one key (see [`LocatorStore::confirm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// The entry is checked now (or was already, or there is none).
    Kept,
    /// The owner denied an unchecked entry: removed.
    Denied,
    /// The checked slots are full and nobody's may give way: removed.
    NoRoom,
}

impl core::error::Error for StoreRefusal {}

/// Up to `C::MAX` locators ([`MAX_STORE_ENTRIES`] by default), one per (key, owner ID), in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocatorStore<C: Capacity = Cap<MAX_STORE_ENTRIES>> {
    entries: Table<StoredLocator, C>,
    /// Counts the changes replication must copy: owners' announcements
    /// that add or extend an entry, and verifications.
    changes: u32,
}

impl<C: Capacity> LocatorStore<C> {
    /// Stores or refreshes the locator of `key` at `owner`, kept until `expires`.
    ///
    /// An entry is one (key, owner locator): the same owner ID at another
    /// address is another entry, so nobody can take over an honest owner's
    /// entry by claiming its ID. A known entry announced by its owner lives
    /// until the later of both expiries, is no longer a replica, and keeps its
    /// name. A replica of a known entry changes nothing. A new entry keeps
    /// `name` only if it fits [`STORE_NAME_LEN`] bytes and is the name of the
    /// key (its MD5 is the key), and is verified only if it is a replica.
    pub fn upsert(
        &mut self,
        key: Id,
        owner: ResourceLocator,
        name: &str,
        expires: Instant,
        origin: Origin,
    ) -> Result<Upserted, StoreRefusal> {
        if let Some(known) = self.entries.iter_mut().find(|e| e.key == key && e.owner == owner) {
            if origin == Origin::Replica {
                // A copy carries the expiry the owner's latest refresh gave the
                // primary: it may bring a copy up to date, never an entry the
                // owner refreshed with us directly, and never beyond that refresh.
                if !known.replica || known.expires >= expires {
                    return Ok(Upserted::Unchanged);
                }
                known.expires = expires;
                return Ok(Upserted::Refreshed);
            }
            if expires > known.expires || known.replica {
                self.changes = self.changes.wrapping_add(1);
                known.changed = self.changes;
            }
            known.expires = known.expires.max(expires);
            known.replica = false;
            return Ok(Upserted::Refreshed);
        }
        let replica = origin == Origin::Replica;
        self.check_quotas(&owner)?;
        let evicted = self.make_room(&owner, replica)?;
        let name = if Id::from_file_name(name) == key {
            heapless::String::try_from(name).unwrap_or_default()
        } else {
            heapless::String::new()
        };
        if !replica {
            self.changes = self.changes.wrapping_add(1);
        }
        let entry = StoredLocator {
            key,
            owner,
            expires,
            name,
            verified: replica,
            replica,
            changed: self.changes,
            proof: OwnerProof::NONE,
        };
        self.entries.push(entry).map_err(|_| StoreRefusal::Full)?;
        Ok(match evicted {
            Some(gone) => Upserted::Displaced { key: gone.key, owner: gone.owner, verified: gone.verified },
            None => Upserted::Inserted,
        })
    }

    /// Keeps the owner's checked `proof` with the entry of `key` at `owner`.
    pub fn prove(&mut self, key: Id, owner: &ResourceLocator, proof: OwnerProof) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == key && e.owner == *owner) {
            entry.proof = proof;
        }
    }

    /// Applies the answer of `owner` (same ID and address) to the return-routability check.
    ///
    /// Its entries whose key passes `keys` become verified; its unverified
    /// entries whose key does not are removed, and their number returned.
    /// Verified entries (replicas, or checked before) are kept either way.
    pub fn verify(&mut self, owner: &ResourceLocator, keys: impl Fn(Id) -> bool) -> usize {
        let before = self.entries.len();
        let unchecked: Table<Id, C> =
            self.entries.iter().filter(|e| e.owner == *owner && !e.verified).map(|e| e.key).collect();
        for &key in unchecked.iter() {
            self.confirm(owner, key, keys(key));
        }
        before - self.entries.len()
    }

    /// Applies the owner's answer for one key: if `confirmed`, the entry of
    /// `key` at `owner` (same ID and address) becomes verified, if there is
    /// room among the checked entries (see [`fair`]); if not, it is removed
    /// unless already verified. A key with no unchecked entry at `owner`
    /// changes nothing.
    pub fn confirm(&mut self, owner: &ResourceLocator, key: Id, confirmed: bool) -> Confirmation {
        let unchecked = |e: &StoredLocator| e.key == key && e.owner == *owner && !e.verified;
        if !self.entries.iter().any(unchecked) {
            return Confirmation::Kept;
        }
        if !confirmed {
            self.remove_where(unchecked);
            return Confirmation::Denied;
        }
        if !self.make_checked_room(owner) {
            self.remove_where(unchecked);
            return Confirmation::NoRoom;
        }
        let changes = self.changes.wrapping_add(1);
        self.changes = changes;
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == key && e.owner == *owner) {
            entry.verified = true;
            entry.changed = changes;
        }
        Confirmation::Kept
    }

    /// Removes the unverified entries of `owner` (same ID and address), which
    /// failed the check; returns how many.
    pub fn remove_owner_unverified(&mut self, owner: &ResourceLocator) -> usize {
        self.remove_where(|e| e.owner == *owner && !e.verified)
    }

    /// Removes every entry that expires at or before `now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        self.remove_where(|e| e.expires <= now)
    }

    /// The earliest expiry of any entry.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.entries.iter().map(|e| e.expires).min()
    }

    /// The verified entries for `key`: the ones that may be served, in insertion order.
    pub fn owners(&self, key: Id) -> impl Iterator<Item = &StoredLocator> {
        self.entries.iter().filter(move |e| e.key == key && e.verified)
    }

    /// Every entry, verified or not, in insertion order.
    pub fn entries(&self) -> &[StoredLocator] {
        &self.entries
    }

    /// How many entries are stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no entry is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose key lies in the clockwise interval `(from, to]`
    /// (the whole ring when `from == to`), in insertion order.
    pub fn in_range(&self, from: Id, to: Id) -> impl Iterator<Item = &StoredLocator> {
        self.entries.iter().filter(move |e| e.key.in_open_closed(from, to))
    }

    /// The verified primary entries (not copies) whose keys lie outside
    /// `(from, to]`: ours to send on.
    pub fn misplaced(&self, from: Id, to: Id) -> impl Iterator<Item = &StoredLocator> {
        self.entries.iter().filter(move |e| e.verified && !e.replica && !e.key.in_open_closed(from, to))
    }

    /// Makes `owner`'s entry for `key` a copy, if it is stored.
    pub fn demote(&mut self, key: Id, owner: &ResourceLocator) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key && e.owner == *owner) {
            e.replica = true;
        }
    }

    /// Makes the verified entries announced to us (not copies) whose keys
    /// lie outside `(from, to]` copies, and returns the key of the one
    /// farthest counter-clockwise from `from`: they are the nodes' on our
    /// left now, handed over to them, and ours only to keep as backups.
    pub fn demote_outside(&mut self, from: Id, to: Id) -> Option<Id> {
        let mut farthest: Option<Id> = None;
        for e in self.entries.iter_mut().filter(|e| e.verified && !e.replica && !e.key.in_open_closed(from, to)) {
            e.replica = true;
            if farthest.is_none_or(|f| e.key.distance_to(from) > f.distance_to(from)) {
                farthest = Some(e.key);
            }
        }
        farthest
    }

    /// Takes over the verified copies with keys in `(from, to]`, for which
    /// this node has become responsible: each becomes a primary entry
    /// (handed on by [`demote_outside`](LocatorStore::demote_outside) if the
    /// range moves again) and counts as changed, so that replication copies
    /// it to this node's successors. Returns how many.
    pub fn adopt_range(&mut self, from: Id, to: Id) -> usize {
        let mut adopted = 0;
        for e in self.entries.iter_mut().filter(|e| e.verified && e.replica && e.key.in_open_closed(from, to)) {
            self.changes = self.changes.wrapping_add(1);
            e.changed = self.changes;
            e.replica = false;
            adopted += 1;
        }
        adopted
    }

    /// The number of the latest change replication must copy; an entry
    /// whose [`changed`](StoredLocator::changed) is later than a number seen
    /// before changed since.
    pub fn changes(&self) -> u32 {
        self.changes
    }

    /// The keys of the unverified entries of `owner` (same ID and address):
    /// what to ask it to confirm.
    pub fn unverified_keys(&self, owner: &ResourceLocator) -> impl Iterator<Item = Id> + '_ {
        let owner = *owner;
        self.entries.iter().filter(move |e| e.owner == owner && !e.verified).map(|e| e.key)
    }

    /// Removes the entries matching `doomed`, keeping the others' order; returns how many.
    fn remove_where(&mut self, doomed: impl Fn(&StoredLocator) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !doomed(e));
        before - self.entries.len()
    }
}

pub mod fair;
#[cfg(test)]
mod tests;
