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
//!    (see [`digests`](crate::tables::digests)), the contact is instead judged by
//!    the best of its own reported contacts short of the key, then by itself;
//! 4. looking ahead, a friend that is not itself closer to the key may be
//!    chosen if it reported a contact closer than any hop that is: a
//!    *detour*. The header counts a route's detours
//!    ([`DETOUR_BITS`](crate::wire::DETOUR_BITS)); a route takes at most
//!    [`MAX_DETOURS`](crate::wire::MAX_DETOURS), and never two in a row: the
//!    node a detour reached uses the contact it was chosen for, or any hop
//!    that makes progress, first;
//! 5. with measured round-trip times ([`proximity`](crate::tables::rtts)), the
//!    nearest of the next hops that make near-equal progress (what they leave
//!    and what they cover within 1/[`PROXIMITY_SLACK`] of the best's) is
//!    chosen.
//!
//! Every forward but the few detours strictly shrinks the clockwise
//! distance to the key and never passes the responsible node, so a route
//! ends at the responsible node whatever the digests say.

use crate::id::{Id, ResourceLocator};
use crate::tables::digests::Digests;
use crate::tables::neighbours::Neighbours;
use crate::tables::rtts::Rtts;
use crate::wire::Side;
use core::net::SocketAddrV6;

/// Where a routed message goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// This node is responsible for the key.
    Local,
    /// Send it on to this contact, which is closer to the key.
    Forward(ResourceLocator),
    /// Send it on to this friend, which is not itself closer to the key but
    /// reported a contact closer than any of ours: a detour.
    Detour(ResourceLocator),
}

impl NextHop {
    /// The contact to send to, and whether that hop is the detour.
    pub fn step(self) -> Option<(ResourceLocator, bool)> {
        match self {
            NextHop::Local => None,
            NextHop::Forward(hop) => Some((hop, false)),
            NextHop::Detour(hop) => Some((hop, true)),
        }
    }
}

/// What a node knows beyond its own contacts when it chooses a next hop.
/// The default guides nothing: the paper's plain greedy routing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Guides<'a> {
    /// Friends' digests of their contacts, to look one hop ahead.
    pub digests: Option<&'a Digests>,
    /// The message may take a detour here (needs `digests`).
    pub may_detour: bool,
    /// Measured round-trip times, to prefer the nearest of next hops that
    /// make near-equal progress.
    pub rtts: Option<&'a Rtts>,
}

/// The next hop from `me` towards the node responsible for `key`.
///
/// `avoid` is a node that must not be chosen even if known: a joiner, whose
/// JOIN must reach the node that will be its successor, not the joiner itself.
/// `skip` lists addresses that already failed to acknowledge this message:
/// they are not chosen again, but do not change who is responsible.
pub fn next_hop<'a, S>(
    me: Id,
    key: Id,
    neighbours: &'a Neighbours,
    shortcuts: S,
    avoid: Option<&ResourceLocator>,
    skip: &[SocketAddrV6],
    guides: &Guides<'_>,
) -> NextHop
where
    S: IntoIterator<Item = &'a ResourceLocator>,
    S::IntoIter: Clone,
{
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
    let scored = neighbours.contacts().chain(shortcuts).filter(usable).filter(|c| c.id != me).filter_map(|c| {
        let own = c.id.distance_to(key);
        let ahead = guides.digests.and_then(|d| d.remaining(c.id, key));
        if me.distance_to(c.id) <= target {
            Some(Candidate { hop: *c, score: ahead.map_or(own, |a| a.min(own)), own, detour: false })
        } else {
            // Past the key from here: worth only what it reported (friends report digests).
            ahead.filter(|_| guides.may_detour).map(|score| Candidate { hop: *c, score, own, detour: true })
        }
    });
    // One pass for the best hop that makes progress and the best detour.
    let (progress, detour) = scored.clone().fold((None, None), |(progress, detour), c| {
        let better = |best: Option<Candidate>| best.filter(|b| b.rank() <= c.rank()).unwrap_or(c);
        if c.detour {
            (progress, Some(better(detour)))
        } else {
            (Some(better(progress)), detour)
        }
    });
    // A detour must beat every hop that makes progress by itself.
    let beats = |c: &Candidate| !c.detour || progress.is_none_or(|p| c.score < p.score);
    let best = detour.filter(beats).or(progress);
    let chosen = match (guides.rtts, best) {
        (Some(rtts), Some(best)) => {
            let near = |c: &Candidate| beats(c) && near_equal(target, best.score, c.score);
            scored.filter(near).min_by_key(|c| (rtts.get(c.hop.addr).unwrap_or(u32::MAX), c.rank()))
        }
        _ => best,
    };
    match chosen {
        Some(Candidate { hop, detour: true, .. }) => NextHop::Detour(hop),
        Some(Candidate { hop, .. }) => NextHop::Forward(hop),
        None => neighbours.chain(Side::Right).iter().find(usable).map_or(NextHop::Local, |hop| NextHop::Forward(*hop)),
    }
}

/// Next hops make near-equal progress if both what they leave and the way
/// they cover are within `1 / PROXIMITY_SLACK` of the best one's; among them
/// the nearest is chosen.
pub const PROXIMITY_SLACK: u128 = 8;

/// True if a hop leaving `score` of the clockwise distance `target` makes
/// progress near-equal to the best hop's, which leaves `best`: far from the
/// key a long jump is not traded for a short one, and near it a neighbour
/// is not traded for one twice as far behind.
fn near_equal(target: u128, best: u128, score: u128) -> bool {
    let (covered, best_covered) = (target.saturating_sub(score), target.saturating_sub(best));
    score <= best.saturating_add(best / PROXIMITY_SLACK)
        && covered >= best_covered.saturating_sub(best_covered / PROXIMITY_SLACK)
}

/// A contact considered as the next hop.
#[derive(Clone, Copy)]
struct Candidate {
    hop: ResourceLocator,
    /// Clockwise distance left to the key after the hop (and, looking ahead,
    /// after the hop's best reported contact).
    score: u128,
    /// Clockwise distance from the hop itself to the key.
    own: u128,
    /// The hop is not itself closer to the key than this node.
    detour: bool,
}

impl Candidate {
    /// Order of preference: least left after looking ahead, then after the hop itself.
    fn rank(&self) -> (u128, u128) {
        (self.score, self.own)
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
