//! The record of every datagram the network carried.

use core::net::SocketAddrV6;
use mmp2p_core::wire::{Repr, WireError};
use mmp2p_core::Instant;

/// What became of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Put in flight (`duplicate`: the network's extra copy).
    Sent {
        /// True for a copy the network made.
        duplicate: bool,
    },
    /// Lost by the network's loss rate.
    Lost,
    /// Lost to a partition.
    Partitioned,
    /// Dropped at the sender's uplink: its queue was full.
    QueueFull,
}

/// One datagram on the simulated wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceEntry {
    /// When it was sent.
    pub sent: Instant,
    /// When it arrives (or would have).
    pub arrives: Instant,
    /// Source address.
    pub from: SocketAddrV6,
    /// Destination address.
    pub to: SocketAddrV6,
    /// The datagram.
    pub bytes: Vec<u8>,
    /// What became of it.
    pub fate: Fate,
}

impl TraceEntry {
    /// The datagram decoded.
    pub fn repr(&self) -> Result<Repr, WireError> {
        Repr::parse_bytes(&self.bytes)
    }
}

/// FNV-1a over every field of every entry: a fingerprint of a whole run.
pub(crate) fn digest(trace: &[TraceEntry]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for e in trace {
        feed(&e.sent.as_micros().to_be_bytes());
        feed(&e.arrives.as_micros().to_be_bytes());
        for addr in [e.from, e.to] {
            feed(&addr.ip().octets());
            feed(&addr.port().to_be_bytes());
        }
        feed(&(e.bytes.len() as u64).to_be_bytes());
        feed(&e.bytes);
        feed(&[match e.fate {
            Fate::Sent { duplicate: false } => 0,
            Fate::Sent { duplicate: true } => 1,
            Fate::Lost => 2,
            Fate::Partitioned => 3,
            Fate::QueueFull => 4,
        }]);
    }
    hash
}
