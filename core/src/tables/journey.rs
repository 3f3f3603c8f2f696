//! A routed message as this node sends it on: what it is (a JOIN, a
//! LOOKUP, a SEARCH, a REGISTRY_GET), the hops it took and may still take,
//! and its detours.

use crate::id::{Id, ResourceLocator};
use crate::wire::{IdentityProof, MessageType, MAX_DETOURS};

/// A routed message as it travels from this node: what it is, the hops it
/// took, the hops it may still take, and its detours (see
/// [`routing`](crate::routing)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Journey {
    pub routed: Routed,
    pub hops: u8,
    pub hop_limit: u8,
    /// Detours taken before it reached this node.
    pub detours: u8,
    /// This node may send it on a detour.
    pub may_detour: bool,
    /// The hop from this node is a detour.
    pub detour: bool,
}

impl Journey {
    /// A routed message leaving its originator.
    pub fn start(routed: Routed, hop_limit: u8) -> Journey {
        Journey { routed, hops: 1, hop_limit, detours: 0, may_detour: true, detour: false }
    }

    /// The detour count its next hop carries.
    pub fn detours_sent(&self) -> u8 {
        self.detours.saturating_add(u8::from(self.detour)).min(MAX_DETOURS)
    }
}

/// A JOIN as it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JoinAsk {
    pub joiner: ResourceLocator,
    pub hops: u8,
    pub cookie: u64,
    pub proof: Option<IdentityProof>,
}

/// A routed message this node passed on and waits to see acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    /// A JOIN; `seq` is the sequence number our own registration carries
    /// (a relayed JOIN goes on without its proof: the cookie it echoes is
    /// good only at the node that issued it).
    Join {
        joiner: ResourceLocator,
        cookie: u64,
        seq: u32,
    },
    Lookup {
        origin: ResourceLocator,
        key: Id,
    },
    Search {
        origin: ResourceLocator,
        key: Id,
    },
    /// A REGISTRY_GET, routed to the node after `id`.
    RegistryGet {
        origin: ResourceLocator,
        id: Id,
    },
}

impl Routed {
    /// Its type on the wire.
    pub fn message_type(&self) -> MessageType {
        match self {
            Routed::Join { .. } => MessageType::Join,
            Routed::Lookup { .. } => MessageType::Lookup,
            Routed::Search { .. } => MessageType::Search,
            Routed::RegistryGet { .. } => MessageType::RegistryGet,
        }
    }

    /// The ID the message is routed towards.
    pub fn key(&self) -> Id {
        match self {
            Routed::Join { joiner, .. } => joiner.id,
            Routed::Lookup { key, .. } | Routed::Search { key, .. } => *key,
            // The node after the ID: its registrar, or (if the ID is a
            // member's) that member's first replica, never the member itself.
            Routed::RegistryGet { id, .. } => Id(id.0.wrapping_add(1)),
        }
    }

    /// A node the message must not be routed to (a JOIN's own joiner).
    pub fn avoid(&self) -> Option<&ResourceLocator> {
        match self {
            Routed::Join { joiner, .. } => Some(joiner),
            Routed::Lookup { .. } | Routed::Search { .. } | Routed::RegistryGet { .. } => None,
        }
    }
}
