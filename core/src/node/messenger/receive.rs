//! Receiving chat: a contact's fragment is opened under the conversation
//! key, taken in if it belongs to one of the next [`CHAT_WINDOW`] messages
//! and there is room, and acknowledged (a fragment already delivered is
//! acknowledged again; one without room is not, so it comes again). Whole
//! messages are delivered strictly in order, each once:
//! [`Event::Message`], then [`Node::read_message`].

use crate::event::Event;
use crate::id::Id;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::chat::{Taken, CHAT_WINDOW};
use crate::tables::outbox::Outgoing;
use crate::wire::{ChatFragment, Header};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    pub(crate) fn handle_chat(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        chat: ChatFragment,
    ) -> Result<(), DropReason> {
        let friend = self.sending_contact(from, header)?.id;
        let (seq, fragment) = (chat.seq, chat.fragment);
        match self.take_chat(friend, chat) {
            Ok(()) => self.send(Outgoing::ChatAck { to: from, friend, seq, fragment, drawn: true }),
            Err(DropReason::ChatNoRoom) => {
                // Not acknowledged (it comes again), but the sender learns how much room there is.
                self.send(Outgoing::ChatAck { to: from, friend, seq: 0, fragment: 0, drawn: true });
                return Err(DropReason::ChatNoRoom);
            }
            Err(reason) => return Err(reason),
        }
        Ok(())
    }

    /// Opens contact `friend`'s fragment and takes it in, delivering what
    /// it completes; `Ok` if it is in (now or before): it is to be acknowledged.
    pub(crate) fn take_chat(&mut self, friend: Id, mut chat: ChatFragment) -> Result<(), DropReason> {
        let contact = self.messenger.contacts.get(friend).ok_or(DropReason::NotAFriend)?;
        let delivered = contact.delivered;
        let seal = super::chat::chat_seal(&chat);
        let associated = chat.associated();
        contact
            .conversation
            .open(seal, &associated, &mut chat.sealed, &chat.tag)
            .map_err(|_| DropReason::BadSignature)?;
        if chat.seq <= delivered {
            return Ok(());
        }
        if chat.seq > delivered.saturating_add(CHAT_WINDOW) {
            return Err(DropReason::ChatNoRoom);
        }
        let next = chat.seq == delivered.wrapping_add(1);
        match self.messenger.inbox.take(friend, (chat.seq, next), (chat.fragment, chat.fragments), &chat.sealed) {
            Taken::In => {}
            Taken::NoRoom => return Err(DropReason::ChatNoRoom),
            Taken::Inconsistent => return Err(DropReason::InvalidReply),
        }
        let mut delivered = delivered;
        while let Some(len) = self.messenger.inbox.deliver(friend, delivered.wrapping_add(1)) {
            delivered = delivered.wrapping_add(1);
            self.emit(Event::Message { from: friend, seq: delivered, len: len as u16 });
        }
        if let Some(contact) = self.messenger.contacts.get_mut(friend) {
            contact.delivered = delivered;
        }
        Ok(())
    }
}
