//! The conferences' message bodies: membership (an invitation, its answer,
//! the creator's admission, a member leaving or removed) and the delivery
//! tree (a member asking to join under another, and a member's place in the
//! tree). Membership statements are signed as [`Statement`]s; a member shows
//! its [`Certificate`] where others must know its key.

use super::cursor::{Reader, Writer};
use super::error::WireError;
use crate::conference::{Certificate, SessionId, Statement, MAX_NAME_LEN};
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};

/// The deepest a delivery tree grows: a member's path to the root lists at
/// most this many ancestors, and no member attaches below that.
pub const MAX_DEPTH: usize = 16;
/// Most attach candidates (a member's children) one TREE_STATE lists.
pub const MAX_CANDIDATES: usize = 8;
pub use crate::conference::MAX_CONF_TEXT;

/// The creator invites a friend: the conference's name and nonce (from
/// which the receiver derives the session) and the signed
/// [`Statement::Invite`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfInvite {
    /// The conference.
    pub session: SessionId,
    /// The nonce its identifier was drawn with.
    pub nonce: u64,
    /// Its name.
    pub name: heapless::String<MAX_NAME_LEN>,
    /// The creator's signature of the invitation.
    pub signature: Signature,
}

/// An invitee's answer, signed ([`Statement::Join`] or [`Statement::Decline`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfAnswer {
    /// The conference.
    pub session: SessionId,
    /// True: joins; false: declines.
    pub join: bool,
    /// The invitee's signature of its answer.
    pub signature: Signature,
}

/// The creator's answer to a CONF_ANSWER: the new member's certificate, or
/// none (a decline noted, or no room).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfAdmit {
    /// The conference.
    pub session: SessionId,
    /// The member's certificate, if admitted.
    pub certificate: Option<Certificate>,
}

/// A member leaves (signed by itself), or the creator removes it (signed by
/// the creator); the creator leaving ends the conference, and members pass
/// that on down the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfLeave {
    /// The conference.
    pub session: SessionId,
    /// Who leaves or is removed.
    pub member: Id,
    /// True: removed by the creator; false: the member leaves.
    pub removed: bool,
    /// The signature of the [`statement`](ConfLeave::statement).
    pub signature: Signature,
}

impl ConfLeave {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = SessionId::LEN + Id::LEN + 1 + Signature::LEN;

    /// What it states, in a conference created by `creator`.
    pub fn statement(&self, creator: Id) -> Statement {
        let (session, member) = (self.session, self.member);
        if self.removed {
            Statement::Remove { session, creator, member }
        } else {
            Statement::Leave { session, member }
        }
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfLeave, WireError> {
        let (session, member, removed) = (SessionId(r.take()?), r.id()?, r.flag()?);
        Ok(ConfLeave { session, member, removed, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.id(self.member);
        w.u8(u8::from(self.removed));
        w.put(&self.signature.0);
    }
}

/// What a TREE_JOIN asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TreeMode {
    /// "What is your place in the tree?"
    Probe = 0,
    /// "Take me as your child" (or, from a child: "I am still your child").
    Attach = 1,
    /// From a parent: "you are no longer my child" (a member that can
    /// take more children took your place); look for another parent.
    Detach = 2,
}

impl TreeMode {
    fn from_u8(byte: u8) -> Option<TreeMode> {
        Some(match byte {
            0 => TreeMode::Probe,
            1 => TreeMode::Attach,
            2 => TreeMode::Detach,
            _ => return None,
        })
    }
}

/// A member asks another for its place in the tree, to become its child
/// (repeated as the child's heartbeat), or, as its parent, lets it go. It
/// says how many children it takes itself and how far it is from the
/// receiver; a member not yet a child of the receiver shows its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TreeJoin {
    /// The conference.
    pub session: SessionId,
    /// What it asks.
    pub mode: TreeMode,
    /// Children the sender takes (its degree bound).
    pub capacity: u8,
    /// The sender's one-way delay to the receiver as it measured it (half
    /// its round trip), in microseconds; 0 if it has not measured it.
    pub delay_us: u32,
    /// The sender's certificate.
    pub certificate: Option<Certificate>,
}

/// What a TREE_STATE says of the sender's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TreeStatus {
    /// An answer to a probe: the sender's place, nothing changed.
    Info = 0,
    /// The receiver is (still) the sender's child.
    Child = 1,
    /// The sender will not take the receiver as a child (no room, a loop,
    /// too deep, or not in the tree itself); try the candidates.
    Refused = 2,
}

impl TreeStatus {
    fn from_u8(byte: u8) -> Option<TreeStatus> {
        Some(match byte {
            0 => TreeStatus::Info,
            1 => TreeStatus::Child,
            2 => TreeStatus::Refused,
            _ => return None,
        })
    }
}

/// The answer to TREE_JOIN: the sender's place in the tree — its one-way
/// delay from the root along the tree, its path from the root, how many
/// more children it takes — and some of its children to try next.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TreeState {
    /// The conference.
    pub session: SessionId,
    /// What became of the TREE_JOIN.
    pub status: TreeStatus,
    /// The sender's delay from the root along the tree, in microseconds.
    pub root_delay_us: u32,
    /// Children the sender still takes.
    pub spare: u8,
    /// The least capacity among the sender's children (255: none): a member
    /// that takes more children than that may take that child's place.
    pub weakest: u8,
    /// The delay that child reported to the sender (of the children with
    /// that capacity, the farthest), in microseconds: a member that takes as
    /// many children and is less than two thirds as far may take its place.
    pub weakest_delay_us: u32,
    /// The sender's ancestors, the root first (empty: the sender is the root).
    pub path: heapless::Vec<Id, MAX_DEPTH>,
    /// Some of the sender's children, to try next.
    pub candidates: heapless::Vec<ResourceLocator, MAX_CANDIDATES>,
    /// The sender's certificate, when it takes a new child (the root, the
    /// creator, has none: its key is the one every member knows).
    pub certificate: Option<Certificate>,
}

impl ConfInvite {
    /// Bytes of the body but the name.
    pub(super) const FIXED_LEN: usize = SessionId::LEN + 8 + 1 + Signature::LEN;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfInvite, WireError> {
        let (session, nonce, name) = (SessionId(r.take()?), r.u64()?, r.name()?);
        Ok(ConfInvite { session, nonce, name, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u64(self.nonce);
        w.name(&self.name);
        w.put(&self.signature.0);
    }
}

impl ConfAnswer {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = SessionId::LEN + 1 + Signature::LEN;

    /// What it states, from `invitee`.
    pub fn statement(&self, invitee: Id) -> Statement {
        let session = self.session;
        if self.join {
            Statement::Join { session, member: invitee }
        } else {
            Statement::Decline { session, invitee }
        }
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfAnswer, WireError> {
        let (session, join) = (SessionId(r.take()?), r.flag()?);
        Ok(ConfAnswer { session, join, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u8(u8::from(self.join));
        w.put(&self.signature.0);
    }
}

impl ConfAdmit {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN + optional_certificate_len(&self.certificate)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfAdmit, WireError> {
        Ok(ConfAdmit { session: SessionId(r.take()?), certificate: r.optional(parse_certificate)? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.optional(self.certificate.as_ref(), emit_certificate);
    }
}

impl TreeJoin {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN + 1 + 1 + 4 + optional_certificate_len(&self.certificate)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<TreeJoin, WireError> {
        let session = SessionId(r.take()?);
        let mode = TreeMode::from_u8(r.u8()?).ok_or(WireError::InvalidField)?;
        let (capacity, delay_us) = (r.u8()?, r.u32()?);
        Ok(TreeJoin { session, mode, capacity, delay_us, certificate: r.optional(parse_certificate)? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u8(self.mode as u8);
        w.u8(self.capacity);
        w.u32(self.delay_us);
        w.optional(self.certificate.as_ref(), emit_certificate);
    }
}

impl TreeState {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN
            + 1
            + 4
            + 1
            + 1
            + 4
            + 1
            + self.path.len() * Id::LEN
            + 1
            + self.candidates.len() * ResourceLocator::WIRE_LEN
            + optional_certificate_len(&self.certificate)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<TreeState, WireError> {
        let session = SessionId(r.take()?);
        let status = TreeStatus::from_u8(r.u8()?).ok_or(WireError::InvalidField)?;
        let (root_delay_us, spare, weakest, weakest_delay_us) = (r.u32()?, r.u8()?, r.u8()?, r.u32()?);
        let path = r.list(|r| r.id())?;
        let candidates = r.list(|r| r.locator())?;
        let certificate = r.optional(parse_certificate)?;
        Ok(TreeState {
            session,
            status,
            root_delay_us,
            spare,
            weakest,
            weakest_delay_us,
            path,
            candidates,
            certificate,
        })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u8(self.status as u8);
        w.u32(self.root_delay_us);
        w.u8(self.spare);
        w.u8(self.weakest);
        w.u32(self.weakest_delay_us);
        w.list(&self.path, |w, id| w.id(*id));
        w.list(&self.candidates, |w, c| w.locator(c));
        w.optional(self.certificate.as_ref(), emit_certificate);
    }
}

/// A member's chat message to the conference, signed by the member and
/// passed on along the tree, hop by hop, each hop acknowledging it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfChat {
    /// The conference.
    pub session: SessionId,
    /// Who said it.
    pub sender: Id,
    /// The sender's certificate (none from the creator, whose key every member knows).
    pub certificate: Option<Certificate>,
    /// The sender's message number in the conference, from 1.
    pub seq: u32,
    /// The message.
    pub text: heapless::String<MAX_CONF_TEXT>,
    /// The sender's signature of the [`signing bytes`](ConfChat::signing_bytes).
    pub signature: Signature,
}

/// What a conference chat message's signature covers, at most.
pub const CONF_CHAT_SIGNING_LEN: usize = CONF_CHAT_CONTEXT.len() + SessionId::LEN + Id::LEN + 4 + 2 + MAX_CONF_TEXT;
/// What a conference chat message's signed bytes start with.
const CONF_CHAT_CONTEXT: &[u8] = b"mmp2p conference chat v1\0";

impl ConfChat {
    /// Bytes of the body but the text and the certificate.
    pub(super) const FIXED_LEN: usize = SessionId::LEN + Id::LEN + 1 + 4 + 2 + Signature::LEN;

    /// What the signature covers: `mmp2p conference chat v1` and a zero
    /// byte ‖ session ‖ sender ‖ seq ‖ text length (2 bytes) ‖ text.
    pub fn signing_bytes(&self) -> heapless::Vec<u8, CONF_CHAT_SIGNING_LEN> {
        let mut bytes = heapless::Vec::new();
        for part in [
            CONF_CHAT_CONTEXT,
            &self.session.0,
            &self.sender.to_be_bytes(),
            &self.seq.to_be_bytes(),
            &(self.text.len() as u16).to_be_bytes(),
            self.text.as_bytes(),
        ] {
            // Cannot overflow: the capacity covers the longest text.
            let _ = bytes.extend_from_slice(part);
        }
        bytes
    }

    pub(super) fn wire_len(&self) -> usize {
        ConfChat::FIXED_LEN + self.text.len() + self.certificate.map_or(0, |_| Certificate::WIRE_LEN)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfChat, WireError> {
        let (session, sender) = (SessionId(r.take()?), r.id()?);
        let certificate = r.optional(parse_certificate)?;
        let (seq, text) = (r.u32()?, r.long_text()?);
        Ok(ConfChat { session, sender, certificate, seq, text, signature: Signature(r.take()?) })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.id(self.sender);
        w.optional(self.certificate.as_ref(), emit_certificate);
        w.u32(self.seq);
        w.long_text(&self.text);
        w.put(&self.signature.0);
    }
}

pub(super) fn optional_certificate_len(certificate: &Option<Certificate>) -> usize {
    1 + certificate.map_or(0, |_| Certificate::WIRE_LEN)
}

pub(super) fn parse_certificate(r: &mut Reader<'_>) -> Result<Certificate, WireError> {
    Ok(Certificate { member: r.id()?, key: PublicKey(r.take()?), signature: Signature(r.take()?) })
}

pub(super) fn emit_certificate(w: &mut Writer<'_>, certificate: &Certificate) {
    w.id(certificate.member);
    w.put(&certificate.key.0);
    w.put(&certificate.signature.0);
}
