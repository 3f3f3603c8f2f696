//! Greedy routing over friends, neighbours and backups.
//!
//! A routed message (JOIN, LOOKUP) travels clockwise towards the responsible
//! node of its key, the key's successor. At each node:
//! 1. if the key falls in `(left, me]`, or the node is alone, it is responsible;
//! 2. if the key falls between two consecutive nodes of a neighbour chain,
//!    the later of the two is responsible: deliver straight to it;
//! 3. otherwise forward to the contact (friend, neighbour or backup) that gets
//!    furthest clockwise without passing the key: Chord's "closest preceding
//!    node", with friends as fingers (the paper's Figure 4). Looking ahead
//!    (see [`lookahead`](crate::lookahead)), the contact is instead judged by
//!    the best of its own reported contacts short of the key, then by itself.
//!
//! Every forward strictly shrinks the clockwise distance to the key and never
//! passes the responsible node, so a route never revisits a node and ends at
//! the responsible node.

use crate::id::{Id, ResourceLocator};
use crate::lookahead::Digests;
use crate::neighbours::Neighbours;
use crate::wire::Side;
use core::net::SocketAddrV6;

/// Where a routed message goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// This node is responsible for the key.
    Local,
    /// Send it on to this contact.
    Forward(ResourceLocator),
}

/// The next hop from `me` towards the node responsible for `key`.
///
/// `avoid` is a node that must not be chosen even if known: a joiner, whose
/// JOIN must reach the node that will be its successor, not the joiner itself.
/// `skip` lists addresses that already failed to acknowledge this message:
/// they are not chosen again, but do not change who is responsible.
pub fn next_hop<'a>(
    me: Id,
    key: Id,
    neighbours: &'a Neighbours,
    shortcuts: impl IntoIterator<Item = &'a ResourceLocator>,
    avoid: Option<&ResourceLocator>,
    skip: &[SocketAddrV6],
    lookahead: Option<&Digests>,
) -> NextHop {
    let member = |c: &&ResourceLocator| Some(*c) != avoid;
    let left = neighbours.chain(Side::Left).iter().find(member);
    if left.is_none_or(|left| key.in_open_closed(left.id, me)) {
        return NextHop::Local;
    }
    let usable = |c: &&ResourceLocator| member(c) && !skip.contains(&c.addr);
    if let Some(owner) = known_responsible(me, key, neighbours, member).filter(|o| usable(&o)) {
        return NextHop::Forward(owner);
    }
    let target = me.distance_to(key);
    let candidates =
        neighbours.contacts().chain(shortcuts).filter(usable).filter(|c| c.id != me && me.distance_to(c.id) <= target);
    let best = match lookahead {
        None => candidates.max_by_key(|c| me.distance_to(c.id)),
        // What is left after the candidate's best contact, then after the candidate itself.
        Some(digests) => candidates.min_by_key(|c| {
            let own = c.id.distance_to(key);
            (digests.remaining(c.id, key).map_or(own, |ahead| ahead.min(own)), own)
        }),
    };
    match best.or(neighbours.chain(Side::Right).iter().find(usable)) {
        Some(hop) => NextHop::Forward(*hop),
        None => NextHop::Local,
    }
}

/// The responsible node for `key` if a neighbour chain brackets it.
fn known_responsible(
    me: Id,
    key: Id,
    neighbours: &Neighbours,
    usable: impl Fn(&&ResourceLocator) -> bool,
) -> Option<ResourceLocator> {
    let mut previous = me;
    for c in neighbours.chain(Side::Right).iter().filter(&usable) {
        if key.in_open_closed(previous, c.id) {
            return Some(*c);
        }
        previous = c.id;
    }
    let mut later: Option<&ResourceLocator> = None;
    for c in neighbours.chain(Side::Left).iter().filter(&usable) {
        if let Some(owner) = later {
            if key.in_open_closed(c.id, owner.id) {
                return Some(*owner);
            }
        }
        later = Some(c);
    }
    None
}
