//! # mmp2p-core
//!
//! The sans-IO protocol core of MMP2P, an IPv6 overlay ring in which a user's
//! instant-messenger friends serve as routing shortcuts.
//!
//! The core consumes datagrams and timer ticks and produces datagrams, events
//! and its next deadline. It never touches a socket, a clock, a file or OS
//! randomness, and needs no allocator: every table and queue has a fixed,
//! documented capacity.
//!
//! One module per protocol rule: [`id`] (identifiers and ring arithmetic),
//! [`wire`] (the datagram format), [`neighbours`] (the ring's chains),
//! [`routing`] (greedy next hop), `join`, `lookup` and `maintenance`
//! (the messages that change the ring), [`node`] (the state machine).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod event;
#[cfg(test)]
mod harness;
pub mod id;
pub mod node;
pub mod rng;
pub mod routing;
pub mod stats;
pub mod tables;
pub mod time;
pub mod wire;

pub use config::Config;
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
