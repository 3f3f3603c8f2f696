//! Conference chat messages a node holds: its own and those it received,
//! until every tree neighbour they go on to has acknowledged them, and
//! those that wait for a sender's earlier messages.
//!
//! Bounded: at most [`CHAT_SLOTS`] messages at once; a message that finds
//! no room is left unacknowledged, so its sender sends it again later.

use crate::capacity::Table;
use crate::conference::SessionId;
use crate::id::Id;
use crate::profile::{Apps, WithApps};
use crate::tables::tree::MAX_CHILDREN;
use crate::time::Instant;
use crate::wire::ConfChat;
use core::net::SocketAddrV6;

/// Conference chat messages held at once.
pub const CHAT_SLOTS: usize = 8;
/// How long a message waits for its sender's earlier ones before it is
/// given to the user without them (they were lost on a link that failed).
pub const HOLD_LIMIT: core::time::Duration = core::time::Duration::from_secs(30);

/// One message held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSlot {
    /// The message, as signed by its sender.
    pub chat: ConfChat,
    /// The tree neighbour it came from (none: our own).
    pub from: Option<SocketAddrV6>,
    /// Given to our user (false: it waits for the sender's earlier messages).
    pub delivered: bool,
    /// Neighbours it goes on to, not yet sent.
    pub waiting: heapless::Vec<SocketAddrV6, { MAX_CHILDREN + 1 }>,
    /// Transmissions to neighbours awaiting their ACK.
    pub outstanding: u8,
    /// When to try again to send to those waiting (the request table was full).
    pub retry_at: Option<Instant>,
    /// When it arrived.
    pub arrived: Instant,
}

impl ChatSlot {
    /// True once it has nothing left to do.
    pub fn is_done(&self) -> bool {
        self.delivered && self.waiting.is_empty() && self.outstanding == 0
    }
}

/// Every slot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatsFull;

/// The messages held: up to [`CHAT_SLOTS`] (none [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct ConferenceChats<A: Apps = WithApps> {
    slots: Table<ChatSlot, A::List<CHAT_SLOTS>>,
}

impl<A: Apps> ConferenceChats<A> {
    /// Every message held.
    pub fn iter(&self) -> impl Iterator<Item = &ChatSlot> {
        self.slots.iter()
    }

    /// Holds `slot`, if there is room.
    pub fn hold(&mut self, slot: ChatSlot) -> Result<(), ChatsFull> {
        self.slots.push(slot).map_err(|_| ChatsFull)
    }

    /// Message `seq` of `sender` in `session`, if held.
    pub fn get_mut(&mut self, session: SessionId, sender: Id, seq: u32) -> Option<&mut ChatSlot> {
        self.slots.iter_mut().find(|s| s.chat.session == session && s.chat.sender == sender && s.chat.seq == seq)
    }

    /// Message `seq` of `sender` in `session`, if held.
    pub fn get(&self, session: SessionId, sender: Id, seq: u32) -> Option<&ChatSlot> {
        self.slots.iter().find(|s| s.chat.session == session && s.chat.sender == sender && s.chat.seq == seq)
    }

    /// Every message held, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut ChatSlot> {
        self.slots.iter_mut()
    }

    /// Drops the messages that have nothing left to do, and those of `gone`
    /// conferences.
    pub fn prune(&mut self, mut gone: impl FnMut(SessionId) -> bool) {
        self.slots.retain(|s| !s.is_done() && !gone(s.chat.session));
    }

    /// True if no slot is free.
    pub fn is_full(&self) -> bool {
        self.slots.is_full()
    }
}
