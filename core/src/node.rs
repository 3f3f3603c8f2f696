//! The node state machine: inputs in, outputs out, no I/O.
//!
//! A driver feeds the node datagrams ([`Node::handle_datagram`]), timer ticks
//! ([`Node::handle_timeout`]) and commands ([`Node::join`], [`Node::lookup`],
//! [`Node::add_friend`], [`Node::ping`]), and after **every** input drains
//! [`Node::poll_output`] until it returns [`Output::Timeout`]: first every
//! datagram to send, then every event, then the instant at which to call
//! `handle_timeout` next.

use crate::config::{Config, ConfigError, EVENT_QUEUE_CAPACITY, OUTBOX_CAPACITY};
use crate::event::{CommandError, Event, Output, RequestId, Transmit};
use crate::friends::Friends;
use crate::id::{Id, ResourceLocator};
use crate::neighbours::{ChainChange, Neighbours};
use crate::outbox::Outgoing;
use crate::rng::Rng;
use crate::routing::{next_hop, NextHop};
use crate::stats::{bump, DropReason, Stats};
use crate::time::Instant;
use crate::transactions::{Purpose, Transaction, Transactions};
use crate::wire::{Chain, Header, Message, MessageType, Repr, Side};
use core::net::SocketAddrV6;

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
    rng: Rng,
    next_request: u64,
    pub(crate) now: Instant,
    pub(crate) stats: Stats,
}

impl Node {
    /// A node with locator `me`, alone in a ring of its own until it joins
    /// one (the key node never joins: others join it).
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
        })
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

    /// The node's friends.
    pub fn friends(&self) -> &Friends {
        &self.friends
    }

    /// The node's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True while a JOIN of ours is outstanding.
    pub fn is_joining(&self) -> bool {
        self.transactions.iter().any(|tx| matches!(tx.purpose, Purpose::Join { .. }))
    }

    /// True once the node shares a ring with at least one other node.
    pub fn is_joined(&self) -> bool {
        !self.neighbours.is_alone()
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
        match message {
            Message::Ping => {
                self.send(Outgoing::Pong { to: from, txid: header.txid });
                Ok(())
            }
            Message::Pong => self.handle_pong(from, &header),
            Message::Ack => self.handle_ack(from, &header),
            Message::Join { joiner, hops } => self.handle_join(&header, len, joiner, hops),
            Message::JoinReply { status, hops, left, right } => {
                self.handle_join_reply(from, &header, status, hops, &left, &right)
            }
            Message::NeighbourUpdate { side, chain } => self.handle_neighbour_update(from, &header, side, &chain),
            Message::Lookup { origin, key, hops } => self.handle_lookup(&header, origin, key, hops),
            Message::LookupReply { key, hops } => self.handle_lookup_reply(from, &header, key, hops),
        }
    }

    /// Handles the passage of time: retransmits requests whose deadline has
    /// passed and fails those out of attempts.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        let (timeout, max_attempts) = (self.config.request_timeout, self.config.max_attempts);
        while let Some(tx) = self.transactions.first_due(now) {
            if tx.attempts < max_attempts {
                let backoff = 1u32 << tx.attempts.min(16);
                tx.attempts += 1;
                tx.sent_at = now;
                tx.deadline = now + timeout.saturating_mul(backoff);
                let tx = *tx;
                bump(&mut self.stats.retransmits);
                self.transmit_request(&tx);
            } else {
                let txid = tx.txid;
                if let Some(tx) = self.transactions.remove(txid) {
                    bump(&mut self.stats.requests_failed);
                    self.request_failed(&tx);
                }
            }
        }
    }

    /// The instant at which [`handle_timeout`](Node::handle_timeout) has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transactions.next_deadline()
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
    /// routing shortcuts.
    pub fn add_friend(&mut self, friend: ResourceLocator) -> Result<(), CommandError> {
        if friend.id == self.me.id {
            return Err(CommandError::OwnLocator);
        }
        if !usable_address(&friend.addr) {
            return Err(CommandError::InvalidAddress);
        }
        self.friends.insert(friend).map_err(|_| CommandError::FriendsFull)
    }

    /// Forgets a friend; true if it was known.
    pub fn remove_friend(&mut self, id: Id) -> bool {
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
        let tx = self.transactions.complete(header.txid, MessageType::Pong, from, header.sender.addr, |_| true)?;
        if let Purpose::Ping { request } = tx.purpose {
            let rtt = self.now.saturating_duration_since(tx.sent_at);
            self.emit(Event::PingSucceeded { request, peer: from, rtt });
        }
        Ok(())
    }

    // ----- shared machinery for the protocol modules -----

    /// A fresh command id.
    pub(crate) fn next_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// Records a request and sends its first transmission.
    pub(crate) fn start_request(&mut self, to: SocketAddrV6, purpose: Purpose) -> Result<u64, CommandError> {
        if self.transactions.is_full() {
            return Err(CommandError::TooManyRequests);
        }
        let txid = self.rng.next_u64();
        let tx = Transaction {
            txid,
            to,
            purpose,
            attempts: 1,
            sent_at: self.now,
            deadline: self.now + self.config.request_timeout,
        };
        self.transactions.insert(tx).map_err(|_| CommandError::TooManyRequests)?;
        self.transmit_request(&tx);
        Ok(txid)
    }

    /// Queues one transmission of an outstanding request.
    fn transmit_request(&mut self, tx: &Transaction) {
        let (to, txid, hop_limit) = (tx.to, tx.txid, self.config.hop_limit);
        self.send(match tx.purpose {
            Purpose::Join { .. } => Outgoing::Join { to, txid, hop_limit, joiner: self.me, hops: 1 },
            Purpose::Lookup { key, .. } => Outgoing::Lookup { to, txid, hop_limit, origin: self.me, key, hops: 1 },
            Purpose::Ping { .. } => Outgoing::Ping { to, txid },
            Purpose::NeighbourUpdate { peer, side } => Outgoing::NeighbourUpdate { peer, txid, side },
        });
    }

    /// Reports a request that ran out of attempts.
    fn request_failed(&mut self, tx: &Transaction) {
        let event = match tx.purpose {
            Purpose::Join { request } => Event::JoinFailed { request, reason: crate::event::JoinFailure::Timeout },
            Purpose::Lookup { request, key } => Event::LookupFailed { request, key },
            Purpose::Ping { request } => Event::PingFailed { request, peer: tx.to },
            Purpose::NeighbourUpdate { peer, .. } => Event::NeighbourUnreachable { peer },
        };
        self.emit(event);
    }

    /// Queues an event; a full queue drops it and counts the drop.
    pub(crate) fn emit(&mut self, event: Event) {
        if self.events.push_back(event).is_err() {
            self.stats.count_drop(DropReason::EventQueueFull);
        }
    }

    /// The next hop for a routed message towards `key`, never via `avoid`.
    pub(crate) fn route(&self, key: Id, avoid: Option<&ResourceLocator>) -> NextHop {
        next_hop(self.me.id, key, &self.neighbours, self.friends.iter(), avoid)
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

/// True for an address a node can send to: not unspecified, multicast or IPv4-mapped.
pub(crate) fn usable_address(addr: &SocketAddrV6) -> bool {
    let ip = addr.ip();
    !(ip.is_unspecified() || ip.is_multicast() || ip.to_ipv4_mapped().is_some())
}
