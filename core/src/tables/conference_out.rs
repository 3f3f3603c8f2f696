//! Conference datagrams waiting to go: transfer pieces passed on as they
//! came (encoded on arrival, one copy for every neighbour they go to), and
//! pieces a neighbour asked for again (encoded when polled, their bytes
//! read by the driver).
//!
//! Bounded: [`FORWARD_SLOTS`] pieces passed on, [`RESENDS`] pieces asked
//! for; past that they are dropped and counted (the neighbours ask again).

use crate::capacity::{Queue, Table};
use crate::conference::SessionId;
use crate::profile::{Apps, WithApps};
use crate::tables::tree::MAX_CHILDREN;
use crate::wire::MAX_DATAGRAM;
use core::net::SocketAddrV6;

/// Pieces passed on that wait at once.
pub const FORWARD_SLOTS: usize = 4;
/// Pieces asked for again that wait at once.
pub const RESENDS: usize = 128;
/// Pieces asked for that we lack ourselves, remembered to send on as they come.
pub const AWAITED: usize = 64;

/// A piece passed on: its datagram, and the neighbours it still goes to.
#[derive(Clone, Debug)]
pub struct Forward {
    /// The datagram.
    pub bytes: [u8; MAX_DATAGRAM],
    /// Its length.
    pub len: usize,
    /// Neighbours it still goes to.
    pub to: heapless::Vec<SocketAddrV6, { MAX_CHILDREN + 1 }>,
}

/// A piece a neighbour asked for again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resend {
    /// The neighbour.
    pub to: SocketAddrV6,
    /// The conference.
    pub session: SessionId,
    /// The transfer.
    pub transfer: u64,
    /// The piece's number.
    pub pn: u32,
}

/// What waits (nothing [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct ConferenceOut<A: Apps = WithApps> {
    /// Pieces passed on, oldest first.
    pub forwards: Table<Forward, A::List<FORWARD_SLOTS>>,
    /// Pieces asked for again.
    pub resends: Queue<Resend, A::Queue<RESENDS>>,
    /// Pieces a neighbour asked for that we lack too: sent on when they come.
    pub awaited: Queue<Resend, A::Queue<AWAITED>>,
}

impl<A: Apps> ConferenceOut<A> {
    /// Remembers that `resend` waits for a piece we lack; the oldest such
    /// request is forgotten when full (its neighbour asks again).
    pub fn await_piece(&mut self, resend: Resend) {
        if self.awaited.iter().any(|a| *a == resend) {
            return;
        }
        if self.awaited.is_full() {
            self.awaited.pop_front();
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.awaited.push_back(resend);
    }

    /// Piece `pn` of `transfer` came: those who waited for it get it now.
    /// Returns how many could not be queued.
    pub fn piece_came(&mut self, session: SessionId, transfer: u64, pn: u32) -> usize {
        let waiting = |a: &Resend| a.session == session && a.transfer == transfer && a.pn == pn;
        if !self.awaited.iter().any(waiting) {
            return 0;
        }
        let mut dropped = 0;
        let mut kept = Queue::new();
        let mut all = core::mem::take(&mut self.awaited);
        while let Some(a) = all.pop_front() {
            if !waiting(&a) {
                // Cannot fail: no more than before.
                let _ = kept.push_back(a);
            } else if self.resends.push_back(a).is_err() {
                dropped += 1;
            }
        }
        self.awaited = kept;
        dropped
    }
}
