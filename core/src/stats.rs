//! Counters a driver can export: traffic, drops by reason, retransmissions.

use crate::wire::WireError;
use core::fmt;

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// Why an input datagram or an output was dropped.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DropReason {
            /// The bytes are not a valid datagram.
            Malformed(WireError),
            $( $(#[$doc])* $variant, )*
        }

        /// The reasons other than [`DropReason::Malformed`], numbered for their counters.
        #[derive(Clone, Copy)]
        enum Slot {
            $( $variant, )*
        }

        impl DropReason {
            /// The reasons other than [`DropReason::Malformed`], in counter order.
            const OTHERS: [DropReason; [$($text),*].len()] = [$(DropReason::$variant),*];

            /// This reason's counter: the wire errors first, then the others in declaration order.
            fn index(self) -> usize {
                match self {
                    DropReason::Malformed(e) => e as usize,
                    $( DropReason::$variant => WIRE_ERRORS + Slot::$variant as usize, )*
                }
            }
        }

        impl fmt::Display for DropReason {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    DropReason::Malformed(e) => write!(f, "malformed: {e}"),
                    $( DropReason::$variant => f.write_str($text), )*
                }
            }
        }
    };
}

drop_reasons! {
    /// A routed message ran out of hops before reaching its responsible node.
    HopLimitExceeded => "hop limit exceeded",
    /// A response that matches no outstanding request from that address.
    UnexpectedResponse => "response to no outstanding request",
    /// A second response to a request already answered (the network or the
    /// peer duplicated it).
    DuplicateResponse => "duplicate response to a completed request",
    /// A neighbour update from a node not entitled to send it.
    UnexpectedNeighbourUpdate => "neighbour update from a node not entitled to it",
    /// A reply whose contents contradict the protocol (e.g. a JOIN_REPLY not naming us).
    InvalidReply => "reply contradicts the protocol",
    /// A routed message arrived while this node is still joining.
    NotJoined => "routed message while not joined",
    /// A routed message whose header sender is this node's own ID (a loop or a spoof).
    FromSelf => "message claims to come from this node",
    /// The outbox was full, so a datagram was not sent.
    OutboxFull => "outbox full",
    /// The request table was full, so a relayed or internal request was not started.
    RequestTableFull => "request table full",
    /// A routed message went unacknowledged by every next hop tried.
    RelayFailed => "no next hop acknowledged a routed message",
    /// A request about an ID that is not this node's (a VERIFY for another owner).
    NotOurs => "request about an ID that is not ours",
    /// A request only friends may make, from a node that is not one at that address.
    NotAFriend => "request only friends may make",
    /// A digest from a node that is neither a friend nor in our neighbour chains at that address.
    NotADigestPeer => "digest from neither a friend nor a neighbour",
    /// Copies of stored entries from a node that is neither on our left nor our right neighbour.
    UnexpectedCopy => "copies from a node that is not our neighbour",
    /// The event queue was full, so an event was lost.
    EventQueueFull => "event queue full",
    /// A datagram to an address that has not echoed a nonce of ours would
    /// have taken it past 3× the bytes received from it: withheld.
    AmplificationLimit => "withheld: over 3x what an unproven address sent",
    /// A signed record whose signature does not match its key.
    BadSignature => "bad signature",
    /// A registration that conflicts with the one held for its ID, or that
    /// found the registry full of nearer ones.
    RegistrationRefused => "registration refused: conflicting, or no room",
    /// A candidate neighbour did not prove the identity it claims: no
    /// valid signature over our probe, or another key is registered for its ID.
    Unidentified => "candidate neighbour without a proven registered identity",
    /// An owner (of locators kept, or of a search result) whose
    /// registration could not be fetched, or no room to wait for it.
    OwnerUnchecked => "owner whose registration could not be fetched",
    /// A search result whose owner did not sign it with the key registered
    /// for its ID at its address.
    ForgedOwner => "search result not signed by its owner's registered key",
    /// The caller's buffer was too small for a datagram.
    BufferTooSmall => "output buffer too small",
    /// A friend request, presence or chat from a blocked ID.
    Blocked => "from a blocked sender",
    /// A friend request over the per-sender or the overall rate limit.
    RateLimited => "friend request over a rate limit",
    /// A friend request whose sender's registration names another key or
    /// address, or none.
    UnregisteredSender => "friend request from an unregistered key or address",
    /// A chat fragment outside the conversation's window, or with no room
    /// to hold it: not acknowledged, so it comes again.
    ChatNoRoom => "chat fragment with no room: left unacknowledged",
    /// Offline mail over the mailbox's bounds (overall, per recipient, per sender).
    MailboxFull => "offline mail refused: mailbox full",
    /// A transfer packet (DATA, BLOCK_PROOF, DATA_ACK, REFUSE) on no stream
    /// of ours with that address, or for a leaf not asked of it.
    UnknownStream => "transfer packet on no stream of ours",
    /// A GET not on a stream of its sender's, or a CONTENT_QUERY, over
    /// the per-address request rate.
    AskRateLimited => "content request over its per-address rate limit",
    /// A received chunk found no room to wait for the driver: left
    /// unacknowledged, so it comes again.
    WriteQueueFull => "received chunk with no room to stage it",
    /// A conference message for no conference of ours, from one that is
    /// not a member (or not the one entitled to send it), or that our
    /// standing in the conference does not expect.
    NotInConference => "conference message from a non-member or out of turn",
    /// An invitation with no room left to hold it (too many conferences).
    ConferencesFull => "conference invitation with no room to hold it",
}

const WIRE_ERRORS: usize = WireError::ALL.len();
/// One counter per reason.
const REASONS: usize = WIRE_ERRORS + DropReason::OTHERS.len();

impl DropReason {
    /// Every reason, in counter order.
    pub fn all() -> impl Iterator<Item = DropReason> {
        WireError::ALL.into_iter().map(DropReason::Malformed).chain(DropReason::OTHERS)
    }
}

impl core::error::Error for DropReason {}

/// A node's counters. All only ever increase (saturating). With the `serde`
/// feature they serialize as their named fields (drops by reason via [`Stats::drops`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// Datagrams handed to the node.
    pub datagrams_in: u64,
    /// Datagrams the node emitted.
    pub datagrams_out: u64,
    /// Bytes handed to the node.
    pub bytes_in: u64,
    /// Bytes the node emitted.
    pub bytes_out: u64,
    /// Datagrams emitted to keep the ring and routing state alive: PING,
    /// PONG, ACK, NEIGHBOUR_UPDATE, STABILISE, STABILISE_REPLY, LEAVE,
    /// FRIEND_DIGEST.
    pub maintenance_out: u64,
    /// STORE datagrams emitted (own batches and relayed rest).
    pub store_out: u64,
    /// Locators refused because the store was full.
    pub store_refused_full: u64,
    /// Locators refused because their owner locator already had its share of the store.
    pub store_refused_owner_cap: u64,
    /// Locators refused because their owner's /64 network already had its share of the store.
    pub store_refused_network_cap: u64,
    /// Locators evicted to make room for another holder's (see `tables::store::fair`).
    pub store_evicted: u64,
    /// Locators dropped because their owner failed the return-routability check.
    pub store_unverified_dropped: u64,
    /// Requests sent again after a timeout.
    pub retransmits: u64,
    /// Requests that exhausted their attempts.
    pub requests_failed: u64,
    /// Routed messages this node passed on towards their responsible node.
    pub relayed: u64,
    /// Lookups this node originated that completed.
    pub lookups_completed: u64,
    /// Sum of the hop counts of those lookups.
    pub lookup_hops: u64,
    #[cfg_attr(feature = "serde", serde(skip))]
    drops: DropCounts,
    #[cfg_attr(feature = "serde", serde(skip))]
    sent: SentByType,
}

/// Datagrams and bytes emitted, per message type.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SentByType([(u64, u64); crate::wire::MessageType::COUNT]);

impl Default for SentByType {
    fn default() -> SentByType {
        SentByType([(0, 0); crate::wire::MessageType::COUNT])
    }
}

/// One counter per [`DropReason`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct DropCounts([u64; REASONS]);

impl Default for DropCounts {
    fn default() -> DropCounts {
        DropCounts([0; REASONS])
    }
}

impl Stats {
    /// How many datagrams or outputs were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops.0[reason.index()]
    }

    /// Datagrams dropped because they did not parse, all reasons together.
    pub fn malformed(&self) -> u64 {
        WireError::ALL.into_iter().map(|e| self.dropped(DropReason::Malformed(e))).sum()
    }

    /// Every non-zero drop counter with its reason.
    pub fn drops(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::all().map(|r| (r, self.dropped(r))).filter(|(_, n)| *n > 0)
    }

    /// Datagrams and bytes emitted of message type `kind`.
    pub fn sent(&self, kind: crate::wire::MessageType) -> (u64, u64) {
        self.sent.0[type_index(kind)]
    }

    /// Counts one datagram of `len` bytes emitted, of type `kind`.
    pub(crate) fn count_sent(&mut self, kind: crate::wire::MessageType, len: usize) {
        let (datagrams, bytes) = &mut self.sent.0[type_index(kind)];
        bump(datagrams);
        *bytes = bytes.saturating_add(len as u64);
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let slot = &mut self.drops.0[reason.index()];
        *slot = slot.saturating_add(1);
    }
}

/// `kind`'s place in [`MessageType::ALL`](crate::wire::MessageType::ALL).
fn type_index(kind: crate::wire::MessageType) -> usize {
    crate::wire::MessageType::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Adds one to a counter without overflow.
pub(crate) fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_counter() {
        let mut stats = Stats::default();
        let reasons: std::vec::Vec<DropReason> = DropReason::all().collect();
        assert_eq!(reasons.len(), REASONS);
        for (i, r) in reasons.iter().enumerate() {
            for _ in 0..=i {
                stats.count_drop(*r);
            }
        }
        for (i, r) in reasons.iter().enumerate() {
            assert_eq!(stats.dropped(*r), i as u64 + 1, "{r}");
        }
        assert_eq!(stats.malformed(), (1..=WIRE_ERRORS as u64).sum());
    }
}
