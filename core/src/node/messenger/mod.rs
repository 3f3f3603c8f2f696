//! The messenger: friend requests (`requests.rs`), presence
//! (`presence.rs`) and end-to-end sealed chat (`chat.rs` sends,
//! `receive.rs` takes in), between users whose identities the ring's
//! registrations vouch for.
//!
//! Who may say what:
//! - a FRIEND_REQUEST may come from anyone, within rate limits; it counts
//!   only once the sender's registration (fetched from its registrar)
//!   names the key that signed it and the address it came from;
//! - a FRIEND_ANSWER only from the user we asked, signed by the key its
//!   registrar named when we sent the request;
//! - PRESENCE only from a contact, signed by its key; UNFRIEND, CHAT and
//!   CHAT_ACK only from a contact, sealed under the key agreed with it,
//!   from the address we know it at.

mod chat;
mod mail;
mod presence;
mod receive;
mod requests;

use crate::id::Id;
use crate::identity::{PublicKey, Signature};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::contacts::Contact;
use crate::wire::{Header, Transcript};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// The contact that sent a datagram from `from` with `header`: a
    /// contact, heard at the address we know it at, and not blocked.
    pub(crate) fn sending_contact(&self, from: SocketAddrV6, header: &Header) -> Result<&Contact, DropReason> {
        let id = header.sender.id;
        if self.messenger.requests.is_blocked(id) {
            return Err(DropReason::Blocked);
        }
        let contact = self.messenger.contacts.get(id).ok_or(DropReason::NotAFriend)?;
        match self.liveness.friends.get(id) {
            Some(friend) if friend.addr == from && header.sender.addr == from => Ok(contact),
            _ => Err(DropReason::NotAFriend),
        }
    }

    /// The contact that sent a datagram from `from` with `header`, wherever
    /// it is now: a contact, not blocked, whose header names the source
    /// address (its signature, checked next, covers where it moved).
    pub(crate) fn signing_contact(&self, from: SocketAddrV6, header: &Header) -> Result<&Contact, DropReason> {
        let sender = header.sender;
        if self.messenger.requests.is_blocked(sender.id) {
            return Err(DropReason::Blocked);
        }
        let contact = self.messenger.contacts.get(sender.id).ok_or(DropReason::NotAFriend)?;
        if sender.addr != from {
            return Err(DropReason::NotAFriend);
        }
        Ok(contact)
    }

    /// Where `friend` is, if it is one.
    pub(crate) fn friend_addr(&self, friend: Id) -> Option<SocketAddrV6> {
        self.liveness.friends.get(friend).map(|f| f.addr)
    }
}

/// Checks that `key` made `signature` over `transcript`.
fn check_signed(key: &PublicKey, transcript: &Transcript, signature: &Signature) -> Result<(), DropReason> {
    key.verify(transcript.as_bytes(), signature).map_err(|_| DropReason::BadSignature)
}
