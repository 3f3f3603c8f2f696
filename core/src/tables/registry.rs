//! The registrations a node keeps: for its own ID, and for the IDs it is
//! or was responsible for (see [`registration`](crate::registration)).
//!
//! A record is offered only after its signature was checked. The first
//! record for an ID stays until it expires ([`REGISTRATION_LIFETIME`] after
//! it was last offered, so that it outlives its owner's offline periods);
//! only a record of the same key with a higher sequence number replaces it
//! (a takeover), and one of another key is refused as a conflict. When the
//! table is full, the record whose ID lies farthest counter-clockwise from
//! the node — the one it is least likely to become responsible for — gives
//! way to a nearer one.

use crate::capacity::{Cap, Capacity, Table};
use crate::config::MAX_REGISTRATIONS;
use crate::id::Id;
use crate::registration::Registration;
use crate::time::Instant;
use core::time::Duration;

/// How long a record is kept after it was last offered: 30 days.
pub const REGISTRATION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A record and when it lapses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    record: Registration,
    expires: Instant,
}

/// What [`Registry::offer`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// The first record for its ID.
    Registered,
    /// A newer record of the same key replaced the one held.
    Replaced,
    /// The same record again: its life was extended.
    Refreshed,
}

/// Why a record was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryRefusal {
    /// The ID is registered to another key (or to this key with a higher
    /// sequence number).
    Conflict,
    /// The table is full of records nearer to this node.
    Full,
}

/// Up to `C::MAX` records ([`MAX_REGISTRATIONS`] by default), one per ID.
#[derive(Clone, Debug, Default)]
pub struct Registry<C: Capacity = Cap<MAX_REGISTRATIONS>> {
    held: Table<Held, C>,
}

impl<C: Capacity> Registry<C> {
    /// The record held for `id`.
    pub fn get(&self, id: Id) -> Option<&Registration> {
        self.held.iter().find(|h| h.record.id == id).map(|h| &h.record)
    }

    /// Keeps `record` (whose signature the caller checked) for a node at
    /// `me`, until [`REGISTRATION_LIFETIME`] after `now`.
    pub fn offer(&mut self, record: Registration, me: Id, now: Instant) -> Result<Offered, RegistryRefusal> {
        let expires = now + REGISTRATION_LIFETIME;
        if let Some(held) = self.held.iter_mut().find(|h| h.record.id == record.id) {
            if record == held.record {
                held.expires = held.expires.max(expires);
                return Ok(Offered::Refreshed);
            }
            if !record.supersedes(&held.record) {
                return Err(RegistryRefusal::Conflict);
            }
            *held = Held { record, expires };
            return Ok(Offered::Replaced);
        }
        if self.held.is_full() {
            let behind = |id: Id| id.distance_to(me);
            let farthest = (0..self.held.len()).max_by_key(|&i| behind(self.held[i].record.id));
            match farthest {
                Some(i) if behind(self.held[i].record.id) > behind(record.id) => {
                    self.held.swap_remove(i);
                }
                _ => return Err(RegistryRefusal::Full),
            }
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.held.push(Held { record, expires });
        Ok(Offered::Registered)
    }

    /// Removes every record whose time has come; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.held.len();
        self.held.retain(|h| h.expires > now);
        before - self.held.len()
    }

    /// Every record held.
    pub fn records(&self) -> impl Iterator<Item = &Registration> {
        self.held.iter().map(|h| &h.record)
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True if no record is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use core::net::{Ipv6Addr, SocketAddrV6};

    fn record(owner: u8, id: u128, seq: u32) -> Registration {
        let addr = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000 + u16::from(owner), 0, 0);
        Registration::sign(&Identity::from_seed([owner; 32]), Id(id), addr, seq, 1)
    }

    #[test]
    fn first_come_first_registered_and_only_the_owner_moves_it() {
        let mut registry: Registry = Registry::default();
        let now = Instant::ZERO;
        assert_eq!(registry.offer(record(1, 5, 1), Id(9), now), Ok(Offered::Registered));
        assert_eq!(registry.offer(record(2, 5, 7), Id(9), now), Err(RegistryRefusal::Conflict));
        assert_eq!(registry.offer(record(1, 5, 1), Id(9), now), Ok(Offered::Refreshed));
        assert_eq!(registry.offer(record(1, 5, 2), Id(9), now), Ok(Offered::Replaced));
        assert_eq!(registry.offer(record(1, 5, 1), Id(9), now), Err(RegistryRefusal::Conflict), "no going back");
        assert_eq!(registry.get(Id(5)).map(|r| r.seq), Some(2));
    }

    #[test]
    fn records_outlive_days_offline_and_then_lapse() {
        let mut registry: Registry = Registry::default();
        registry.offer(record(1, 5, 1), Id(9), Instant::ZERO).unwrap();
        assert_eq!(registry.expire(Instant::ZERO + Duration::from_secs(29 * 24 * 3600)), 0);
        assert_eq!(registry.expire(Instant::ZERO + REGISTRATION_LIFETIME), 1);
        assert!(registry.is_empty());
    }

    #[test]
    fn when_full_the_farthest_behind_gives_way() {
        let mut registry: Registry = Registry::default();
        let me = Id(1000);
        for i in 0..MAX_REGISTRATIONS as u128 {
            registry.offer(record(1, 900 - i, 1), me, Instant::ZERO).unwrap();
        }
        let farthest = 900 - (MAX_REGISTRATIONS as u128 - 1);
        assert_eq!(registry.offer(record(1, 10, 1), me, Instant::ZERO), Err(RegistryRefusal::Full));
        assert_eq!(registry.offer(record(1, 950, 1), me, Instant::ZERO), Ok(Offered::Registered));
        assert!(registry.get(Id(farthest)).is_none());
        assert_eq!(registry.len(), MAX_REGISTRATIONS);
    }
}
