//! Outstanding requests: transaction ids, retransmission with backoff, and
//! the rule for which responses count.
//!
//! A direct request (PING, NEIGHBOUR_UPDATE) is answered by the node it went
//! to, so its response must come from that address. A routed request (JOIN,
//! LOOKUP) is answered by whichever node turns out to be responsible, so its
//! response must carry a header sender address equal to its source address.
//! Either way the 64-bit random transaction id must match.

use crate::config::MAX_PENDING_REQUESTS;
use crate::event::RequestId;
use crate::id::{Id, ResourceLocator};
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{MessageType, Side};
use core::net::SocketAddrV6;

/// What an outstanding request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Join { request: RequestId },
    Lookup { request: RequestId, key: Id },
    Ping { request: RequestId },
    NeighbourUpdate { peer: ResourceLocator, side: Side },
}

impl Purpose {
    /// The response type that completes it.
    fn response_type(&self) -> MessageType {
        match self {
            Purpose::Join { .. } => MessageType::JoinReply,
            Purpose::Lookup { .. } => MessageType::LookupReply,
            Purpose::Ping { .. } => MessageType::Pong,
            Purpose::NeighbourUpdate { .. } => MessageType::Ack,
        }
    }

    /// True if any node may answer (the request is routed).
    fn is_routed(&self) -> bool {
        matches!(self, Purpose::Join { .. } | Purpose::Lookup { .. })
    }
}

/// One outstanding request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transaction {
    pub txid: u64,
    /// Where the request was (last) sent.
    pub to: SocketAddrV6,
    pub purpose: Purpose,
    /// Transmissions so far.
    pub attempts: u8,
    /// When it was last transmitted.
    pub sent_at: Instant,
    /// When to retransmit or give up.
    pub deadline: Instant,
}

/// Completed transaction ids remembered, so that a duplicated response is
/// told apart from a stray one.
const RECENTLY_COMPLETED: usize = 16;

/// The table of outstanding requests, at most [`MAX_PENDING_REQUESTS`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Transactions {
    entries: heapless::Vec<Transaction, MAX_PENDING_REQUESTS>,
    completed: heapless::Deque<u64, RECENTLY_COMPLETED>,
}

/// The request table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableFull;

impl Transactions {
    pub fn insert(&mut self, tx: Transaction) -> Result<(), TableFull> {
        self.entries.push(tx).map_err(|_| TableFull)
    }

    pub fn is_full(&self) -> bool {
        self.entries.is_full()
    }

    /// Removes and returns the request a response answers, if it counts.
    /// `matches` checks what the response says against the request.
    ///
    /// `source` is the datagram's source address; `sender_addr` the address
    /// the response's header claims. A response to a request completed
    /// shortly before is a [`DropReason::DuplicateResponse`]; any other that
    /// does not count is a [`DropReason::UnexpectedResponse`].
    pub fn complete(
        &mut self,
        txid: u64,
        response: MessageType,
        source: SocketAddrV6,
        sender_addr: SocketAddrV6,
        matches: impl Fn(&Purpose) -> bool,
    ) -> Result<Transaction, DropReason> {
        let index = self.entries.iter().position(|tx| {
            tx.txid == txid
                && matches(&tx.purpose)
                && tx.purpose.response_type() == response
                && if tx.purpose.is_routed() { sender_addr == source } else { tx.to == source }
        });
        let Some(index) = index else {
            let again = self.completed.iter().any(|&done| done == txid);
            return Err(if again { DropReason::DuplicateResponse } else { DropReason::UnexpectedResponse });
        };
        if self.completed.is_full() {
            self.completed.pop_front();
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.completed.push_back(txid);
        Ok(self.entries.swap_remove(index))
    }

    /// Removes the request with `txid`.
    pub fn remove(&mut self, txid: u64) -> Option<Transaction> {
        let index = self.entries.iter().position(|tx| tx.txid == txid)?;
        Some(self.entries.swap_remove(index))
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.iter().map(|tx| tx.deadline).min()
    }

    /// The first request whose deadline has passed.
    pub fn first_due(&mut self, now: Instant) -> Option<&mut Transaction> {
        self.entries.iter_mut().filter(|tx| tx.deadline <= now).min_by_key(|tx| (tx.deadline, tx.txid))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Transaction> {
        self.entries.iter()
    }
}
