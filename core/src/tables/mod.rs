//! The node's tables and plain data: what it knows of the ring, its friends
//! and contacts, friend requests, chat held each way, the locators it keeps, its requests, its timers and what waits to be sent.
//! Each has a fixed capacity; none reads the clock or sends anything — the
//! state machine in [`node`](crate::node) does that.

pub mod bootstrap;
pub mod budgets;
pub mod chat;
pub mod conference_chat;
pub mod conference_out;
pub mod conference_transfer;
pub mod conferences;
pub mod congestion;
pub mod contacts;
pub mod digests;
pub mod downloads;
pub mod friend_requests;
pub mod friends;
pub(crate) mod journey;
pub mod known_keys;
pub mod mailbox;
pub mod neighbours;
pub(crate) mod outbox;
pub mod owner_checks;
pub mod rate;
pub mod registry;
pub mod rtts;
pub mod shared;
pub mod store;
pub(crate) mod timers;
pub(crate) mod transactions;
pub mod tree;
pub mod uploads;

/// Node `n` at `[fd00::n]:4000`, for the tables' tests.
#[cfg(test)]
pub(crate) fn test_locator(n: u16) -> crate::id::ResourceLocator {
    let ip = core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n);
    crate::id::ResourceLocator::new(crate::id::Id(u128::from(n)), core::net::SocketAddrV6::new(ip, 4000, 0, 0))
}
