//! Conference datagrams waiting to go: transfer pieces passed on as they
//! came (encoded on arrival, one copy for every neighbour they go to), and
//! pieces a neighbour asked for again (encoded when polled, their bytes
//! read by the driver).
//!
//! Bounded: [`FORWARD_SLOTS`] pieces passed on, [`RESENDS`] pieces asked
//! for; past that they are dropped and counted (the neighbours ask again).

use crate::conference::SessionId;
use crate::tables::tree::MAX_CHILDREN;
use crate::wire::MAX_DATAGRAM;
use core::net::SocketAddrV6;

/// Pieces passed on that wait at once.
pub const FORWARD_SLOTS: usize = 4;
/// Pieces asked for again that wait at once.
pub const RESENDS: usize = 64;

/// A piece passed on: its datagram, and the neighbours it still goes to.
#[derive(Clone, Debug)]
pub struct Forward {
    /// The datagram.
    pub bytes: [u8; MAX_DATAGRAM],
    /// Its length.
    pub len: usize,
    /// Neighbours it still goes to.
    pub to: heapless::Vec<SocketAddrV6, { MAX_CHILDREN + 1 }>,
}

/// A piece a neighbour asked for again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resend {
    /// The neighbour.
    pub to: SocketAddrV6,
    /// The conference.
    pub session: SessionId,
    /// The transfer.
    pub transfer: u64,
    /// The piece's number.
    pub pn: u32,
}

/// What waits.
#[derive(Clone, Debug, Default)]
pub struct ConferenceOut {
    /// Pieces passed on.
    pub forwards: heapless::Deque<Forward, FORWARD_SLOTS>,
    /// Pieces asked for again.
    pub resends: heapless::Deque<Resend, RESENDS>,
}
