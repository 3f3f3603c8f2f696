//! Conferences with selected friends: membership (`membership.rs`: the
//! creator invites friends, invitees join or decline, members leave, the
//! creator removes them) and the delivery tree over the members — a member
//! looks for the parent that gives it the least delay from the root
//! (`search.rs`) and, attached, for a better one now and then
//! (`refine.rs`), a member takes children up to its degree bound
//! (`adopt.rs`), children tell their parents they are there and re-attach
//! when a parent goes (`liveness.rs`) — and chat along the tree, once and
//! in order per sender (`chat.rs`) — and files and streams sent along it
//! (`send.rs` paces a sender's pieces and writes every conference datagram
//! polled, `receive.rs` checks and passes pieces on and plays streams,
//! `pull.rs` asks neighbours for what was missed); `encode.rs` writes the
//! other messages.
//!
//! The protocol (`docs/wire.md`, *Conferences*): every statement of
//! membership is signed ([`Statement`](crate::conference::Statement)); the
//! creator admits a member with a [`Certificate`](crate::conference::Certificate)
//! binding its key, which it shows other members when it joins the tree.
//! Only friends invite and answer; only members that show a certificate
//! probe or join the tree.

mod adopt;
mod chat;
mod encode;
mod liveness;
mod membership;
mod pull;
mod receive;
mod refine;
mod search;
mod send;

use crate::conference::{ConferenceEvent, LeftReason, SessionId};
use crate::event::{CommandError, Event};
use crate::id::Id;
use crate::identity::PublicKey;
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::conferences::{Conferences, Role};
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// The conferences we are in or invited to, with their trees.
    pub fn conferences(&self) -> &Conferences<P::Apps> {
        &self.conferences
    }

    /// Creates a conference named `name` (at most 32 bytes), with us its
    /// creator and the root of its tree; its identifier is drawn from our
    /// ID, the name and a fresh nonce.
    pub fn create_conference(&mut self, now: Instant, name: &str) -> Result<SessionId, CommandError> {
        self.now = now;
        let nonce = self.rng.next_u64();
        self.conferences.create(self.me, name, nonce).map_err(CommandError::Conference)
    }

    /// Invites `friend` to conference `session`, which we created; the
    /// answer arrives as [`ConferenceEvent::Answered`].
    pub fn invite_to_conference(&mut self, now: Instant, session: SessionId, friend: Id) -> Result<(), CommandError> {
        self.now = now;
        if self.messenger.contacts.get(friend).is_none() {
            return Err(CommandError::NotAFriend);
        }
        let locator = *self.liveness.friends.get(friend).ok_or(CommandError::NotAFriend)?;
        self.conferences.invite(session, self.me.id, locator).map_err(CommandError::Conference)?;
        if let Err(e) = self.start_request(locator.addr, Purpose::ConfInvite { session, invitee: friend }) {
            // Undo: the invitation never left.
            let _ = self.conferences.decline(session, friend);
            return Err(e);
        }
        Ok(())
    }

    /// Answers conference `session`'s invitation: join (`true`) or decline.
    /// A join ends in [`ConferenceEvent::Admitted`] (or
    /// [`ConferenceEvent::Left`] if the creator has no room).
    pub fn answer_invitation(&mut self, now: Instant, session: SessionId, join: bool) -> Result<(), CommandError> {
        self.now = now;
        let conference = self.conferences.get_mut(session).map_err(CommandError::Conference)?;
        if conference.role != Role::Invited {
            return Err(CommandError::Conference(crate::tables::conferences::ConferenceError::AlreadyMember));
        }
        let creator = *conference.creator_locator().ok_or(CommandError::NoSuchRequest)?;
        self.start_request(creator.addr, Purpose::ConfAnswer { session, join })?;
        if let Ok(conference) = self.conferences.get_mut(session) {
            conference.role = Role::Answering { join };
        }
        Ok(())
    }

    /// Leaves conference `session`: the creator and our tree neighbours are
    /// told. The creator leaving ends the conference for every member; an
    /// invitee leaving declines.
    pub fn leave_conference(&mut self, now: Instant, session: SessionId) -> Result<(), CommandError> {
        self.now = now;
        let conference = self
            .conferences
            .get(session)
            .ok_or(CommandError::Conference(crate::tables::conferences::ConferenceError::UnknownSession))?;
        let me = self.me.id;
        let leave = ConferenceOutgoing::Leave { member: me, removed: false };
        match conference.role {
            Role::Invited => return self.answer_invitation(now, session, false),
            Role::Answering { .. } => return Err(CommandError::TooManyRequests),
            Role::Creator => {
                let members: heapless::Vec<SocketAddrV6, { crate::tables::conferences::MAX_MEMBERS }> =
                    conference.joined().filter(|m| m.locator.id != me).map(|m| m.locator.addr).collect();
                for to in members {
                    self.send_conference(to, session, leave);
                }
            }
            Role::Member(_) => {
                let creator = conference.creator_locator().map(|c| c.addr);
                let neighbours = conference.tree.addresses(false, None);
                if let Some(creator) = creator {
                    let purpose = Purpose::ConfLeave { session, member: me, removed: false };
                    if self.start_request(creator, purpose).is_err() {
                        self.send_conference(creator, session, leave);
                    }
                }
                for to in neighbours {
                    self.send_conference(to, session, leave);
                }
            }
        }
        self.conferences.forget(session);
        self.emit(Event::Conference(ConferenceEvent::Left { session, reason: LeftReason::Left }));
        Ok(())
    }

    /// Removes `member` from conference `session`, which we created; the
    /// member is told, and tells its tree neighbours.
    pub fn remove_from_conference(&mut self, now: Instant, session: SessionId, member: Id) -> Result<(), CommandError> {
        self.now = now;
        let conference = self
            .conferences
            .get(session)
            .ok_or(CommandError::Conference(crate::tables::conferences::ConferenceError::UnknownSession))?;
        let to = conference.member(member).map(|m| m.locator.addr);
        self.conferences.remove(session, self.me.id, member).map_err(CommandError::Conference)?;
        if let Some(to) = to {
            let purpose = Purpose::ConfLeave { session, member, removed: true };
            if self.start_request(to, purpose).is_err() {
                self.send_conference(to, session, ConferenceOutgoing::Leave { member, removed: true });
            }
        }
        self.emit(Event::Conference(ConferenceEvent::MemberLeft { session, member, removed: true }));
        Ok(())
    }

    /// Queues one conference datagram that expects no answer.
    pub(crate) fn send_conference(&mut self, to: SocketAddrV6, session: SessionId, what: ConferenceOutgoing) {
        let txid = self.rng.next_u64();
        self.send(Outgoing::Conference { to, txid, session, what });
    }

    /// Checks that a datagram came from a tree neighbour of ours in
    /// `session`, where we are a member.
    pub(crate) fn check_tree_neighbour(
        &self,
        session: SessionId,
        from: SocketAddrV6,
    ) -> Result<(), crate::stats::DropReason> {
        let conference = self.conferences.get(session).ok_or(crate::stats::DropReason::NotInConference)?;
        let member = matches!(conference.role, Role::Creator | Role::Member(_));
        if !member || !conference.tree.is_neighbour(from, false) {
            return Err(crate::stats::DropReason::NotInConference);
        }
        Ok(())
    }

    /// The key `member` signs with in conference `session`: the creator's,
    /// or the one `certificate` binds to `member` under the creator's key.
    pub(crate) fn member_key(
        &self,
        session: SessionId,
        member: Id,
        certificate: Option<crate::conference::Certificate>,
    ) -> Result<PublicKey, crate::stats::DropReason> {
        use crate::stats::DropReason;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        let creator_key = self.creator_key(session).ok_or(DropReason::NotInConference)?;
        if member == conference.creator {
            return Ok(creator_key);
        }
        let certificate = certificate.filter(|c| c.member == member).ok_or(DropReason::NotInConference)?;
        certificate.verify(session, conference.creator, &creator_key).map_err(|_| DropReason::BadSignature)?;
        Ok(certificate.key)
    }

    /// The key the creator of conference `session` signs with: ours if we
    /// created it, else the key of the friend who invited us.
    pub(crate) fn creator_key(&self, session: SessionId) -> Option<PublicKey> {
        let conference = self.conferences.get(session)?;
        if conference.role == Role::Creator {
            return Some(self.identity.public_key());
        }
        self.messenger.contacts.get(conference.creator).map(|c| c.key)
    }
}
