//! Return routability and the 3× rule (after RFC 9000 §8.1): which
//! addresses have echoed a nonce of ours, and, for the others, the bytes
//! received from them (or in their name) and sent to them over a window.
//!
//! An address is *proven* once a response from it echoes the transaction id
//! of one of our requests, or a JOIN from it echoes our cookie. Until then
//! the datagrams its messages draw — replies, and the probes and checks
//! they trigger — may total at most [`AMPLIFICATION_FACTOR`] times the bytes
//! it sent, counted over [`BUDGET_WINDOW`]; what does not fit is withheld
//! and counted as [`DropReason::AmplificationLimit`](crate::DropReason::AmplificationLimit).
//! Both tables are bounded: a flood of strangers only ever evicts other
//! strangers' counts, never a proven address.

use crate::capacity::{Cap, Capacity, Table};
use crate::time::Instant;
use core::net::SocketAddrV6;
use core::time::Duration;

/// Bytes that may go to an unproven address per byte received from it.
pub const AMPLIFICATION_FACTOR: usize = 3;
/// Proven addresses remembered; the one proven longest ago is forgotten first.
pub const PROVEN_CAPACITY: usize = 64;
/// Unproven addresses counted at once; the one counted longest ago is forgotten first.
pub const BUDGET_CAPACITY: usize = 32;
/// How long an address stays proven after it last echoed a nonce of ours.
pub const PROVEN_FOR: Duration = Duration::from_secs(600);
/// The window over which an unproven address's bytes are counted.
pub const BUDGET_WINDOW: Duration = Duration::from_secs(30);

/// Bytes exchanged with one unproven address since `since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Budget {
    addr: SocketAddrV6,
    since: Instant,
    received: usize,
    sent: usize,
}

/// Proven addresses (`P::MAX`, by default [`PROVEN_CAPACITY`]), and the
/// byte counts of unproven ones (`U::MAX`, by default [`BUDGET_CAPACITY`]).
#[derive(Clone, Debug, Default)]
pub struct Budgets<P: Capacity = Cap<PROVEN_CAPACITY>, U: Capacity = Cap<BUDGET_CAPACITY>> {
    /// Proven addresses and when they last echoed a nonce.
    proven: Table<(SocketAddrV6, Instant), P>,
    counted: Table<Budget, U>,
}

impl<P: Capacity, U: Capacity> Budgets<P, U> {
    /// `addr` echoed a nonce of ours at `now`: it is proven, and its count dropped.
    pub fn prove(&mut self, addr: SocketAddrV6, now: Instant) {
        self.counted.retain(|b| b.addr != addr);
        if let Some(entry) = self.proven.iter_mut().find(|(a, _)| *a == addr) {
            entry.1 = now;
            return;
        }
        if self.proven.is_full() {
            if let Some(oldest) = (0..self.proven.len()).min_by_key(|&i| self.proven[i].1) {
                self.proven.swap_remove(oldest);
            }
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.proven.push((addr, now));
    }

    /// True if `addr` echoed a nonce of ours within [`PROVEN_FOR`] of `now`.
    pub fn is_proven(&self, addr: &SocketAddrV6, now: Instant) -> bool {
        self.proven.iter().any(|(a, at)| a == addr && now.saturating_duration_since(*at) < PROVEN_FOR)
    }

    /// Counts `bytes` received from `addr` (or in its name) at `now`.
    pub fn credit(&mut self, addr: SocketAddrV6, bytes: usize, now: Instant) {
        if self.is_proven(&addr, now) {
            return;
        }
        let budget = match self.counted.iter().position(|b| b.addr == addr) {
            Some(i) => &mut self.counted[i],
            None => {
                if self.counted.is_full() {
                    if let Some(oldest) = (0..self.counted.len()).min_by_key(|&i| self.counted[i].since) {
                        self.counted.swap_remove(oldest);
                    }
                }
                // Cannot fail: a slot was freed above if needed.
                let _ = self.counted.push(Budget { addr, since: now, received: 0, sent: 0 });
                let last = self.counted.len() - 1;
                &mut self.counted[last]
            }
        };
        if now.saturating_duration_since(budget.since) >= BUDGET_WINDOW {
            *budget = Budget { addr, since: now, received: 0, sent: 0 };
        }
        budget.received = budget.received.saturating_add(bytes);
    }

    /// Bytes that may still go to `addr` at `now` (unbounded once proven).
    pub fn allowance(&self, addr: &SocketAddrV6, now: Instant) -> usize {
        if self.is_proven(addr, now) {
            return usize::MAX;
        }
        self.counted
            .iter()
            .find(|b| b.addr == *addr && now.saturating_duration_since(b.since) < BUDGET_WINDOW)
            .map_or(0, |b| b.received.saturating_mul(AMPLIFICATION_FACTOR).saturating_sub(b.sent))
    }

    /// Counts `bytes` about to go to `addr`, if its allowance covers them;
    /// false (and nothing counted) if it does not.
    pub fn charge(&mut self, addr: &SocketAddrV6, bytes: usize, now: Instant) -> bool {
        if self.is_proven(addr, now) {
            return true;
        }
        if self.allowance(addr, now) < bytes {
            return false;
        }
        if let Some(budget) = self.counted.iter_mut().find(|b| b.addr == *addr) {
            budget.sent = budget.sent.saturating_add(bytes);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn addr(host: u16) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host), 4000, 0, 0)
    }

    #[test]
    fn an_unproven_address_gets_three_times_what_it_sent_within_the_window() {
        let mut budgets: Budgets = Budgets::default();
        let now = Instant::ZERO;
        assert!(!budgets.charge(&addr(1), 1, now), "nothing received, nothing owed");
        budgets.credit(addr(1), 100, now);
        assert!(budgets.charge(&addr(1), 250, now));
        assert!(!budgets.charge(&addr(1), 51, now));
        assert!(budgets.charge(&addr(1), 50, now));
        let later = now + BUDGET_WINDOW;
        assert_eq!(budgets.allowance(&addr(1), later), 0, "the window closed");
        budgets.credit(addr(1), 10, later);
        assert_eq!(budgets.allowance(&addr(1), later), 30, "a fresh window");
    }

    #[test]
    fn a_proven_address_is_unbounded_until_it_goes_quiet() {
        let mut budgets: Budgets = Budgets::default();
        budgets.prove(addr(1), Instant::ZERO);
        assert!(budgets.charge(&addr(1), 10_000, Instant::ZERO));
        let later = Instant::ZERO + PROVEN_FOR;
        assert!(!budgets.is_proven(&addr(1), later));
        assert!(!budgets.charge(&addr(1), 1, later));
    }

    #[test]
    fn a_flood_of_strangers_never_evicts_a_proven_address() {
        let mut budgets: Budgets = Budgets::default();
        budgets.prove(addr(1), Instant::ZERO);
        for host in 2..1000 {
            budgets.credit(addr(host), 100, Instant::ZERO);
        }
        assert!(budgets.is_proven(&addr(1), Instant::ZERO));
        assert_eq!(budgets.counted.len(), BUDGET_CAPACITY);
        assert_eq!(budgets.allowance(&addr(999), Instant::ZERO), 300);
    }
}
