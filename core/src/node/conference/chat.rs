//! Conference chat: a member's message, signed by it, goes to each of its
//! tree neighbours; each member that takes it acknowledges it (ACK), gives
//! it to its user once and in order per sender — holding a message whose
//! predecessors have not come — and passes it on to its other neighbours,
//! hop by hop, each retransmitted until acknowledged. A message is taken
//! only from a tree neighbour, signed by a member the creator certified.

use crate::conference::{ConferenceEvent, SessionId};
use crate::event::{CommandError, Event};
use crate::id::Id;
use crate::identity::Signature;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conference_chat::{ChatSlot, HOLD_LIMIT};
use crate::tables::conferences::Role;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::wire::{ConfChat, Header};
use core::net::SocketAddrV6;

/// Request slots chat leaves free for everything else.
const RESERVED_SLOTS: usize = 8;

impl<P: Profile> Node<P> {
    /// Says `text` (1 to 256 bytes) in conference `session`; returns the
    /// message's number. It reaches every member along the tree.
    pub fn conference_say(
        &mut self,
        now: crate::time::Instant,
        session: SessionId,
        text: &str,
    ) -> Result<u32, CommandError> {
        self.now = now;
        if text.is_empty() {
            return Err(CommandError::BadMessageLength);
        }
        let text = heapless::String::try_from(text).map_err(|_| CommandError::BadMessageLength)?;
        let me = self.me.id;
        let conference = self.conferences.get_mut(session).map_err(CommandError::Conference)?;
        let certificate = match conference.role {
            Role::Creator => None,
            Role::Member(certificate) => Some(certificate),
            Role::Invited | Role::Answering { .. } => {
                return Err(CommandError::Conference(crate::tables::conferences::ConferenceError::NotMember))
            }
        };
        if self.conference_chats.is_full() {
            return Err(CommandError::ChatFull);
        }
        let seq = conference.said + 1;
        conference.said = seq;
        conference.record_heard(me, seq);
        let waiting = conference.tree.addresses(true, None);
        let mut chat = ConfChat { session, sender: me, certificate, seq, text, signature: Signature([0; 64]) };
        chat.signature = self.identity.sign(&chat.signing_bytes());
        let slot =
            ChatSlot { chat, from: None, delivered: true, waiting, outstanding: 0, retry_at: None, arrived: now };
        // Cannot fail: room was checked above.
        let _ = self.conference_chats.hold(slot);
        self.pass_on_chat(session, me, seq);
        Ok(seq)
    }

    pub(crate) fn handle_conf_chat(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        chat: ConfChat,
    ) -> Result<(), DropReason> {
        let session = chat.session;
        self.check_tree_neighbour(session, from)?;
        let key = self.member_key(session, chat.sender, chat.certificate)?;
        key.verify(&chat.signing_bytes(), &chat.signature).map_err(|_| DropReason::BadSignature)?;
        let (sender, seq) = (chat.sender, chat.seq);
        let heard = self.conferences.get(session).map_or(0, |c| c.heard_from(sender));
        let fresh = seq > heard && self.conference_chats.get(session, sender, seq).is_none();
        if fresh {
            let slot = ChatSlot {
                chat,
                from: Some(from),
                delivered: false,
                waiting: heapless::Vec::new(),
                outstanding: 0,
                retry_at: None,
                arrived: self.now,
            };
            // No room: unacknowledged, so the neighbour sends it again later.
            self.conference_chats.hold(slot).map_err(|_| DropReason::ChatNoRoom)?;
        }
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        if fresh {
            self.deliver_chat(session, sender);
        }
        Ok(())
    }

    /// Gives our user `sender`'s messages that are next in order, and passes each on.
    fn deliver_chat(&mut self, session: SessionId, sender: Id) {
        loop {
            let Ok(conference) = self.conferences.get_mut(session) else { return };
            let next = conference.heard_from(sender) + 1;
            let Some(slot) = self.conference_chats.get_mut(session, sender, next) else { return };
            if !conference.record_heard(sender, next) {
                return;
            }
            slot.delivered = true;
            let from = slot.from;
            slot.waiting = conference.tree.addresses(true, from);
            let text = slot.chat.text.clone();
            self.emit(Event::Conference(ConferenceEvent::Chat { session, from: sender, seq: next, text }));
            self.pass_on_chat(session, sender, next);
        }
    }

    /// Sends a held message to the neighbours it still waits for, while
    /// the request table has room; the rest try again a quarter request
    /// timeout on.
    fn pass_on_chat(&mut self, session: SessionId, sender: Id, seq: u32) {
        let retry = self.now + self.config.request_timeout / 4;
        while let Some(to) = self.conference_chats.get_mut(session, sender, seq).and_then(|s| s.waiting.last().copied())
        {
            if self.requests.transactions.room() <= RESERVED_SLOTS
                || self.start_request(to, Purpose::ConfChat { session, sender, seq }).is_err()
            {
                if let Some(slot) = self.conference_chats.get_mut(session, sender, seq) {
                    slot.retry_at = Some(retry);
                }
                return;
            }
            if let Some(slot) = self.conference_chats.get_mut(session, sender, seq) {
                slot.waiting.pop();
                slot.outstanding += 1;
            }
        }
        self.prune_chats();
    }

    /// A neighbour acknowledged a held message, or never did.
    pub(crate) fn conf_chat_sent(&mut self, session: SessionId, sender: Id, seq: u32) {
        if let Some(slot) = self.conference_chats.get_mut(session, sender, seq) {
            slot.outstanding = slot.outstanding.saturating_sub(1);
        }
        self.prune_chats();
    }

    /// Forgets held messages with nothing left to do, or of conferences we left.
    fn prune_chats(&mut self) {
        let conferences = &self.conferences;
        self.conference_chats.prune(|session| conferences.get(session).is_none());
    }

    /// When a held message next tries its waiting neighbours, or stops
    /// waiting for its sender's earlier ones.
    pub(crate) fn next_chat_retry(&self) -> Option<crate::time::Instant> {
        let held = self.conference_chats.iter().filter(|s| !s.delivered).map(|s| s.arrived + HOLD_LIMIT);
        self.conference_chats.iter().filter_map(|s| s.retry_at).chain(held).min()
    }

    /// Gives the user the messages that waited too long for their
    /// predecessors (skipping those), and tries again the held messages
    /// whose neighbours wait.
    pub(crate) fn retry_chats(&mut self, now: crate::time::Instant) {
        let stale: heapless::Vec<(SessionId, Id, u32), { crate::tables::conference_chat::CHAT_SLOTS }> = self
            .conference_chats
            .iter()
            .filter(|s| !s.delivered && s.arrived + HOLD_LIMIT <= now)
            .map(|s| (s.chat.session, s.chat.sender, s.chat.seq))
            .collect();
        for (session, sender, seq) in stale {
            if let Ok(conference) = self.conferences.get_mut(session) {
                if conference.heard_from(sender) < seq - 1 {
                    conference.record_heard(sender, seq - 1);
                }
            }
            self.deliver_chat(session, sender);
        }
        let due: heapless::Vec<(SessionId, Id, u32), { crate::tables::conference_chat::CHAT_SLOTS }> = self
            .conference_chats
            .iter_mut()
            .filter(|s| s.retry_at.is_some_and(|at| at <= now))
            .map(|s| {
                s.retry_at = None;
                (s.chat.session, s.chat.sender, s.chat.seq)
            })
            .collect();
        for (session, sender, seq) in due {
            self.pass_on_chat(session, sender, seq);
        }
    }
}
