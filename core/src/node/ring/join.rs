//! JOIN, as in the paper's Figure 3, and joining through the bootstrap list.
//!
//! The joiner sends JOIN to the key node (or any node it knows). Each node
//! acknowledges the hop and routes it towards the successor of the joiner's
//! ID, keeping the joiner's transaction id. The responsible node R, whose left
//! neighbour is L:
//! 1. replies to the joiner J with its chains: left `[J, L, …]`, right `[…]`;
//! 2. tells L that its right neighbour is now J (chain `[J, R, …]`);
//! 3. makes J its own left neighbour, and tells its right neighbour its new left chain.
//!
//! The joiner takes its left chain from the reply's left chain after its own
//! entry and its right chain as `[R] + R's right chain`. A JOIN that arrives
//! again (its reply was lost) is answered again without further changes; a
//! JOIN for an ID another node holds is refused with `IdInUse`; a node that
//! is not in a ring refuses with `NotMember`.
//!
//! [`Node::join_bootstrap`] tries the bootstrap list's entries in order, with
//! exponential backoff and jitter between them, and reports
//! [`Event::NoKnownPeers`] when none lets it in.

use crate::event::{CommandError, Event, JoinFailure, RequestId};
use crate::id::{usable_address, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::bootstrap::JoinCampaign;
use crate::tables::budgets::AMPLIFICATION_FACTOR;
use crate::tables::neighbours::cut_chain;
use crate::tables::outbox::Outgoing;
use crate::tables::timers::Timer;
use crate::tables::transactions::{JoinAsk, Journey, Purpose, Routed};
use crate::time::Instant;
use crate::wire::{Chain, Header, JoinStatus, MessageType, Side, MAX_DATAGRAM};
use core::net::SocketAddrV6;

/// What the responsible node does with a JOIN (see `Node::admit`).
enum Admission {
    /// Ask the joiner to echo a cookie, and sign its registration with `seq`.
    Retry { seq: u32 },
    /// Take the joiner in, keeping its registration if it brought one.
    Accept(Option<crate::registration::Registration>),
    /// Refuse it with this status.
    Refuse(JoinStatus),
    /// The joiner is our own owner on a new address: leave the ring to it.
    StepAside,
}

impl<P: Profile> Node<P> {
    /// Joins the ring through the node at `via` (the key node or any member).
    ///
    /// Completes with [`Event::Joined`] or [`Event::JoinFailed`].
    pub fn join(&mut self, now: Instant, via: SocketAddrV6) -> Result<RequestId, CommandError> {
        self.now = now;
        self.check_can_join()?;
        if via == self.me.addr {
            return Err(CommandError::OwnLocator);
        }
        if !usable_address(&via) {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        self.start_request(via, Purpose::Join { request, campaign: false, cookie: 0, hops: 1, seq: 0 })?;
        Ok(request)
    }

    /// Joins through the bootstrap list: its entries in order, each given
    /// two transmissions, with exponential backoff and jitter between entries.
    ///
    /// Completes with [`Event::Joined`], [`Event::JoinFailed`] (our ID is
    /// taken) or [`Event::NoKnownPeers`] (no entry let us in).
    pub fn join_bootstrap(&mut self, now: Instant) -> Result<RequestId, CommandError> {
        self.now = now;
        self.check_can_join()?;
        if self.ring.bootstrap.entries().iter().all(|e| e.addr == self.me.addr) {
            return Err(CommandError::NoKnownPeers);
        }
        let request = self.next_request_id();
        self.ring.campaign = Some(JoinCampaign { request, next: 0, retry_at: Some(now) });
        self.continue_campaign(now);
        Ok(request)
    }

    /// The bootstrap list (the paper's `access.dat`), refreshed after each join.
    pub fn bootstrap(&self) -> &crate::tables::bootstrap::BootstrapList {
        &self.ring.bootstrap
    }

    /// Replaces the bootstrap list, e.g. with one loaded from `access.dat`.
    pub fn set_bootstrap(&mut self, list: crate::tables::bootstrap::BootstrapList) {
        self.ring.bootstrap = list;
    }

    fn check_can_join(&self) -> Result<(), CommandError> {
        if self.is_joined() {
            return Err(CommandError::AlreadyJoined);
        }
        if self.is_joining() {
            return Err(CommandError::JoinInProgress);
        }
        Ok(())
    }

    /// Tries the campaign's next entry if its time has come.
    pub(crate) fn continue_campaign(&mut self, now: Instant) {
        let Some(campaign) = self.ring.campaign else { return };
        if campaign.retry_at.is_none_or(|at| at > now) {
            return;
        }
        let entries = self.ring.bootstrap.entries();
        let entry = entries.iter().skip(campaign.next).find(|e| e.addr != self.me.addr).copied();
        let Some(entry) = entry else {
            self.ring.campaign = None;
            self.emit(Event::NoKnownPeers { request: campaign.request });
            return;
        };
        let next = entries.iter().position(|e| e.addr == entry.addr).unwrap_or(campaign.next);
        self.ring.campaign = Some(JoinCampaign { next, retry_at: None, ..campaign });
        let purpose = Purpose::Join { request: campaign.request, campaign: true, cookie: 0, hops: 1, seq: 0 };
        if self.start_request(entry.addr, purpose).is_err() {
            // No room for the attempt: try again shortly.
            let delay = self.jittered(self.config.request_timeout);
            self.ring.campaign = Some(JoinCampaign { retry_at: Some(now + delay), ..campaign });
        }
    }

    /// One JOIN attempt got no usable answer.
    pub(crate) fn join_attempt_failed(&mut self, request: RequestId, campaign: bool, reason: JoinFailure) {
        match self.ring.campaign.filter(|c| campaign && c.request == request) {
            Some(c) => {
                // Back off before the next entry: request_timeout × 2^tries / 4, jittered.
                let tries = (c.next as u32).min(5);
                let delay = self.jittered(self.config.request_timeout.saturating_mul(1 << tries) / 4);
                self.ring.campaign = Some(JoinCampaign { next: c.next + 1, retry_at: Some(self.now + delay), ..c });
            }
            None => self.emit(Event::JoinFailed { request, reason }),
        }
    }

    pub(crate) fn handle_join(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        len: usize,
        ask: JoinAsk,
    ) -> Result<(), DropReason> {
        let JoinAsk { joiner, hops, cookie, .. } = ask;
        if joiner == self.me {
            return Err(DropReason::FromSelf);
        }
        if self.is_joining() {
            return Err(DropReason::NotJoined);
        }
        if !self.is_member() {
            if hops > 1 {
                // A relay took us for a member: stay silent so it routes around us.
                return Err(DropReason::NotJoined);
            }
            // The joiner asked us directly: tell it to try elsewhere.
            self.send(Outgoing::HopAck { to: from, txid: header.txid });
            self.reply_join(header.txid, &ask, JoinStatus::NotMember, 0);
            return Ok(());
        }
        self.send(Outgoing::HopAck { to: from, txid: header.txid });
        // Route among the existing nodes only. Once we have accepted the
        // joiner it is our left neighbour, and a repeated JOIN ends here.
        let journey = self.arriving(header, Routed::Join { joiner, cookie, seq: 0 }, hops);
        match self.next_leg(&journey, &[]) {
            Some((next, detour)) => {
                let hop_limit = self.relay_hop_limit(header.hop_limit)?;
                self.forward(header.txid, next, Journey { hop_limit, detour, ..journey });
            }
            None => self.answer_join(header.txid, ask, len),
        }
        Ok(())
    }

    /// Answers a JOIN this node is responsible for (see [`Admission`]).
    pub(crate) fn answer_join(&mut self, txid: u64, ask: JoinAsk, request_len: usize) {
        let joiner = ask.joiner;
        match self.admit(&ask) {
            Admission::Retry { seq } => {
                let cookie = self.join_cookie(&joiner);
                self.send(Outgoing::JoinReply {
                    to: joiner.addr,
                    txid,
                    status: JoinStatus::Retry,
                    hops: ask.hops,
                    max_len: 0,
                    cookie,
                    seq,
                });
            }
            Admission::Refuse(status) => self.reply_join(txid, &ask, status, 0),
            Admission::StepAside => {
                self.emit(Event::TakenOver { by: joiner.addr });
                let _ = self.leave(self.now);
                self.reply_join(txid, &ask, JoinStatus::NotMember, 0);
            }
            Admission::Accept(record) => {
                if let Some(record) = record {
                    self.register(record);
                }
                let max_len = request_len.saturating_mul(AMPLIFICATION_FACTOR).min(MAX_DATAGRAM) as u16;
                self.reply_join(txid, &ask, JoinStatus::Accepted, max_len);
                self.link_joiner(joiner);
                // Registrations of the joiner's range are its to keep now;
                // those of its left neighbour's, its to answer for as the node after them.
                self.hand_over_registrations();
                self.copy_left_range_to_joiner(&joiner);
            }
        }
    }

    /// Sends a joiner our answer (chains within `max_len` bytes if accepted).
    fn reply_join(&mut self, txid: u64, ask: &JoinAsk, status: JoinStatus, max_len: u16) {
        let (to, hops) = (ask.joiner.addr, ask.hops);
        self.send(Outgoing::JoinReply { to, txid, status, hops, max_len, cookie: 0, seq: 0 });
    }

    /// Decides on a JOIN this node is responsible for.
    ///
    /// Nothing changes until the joiner has echoed our cookie, proving that
    /// it receives at its address. Then a registered ID admits only its
    /// owner: a JOIN whose registration, signed over our cookie, is by the
    /// registered key with a higher sequence number (a takeover: the owner
    /// on a new address; if the owner's old self is us, we step aside).
    /// Anyone else is refused as a duplicated identifier, and, if we are
    /// the owner, told about. An unregistered ID is first come, first
    /// registered, unless another node already holds it.
    fn admit(&mut self, ask: &JoinAsk) -> Admission {
        let JoinAsk { joiner, cookie, proof, .. } = *ask;
        let left = self.ring.neighbours.left().copied();
        if left == Some(joiner) {
            // A repeated JOIN (its reply was lost): answered again, nothing changes.
            return Admission::Accept(None);
        }
        let held = self.ring.registry.get(joiner.id).copied();
        if !self.cookie_is_valid(&joiner, cookie) {
            return Admission::Retry { seq: held.map_or(1, |r| r.seq.saturating_add(1)) };
        }
        // Only a host that receives at the joiner's address could echo it.
        self.vouch(joiner.addr);
        let claim = proof.map(|p| p.registration(&joiner, cookie)).filter(|c| c.check().is_ok());
        let holder = if joiner.id == self.me.id { Some(self.me) } else { left.filter(|l| l.id == joiner.id) };
        match (held, claim) {
            (Some(held), Some(claim)) if claim.supersedes(&held) => match holder {
                Some(h) if h == self.me => Admission::StepAside,
                _ => Admission::Accept(Some(claim)),
            },
            (Some(held), _) => {
                if held.id == self.me.id {
                    self.emit(Event::IdentityClaimed { claimant: joiner.addr });
                }
                Admission::Refuse(JoinStatus::IdRegistered)
            }
            (None, _) if holder.is_some_and(|h| h.addr != joiner.addr) => Admission::Refuse(JoinStatus::IdInUse),
            (None, claim) => Admission::Accept(claim),
        }
    }

    /// Keeps a registration whose signature was checked; counts a refusal.
    pub(crate) fn register(&mut self, record: crate::registration::Registration) {
        if self.ring.registry.offer(record, self.me.id, self.now).is_err() {
            self.stats.count_drop(DropReason::RegistrationRefused);
        }
    }

    /// Makes an accepted joiner our left neighbour and tells those affected.
    fn link_joiner(&mut self, joiner: ResourceLocator) {
        if self.ring.neighbours.left() == Some(&joiner) {
            // A repeated JOIN: the reply is all it needs.
            return;
        }
        // An owner taking over from its old address replaces it.
        let earlier = |c: &&ResourceLocator| c.id != joiner.id;
        let old_left = self.ring.neighbours.chain(Side::Left).iter().find(earlier).copied();
        let chain_len = self.config.chain_len();
        let left: Chain = core::iter::once(joiner)
            .chain(self.ring.neighbours.chain(Side::Left).iter().filter(earlier).copied())
            .take(chain_len)
            .collect();
        if let Some(old_left) = old_left {
            // Figure 3: node 14 tells node 9 that its right neighbour is now node 12.
            self.notify(old_left, Side::Right);
        } else {
            // We were alone: the joiner is both our neighbours. Having joined
            // through no one, we register our own ID ourselves.
            self.register_self();
            self.set_chain(Side::Right, left.clone(), Some(joiner.id));
        }
        // Keys in (old left, joiner] are the joiner's now: set_chain hands them over.
        self.set_chain(Side::Left, left, Some(joiner.id));
    }

    pub(crate) fn handle_join_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        (status, hops, cookie, seq): (JoinStatus, u8, u64, u32),
        left: &[ResourceLocator],
        right: &[ResourceLocator],
    ) -> Result<(), DropReason> {
        let names_us = left.first() == Some(&self.me) && header.sender.id != self.me.id;
        if status == JoinStatus::Accepted && !names_us {
            return Err(DropReason::InvalidReply);
        }
        // A Retry may come from a node with our ID (its holder, checking
        // whether we are its owner); one from ourselves was dropped already.
        if status == JoinStatus::Retry && cookie == 0 {
            return Err(DropReason::InvalidReply);
        }
        let tx = self.complete_request(header, MessageType::JoinReply, from, |_| true)?;
        let Purpose::Join { request, campaign, cookie: echoed, seq: signed, .. } = tx.purpose else {
            return Err(DropReason::UnexpectedResponse);
        };
        match status {
            // The responder wants to see that we receive at our address: the
            // JOIN again, straight to it, with its cookie. A node that asks
            // again for the cookie it was just given refuses it; another
            // node asking (the JOIN went on: the ring changed) gets its own.
            JoinStatus::Retry if echoed == 0 || from != tx.to => {
                // Counted as the hops the first copy took, as if it had been accepted there.
                let purpose = Purpose::Join { request, campaign, cookie, hops, seq };
                if self.start_request(from, purpose).is_err() {
                    self.join_attempt_failed(request, campaign, JoinFailure::Timeout);
                }
            }
            JoinStatus::Retry => self.join_attempt_failed(request, campaign, JoinFailure::CookieRefused),
            JoinStatus::NotMember => self.join_attempt_failed(request, campaign, JoinFailure::NotMember),
            JoinStatus::IdInUse | JoinStatus::IdRegistered => {
                self.ring.campaign = None;
                let reason =
                    if status == JoinStatus::IdInUse { JoinFailure::IdInUse } else { JoinFailure::IdRegistered };
                self.emit(Event::JoinFailed { request, reason });
            }
            JoinStatus::Accepted => {
                if echoed != 0 {
                    // Our registration, as the responder now keeps it.
                    let me = self.me;
                    self.register(crate::registration::Registration::sign(
                        &self.identity,
                        me.id,
                        me.addr,
                        signed,
                        echoed,
                    ));
                }
                self.joined(request, header.sender, hops, left, right)
            }
        }
        Ok(())
    }

    /// Takes our chains from an accepted JOIN_REPLY.
    fn joined(
        &mut self,
        request: RequestId,
        responder: ResourceLocator,
        hops: u8,
        left: &[ResourceLocator],
        right: &[ResourceLocator],
    ) {
        self.ring.campaign = None;
        let (me, chain_len) = (self.me.id, self.config.chain_len());
        let mut left_chain = cut_chain(me, Side::Left, left.iter().skip(1).copied(), chain_len);
        if left_chain.is_empty() {
            // The responder was alone: it is our left neighbour too.
            let _ = left_chain.push(responder);
        }
        let right_chain =
            cut_chain(me, Side::Right, core::iter::once(responder).chain(right.iter().copied()), chain_len);
        let left_neighbour = left_chain[0];
        self.ring.neighbours.replace(Side::Left, left_chain);
        self.ring.neighbours.replace(Side::Right, right_chain);
        let recent = self.ring.neighbours.contacts().copied().collect::<heapless::Vec<ResourceLocator, 12>>();
        self.ring.bootstrap.refresh(recent);
        self.schedule_maintenance();
        // Publish our files as soon as we are in the ring.
        self.timers.set(Timer::Publish, Some(self.now));
        self.emit(Event::Joined { request, left: left_neighbour, right: responder, hops });
    }
}
