//! Presence: our state and status text, signed and pushed to every
//! contact until it acknowledges the newest version — on change, to a new
//! contact, to a contact that comes back (its liveness probes answer again,
//! or its own presence arrives after it was offline), and after a restart.
//!
//! A contact's presence is taken only if its signature holds under the
//! contact's key and its version is newer than the last one taken; the
//! signature covers the sender's address, so a contact that moved is
//! followed to its new address. A contact that says it is offline is
//! believed gone until it is heard again: chat to it waits as mail. A contact that crashes shows as `Offline`
//! once its liveness probe fails: it is probed when
//! `friend_probe_interval` has passed without a datagram from it, and
//! declared dead after `liveness_misses` probes `probe_timeout` apart, so
//! within `friend_probe_interval + liveness_misses × probe_timeout` of the
//! last datagram heard from it (63 s with the defaults).

use super::check_signed;
use crate::event::{CommandError, Event};
use crate::id::Id;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{Header, Message, Presence, Status};
use core::net::SocketAddrV6;

/// Request slots a presence push leaves free for everything else.
const RESERVED_SLOTS: usize = 8;

impl<P: Profile> Node<P> {
    /// Our presence: state, status text and version.
    pub fn presence(&self) -> (Status, &str, u64) {
        let own = &self.messenger.presence;
        (own.status, &own.text, own.version)
    }

    /// Sets our state and status text (up to 128 bytes) and pushes them to every contact.
    pub fn set_presence(&mut self, now: Instant, status: Status, text: &str) -> Result<(), CommandError> {
        let version = self.messenger.presence.version.saturating_add(1);
        self.restore_presence(now, status, text, version)
    }

    /// Sets our presence at `version`, which must grow across runs for
    /// friends to take it (the program keeps it, or derives it from the
    /// wall clock), and pushes it to every contact.
    pub fn restore_presence(
        &mut self,
        now: Instant,
        status: Status,
        text: &str,
        version: u64,
    ) -> Result<(), CommandError> {
        self.now = now;
        let text = heapless::String::try_from(text).map_err(|_| CommandError::TextTooLong)?;
        let own = &mut self.messenger.presence;
        (own.status, own.text, own.version) = (status, text, version);
        for contact in self.messenger.contacts.iter_mut() {
            contact.presence_retry = Some(now);
        }
        Ok(())
    }

    /// Our presence as it stands, signed.
    pub(crate) fn presence_message(&self) -> Message {
        let own = &self.messenger.presence;
        let signature = crate::identity::Signature([0; 64]);
        let mut presence = Presence { version: own.version, status: own.status, text: own.text.clone(), signature };
        presence.signature = self.identity.sign(presence.transcript(&self.me).as_bytes());
        Message::Presence(presence)
    }

    /// When a contact next needs our presence.
    pub(crate) fn next_presence_push(&self) -> Option<Instant> {
        let version = self.messenger.presence.version;
        let friends = &self.liveness.friends;
        self.messenger
            .contacts
            .iter()
            .filter(|c| c.presence_acked < version)
            .filter_map(|c| c.presence_retry.filter(|_| friends.get_alive(c.id).is_some()))
            .min()
    }

    /// Pushes our presence to each contact that needs it now, leaving room
    /// in the request table; those left wait a request timeout.
    pub(crate) fn push_presence(&mut self, now: Instant) {
        let version = self.messenger.presence.version;
        let due: heapless::Vec<Id, { crate::tables::contacts::MAX_CONTACTS }> = self
            .messenger
            .contacts
            .iter()
            .filter(|c| c.presence_acked < version && c.presence_retry.is_some_and(|at| at <= now))
            .map(|c| c.id)
            .collect();
        for friend in due {
            let Some(addr) = self.liveness.friends.get_alive(friend).map(|f| f.addr) else { continue };
            let started = self.requests.transactions.room() > RESERVED_SLOTS
                && self.start_request(addr, Purpose::Presence { friend, version }).is_ok();
            let retry = if started { None } else { Some(now + self.config.request_timeout) };
            if let Some(contact) = self.messenger.contacts.get_mut(friend) {
                contact.presence_retry = retry;
            }
        }
    }

    /// A contact acknowledged our presence `version`.
    pub(crate) fn presence_acknowledged(&mut self, friend: Id, version: u64) {
        let now = self.now;
        let current = self.messenger.presence.version;
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.presence_acked = contact.presence_acked.max(version);
            if contact.presence_acked < current {
                contact.presence_retry = Some(now);
            }
        }
    }

    /// A push went unanswered: try again after a friend-probe period (or
    /// as soon as the contact is heard again).
    pub(crate) fn presence_push_failed(&mut self, friend: Id) {
        let retry = self.now + self.config.friend_probe_interval;
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.presence_retry = Some(retry);
        }
    }

    /// A friend answers again after it was believed dead: it needs our
    /// presence, and our chat goes out to it at once.
    pub(crate) fn contact_up(&mut self, friend: Id) {
        let now = self.now;
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.presence_acked = 0;
            contact.presence_retry = Some(now);
            self.resume_chat(friend);
        }
    }

    /// A friend's probes failed: it shows as offline.
    pub(crate) fn contact_down(&mut self, friend: Id) {
        let Some(contact) = self.messenger.contacts.get_mut(friend) else { return };
        if contact.presence.status != Status::Offline {
            contact.presence.status = Status::Offline;
            self.emit(Event::PresenceChanged { friend, status: Status::Offline });
        }
        self.mail_to(friend);
    }

    pub(crate) fn handle_presence(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        presence: Presence,
    ) -> Result<(), DropReason> {
        let sender = header.sender;
        let contact = self.signing_contact(from, header)?;
        check_signed(&contact.key, &presence.transcript(&sender), &presence.signature)?;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        let now = self.now;
        let Some(contact) = self.messenger.contacts.get_mut(sender.id) else { return Ok(()) };
        if presence.version <= contact.presence.version {
            return Ok(());
        }
        let came_back = contact.presence.status == Status::Offline;
        contact.presence.status = presence.status;
        contact.presence.text = presence.text;
        contact.presence.version = presence.version;
        if came_back {
            // It (re)started: it needs our presence too.
            contact.presence_acked = 0;
            contact.presence_retry = Some(now);
        }
        if self.liveness.friends.get(sender.id).is_some_and(|f| f.addr != from) {
            // The contact moved: follow it (its signature covers the new address).
            let _ = self.liveness.friends.insert(sender, now, now);
        }
        self.emit(Event::PresenceChanged { friend: sender.id, status: presence.status });
        if presence.status == Status::Offline {
            // It is going away: what we say to it now waits as mail, until it is heard again.
            self.liveness.friends.mark_gone(sender.id);
            self.mail_to(sender.id);
        }
        Ok(())
    }
}
