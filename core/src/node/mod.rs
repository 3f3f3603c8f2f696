//! The node state machine: [`Node`] and, in the folders beside this file,
//! one file per protocol rule that adds to it — `ring/` (join, leave,
//! stabilise, liveness, neighbour updates), `routing/` (relay, lookup,
//! lookahead), `dht/` (publish, verify, search, replicate, files),
//! `messenger/` (friend requests, presence, chat), `transfer/` (serving,
//! sending, fetching, scheduling), `conference/` (membership, the delivery
//! tree's search, adoption and liveness) — plus the
//! machinery they share: `requests.rs`, `outbox.rs`, `timers.rs`, `state.rs`.

mod conference;
mod dht;
mod friends;
mod identity;
mod messenger;
mod outbox;
mod requests;
mod ring;
mod routing;
mod state;
mod timers;
mod transfer;

use crate::capacity::{Capacity, Queue};
use crate::config::{Config, ConfigError};
use crate::event::{Event, Output, Transmit};
use crate::id::{Id, ResourceLocator};
use crate::identity::Identity;
use crate::profile::Desktop;
use crate::profile::Profile;
use crate::rng::Rng;
use crate::stats::{bump, DropReason, Stats};
use crate::tables::friends::Friends;
use crate::tables::neighbours::Neighbours;
use crate::tables::outbox::Outgoing;
use crate::tables::timers::{Timer, TimerTable};
use crate::tables::transactions::{JoinAsk, Purpose, Routed};
use crate::time::Instant;
use crate::wire::{Message, Repr};
use core::net::SocketAddrV6;
use state::{DhtState, LivenessState, LookaheadState, MessengerState, RequestState, RingState, TransferState};

/// One MMP2P node, driven entirely by its caller.
///
/// A `Node` never touches a socket, a clock, a file or OS randomness: every
/// method that needs the time takes it (`now`), and `seed` in [`Node::new`]
/// decides every random choice, so the same inputs give the same outputs,
/// bit for bit.
///
/// # Methods by kind
///
/// - **Construction and getters**: [`new`](Node::new),
///   [`with_profile`](Node::with_profile) (tables sized by a
///   [`Profile`], see [`profile`](crate::profile)),
///   [`found_ring`](Node::found_ring), [`set_bootstrap`](Node::set_bootstrap);
///   [`locator`](Node::locator), [`id`](Node::id), [`config`](Node::config),
///   [`neighbours`](Node::neighbours), [`friends`](Node::friends),
///   [`digests`](Node::digests), [`rtts`](Node::rtts), [`stats`](Node::stats),
///   [`bootstrap`](Node::bootstrap), [`shared`](Node::shared),
///   [`store`](Node::store), [`is_joining`](Node::is_joining),
///   [`is_joined`](Node::is_joined), [`is_member`](Node::is_member),
///   [`is_link_down`](Node::is_link_down), [`contacts`](Node::contacts),
///   [`friend_requests`](Node::friend_requests), [`presence`](Node::presence),
///   [`undelivered`](Node::undelivered), [`mailbox`](Node::mailbox),
///   [`served`](Node::served), [`uploads`](Node::uploads),
///   [`downloads`](Node::downloads), [`conferences`](Node::conferences).
///   They never change the node.
/// - **Inputs**: [`handle_datagram`](Node::handle_datagram) (a datagram from
///   an address) and [`handle_timeout`](Node::handle_timeout) (time passed).
/// - **Commands**: [`join`](Node::join), [`join_bootstrap`](Node::join_bootstrap),
///   [`leave`](Node::leave), [`lookup`](Node::lookup), [`ping`](Node::ping),
///   [`add_friend`](Node::add_friend), [`remove_friend`](Node::remove_friend),
///   [`share`](Node::share), [`search`](Node::search),
///   [`search_id`](Node::search_id), [`list_files`](Node::list_files); the
///   messenger's [`request_friend`](Node::request_friend),
///   [`accept_friend`](Node::accept_friend), [`decline_friend`](Node::decline_friend),
///   [`block`](Node::block), [`unfriend`](Node::unfriend),
///   [`set_presence`](Node::set_presence), [`say`](Node::say),
///   [`read_message`](Node::read_message) and the `restore_*` commands that
///   give a restarted node what its program kept; the transfers'
///   [`serve_content`](Node::serve_content), [`unserve_content`](Node::unserve_content),
///   [`query_content`](Node::query_content), [`download`](Node::download),
///   [`add_source`](Node::add_source) and [`cancel_download`](Node::cancel_download); the
///   conferences' [`create_conference`](Node::create_conference),
///   [`invite_to_conference`](Node::invite_to_conference),
///   [`answer_invitation`](Node::answer_invitation),
///   [`leave_conference`](Node::leave_conference) and
///   [`remove_from_conference`](Node::remove_from_conference). Each
///   takes `now`; one that completes later returns a
///   [`RequestId`](crate::RequestId) its events carry; one that cannot start
///   returns a typed [`CommandError`](crate::CommandError) and changes nothing.
/// - **Outputs**: [`poll_output`](Node::poll_output) (datagrams, then file
///   bytes to write, then events, then the next deadline) and
///   [`poll_timeout`](Node::poll_timeout).
///
/// # The drain rule
///
/// After **every** input and command, call [`poll_output`](Node::poll_output)
/// until it returns [`Output::Timeout`]: first each datagram to send
/// ([`Output::Transmit`], written into your buffer), then each event
/// ([`Output::Event`]), then the instant at which to call
/// [`handle_timeout`](Node::handle_timeout) (`None`: only when input
/// arrives). Outputs wait in bounded queues; a node that is not drained
/// drops what does not fit and counts it in [`Stats`].
///
/// # Example
///
/// Two nodes, a key node and a joiner, on an in-memory network with 5 ms
/// between them: the joiner asks to join, and each datagram is delivered in
/// turn, each input followed by a drain, until the JOIN is answered.
///
/// ```
/// use core::net::{Ipv6Addr, SocketAddrV6};
/// use core::time::Duration;
/// use mmp2p_core::{Config, Event, Id, Instant, Node, Output, ResourceLocator, MAX_DATAGRAM};
///
/// let addr = |n| SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n), 4000, 0, 0);
/// let key = ResourceLocator::new(Id::KEY_NODE, addr(1));
/// let alice = ResourceLocator::new(Id::from_email("alice@example.org"), addr(2));
/// let mut now = Instant::ZERO;
/// let mut nodes = [Node::new(Config::default(), key, now, 1)?, Node::new(Config::default(), alice, now, 2)?];
/// let request = nodes[1].join(now, key.addr)?;
///
/// let mut in_flight = std::collections::VecDeque::new();
/// let mut buf = [0u8; MAX_DATAGRAM];
/// let mut joined = None;
/// loop {
///     for node in nodes.iter_mut() {
///         // The drain: datagrams, then file bytes, then events, then the deadline.
///         loop {
///             match node.poll_output(&mut buf) {
///                 Output::Transmit(t) => in_flight.push_back((t.to, node.locator().addr, buf[..t.len].to_vec())),
///                 Output::Event(Event::Joined { request: r, hops, .. }) if r == request => joined = Some(hops),
///                 Output::Event(_) => {}
///                 // File bytes to write: these nodes download nothing.
///                 Output::Write(_) => {}
///                 Output::Timeout(_) => break,
///             }
///         }
///     }
///     let Some((to, from, bytes)) = in_flight.pop_front() else { break };
///     now = now + Duration::from_millis(5);
///     let receiver = nodes.iter_mut().find(|n| n.locator().addr == to).expect("one of ours");
///     // A datagram the node cannot use is dropped, counted, and its reason returned.
///     let _ = receiver.handle_datagram(now, from, &bytes);
/// }
/// assert_eq!(joined, Some(1));
/// assert_eq!(nodes[1].neighbours().right(), Some(&key));
/// assert_eq!(nodes[0].neighbours().left(), Some(&alice));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Node<P: Profile = Desktop> {
    config: Config,
    me: ResourceLocator,
    /// The instant of the latest input.
    now: Instant,
    rng: Rng,
    stats: Stats,
    ring: RingState<P>,
    liveness: LivenessState<P>,
    dht: DhtState<P>,
    lookahead: LookaheadState<P>,
    requests: RequestState<P>,
    messenger: MessengerState<P>,
    transfers: TransferState<P>,
    /// The conferences we are in or invited to, with their trees.
    conferences: crate::tables::conferences::Conferences<P::Apps>,
    /// Conference chat messages on their way along the trees.
    conference_chats: crate::tables::conference_chat::ConferenceChats<P::Apps>,
    /// Conference files and streams we send or receive.
    conference_transfers: crate::tables::conference_transfer::ConferenceTransfers<P::Apps>,
    /// Conference pieces waiting to go.
    conference_out: crate::tables::conference_out::ConferenceOut<P::Apps>,
    /// Deadlines the node schedules itself (see [`Timer`]).
    timers: TimerTable,
    outbox: Queue<Outgoing, P::Outbox>,
    events: Queue<Event, P::Events>,
    /// The key pair the node signs with in its user's name.
    identity: Identity,
}

impl Node {
    /// A node with locator `me`, alone in a ring of its own until it joins
    /// one. The key node (ID 0) answers JOINs while alone; any other node
    /// does so only after [`found_ring`](Node::found_ring).
    ///
    /// `seed` determines every random choice the node makes. The node has
    /// the [`Desktop`] profile's tables; [`with_profile`](Node::with_profile)
    /// chooses others.
    pub fn new(config: Config, me: ResourceLocator, now: Instant, seed: u64) -> Result<Node, ConfigError> {
        Node::with_profile(config, me, now, seed)
    }
}

impl<P: Profile> Node<P> {
    /// A node like [`new`](Node::new) makes, with the tables of profile `P`.
    ///
    /// ```
    /// use core::net::{Ipv6Addr, SocketAddrV6};
    /// use mmp2p_core::profile::OverlayOnly;
    /// use mmp2p_core::{Config, Id, Instant, Node, ResourceLocator};
    ///
    /// let me = ResourceLocator::new(Id::KEY_NODE, SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0));
    /// let node = Node::<OverlayOnly>::with_profile(Config::default(), me, Instant::ZERO, 1)?;
    /// assert_eq!(node.friends().capacity(), 50);
    /// # Ok::<(), mmp2p_core::config::ConfigError>(())
    /// ```
    pub fn with_profile(config: Config, me: ResourceLocator, now: Instant, seed: u64) -> Result<Node<P>, ConfigError> {
        const { assert!(P::Counted::MAX > 0, "a profile counts at least one unproven address") };
        config.validate()?;
        Ok(Node {
            config,
            me,
            now,
            rng: Rng::new(seed),
            stats: Stats::default(),
            ring: RingState {
                founder: me.id == Id::KEY_NODE,
                cookie_key: secret_key(seed, COOKIE_KEY),
                ..RingState::default()
            },
            liveness: LivenessState::new(now),
            dht: DhtState::default(),
            lookahead: LookaheadState::default(),
            requests: RequestState::default(),
            messenger: MessengerState::default(),
            transfers: TransferState::default(),
            conferences: crate::tables::conferences::Conferences::default(),
            conference_chats: crate::tables::conference_chat::ConferenceChats::default(),
            conference_transfers: crate::tables::conference_transfer::ConferenceTransfers::default(),
            conference_out: crate::tables::conference_out::ConferenceOut::default(),
            timers: TimerTable::default(),
            outbox: Queue::new(),
            events: Queue::new(),
            identity: Identity::from_seed(secret_key(seed, IDENTITY_KEY)),
        })
    }

    /// Makes this node the first of a new ring: it answers JOINs while alone.
    pub fn found_ring(&mut self) {
        self.ring.founder = true;
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
        &self.ring.neighbours
    }

    /// The node's friends and their liveness.
    pub fn friends(&self) -> &Friends<P::Friends> {
        &self.liveness.friends
    }

    /// What friends reported of their contacts (for lookahead routing).
    pub fn digests(&self) -> &crate::tables::digests::Digests<P::DigestOwners, P::DigestIds> {
        &self.lookahead.digests
    }

    /// Contacts' measured round-trip times (for proximity routing).
    pub fn rtts(&self) -> &crate::tables::rtts::Rtts<P::Rtts> {
        &self.lookahead.rtts
    }

    /// The node's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True while a JOIN of ours is outstanding.
    pub fn is_joining(&self) -> bool {
        self.ring.campaign.is_some()
            || self.requests.transactions.iter().any(|tx| matches!(tx.purpose, Purpose::Join { .. }))
    }

    /// True once the node shares a ring with at least one other node.
    pub fn is_joined(&self) -> bool {
        !self.ring.neighbours.is_alone()
    }

    /// True if the node answers JOINs and routed messages: it shares a ring,
    /// or founded one.
    pub fn is_member(&self) -> bool {
        self.is_joined() || self.ring.founder
    }

    /// True while the node presumes its own link down (every probe failed
    /// and nothing was heard meanwhile).
    pub fn is_link_down(&self) -> bool {
        self.liveness.link_down
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
        self.count_received(from, len, &message);
        let result = self.handle_message(from, len, header, message);
        self.requests.unproven_input = false;
        result
    }

    /// Counts `len` bytes as received from `from`, and in the name of the
    /// address the message names, towards their 3× allowances; until the
    /// message is handled, requests it starts are charged to their
    /// destinations if `from` is unproven.
    fn count_received(&mut self, from: SocketAddrV6, len: usize, message: &Message) {
        let (budgets, now) = (&mut self.requests.budgets, self.now);
        budgets.credit(from, len, now);
        if let Some(named) = message.named_address().filter(|named| *named != from) {
            budgets.credit(named, len, now);
        }
        self.requests.unproven_input = !budgets.is_proven(&from, now);
    }

    fn handle_message(
        &mut self,
        from: SocketAddrV6,
        len: usize,
        header: crate::wire::Header,
        message: Message,
    ) -> Result<(), DropReason> {
        match message {
            Message::Ping => {
                self.send(Outgoing::Pong { to: from, txid: header.txid });
                Ok(())
            }
            Message::Pong => self.handle_pong(from, &header),
            Message::Ack => self.handle_ack(from, &header),
            Message::HopAck => self.handle_hop_ack(from, &header),
            Message::Join { joiner, hops, cookie, proof } => {
                self.handle_join(from, &header, len, JoinAsk { joiner, hops, cookie, proof })
            }
            Message::JoinReply { status, hops, left, right, cookie, seq } => {
                self.handle_join_reply(from, &header, (status, hops, cookie, seq), &left, &right)
            }
            Message::NeighbourUpdate { side, chain } => self.handle_neighbour_update(from, &header, side, &chain),
            Message::Stabilise { identify } => self.handle_stabilise(from, &header, identify),
            Message::StabiliseReply { left, right, proof } => {
                self.handle_stabilise_reply(from, &header, (&left, &right), proof)
            }
            Message::Leave { side, chain } => self.handle_leave(from, &header, side, &chain),
            Message::FriendDigest { ids } => self.handle_friend_digest(from, &header, &ids),
            Message::RegistryCopy { records } => self.handle_registry_copy(from, &header, &records),
            Message::RegistryGet { origin, id, hops } => {
                self.take_routed(from, &header, Routed::RegistryGet { origin, id }, hops)
            }
            Message::RegistryRecord { id, record } => self.handle_registry_record(from, &header, id, record),
            Message::Lookup { origin, key, hops } => {
                self.take_routed(from, &header, Routed::Lookup { origin, key }, hops)
            }
            Message::LookupReply { key, hops } => self.handle_lookup_reply(from, &header, key, hops),
            Message::Store { owner, key, hops, entries } => self.handle_store(&header, (owner, key), hops, &entries),
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
            Message::FriendRequest(request) => self.handle_friend_request(from, &header, request),
            Message::FriendAnswer(answer) => self.handle_friend_answer(from, &header, answer),
            Message::Unfriend(unfriend) => self.handle_unfriend(from, &header, unfriend),
            Message::Presence(presence) => self.handle_presence(from, &header, presence),
            Message::Chat(chat) => self.handle_chat(from, &header, chat),
            Message::ChatAck(ack) => self.handle_chat_ack(from, &header, ack),
            Message::MailStore(mail) => self.handle_mail_store(from, &header, mail),
            Message::MailCopy(mail) => self.handle_mail_copy(from, mail),
            Message::Mail(mail) => self.handle_mail(from, &header, mail),
            Message::MailAck(ack) => self.handle_mail_ack(from, &header, ack),
            Message::Get(get) => self.handle_get(from, &header, get),
            Message::BlockProof(proof) => self.handle_block_proof(from, &header, proof),
            Message::Data(data) => self.handle_data(from, &header, data),
            Message::DataAck(ack) => self.handle_data_ack(from, &header, &ack),
            Message::Refuse(refuse) => self.handle_refuse(from, &header, refuse),
            Message::ContentQuery { key } => self.handle_content_query(from, &header, key),
            Message::ContentInfo(info) => self.handle_content_info(from, &header, info),
            Message::ConfInvite(invite) => self.handle_conf_invite(from, &header, invite),
            Message::ConfAnswer(answer) => self.handle_conf_answer(from, &header, answer),
            Message::ConfAdmit(admit) => self.handle_conf_admit(from, &header, admit),
            Message::ConfLeave(leave) => self.handle_conf_leave(from, &header, leave),
            Message::TreeJoin(join) => self.handle_tree_join(from, &header, join),
            Message::TreeState(state) => self.handle_tree_state(from, &header, state),
            Message::ConfChat(chat) => self.handle_conf_chat(from, &header, chat),
            Message::ConfProof(proof) => self.handle_conf_proof(from, proof),
            Message::ConfData(data) => self.handle_conf_data(from, data),
            Message::ConfPull(pull) => self.handle_conf_pull(from, &header, pull),
        }
    }

    /// Handles the passage of time: serves every timer in turn —
    /// retransmitting requests whose deadline has passed and failing those
    /// out of attempts, then the periodic maintenance — each whose deadline
    /// (as [`poll_timeout`](Node::poll_timeout) reports it) has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        for timer in Timer::ALL {
            if self.deadline(timer).is_some_and(|at| at <= now) {
                self.serve(timer, now);
            }
        }
    }

    /// The instant at which [`handle_timeout`](Node::handle_timeout) has
    /// work to do: the earliest deadline over every timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        Timer::ALL.into_iter().filter_map(|timer| self.deadline(timer)).min()
    }

    /// The next output: datagrams first (written into `buf`, which should be
    /// [`MAX_DATAGRAM`](crate::wire::MAX_DATAGRAM) bytes; those of a served
    /// file with a [`Fill`](crate::event::Fill) to read into them), then
    /// received file bytes to write ([`Output::Write`]), then events, then
    /// [`Output::Timeout`] once drained.
    pub fn poll_output(&mut self, buf: &mut [u8]) -> Output {
        if let Some((to, len)) = self.encode_next(buf) {
            return Output::Transmit(Transmit { to, len, fill: None });
        }
        if let Some((to, len, fill)) = self.next_upload_packet(buf) {
            return Output::Transmit(Transmit { to, len, fill: Some(fill) });
        }
        if let Some(staged) = (!self.transfers.staged.is_empty()).then(|| self.transfers.staged.remove(0)) {
            if let Some(out) = buf.get_mut(..staged.bytes.len()) {
                out.copy_from_slice(&staged.bytes);
                let write =
                    crate::event::Write { request: staged.request, offset: staged.offset, len: staged.bytes.len() };
                return Output::Write(write);
            }
            self.stats.count_drop(DropReason::BufferTooSmall);
        }
        // After the writes: a piece asked for again may be read from them.
        if let Some((to, len, fill)) = self.next_conference_packet(buf) {
            return Output::Transmit(Transmit { to, len, fill });
        }
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        Output::Timeout(self.poll_timeout())
    }
}

/// Tells apart the secret keys drawn from a node's seed.
const COOKIE_KEY: u64 = 0x6d6d_7032_7020_6b65;
/// See [`COOKIE_KEY`].
const IDENTITY_KEY: u64 = 0x6d6d_7032_7020_6964;

/// A 32-byte key derived from `seed` for `purpose`, apart from the node's
/// other random choices, so that drawing it shifts none of them.
fn secret_key(seed: u64, purpose: u64) -> [u8; 32] {
    let mut rng = Rng::new(seed ^ purpose);
    let words = [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()];
    core::array::from_fn(|i| words[i / 8].to_be_bytes()[i % 8])
}
