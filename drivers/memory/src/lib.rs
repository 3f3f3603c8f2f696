//! # mmp2p-memory
//!
//! A deterministic in-memory network that drives many [`mmp2p_core::Node`]s
//! in one process: a virtual clock, per-node positions and a latency model,
//! seeded loss, duplication and reordering, partitions, crash and restart,
//! and a trace of every datagram. The same seed gives the same run, bit for
//! bit.
//!
//! Drive it one step at a time ([`Network::step`]: deliver the next datagram
//! or fire the next timer, and say what happened) or in bulk
//! ([`Network::run_until`], [`Network::run_until_quiet`]).

#![warn(missing_docs)]

pub mod churn;
pub mod dht;
pub mod files;
mod latency;
pub mod liar;
pub mod overlay;
mod trace;

pub use latency::{LatencyModel, Link, Position};
pub use trace::{Fate, TraceEntry};

use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use mmp2p_core::profile::{Desktop, Profile};
use mmp2p_core::rng::Rng;
use mmp2p_core::wire::MAX_MESSAGE;
use mmp2p_core::{Config, DropReason, Event, Id, Instant, Node, Output, ResourceLocator, MAX_DATAGRAM};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The UDP port every simulated node listens on.
pub const PORT: u16 = 4000;
/// The /16 prefix of simulated node addresses (`fd00::/16`, ULA): each node
/// has a /64 of its own within it, as hosts on different networks do.
const PREFIX: u128 = 0xfd00 << 112;
/// The bits of a simulated address that number its node's /64 (bits 64 to 111).
const NETWORK_BITS: u128 = ((1 << 48) - 1) << 64;

/// A node's place in the network (its index in creation order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(pub usize);

/// Faults and latency of the simulated network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkConfig {
    /// How latency follows from positions.
    pub latency: LatencyModel,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by up to `reorder_delay`.
    pub reorder: f64,
    /// The most a reordered datagram is held back.
    pub reorder_delay: Duration,
}

impl Default for NetworkConfig {
    /// The default latency plane, no faults.
    fn default() -> NetworkConfig {
        NetworkConfig {
            latency: LatencyModel::default(),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(50),
        }
    }
}

/// An event a node emitted, with when and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    /// When the node emitted it.
    pub at: Instant,
    /// Which node.
    pub node: NodeIndex,
    /// The event.
    pub event: Event,
}

/// A chat message a node's user read (the network reads each at once, as a
/// messenger would, after every drain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRead {
    /// When it was read.
    pub at: Instant,
    /// The reader.
    pub node: NodeIndex,
    /// The friend who sent it.
    pub from: Id,
    /// Its number in the conversation.
    pub seq: u32,
    /// Its bytes.
    pub text: Vec<u8>,
}

/// A time and maintenance count to measure a rate from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaintenanceMark {
    at: Instant,
    sent: u64,
}

/// What one [`Network::step`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A datagram reached a node (which may have dropped it: see `result`).
    Delivered {
        /// Arrival time.
        at: Instant,
        /// Source address.
        from: SocketAddrV6,
        /// Receiving node.
        to: NodeIndex,
        /// The datagram.
        bytes: Vec<u8>,
        /// What the node made of it.
        result: Result<(), DropReason>,
    },
    /// A datagram arrived where no running node listens.
    Undeliverable {
        /// Arrival time.
        at: Instant,
        /// Destination address.
        to: SocketAddrV6,
    },
    /// A node's timer fired.
    Timer {
        /// When.
        at: Instant,
        /// Which node.
        node: NodeIndex,
    },
}

struct Slot<P: Profile> {
    node: Node<P>,
    config: Config,
    position: Position,
    up: bool,
    group: u32,
    /// The deadline the node last asked for.
    timer: Option<Instant>,
    /// Its files (they outlive a restart, as a disk would).
    files: files::NodeFiles,
    /// Its uplink's rate and queue, if it has a bottleneck.
    uplink: Option<Uplink>,
}

/// A node's uplink: datagrams leave one after another at `rate` bytes per
/// second; one that would wait longer than `buffer` is dropped (a tail-drop
/// queue at the bottleneck).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uplink {
    /// Bytes per second.
    pub rate: u64,
    /// The longest a datagram may queue.
    pub buffer: Duration,
    /// When the link is free again.
    free_at: Instant,
}

impl Uplink {
    /// A link of `rate` bytes per second with a queue of `buffer`.
    pub fn new(rate: u64, buffer: Duration) -> Uplink {
        Uplink { rate, buffer, free_at: Instant::ZERO }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    from: SocketAddrV6,
    to: SocketAddrV6,
    bytes: Vec<u8>,
}

/// Many nodes, one virtual clock, one seeded source of chance.
pub struct Network<P: Profile = Desktop> {
    config: NetworkConfig,
    now: Instant,
    rng: Rng,
    slots: Vec<Slot<P>>,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    seq: u64,
    tracing: bool,
    trace: Vec<TraceEntry>,
    events: Vec<NodeEvent>,
    chats: Vec<ChatRead>,
    buf: Box<[u8; MAX_DATAGRAM]>,
    /// Where chat messages are read into.
    text: Box<[u8; MAX_MESSAGE]>,
    /// Lying nodes' rules, by node index.
    lies: std::collections::HashMap<usize, liar::Lie>,
}

impl Network {
    /// An empty network of [`Desktop`] nodes whose every random choice follows from `seed`.
    pub fn new(seed: u64, config: NetworkConfig) -> Network {
        Network::with_profile(seed, config)
    }

    /// The address of node `index`: host 1 of its own /64,
    /// `[fd00:0:<index + 1>::1]:4000` (node 0 is `[fd00:0:0:1::1]:4000`).
    pub fn addr(index: NodeIndex) -> SocketAddrV6 {
        let network = (index.0 as u128 + 1) << 64 & NETWORK_BITS;
        SocketAddrV6::new(Ipv6Addr::from(PREFIX | network | 1), PORT, 0, 0)
    }
}

impl<P: Profile> Network<P> {
    /// An empty network of nodes of profile `P` whose every random choice follows from `seed`.
    pub fn with_profile(seed: u64, config: NetworkConfig) -> Network<P> {
        Network {
            config,
            now: Instant::ZERO,
            rng: Rng::new(seed),
            slots: Vec::new(),
            in_flight: BinaryHeap::new(),
            timers: BinaryHeap::new(),
            seq: 0,
            tracing: true,
            trace: Vec::new(),
            events: Vec::new(),
            chats: Vec::new(),
            text: Box::new([0; MAX_MESSAGE]),
            buf: Box::new([0; MAX_DATAGRAM]),
            lies: std::collections::HashMap::new(),
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// How many nodes were added (running or not).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True if no node was added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The node listening on `addr`, if it is one of ours.
    pub fn index_of(&self, addr: &SocketAddrV6) -> Option<NodeIndex> {
        let bits = u128::from(*addr.ip());
        let network = (bits & NETWORK_BITS) >> 64;
        if bits & !NETWORK_BITS != PREFIX | 1 || addr.port() != PORT || network == 0 {
            return None;
        }
        let index = usize::try_from(network - 1).ok()?;
        (index < self.slots.len()).then_some(NodeIndex(index))
    }

    /// Adds a node with ID `id` at a random position.
    pub fn add_node(&mut self, id: Id, config: Config) -> NodeIndex {
        let position = Position { x: self.unit(), y: self.unit() };
        self.add_node_at(id, config, position)
    }

    /// Adds a node with ID `id` at `position`.
    ///
    /// # Panics
    /// If `config` is invalid (a test's mistake, not an input).
    pub fn add_node_at(&mut self, id: Id, config: Config, position: Position) -> NodeIndex {
        let index = NodeIndex(self.slots.len());
        let locator = ResourceLocator::new(id, Network::addr(index));
        let node =
            Node::with_profile(config, locator, self.now, self.rng.next_u64()).expect("valid node configuration");
        self.slots.push(Slot {
            node,
            config,
            position,
            up: true,
            group: 0,
            timer: None,
            files: Default::default(),
            uplink: None,
        });
        index
    }

    /// The node at `index`.
    pub fn node(&self, index: NodeIndex) -> &Node<P> {
        &self.slots[index.0].node
    }

    /// Every node, with its index.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &Node<P>)> {
        self.slots.iter().enumerate().map(|(i, s)| (NodeIndex(i), &s.node))
    }

    /// The locator of node `index`.
    pub fn locator(&self, index: NodeIndex) -> ResourceLocator {
        *self.slots[index.0].node.locator()
    }

    /// The position of node `index`.
    pub fn position(&self, index: NodeIndex) -> Position {
        self.slots[index.0].position
    }

    /// True unless node `index` has crashed.
    pub fn is_up(&self, index: NodeIndex) -> bool {
        self.slots[index.0].up
    }

    /// The links of the network's transit-stub model a datagram from `a` to `b` crosses.
    pub fn links(&self, a: NodeIndex, b: NodeIndex) -> Vec<Link> {
        self.config.latency.links(&self.slots[a.0].position, &self.slots[b.0].position)
    }

    /// One-way latency between two nodes under the network's model.
    pub fn latency(&self, a: NodeIndex, b: NodeIndex) -> Duration {
        self.config.latency.latency(&self.slots[a.0].position, &self.slots[b.0].position)
    }

    /// Runs a command on node `index` at the current time, then sends what it produced.
    pub fn command<R>(&mut self, index: NodeIndex, command: impl FnOnce(&mut Node<P>, Instant) -> R) -> R {
        let now = self.now;
        let result = command(&mut self.slots[index.0].node, now);
        self.drain(index);
        result
    }

    /// Crashes node `index`: it stops at once; datagrams to it are lost.
    pub fn crash(&mut self, index: NodeIndex) {
        self.slots[index.0].up = false;
        self.slots[index.0].timer = None;
    }

    /// Restarts a crashed node with empty tables, the same ID, address and
    /// identity key, serving the content it served (its user restarting
    /// the program; its files are as the crash left them).
    pub fn restart(&mut self, index: NodeIndex) {
        let seed = self.rng.next_u64();
        let slot = &mut self.slots[index.0];
        let locator = *slot.node.locator();
        // The same user restarts: a fresh node with the same identity.
        let identity = slot.node.identity().clone();
        slot.node = Node::with_profile(slot.config, locator, self.now, seed).expect("configuration was valid before");
        slot.node.set_identity(identity);
        slot.up = true;
        slot.timer = None;
        self.serve_again(index);
    }

    /// Splits the network: datagrams between nodes in different groups are lost.
    pub fn partition(&mut self, group_of: impl Fn(NodeIndex) -> u32) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            slot.group = group_of(NodeIndex(i));
        }
    }

    /// Ends any partition.
    pub fn heal(&mut self) {
        self.partition(|_| 0);
    }

    /// Puts a datagram on the wire as if node `from` had sent it (a hostile or
    /// hand-made message); it meets the same latency, faults and partitions.
    pub fn inject(&mut self, from: NodeIndex, to: SocketAddrV6, bytes: Vec<u8>) {
        self.transmit(from, Network::addr(from), to, bytes);
    }

    /// Puts a datagram on the wire from node `from`'s host but with a forged
    /// source address `source`, as a spoofing attacker would: it meets
    /// `from`'s latency, faults and partitions, and answers go to `source`.
    pub fn inject_spoofed(&mut self, from: NodeIndex, source: SocketAddrV6, to: SocketAddrV6, bytes: Vec<u8>) {
        self.transmit(from, source, to, bytes);
    }

    /// Changes the network's latency model and faults from now on.
    pub fn set_config(&mut self, config: NetworkConfig) {
        self.config = config;
    }

    /// The network's faults and latency as they stand.
    pub fn config(&self) -> NetworkConfig {
        self.config
    }

    /// Maintenance datagrams sent so far by the running nodes (see
    /// [`Stats::maintenance_out`](mmp2p_core::Stats::maintenance_out)).
    pub fn maintenance_sent(&self) -> u64 {
        self.slots.iter().filter(|s| s.up).map(|s| s.node.stats().maintenance_out).sum()
    }

    /// Maintenance datagrams per running node per minute since a
    /// [`maintenance_mark`](Network::maintenance_mark).
    pub fn maintenance_rate(&self, since: MaintenanceMark) -> f64 {
        let minutes = self.now.saturating_duration_since(since.at).as_secs_f64() / 60.0;
        let nodes = self.slots.iter().filter(|s| s.up).count();
        if minutes == 0.0 || nodes == 0 {
            return 0.0;
        }
        self.maintenance_sent().saturating_sub(since.sent) as f64 / nodes as f64 / minutes
    }

    /// The point from which [`maintenance_rate`](Network::maintenance_rate) counts.
    pub fn maintenance_mark(&self) -> MaintenanceMark {
        MaintenanceMark { at: self.now, sent: self.maintenance_sent() }
    }

    /// Turns the datagram trace on or off (on by default; large runs may not want it).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Every datagram sent so far, in send order, with its fate.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// A digest of the whole trace: equal digests mean identical runs.
    pub fn trace_digest(&self) -> u64 {
        trace::digest(&self.trace)
    }

    /// Every event emitted so far.
    pub fn events(&self) -> &[NodeEvent] {
        &self.events
    }

    /// Takes the events emitted so far, leaving none.
    pub fn take_events(&mut self) -> Vec<NodeEvent> {
        std::mem::take(&mut self.events)
    }

    /// True if no datagram is in flight and no running node has a timer set.
    pub fn is_quiet(&self) -> bool {
        self.in_flight.is_empty() && self.slots.iter().all(|s| s.timer.is_none())
    }

    /// When the next datagram arrives or timer fires.
    pub fn next_instant(&mut self) -> Option<Instant> {
        self.discard_stale_timers();
        let datagram = self.in_flight.peek().map(|Reverse(d)| d.at);
        let timer = self.timers.peek().map(|Reverse((at, _))| *at);
        match (datagram, timer) {
            (Some(d), Some(t)) => Some(d.min(t)),
            (d, t) => d.or(t),
        }
    }

    /// Delivers the next datagram or fires the next timer, whichever comes
    /// first (a datagram on a tie), and says what happened; `None` if nothing
    /// is pending.
    pub fn step(&mut self) -> Option<Step> {
        let at = self.next_instant()?;
        self.now = self.now.max(at);
        let datagram_first = self.in_flight.peek().is_some_and(|Reverse(d)| d.at == at);
        if datagram_first {
            let Reverse(d) = self.in_flight.pop()?;
            return Some(self.deliver(d));
        }
        let Reverse((at, index)) = self.timers.pop()?;
        let slot = &mut self.slots[index];
        slot.timer = None;
        slot.node.handle_timeout(at);
        self.drain(NodeIndex(index));
        Some(Step::Timer { at, node: NodeIndex(index) })
    }

    /// Steps until the next pending instant would be after `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: Instant) {
        while self.next_instant().is_some_and(|at| at <= until) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        self.run_until(self.now + duration);
    }

    /// Steps until nothing is pending or the clock would pass `limit`;
    /// true if the network went quiet.
    pub fn run_until_quiet(&mut self, limit: Instant) -> bool {
        while let Some(at) = self.next_instant() {
            if at > limit {
                return false;
            }
            self.step();
        }
        true
    }

    /// Makes node `index` lie: `lie` sees every datagram it receives or
    /// sends, and may drop or rewrite it (see [`liar`]).
    pub fn lie(&mut self, index: NodeIndex, lie: liar::Lie) {
        self.lies.insert(index.0, lie);
    }

    /// What node `index`'s lie, if any, makes of `bytes` going `way`.
    fn told(&mut self, index: NodeIndex, way: liar::Way, bytes: Vec<u8>) -> Option<Vec<u8>> {
        let Some(lie) = self.lies.get_mut(&index.0) else { return Some(bytes) };
        match lie(way, &bytes) {
            liar::Tamper::Pass => Some(bytes),
            liar::Tamper::Drop => None,
            liar::Tamper::Replace(other) => Some(other),
        }
    }

    fn deliver(&mut self, d: InFlight) -> Step {
        let running = self.index_of(&d.to).filter(|i| self.slots[i.0].up);
        let Some(to) = running else {
            return Step::Undeliverable { at: d.at, to: d.to };
        };
        let told;
        let bytes = match self.lies.contains_key(&to.0) {
            false => &d.bytes,
            true => match self.told(to, liar::Way::In, d.bytes.clone()) {
                Some(bytes) => {
                    told = bytes;
                    &told
                }
                None => return Step::Delivered { at: d.at, from: d.from, to, bytes: d.bytes, result: Ok(()) },
            },
        };
        let result = self.slots[to.0].node.handle_datagram(d.at, d.from, bytes);
        self.drain(to);
        Step::Delivered { at: d.at, from: d.from, to, bytes: d.bytes, result }
    }

    /// Polls node `index` until drained: schedules its datagrams, records its
    /// events, and re-arms its timer.
    fn drain(&mut self, index: NodeIndex) {
        if !self.slots[index.0].up {
            return;
        }
        loop {
            let output = self.slots[index.0].node.poll_output(&mut self.buf[..]);
            match output {
                Output::Transmit(t) => {
                    if let Some(fill) = t.fill {
                        let out = &mut self.buf[fill.at..fill.at + fill.len];
                        if !self.slots[index.0].files.fill(&fill, out) {
                            continue;
                        }
                    }
                    let bytes = self.buf[..t.len].to_vec();
                    if let Some(bytes) = self.told(index, liar::Way::Out, bytes) {
                        self.transmit(index, Network::addr(index), t.to, bytes);
                    }
                }
                Output::Write(write) => {
                    self.slots[index.0].files.write(&write, &self.buf[..write.len]);
                }
                Output::Event(event) => {
                    match &event {
                        Event::LeafVerified { request, leaf, .. } => {
                            self.slots[index.0].files.verified(*request, *leaf)
                        }
                        // A conference transfer arriving: a file to write it into.
                        Event::Conference(mmp2p_core::conference::ConferenceEvent::Offered {
                            request,
                            content,
                            ..
                        }) => self.slots[index.0].files.start(*request, *content),
                        _ => {}
                    }
                    self.events.push(NodeEvent { at: self.now, node: index, event });
                }
                Output::Timeout(deadline) => {
                    if self.read_chat(index) {
                        // Reading made room, which a friend may be told of: drain again.
                        continue;
                    }
                    let slot = &mut self.slots[index.0];
                    if deadline != slot.timer {
                        slot.timer = deadline;
                        if let Some(at) = deadline {
                            self.timers.push(Reverse((at, index.0)));
                        }
                    }
                    return;
                }
            }
        }
    }

    /// Reads every chat message node `index` holds for its user; true if there was one.
    fn read_chat(&mut self, index: NodeIndex) -> bool {
        let before = self.chats.len();
        while let Some(read) = self.slots[index.0].node.read_message(&mut self.text) {
            let (from, seq, text) = (read.from, read.seq, self.text[..read.len].to_vec());
            self.chats.push(ChatRead { at: self.now, node: index, from, seq, text });
        }
        self.chats.len() > before
    }

    /// Chat messages read so far, in the order read.
    pub fn chats(&self) -> &[ChatRead] {
        &self.chats
    }

    /// Puts a datagram on the wire, deciding its fate.
    fn transmit(&mut self, from: NodeIndex, from_addr: SocketAddrV6, to: SocketAddrV6, bytes: Vec<u8>) {
        let sent = self.now;
        let target = self.index_of(&to);
        let partitioned = target.is_some_and(|t| self.slots[t.0].group != self.slots[from.0].group);
        let latency = target.map_or(Duration::from_millis(100), |t| self.latency(from, t));
        let (sent, overflow) = match self.slots[from.0].uplink.as_mut() {
            Some(link) => {
                let start = link.free_at.max(sent);
                if start.saturating_duration_since(sent) > link.buffer {
                    (sent, true)
                } else {
                    let serialise = Duration::from_nanos(bytes.len() as u64 * 1_000_000_000 / link.rate.max(1));
                    link.free_at = start + serialise;
                    (link.free_at, false)
                }
            }
            None => (sent, false),
        };
        let copies = if self.chance(self.config.duplicate) { 2 } else { 1 };
        for copy in 0..copies {
            let fate = if overflow {
                Fate::QueueFull
            } else if partitioned {
                Fate::Partitioned
            } else if self.chance(self.config.loss) {
                Fate::Lost
            } else {
                Fate::Sent { duplicate: copy > 0 }
            };
            let mut at = sent + latency;
            if self.chance(self.config.reorder) {
                at = at + Duration::from_micros(self.rng.below(self.config.reorder_delay.as_micros() as u64 + 1));
            }
            if self.tracing {
                self.trace.push(TraceEntry { sent, arrives: at, from: from_addr, to, bytes: bytes.clone(), fate });
            }
            if matches!(fate, Fate::Sent { .. }) {
                self.seq += 1;
                let datagram = InFlight { at, seq: self.seq, from: from_addr, to, bytes: bytes.clone() };
                self.in_flight.push(Reverse(datagram));
            }
        }
    }

    fn discard_stale_timers(&mut self) {
        while let Some(Reverse((at, index))) = self.timers.peek() {
            let slot = &self.slots[*index];
            if slot.up && slot.timer == Some(*at) {
                return;
            }
            self.timers.pop();
        }
    }

    /// A uniform number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        probability > 0.0 && self.unit() < probability
    }
}
