//! JOIN, as in the paper's Figure 3.
//!
//! The joiner sends JOIN to the key node (or any node it knows). Each node
//! routes it towards the successor of the joiner's ID, keeping the joiner's
//! transaction id. The responsible node R, whose left neighbour is L:
//! 1. replies to the joiner J with its chains: left `[J, L, …]`, right `[…]`;
//! 2. tells L that its right neighbour is now J (chain `[J, R, …]`);
//! 3. makes J its own left neighbour, and tells its right neighbour its new left chain.
//!
//! The joiner takes its left chain from the reply's left chain after its own
//! entry and its right chain as `[R] + R's right chain`. A JOIN that arrives
//! again (its reply was lost) is answered again without further changes, and
//! a JOIN for an ID another node holds is refused with `IdInUse`.

use crate::event::{CommandError, Event, JoinFailure, RequestId};
use crate::id::ResourceLocator;
use crate::neighbours::cut_chain;
use crate::node::{usable_address, Node};
use crate::outbox::Outgoing;
use crate::routing::NextHop;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::transactions::Purpose;
use crate::wire::{Chain, Header, JoinStatus, MessageType, Side, MAX_DATAGRAM};
use core::net::SocketAddrV6;

/// A reply may be at most this many times the size of the JOIN that asked for it,
/// since the joiner's address has not yet proven it wants our datagrams.
const AMPLIFICATION_LIMIT: usize = 3;

impl Node {
    /// Joins the ring through the node at `via` (the key node or any member).
    ///
    /// Completes with [`Event::Joined`] or [`Event::JoinFailed`].
    pub fn join(&mut self, now: Instant, via: SocketAddrV6) -> Result<RequestId, CommandError> {
        self.now = now;
        if self.is_joined() {
            return Err(CommandError::AlreadyJoined);
        }
        if self.is_joining() {
            return Err(CommandError::JoinInProgress);
        }
        if via == self.me.addr {
            return Err(CommandError::OwnLocator);
        }
        if !usable_address(&via) {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        self.start_request(via, Purpose::Join { request })?;
        Ok(request)
    }

    pub(crate) fn handle_join(
        &mut self,
        header: &Header,
        len: usize,
        joiner: ResourceLocator,
        hops: u8,
    ) -> Result<(), DropReason> {
        if self.is_joining() {
            return Err(DropReason::NotJoined);
        }
        if joiner == self.me {
            return Err(DropReason::FromSelf);
        }
        // Route among the existing nodes only. Once we have accepted the
        // joiner it is our left neighbour, and a repeated JOIN ends here.
        match self.route(joiner.id, Some(&joiner)) {
            NextHop::Forward(next) => {
                let hop_limit = self.relay_hop_limit(header.hop_limit)?;
                let hops = hops.saturating_add(1);
                self.send(Outgoing::Join { to: next.addr, txid: header.txid, hop_limit, joiner, hops });
            }
            NextHop::Local => {
                let status = self.admit(joiner);
                let max_len = len.saturating_mul(AMPLIFICATION_LIMIT).min(MAX_DATAGRAM) as u16;
                self.send(Outgoing::JoinReply { to: joiner.addr, txid: header.txid, status, hops, max_len });
                if status == JoinStatus::Accepted {
                    self.link_joiner(joiner);
                }
            }
        }
        Ok(())
    }

    /// Decides on a JOIN this node is responsible for.
    fn admit(&self, joiner: ResourceLocator) -> JoinStatus {
        let holder = if joiner.id == self.me.id { Some(&self.me) } else { self.neighbours.left() };
        match holder {
            Some(h) if h.id == joiner.id && h.addr != joiner.addr => JoinStatus::IdInUse,
            _ => JoinStatus::Accepted,
        }
    }

    /// Makes an accepted joiner our left neighbour and tells those affected.
    fn link_joiner(&mut self, joiner: ResourceLocator) {
        if self.neighbours.left() == Some(&joiner) {
            // A repeated JOIN: the reply is all it needs.
            return;
        }
        let old_left = self.neighbours.left().copied();
        let chain_len = self.config.chain_len();
        let left: Chain =
            core::iter::once(joiner).chain(self.neighbours.chain(Side::Left).iter().copied()).take(chain_len).collect();
        if let Some(old_left) = old_left {
            // Figure 3: node 14 tells node 9 that its right neighbour is now node 12.
            self.notify(old_left, Side::Right);
        } else {
            // We were alone: the joiner is both our neighbours.
            self.set_chain(Side::Right, left.clone(), Some(joiner.id));
        }
        self.set_chain(Side::Left, left, Some(joiner.id));
    }

    pub(crate) fn handle_join_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        status: JoinStatus,
        hops: u8,
        left: &[ResourceLocator],
        right: &[ResourceLocator],
    ) -> Result<(), DropReason> {
        let names_us = left.first() == Some(&self.me) && header.sender.id != self.me.id;
        if status == JoinStatus::Accepted && !names_us {
            return Err(DropReason::InvalidReply);
        }
        let tx = self.transactions.complete(header.txid, MessageType::JoinReply, from, header.sender.addr, |_| true)?;
        let Purpose::Join { request } = tx.purpose else {
            return Err(DropReason::UnexpectedResponse);
        };
        if status == JoinStatus::IdInUse {
            self.emit(Event::JoinFailed { request, reason: JoinFailure::IdInUse });
            return Ok(());
        }
        let responder = header.sender;
        let (me, chain_len) = (self.me.id, self.config.chain_len());
        let mut left_chain = cut_chain(me, Side::Left, left.iter().skip(1).copied(), chain_len);
        if left_chain.is_empty() {
            // The responder was alone: it is our left neighbour too.
            let _ = left_chain.push(responder);
        }
        let right_chain =
            cut_chain(me, Side::Right, core::iter::once(responder).chain(right.iter().copied()), chain_len);
        let left_neighbour = left_chain[0];
        self.neighbours.replace(Side::Left, left_chain);
        self.neighbours.replace(Side::Right, right_chain);
        self.emit(Event::Joined { request, left: left_neighbour, right: responder, hops });
        Ok(())
    }
}
