//! Sending chat: each message gets the next number of its conversation,
//! is split into fragments of up to 1 KiB, and each fragment is sealed
//! under the conversation key when it leaves. At most [`CHAT_WINDOW`]
//! messages past the last one the friend delivered are in flight; each is
//! sent again, its unacknowledged fragments (or, once all are, its last as
//! a probe for the receipt), after the friend's retransmission timeout
//! (RFC 6298, doubling with each send up to a minute) until the friend's
//! CHAT_ACK reports it delivered — the delivery receipt,
//! [`Event::Delivered`]. Nothing is sent to a friend believed dead; its
//! messages go out again as soon as it answers.

use crate::conversation::{Seal, SealKind};
use crate::event::{CommandError, Event};
use crate::id::Id;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::{bump, DropReason};
use crate::tables::chat::{ReadMessage, CHAT_SLOTS, CHAT_WINDOW};
use crate::tables::outbox::Outgoing;
use crate::time::Instant;
use crate::wire::{ChatAck, ChatFragment, Header, Message, MAX_FRAGMENT, MAX_FRAGMENTS, MAX_MESSAGE};
use core::net::SocketAddrV6;
use core::time::Duration;

/// The longest wait between two sends of a message.
const MAX_CHAT_BACKOFF: Duration = Duration::from_secs(60);

impl<P: Profile> Node<P> {
    /// Sends `text` (1 to 4096 bytes) to contact `friend`; returns its number
    /// in the conversation, which its [`Event::Delivered`] receipt carries.
    pub fn say(&mut self, now: Instant, friend: Id, text: &[u8]) -> Result<u32, CommandError> {
        self.now = now;
        let contact = self.messenger.contacts.get(friend).ok_or(CommandError::NotAFriend)?;
        if text.is_empty() || text.len() > MAX_MESSAGE {
            return Err(CommandError::BadMessageLength);
        }
        let seq = contact.next_seq;
        self.messenger.outbox.push(friend, seq, text).map_err(|_| CommandError::ChatFull)?;
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.next_seq = seq.wrapping_add(1);
        }
        self.open_window(friend);
        if self.liveness.friends.get_alive(friend).is_none() {
            self.mail_to(friend);
        }
        Ok(seq)
    }

    /// Sends again message `seq` to `friend`, sent in an earlier run and not
    /// yet delivered (the program keeps it), under its old number, so the
    /// friend delivers it once whether or not it got it before.
    pub fn restore_message(&mut self, now: Instant, friend: Id, seq: u32, text: &[u8]) -> Result<(), CommandError> {
        self.now = now;
        let contact = self.messenger.contacts.get(friend).ok_or(CommandError::NotAFriend)?;
        let held = self.messenger.outbox.get(friend, seq).is_some();
        if seq <= contact.receipted || seq >= contact.next_seq || held {
            return Err(CommandError::NoSuchRequest);
        }
        if text.is_empty() || text.len() > MAX_MESSAGE {
            return Err(CommandError::BadMessageLength);
        }
        self.messenger.outbox.push(friend, seq, text).map_err(|_| CommandError::ChatFull)?;
        self.open_window(friend);
        Ok(())
    }

    /// The oldest delivered chat message not yet read, copied into `buf`
    /// (each [`Event::Message`] announces one). Reading makes room: a
    /// friend left with too little to send on is told, so drain
    /// [`poll_output`](Node::poll_output) after reading.
    pub fn read_message(&mut self, buf: &mut [u8; MAX_MESSAGE]) -> Option<ReadMessage> {
        let read = self.messenger.inbox.read(buf)?;
        let room = self.messenger.inbox.room(read.from);
        if let Some(contact) = self.messenger.contacts.get_mut(read.from) {
            if contact.advertised_room < MAX_FRAGMENTS && room > contact.advertised_room {
                contact.advertised_room = room;
                if let Some(to) = self.friend_addr(read.from) {
                    self.send(Outgoing::ChatAck { to, friend: read.from, seq: 0, fragment: 0, drawn: false });
                }
            }
        }
        Some(read)
    }

    /// Messages sent and not yet delivered, per friend: `(friend, seq)`.
    pub fn undelivered(&self) -> impl Iterator<Item = (Id, u32)> + '_ {
        self.messenger.outbox.iter().map(|m| (m.friend, m.seq))
    }

    /// Lets the messages to `friend` that fit its window go out now: at
    /// most [`CHAT_WINDOW`] past the last one it delivered, and no more
    /// fragments outstanding than the room it last reported. With nothing
    /// outstanding and too little room, the next message goes out after a
    /// retransmission timeout anyway.
    fn open_window(&mut self, friend: Id) {
        let Some(contact) = self.messenger.contacts.get(friend) else { return };
        let limit = contact.receipted.wrapping_add(CHAT_WINDOW);
        let (room, probe_after) = (usize::from(contact.peer_room), contact.rtt.timeout());
        let now = self.now;
        let outstanding: usize = self
            .messenger
            .outbox
            .iter()
            .filter(|m| m.friend == friend && m.sends > 0)
            .map(|m| usize::from(m.fragments()) - m.acked.count_ones() as usize)
            .sum();
        let mut budget = room.saturating_sub(outstanding);
        // Messages never sent, in order: due now if they fit, else the first waits (or probes).
        let unsent = self.messenger.outbox.iter_mut().filter(|m| m.friend == friend && m.sends == 0);
        for message in unsent.filter(|m| m.seq <= limit) {
            let fragments = usize::from(message.fragments());
            if fragments > budget {
                // With nothing outstanding it probes (has room been made, its
                // window update lost?); otherwise it waits for acknowledgements.
                message.next_send = (outstanding == 0).then(|| message.next_send.unwrap_or(now + probe_after));
                break;
            }
            budget -= fragments;
            message.next_send = Some(now);
        }
    }

    /// `friend` answers again: what waits for it goes out now.
    pub(crate) fn resume_chat(&mut self, friend: Id) {
        let now = self.now;
        for message in self.messenger.outbox.iter_mut().filter(|m| m.friend == friend) {
            if message.next_send.is_some() {
                message.next_send = Some(now);
            }
        }
    }

    /// When a message is next due to (re)send.
    pub(crate) fn next_chat_send(&self) -> Option<Instant> {
        let outbox = &self.messenger.outbox;
        let alive = |friend| self.liveness.friends.get_alive(friend).is_some();
        outbox.iter().filter_map(|m| m.next_send.filter(|_| alive(m.friend))).min()
    }

    /// Sends each message that is due.
    pub(crate) fn send_chat(&mut self, now: Instant) {
        let due: heapless::Vec<(Id, u32), CHAT_SLOTS> = self
            .messenger
            .outbox
            .iter()
            .filter(|m| m.next_send.is_some_and(|at| at <= now) && self.liveness.friends.get_alive(m.friend).is_some())
            .map(|m| (m.friend, m.seq))
            .collect();
        for (friend, seq) in due {
            let timeout = self.messenger.contacts.get(friend).map_or(MAX_CHAT_BACKOFF, |c| c.rtt.timeout());
            let Some(message) = self.messenger.outbox.get_mut(friend, seq) else { continue };
            message.sends = message.sends.saturating_add(1);
            if message.sends == 1 {
                message.first_sent = now;
            } else {
                bump(&mut self.stats.retransmits);
            }
            let backoff = timeout.saturating_mul(1 << u32::from(message.sends - 1).min(16)).min(MAX_CHAT_BACKOFF);
            message.next_send = Some(now + backoff);
            let (fragments, acked) = (message.fragments(), message.acked);
            let all_acked = acked.count_ones() == u32::from(fragments);
            for fragment in 0..fragments {
                let probe = all_acked && fragment + 1 == fragments;
                if acked & (1 << fragment) == 0 || probe {
                    self.send(Outgoing::Chat { friend, seq, fragment });
                }
            }
        }
    }

    /// Fragment `fragment` of our message `seq` to `friend`, sealed, and
    /// where to send it; `None` once the message is delivered.
    pub(crate) fn chat_datagram(&self, friend: Id, seq: u32, fragment: u8) -> Option<(SocketAddrV6, Message)> {
        Some((self.friend_addr(friend)?, Message::Chat(self.sealed_fragment(friend, seq, fragment)?)))
    }

    /// Fragment `fragment` of our message `seq` to `friend`, sealed; `None`
    /// once the message is delivered.
    pub(crate) fn sealed_fragment(&self, friend: Id, seq: u32, fragment: u8) -> Option<ChatFragment> {
        let message = self.messenger.outbox.get(friend, seq)?;
        let contact = self.messenger.contacts.get(friend)?;
        let bytes = self.messenger.outbox.fragment(message, fragment);
        let mut sealed = heapless::Vec::<u8, MAX_FRAGMENT>::new();
        sealed.extend_from_slice(bytes).ok()?;
        let mut chat =
            ChatFragment { epoch: contact.epoch, seq, fragment, fragments: message.fragments(), sealed, tag: [0; 16] };
        let seal = chat_seal(&chat);
        chat.tag = contact.conversation.seal(seal, &chat.associated(), &mut chat.sealed);
        Some(chat)
    }

    pub(crate) fn handle_chat_ack(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        ack: ChatAck,
    ) -> Result<(), DropReason> {
        let contact = self.sending_contact(from, header)?;
        let seal = ack_seal(&ack);
        contact.conversation.open(seal, &[], &mut [], &ack.tag).map_err(|_| DropReason::BadSignature)?;
        let friend = contact.id;
        let now = self.now;
        let mut sample = None;
        if let Some(message) = self.messenger.outbox.get_mut(friend, ack.seq) {
            if ack.fragment < message.fragments() {
                message.acked |= 1 << ack.fragment;
                if message.sends == 1 {
                    sample = Some(now.saturating_duration_since(message.first_sent));
                }
            }
        }
        let Some(contact) = self.messenger.contacts.get_mut(friend) else { return Ok(()) };
        if let Some(rtt) = sample {
            contact.rtt.sample(rtt);
        }
        contact.peer_room = ack.room;
        if ack.delivered < contact.next_seq && ack.delivered > contact.receipted {
            contact.receipted = ack.delivered;
            for message in self.messenger.outbox.remove(friend, |m| m.seq <= ack.delivered) {
                self.emit(Event::Delivered { friend, seq: message.seq });
            }
        }
        self.open_window(friend);
        Ok(())
    }

    /// Our acknowledgement of `friend`'s fragment (none for `seq` 0: a window
    /// update), with what we delivered and the room we keep for it.
    pub(crate) fn chat_ack_message(&mut self, friend: Id, seq: u32, fragment: u8) -> Option<Message> {
        let room = self.messenger.inbox.room(friend);
        let contact = self.messenger.contacts.get_mut(friend)?;
        contact.advertised_room = room;
        let mut ack = ChatAck { delivered: contact.delivered, seq, fragment, room, tag: [0; 16] };
        ack.tag = contact.conversation.seal(ack_seal(&ack), &[], &mut []);
        Some(Message::ChatAck(ack))
    }
}

/// A chat fragment's nonce: the sender's epoch for the contact, then its
/// message number, fragment and fragment count.
pub(super) fn chat_seal(chat: &ChatFragment) -> Seal {
    let second = u64::from(chat.seq) << 16 | u64::from(chat.fragment) << 8 | u64::from(chat.fragments);
    Seal { kind: SealKind::Chat, first: chat.epoch, second }
}

/// An acknowledgement's nonce: all it says.
fn ack_seal(ack: &ChatAck) -> Seal {
    Seal {
        kind: SealKind::ChatAck,
        first: u64::from(ack.delivered),
        second: u64::from(ack.seq) << 16 | u64::from(ack.fragment) << 8 | u64::from(ack.room),
    }
}
