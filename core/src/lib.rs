//! # mmp2p-core
//!
//! The sans-IO protocol core of MMP2P, an IPv6 overlay ring in which a user's
//! instant-messenger friends serve as routing shortcuts.
//!
//! The core consumes datagrams and timer ticks and produces datagrams, events
//! and its next deadline. It never touches a socket, a clock, a file or OS
//! randomness, and needs no allocator: every table and queue has a fixed,
//! documented capacity.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod id;
pub mod rng;
pub mod time;
pub mod wire;

pub use id::{Id, ResourceLocator};
pub use time::Instant;
