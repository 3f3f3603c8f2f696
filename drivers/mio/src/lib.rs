//! # mmp2p-mio
//!
//! A blocking event loop that runs MMP2P nodes over real IPv6 UDP sockets.
//!
//! One [`Driver`] hosts any number of nodes, one socket each. Its loop reads
//! every datagram until the socket would block, hands each to its node,
//! drains the node's output after every input, and sleeps in `poll` until
//! the earliest node deadline or a command (the deadlines are kept in a
//! heap, updated as each node is drained: a wake costs O(log n) in hosted
//! nodes). Datagrams travel in batches
//! where the kernel allows: a node's equal-length datagrams to one address
//! leave in one call (UDP GSO) just before the loop sleeps or the batch
//! fills, and a socket is read many datagrams per call (`recvmmsg`, GRO). Commands come from
//! other threads through a [`Handle`] (a channel plus a [`mio::Waker`]);
//! events leave through a channel. Send errors and oversized datagrams are
//! counted ([`IoStats`]) and never stop the loop.

#![warn(missing_docs)]

mod batch;
mod deadlines;

use batch::{ReceiveBuffers, SendBatch, Sent};
use deadlines::Deadlines;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use mmp2p_core::event::{Fill, Write};
use mmp2p_core::identity::Identity;
use mmp2p_core::{Config, Event, Id, Instant, Node, Output, ResourceLocator, MAX_DATAGRAM};
use quinn_udp::{UdpSockRef, UdpSocketState};
use socket2::{Domain, Protocol, Socket, Type};
use std::fmt;
use std::io;
use std::net::{SocketAddr, SocketAddrV6};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

/// The receive buffer each socket asks for (the kernel caps it at
/// `net.core.rmem_max`): every download's whole window of 1 KiB chunks at
/// once, at the ~2 KiB the kernel charges per queued datagram, so a burst
/// an owner sends within its window is not dropped before the loop reads it.
pub const RECEIVE_BUFFER: usize = mmp2p_core::tables::downloads::MAX_DOWNLOADS
    * mmp2p_core::tables::downloads::LEAF_SLOTS
    * mmp2p_core::content::CHUNKS_PER_LEAF
    * 2048;

/// The waker's token; nodes use tokens from 0 up.
const WAKER: Token = Token(usize::MAX);

/// Which node of a driver (its index, in the order nodes were added).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey(pub usize);

/// What a node's socket went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoStats {
    /// Datagrams received and handed to the node.
    pub received: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Sends that failed (unreachable, no buffer space, …); the datagram is lost.
    pub send_errors: u64,
    /// Receives that failed with an error other than "would block".
    pub receive_errors: u64,
    /// Datagrams dropped unread because they were longer than 1232 bytes.
    pub oversized: u64,
    /// Datagrams dropped because they came from an IPv4 address.
    pub not_ipv6: u64,
    /// Outgoing datagrams dropped because their file bytes could not be read.
    pub fill_errors: u64,
    /// Received file bytes that could not be written.
    pub write_errors: u64,
}

/// Where a hosted node's files live: the driver reads served content into
/// outgoing datagrams ([`Fill`]) and writes downloaded bytes ([`Write`])
/// through it, inside the loop. A node without storage serves and fetches
/// nothing (its fills and writes are counted as errors).
pub trait Storage: Send {
    /// Reads what `fill` names into `out` (`fill.len` bytes).
    fn read(&mut self, fill: &Fill, out: &mut [u8]) -> io::Result<()>;
    /// Writes `bytes` at `write.offset` of download `write.request`'s file.
    fn write(&mut self, write: &Write, bytes: &[u8]) -> io::Result<()>;
    /// Sees each of the node's events inside the loop, before it is passed
    /// on: a transfer that starts without a command — a file or stream sent
    /// to a conference ([`ConferenceEvent::Offered`]) — gets its file here,
    /// since its writes follow at once. Does nothing unless implemented.
    ///
    /// [`ConferenceEvent::Offered`]: mmp2p_core::conference::ConferenceEvent::Offered
    fn event(&mut self, event: &Event) {
        let _ = event;
    }
}

/// Why a node could not be added or a loop could not start.
#[derive(Debug)]
pub enum DriverError {
    /// The address is IPv4 or IPv4-mapped IPv6: MMP2P runs over IPv6 only.
    NotIpv6(SocketAddr),
    /// The node's configuration is invalid.
    Config(mmp2p_core::config::ConfigError),
    /// The socket could not be created or bound.
    Io(io::Error),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::NotIpv6(addr) => write!(f, "{addr} is not an IPv6 address (IPv4 and v4-mapped are refused)"),
            DriverError::Config(e) => write!(f, "invalid configuration: {e}"),
            DriverError::Io(e) => write!(f, "socket: {e}"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<io::Error> for DriverError {
    fn from(e: io::Error) -> DriverError {
        DriverError::Io(e)
    }
}

/// An event one of the driver's nodes emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverEvent {
    /// Which node.
    pub node: NodeKey,
    /// The event.
    pub event: Event,
}

/// Work for the loop, sent from another thread.
type NodeCommand = Box<dyn FnOnce(&mut Node, &IoStats, Instant) + Send>;

enum Command {
    Node(NodeKey, NodeCommand),
    Remove(NodeKey),
    Shutdown,
}

/// Sends commands to a running [`Driver`] from any thread.
#[derive(Clone)]
pub struct Handle {
    commands: Sender<Command>,
    waker: Arc<Waker>,
}

impl Handle {
    /// Runs `command` on node `node` inside the loop, at the loop's current
    /// time; its output is sent at once. Returns false if the loop has stopped.
    pub fn command(&self, node: NodeKey, command: impl FnOnce(&mut Node, Instant) + Send + 'static) -> bool {
        self.send(Command::Node(node, Box::new(move |node, _, now| command(node, now))))
    }

    /// Like [`command`](Handle::command), with the node's socket counters too
    /// (for status and statistics reports).
    pub fn command_with_io(
        &self,
        node: NodeKey,
        command: impl FnOnce(&mut Node, &IoStats, Instant) + Send + 'static,
    ) -> bool {
        self.send(Command::Node(node, Box::new(command)))
    }

    /// Removes node `node` at once, as if its host crashed: its socket is
    /// closed and nothing more is sent (no LEAVE). Commands for it are then
    /// ignored. Returns false if the loop has stopped.
    pub fn remove(&self, node: NodeKey) -> bool {
        self.send(Command::Remove(node))
    }

    /// Asks the loop to stop; [`Driver::run`] returns. False if it already has.
    pub fn shutdown(&self) -> bool {
        self.send(Command::Shutdown)
    }

    fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok() && self.waker.wake().is_ok()
    }
}

struct Hosted {
    node: Node,
    socket: UdpSocket,
    /// The socket's batching capabilities (GSO, GRO).
    state: UdpSocketState,
    io: IoStats,
    storage: Option<Box<dyn Storage>>,
}

/// The event loop and its nodes.
pub struct Driver {
    poll: Poll,
    commands: Receiver<Command>,
    events: Sender<DriverEvent>,
    /// Indexed by [`NodeKey`]; `None` once removed.
    nodes: Vec<Option<Box<Hosted>>>,
    epoch: Clock,
    /// Outgoing datagrams waiting to leave together.
    batch: SendBatch,
    /// Where sockets are read into.
    received: ReceiveBuffers,
    /// Each node's next deadline, earliest first.
    deadlines: Deadlines,
}

impl Driver {
    /// A loop with no nodes yet, the handle to command it, and the channel its events leave by.
    pub fn new() -> Result<(Driver, Handle, Receiver<DriverEvent>), DriverError> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (command_tx, command_rx) = channel();
        let (event_tx, event_rx) = channel();
        let driver = Driver {
            poll,
            commands: command_rx,
            events: event_tx,
            nodes: Vec::new(),
            epoch: Clock::now(),
            batch: SendBatch::new(),
            received: ReceiveBuffers::new(),
            deadlines: Deadlines::default(),
        };
        Ok((driver, Handle { commands: command_tx, waker }, event_rx))
    }

    /// Binds a UDP socket on `bind` (IPv6 only; port 0 picks one) and hosts a
    /// node with ID `id` there. Returns its key and its locator (with the port
    /// actually bound).
    pub fn add_node(
        &mut self,
        bind: SocketAddr,
        id: Id,
        config: Config,
        seed: u64,
    ) -> Result<(NodeKey, ResourceLocator), DriverError> {
        let SocketAddr::V6(v6) = bind else { return Err(DriverError::NotIpv6(bind)) };
        if v6.ip().to_ipv4_mapped().is_some() {
            return Err(DriverError::NotIpv6(bind));
        }
        let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_only_v6(true)?;
        socket.set_nonblocking(true)?;
        // A smaller buffer than asked for only costs retransmissions.
        let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
        socket.bind(&bind.into())?;
        let mut socket = UdpSocket::from_std(socket.into());
        let state = UdpSocketState::new(UdpSockRef::from(&socket))?;
        let local = match socket.local_addr()? {
            SocketAddr::V6(local) => local,
            other => return Err(DriverError::NotIpv6(other)),
        };
        let key = NodeKey(self.nodes.len());
        self.poll.registry().register(&mut socket, Token(key.0), Interest::READABLE)?;
        let me = ResourceLocator::new(id, local);
        let node = Node::new(config, me, self.now(), seed).map_err(DriverError::Config)?;
        self.nodes.push(Some(Box::new(Hosted { node, socket, state, io: IoStats::default(), storage: None })));
        Ok((key, me))
    }

    /// Gives node `key` the identity it signs with ([`Node::set_identity`]);
    /// false if there is no such node.
    pub fn set_identity(&mut self, key: NodeKey, identity: Identity) -> bool {
        match self.nodes.get_mut(key.0).and_then(Option::as_mut) {
            Some(hosted) => {
                hosted.node.set_identity(identity);
                true
            }
            None => false,
        }
    }

    /// Gives node `key` the storage its transfers read and write through;
    /// false if there is no such node.
    pub fn set_storage(&mut self, key: NodeKey, storage: Box<dyn Storage>) -> bool {
        match self.nodes.get_mut(key.0).and_then(Option::as_mut) {
            Some(hosted) => {
                hosted.storage = Some(storage);
                true
            }
            None => false,
        }
    }

    /// The node at `key` (`None` if there is none or it was removed).
    pub fn node(&self, key: NodeKey) -> Option<&Node> {
        self.hosted(key.0).map(|h| &h.node)
    }

    /// The node at `key`, to command before the loop runs.
    pub fn node_mut(&mut self, key: NodeKey) -> Option<&mut Node> {
        self.nodes.get_mut(key.0).and_then(Option::as_mut).map(|h| &mut h.node)
    }

    /// The socket counters of node `key`.
    pub fn io_stats(&self, key: NodeKey) -> Option<IoStats> {
        self.hosted(key.0).map(|h| h.io)
    }

    fn hosted(&self, index: usize) -> Option<&Hosted> {
        self.nodes.get(index).and_then(Option::as_deref)
    }

    /// The core's clock: time since the driver was created.
    pub fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// Runs the loop until a [`Handle::shutdown`] (or every handle is gone).
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        for index in 0..self.nodes.len() {
            self.drain(index);
        }
        loop {
            self.flush_batch();
            let timeout = self
                .next_deadline()
                .map(|at| Duration::from_micros(at.as_micros().saturating_sub(self.now().as_micros())));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                match event.token() {
                    WAKER => {
                        if !self.take_commands() {
                            self.flush_batch();
                            return Ok(());
                        }
                    }
                    Token(index) => self.receive(index),
                }
            }
            self.fire_timers();
        }
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        self.deadlines.next()
    }

    /// Applies every queued command; false on shutdown.
    fn take_commands(&mut self) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Node(key, command)) => {
                    let now = self.now();
                    if let Some(hosted) = self.nodes.get_mut(key.0).and_then(Option::as_mut) {
                        command(&mut hosted.node, &hosted.io, now);
                        self.drain(key.0);
                    }
                }
                Ok(Command::Remove(key)) => {
                    self.flush_batch();
                    self.deadlines.set(key.0, None);
                    if let Some(mut hosted) = self.nodes.get_mut(key.0).and_then(Option::take) {
                        // The socket closes when dropped; deregistering first keeps poll tidy.
                        let _ = self.poll.registry().deregister(&mut hosted.socket);
                    }
                }
                Ok(Command::Shutdown) => return false,
                Err(std::sync::mpsc::TryRecvError::Empty) => return true,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Reads node `index`'s socket until it would block.
    fn receive(&mut self, index: usize) {
        loop {
            let Some(hosted) = self.nodes.get_mut(index).and_then(Option::as_mut) else { return };
            let filled = match self.received.receive(&hosted.state, &hosted.socket) {
                Ok(filled) => filled,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    hosted.io.receive_errors += 1;
                    continue;
                }
            };
            // The buffers are lent out while their datagrams are handled, as
            // handling drains the node into the send batch.
            let received = std::mem::replace(&mut self.received, ReceiveBuffers::empty());
            for buffer in 0..filled {
                let (from, datagrams) = received.datagrams(buffer);
                for datagram in datagrams {
                    self.handle(index, from, datagram);
                }
            }
            self.received = received;
        }
    }

    /// Hands one received datagram to node `index` and drains it.
    fn handle(&mut self, index: usize, from: SocketAddr, datagram: &[u8]) {
        let now = self.now();
        let Some(hosted) = self.nodes.get_mut(index).and_then(Option::as_mut) else { return };
        if datagram.len() > MAX_DATAGRAM {
            hosted.io.oversized += 1;
            return;
        }
        let SocketAddr::V6(from) = from else {
            hosted.io.not_ipv6 += 1;
            return;
        };
        hosted.io.received += 1;
        // A datagram the node cannot use is dropped and counted in its own stats.
        let _ = hosted.node.handle_datagram(now, from, datagram);
        self.drain(index);
    }

    /// Calls `handle_timeout` on every node whose deadline has come.
    fn fire_timers(&mut self) {
        let now = self.now();
        for index in self.deadlines.take_due(now) {
            let Some(hosted) = self.nodes.get_mut(index).and_then(Option::as_mut) else { continue };
            hosted.node.handle_timeout(now);
            self.drain(index);
        }
    }

    /// Sends the datagrams waiting in the batch.
    fn flush_batch(&mut self) {
        let Some(index) = self.batch.waiting() else { return };
        match self.nodes.get_mut(index).and_then(Option::as_mut) {
            Some(hosted) => {
                let sent = self.batch.flush(|t| batch::send_on(&hosted.state, &hosted.socket, t));
                hosted.io.count(sent);
            }
            None => self.batch.discard(),
        }
    }

    /// Batches node `index`'s datagrams and forwards its events until it is drained.
    fn drain(&mut self, index: usize) {
        if self.batch.waiting().is_some_and(|other| other != index) {
            self.flush_batch();
        }
        let Some(hosted) = self.nodes.get_mut(index).and_then(Option::as_mut) else { return };
        loop {
            match hosted.node.poll_output(self.batch.tail()) {
                Output::Transmit(t) => {
                    if let Some(fill) = t.fill {
                        let out = &mut self.batch.tail()[fill.at..fill.at + fill.len];
                        if hosted.storage.as_mut().is_none_or(|s| s.read(&fill, out).is_err()) {
                            hosted.io.fill_errors += 1;
                            continue;
                        }
                    }
                    let segments = hosted.state.max_gso_segments();
                    let sent = self
                        .batch
                        .push(index, t.to, t.len, segments, |t| batch::send_on(&hosted.state, &hosted.socket, t));
                    hosted.io.count(sent);
                }
                Output::Write(write) => {
                    let bytes = &self.batch.tail()[..write.len];
                    if hosted.storage.as_mut().is_none_or(|s| s.write(&write, bytes).is_err()) {
                        hosted.io.write_errors += 1;
                    }
                }
                Output::Event(event) => {
                    if let Some(storage) = hosted.storage.as_mut() {
                        storage.event(&event);
                    }
                    // Nobody listening is not the loop's problem.
                    let _ = self.events.send(DriverEvent { node: NodeKey(index), event });
                }
                Output::Timeout(at) => return self.deadlines.set(index, at),
            }
        }
    }
}

impl IoStats {
    fn count(&mut self, sent: Sent) {
        self.sent += sent.sent;
        self.send_errors += sent.failed;
    }
}

/// The address of `addr` as IPv6, refusing IPv4 and IPv4-mapped addresses.
pub fn ipv6_only(addr: SocketAddr) -> Result<SocketAddrV6, DriverError> {
    match addr {
        SocketAddr::V6(v6) if v6.ip().to_ipv4_mapped().is_none() => Ok(v6),
        other => Err(DriverError::NotIpv6(other)),
    }
}
