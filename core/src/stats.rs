//! Counters a driver can export: traffic, drops by reason, retransmissions.

use crate::wire::WireError;
use core::fmt;

/// Why an input datagram or an output was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The bytes are not a valid datagram.
    Malformed(WireError),
    /// A routed message ran out of hops before reaching its responsible node.
    HopLimitExceeded,
    /// A response that matches no outstanding request from that address.
    UnexpectedResponse,
    /// A second response to a request already answered (the network or the
    /// peer duplicated it).
    DuplicateResponse,
    /// A neighbour update from a node not entitled to send it.
    UnexpectedNeighbourUpdate,
    /// A reply whose contents contradict the protocol (e.g. a JOIN_REPLY not naming us).
    InvalidReply,
    /// A routed message arrived while this node is still joining.
    NotJoined,
    /// A routed message whose header sender is this node's own ID (a loop or a spoof).
    FromSelf,
    /// The outbox was full, so a datagram was not sent.
    OutboxFull,
    /// The request table was full, so a relayed or internal request was not started.
    RequestTableFull,
    /// A routed message went unacknowledged by every next hop tried.
    RelayFailed,
    /// A request about an ID that is not this node's (a VERIFY for another owner).
    NotOurs,
    /// A request only friends may make, from a node that is not one at that address.
    NotAFriend,
    /// Copies of stored entries from a node that is neither on our left nor our right neighbour.
    UnexpectedCopy,
    /// The event queue was full, so an event was lost.
    EventQueueFull,
    /// The caller's buffer was too small for a datagram.
    BufferTooSmall,
}

const WIRE_ERRORS: usize = WireError::ALL.len();
const OTHER_REASONS: usize = 15;

impl DropReason {
    /// Every reason, in counter order.
    pub fn all() -> impl Iterator<Item = DropReason> {
        WireError::ALL.into_iter().map(DropReason::Malformed).chain([
            DropReason::HopLimitExceeded,
            DropReason::UnexpectedResponse,
            DropReason::DuplicateResponse,
            DropReason::UnexpectedNeighbourUpdate,
            DropReason::InvalidReply,
            DropReason::NotJoined,
            DropReason::FromSelf,
            DropReason::OutboxFull,
            DropReason::RequestTableFull,
            DropReason::RelayFailed,
            DropReason::NotOurs,
            DropReason::NotAFriend,
            DropReason::UnexpectedCopy,
            DropReason::EventQueueFull,
            DropReason::BufferTooSmall,
        ])
    }

    fn index(self) -> usize {
        match self {
            DropReason::Malformed(e) => e as usize,
            DropReason::HopLimitExceeded => WIRE_ERRORS,
            DropReason::UnexpectedResponse => WIRE_ERRORS + 1,
            DropReason::DuplicateResponse => WIRE_ERRORS + 2,
            DropReason::UnexpectedNeighbourUpdate => WIRE_ERRORS + 3,
            DropReason::InvalidReply => WIRE_ERRORS + 4,
            DropReason::NotJoined => WIRE_ERRORS + 5,
            DropReason::FromSelf => WIRE_ERRORS + 6,
            DropReason::OutboxFull => WIRE_ERRORS + 7,
            DropReason::RequestTableFull => WIRE_ERRORS + 8,
            DropReason::RelayFailed => WIRE_ERRORS + 9,
            DropReason::NotOurs => WIRE_ERRORS + 10,
            DropReason::NotAFriend => WIRE_ERRORS + 11,
            DropReason::UnexpectedCopy => WIRE_ERRORS + 12,
            DropReason::EventQueueFull => WIRE_ERRORS + 13,
            DropReason::BufferTooSmall => WIRE_ERRORS + 14,
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Malformed(e) => write!(f, "malformed: {e}"),
            DropReason::HopLimitExceeded => f.write_str("hop limit exceeded"),
            DropReason::UnexpectedResponse => f.write_str("response to no outstanding request"),
            DropReason::DuplicateResponse => f.write_str("duplicate response to a completed request"),
            DropReason::UnexpectedNeighbourUpdate => f.write_str("neighbour update from a node not entitled to it"),
            DropReason::InvalidReply => f.write_str("reply contradicts the protocol"),
            DropReason::NotJoined => f.write_str("routed message while not joined"),
            DropReason::FromSelf => f.write_str("message claims to come from this node"),
            DropReason::OutboxFull => f.write_str("outbox full"),
            DropReason::RequestTableFull => f.write_str("request table full"),
            DropReason::RelayFailed => f.write_str("no next hop acknowledged a routed message"),
            DropReason::NotOurs => f.write_str("request about an ID that is not ours"),
            DropReason::NotAFriend => f.write_str("request only friends may make"),
            DropReason::UnexpectedCopy => f.write_str("copies from a node that is not our neighbour"),
            DropReason::EventQueueFull => f.write_str("event queue full"),
            DropReason::BufferTooSmall => f.write_str("output buffer too small"),
        }
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
    /// Locators refused because their owner already had its share of the store.
    pub store_refused_owner_cap: u64,
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
    drops: [u64; WIRE_ERRORS + OTHER_REASONS],
}

impl Stats {
    /// How many datagrams or outputs were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()]
    }

    /// Datagrams dropped because they did not parse, all reasons together.
    pub fn malformed(&self) -> u64 {
        WireError::ALL.into_iter().map(|e| self.dropped(DropReason::Malformed(e))).sum()
    }

    /// Every non-zero drop counter with its reason.
    pub fn drops(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::all().map(|r| (r, self.dropped(r))).filter(|(_, n)| *n > 0)
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let slot = &mut self.drops[reason.index()];
        *slot = slot.saturating_add(1);
    }
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
        assert_eq!(reasons.len(), WIRE_ERRORS + OTHER_REASONS);
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
