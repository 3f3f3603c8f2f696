//! An in-crate test harness: a few [`Node`]s on one virtual clock, in the
//! spirit of quinn-proto's `Pair`.
//!
//! Every datagram takes the same [`LATENCY`], so the in-flight queue is a
//! FIFO in arrival order; [`Harness::step`] delivers the next datagram or
//! fires the next node timer, whichever is earlier (a datagram on a tie, then
//! the lowest node index), so a run is deterministic. After every input the
//! harness drains the node's [`Node::poll_output`] until
//! [`Output::Timeout`], as a driver must. Only `Node`'s public API is used.

mod tests;

use crate::config::Config;
use crate::event::{CommandError, Event, Output};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::rng::Rng;
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{Side, MAX_DATAGRAM};
use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use std::collections::VecDeque;

/// One-way latency of every datagram.
pub(crate) const LATENCY: Duration = Duration::from_millis(5);
/// The UDP port of every harness node.
pub(crate) const PORT: u16 = 4000;

/// Adds `friend` to `node`'s friends: the one place the harness calls
/// `add_friend`, so a signature change is a one-line change.
pub(crate) fn add_friend(node: &mut Node, now: Instant, friend: ResourceLocator) -> Result<(), CommandError> {
    node.add_friend(now, friend)
}

/// Removes friend `id` from `node`'s friends (the one place the harness calls
/// `remove_friend`); true if it was a friend.
pub(crate) fn remove_friend(node: &mut Node, now: Instant, id: Id) -> bool {
    node.remove_friend(now, id)
}

/// The default configuration without periodic maintenance, so a scenario goes quiet.
pub(crate) fn quiet() -> Config {
    Config { maintenance: false, ..Config::default() }
}

/// A datagram on the wire.
#[derive(Clone, Debug)]
struct InFlight {
    at: Instant,
    from: SocketAddrV6,
    to: SocketAddrV6,
    bytes: Vec<u8>,
}

/// What one [`Harness::step`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A datagram reached node `to`, which made `result` of it.
    Delivered {
        /// The receiving node's index.
        to: usize,
        /// What the node made of it.
        result: Result<(), DropReason>,
    },
    /// A datagram went to an address no harness node has.
    Undeliverable {
        /// The address.
        to: SocketAddrV6,
    },
    /// Node `node`'s timer fired.
    Timer {
        /// The node's index.
        node: usize,
    },
}

/// N nodes, one virtual clock, a FIFO of in-flight datagrams.
pub(crate) struct Harness {
    now: Instant,
    rng: Rng,
    nodes: Vec<Node>,
    deadlines: Vec<Option<Instant>>,
    /// Crashed nodes: they neither receive nor time out.
    down: Vec<bool>,
    events: Vec<Vec<Event>>,
    in_flight: VecDeque<InFlight>,
    buf: Vec<u8>,
}

impl Harness {
    /// An empty harness; `seed` determines the nodes' seeds.
    pub(crate) fn new(seed: u64) -> Harness {
        Harness {
            now: Instant::ZERO,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            deadlines: Vec::new(),
            down: Vec::new(),
            events: Vec::new(),
            in_flight: VecDeque::new(),
            buf: vec![0; MAX_DATAGRAM],
        }
    }

    /// The address of node `index`: `[fd00::<index + 1>]:4000`.
    pub(crate) fn addr(index: usize) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, index as u16 + 1), PORT, 0, 0)
    }

    /// The node index listening on `addr`, if any.
    fn index_of(&self, addr: &SocketAddrV6) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| Harness::addr(i) == *addr)
    }

    /// Adds a node with ID `id` and the [`quiet`] configuration; returns its index.
    pub(crate) fn add(&mut self, id: u128) -> usize {
        self.add_with(id, quiet())
    }

    /// Adds a node with ID `id` and `config`; returns its index.
    pub(crate) fn add_with(&mut self, id: u128, config: Config) -> usize {
        let index = self.nodes.len();
        let me = ResourceLocator::new(Id(id), Harness::addr(index));
        let node = Node::new(config, me, self.now, self.rng.next_u64()).expect("a valid test configuration");
        self.nodes.push(node);
        self.deadlines.push(None);
        self.down.push(false);
        self.events.push(Vec::new());
        self.drain(index);
        index
    }

    /// The virtual time.
    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    /// How many nodes there are.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `index`.
    pub(crate) fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// Node `index`'s locator.
    pub(crate) fn locator(&self, index: usize) -> ResourceLocator {
        *self.nodes[index].locator()
    }

    /// Runs a command on node `index` at the current time, then drains its output.
    pub(crate) fn command<R>(&mut self, index: usize, command: impl FnOnce(&mut Node, Instant) -> R) -> R {
        let result = command(&mut self.nodes[index], self.now);
        self.drain(index);
        result
    }

    /// Crashes node `index`: it stops at once, and datagrams to it are lost.
    pub(crate) fn crash(&mut self, index: usize) {
        self.down[index] = true;
        self.deadlines[index] = None;
    }

    /// Node `a` befriends node `b` (one way).
    pub(crate) fn befriend(&mut self, a: usize, b: usize) {
        let friend = self.locator(b);
        self.command(a, |node, now| add_friend(node, now, friend)).expect("friend added");
    }

    /// Node `a` forgets friend `b`; true if `b` was its friend.
    pub(crate) fn unfriend(&mut self, a: usize, b: usize) -> bool {
        let id = self.locator(b).id;
        self.command(a, |node, now| remove_friend(node, now, id))
    }

    /// The events node `index` emitted so far (and not taken).
    pub(crate) fn events(&self, index: usize) -> &[Event] {
        &self.events[index]
    }

    /// Takes node `index`'s events, leaving none.
    pub(crate) fn take_events(&mut self, index: usize) -> Vec<Event> {
        core::mem::take(&mut self.events[index])
    }

    /// Forgets every node's events.
    pub(crate) fn clear_events(&mut self) {
        self.events.iter_mut().for_each(Vec::clear);
    }

    /// When the next datagram arrives or timer fires.
    pub(crate) fn next_instant(&self) -> Option<Instant> {
        let datagram = self.in_flight.front().map(|d| d.at);
        let timer = self.deadlines.iter().flatten().min().copied();
        [datagram, timer].into_iter().flatten().min()
    }

    /// Delivers the next datagram or fires the next timer, whichever is
    /// earlier; `None` if nothing is pending.
    pub(crate) fn step(&mut self) -> Option<Step> {
        let at = self.next_instant()?;
        self.now = self.now.max(at);
        if self.in_flight.front().is_some_and(|d| d.at == at) {
            let d = self.in_flight.pop_front()?;
            let Some(to) = self.index_of(&d.to).filter(|&i| !self.down[i]) else {
                return Some(Step::Undeliverable { to: d.to });
            };
            let result = self.nodes[to].handle_datagram(self.now, d.from, &d.bytes);
            self.drain(to);
            return Some(Step::Delivered { to, result });
        }
        let node = self.deadlines.iter().position(|d| *d == Some(at))?;
        self.deadlines[node] = None;
        self.nodes[node].handle_timeout(self.now);
        self.drain(node);
        Some(Step::Timer { node })
    }

    /// Steps until nothing is pending or `limit` of virtual time has passed;
    /// true if the harness went quiet.
    pub(crate) fn run_until_quiet(&mut self, limit: Duration) -> bool {
        let until = self.now + limit;
        while let Some(at) = self.next_instant() {
            if at > until {
                return false;
            }
            self.step();
        }
        true
    }

    /// Runs for `duration` of virtual time.
    pub(crate) fn run_for(&mut self, duration: Duration) {
        let until = self.now + duration;
        while self.next_instant().is_some_and(|at| at <= until) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs until quiet, failing the test if that takes over a minute.
    pub(crate) fn settle(&mut self) {
        assert!(self.run_until_quiet(Duration::from_secs(60)), "the harness goes quiet within a minute");
    }

    /// Polls node `index` until drained: queues its datagrams, keeps its
    /// events and records its deadline.
    fn drain(&mut self, index: usize) {
        while !self.down[index] {
            match self.nodes[index].poll_output(&mut self.buf) {
                Output::Transmit(t) => {
                    let bytes = self.buf[..t.len].to_vec();
                    let from = Harness::addr(index);
                    self.in_flight.push_back(InFlight { at: self.now + LATENCY, from, to: t.to, bytes });
                }
                Output::Event(event) => self.events[index].push(event),
                // The harness's nodes fetch no files.
                Output::Write(_) => {}
                Output::Timeout(at) => {
                    self.deadlines[index] = at;
                    return;
                }
            }
        }
    }

    // ----- ring building and the truth to check it against -----

    /// Adds nodes with `ids` and `config`: the first founds the ring, each
    /// other joins through a member chosen by `via` (given the members so
    /// far), and the harness settles (or, with maintenance, runs 10 s) after each join.
    pub(crate) fn ring(&mut self, ids: &[u128], config: Config, mut via: impl FnMut(&[usize]) -> usize) -> Vec<usize> {
        let mut members = Vec::new();
        for &id in ids {
            let index = self.add_with(id, config);
            if members.is_empty() {
                self.command(index, |node, _| node.found_ring());
            } else {
                let entry = Harness::addr(via(&members));
                self.command(index, |node, now| node.join(now, entry)).expect("join starts");
                if config.maintenance {
                    // Periodic maintenance never goes quiet: give the join time instead.
                    self.run_for(Duration::from_secs(10));
                } else {
                    self.settle();
                }
                assert!(self.node(index).is_joined(), "node {id} joined");
            }
            members.push(index);
        }
        members
    }

    /// The member (among `members`) responsible for `key`: its successor.
    pub(crate) fn successor(&self, members: &[usize], key: Id) -> usize {
        *members.iter().min_by_key(|&&m| key.distance_to(self.node(m).id())).expect("some member")
    }

    /// The `count` members after node `of` clockwise (`right`) or
    /// anticlockwise, nearest first, as IDs.
    pub(crate) fn true_chain(&self, members: &[usize], of: usize, right: bool, count: usize) -> Vec<Id> {
        let me = self.node(of).id();
        let mut others: Vec<Id> = members.iter().map(|&m| self.node(m).id()).filter(|&id| id != me).collect();
        if right {
            others.sort_by_key(|&id| me.distance_to(id));
        } else {
            others.sort_by_key(|&id| id.distance_to(me));
        }
        others.truncate(count);
        others
    }

    /// Fails unless every member's chains hold exactly the true next nodes on each side.
    pub(crate) fn assert_ring(&self, members: &[usize]) {
        for &m in members {
            let node = self.node(m);
            let len = node.config().chain_len().min(members.len() - 1);
            for (side, right) in [(Side::Left, false), (Side::Right, true)] {
                let chain: Vec<Id> = node.neighbours().chain(side).iter().map(|c| c.id).collect();
                let truth = self.true_chain(members, m, right, len);
                assert_eq!(chain, truth, "{side:?} chain of {:?} among {} members", node.id(), members.len());
            }
        }
    }
}
