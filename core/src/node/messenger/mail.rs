//! Offline mail: chat for a friend that is offline waits, still sealed,
//! at the node responsible for the friend's ID (the holder) and at the
//! nodes after it, until the friend is back.
//!
//! - The sender: once a friend's probes fail, or when it says something to
//!   a friend believed offline, it looks up the holder of the friend's ID
//!   and stores each fragment not yet delivered there (MAIL_STORE, answered
//!   by ACK). The messages stay in its own outbox until a receipt comes. A
//!   lookup or store that fails is tried again [`MAIL_RETRY`] later while the
//!   friend stays offline.
//! - The holder keeps each letter (see [`Mailbox`] for the bounds and the 7
//!   days), copies it to its right chain at once and with every refresh of
//!   its locators (MAIL_COPY, taken only from a node of the receiver's left
//!   chain), and when the recipient joins — it takes its own ID back from
//!   the holder — hands its mail over with the locators in its range, once
//!   its address is checked: letters for the recipient are delivered to it
//!   (MAIL, sent again with backoff, `max_attempts` times), others copied.
//! - The recipient takes a letter only from a contact's seal, delivers it as
//!   chat (once, in order), acknowledges it to the holder with what it has
//!   delivered (MAIL_ACK) and sends the sender its receipt (CHAT_ACK). The
//!   holder drops the delivered letters and passes the MAIL_ACK to its right
//!   chain, which drops its copies.
//!
//! [`Mailbox`]: crate::tables::mailbox::Mailbox

use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::chat::fragments_of;
use crate::tables::mailbox::{Delivery, Letter, LetterKey, Mailbox, MAIL_LIFETIME};
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::{Asker, Purpose, Role};
use crate::time::Instant;
use crate::wire::{Header, Mail, MailAck, Side};
use core::net::SocketAddrV6;
use core::time::Duration;

/// How long a sender waits to try mailing an offline friend again after a lookup or store failed.
pub const MAIL_RETRY: Duration = Duration::from_secs(30);
/// Request slots mailing leaves free for everything else.
const RESERVED_SLOTS: usize = 8;

impl<P: Profile> Node<P> {
    /// The offline mail this node keeps for others.
    pub fn mailbox(&self) -> &Mailbox<P::Apps> {
        &self.messenger.mailbox
    }

    /// Mails what we have not delivered to offline `friend`: looks up its holder first.
    pub(crate) fn mail_to(&mut self, friend: Id) {
        let unmailed = self.messenger.outbox.iter().any(|m| m.friend == friend && !all_mailed(m.mailed, m.len));
        let asked = self.requests.transactions.iter().any(|tx| {
            matches!(tx.purpose, Purpose::Lookup { asker: Asker::Mail, key } if key == friend)
                || matches!(tx.purpose, Purpose::MailStore { friend: f, .. } if f == friend)
        });
        if !unmailed || asked || self.messenger.contacts.get(friend).is_none() {
            return;
        }
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.mail_retry = None;
        }
        match self.originate_for(friend, Purpose::Lookup { asker: Asker::Mail, key: friend }) {
            Ok(true) => self.mail_holder_found(friend, self.me),
            Ok(false) => {}
            Err(_) => self.mail_later(friend),
        }
    }

    /// Mailing `friend` failed for now: try again later.
    pub(crate) fn mail_later(&mut self, friend: Id) {
        let at = self.now + MAIL_RETRY;
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.mail_retry = Some(at);
        }
    }

    /// The holder of offline `friend`'s mail is `holder`: store there what is not yet.
    pub(crate) fn mail_holder_found(&mut self, friend: Id, holder: ResourceLocator) {
        if holder.id == friend {
            // It is back: check, and our chat goes out when it answers.
            return self.probe(holder, Role::Friend);
        }
        let mut unmailed: heapless::Vec<(u32, u8), { 4 * crate::tables::chat::CHAT_SLOTS }> = heapless::Vec::new();
        for message in self.messenger.outbox.iter().filter(|m| m.friend == friend) {
            for fragment in (0..fragments_of(usize::from(message.len))).filter(|f| message.mailed & (1 << f) == 0) {
                let _ = unmailed.push((message.seq, fragment));
            }
        }
        for (seq, fragment) in unmailed {
            if holder == self.me {
                if let Some(mail) = self.own_mail(friend, seq, fragment) {
                    if self.keep_letter(mail).is_ok() {
                        self.mail_stored(friend, seq, fragment);
                    }
                }
                continue;
            }
            let purpose = Purpose::MailStore { friend, seq, fragment };
            if self.requests.transactions.room() <= RESERVED_SLOTS || self.start_request(holder.addr, purpose).is_err()
            {
                return self.mail_later(friend);
            }
        }
    }

    /// The holder keeps fragment `fragment` of our message `seq` to `friend`.
    pub(crate) fn mail_stored(&mut self, friend: Id, seq: u32, fragment: u8) {
        if let Some(message) = self.messenger.outbox.get_mut(friend, seq) {
            message.mailed |= 1 << fragment;
        }
    }

    /// Our fragment as mail for `friend`.
    pub(crate) fn own_mail(&self, friend: Id, seq: u32, fragment: u8) -> Option<Mail> {
        let chat = self.sealed_fragment(friend, seq, fragment)?;
        let lifetime_secs = MAIL_LIFETIME.as_secs() as u32;
        Some(Mail { recipient: friend, sender: self.me, lifetime_secs, chat })
    }

    /// A letter we keep, as mail.
    pub(crate) fn letter_mail(&self, key: LetterKey) -> Option<Mail> {
        let letter = self.messenger.mailbox.get(key)?;
        let lifetime = letter.expires.saturating_duration_since(self.now).as_secs();
        let lifetime_secs = u32::try_from(lifetime).unwrap_or(u32::MAX);
        Some(Mail { recipient: letter.recipient, sender: letter.sender, lifetime_secs, chat: letter.chat.clone() })
    }

    /// Keeps `mail` as a letter (its lifetime capped at 7 days); true if it is new.
    fn keep_letter(&mut self, mail: Mail) -> Result<bool, DropReason> {
        let letter = letter_of(mail, self.now);
        let key = letter.key();
        let new = self.messenger.mailbox.keep(letter).map_err(|_| DropReason::MailboxFull)?;
        if new {
            self.copy_letter(key);
        }
        Ok(new)
    }

    /// Copies a letter to our right chain.
    fn copy_letter(&mut self, letter: LetterKey) {
        let chain: heapless::Vec<SocketAddrV6, { crate::wire::MAX_CHAIN }> =
            self.ring.neighbours.chain(Side::Right).iter().map(|c| c.addr).collect();
        for to in chain {
            self.send(Outgoing::MailCopy { to, letter });
        }
    }

    /// Copies every letter we hold (those for IDs in our range) to our right chain again.
    pub(crate) fn copy_mail(&mut self) {
        let Some(left) = self.ring.neighbours.left().map(|l| l.id) else { return };
        let held: heapless::Vec<LetterKey, { crate::tables::mailbox::MAILBOX_CAPACITY }> =
            self.messenger.mailbox.in_range(left, self.me.id).map(Letter::key).collect();
        for letter in held {
            self.copy_letter(letter);
        }
    }

    /// A joiner took the IDs in `(from, joiner]` from us: its own letters
    /// are delivered to it, the others copied to it.
    pub(crate) fn hand_over_mail(&mut self, joiner: &ResourceLocator, from: Id) {
        let now = self.now;
        let mut copies: heapless::Vec<LetterKey, { crate::tables::mailbox::MAILBOX_CAPACITY }> = heapless::Vec::new();
        for letter in self.messenger.mailbox.iter_mut().filter(|l| l.recipient.in_open_closed(from, joiner.id)) {
            if letter.recipient == joiner.id {
                letter.delivery = Some(Delivery { to: joiner.addr, sends: 0, next_send: now });
            } else {
                let _ = copies.push(letter.key());
            }
        }
        for letter in copies {
            self.send(Outgoing::MailCopy { to: joiner.addr, letter });
        }
    }

    /// When mail next has work: a delivery, an expiry, or mailing an offline friend again.
    pub(crate) fn next_mail_work(&self) -> Option<Instant> {
        let mailbox = &self.messenger.mailbox;
        let friends = &self.liveness.friends;
        let retry =
            self.messenger.contacts.iter().filter_map(|c| c.mail_retry.filter(|_| friends.get_alive(c.id).is_none()));
        [mailbox.next_delivery(), mailbox.next_expiry()].into_iter().flatten().chain(retry).min()
    }

    /// Delivers the letters due, drops the expired ones, mails offline friends again.
    pub(crate) fn mail_work(&mut self, now: Instant) {
        self.messenger.mailbox.expire(now);
        let (attempts, timeout) = (self.config.max_attempts, self.config.request_timeout);
        let mut due: heapless::Vec<(SocketAddrV6, LetterKey), { crate::tables::mailbox::MAILBOX_CAPACITY }> =
            heapless::Vec::new();
        for letter in self.messenger.mailbox.iter_mut() {
            let key = letter.key();
            let Some(delivery) = letter.delivery.as_mut().filter(|d| d.next_send <= now) else { continue };
            if delivery.sends >= attempts {
                // The recipient went quiet: the letter waits for its next join.
                letter.delivery = None;
                continue;
            }
            delivery.sends += 1;
            delivery.next_send = now + timeout.saturating_mul(1 << u32::from(delivery.sends).min(16));
            let _ = due.push((delivery.to, key));
        }
        for (to, letter) in due {
            self.send(Outgoing::Mail { to, letter });
        }
        let friends = &self.liveness.friends;
        let retry: heapless::Vec<Id, { crate::tables::contacts::MAX_CONTACTS }> = self
            .messenger
            .contacts
            .iter()
            .filter(|c| c.mail_retry.is_some_and(|at| at <= now) && friends.get_alive(c.id).is_none())
            .map(|c| c.id)
            .collect();
        for friend in retry {
            self.mail_to(friend);
        }
    }

    pub(crate) fn handle_mail_store(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        mail: Mail,
    ) -> Result<(), DropReason> {
        if mail.sender != header.sender || header.sender.addr != from {
            return Err(DropReason::InvalidReply);
        }
        let ours = self.is_joined() && self.ring.neighbours.is_responsible(self.me.id, mail.recipient);
        if !ours || mail.recipient == self.me.id {
            return Err(DropReason::NotOurs);
        }
        self.keep_letter(mail)?;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        Ok(())
    }

    pub(crate) fn handle_mail_copy(&mut self, from: SocketAddrV6, mail: Mail) -> Result<(), DropReason> {
        if !self.ring.neighbours.chain(Side::Left).iter().any(|c| c.addr == from) {
            return Err(DropReason::UnexpectedCopy);
        }
        let letter = letter_of(mail, self.now);
        self.messenger.mailbox.keep(letter).map(|_| ()).map_err(|_| DropReason::MailboxFull)
    }

    pub(crate) fn handle_mail(&mut self, from: SocketAddrV6, header: &Header, mail: Mail) -> Result<(), DropReason> {
        if mail.recipient != self.me.id {
            return Err(DropReason::NotOurs);
        }
        let sender = mail.sender.id;
        if self.messenger.requests.is_blocked(sender) {
            return Err(DropReason::Blocked);
        }
        let (seq, fragment) = (mail.chat.seq, mail.chat.fragment);
        self.take_chat(sender, mail.chat)?;
        let delivered = self.messenger.contacts.get(sender).map_or(0, |c| c.delivered);
        let ack = MailAck { recipient: self.me.id, sender, delivered };
        self.send(Outgoing::MailAck { to: from, txid: header.txid, ack, drawn: true });
        if let Some(to) = self.friend_addr(sender) {
            self.send(Outgoing::ChatAck { to, friend: sender, seq, fragment, drawn: false });
        }
        Ok(())
    }

    pub(crate) fn handle_mail_ack(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        ack: MailAck,
    ) -> Result<(), DropReason> {
        let recipient = header.sender.id == ack.recipient
            && self
                .messenger
                .mailbox
                .iter()
                .any(|l| l.recipient == ack.recipient && l.delivery.is_some_and(|d| d.to == from));
        let holder = self.ring.neighbours.chain(Side::Left).iter().any(|c| c.addr == from);
        if !recipient && !holder {
            return Err(DropReason::UnexpectedResponse);
        }
        let dropped = self.messenger.mailbox.delivered(ack.recipient, ack.sender, ack.delivered);
        if recipient && dropped > 0 {
            let chain: heapless::Vec<SocketAddrV6, { crate::wire::MAX_CHAIN }> =
                self.ring.neighbours.chain(Side::Right).iter().map(|c| c.addr).collect();
            for to in chain {
                let txid = self.rng.next_u64();
                self.send(Outgoing::MailAck { to, txid, ack, drawn: false });
            }
        }
        Ok(())
    }
}

/// `mail` as a letter received at `now` (its lifetime capped at 7 days).
fn letter_of(mail: Mail, now: Instant) -> Letter {
    let lifetime = Duration::from_secs(u64::from(mail.lifetime_secs)).min(MAIL_LIFETIME);
    let Mail { recipient, sender, chat, .. } = mail;
    Letter { recipient, sender, chat, expires: now + lifetime, delivery: None }
}

/// True if every fragment of a message of `len` bytes is mailed.
fn all_mailed(mailed: u8, len: u16) -> bool {
    mailed.count_ones() == u32::from(fragments_of(usize::from(len)))
}
