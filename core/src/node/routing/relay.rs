//! Passing routed messages on, hop by hop, without losing them.
//!
//! Every node that receives a JOIN, LOOKUP or SEARCH acknowledges it to the node that
//! sent it (HOP_ACK). A node that passes one on keeps it until that
//! acknowledgement arrives; if it does not arrive within `hop_timeout`, the
//! message goes to the next-best contact instead, up to three contacts in
//! all. The silent contact, if a friend, is probed at once.

use crate::event::{CommandError, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::routing::{next_hop, Guides, NextHop};
use crate::stats::{bump, DropReason};
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::{Journey, Purpose, Routed, Transaction, MAX_HOP_TRIES};
use crate::time::Instant;
use crate::wire::{Header, MessageType, DETOUR_BITS, MAX_DETOURS, PADDED_REQUEST_LEN};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Sends a routed message to `next` and waits for its hop acknowledgement.
    pub(crate) fn forward(&mut self, txid: u64, next: ResourceLocator, journey: Journey) {
        self.forward_avoiding(txid, next, journey, heapless::Vec::new());
    }

    fn forward_avoiding(
        &mut self,
        txid: u64,
        next: ResourceLocator,
        journey: Journey,
        tried: heapless::Vec<SocketAddrV6, MAX_HOP_TRIES>,
    ) {
        let purpose = Purpose::Forward { journey, tried };
        if self.start_request_with(txid, next.addr, purpose).is_err() {
            // No room to track it: send it anyway, untracked.
            self.stats.count_drop(DropReason::RequestTableFull);
            self.send(crate::tables::outbox::Outgoing::Routed { to: next.addr, txid, journey });
        }
    }

    /// Where a routed message goes next from here, and whether that hop is
    /// a detour; `None` if we are responsible.
    pub(crate) fn next_leg(&self, journey: &Journey, tried: &[SocketAddrV6]) -> Option<(ResourceLocator, bool)> {
        let routed = &journey.routed;
        self.route(routed.key(), routed.avoid(), tried, journey.may_detour).step()
    }

    /// A routed message's journey on from here, as it arrived from the
    /// header's sender having taken `hops`. We may send it on a detour
    /// unless its route took its last one, or the hop that brought it here
    /// was one (it got no closer to the key, by the routing rule's
    /// distance): that hop's promise, a contact of ours near the key, must
    /// be used first.
    pub(crate) fn arriving(&self, header: &Header, routed: Routed, hops: u8) -> Journey {
        let detours = header.flags & DETOUR_BITS;
        let key = routed.key();
        // A joiner sends its own JOIN to its entry node: no routing choice.
        let chosen = !matches!(routed, Routed::Join { joiner, .. } if joiner.id == header.sender.id);
        let distance = |id: Id| self.config.routing.distance(id, key);
        let by_detour = chosen && distance(self.me.id) > distance(header.sender.id);
        let may_detour = detours < MAX_DETOURS && !by_detour;
        Journey {
            routed,
            hops: hops.saturating_add(1),
            hop_limit: header.hop_limit,
            detours,
            may_detour,
            detour: false,
        }
    }

    /// Starts one of our own routed requests (LOOKUP, SEARCH) towards `key`.
    /// Returns its id, and whether we are responsible ourselves (nothing was sent).
    pub(crate) fn originate(
        &mut self,
        now: Instant,
        key: Id,
        purpose: impl FnOnce(RequestId) -> Purpose,
    ) -> Result<(RequestId, bool), CommandError> {
        self.now = now;
        if self.is_joining() {
            return Err(CommandError::NotJoined);
        }
        let request = self.next_request_id();
        let local = self.originate_for(key, purpose(request))?;
        Ok((request, local))
    }

    /// Starts a routed request for `purpose` (of a command already under
    /// way) towards `key`; true if we are responsible ourselves (nothing was sent).
    pub(crate) fn originate_for(&mut self, key: Id, purpose: Purpose) -> Result<bool, CommandError> {
        if self.requests.transactions.room() < 2 {
            return Err(CommandError::TooManyRequests);
        }
        let Some((next, _)) = self.route(key, None, &[], true).step() else { return Ok(true) };
        // The end-to-end request waits for the reply; the first hop is
        // tracked like any relay's, so a silent hop is routed around.
        let txid = self.rng.next_u64();
        let tx = self.track_request(txid, next.addr, purpose)?;
        self.resend(txid, &tx.purpose);
        Ok(false)
    }

    /// Sends one of our own routed requests again, along the route as it now
    /// stands. If the key has become ours meanwhile (the node that held it
    /// died and we took its range over), the request is answered here.
    pub(crate) fn resend(&mut self, txid: u64, purpose: &Purpose) {
        let Some(routed) = self.own_routed(purpose) else { return };
        let journey = Journey::start(routed, self.config.hop_limit);
        match self.next_leg(&journey, &[]) {
            Some((next, detour)) => self.forward(txid, next, Journey { detour, ..journey }),
            None => self.answer_own_request(txid),
        }
    }

    /// Our own routed request `txid` turned out to be for a key we are
    /// responsible for: it completes here, and its tracking ends.
    fn answer_own_request(&mut self, txid: u64) {
        let own = |t: &Transaction| {
            t.txid == txid
                && matches!(
                    t.purpose,
                    Purpose::Lookup { .. }
                        | Purpose::Search { .. }
                        | Purpose::FetchRegistration { .. }
                        | Purpose::RegistryCheck { .. }
                )
        };
        let Some(index) = self.requests.transactions.position(own) else { return };
        let purpose = self.requests.transactions.remove_at(index).purpose;
        self.requests.transactions.retain(|t| t.txid != txid);
        self.answer_own(&purpose);
    }

    /// Completes one of our own LOOKUPs or SEARCHes for a key we are responsible for.
    pub(crate) fn answer_own(&mut self, purpose: &Purpose) {
        match *purpose {
            Purpose::Lookup { asker, key } => self.lookup_completed(asker, key, self.me, 0),
            Purpose::Search { request, key } => self.search_answered_here(request, key),
            Purpose::FetchRegistration { id }
            | Purpose::RegistryCheck { candidate: ResourceLocator { id, .. }, .. } => {
                let record = self.ring.registry.get(id).copied();
                self.registration_answered(purpose, record.as_ref());
            }
            _ => {}
        }
    }

    /// The routed message one of our own LOOKUP or SEARCH requests travels as.
    fn own_routed(&self, purpose: &Purpose) -> Option<Routed> {
        match *purpose {
            Purpose::Lookup { key, .. } => Some(Routed::Lookup { origin: self.me, key }),
            Purpose::Search { key, .. } => Some(Routed::Search { origin: self.me, key }),
            Purpose::FetchRegistration { id } => Some(Routed::RegistryGet { origin: self.me, id }),
            _ => None,
        }
    }

    pub(crate) fn handle_hop_ack(&mut self, from: SocketAddrV6, header: &Header) -> Result<(), DropReason> {
        match self.complete_request(header, MessageType::HopAck, from, |_| true) {
            Ok(_) => Ok(()),
            // The entry node of our own JOIN acknowledges it too; the reply is what counts.
            Err(_) if self.requests.transactions.iter().any(|tx| tx.txid == header.txid && tx.to == from) => Ok(()),
            Err(reason) => Err(reason),
        }
    }

    /// A hop did not acknowledge in time: offer the message to the next-best contact.
    pub(crate) fn hop_timed_out(&mut self, tx: Transaction) {
        let Purpose::Forward { journey, mut tried } = tx.purpose else { return };
        for friend in self.liveness.friends.at_addr_mut(tx.to) {
            friend.suspect = true;
            friend.next_probe = self.now;
        }
        if tried.push(tx.to).is_err() || tried.len() >= MAX_HOP_TRIES {
            self.stats.count_drop(DropReason::RelayFailed);
            return;
        }
        match self.next_leg(&journey, &tried) {
            Some((next, detour)) => self.forward_avoiding(tx.txid, next, Journey { detour, ..journey }, tried),
            // Every contact that could take it failed, but the key is not
            // ours: an answer from here would be wrong (a search would find
            // no owners), so the message is dropped and the origin retries.
            None if !matches!(journey.routed, Routed::Join { .. })
                && !self.ring.neighbours.is_responsible(self.me.id, journey.routed.key()) =>
            {
                self.stats.count_drop(DropReason::RelayFailed);
            }
            None => self.answer_routed(tx.txid, journey.routed, journey.hops),
        }
    }

    /// Takes a LOOKUP or SEARCH that reached us: acknowledges the hop, then
    /// answers it if we are responsible or passes it on.
    pub(crate) fn take_routed(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        routed: Routed,
        hops: u8,
    ) -> Result<(), DropReason> {
        if !self.is_member() || self.is_joining() {
            return self.pass_routed_while_joining(from, header, routed, hops);
        }
        self.send(crate::tables::outbox::Outgoing::HopAck { to: from, txid: header.txid });
        let journey = self.arriving(header, routed, hops);
        match self.next_leg(&journey, &[]) {
            None => self.answer_routed(header.txid, routed, hops),
            Some((next, detour)) => {
                let hop_limit = self.relay_hop_limit(header.hop_limit)?;
                self.forward(header.txid, next, Journey { hop_limit, detour, ..journey });
            }
        }
        Ok(())
    }

    /// A node still joining knows no ring to route by, yet a friend may route
    /// a LOOKUP or SEARCH through it: it acknowledges the hop and passes the
    /// message on, untracked, to the node its JOIN went to (the origin's
    /// retransmission covers a loss). A node neither in a ring nor joining
    /// one drops it unacknowledged, so the sender tries another hop.
    fn pass_routed_while_joining(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        routed: Routed,
        hops: u8,
    ) -> Result<(), DropReason> {
        let Some(to) = self.join_target() else { return Err(DropReason::NotJoined) };
        let hop_limit = self.relay_hop_limit(header.hop_limit)?;
        self.send(crate::tables::outbox::Outgoing::HopAck { to: from, txid: header.txid });
        let journey = Journey { hop_limit, ..self.arriving(header, routed, hops) };
        self.send(crate::tables::outbox::Outgoing::Routed { to, txid: header.txid, journey });
        Ok(())
    }

    /// Where our outstanding JOIN went, while we are joining.
    pub(crate) fn join_target(&self) -> Option<SocketAddrV6> {
        let joining = |tx: &&Transaction| matches!(tx.purpose, Purpose::Join { .. });
        self.requests.transactions.iter().find(joining).map(|tx| tx.to)
    }

    /// Answers a routed request this node is responsible for.
    pub(crate) fn answer_routed(&mut self, txid: u64, routed: Routed, hops: u8) {
        match routed {
            Routed::Join { joiner, cookie, .. } => {
                let ask = crate::tables::transactions::JoinAsk { joiner, hops, cookie, proof: None };
                self.answer_join(txid, ask, PADDED_REQUEST_LEN)
            }
            // Our own request came back to us, and the key is ours now.
            Routed::Lookup { origin, .. } | Routed::Search { origin, .. } | Routed::RegistryGet { origin, .. }
                if origin == self.me =>
            {
                self.answer_own_request(txid)
            }
            Routed::RegistryGet { origin, id } => self.send(Outgoing::RegistryRecord { to: origin.addr, txid, id }),
            Routed::Lookup { origin, key } => self.answer_lookup(txid, origin, key, hops),
            Routed::Search { origin, key } => self.answer_search(txid, origin.addr, key, hops, 0),
        }
    }

    /// The next hop for a routed message towards `key` by the configured
    /// routing rule, never via `avoid` nor any address in `tried`; a detour
    /// only if `may_detour`. Every routed message (JOIN, LOOKUP, SEARCH and
    /// each STORE batch) takes its hops from here.
    pub(crate) fn route(
        &self,
        key: Id,
        avoid: Option<&ResourceLocator>,
        tried: &[SocketAddrV6],
        may_detour: bool,
    ) -> NextHop {
        let guides = Guides {
            rule: self.config.routing,
            digests: self.config.lookahead.then_some(&self.lookahead.digests),
            may_detour: may_detour && self.config.lookahead,
            rtts: self.config.proximity.then_some(&self.lookahead.rtts),
        };
        next_hop(self.me.id, key, &self.ring.neighbours, self.liveness.friends.alive(), avoid, tried, &guides)
    }

    /// The hop limit a relayed copy carries, or why it cannot be relayed.
    pub(crate) fn relay_hop_limit(&mut self, received: u8) -> Result<u8, DropReason> {
        match received.checked_sub(1) {
            Some(left) => {
                bump(&mut self.stats.relayed);
                Ok(left)
            }
            None => Err(DropReason::HopLimitExceeded),
        }
    }
}
