//! Membership on the wire: a friend's invitation (CONF_INVITE, taken only
//! from a contact, signed by its key, for the session its name and nonce
//! derive), an invitee's answer (CONF_ANSWER, checked the same way, answered
//! with the new member's certificate in CONF_ADMIT), and a member leaving or
//! removed (CONF_LEAVE, signed by the member, or by the creator).

use crate::conference::{ConferenceEvent, LeftReason, SessionId, Statement};
use crate::event::Event;
use crate::identity::PublicKey;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conferences::Role;
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::tables::transactions::Purpose;
use crate::wire::{ConfAdmit, ConfAnswer, ConfInvite, ConfLeave, Header, MessageType};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    pub(crate) fn handle_conf_invite(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        invite: ConfInvite,
    ) -> Result<(), DropReason> {
        let creator = header.sender;
        let key = self.friend_key(from, header)?;
        if SessionId::new(creator.id, &invite.name, invite.nonce) != invite.session {
            return Err(DropReason::InvalidReply);
        }
        let statement = Statement::Invite { session: invite.session, creator: creator.id, invitee: self.me.id };
        statement.verify(&key, &invite.signature).map_err(|_| DropReason::BadSignature)?;
        if self.conferences.get(invite.session).is_none() {
            self.conferences
                .enter(invite.session, (creator, invite.nonce), &invite.name, Role::Invited)
                .map_err(|_| DropReason::ConferencesFull)?;
            let (session, name) = (invite.session, invite.name);
            self.emit(Event::Conference(ConferenceEvent::Invited { session, creator: creator.id, name }));
        }
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        Ok(())
    }

    pub(crate) fn handle_conf_answer(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        answer: ConfAnswer,
    ) -> Result<(), DropReason> {
        let invitee = header.sender;
        let key = self.friend_key(from, header)?;
        let session = answer.session;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        let standing = conference.member(invitee.id).map(|m| m.standing);
        if conference.role != Role::Creator || standing.is_none() {
            return Err(DropReason::NotInConference);
        }
        answer.statement(invitee.id).verify(&key, &answer.signature).map_err(|_| DropReason::BadSignature)?;
        let joined = standing == Some(crate::tables::conferences::Standing::Joined);
        let admitted = match (answer.join, joined) {
            // A repeat of a join already taken: the same answer again.
            (true, true) => true,
            (true, false) => {
                let admitted = self.conferences.join(session, invitee).is_ok();
                self.emit(Event::Conference(ConferenceEvent::Answered { session, member: invitee.id, joined: true }));
                admitted
            }
            (false, _) => {
                if self.conferences.decline(session, invitee.id).is_ok() {
                    let answered = ConferenceEvent::Answered { session, member: invitee.id, joined: false };
                    self.emit(Event::Conference(answered));
                }
                false
            }
        };
        let what = ConferenceOutgoing::Admit { member: invitee.id, admitted };
        self.send(Outgoing::Conference { to: from, txid: header.txid, session, what });
        Ok(())
    }

    pub(crate) fn handle_conf_admit(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        admit: ConfAdmit,
    ) -> Result<(), DropReason> {
        let session = admit.session;
        let matches = |p: &Purpose| matches!(p, Purpose::ConfAnswer { session: s, .. } if *s == session);
        let tx = self.complete_request(header, MessageType::ConfAdmit, from, matches)?;
        let Purpose::ConfAnswer { join, .. } = tx.purpose else { return Err(DropReason::InvalidReply) };
        let creator_key = self.creator_key(session).ok_or(DropReason::NotInConference)?;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        let creator = conference.creator;
        let admitted = admit.certificate.filter(|c| {
            c.member == self.me.id
                && c.key == self.identity.public_key()
                && c.verify(session, creator, &creator_key).is_ok()
        });
        match (join, admitted) {
            (true, Some(certificate)) => {
                let root = *conference.creator_locator().ok_or(DropReason::NotInConference)?;
                let Ok(conference) = self.conferences.get_mut(session) else { return Ok(()) };
                conference.role = Role::Member(certificate);
                conference.tree.start_search(&[root], false);
                self.emit(Event::Conference(ConferenceEvent::Admitted { session }));
                self.search_step(session);
            }
            (true, None) if admit.certificate.is_some() => return Err(DropReason::BadSignature),
            _ => {
                self.conferences.forget(session);
                let reason = if join { LeftReason::NotAdmitted } else { LeftReason::Left };
                self.emit(Event::Conference(ConferenceEvent::Left { session, reason }));
            }
        }
        Ok(())
    }

    /// Our answer never reached the creator: we are not in the conference.
    pub(crate) fn conf_answer_failed(&mut self, session: SessionId) {
        if self.conferences.forget(session) {
            self.emit(Event::Conference(ConferenceEvent::Left { session, reason: LeftReason::NotAdmitted }));
        }
    }

    /// Our invitation never reached `invitee`: it is no longer invited.
    pub(crate) fn conf_invite_failed(&mut self, session: SessionId, invitee: crate::id::Id) {
        if self.conferences.decline(session, invitee).is_ok() {
            self.emit(Event::Conference(ConferenceEvent::InviteFailed { session, invitee }));
        }
    }

    pub(crate) fn handle_conf_leave(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        leave: ConfLeave,
    ) -> Result<(), DropReason> {
        let session = leave.session;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        let creator = conference.creator;
        let statement = leave.statement(creator);
        let key = self.signer_key(session, statement.signer()).ok_or(DropReason::NotInConference)?;
        statement.verify(&key, &leave.signature).map_err(|_| DropReason::BadSignature)?;
        let neighbours = conference.tree.addresses(false, None);
        let creating = conference.role == Role::Creator;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        let me = self.me.id;
        if leave.member == me || leave.member == creator {
            let reason = if leave.member == me { LeftReason::Removed } else { LeftReason::Ended };
            if reason == LeftReason::Removed {
                // Our tree neighbours learn it from us.
                for to in neighbours {
                    self.send_conference(to, session, ConferenceOutgoing::Leave { member: me, removed: false });
                }
            }
            self.conferences.forget(session);
            self.emit(Event::Conference(ConferenceEvent::Left { session, reason }));
            return Ok(());
        }
        if creating && self.conferences.leave(session, leave.member).is_ok() {
            let left = ConferenceEvent::MemberLeft { session, member: leave.member, removed: false };
            self.emit(Event::Conference(left));
        }
        self.tree_neighbour_gone(session, leave.member);
        Ok(())
    }

    /// The key of the contact that sent a datagram.
    fn friend_key(&self, from: SocketAddrV6, header: &Header) -> Result<PublicKey, DropReason> {
        self.signing_contact(from, header).map(|contact| contact.key)
    }

    /// The key `signer` signs with in conference `session`, as far as we
    /// know it: the creator's, a contact's (the creator knows every
    /// member's), or a tree neighbour's from its certificate.
    fn signer_key(&self, session: SessionId, signer: crate::id::Id) -> Option<PublicKey> {
        let conference = self.conferences.get(session)?;
        if signer == conference.creator {
            return self.creator_key(session);
        }
        if let Some(link) = conference.tree.neighbours().find(|l| l.locator.id == signer) {
            return Some(link.key);
        }
        let member = conference.role == Role::Creator && conference.member(signer).is_some();
        member.then(|| self.messenger.contacts.get(signer).map(|c| c.key)).flatten()
    }
}
