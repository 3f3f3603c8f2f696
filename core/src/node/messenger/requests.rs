//! Friend requests, answers, blocking and the end of a friendship.
//!
//! A request goes to the address the ID asked is registered at (fetched
//! from its registrar), signed by our identity key, and is sent again with
//! a growing backoff (up to a minute) until an answer comes or the user
//! cancels it. The receiver first applies its rate limits, then checks the
//! signature, then asks the sender's registrar whether the key and address
//! are the sender's; only then is its user told ([`Event::FriendRequest`]).
//! An accepted request makes both users contacts — friends for routing and
//! liveness too — with a conversation key agreed from their identity keys.

use super::check_signed;
use crate::conversation::{ConversationKey, Seal, SealKind};
use crate::event::{CommandError, Event};
use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::chat::INITIAL_ROOM;
use crate::tables::contacts::{Contact, ContactRecord, Contacts, FriendPresence, RttEstimate};
use crate::tables::friend_requests::{FriendRequests, IncomingRequest, Refusal};
use crate::tables::known_keys::Known;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{FriendAnswer, FriendRequest, Header, Message, Unfriend};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// The users befriended.
    pub fn contacts(&self) -> &Contacts<P::Apps> {
        &self.messenger.contacts
    }

    /// Friend requests received and sent, and the blocked IDs.
    pub fn friend_requests(&self) -> &FriendRequests<P::Apps> {
        &self.messenger.requests
    }

    /// Asks the user registered for `to` to be friends, with a note of up
    /// to 256 bytes; sent until answered or [cancelled](Node::cancel_friend_request).
    /// If that user already asked us, this accepts its request instead.
    pub fn request_friend(&mut self, now: Instant, to: Id, text: &str) -> Result<(), CommandError> {
        self.now = now;
        if to == self.me.id {
            return Err(CommandError::OwnLocator);
        }
        if self.messenger.contacts.get(to).is_some() {
            return Err(CommandError::AlreadyFriends);
        }
        let text = heapless::String::try_from(text).map_err(|_| CommandError::TextTooLong)?;
        if self.messenger.requests.incoming().iter().any(|r| r.from.id == to && r.verified) {
            return self.accept_friend(now, to);
        }
        let nonce = self.rng.next_u64();
        if !self.messenger.requests.send_to(to, nonce, text, now) {
            return Err(CommandError::MessengerFull);
        }
        Ok(())
    }

    /// Stops sending our request to `to`; true if there was one.
    pub fn cancel_friend_request(&mut self, now: Instant, to: Id) -> bool {
        self.now = now;
        self.messenger.requests.take_outgoing(to).is_some()
    }

    /// Accepts `from`'s request: it becomes a contact, and is told.
    pub fn accept_friend(&mut self, now: Instant, from: Id) -> Result<(), CommandError> {
        self.answer_friend(now, from, true)
    }

    /// Declines `from`'s request, and tells it.
    pub fn decline_friend(&mut self, now: Instant, from: Id) -> Result<(), CommandError> {
        self.answer_friend(now, from, false)
    }

    fn answer_friend(&mut self, now: Instant, from: Id, accept: bool) -> Result<(), CommandError> {
        self.now = now;
        let verified = self.messenger.requests.incoming().iter().find(|r| r.from.id == from && r.verified);
        let request = verified.cloned().ok_or(CommandError::NoSuchRequest)?;
        if accept {
            self.make_contact(request.from, request.key, request.nonce)?;
        }
        self.messenger.requests.take_incoming(from);
        let purpose = Purpose::FriendAnswer { requester: from, nonce: request.nonce, accept };
        if self.start_request(request.from.addr, purpose).is_err() {
            // The requester asks again, and hears the answer then.
            self.stats.count_drop(DropReason::RequestTableFull);
        }
        Ok(())
    }

    /// Blocks `id`: its pending request is dropped, and its requests,
    /// presence and chat from now on are dropped silently and counted.
    pub fn block(&mut self, now: Instant, id: Id) -> Result<(), CommandError> {
        self.now = now;
        self.messenger.requests.take_outgoing(id);
        match self.messenger.requests.block(id) {
            true => Ok(()),
            false => Err(CommandError::MessengerFull),
        }
    }

    /// Unblocks `id`; true if it was blocked.
    pub fn unblock(&mut self, now: Instant, id: Id) -> bool {
        self.now = now;
        self.messenger.requests.unblock(id)
    }

    /// Ends the friendship with `id`, and tells it.
    pub fn unfriend(&mut self, now: Instant, id: Id) -> Result<(), CommandError> {
        self.now = now;
        let contact = self.messenger.contacts.get(id).ok_or(CommandError::NotAFriend)?;
        let since = contact.since;
        let seal = Seal { kind: SealKind::Unfriend, first: since, second: 0 };
        let tag = contact.conversation.seal(seal, &[], &mut []);
        if let Some(addr) = self.friend_addr(id) {
            if self.start_request(addr, Purpose::Unfriend { friend: id, since, tag }).is_err() {
                self.stats.count_drop(DropReason::RequestTableFull);
            }
        }
        self.forget_contact(id);
        Ok(())
    }

    /// Restores a contact the program kept from an earlier run, at `locator`.
    pub fn restore_contact(
        &mut self,
        now: Instant,
        locator: ResourceLocator,
        record: ContactRecord,
    ) -> Result<(), CommandError> {
        self.now = now;
        if record.id != locator.id {
            return Err(CommandError::NotAFriend);
        }
        self.make_contact(locator, record.key, record.since)?;
        if let Some(contact) = self.messenger.contacts.get_mut(record.id) {
            contact.next_seq = record.next_seq.max(1);
            contact.receipted = record.receipted;
            contact.delivered = record.delivered;
        }
        Ok(())
    }

    /// Makes `locator`, holding `key`, a contact since request `since`.
    fn make_contact(&mut self, locator: ResourceLocator, key: PublicKey, since: u64) -> Result<(), CommandError> {
        let conversation = ConversationKey::agree(&self.identity, &key).map_err(|_| CommandError::OwnLocator)?;
        let contact = Contact {
            id: locator.id,
            key,
            since,
            presence: FriendPresence::default(),
            next_seq: 1,
            receipted: 0,
            delivered: 0,
            conversation,
            epoch: self.rng.next_u64(),
            rtt: RttEstimate::default(),
            peer_room: INITIAL_ROOM,
            advertised_room: INITIAL_ROOM,
            presence_acked: 0,
            presence_retry: Some(self.now),
            mail_retry: None,
        };
        self.messenger.contacts.insert(contact).map_err(|_| CommandError::MessengerFull)?;
        if let Err(e) = self.add_friend(self.now, locator) {
            self.messenger.contacts.remove(locator.id);
            return Err(e);
        }
        Ok(())
    }

    /// Forgets contact `id` and what is held for it either way.
    fn forget_contact(&mut self, id: Id) {
        self.messenger.contacts.remove(id);
        self.messenger.outbox.remove(id, |_| true);
        self.messenger.inbox.forget(id);
        self.remove_friend(self.now, id);
    }

    /// Sends each of our requests that is due again, fetching the
    /// registration of its addressee first if we do not know it.
    pub(crate) fn send_friend_requests(&mut self, now: Instant) {
        for to in self.messenger.requests.due(now) {
            match self.registration_of(to) {
                Some(Known::Registered { addr, .. }) => self.send(Outgoing::FriendRequest { to: addr, target: to }),
                _ => self.fetch_registration(to),
            }
        }
    }

    /// Our request to `target` as it stands, signed.
    pub(crate) fn friend_request_message(&self, target: Id) -> Option<Message> {
        let request = self.messenger.requests.outgoing_to(target)?;
        let mut message = FriendRequest {
            to: target,
            key: self.identity.public_key(),
            nonce: request.nonce,
            text: request.text.clone(),
            signature: crate::identity::Signature([0; 64]),
        };
        message.signature = self.identity.sign(message.transcript(&self.me).as_bytes());
        Some(Message::FriendRequest(message))
    }

    /// Our answer to `requester`'s request `nonce`, signed.
    pub(crate) fn friend_answer_message(&self, requester: Id, nonce: u64, accept: bool) -> Message {
        let signature = crate::identity::Signature([0; 64]);
        let mut answer = FriendAnswer { nonce, accept, key: self.identity.public_key(), signature };
        answer.signature = self.identity.sign(answer.transcript(&self.me, requester).as_bytes());
        Message::FriendAnswer(answer)
    }

    /// What a registrar told us of `id` (`None`: it did not answer) settles
    /// a request from `id` waiting for it, and lets ours to `id` go out.
    pub(crate) fn request_registration_known(&mut self, id: Id, known: Option<Known>) {
        if let Some(Known::Registered { addr, .. }) = known {
            if self.messenger.requests.outgoing_to(id).is_some_and(|r| r.sends <= 1) {
                self.send(Outgoing::FriendRequest { to: addr, target: id });
            }
        }
        let Some(request) = self.messenger.requests.incoming_from(id).filter(|r| !r.verified) else { return };
        if known.is_some_and(|k| k.vouches(&request.key, &request.from.addr)) {
            request.verified = true;
            let from = request.from;
            self.emit(Event::FriendRequest { from });
        } else {
            self.messenger.requests.take_incoming(id);
            self.stats.count_drop(DropReason::UnregisteredSender);
        }
    }

    pub(crate) fn handle_friend_request(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        request: FriendRequest,
    ) -> Result<(), DropReason> {
        let sender = header.sender;
        if request.to != self.me.id {
            return Err(DropReason::NotOurs);
        }
        if sender.addr != from {
            return Err(DropReason::UnregisteredSender);
        }
        // The limits come first, for friends too: a replayed request costs a signature check.
        self.messenger.requests.admit(sender.id, self.now).map_err(|refusal| match refusal {
            Refusal::Blocked => DropReason::Blocked,
            Refusal::RateLimited => DropReason::RateLimited,
        })?;
        if let Some(contact) = self.messenger.contacts.get(sender.id).filter(|c| c.key == request.key) {
            // A friend asks again: our acceptance was lost. Accept again.
            let since = contact.since;
            check_signed(&request.key, &request.transcript(&sender), &request.signature)?;
            if since != request.nonce {
                self.reset_since(sender.id, request.nonce);
            }
            let purpose = Purpose::FriendAnswer { requester: sender.id, nonce: request.nonce, accept: true };
            return self.start_request(from, purpose).map(|_| ()).map_err(|_| DropReason::RequestTableFull);
        }
        check_signed(&request.key, &request.transcript(&sender), &request.signature)?;
        let FriendRequest { key, nonce, text, .. } = request;
        self.take_request(IncomingRequest { from: sender, key, nonce, text, received: self.now, verified: false });
        Ok(())
    }

    /// Restores a request received in an earlier run and not yet answered
    /// (the program keeps it): it is announced again, with
    /// [`Event::FriendRequest`], once its sender's registration confirms it.
    pub fn restore_friend_request(
        &mut self,
        now: Instant,
        from: ResourceLocator,
        key: PublicKey,
        nonce: u64,
        text: &str,
    ) -> Result<(), CommandError> {
        self.now = now;
        let text = heapless::String::try_from(text).map_err(|_| CommandError::TextTooLong)?;
        if self.messenger.requests.is_blocked(from.id) || self.messenger.contacts.get(from.id).is_some() {
            return Err(CommandError::NoSuchRequest);
        }
        self.take_request(IncomingRequest { from, key, nonce, text, received: now, verified: false });
        Ok(())
    }

    /// Keeps a request (signature checked) and checks its sender's registration.
    fn take_request(&mut self, request: IncomingRequest) {
        let sender = request.from.id;
        if !self.messenger.requests.receive(request) {
            match self.registration_of(sender) {
                Some(known) => self.request_registration_known(sender, Some(known)),
                None => self.fetch_registration(sender),
            }
        }
    }

    /// A friend that asked again under a new nonce: the friendship dates from it now.
    fn reset_since(&mut self, id: Id, since: u64) {
        if let Some(contact) = self.messenger.contacts.get_mut(id) {
            contact.since = since;
        }
    }

    pub(crate) fn handle_friend_answer(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        answer: FriendAnswer,
    ) -> Result<(), DropReason> {
        let answerer = header.sender;
        if self.messenger.requests.is_blocked(answerer.id) {
            return Err(DropReason::Blocked);
        }
        if answerer.addr != from {
            return Err(DropReason::UnexpectedResponse);
        }
        let repeat = self.messenger.contacts.get(answerer.id).is_some_and(|c| c.since == answer.nonce);
        let asked = self.messenger.requests.outgoing_to(answerer.id).is_some_and(|r| r.nonce == answer.nonce);
        if !repeat && !asked {
            return Err(DropReason::UnexpectedResponse);
        }
        let registered = match self.registration_of(answerer.id) {
            Some(Known::Registered { key, .. }) => key,
            _ => {
                // Learn its key; the answer comes again.
                self.fetch_registration(answerer.id);
                return Err(DropReason::UnregisteredSender);
            }
        };
        if answer.key != registered {
            return Err(DropReason::UnregisteredSender);
        }
        check_signed(&answer.key, &answer.transcript(&answerer, self.me.id), &answer.signature)?;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        if repeat {
            return Ok(());
        }
        self.messenger.requests.take_outgoing(answerer.id);
        if !answer.accept {
            self.emit(Event::FriendDeclined { friend: answerer.id });
            return Ok(());
        }
        match self.make_contact(answerer, answer.key, answer.nonce) {
            Ok(()) => self.emit(Event::FriendAccepted { friend: answerer.id }),
            Err(_) => self.stats.count_drop(DropReason::RegistrationRefused),
        }
        Ok(())
    }

    pub(crate) fn handle_unfriend(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        unfriend: Unfriend,
    ) -> Result<(), DropReason> {
        let contact = self.sending_contact(from, header)?;
        if unfriend.since != contact.since {
            return Err(DropReason::InvalidReply);
        }
        let seal = Seal { kind: SealKind::Unfriend, first: unfriend.since, second: 0 };
        contact.conversation.open(seal, &[], &mut [], &unfriend.tag).map_err(|_| DropReason::BadSignature)?;
        let friend = contact.id;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        self.forget_contact(friend);
        self.emit(Event::Unfriended { friend });
        Ok(())
    }
}
