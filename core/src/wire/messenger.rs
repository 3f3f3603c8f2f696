//! The messenger's message bodies: friend requests and their answers, the
//! end of a friendship, presence, and chat fragments with their
//! acknowledgements. Requests, answers and presence are signed with the
//! sender's identity key over [`Transcript`]s; the end of a friendship and
//! chat are sealed under the friends' conversation key (see
//! [`conversation`](crate::conversation)).

use super::cursor::{Reader, Writer};
use super::error::WireError;
use crate::conversation::TAG_LEN;
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};

/// Most bytes of text a friend request carries.
pub const MAX_REQUEST_TEXT: usize = 256;
/// Most bytes of a status text.
pub const MAX_STATUS_TEXT: usize = 128;
/// Most bytes of a chat message.
pub const MAX_MESSAGE: usize = 4096;
/// Bytes of every chat fragment but a message's last (which holds the rest, at least one byte).
pub const MAX_FRAGMENT: usize = 1024;
/// Most fragments of one chat message.
pub const MAX_FRAGMENTS: u8 = (MAX_MESSAGE / MAX_FRAGMENT) as u8;

/// "Be my friend": sent to the address registered for `to`, signed by the sender.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FriendRequest {
    /// The ID asked (the receiver's).
    pub to: Id,
    /// The sender's identity key, which signed the request.
    pub key: PublicKey,
    /// The request's number: repeats share it, and the answer echoes it.
    pub nonce: u64,
    /// A short note to the receiver.
    pub text: heapless::String<MAX_REQUEST_TEXT>,
    /// The key's signature of the [`transcript`](FriendRequest::transcript).
    pub signature: Signature,
}

/// The answer to a friend request, signed by the answerer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FriendAnswer {
    /// The request's nonce.
    pub nonce: u64,
    /// True: accepted; false: declined.
    pub accept: bool,
    /// The answerer's identity key, which signed the answer.
    pub key: PublicKey,
    /// The key's signature of the [`transcript`](FriendAnswer::transcript).
    pub signature: Signature,
}

/// The end of a friendship, sealed under the conversation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Unfriend {
    /// The nonce of the request that began the friendship.
    pub since: u64,
    /// The tag sealing `since` (an empty message).
    pub tag: [u8; TAG_LEN],
}

/// A user's state, as friends see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Status {
    /// Available.
    Online = 0,
    /// Away from the keyboard.
    Away = 1,
    /// Do not disturb.
    Busy = 2,
    /// Not connected (also what a friend shows once its probes fail).
    #[default]
    Offline = 3,
}

impl Status {
    /// The status for a status byte, if this version knows it.
    pub fn from_u8(byte: u8) -> Option<Status> {
        Some(match byte {
            0 => Status::Online,
            1 => Status::Away,
            2 => Status::Busy,
            3 => Status::Offline,
            _ => return None,
        })
    }
}

/// A user's presence, signed: pushed to each friend on change and on reconnection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Presence {
    /// Grows with every change; a friend keeps only the newest.
    pub version: u64,
    /// The state.
    pub status: Status,
    /// A status text.
    pub text: heapless::String<MAX_STATUS_TEXT>,
    /// The sender's signature of the [`transcript`](Presence::transcript).
    pub signature: Signature,
}

/// One fragment of a chat message, sealed under the conversation key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChatFragment {
    /// The sender's run epoch (part of the nonce).
    pub epoch: u64,
    /// The message's number in the conversation, from 1.
    pub seq: u32,
    /// This fragment's index, from 0.
    pub fragment: u8,
    /// How many fragments the message has (1 to [`MAX_FRAGMENTS`]).
    pub fragments: u8,
    /// The sealed bytes: [`MAX_FRAGMENT`] unless the last fragment.
    pub sealed: heapless::Vec<u8, MAX_FRAGMENT>,
    /// The tag.
    pub tag: [u8; TAG_LEN],
}

/// Acknowledges one chat fragment (none if `seq` is 0: a window update),
/// reports which messages the receiver has delivered — the delivery
/// receipt — and how much room it has. Sealed (an empty
/// message) under the conversation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChatAck {
    /// Every message up to this number has been delivered to the receiver's user.
    pub delivered: u32,
    /// The message of the fragment acknowledged.
    pub seq: u32,
    /// The fragment acknowledged.
    pub fragment: u8,
    /// Fragments the sender may have outstanding now: room the receiver keeps for it.
    pub room: u8,
    /// The tag.
    pub tag: [u8; TAG_LEN],
}

/// A chat fragment as offline mail: stored by its sender at the node
/// responsible for the recipient's ID (MAIL_STORE), copied to the nodes
/// after it (MAIL_COPY), and delivered to the recipient when it is back (MAIL).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Mail {
    /// Who it is for.
    pub recipient: Id,
    /// Who sealed it (and gets the receipt).
    pub sender: ResourceLocator,
    /// Seconds it is still kept.
    pub lifetime_secs: u32,
    /// The sealed fragment.
    pub chat: ChatFragment,
}

/// "Every message from `sender` to `recipient` up to `delivered` has been
/// delivered: drop its mail." From the recipient to the letter's holder,
/// and from the holder on to its copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MailAck {
    /// The recipient.
    pub recipient: Id,
    /// The sender.
    pub sender: Id,
    /// The recipient delivered every message of the sender's up to this number.
    pub delivered: u32,
}

/// The bytes a messenger signature covers: a context string naming what
/// is signed, then the fields, each at a fixed length or with its length.
#[derive(Clone)]
pub struct Transcript {
    bytes: [u8; Transcript::CAPACITY],
    len: usize,
}

impl Transcript {
    /// Room for the longest transcript (a friend request with its text).
    const CAPACITY: usize = 48 + 2 * ResourceLocator::WIRE_LEN + 2 * PublicKey::LEN + 16 + MAX_REQUEST_TEXT;

    fn new(context: &str) -> Transcript {
        let mut t = Transcript { bytes: [0; Transcript::CAPACITY], len: 0 };
        t.put(context.as_bytes());
        t.put(&[0]);
        t
    }

    fn put(&mut self, field: &[u8]) {
        // The capacity covers every transcript built here.
        let end = (self.len + field.len()).min(Transcript::CAPACITY);
        self.bytes[self.len..end].copy_from_slice(&field[..end - self.len]);
        self.len = end;
    }

    fn locator(mut self, locator: &ResourceLocator) -> Transcript {
        self.put(&locator.id.to_be_bytes());
        self.put(&locator.addr.ip().octets());
        self.put(&locator.addr.port().to_be_bytes());
        self
    }

    fn text(mut self, text: &str) -> Transcript {
        self.put(&(text.len() as u16).to_be_bytes());
        self.put(text.as_bytes());
        self
    }

    fn field(mut self, field: &[u8]) -> Transcript {
        self.put(field);
        self
    }

    /// The bytes to sign or verify.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl FriendRequest {
    /// Bytes of the body but the text.
    pub(super) const FIXED_LEN: usize = Id::LEN + PublicKey::LEN + 8 + 2 + Signature::LEN;

    /// What the signature covers: `mmp2p friend request v1`, the sender's
    /// locator (the header's), then `to`, `key`, `nonce` and the text.
    pub fn transcript(&self, sender: &ResourceLocator) -> Transcript {
        Transcript::new("mmp2p friend request v1")
            .locator(sender)
            .field(&self.to.to_be_bytes())
            .field(&self.key.0)
            .field(&self.nonce.to_be_bytes())
            .text(&self.text)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<FriendRequest, WireError> {
        let (to, key, nonce) = (r.id()?, PublicKey(r.take()?), r.u64()?);
        let text = r.long_text()?;
        Ok(FriendRequest { to, key, nonce, text, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.to);
        w.put(&self.key.0);
        w.u64(self.nonce);
        w.long_text(&self.text);
        w.put(&self.signature.0);
    }
}

impl FriendAnswer {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = 8 + 1 + PublicKey::LEN + Signature::LEN;

    /// What the signature covers: `mmp2p friend answer v1`, the answerer's
    /// locator (the header's), the requester's ID, then `nonce`, `accept` and `key`.
    pub fn transcript(&self, answerer: &ResourceLocator, requester: Id) -> Transcript {
        Transcript::new("mmp2p friend answer v1")
            .locator(answerer)
            .field(&requester.to_be_bytes())
            .field(&self.nonce.to_be_bytes())
            .field(&[u8::from(self.accept)])
            .field(&self.key.0)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<FriendAnswer, WireError> {
        let (nonce, accept, key) = (r.u64()?, r.flag()?, PublicKey(r.take()?));
        Ok(FriendAnswer { nonce, accept, key, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u64(self.nonce);
        w.u8(u8::from(self.accept));
        w.put(&self.key.0);
        w.put(&self.signature.0);
    }
}

impl Unfriend {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = 8 + TAG_LEN;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Unfriend, WireError> {
        Ok(Unfriend { since: r.u64()?, tag: r.take()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u64(self.since);
        w.put(&self.tag);
    }
}

impl Presence {
    /// Bytes of the body but the text.
    pub(super) const FIXED_LEN: usize = 8 + 1 + 1 + Signature::LEN;

    /// What the signature covers: `mmp2p presence v1`, the sender's
    /// locator (the header's), then `version`, `status` and the text.
    pub fn transcript(&self, sender: &ResourceLocator) -> Transcript {
        Transcript::new("mmp2p presence v1")
            .locator(sender)
            .field(&self.version.to_be_bytes())
            .field(&[self.status as u8])
            .text(&self.text)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Presence, WireError> {
        let version = r.u64()?;
        let status = Status::from_u8(r.u8()?).ok_or(WireError::InvalidField)?;
        let text = r.name()?;
        Ok(Presence { version, status, text, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u64(self.version);
        w.u8(self.status as u8);
        w.name(&self.text);
        w.put(&self.signature.0);
    }
}

impl ChatFragment {
    /// Bytes of the body but the sealed bytes.
    pub(super) const FIXED_LEN: usize = 8 + 4 + 1 + 1 + 2 + TAG_LEN;

    /// The associated data sealed with the fragment: its place in its message.
    pub fn associated(&self) -> [u8; 2] {
        [self.fragment, self.fragments]
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ChatFragment, WireError> {
        let (epoch, seq, fragment, fragments) = (r.u64()?, r.u32()?, r.u8()?, r.u8()?);
        let len = usize::from(r.u16()?);
        if seq == 0 || fragments == 0 || fragments > MAX_FRAGMENTS || fragment >= fragments {
            return Err(WireError::InvalidField);
        }
        let last = fragment + 1 == fragments;
        if len > MAX_FRAGMENT || (!last && len != MAX_FRAGMENT) || len == 0 {
            return Err(WireError::InvalidField);
        }
        let mut sealed = heapless::Vec::new();
        // Cannot fail: len <= MAX_FRAGMENT.
        let _ = sealed.extend_from_slice(r.bytes(len)?);
        Ok(ChatFragment { epoch, seq, fragment, fragments, sealed, tag: r.take()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u64(self.epoch);
        w.u32(self.seq);
        w.u8(self.fragment);
        w.u8(self.fragments);
        w.u16(self.sealed.len() as u16);
        w.put(&self.sealed);
        w.put(&self.tag);
    }
}

impl ChatAck {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = 4 + 4 + 1 + 1 + TAG_LEN;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ChatAck, WireError> {
        Ok(ChatAck { delivered: r.u32()?, seq: r.u32()?, fragment: r.u8()?, room: r.u8()?, tag: r.take()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.delivered);
        w.u32(self.seq);
        w.u8(self.fragment);
        w.u8(self.room);
        w.put(&self.tag);
    }
}

impl Mail {
    /// Bytes of the body but the fragment's sealed bytes.
    pub(super) const FIXED_LEN: usize = Id::LEN + ResourceLocator::WIRE_LEN + 4 + ChatFragment::FIXED_LEN;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Mail, WireError> {
        let (recipient, sender, lifetime_secs) = (r.id()?, r.locator()?, r.u32()?);
        Ok(Mail { recipient, sender, lifetime_secs, chat: ChatFragment::parse(r)? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.recipient);
        w.locator(&self.sender);
        w.u32(self.lifetime_secs);
        self.chat.emit(w);
    }
}

impl MailAck {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = 2 * Id::LEN + 4;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<MailAck, WireError> {
        Ok(MailAck { recipient: r.id()?, sender: r.id()?, delivered: r.u32()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.recipient);
        w.id(self.sender);
        w.u32(self.delivered);
    }
}
