//! The node state machine: inputs in, outputs out, no I/O.
//!
//! A driver feeds the node datagrams ([`Node::handle_datagram`]), timer ticks
//! ([`Node::handle_timeout`]) and commands ([`Node::join`], [`Node::lookup`],
//! [`Node::add_friend`], [`Node::ping`], [`Node::leave`], …), and after
//! **every** input drains [`Node::poll_output`] until it returns
//! [`Output::Timeout`]: first every datagram to send, then every event, then
//! the instant at which to call `handle_timeout` next.

use crate::bootstrap::BootstrapList;
use crate::config::{Config, ConfigError, EVENT_QUEUE_CAPACITY, OUTBOX_CAPACITY};
use crate::event::{CommandError, Event, Output, RequestId, Transmit};
use crate::friends::Friends;
use crate::id::{usable_address, Id, ResourceLocator};
use crate::join::JoinCampaign;
use crate::neighbours::{ChainChange, Neighbours};
use crate::outbox::Outgoing;
use crate::rng::Rng;
use crate::routing::{next_hop, Guides, NextHop};
use crate::stats::{bump, DropReason, Stats};
use crate::time::Instant;
use crate::transactions::{Journey, Purpose, Routed, Transaction, Transactions};
use crate::wire::{Chain, Header, Message, MessageType, Repr, Side};
use core::net::SocketAddrV6;
use core::time::Duration;

/// One MMP2P node, driven entirely by its caller.
#[derive(Clone, Debug)]
pub struct Node {
    pub(crate) config: Config,
    pub(crate) me: ResourceLocator,
    pub(crate) neighbours: Neighbours,
    pub(crate) friends: Friends,
    pub(crate) transactions: Transactions,
    pub(crate) outbox: heapless::Deque<Outgoing, OUTBOX_CAPACITY>,
    events: heapless::Deque<Event, EVENT_QUEUE_CAPACITY>,
    pub(crate) rng: Rng,
    next_request: u64,
    pub(crate) now: Instant,
    pub(crate) stats: Stats,
    pub(crate) bootstrap: BootstrapList,
    pub(crate) campaign: Option<JoinCampaign>,
    /// A node that founded the ring (or the key node) answers JOINs while alone.
    pub(crate) founder: bool,
    /// When the next stabilisation round is due (`None`: maintenance off or not in a ring).
    pub(crate) next_stabilise: Option<Instant>,
    pub(crate) stabilise_rounds: u32,
    /// When any datagram was last received.
    pub(crate) last_heard_any: Instant,
    /// Every probe failed with nothing heard meanwhile: our own link is presumed down.
    pub(crate) link_down: bool,
    /// A leave in progress: its command id.
    pub(crate) leaving: Option<RequestId>,
    /// The last LEAVE accepted (source and txid), to acknowledge a repeat.
    pub(crate) last_leave: Option<(SocketAddrV6, u64)>,
    /// The files this node shares.
    pub(crate) shared: crate::shared::SharedFiles,
    /// The locators this node keeps for others.
    pub(crate) store: crate::store::LocatorStore,
    /// Datagrams encoded on arrival of their input, waiting for the outbox.
    pub(crate) encoded: heapless::Deque<crate::publish::EncodedDatagram, { crate::config::STORE_RELAY_SLOTS }>,
    /// When the next STORE refresh (and replication) is due.
    pub(crate) next_publish: Option<Instant>,
    /// Which turn of our entries the next replication copies.
    pub(crate) replicate_turn: usize,
    /// What friends told us of their contacts.
    pub(crate) digests: crate::lookahead::Digests,
    /// Contacts' measured round-trip times.
    pub(crate) rtts: crate::proximity::Rtts,
    /// When our digest goes to the next friend (`None`: no friends, or lookahead off).
    pub(crate) next_digest: Option<Instant>,
    /// The friend (by position) that got our digest last.
    pub(crate) digest_turn: usize,
}

impl Node {
    /// A node with locator `me`, alone in a ring of its own until it joins
    /// one. The key node (ID 0) answers JOINs while alone; any other node
    /// does so only after [`found_ring`](Node::found_ring).
    ///
    /// `seed` determines every random choice the node makes.
    pub fn new(config: Config, me: ResourceLocator, now: Instant, seed: u64) -> Result<Node, ConfigError> {
        config.validate()?;
        Ok(Node {
            config,
            me,
            neighbours: Neighbours::default(),
            friends: Friends::default(),
            transactions: Transactions::default(),
            outbox: heapless::Deque::new(),
            events: heapless::Deque::new(),
            rng: Rng::new(seed),
            next_request: 0,
            now,
            stats: Stats::default(),
            bootstrap: BootstrapList::default(),
            campaign: None,
            founder: me.id == Id::KEY_NODE,
            next_stabilise: None,
            stabilise_rounds: 0,
            last_heard_any: now,
            link_down: false,
            leaving: None,
            last_leave: None,
            shared: crate::shared::SharedFiles::default(),
            store: crate::store::LocatorStore::default(),
            encoded: heapless::Deque::new(),
            next_publish: None,
            replicate_turn: 0,
            digests: crate::lookahead::Digests::default(),
            rtts: crate::proximity::Rtts::default(),
            next_digest: None,
            digest_turn: 0,
        })
    }

    /// Makes this node the first of a new ring: it answers JOINs while alone.
    pub fn found_ring(&mut self) {
        self.founder = true;
    }

    /// This node's locator.
    pub fn locator(&self) -> &ResourceLocator {
        &self.me
    }

    /// This node's ID.
    pub fn id(&self) -> Id {
        self.me.id
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The node's view of the ring around it.
    pub fn neighbours(&self) -> &Neighbours {
        &self.neighbours
    }

    /// The node's friends and their liveness.
    pub fn friends(&self) -> &Friends {
        &self.friends
    }

    /// What friends reported of their contacts (for lookahead routing).
    pub fn digests(&self) -> &crate::lookahead::Digests {
        &self.digests
    }

    /// Contacts' measured round-trip times (for proximity routing).
    pub fn rtts(&self) -> &crate::proximity::Rtts {
        &self.rtts
    }

    /// The node's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True while a JOIN of ours is outstanding.
    pub fn is_joining(&self) -> bool {
        self.campaign.is_some() || self.transactions.iter().any(|tx| matches!(tx.purpose, Purpose::Join { .. }))
    }

    /// True once the node shares a ring with at least one other node.
    pub fn is_joined(&self) -> bool {
        !self.neighbours.is_alone()
    }

    /// True if the node answers JOINs and routed messages: it shares a ring,
    /// or founded one.
    pub fn is_member(&self) -> bool {
        self.is_joined() || self.founder
    }

    /// True while the node presumes its own link down (every probe failed
    /// and nothing was heard meanwhile).
    pub fn is_link_down(&self) -> bool {
        self.link_down
    }

    /// Handles one datagram received from `from`.
    ///
    /// Whatever the bytes, the node does not panic and its tables stay within
    /// their capacities; a datagram it cannot use is dropped, counted in
    /// [`Stats`], and its reason returned.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddrV6, bytes: &[u8]) -> Result<(), DropReason> {
        self.now = now;
        bump(&mut self.stats.datagrams_in);
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(bytes.len() as u64);
        let result = match Repr::parse_bytes(bytes) {
            Ok(repr) => self.dispatch(from, bytes.len(), repr),
            Err(e) => Err(DropReason::Malformed(e)),
        };
        if let Err(reason) = result {
            self.stats.count_drop(reason);
        }
        result
    }

    fn dispatch(&mut self, from: SocketAddrV6, len: usize, repr: Repr) -> Result<(), DropReason> {
        let Repr { header, message } = repr;
        if header.sender == self.me {
            return Err(DropReason::FromSelf);
        }
        self.heard(from, &header);
        match message {
            Message::Ping => {
                self.send(Outgoing::Pong { to: from, txid: header.txid });
                Ok(())
            }
            Message::Pong => self.handle_pong(from, &header),
            Message::Ack => self.handle_ack(from, &header),
            Message::HopAck => self.handle_hop_ack(from, &header),
            Message::Join { joiner, hops } => self.handle_join(from, &header, len, joiner, hops),
            Message::JoinReply { status, hops, left, right } => {
                self.handle_join_reply(from, &header, status, hops, &left, &right)
            }
            Message::NeighbourUpdate { side, chain } => self.handle_neighbour_update(from, &header, side, &chain),
            Message::Stabilise => self.handle_stabilise(from, &header),
            Message::StabiliseReply { left, right } => self.handle_stabilise_reply(from, &header, &left, &right),
            Message::Leave { side, chain } => self.handle_leave(from, &header, side, &chain),
            Message::FriendDigest { ids } => self.handle_friend_digest(from, &header, &ids),
            Message::Lookup { origin, key, hops } => {
                self.take_routed(from, &header, Routed::Lookup { origin, key }, hops)
            }
            Message::LookupReply { key, hops } => self.handle_lookup_reply(from, &header, key, hops),
            Message::Store { owner, hops, entries } => self.handle_store(&header, owner, hops, &entries),
            Message::Verify { owner, keys } => self.handle_verify(from, &header, owner, &keys),
            Message::VerifyReply { keys, mask } => self.handle_verify_reply(from, &header, &keys, mask),
            Message::Search { origin, key, hops } => {
                self.take_routed(from, &header, Routed::Search { origin, key }, hops)
            }
            Message::SearchPage { key, page } => self.handle_search_page(from, &header, key, page),
            reply @ Message::SearchReply { .. } => self.handle_search_reply(from, &header, &reply),
            Message::Replicate { entries } => self.handle_replicate(from, &header, &entries),
            Message::ListFiles { page } => self.handle_list_files(from, &header, page),
            list @ Message::FileList { .. } => self.handle_file_list(from, &header, &list),
        }
    }

    /// Handles the passage of time: retransmits requests whose deadline has
    /// passed, fails those out of attempts, and runs the periodic maintenance.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while let Some(index) = self.transactions.first_due(now) {
            let policy = self.transactions.get_mut(index).purpose.policy(&self.config);
            if matches!(self.transactions.get_mut(index).purpose, Purpose::Forward { .. }) {
                let tx = self.transactions.remove_at(index);
                self.hop_timed_out(tx);
                continue;
            }
            let tx = self.transactions.get_mut(index);
            if tx.attempts < policy.attempts {
                let factor = if policy.backoff { 1u32 << tx.attempts.min(16) } else { 1 };
                tx.attempts += 1;
                tx.sent_at = now;
                tx.deadline = now + policy.timeout.saturating_mul(factor);
                let tx = tx.clone();
                bump(&mut self.stats.retransmits);
                self.transmit_request(&tx);
            } else {
                let tx = self.transactions.remove_at(index);
                bump(&mut self.stats.requests_failed);
                self.request_failed(tx);
            }
        }
        self.maintain(now);
        self.send_digests(now);
        self.refresh_store(now);
        self.continue_campaign(now);
    }

    /// The instant at which [`handle_timeout`](Node::handle_timeout) has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.transactions.next_deadline(),
            self.next_maintenance(),
            self.campaign.as_ref().and_then(|c| c.retry_at),
            self.next_publish.filter(|_| self.config.maintenance),
            self.store.next_expiry(),
            self.next_digest.filter(|_| self.config.maintenance),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next output: datagrams first (written into `buf`, which should be
    /// [`MAX_DATAGRAM`](crate::wire::MAX_DATAGRAM) bytes), then events, then
    /// [`Output::Timeout`] once drained.
    pub fn poll_output(&mut self, buf: &mut [u8]) -> Output {
        if let Some((to, len)) = self.encode_next(buf) {
            return Output::Transmit(Transmit { to, len });
        }
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        Output::Timeout(self.poll_timeout())
    }

    /// Adds a friend (or updates a known friend's address); friends serve as
    /// routing shortcuts and are probed for liveness.
    pub fn add_friend(&mut self, friend: ResourceLocator) -> Result<(), CommandError> {
        if friend.id == self.me.id {
            return Err(CommandError::OwnLocator);
        }
        if !friend.is_usable() {
            return Err(CommandError::InvalidAddress);
        }
        let first_probe = self.now + self.jittered(self.config.friend_probe_interval);
        self.friends.insert(friend, self.now, first_probe).map_err(|_| CommandError::FriendsFull)?;
        if self.config.lookahead {
            // The new friend hears our contacts at once; the round of digests covers it from now on.
            self.send(Outgoing::FriendDigest { to: friend.addr });
            if self.next_digest.is_none() {
                self.next_digest = Some(self.now + self.jittered(self.config.digest_interval));
            }
        }
        Ok(())
    }

    /// Forgets a friend; true if it was known.
    pub fn remove_friend(&mut self, id: Id) -> bool {
        self.digests.forget(id);
        self.friends.remove(id)
    }

    /// Pings `peer`; completes with [`Event::PingSucceeded`] or [`Event::PingFailed`].
    pub fn ping(&mut self, now: Instant, peer: SocketAddrV6) -> Result<RequestId, CommandError> {
        self.now = now;
        if !usable_address(&peer) {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        self.start_request(peer, Purpose::Ping { request })?;
        Ok(request)
    }

    fn handle_pong(&mut self, from: SocketAddrV6, header: &Header) -> Result<(), DropReason> {
        let tx = self.complete_request(header, MessageType::Pong, from, |_| true)?;
        match tx.purpose {
            Purpose::Ping { request } => {
                let rtt = self.now.saturating_duration_since(tx.sent_at);
                self.emit(Event::PingSucceeded { request, peer: from, rtt });
            }
            Purpose::Probe { .. } => self.probe_answered(&tx),
            Purpose::Handover { joiner, from } => self.hand_over(&joiner, from),
            _ => {}
        }
        Ok(())
    }

    // ----- shared machinery for the protocol modules -----

    /// A fresh command id.
    pub(crate) fn next_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// `period` scaled by a random factor in [0.75, 1.25).
    pub(crate) fn jittered(&mut self, period: Duration) -> Duration {
        let micros = u64::try_from(period.as_micros()).unwrap_or(u64::MAX);
        let permille = 750 + self.rng.below(500);
        Duration::from_micros(micros / 1000 * permille)
    }

    /// Records a request and sends its first transmission.
    pub(crate) fn start_request(&mut self, to: SocketAddrV6, purpose: Purpose) -> Result<u64, CommandError> {
        let txid = self.rng.next_u64();
        self.start_request_with(txid, to, purpose)?;
        Ok(txid)
    }

    /// Records a request under a given txid (a relayed message keeps its originator's) and sends it.
    pub(crate) fn start_request_with(
        &mut self,
        txid: u64,
        to: SocketAddrV6,
        purpose: Purpose,
    ) -> Result<(), CommandError> {
        let tx = self.track_request(txid, to, purpose)?;
        self.transmit_request(&tx);
        Ok(())
    }

    /// Records a request as sent now, without sending anything.
    pub(crate) fn track_request(
        &mut self,
        txid: u64,
        to: SocketAddrV6,
        purpose: Purpose,
    ) -> Result<Transaction, CommandError> {
        let timeout = purpose.policy(&self.config).timeout;
        let now = self.now;
        let tx = Transaction { txid, to, purpose, attempts: 1, started: now, sent_at: now, deadline: now + timeout };
        self.transactions.insert(tx.clone()).map_err(|_| CommandError::TooManyRequests)?;
        Ok(tx)
    }

    /// Queues one transmission of an outstanding request.
    fn transmit_request(&mut self, tx: &Transaction) {
        let (to, txid, hop_limit) = (tx.to, tx.txid, self.config.hop_limit);
        self.send(match tx.purpose {
            Purpose::Join { .. } => {
                Outgoing::Routed { to, txid, journey: Journey::start(Routed::Join { joiner: self.me }, hop_limit) }
            }
            Purpose::Lookup { .. } | Purpose::Search { .. } => return self.resend(txid, &tx.purpose),
            Purpose::Ping { .. }
            | Purpose::Handover { .. }
            | Purpose::Probe { role: crate::transactions::Role::Backup | crate::transactions::Role::Friend, .. } => {
                Outgoing::Ping { to, txid }
            }
            Purpose::Probe { .. } => Outgoing::Stabilise { to, txid },
            Purpose::NeighbourUpdate { peer, side } => Outgoing::NeighbourUpdate { peer, txid, side },
            Purpose::Leave { side, .. } => Outgoing::Leave { to, txid, side },
            Purpose::Forward { journey, .. } => Outgoing::Routed { to, txid, journey },
            Purpose::SearchPage { key, page, .. } => Outgoing::SearchPage { to, txid, key, page },
            Purpose::Verify { owner } => Outgoing::Verify { owner, txid },
            Purpose::ListFiles { page, .. } => Outgoing::ListFiles { to, txid, page },
        });
    }

    /// Reports a request that ran out of attempts.
    fn request_failed(&mut self, tx: Transaction) {
        let event = match tx.purpose {
            Purpose::Join { request, campaign } => {
                return self.join_attempt_failed(request, campaign, crate::event::JoinFailure::Timeout)
            }
            Purpose::Lookup { request, key } => Event::LookupFailed { request, key },
            Purpose::Ping { request } => Event::PingFailed { request, peer: tx.to },
            Purpose::NeighbourUpdate { peer, .. } => Event::NeighbourUnreachable { peer },
            Purpose::Leave { request, .. } => return self.leave_step_done(request),
            Purpose::Probe { .. } => return self.probe_failed(&tx),
            Purpose::Forward { .. } => return,
            Purpose::Search { request, key } | Purpose::SearchPage { request, key, .. } => {
                Event::SearchFailed { request, key }
            }
            Purpose::Verify { .. } => return self.verify_failed(&tx),
            Purpose::ListFiles { request, friend, .. } => Event::FileListFailed { request, friend },
            // The joiner never proved its address: it gets its keys from the owners' refreshes.
            Purpose::Handover { .. } => return,
        };
        self.emit(event);
    }

    /// Completes the request a response answers (see `Transactions::complete`).
    /// A request answered by the contact it went to, on its first
    /// transmission, gives a round-trip sample of that contact.
    pub(crate) fn complete_request(
        &mut self,
        header: &Header,
        response: MessageType,
        from: SocketAddrV6,
        matches: impl Fn(&Purpose) -> bool,
    ) -> Result<Transaction, DropReason> {
        let tx = self.transactions.complete(header.txid, response, from, header.sender.addr, matches)?;
        if self.config.proximity && tx.attempts == 1 && tx.to == from {
            self.rtts.sample(from, self.now.saturating_duration_since(tx.sent_at), self.now);
        }
        Ok(tx)
    }

    /// Queues an event; a full queue drops it and counts the drop.
    pub(crate) fn emit(&mut self, event: Event) {
        if self.events.push_back(event).is_err() {
            self.stats.count_drop(DropReason::EventQueueFull);
        }
    }

    /// The next hop for a routed message towards `key`, never via `avoid`
    /// nor any address in `tried`; a detour only if `may_detour`.
    pub(crate) fn route(
        &self,
        key: Id,
        avoid: Option<&ResourceLocator>,
        tried: &[SocketAddrV6],
        may_detour: bool,
    ) -> NextHop {
        let guides = Guides {
            digests: self.config.lookahead.then_some(&self.digests),
            may_detour: may_detour && self.config.lookahead,
            rtts: self.config.proximity.then_some(&self.rtts),
        };
        next_hop(self.me.id, key, &self.neighbours, self.friends.alive(), avoid, tried, &guides)
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

    /// Adopts `chain` on `side` and announces the change to the nodes whose
    /// chains derive from ours. `quiet` names a node already told (a joiner
    /// that got our chains in its JOIN_REPLY).
    pub(crate) fn set_chain(&mut self, side: Side, chain: Chain, quiet: Option<Id>) {
        let Some(change) = self.neighbours.replace(side, chain) else {
            return;
        };
        self.announce(change, quiet);
        self.schedule_maintenance();
    }

    fn announce(&mut self, change: ChainChange, quiet: Option<Id>) {
        let ChainChange { side, old_neighbour, new_neighbour } = change;
        // Our opposite neighbour's chain on `side` runs through us.
        if let Some(opposite) = self.neighbours.neighbour(side.opposite()).copied() {
            if Some(opposite.id) != quiet {
                self.notify(opposite, side);
            }
        }
        if old_neighbour != new_neighbour {
            // A new neighbour learns our other side from us.
            if let Some(new) = new_neighbour.filter(|n| Some(n.id) != quiet) {
                self.notify(new, side.opposite());
            }
            self.emit(Event::NeighbourChanged { side, neighbour: new_neighbour });
        }
    }

    /// Sends `peer` the chain it should hold on `side`, reliably.
    pub(crate) fn notify(&mut self, peer: ResourceLocator, side: Side) {
        // An update already outstanding for the same peer and side is sent
        // again at once under its own txid: chains are read at encode time, so
        // it carries the newest chain, and either copy's ACK completes it.
        let outstanding = self.transactions.iter().find(|tx| tx.purpose == Purpose::NeighbourUpdate { peer, side });
        if let Some(tx) = outstanding {
            let txid = tx.txid;
            self.send(Outgoing::NeighbourUpdate { peer, txid, side });
        } else if self.start_request(peer.addr, Purpose::NeighbourUpdate { peer, side }).is_err() {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }
}
