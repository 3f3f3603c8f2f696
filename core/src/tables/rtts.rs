//! Proximity: how far away each contact is, measured, to prefer near next hops.
//!
//! Every request a node sends to one contact and that contact answers on
//! the first transmission gives a round-trip sample: liveness probes
//! (PING/PONG, STABILISE/STABILISE_REPLY), hop acknowledgements of routed
//! messages, neighbour updates. Samples of retransmitted requests are
//! ignored (Karn's rule: the answer may be to an earlier copy). Each
//! contact's round-trip time is smoothed as TCP does (new = 7/8 old + 1/8
//! sample). The table keeps `C::MAX` contacts ([`RTT_SLOTS`] by default); when full, the one
//! measured longest ago makes room. Routing prefers, among next hops that
//! make near-equal progress, the one with the lowest smoothed round trip
//! (see [`routing`](crate::routing)).

use crate::capacity::{Cap, Capacity, Table};
use crate::config::MAX_FRIENDS;
use crate::time::Instant;
use core::net::SocketAddrV6;
use core::time::Duration;

/// Contacts whose round-trip time is kept: every friend and both neighbour chains at their longest.
pub const RTT_SLOTS: usize = MAX_FRIENDS + 2 * crate::wire::MAX_CHAIN;

/// Smoothed round-trip times of up to `C::MAX` contacts (by default [`RTT_SLOTS`]), by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rtts<C: Capacity = Cap<RTT_SLOTS>> {
    entries: Table<RttEntry, C>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RttEntry {
    addr: SocketAddrV6,
    /// Smoothed round trip, in microseconds.
    micros: u32,
    /// When the last sample arrived.
    updated: Instant,
}

impl<C: Capacity> Rtts<C> {
    /// Adds one round-trip sample for `addr`, taken at `now`.
    pub fn sample(&mut self, addr: SocketAddrV6, rtt: Duration, now: Instant) {
        let micros = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
        if let Some(entry) = self.entries.iter_mut().find(|e| e.addr == addr) {
            entry.micros = smooth(entry.micros, micros);
            entry.updated = now;
            return;
        }
        let entry = RttEntry { addr, micros, updated: now };
        if let Err(entry) = self.entries.push(entry) {
            // Full: the entry measured longest ago makes room.
            if let Some(oldest) = self.entries.iter_mut().min_by_key(|e| e.updated) {
                *oldest = entry;
            }
        }
    }

    /// The smoothed round trip to `addr` in microseconds, if measured.
    pub fn get(&self, addr: SocketAddrV6) -> Option<u32> {
        self.entries.iter().find(|e| e.addr == addr).map(|e| e.micros)
    }

    /// How many contacts have a measured round trip.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nothing has been measured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// 7/8 of the old estimate plus 1/8 of the new sample.
fn smooth(old: u32, sample: u32) -> u32 {
    let mixed = (u64::from(old) * 7 + u64::from(sample)) / 8;
    u32::try_from(mixed).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn addr(n: u16) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::LOCALHOST, n, 0, 0)
    }

    #[test]
    fn samples_are_smoothed_per_contact() {
        let mut rtts: Rtts = Rtts::default();
        let now = Instant::ZERO;
        rtts.sample(addr(1), Duration::from_millis(80), now);
        assert_eq!(rtts.get(addr(1)), Some(80_000));
        rtts.sample(addr(1), Duration::from_millis(160), now);
        assert_eq!(rtts.get(addr(1)), Some(90_000));
        assert_eq!(rtts.get(addr(2)), None);
    }

    #[test]
    fn a_full_table_forgets_the_contact_measured_longest_ago() {
        let mut rtts: Rtts = Rtts::default();
        for n in 0..RTT_SLOTS as u16 {
            rtts.sample(addr(n), Duration::from_millis(10), Instant::ZERO + Duration::from_secs(u64::from(n)));
        }
        rtts.sample(addr(9999), Duration::from_millis(3), Instant::ZERO + Duration::from_secs(10_000));
        assert_eq!(rtts.len(), RTT_SLOTS);
        assert_eq!(rtts.get(addr(0)), None);
        assert_eq!(rtts.get(addr(1)), Some(10_000));
        assert_eq!(rtts.get(addr(9999)), Some(3_000));
    }
}
