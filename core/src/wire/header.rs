//! The fixed header every datagram opens with, and the limits on a datagram.

use crate::id::ResourceLocator;

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
/// The length every request that an unverified address may send is padded
/// to (JOIN, STABILISE, SEARCH, SEARCH_PAGE, LIST_FILES): the largest reply
/// any of them draws (a JOIN_REPLY with two full chains, 460 bytes) stays
/// within 3× the request.
pub const PADDED_REQUEST_LEN: usize = 160;

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
