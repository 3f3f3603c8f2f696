//! The MMP2P wire format: a checked view over datagram bytes ([`Packet`]) and a
//! typed representation ([`Repr`]) with `parse` and `emit`.
//!
//! `docs/wire.md` is the normative specification; this module mirrors it.
//! Integers are big-endian; every list has a one-byte count bounded by a named
//! constant. Parsing never panics and never allocates; it rejects truncated
//! input, over-long counts and trailing bytes with a [`WireError`]. Emitting
//! never writes more than [`MAX_DATAGRAM`] bytes.

mod cursor;
mod dht;
mod message;
mod packet;

pub use dht::{
    FileEntry, ReplicaEntry, MAX_DIGEST_IDS, MAX_NAMES_PER_PAGE, MAX_OWNERS_PER_REPLY, MAX_REPLICATE_BATCH,
    MAX_STORE_BATCH, MAX_VERIFY_KEYS,
};
pub use message::Message;
pub use packet::Packet;

#[cfg(test)]
use crate::id::Id;
use crate::id::ResourceLocator;
use core::fmt;
use cursor::{Reader, Writer};

/// The largest datagram MMP2P sends or accepts: IPv6's minimum MTU (1280)
/// less the IPv6 (40) and UDP (8) headers, so nothing is ever fragmented.
pub const MAX_DATAGRAM: usize = 1232;
/// The two magic bytes that open every datagram: ASCII `MM`.
pub const MAGIC: [u8; 2] = *b"MM";
/// The protocol version this implementation speaks.
pub const VERSION: u8 = 1;
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 2 + 1 + 1 + 1 + 1 + 8 + ResourceLocator::WIRE_LEN;
/// Header flag bits 0–1 of a routed message (JOIN, LOOKUP, SEARCH): how
/// many detours — hops to a node not itself closer to the key — its route
/// has taken (see [`routing`](crate::routing)), at most [`MAX_DETOURS`].
pub const DETOUR_BITS: u8 = 0x03;
/// Most detours one route takes.
pub const MAX_DETOURS: u8 = 3;
/// The most locators a neighbour chain carries: the neighbour and up to five backups.
pub const MAX_CHAIN: usize = 6;
/// Every JOIN and STABILISE is exactly this long, padded with zeros, so that
/// the largest reply carrying two chains (460 bytes) stays within 3× the
/// request that asked for it.
pub const JOIN_LEN: usize = 160;

/// One side's neighbour chain: the neighbour first, then its backups outward.
pub type Chain = heapless::Vec<ResourceLocator, MAX_CHAIN>;

/// Which side of a node a neighbour is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Side {
    /// Counter-clockwise: the predecessor.
    Left = 0,
    /// Clockwise: the successor.
    Right = 1,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// The result of a JOIN, as the responsible node reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum JoinStatus {
    /// The joiner now sits between the reported left neighbour and the responder.
    Accepted = 0,
    /// Another node already holds the joiner's ID.
    IdInUse = 1,
    /// The node asked is not part of a ring (it restarted alone); try another.
    NotMember = 2,
}

/// The message type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Liveness probe.
    Ping = 0x01,
    /// Answer to a ping.
    Pong = 0x02,
    /// Acknowledges a neighbour update or a LEAVE.
    Ack = 0x03,
    /// Acknowledges one hop of a routed message (JOIN or LOOKUP) to the node that sent it.
    HopAck = 0x04,
    /// A node asks to join; routed to the joiner's successor.
    Join = 0x10,
    /// The responsible node's answer to a JOIN, sent straight to the joiner.
    JoinReply = 0x11,
    /// A neighbour tells a node its neighbour chain on one side.
    NeighbourUpdate = 0x12,
    /// A node asks a neighbour (or a candidate) for its chains; also a liveness probe.
    Stabilise = 0x13,
    /// The answer to STABILISE: the responder's chains.
    StabiliseReply = 0x14,
    /// A neighbour leaves the ring and hands over its chain on the other side.
    Leave = 0x15,
    /// A friend's contact IDs, for looking one hop ahead when routing.
    FriendDigest = 0x16,
    /// A routed request for the node responsible for a key.
    Lookup = 0x20,
    /// The responsible node's answer to a lookup, sent straight to the origin.
    LookupReply = 0x21,
    /// An owner publishes file IDs; routed, each responsible node keeps its own.
    Store = 0x30,
    /// A responsible node checks that an owner's address is real (return routability).
    Verify = 0x31,
    /// The owner's answer to VERIFY.
    VerifyReply = 0x32,
    /// A routed request for the owners of a key.
    Search = 0x33,
    /// A direct request for a further page of owners.
    SearchPage = 0x34,
    /// A page of owners, from the responsible node.
    SearchReply = 0x35,
    /// Stored entries copied to a neighbour (replication, handover).
    Replicate = 0x36,
    /// A friend asks for a page of shared-file names.
    ListFiles = 0x37,
    /// A page of shared-file names.
    FileList = 0x38,
}

impl MessageType {
    /// Every message type, in code order.
    pub const ALL: [MessageType; 22] = [
        MessageType::Ping,
        MessageType::Pong,
        MessageType::Ack,
        MessageType::HopAck,
        MessageType::Join,
        MessageType::JoinReply,
        MessageType::NeighbourUpdate,
        MessageType::Stabilise,
        MessageType::StabiliseReply,
        MessageType::Leave,
        MessageType::FriendDigest,
        MessageType::Lookup,
        MessageType::LookupReply,
        MessageType::Store,
        MessageType::Verify,
        MessageType::VerifyReply,
        MessageType::Search,
        MessageType::SearchPage,
        MessageType::SearchReply,
        MessageType::Replicate,
        MessageType::ListFiles,
        MessageType::FileList,
    ];

    /// The type for a type byte, if it is one this version knows.
    pub fn from_u8(byte: u8) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|t| *t as u8 == byte)
    }

    /// The name `docs/wire.md` uses.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Ping => "PING",
            MessageType::Pong => "PONG",
            MessageType::Ack => "ACK",
            MessageType::HopAck => "HOP_ACK",
            MessageType::Join => "JOIN",
            MessageType::JoinReply => "JOIN_REPLY",
            MessageType::NeighbourUpdate => "NEIGHBOUR_UPDATE",
            MessageType::Stabilise => "STABILISE",
            MessageType::StabiliseReply => "STABILISE_REPLY",
            MessageType::Leave => "LEAVE",
            MessageType::FriendDigest => "FRIEND_DIGEST",
            MessageType::Lookup => "LOOKUP",
            MessageType::LookupReply => "LOOKUP_REPLY",
            MessageType::Store => "STORE",
            MessageType::Verify => "VERIFY",
            MessageType::VerifyReply => "VERIFY_REPLY",
            MessageType::Search => "SEARCH",
            MessageType::SearchPage => "SEARCH_PAGE",
            MessageType::SearchReply => "SEARCH_REPLY",
            MessageType::Replicate => "REPLICATE",
            MessageType::ListFiles => "LIST_FILES",
            MessageType::FileList => "FILE_LIST",
        }
    }
}

/// Why bytes are not a valid MMP2P datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireError {
    /// The datagram ends before a field it must contain.
    Truncated,
    /// The datagram is longer than [`MAX_DATAGRAM`].
    Oversized,
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// A version this implementation does not speak.
    UnsupportedVersion,
    /// A message type this version does not know.
    UnknownType,
    /// A list count exceeds its bound.
    CountTooLarge,
    /// Bytes follow the last field of the message.
    TrailingBytes,
    /// A field holds a value the specification does not define.
    InvalidField,
    /// A locator's address is unspecified, multicast or IPv4-mapped.
    InvalidAddress,
}

impl WireError {
    /// Every error, in declaration order (for per-reason counters).
    pub const ALL: [WireError; 9] = [
        WireError::Truncated,
        WireError::Oversized,
        WireError::BadMagic,
        WireError::UnsupportedVersion,
        WireError::UnknownType,
        WireError::CountTooLarge,
        WireError::TrailingBytes,
        WireError::InvalidField,
        WireError::InvalidAddress,
    ];
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "datagram truncated",
            WireError::Oversized => "datagram longer than 1232 bytes",
            WireError::BadMagic => "bad magic bytes",
            WireError::UnsupportedVersion => "unsupported protocol version",
            WireError::UnknownType => "unknown message type",
            WireError::CountTooLarge => "list count exceeds its bound",
            WireError::TrailingBytes => "trailing bytes after the message",
            WireError::InvalidField => "field value not defined by the specification",
            WireError::InvalidAddress => "locator address is not a usable IPv6 unicast address",
        })
    }
}

impl core::error::Error for WireError {}

/// Why a [`Repr`] could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The buffer holds fewer bytes than the message needs.
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
    },
    /// The message would exceed [`MAX_DATAGRAM`] bytes.
    TooLarge {
        /// Bytes the message would need.
        needed: usize,
    },
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            EmitError::TooLarge { needed } => write!(f, "message of {needed} bytes exceeds {MAX_DATAGRAM}"),
        }
    }
}

impl core::error::Error for EmitError {}

/// The fields every datagram starts with (the version is implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Header {
    /// Flag bits: the detour count ([`DETOUR_BITS`]) on routed messages;
    /// the others are reserved, sent as 0 and ignored on receipt.
    pub flags: u8,
    /// Hops a routed message may still take; each relay decrements it.
    pub hop_limit: u8,
    /// The request's random transaction id, echoed by its response.
    pub txid: u64,
    /// Who sent this datagram (not necessarily who originated the request).
    pub sender: ResourceLocator,
}

/// A whole datagram: header and message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Repr {
    /// The common header.
    pub header: Header,
    /// The message body.
    pub message: Message,
}

impl Repr {
    /// Parses a checked packet view into its typed representation.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, WireError> {
        let kind = MessageType::from_u8(packet.message_type()).ok_or(WireError::UnknownType)?;
        let mut header = Reader::new(packet.sender_bytes());
        let sender = header.locator()?;
        let mut body = Reader::new(packet.body());
        let message = Message::parse(kind, &mut body)?;
        body.finish()?;
        let header = Header { flags: packet.flags(), hop_limit: packet.hop_limit(), txid: packet.txid(), sender };
        Ok(Repr { header, message })
    }

    /// Checks and parses raw datagram bytes in one step.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Repr, WireError> {
        Repr::parse(&Packet::new_checked(bytes)?)
    }

    /// Bytes [`emit`](Repr::emit) writes for this message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.message.body_len()
    }

    /// Writes the datagram into the front of `buf` and returns its length.
    ///
    /// Never writes more than [`MAX_DATAGRAM`] bytes; a message that would
    /// need more, or a buffer too small for it, is a typed error and nothing
    /// is written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let needed = self.buffer_len();
        if needed > MAX_DATAGRAM {
            return Err(EmitError::TooLarge { needed });
        }
        let out = buf.get_mut(..needed).ok_or(EmitError::BufferTooSmall { needed })?;
        let mut w = Writer::new(out);
        w.put(&MAGIC);
        w.u8(VERSION);
        w.u8(self.message.message_type() as u8);
        w.u8(self.header.flags);
        w.u8(self.header.hop_limit);
        w.u64(self.header.txid);
        w.locator(&self.header.sender);
        self.message.emit(&mut w);
        debug_assert_eq!(w.len(), needed);
        Ok(needed)
    }
}

#[cfg(test)]
mod tests;
