//! # mmp2p-core
//!
//! The sans-IO protocol core of MMP2P, an IPv6 overlay ring in which a user's
//! instant-messenger friends serve as routing shortcuts.
//!
//! The core consumes datagrams and timer ticks and produces datagrams, events
//! and its next deadline. It never touches a socket, a clock, a file or OS
//! randomness, and needs no allocator: every table and queue has a fixed,
//! documented capacity. [`Node`] states the contract: its methods by kind and
//! the drain rule.
//!
//! The crate's folders show its architecture:
//! - [`node`]: the state machine — [`Node`] and one file per protocol rule
//!   that adds to it, grouped by concern (`ring/`, `routing/`, `dht/`,
//!   `identity/`, `messenger/`);
//! - [`tables`]: the tables and plain data it keeps (neighbour chains,
//!   friends, the locator store, shared files, requests, timers, digests,
//!   round-trip times, the bootstrap list, the outbox, registrations,
//!   contacts, friend requests, chat each way, offline mail);
//! - [`wire`]: the datagram format, each message type described once;
//! - [`routing`]: the greedy next-hop rule, a pure function of the tables;
//! - [`id`], [`time`], [`rng`], [`config`], [`event`], [`stats`]: the
//!   vocabulary every part shares; [`identity`], [`registration`],
//!   [`locator_signature`] and [`conversation`]: the keys, what they sign and
//!   what they seal.
//!
//! ## The run loop
//!
//! Two nodes on real UDP sockets on `[::1]` (a key node and a joiner) share
//! one loop until the joiner is in the ring (the README shows the same loop):
//!
//! ```
//! use mmp2p_core::{Config, Event, Id, Instant, Node, Output, ResourceLocator, MAX_DATAGRAM};
//! use std::net::{SocketAddr, SocketAddrV6, UdpSocket};
//! use std::time::{Duration, Instant as Clock};
//!
//! fn v6(socket: &UdpSocket) -> SocketAddrV6 {
//!     match socket.local_addr().unwrap() {
//!         SocketAddr::V6(addr) => addr,
//!         SocketAddr::V4(_) => unreachable!("bound to [::1]"),
//!     }
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let epoch = Clock::now();
//!     let now = || Instant::from_micros(epoch.elapsed().as_micros() as u64);
//!
//!     let key_socket = UdpSocket::bind("[::1]:0")?;
//!     let alice_socket = UdpSocket::bind("[::1]:0")?;
//!     let key = Node::new(Config::default(), ResourceLocator::new(Id::KEY_NODE, v6(&key_socket)), now(), 1)?;
//!     let me = ResourceLocator::new(Id::from_email("alice@example.org"), v6(&alice_socket));
//!     let mut alice = Node::new(Config::default(), me, now(), 2)?;
//!     alice.join(now(), v6(&key_socket))?;
//!
//!     let mut nodes = [(key, key_socket), (alice, alice_socket)];
//!     let (mut tx, mut rx) = ([0u8; MAX_DATAGRAM], [0u8; MAX_DATAGRAM]);
//!     let mut joined = false;
//!     while !joined && epoch.elapsed() < Duration::from_secs(10) {
//!         for (node, socket) in nodes.iter_mut() {
//!             // Drain after every input: datagrams, then events, then the deadline.
//!             let deadline = loop {
//!                 match node.poll_output(&mut tx) {
//!                     Output::Transmit(t) => {
//!                         socket.send_to(&tx[..t.len], t.to)?;
//!                     }
//!                     Output::Event(Event::Joined { left, right, hops, .. }) => {
//!                         println!("joined between {left:?} and {right:?} after {hops} hops");
//!                         joined = true;
//!                     }
//!                     Output::Event(other) => println!("event: {other:?}"),
//!                     // Bytes of a file being downloaded (none here: see `Node::download`).
//!                     Output::Write(_) => {}
//!                     Output::Timeout(at) => break at,
//!                 }
//!             };
//!             // Wait briefly for a datagram (two sockets share this loop) ...
//!             socket.set_read_timeout(Some(Duration::from_millis(5)))?;
//!             if let Ok((len, SocketAddr::V6(from))) = socket.recv_from(&mut rx) {
//!                 // A datagram the node cannot use is dropped and counted; the result says why.
//!                 let _ = node.handle_datagram(now(), from, &rx[..len]);
//!             } else if deadline.is_some_and(|at| at <= now()) {
//!                 // ... or let time pass.
//!                 node.handle_timeout(now());
//!             }
//!         }
//!     }
//!     assert!(joined);
//!     Ok(())
//! }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capacity;
pub mod conference;
pub mod config;
pub mod content;
pub mod conversation;
pub mod event;
#[cfg(test)]
mod harness;
pub mod id;
pub mod identity;
pub mod locator_signature;
pub mod node;
pub mod profile;
pub mod registration;
pub mod request_id;
pub mod rng;
pub mod routing;
pub mod stats;
pub mod tables;
pub mod time;
pub mod wire;

pub use config::{Config, RoutingRule};
pub use event::{CommandError, Event, JoinFailure, Output, RequestId, Transmit};
pub use id::{Id, ResourceLocator};
pub use node::Node;
pub use stats::{DropReason, Stats};
pub use tables::bootstrap::BootstrapList;
pub use time::Instant;
pub use wire::{Side, MAX_DATAGRAM};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
