//! Field types the ring's messages share: sides, join statuses, chains and
//! a node's proof of identity.

use crate::id::ResourceLocator;
use crate::identity::{PublicKey, Signature};
use crate::registration::Registration;

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
    /// The joiner's ID is registered to another key (a duplicated
    /// identifier): only its owner may join under it.
    IdRegistered = 4,
}

impl JoinStatus {
    /// The status for a status byte, if it is one this version knows.
    pub fn from_u8(byte: u8) -> Option<JoinStatus> {
        Some(match byte {
            0 => JoinStatus::Accepted,
            1 => JoinStatus::IdInUse,
            2 => JoinStatus::NotMember,
            3 => JoinStatus::Retry,
            4 => JoinStatus::IdRegistered,
            _ => return None,
        })
    }
}

/// A node's registration signed over a nonce of the node it proves itself
/// to: the key, the record's sequence number, and the key's signature of the
/// record (the node's ID and address, the key, the sequence number and the
/// nonce; see [`Registration`]). A JOIN that echoes the responsible node's
/// cookie carries one signed over the cookie; a STABILISE_REPLY to a
/// candidate probe, one signed over the probe's txid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IdentityProof {
    /// The joiner's public key.
    pub key: PublicKey,
    /// The record's sequence number.
    pub seq: u32,
    /// The key's signature of the record.
    pub signature: Signature,
}

impl IdentityProof {
    /// Bytes of a proof on the wire.
    pub const WIRE_LEN: usize = PublicKey::LEN + 4 + Signature::LEN;

    /// The record `node` claims, signed over `nonce` (not yet checked).
    pub fn registration(&self, node: &ResourceLocator, nonce: u64) -> Registration {
        let IdentityProof { key, seq, signature } = *self;
        Registration { id: node.id, key, addr: node.addr, seq, nonce, signature }
    }

    /// The proof a record carries (its nonce is the one it was signed over).
    pub fn of(record: &Registration) -> IdentityProof {
        IdentityProof { key: record.key, seq: record.seq, signature: record.signature }
    }
}
