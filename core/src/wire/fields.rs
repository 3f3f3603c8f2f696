//! Field types the ring's messages share: sides, join statuses and chains.

use crate::id::ResourceLocator;

/// The most locators a neighbour chain carries: the neighbour and up to five backups.
pub const MAX_CHAIN: usize = 6;

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
    /// Nothing changed yet: send the JOIN again, straight to the responder,
    /// with the reply's cookie, to show that the joiner receives at its address.
    Retry = 3,
}
