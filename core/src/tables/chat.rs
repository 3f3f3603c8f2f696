//! Chat messages held by the node: those sent and not yet delivered, and
//! those received — being reassembled, or whole and waiting for the user
//! to read them.
//!
//! Both keep message bytes in fixed slots of [`MAX_FRAGMENT`] bytes, one
//! per fragment: [`CHAT_SLOTS`] for sending, as many for receiving, so a
//! node holds at most 16 KiB of chat each way whatever its traffic. One
//! friend's messages take at most [`SLOTS_PER_FRIEND`] of the received
//! slots, so no friend can crowd the others out. Every acknowledgement tells
//! the sender how many fragments it may have outstanding (its
//! room), and reading a message tells a sender that
//! had none left; a message that finds no room anyway is not acknowledged,
//! and its sender sends it again later: a full inbox slows senders down and
//! loses nothing.

use crate::capacity::{Capacity, Table};
use crate::id::Id;
use crate::profile::{Apps, WithApps};
use crate::time::Instant;
use crate::wire::{MAX_FRAGMENT, MAX_FRAGMENTS, MAX_MESSAGE};

/// Fragment slots each way.
pub const CHAT_SLOTS: usize = 16;
/// Received slots one friend's messages may hold.
pub const SLOTS_PER_FRIEND: usize = 8;
/// Messages ahead of the last delivered one that a receiver takes in, and
/// that a sender has in flight, per friend.
pub const CHAT_WINDOW: u32 = 8;
/// The room a sender assumes before the receiver told it any: what an empty inbox gives.
pub const INITIAL_ROOM: u8 = (SLOTS_PER_FRIEND - FRAGMENTS) as u8;

const FRAGMENTS: usize = MAX_FRAGMENTS as usize;

/// `C::MAX` fixed slots of [`MAX_FRAGMENT`] bytes.
#[derive(Clone, Debug)]
struct Slots<C: Capacity> {
    bytes: Table<[u8; MAX_FRAGMENT], C>,
    used: Table<bool, C>,
}

impl<C: Capacity> Default for Slots<C> {
    fn default() -> Slots<C> {
        let bytes = core::iter::repeat_n([0; MAX_FRAGMENT], C::MAX).collect();
        Slots { bytes, used: core::iter::repeat_n(false, C::MAX).collect() }
    }
}

impl<C: Capacity> Slots<C> {
    fn free(&self) -> usize {
        self.used.iter().filter(|u| !**u).count()
    }

    /// Takes `count` free slots, if there are as many.
    fn take(&mut self, count: usize) -> Option<[u8; FRAGMENTS]> {
        if count > FRAGMENTS || self.free() < count {
            return None;
        }
        let mut taken = [0u8; FRAGMENTS];
        let free = (0..C::MAX).filter(|&i| !self.used[i]);
        for (place, index) in taken.iter_mut().zip(free).take(count) {
            *place = index as u8;
        }
        for &index in &taken[..count] {
            self.used[usize::from(index)] = true;
        }
        Some(taken)
    }

    fn release(&mut self, slots: &[u8]) {
        for &index in slots {
            self.used[usize::from(index)] = false;
        }
    }
}

/// Fragments of a message of `len` bytes.
pub fn fragments_of(len: usize) -> u8 {
    len.div_ceil(MAX_FRAGMENT).max(1) as u8
}

/// A message sent and not yet delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sending {
    pub friend: Id,
    pub seq: u32,
    pub len: u16,
    slots: [u8; FRAGMENTS],
    /// Bit `i`: fragment `i` was acknowledged.
    pub acked: u8,
    /// Bit `i`: fragment `i` is kept as offline mail by the friend's holder.
    pub mailed: u8,
    /// Transmissions so far (each of its unacknowledged fragments).
    pub sends: u8,
    /// When to send it (again); `None` until its window opens.
    pub next_send: Option<Instant>,
    /// When it was first sent (for a round-trip sample).
    pub first_sent: Instant,
}

impl Sending {
    pub fn fragments(&self) -> u8 {
        fragments_of(usize::from(self.len))
    }

    /// Fragment `fragment`'s bytes' range within the message.
    pub fn range(&self, fragment: u8) -> core::ops::Range<usize> {
        let start = usize::from(fragment) * MAX_FRAGMENT;
        start..(start + MAX_FRAGMENT).min(usize::from(self.len))
    }
}

/// Messages sent and not yet delivered, in the order they were sent.
///
/// `A` decides the capacity: [`CHAT_SLOTS`] fragments and messages with the applications, none without.
#[derive(Clone, Debug, Default)]
pub struct ChatOutbox<A: Apps = WithApps> {
    slots: Slots<A::List<CHAT_SLOTS>>,
    messages: Table<Sending, A::List<CHAT_SLOTS>>,
}

/// No room for the message: the caller keeps it and tries again once
/// earlier messages are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatFull;

impl<A: Apps> ChatOutbox<A> {
    /// Holds `text` as message `seq` to `friend` (1 to [`MAX_MESSAGE`] bytes).
    pub(crate) fn push(&mut self, friend: Id, seq: u32, text: &[u8]) -> Result<(), ChatFull> {
        if text.is_empty() || text.len() > MAX_MESSAGE || self.messages.is_full() {
            return Err(ChatFull);
        }
        let slots = self.slots.take(usize::from(fragments_of(text.len()))).ok_or(ChatFull)?;
        for (chunk, &slot) in text.chunks(MAX_FRAGMENT).zip(&slots) {
            self.slots.bytes[usize::from(slot)][..chunk.len()].copy_from_slice(chunk);
        }
        let len = text.len() as u16;
        let sending = Sending {
            friend,
            seq,
            len,
            slots,
            acked: 0,
            mailed: 0,
            sends: 0,
            next_send: None,
            first_sent: Instant::ZERO,
        };
        // Cannot fail: checked above.
        let _ = self.messages.push(sending);
        Ok(())
    }

    /// Fragment `fragment` of `message`'s bytes.
    pub(crate) fn fragment(&self, message: &Sending, fragment: u8) -> &[u8] {
        let slot = usize::from(message.slots[usize::from(fragment)]);
        &self.slots.bytes[slot][..message.range(fragment).len()]
    }

    /// Every message held, in sending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Sending> {
        self.messages.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Sending> {
        self.messages.iter_mut()
    }

    /// Message `seq` to `friend`.
    pub(crate) fn get(&self, friend: Id, seq: u32) -> Option<&Sending> {
        self.messages.iter().find(|m| m.friend == friend && m.seq == seq)
    }

    /// Message `seq` to `friend`, mutably.
    pub(crate) fn get_mut(&mut self, friend: Id, seq: u32) -> Option<&mut Sending> {
        self.messages.iter_mut().find(|m| m.friend == friend && m.seq == seq)
    }

    /// Drops the messages to `friend` that `done` picks, in order; returns them.
    pub(crate) fn remove(&mut self, friend: Id, done: impl Fn(&Sending) -> bool) -> heapless::Vec<Sending, CHAT_SLOTS> {
        let mut removed = heapless::Vec::new();
        let mut i = 0;
        while i < self.messages.len() {
            if self.messages[i].friend == friend && done(&self.messages[i]) {
                let message = self.messages.remove(i);
                self.slots.release(&message.slots[..usize::from(message.fragments())]);
                // Cannot fail: as many places as messages.
                let _ = removed.push(message);
            } else {
                i += 1;
            }
        }
        removed
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True if none is.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// A message received: being reassembled, or whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Receiving {
    friend: Id,
    seq: u32,
    fragments: u8,
    /// Bit `i`: fragment `i` is in.
    got: u8,
    /// Bytes of the last fragment.
    last_len: u16,
    slots: [u8; FRAGMENTS],
    /// Delivered: its place in the order the user reads messages in.
    ready: Option<u32>,
}

impl Receiving {
    fn complete(&self) -> bool {
        self.got.count_ones() == u32::from(self.fragments)
    }

    fn len(&self) -> usize {
        (usize::from(self.fragments) - 1) * MAX_FRAGMENT + usize::from(self.last_len)
    }
}

/// A message as the user reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadMessage {
    /// The friend who sent it.
    pub from: Id,
    /// Its number in the conversation.
    pub seq: u32,
    /// Its bytes at the start of the caller's buffer.
    pub len: usize,
}

/// Messages received: reassembled in fixed slots, then read by the user
/// in the order they were delivered.
///
/// `A` decides the capacity: [`CHAT_SLOTS`] fragments and messages with the applications, none without.
#[derive(Clone, Debug, Default)]
pub struct ChatInbox<A: Apps = WithApps> {
    slots: Slots<A::List<CHAT_SLOTS>>,
    messages: Table<Receiving, A::List<CHAT_SLOTS>>,
    delivered: u32,
}

/// Whether a fragment was taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// It is in (now or before): acknowledge it.
    In,
    /// No room: do not acknowledge it, so it comes again.
    NoRoom,
    /// It contradicts the fragments already in (another count or length).
    Inconsistent,
}

impl<A: Apps> ChatInbox<A> {
    /// Takes in fragment `fragment` of `fragments` of message `seq` from
    /// `friend`. Only the message `next` in order may take the last
    /// [`MAX_FRAGMENTS`] slots (of the friend's share, and of all), so a
    /// later message never keeps it out.
    pub(crate) fn take(
        &mut self,
        friend: Id,
        (seq, next): (u32, bool),
        (fragment, fragments): (u8, u8),
        bytes: &[u8],
    ) -> Taken {
        let last = fragment + 1 == fragments;
        let index = match self.messages.iter().position(|m| m.friend == friend && m.seq == seq) {
            Some(index) => index,
            None => {
                let held = self.held_by(friend);
                let reserve = if next { 0 } else { FRAGMENTS };
                let wanted = usize::from(fragments) + reserve;
                if held + wanted > SLOTS_PER_FRIEND || self.slots.free() < wanted || self.messages.is_full() {
                    return Taken::NoRoom;
                }
                let Some(slots) = self.slots.take(usize::from(fragments)) else { return Taken::NoRoom };
                let receiving = Receiving { friend, seq, fragments, got: 0, last_len: 0, slots, ready: None };
                // Cannot fail: checked above.
                let _ = self.messages.push(receiving);
                self.messages.len() - 1
            }
        };
        let message = &mut self.messages[index];
        if message.fragments != fragments {
            return Taken::Inconsistent;
        }
        if message.got & (1 << fragment) == 0 {
            let slot = usize::from(message.slots[usize::from(fragment)]);
            self.slots.bytes[slot][..bytes.len()].copy_from_slice(bytes);
            message.got |= 1 << fragment;
            if last {
                message.last_len = bytes.len() as u16;
            }
        }
        Taken::In
    }

    /// If message `seq` from `friend` is whole, marks it delivered (next
    /// in reading order) and returns its length.
    pub(crate) fn deliver(&mut self, friend: Id, seq: u32) -> Option<usize> {
        let message = self.messages.iter_mut().find(|m| m.friend == friend && m.seq == seq && m.complete())?;
        self.delivered = self.delivered.wrapping_add(1);
        message.ready = Some(self.delivered);
        Some(message.len())
    }

    /// The oldest delivered message, copied into `buf` and let go.
    pub(crate) fn read(&mut self, buf: &mut [u8; MAX_MESSAGE]) -> Option<ReadMessage> {
        let index = (0..self.messages.len()).filter(|&i| self.messages[i].ready.is_some()).min_by_key(|&i| {
            let stamp = self.messages[i].ready.unwrap_or(0);
            stamp.wrapping_sub(self.delivered.wrapping_add(1))
        })?;
        let message = self.messages.remove(index);
        let len = message.len();
        let fragments = usize::from(message.fragments);
        for (i, &slot) in message.slots[..fragments].iter().enumerate() {
            let end = ((i + 1) * MAX_FRAGMENT).min(len);
            buf[i * MAX_FRAGMENT..end].copy_from_slice(&self.slots.bytes[usize::from(slot)][..end - i * MAX_FRAGMENT]);
        }
        self.slots.release(&message.slots[..fragments]);
        Some(ReadMessage { from: message.friend, seq: message.seq, len })
    }

    /// Fragment slots `friend`'s messages hold, delivered and unread ones included.
    fn held_by(&self, friend: Id) -> usize {
        self.messages.iter().filter(|m| m.friend == friend).map(|m| usize::from(m.fragments)).sum()
    }

    /// Fragments of messages after the next one in order that `friend` may
    /// send now and find room for: its share and the free slots, less the
    /// room kept for the next message.
    pub(crate) fn room(&self, friend: Id) -> u8 {
        let share = SLOTS_PER_FRIEND.saturating_sub(self.held_by(friend));
        (share.min(self.slots.free()).saturating_sub(FRAGMENTS)) as u8
    }

    /// Drops what is held from `friend` that was not delivered.
    pub(crate) fn forget(&mut self, friend: Id) {
        let slots = &mut self.slots;
        self.messages.retain(|m| {
            let keep = m.friend != friend || m.ready.is_some();
            if !keep {
                slots.release(&m.slots[..usize::from(m.fragments)]);
            }
            keep
        });
    }

    /// Delivered messages waiting to be read.
    pub fn unread(&self) -> usize {
        self.messages.iter().filter(|m| m.ready.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_split_held_and_reassembled_in_reading_order() {
        let text: std::vec::Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let mut out: ChatOutbox = ChatOutbox::default();
        out.push(Id(1), 1, &text).unwrap();
        let sending = *out.iter().next().unwrap();
        assert_eq!(sending.fragments(), 3);
        let mut inbox: ChatInbox = ChatInbox::default();
        assert_eq!(inbox.take(Id(2), (9, true), (0, 1), b"first"), Taken::In);
        for fragment in [2u8, 0, 2, 1] {
            let bytes = out.fragment(&sending, fragment);
            assert_eq!(inbox.take(Id(1), (1, true), (fragment, 3), bytes), Taken::In);
        }
        assert_eq!(inbox.take(Id(1), (1, true), (0, 2), &text[..MAX_FRAGMENT]), Taken::Inconsistent);
        assert_eq!(inbox.deliver(Id(1), 1), Some(3000));
        assert_eq!(inbox.deliver(Id(2), 9), Some(5));
        let mut buf = [0u8; MAX_MESSAGE];
        assert_eq!(inbox.read(&mut buf), Some(ReadMessage { from: Id(1), seq: 1, len: 3000 }));
        assert_eq!(&buf[..3000], &text[..]);
        assert_eq!(inbox.read(&mut buf), Some(ReadMessage { from: Id(2), seq: 9, len: 5 }));
        assert_eq!(inbox.read(&mut buf), None);
        assert_eq!(inbox.slots.free(), CHAT_SLOTS);
        assert_eq!(out.remove(Id(1), |m| m.seq <= 1).len(), 1);
        assert_eq!(out.slots.free(), CHAT_SLOTS);
    }

    #[test]
    fn no_friend_takes_more_than_its_share_and_full_means_no_room() {
        let mut inbox: ChatInbox = ChatInbox::default();
        // Later messages leave room for the next one in order.
        for seq in 2..=(SLOTS_PER_FRIEND - FRAGMENTS) as u32 + 1 {
            assert_eq!(inbox.take(Id(1), (seq, false), (0, 1), b"x"), Taken::In);
        }
        assert_eq!(inbox.take(Id(1), (99, false), (0, 1), b"x"), Taken::NoRoom);
        assert_eq!(inbox.take(Id(1), (1, true), (0, 4), &[0; MAX_FRAGMENT]), Taken::In);
        assert_eq!(inbox.take(Id(1), (98, true), (0, 1), b"x"), Taken::NoRoom, "the friend's share is full");
        for seq in 1..=SLOTS_PER_FRIEND as u32 {
            assert_eq!(inbox.take(Id(2), (seq, true), (0, 1), b"y"), Taken::In);
        }
        assert_eq!(inbox.take(Id(3), (1, true), (0, 1), b"z"), Taken::NoRoom);
        assert_eq!(inbox.room(Id(3)), 0, "no free slots");
        inbox.forget(Id(2));
        assert_eq!(inbox.room(Id(3)), (SLOTS_PER_FRIEND - FRAGMENTS) as u8);
        assert_eq!(inbox.take(Id(3), (1, true), (0, 1), b"z"), Taken::In);
        assert_eq!(inbox.room(Id(3)), (SLOTS_PER_FRIEND - FRAGMENTS - 1) as u8);
        let mut out: ChatOutbox = ChatOutbox::default();
        assert_eq!(out.push(Id(1), 1, &[]), Err(ChatFull));
        assert_eq!(out.push(Id(1), 1, &[0; MAX_MESSAGE + 1]), Err(ChatFull));
        for seq in 0..4 {
            out.push(Id(1), seq, &[1; MAX_MESSAGE]).unwrap();
        }
        assert_eq!(out.push(Id(1), 5, b"one more"), Err(ChatFull));
    }
}
