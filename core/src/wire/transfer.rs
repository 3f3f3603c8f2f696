//! The transfer's message bodies: a downloader's GET of leaves, the owner's
//! BLOCK_PROOF and DATA, the downloader's selective DATA_ACK, and REFUSE.
//!
//! One stream runs per downloader, owner and file: the downloader picks its
//! number (the header's transaction id on every message of the stream) and
//! the owner numbers its packets. A file is named by its
//! [`ContentId`](crate::content::ContentId); leaves and chunks are those of
//! [`content`](crate::content).

use super::cursor::{Reader, Writer};
use super::error::WireError;
use crate::content::{BlockValues, ContentId, Siblings, CHUNK_LEN};

/// Most leaf ranges one GET asks for.
pub const MAX_GET_RANGES: usize = 8;
/// Most packet-number ranges one DATA_ACK reports.
pub const MAX_ACK_RANGES: usize = 16;

/// Leaves a GET asks for: `count` from `first`, with their blocks' proofs
/// if `proofs`. With `count` 0 and `proofs`, just the proof of the block
/// holding `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LeafRange {
    /// The first leaf.
    pub first: u32,
    /// How many leaves (at most 2¹⁵ − 1).
    pub count: u16,
    /// Send the proof of each block these leaves belong to.
    pub proofs: bool,
}

impl LeafRange {
    /// The flag bit of the count field on the wire.
    const PROOFS: u16 = 0x8000;

    /// True if `leaf` is one of the range's.
    pub fn contains(&self, leaf: u32) -> bool {
        leaf >= self.first && leaf - self.first < u32::from(self.count)
    }
}

/// "Send me these leaves of this file": the downloader's whole wish list
/// for the stream, replacing any earlier one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Get {
    /// The file.
    pub content: ContentId,
    /// Counts the downloader's GETs on the stream: an older one arriving late is ignored.
    pub seq: u32,
    /// The owner's cookie from a REFUSE `Retry`, proving the downloader's address (0: none).
    pub cookie: u64,
    /// Leaves wanted, in order. None: stop sending.
    pub ranges: heapless::Vec<LeafRange, MAX_GET_RANGES>,
}

/// Block `block`'s proof: its leaves' values, and the siblings of its
/// subtree up the file's tree, nearest first (see [`content`](crate::content)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlockProof {
    /// The packet's number in the stream.
    pub pn: u32,
    /// The block.
    pub block: u32,
    /// The values of its leaves, in order.
    pub values: BlockValues,
    /// The siblings above it.
    pub siblings: Siblings,
}

/// One chunk of a leaf.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Data {
    /// The packet's number in the stream.
    pub pn: u32,
    /// The leaf.
    pub leaf: u32,
    /// The chunk within the leaf (0–15).
    pub chunk: u8,
    /// The chunk's bytes, 1 to 1024 (1 KiB but for a file's last chunk).
    pub bytes: heapless::Vec<u8, CHUNK_LEN>,
}

/// The packets a downloader received on a stream: ranges of packet
/// numbers, highest first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DataAck {
    /// Microseconds between the highest packet's arrival and this ack.
    pub delay_us: u32,
    /// `(first, last)` packet numbers received, inclusive, highest first, apart.
    pub ranges: heapless::Vec<(u32, u32), MAX_ACK_RANGES>,
}

/// An owner's answer to CONTENT_QUERY: what it shares under a file ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ContentInfo {
    /// The file ID asked about.
    pub key: crate::id::Id,
    /// The content shared under it, and whether to friends only; `None`: nothing.
    pub content: Option<(ContentId, bool)>,
}

impl ContentInfo {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        crate::id::Id::LEN + 1 + self.content.map_or(0, |_| ContentId::WIRE_LEN)
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<ContentInfo, WireError> {
        let key = r.id()?;
        let content = match r.u8()? {
            0 => None,
            flag @ (1 | 2) => Some((ContentId { root: r.take()?, size: r.u64()? }, flag == 2)),
            _ => return Err(WireError::InvalidField),
        };
        Ok(ContentInfo { key, content })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.id(self.key);
        match self.content {
            None => w.u8(0),
            Some((content, friends_only)) => {
                w.u8(if friends_only { 2 } else { 1 });
                w.put(&content.root);
                w.u64(content.size);
            }
        }
    }
}

/// Why an owner does not serve a GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RefuseReason {
    /// Prove your address: send the GET again with this REFUSE's cookie.
    Retry,
    /// The owner does not share this content.
    UnknownContent,
    /// A leaf asked for is past the end of the file.
    OutOfRange,
    /// The owner serves as many uploads as it allows (overall or to you).
    Busy,
    /// The owner serves this content to its friends only.
    FriendsOnly,
}

impl RefuseReason {
    /// The reason for a byte, if the specification defines it.
    pub fn from_u8(byte: u8) -> Option<RefuseReason> {
        Some(match byte {
            0 => RefuseReason::Retry,
            1 => RefuseReason::UnknownContent,
            2 => RefuseReason::OutOfRange,
            3 => RefuseReason::Busy,
            4 => RefuseReason::FriendsOnly,
            _ => return None,
        })
    }

    /// The reason's byte.
    pub fn to_u8(self) -> u8 {
        match self {
            RefuseReason::Retry => 0,
            RefuseReason::UnknownContent => 1,
            RefuseReason::OutOfRange => 2,
            RefuseReason::Busy => 3,
            RefuseReason::FriendsOnly => 4,
        }
    }

    /// The reason in a few words.
    pub fn as_str(self) -> &'static str {
        match self {
            RefuseReason::Retry => "retry with the cookie",
            RefuseReason::UnknownContent => "unknown content",
            RefuseReason::OutOfRange => "leaf out of range",
            RefuseReason::Busy => "busy",
            RefuseReason::FriendsOnly => "friends only",
        }
    }
}

/// An owner's refusal of a GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Refuse {
    /// Why.
    pub reason: RefuseReason,
    /// With `Retry`, the cookie to echo; otherwise 0.
    pub cookie: u64,
}

impl Get {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        ContentId::WIRE_LEN + 4 + 8 + 1 + self.ranges.len() * 6
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Get, WireError> {
        let content = ContentId { root: r.take()?, size: r.u64()? };
        let (seq, cookie) = (r.u32()?, r.u64()?);
        let ranges = r.list(|r| {
            let (first, count) = (r.u32()?, r.u16()?);
            let proofs = count & LeafRange::PROOFS != 0;
            Ok(LeafRange { first, count: count & !LeafRange::PROOFS, proofs })
        })?;
        if !content.is_valid() {
            return Err(WireError::InvalidField);
        }
        Ok(Get { content, seq, cookie, ranges })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.content.root);
        w.u64(self.content.size);
        w.u32(self.seq);
        w.u64(self.cookie);
        w.list(&self.ranges, |w, range| {
            w.u32(range.first);
            w.u16(range.count & !LeafRange::PROOFS | if range.proofs { LeafRange::PROOFS } else { 0 });
        });
    }
}

impl BlockProof {
    /// Bytes of the body before the values.
    pub(super) const FIXED_LEN: usize = 4 + 4 + 1 + 1;

    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        Self::FIXED_LEN + (self.values.len() + self.siblings.len()) * 32
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<BlockProof, WireError> {
        let (pn, block, values, siblings) = (r.u32()?, r.u32()?, usize::from(r.u8()?), usize::from(r.u8()?));
        if values == 0 {
            return Err(WireError::InvalidField);
        }
        if values > crate::content::BLOCK_LEAVES as usize || siblings > crate::content::MAX_BLOCK_SIBLINGS {
            return Err(WireError::CountTooLarge);
        }
        let values = (0..values).map(|_| r.take()).collect::<Result<_, _>>()?;
        let siblings = (0..siblings).map(|_| r.take()).collect::<Result<_, _>>()?;
        Ok(BlockProof { pn, block, values, siblings })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.pn);
        w.u32(self.block);
        w.u8(self.values.len() as u8);
        w.u8(self.siblings.len() as u8);
        self.values.iter().chain(self.siblings.iter()).for_each(|value| w.put(value));
    }
}

impl Data {
    /// Bytes of the body but the chunk's.
    pub(super) const FIXED_LEN: usize = 4 + 4 + 1 + 2;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Data, WireError> {
        let (pn, leaf, chunk, len) = (r.u32()?, r.u32()?, r.u8()?, usize::from(r.u16()?));
        if len == 0 || len > CHUNK_LEN || usize::from(chunk) >= crate::content::CHUNKS_PER_LEAF {
            return Err(WireError::InvalidField);
        }
        let bytes = heapless::Vec::from_slice(r.bytes(len)?).map_err(|_| WireError::InvalidField)?;
        Ok(Data { pn, leaf, chunk, bytes })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.pn);
        w.u32(self.leaf);
        w.u8(self.chunk);
        w.u16(self.bytes.len() as u16);
        w.put(&self.bytes);
    }
}

impl DataAck {
    /// Bytes of the body.
    pub(super) fn wire_len(&self) -> usize {
        4 + 1 + self.ranges.len() * 8
    }

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<DataAck, WireError> {
        let delay_us = r.u32()?;
        let ranges: heapless::Vec<(u32, u32), MAX_ACK_RANGES> = r.list(|r| Ok((r.u32()?, r.u32()?)))?;
        // Ranges run highest first, each well-formed and apart from the next.
        let ordered = ranges.windows(2).all(|pair| pair[1].1.saturating_add(1) < pair[0].0);
        if ranges.is_empty() || !ordered || ranges.iter().any(|(first, last)| first > last) {
            return Err(WireError::InvalidField);
        }
        Ok(DataAck { delay_us, ranges })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.delay_us);
        w.list(&self.ranges, |w, (first, last)| {
            w.u32(*first);
            w.u32(*last);
        });
    }

    /// The highest packet number acknowledged.
    pub fn largest(&self) -> u32 {
        self.ranges.first().map_or(0, |range| range.1)
    }

    /// True if packet `pn` is acknowledged.
    pub fn acks(&self, pn: u32) -> bool {
        self.ranges.iter().any(|(first, last)| (*first..=*last).contains(&pn))
    }
}

impl Refuse {
    /// Bytes of the body.
    pub(super) const WIRE_LEN: usize = 1 + 8;

    pub(super) fn parse(r: &mut Reader<'_>) -> Result<Refuse, WireError> {
        let reason = RefuseReason::from_u8(r.u8()?).ok_or(WireError::InvalidField)?;
        Ok(Refuse { reason, cookie: r.u64()? })
    }

    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.reason.to_u8());
        w.u64(self.cookie);
    }
}
