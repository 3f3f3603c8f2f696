//! What the node target asserts about the node's answers and events,
//! beside the state checks in `node.rs`: routed messages relayed by the
//! rules, JOINs, SEARCHes and VERIFYs answered by them, events well formed.

use super::*;
use mmp2p_core::capacity::Cap;
use mmp2p_core::profile::{Desktop, OverlayOnly, WithoutApps};

/// Checks a datagram sent in reaction to `inbound` against the rules for
/// relaying routed messages and for answering JOINs, SEARCHes and VERIFYs.
pub(crate) fn check_response<P: Profile>(
    node: &Node<P>,
    inbound: &Repr,
    inbound_len: usize,
    sent: &Repr,
    sent_len: usize,
) {
    if sent.header.txid != inbound.header.txid {
        return;
    }
    let relayed_hop_limit = || {
        let expected = inbound.header.hop_limit.checked_sub(1);
        assert_eq!(Some(sent.header.hop_limit), expected, "relayed with a wrong hop limit: {inbound:?} -> {sent:?}");
    };
    match (&inbound.message, &sent.message) {
        (Message::Join { joiner, hops, cookie, .. }, Message::Join { joiner: j, hops: h, cookie: c, proof }) => {
            relayed_hop_limit();
            let relayed = (j, *h, c);
            assert_eq!(
                relayed,
                (joiner, hops.saturating_add(1), cookie),
                "JOIN relayed wrongly: {inbound:?} -> {sent:?}"
            );
            assert!(proof.is_none(), "a relayed JOIN carries no proof: {sent:?}");
        }
        (Message::Lookup { origin, key, hops }, Message::Lookup { origin: o, key: k, hops: h }) => {
            relayed_hop_limit();
            assert_eq!(
                (o, k, *h),
                (origin, key, hops.saturating_add(1)),
                "LOOKUP relayed wrongly: {inbound:?} -> {sent:?}"
            );
        }
        (Message::Search { origin, key, hops }, Message::Search { origin: o, key: k, hops: h }) => {
            relayed_hop_limit();
            assert_eq!(
                (o, k, *h),
                (origin, key, hops.saturating_add(1)),
                "SEARCH relayed wrongly: {inbound:?} -> {sent:?}"
            );
        }
        (
            Message::Store { owner, key, hops, entries },
            Message::Store { owner: o, key: k, hops: h, entries: relayed },
        ) => {
            relayed_hop_limit();
            assert_eq!(
                (o, k, *h),
                (owner, key, hops.saturating_add(1)),
                "STORE relayed wrongly: {inbound:?} -> {sent:?}"
            );
            if !node.is_member() || node.is_joining() {
                // A joining node passes the whole STORE on to the node its JOIN went to.
                assert_eq!(relayed, entries, "STORE passed on while joining changed: {inbound:?} -> {sent:?}");
                return;
            }
            let me = Id(ME_ID);
            for entry in relayed {
                assert!(entries.contains(entry), "relayed STORE entry {entry:?} was not in {inbound:?}");
                assert!(!node.neighbours().is_responsible(me, entry.key), "relayed an entry we keep: {entry:?}");
            }
            assert!(
                relayed.windows(2).all(|w| me.distance_to(w[0].key) <= me.distance_to(w[1].key)),
                "relayed STORE not sorted clockwise from the node: {sent:?}"
            );
        }
        (Message::Join { .. }, Message::JoinReply { status, .. }) => {
            assert!(
                sent_len <= 3 * inbound_len,
                "a {inbound_len}-byte JOIN drew a {sent_len}-byte JOIN_REPLY (amplification limit 3x)"
            );
            // Before the joiner echoes a cookie, one reply no larger than the JOIN.
            let asked = *status == JoinStatus::Retry;
            assert!(!asked || sent_len <= inbound_len, "a {inbound_len}-byte JOIN drew a {sent_len}-byte Retry");
        }
        (Message::Search { .. } | Message::SearchPage { .. }, Message::SearchReply { .. }) => {
            assert!(
                sent_len <= 3 * inbound_len,
                "a {inbound_len}-byte request drew a {sent_len}-byte SEARCH_REPLY (amplification limit 3x)"
            );
        }
        (Message::Verify { keys, .. }, Message::VerifyReply { keys: echoed, mask }) => {
            assert!(sent_len <= inbound_len, "a {inbound_len}-byte VERIFY drew a {sent_len}-byte VERIFY_REPLY");
            assert_eq!(keys, echoed, "VERIFY_REPLY does not echo the keys");
            assert!(keys.len() <= MAX_VERIFY_KEYS && u64::from(*mask) >> keys.len() == 0, "mask bits past the keys");
        }
        _ => {}
    }
}

pub(crate) fn check_event(event: &Event) {
    match event {
        Event::Joined { left, right, .. } => {
            assert!(left.id != Id(ME_ID) && right.id != Id(ME_ID), "joined next to ourselves: {event:?}");
        }
        Event::NeighbourChanged { neighbour: Some(n), .. } => {
            assert!(n.id != Id(ME_ID), "became our own neighbour: {event:?}");
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the node's profile (modulo 3): the desktop's,
    // the overlay's alone, or the barest a profile may be.
    match data.split_first() {
        Some((first, rest)) if first % 3 == 1 => run::<OverlayOnly>(rest),
        Some((first, rest)) if first % 3 == 2 => run::<Bare>(rest),
        Some((_, rest)) => run::<Desktop>(rest),
        None => run::<Desktop>(data),
    }
});

/// The barest profile: every table that may be empty holds nothing, every
/// queue one entry, and one unproven address is counted. Such a node can
/// do next to nothing, but must refuse, drop and count, never panic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bare;

impl Profile for Bare {
    type Friends = Cap<0>;
    type DigestOwners = Cap<0>;
    type DigestIds = Cap<0>;
    type Rtts = Cap<0>;
    type Store = Cap<0>;
    type Requests = Cap<0>;
    type Proven = Cap<0>;
    type Counted = Cap<1>;
    type Registrations = Cap<0>;
    type KnownKeys = Cap<0>;
    type Outbox = Cap<1>;
    type Relayed = Cap<1>;
    type Events = Cap<1>;
    type Apps = WithoutApps;
}

/// Drives a node of profile `P` through the operations `data` holds.
fn run<P: Profile>(data: &[u8]) {
    let mut h = Harness::<P>::new();
    let mut r = Reader { data };
    h.drain();
    while !r.is_empty() {
        let op = r.u8();
        h.step(op, &mut r);
        h.drain();
        h.check_state();
    }
}
