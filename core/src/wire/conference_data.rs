//! The conferences' transfers: a file or a stream a member sends to every
//! other along the tree — its blocks' proofs (CONF_PROOF, each carrying
//! the sender's signed announcement of the transfer), their chunks
//! (CONF_DATA), and a member's request for pieces it missed (CONF_PULL).
//!
//! A transfer's pieces are numbered in the order the sender sends them:
//! per block, its proof, then each chunk of each of its leaves. The number
//! is the `pn` of the [`BlockProof`] or [`Data`] a piece travels in.

use super::conference::{emit_certificate, optional_certificate_len, parse_certificate};
use super::cursor::{Reader, Writer};
use super::error::WireError;
use super::transfer::{BlockProof, Data};
use crate::conference::{Certificate, SessionId};
use crate::content::ContentId;
use crate::id::Id;
use crate::identity::Signature;

/// Longest name of a file sent to a conference, in bytes of UTF-8.
pub const MAX_TRANSFER_NAME: usize = 32;
/// Most siblings a conference proof carries: a conference sends files of
/// at most 2²² leaves (64 GiB), so that every CONF_PROOF fits a datagram.
pub const MAX_CONF_SIBLINGS: usize = 19;
/// Most ranges of pieces one CONF_PULL asks for.
pub const MAX_PULL_RANGES: usize = 16;

/// The sender's announcement of a transfer, signed by the sender.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Announcement {
    /// Who sends it.
    pub sender: Id,
    /// The sender's certificate (none from the creator).
    pub certificate: Option<Certificate>,
    /// The file.
    pub content: ContentId,
    /// The rate it is sent at, in bytes per second (a stream's bitrate).
    pub rate: u32,
    /// True: a stream, played as it comes; false: a file.
    pub stream: bool,
    /// The file's name.
    pub name: heapless::String<MAX_TRANSFER_NAME>,
    /// The sender's signature of the [`signing bytes`](Announcement::signing_bytes).
    pub signature: Signature,
}

/// What an announcement's signature covers, at most.
pub const ANNOUNCEMENT_SIGNING_LEN: usize =
    ANNOUNCEMENT_CONTEXT.len() + 16 + 8 + 16 + 40 + 4 + 1 + 1 + MAX_TRANSFER_NAME;
/// What an announcement's signed bytes start with.
const ANNOUNCEMENT_CONTEXT: &[u8] = b"mmp2p conference transfer v1\0";

impl Announcement {
    /// Bytes on the wire.
    fn wire_len(&self) -> usize {
        Id::LEN
            + optional_certificate_len(&self.certificate)
            + ContentId::WIRE_LEN
            + 4
            + 1
            + 1
            + self.name.len()
            + Signature::LEN
    }

    /// What the signature covers: `mmp2p conference transfer v1` and a zero
    /// byte ‖ session ‖ transfer ‖ sender ‖ root ‖ size ‖ rate ‖ stream ‖
    /// name length (1 byte) ‖ name.
    pub fn signing_bytes(&self, session: SessionId, transfer: u64) -> heapless::Vec<u8, ANNOUNCEMENT_SIGNING_LEN> {
        let mut bytes = heapless::Vec::new();
        for part in [
            ANNOUNCEMENT_CONTEXT,
            &session.0,
            &transfer.to_be_bytes(),
            &self.sender.to_be_bytes(),
            &self.content.root,
            &self.content.size.to_be_bytes(),
            &self.rate.to_be_bytes(),
            &[u8::from(self.stream), self.name.len() as u8],
            self.name.as_bytes(),
        ] {
            // Cannot overflow: the capacity covers the longest name.
            let _ = bytes.extend_from_slice(part);
        }
        bytes
    }

    fn parse(r: &mut Reader<'_>) -> Result<Announcement, WireError> {
        let (sender, certificate) = (r.id()?, r.optional(parse_certificate)?);
        let content = ContentId { root: r.take()?, size: r.u64()? };
        let (rate, stream, name) = (r.u32()?, r.flag()?, r.name()?);
        Ok(Announcement { sender, certificate, content, rate, stream, name, signature: Signature(r.take()?) })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.sender);
        w.optional(self.certificate.as_ref(), emit_certificate);
        w.put(&self.content.root);
        w.u64(self.content.size);
        w.u32(self.rate);
        w.u8(u8::from(self.stream));
        w.name(&self.name);
        w.put(&self.signature.0);
    }
}

/// A block's proof in a conference transfer, with the transfer's announcement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfProof {
    /// The conference.
    pub session: SessionId,
    /// The transfer, numbered by its sender.
    pub transfer: u64,
    /// The sender's announcement.
    pub announcement: Announcement,
    /// The proof; its `pn` is the piece's number in the transfer.
    pub proof: BlockProof,
}

/// One chunk of a conference transfer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfData {
    /// The conference.
    pub session: SessionId,
    /// The transfer.
    pub transfer: u64,
    /// The chunk; its `pn` is the piece's number in the transfer.
    pub data: Data,
}

/// "Send me these pieces again": ranges of piece numbers, `(first, count)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfPull {
    /// The conference.
    pub session: SessionId,
    /// The transfer.
    pub transfer: u64,
    /// Pieces wanted, as `(first, count)`, count at least 1.
    pub ranges: heapless::Vec<(u32, u16), MAX_PULL_RANGES>,
}

impl ConfProof {
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN + 8 + self.announcement.wire_len() + self.proof.wire_len()
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfProof, WireError> {
        let (session, transfer) = (SessionId(r.take()?), r.u64()?);
        let announcement = Announcement::parse(r)?;
        let proof = BlockProof::parse(r)?;
        if proof.siblings.len() > MAX_CONF_SIBLINGS {
            return Err(WireError::CountTooLarge);
        }
        Ok(ConfProof { session, transfer, announcement, proof })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u64(self.transfer);
        self.announcement.emit(w);
        self.proof.emit(w);
    }
}

impl ConfData {
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN + 8 + Data::FIXED_LEN + self.data.bytes.len()
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfData, WireError> {
        let (session, transfer) = (SessionId(r.take()?), r.u64()?);
        Ok(ConfData { session, transfer, data: Data::parse(r)? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u64(self.transfer);
        self.data.emit(w);
    }
}

impl ConfPull {
    pub(super) fn wire_len(&self) -> usize {
        SessionId::LEN + 8 + 1 + self.ranges.len() * 6
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ConfPull, WireError> {
        let (session, transfer) = (SessionId(r.take()?), r.u64()?);
        let ranges: heapless::Vec<(u32, u16), MAX_PULL_RANGES> = r.list(|r| Ok((r.u32()?, r.u16()?)))?;
        if ranges.iter().any(|&(_, count)| count == 0) {
            return Err(WireError::InvalidField);
        }
        Ok(ConfPull { session, transfer, ranges })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.session.0);
        w.u64(self.transfer);
        w.list(&self.ranges, |w, &(first, count)| {
            w.u32(first);
            w.u16(count);
        });
    }
}
