//! Registrations fetched from other nodes: which key (and address) an ID
//! is registered to, or that it is not registered, as its registrar said.
//!
//! A node checks the owners of the locators it keeps and of the search
//! results it gets against their registered keys. The records of IDs it is
//! not responsible for are fetched (REGISTRY_GET) and kept here for
//! [`KNOWN_KEY_LIFETIME`] (an answer that the ID is not registered, only
//! [`UNREGISTERED_LIFETIME`]: while a ring forms, a record may not have
//! reached the node after its ID yet), at most [`MAX_KNOWN_KEYS`]; when
//! full, the oldest answer gives way.

use crate::capacity::{Cap, Capacity, Table};
use crate::id::Id;
use crate::identity::PublicKey;
use crate::time::Instant;
use core::net::SocketAddrV6;
use core::time::Duration;

/// How many fetched registrations a node keeps.
pub const MAX_KNOWN_KEYS: usize = 64;
/// How long a fetched answer is trusted: 10 minutes (a takeover moves an
/// ID to a new address; entries stored meanwhile expire in their lifetime).
pub const KNOWN_KEY_LIFETIME: Duration = Duration::from_secs(600);
/// How long an answer that an ID is not registered is trusted: 5 seconds.
pub const UNREGISTERED_LIFETIME: Duration = Duration::from_secs(5);

/// What the registrar of an ID said of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// The ID is registered to `key`, owned by the node at `addr`.
    Registered {
        /// The registered key.
        key: PublicKey,
        /// The owner's registered address.
        addr: SocketAddrV6,
    },
    /// The registrar holds no record for the ID.
    Unregistered,
}

impl Known {
    /// True if a locator of `addr`, signed by `key`, is the registered owner's.
    pub fn vouches(&self, key: &PublicKey, addr: &SocketAddrV6) -> bool {
        matches!(self, Known::Registered { key: k, addr: a } if k == key && a == addr)
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    id: Id,
    known: Known,
    learned: Instant,
}

/// Up to `C::MAX` fetched answers ([`MAX_KNOWN_KEYS`] by default), one per ID.
#[derive(Clone, Debug, Default)]
pub struct KnownKeys<C: Capacity = Cap<MAX_KNOWN_KEYS>> {
    entries: Table<Entry, C>,
}

impl<C: Capacity> KnownKeys<C> {
    /// What is known of `id`, unless the answer is older than [`KNOWN_KEY_LIFETIME`].
    pub fn get(&self, id: Id, now: Instant) -> Option<Known> {
        let fresh = |e: &&Entry| {
            let lifetime = match e.known {
                Known::Registered { .. } => KNOWN_KEY_LIFETIME,
                Known::Unregistered => UNREGISTERED_LIFETIME,
            };
            now.saturating_duration_since(e.learned) < lifetime
        };
        self.entries.iter().filter(fresh).find(|e| e.id == id).map(|e| e.known)
    }

    /// Keeps the registrar's answer for `id`, learned at `now`.
    pub fn learn(&mut self, id: Id, known: Known, now: Instant) {
        self.entries.retain(|e| e.id != id);
        if self.entries.is_full() {
            if let Some(oldest) = (0..self.entries.len()).min_by_key(|&i| self.entries[i].learned) {
                self.entries.swap_remove(oldest);
            }
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.entries.push(Entry { id, known, learned: now });
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn addr(port: u16) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0)
    }

    #[test]
    fn answers_lapse_and_the_oldest_gives_way() {
        let mut keys: KnownKeys = KnownKeys::default();
        let key = PublicKey([7; 32]);
        keys.learn(Id(1), Known::Registered { key, addr: addr(1) }, Instant::ZERO);
        assert!(keys.get(Id(1), Instant::ZERO).is_some_and(|k| k.vouches(&key, &addr(1))));
        assert!(!keys.get(Id(1), Instant::ZERO).is_some_and(|k| k.vouches(&key, &addr(2))));
        assert_eq!(keys.get(Id(1), Instant::ZERO + KNOWN_KEY_LIFETIME), None);
        for i in 2..=MAX_KNOWN_KEYS as u128 + 1 {
            keys.learn(Id(i), Known::Unregistered, Instant::ZERO + Duration::from_secs(i as u64));
        }
        assert_eq!(keys.len(), MAX_KNOWN_KEYS);
        assert_eq!(keys.get(Id(1), Instant::ZERO), None, "the oldest gave way");
        assert_eq!(keys.get(Id(2), Instant::ZERO + Duration::from_secs(2)), Some(Known::Unregistered));
    }
}
