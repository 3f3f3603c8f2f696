//! LEAVE: departing without waiting for timeouts.
//!
//! The leaving node sends each neighbour a LEAVE carrying its chain on the
//! far side: its left neighbour gets its right chain, its right neighbour its
//! left chain, so the two link to each other at once. A LEAVE counts only
//! from the receiver's current neighbour on that side. Once both are
//! acknowledged (or out of attempts), the node is alone again and reports
//! [`Event::Left`].

use crate::event::{CommandError, Event, RequestId};
use crate::id::ResourceLocator;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::neighbours::{cut_chain, Neighbours};
use crate::tables::outbox::Outgoing;
use crate::tables::timers::Timer;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{Header, Side};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Leaves the ring, telling both neighbours; completes with [`Event::Left`].
    pub fn leave(&mut self, now: Instant) -> Result<RequestId, CommandError> {
        self.now = now;
        if self.ring.leaving.is_some() {
            return Err(CommandError::Leaving);
        }
        let (Some(left), Some(right)) = (self.ring.neighbours.left().copied(), self.ring.neighbours.right().copied())
        else {
            return Err(CommandError::NotJoined);
        };
        if self.requests.transactions.room() < 2 {
            return Err(CommandError::TooManyRequests);
        }
        let request = self.next_request_id();
        self.ring.leaving = Some(request);
        self.timers.set(Timer::Maintenance, None);
        // Cannot fail: room was checked above.
        let _ = self.start_request(left.addr, Purpose::Leave { request, side: Side::Right });
        // In a ring of two both neighbours are one node: one LEAVE unlinks us on both sides.
        if right.addr != left.addr {
            let _ = self.start_request(right.addr, Purpose::Leave { request, side: Side::Left });
        }
        Ok(request)
    }

    /// One neighbour acknowledged our LEAVE (or never will).
    pub(crate) fn leave_step_done(&mut self, request: RequestId) {
        let pending = self
            .requests
            .transactions
            .iter()
            .any(|tx| matches!(tx.purpose, Purpose::Leave { request: r, .. } if r == request));
        if pending || self.ring.leaving != Some(request) {
            return;
        }
        self.ring.leaving = None;
        self.ring.neighbours = Neighbours::default();
        self.ring.founder = false;
        // Nothing of the old ring is ours to maintain any more.
        self.requests
            .transactions
            .retain(|tx| !matches!(tx.purpose, Purpose::Probe { .. } | Purpose::NeighbourUpdate { .. }));
        self.emit(Event::Left { request });
    }

    pub(crate) fn handle_leave(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        side: Side,
        chain: &[ResourceLocator],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        if self.ring.last_leave == Some((from, header.txid)) {
            // Our ACK was lost and the LEAVE came again: acknowledge, change nothing.
            self.send(Outgoing::Ack { to: from, txid: header.txid });
            return Ok(());
        }
        if self.ring.neighbours.neighbour(side) != Some(&sender) {
            return Err(DropReason::UnexpectedNeighbourUpdate);
        }
        self.ring.last_leave = Some((from, header.txid));
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        let kept = cut_chain(self.me.id, side, chain.iter().copied().filter(|c| *c != sender), self.config.chain_len());
        self.set_chain(side, kept, None);
        // The leaver may also sit in our other chain (small rings).
        let other = side.opposite();
        if self.ring.neighbours.chain(other).contains(&sender) {
            let rest = self.ring.neighbours.chain(other).iter().filter(|c| **c != sender).copied().collect();
            self.set_chain(other, rest, None);
        }
        Ok(())
    }
}
