//! Greedy routing over friends, neighbours and backups.
//!
//! A routed message (JOIN, LOOKUP, SEARCH, STORE) travels towards the node
//! responsible for its key, the key's successor. How close a node is to the
//! key is measured by the node's [`RoutingRule`]: by default the paper's
//! (Figure 4: "the friend or neighbour closest to the requested resource"),
//! the *ring distance* either way round, [`Id::ring_distance`]; or Chord's,
//! the clockwise distance, [`Id::distance_to`]. Call either `d(x)` for a
//! node `x`. At each node:
//! 1. if the key falls in `(left, me]`, or the node is alone, it is responsible;
//! 2. if the key falls between two consecutive nodes of a neighbour chain,
//!    the later of the two is responsible: deliver straight to it. So the
//!    node just before the key hands over to its right neighbour, and under
//!    either-way routing a node just past it hands back to its left;
//! 3. otherwise forward to the contact (friend, neighbour or backup) with
//!    the least `d`, if it is strictly less than the node's own. Clockwise
//!    that is a contact in `(me, key]`, the one furthest clockwise: Chord's
//!    "closest preceding node", with friends as fingers. Looking ahead (see
//!    [`digests`](crate::tables::digests)), the contact is instead judged by
//!    the best of its own reported contacts ([`Digests::nearest`] either
//!    way, [`Digests::remaining`] clockwise), then by itself. Either way,
//!    candidates are ranked with a contact short of the key charged
//!    [`SHORT_OF_KEY_GAPS`] typical gaps between nodes: the key's
//!    successor is responsible, so landing just short of the key costs a
//!    hop that landing just past it may not. A chain node with a nearer node
//!    of its chain among the candidates counts as itself, whatever it
//!    reported: a lying neighbour cannot slow a walk along the chain;
//! 4. looking ahead, a contact that is not itself closer to the key may be
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
//! Why every route ends at the responsible node, whatever the digests say,
//! on a ring whose chains hold each node's true neighbours:
//! - every hop of rule 3 strictly decreases `d`, so between two detours a
//!   route visits no node twice and, on a finite ring, reaches a node with
//!   no contact closer than itself, or one where rule 1 or 2 applies; there
//!   are at most [`MAX_DETOURS`](crate::wire::MAX_DETOURS) detours;
//! - at a node with no closer contact the key is bracketed by a chain.
//!   Clockwise: the right neighbour `r` is not in `(me, key]`, else it
//!   would be closer, so the key is in `(me, r]` (rule 2). Either way, if
//!   the key is at most half the ring clockwise ahead, a right neighbour
//!   short of the key would be closer (its clockwise distance is smaller
//!   and bounds its ring distance), so again the key is in `(me, r]`; if it
//!   is behind, a left neighbour `l` after the key would be closer the
//!   other way round, so the key is in `(l, me]` (rule 1);
//! - rule 2 hands the message to the key's successor, where rule 1 holds.
//!
//! So the responsible node stays the successor under both rules: a route
//! that closes in from past the key ends with a step back to the left.

use crate::capacity::{Cap, Capacity};
use crate::config::RoutingRule;
use crate::id::{Id, ResourceLocator};
use crate::tables::digests::{Digests, DIGEST_KEEP, DIGEST_OWNERS};
use crate::tables::neighbours::Neighbours;
use crate::tables::rtts::{Rtts, RTT_SLOTS};
use crate::wire::Side;
use core::net::SocketAddrV6;

/// Where a routed message goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// This node is responsible for the key.
    Local,
    /// Send it on to this contact, which is closer to the key.
    Forward(ResourceLocator),
    /// Send it on to this contact, which is not itself closer to the key but
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

/// How a node chooses a next hop beyond its own contacts: the rule that
/// measures closeness, and what else it knows. The default guides nothing
/// beyond the rule: the paper's plain greedy routing, either way round.
///
/// The tables' capacities are those of the node's [`Profile`](crate::profile::Profile).
#[derive(Clone, Copy, Debug, Default)]
pub struct Guides<'a, O: Capacity = Cap<DIGEST_OWNERS>, K: Capacity = Cap<DIGEST_KEEP>, R: Capacity = Cap<RTT_SLOTS>> {
    /// Which distance to the key each hop must shrink.
    pub rule: RoutingRule,
    /// Friends' and neighbours' digests of their contacts, to look one hop ahead.
    pub digests: Option<&'a Digests<O, K>>,
    /// The message may take a detour here (needs `digests`).
    pub may_detour: bool,
    /// Measured round-trip times, to prefer the nearest of next hops that
    /// make near-equal progress.
    pub rtts: Option<&'a Rtts<R>>,
}

impl<O: Capacity, K: Capacity, R: Capacity> Guides<'_, O, K, R> {
    /// How close `via`'s best reported contact gets to `key` by the rule,
    /// if `via` sent a digest that reports one.
    fn ahead(&self, via: Id, key: Id, landing: &Landing) -> Option<u128> {
        let digests = self.digests?;
        match self.rule {
            RoutingRule::EitherWay => digests.nearest(via, key, |x, d| landing.charge(x, key, d)),
            RoutingRule::Clockwise => digests.remaining(via, key),
        }
    }
}

/// The next hop from `me` towards the node responsible for `key`.
///
/// `avoid` is a node that must not be chosen even if known: a joiner, whose
/// JOIN must reach the node that will be its successor, not the joiner itself.
/// `skip` lists addresses that already failed to acknowledge this message:
/// they are not chosen again, but do not change who is responsible.
pub fn next_hop<'a, S, O: Capacity, K: Capacity, R: Capacity>(
    me: Id,
    key: Id,
    neighbours: &'a Neighbours,
    shortcuts: S,
    avoid: Option<&ResourceLocator>,
    skip: &[SocketAddrV6],
    guides: &Guides<'_, O, K, R>,
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
    let target = guides.rule.distance(me, key);
    let landing = Landing::new(guides.rule, me, neighbours);
    let charged_target = landing.charge(me, key, target);
    // The least distance a usable node of each chain leaves.
    let nearest_in =
        |side: Side| neighbours.chain(side).iter().filter(usable).map(|c| guides.rule.distance(c.id, key)).min();
    let chain_best = [nearest_in(Side::Left), nearest_in(Side::Right)];
    let scored = neighbours.contacts().chain(shortcuts).filter(usable).filter(|c| c.id != me).filter_map(|c| {
        let distance = guides.rule.distance(c.id, key);
        let own = landing.charge(c.id, key, distance);
        let ahead = guides.ahead(c.id, key, &landing);
        if distance < target {
            // A chain node behind a nearer one of its chain moves on by what
            // it is, not by what it reports: a lying neighbour cannot slow a
            // walk along the chain below one chain's length per hop.
            let inner = [Side::Left, Side::Right]
                .into_iter()
                .zip(chain_best)
                .any(|(side, best)| neighbours.chain(side).contains(c) && best.is_some_and(|b| b < distance));
            let ahead = ahead.filter(|_| !inner);
            Some(Candidate { hop: *c, score: ahead.map_or(own, |a| a.min(own)), own, detour: false })
        } else {
            // No closer than this node: worth only what it reported (friends and neighbours report digests).
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
            let near = |c: &Candidate| beats(c) && near_equal(charged_target, best.score, c.score);
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

/// True if a hop leaving `score` of the distance `target` (by the rule) makes
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
    /// Distance (by the rule, as [`Landing`] charges it) left to the key
    /// after the hop (and, looking ahead, after the hop's best reported contact).
    score: u128,
    /// Distance (by the rule, as charged) from the hop itself to the key.
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

/// What a contact's position is worth once a route gets there, either way
/// round the ring. The key's successor is responsible, so a route that
/// lands just short of the key still takes a hop, and one that lands just
/// past it may be done: a contact short of the key (or a reported contact
/// of it) counts as [`SHORT_OF_KEY_GAPS`] typical gaps further away than it
/// is. The typical gap is the mean gap between the nodes of this node's
/// shorter chain (by ID span).
/// Only the order of candidates that make progress changes, so every route
/// still ends at the responsible node.
struct Landing {
    /// What landing short of the key adds to a distance.
    short_of_key: u128,
}

/// How many typical gaps between nodes landing short of the key counts for.
pub const SHORT_OF_KEY_GAPS: u128 = 2;

impl Landing {
    /// The charge under `rule` for node `me` with these neighbours: none
    /// clockwise, where every contact considered is short of the key.
    fn new(rule: RoutingRule, me: Id, neighbours: &Neighbours) -> Landing {
        let (left, right) = (neighbours.chain(Side::Left), neighbours.chain(Side::Right));
        let gap = match (rule, left.last(), right.last()) {
            // The smaller side's mean: one long empty arc beside a node does not count.
            (RoutingRule::EitherWay, Some(l), Some(r)) => {
                (l.id.distance_to(me) / left.len() as u128).min(me.distance_to(r.id) / right.len() as u128)
            }
            _ => 0,
        };
        Landing { short_of_key: gap.saturating_mul(SHORT_OF_KEY_GAPS) }
    }

    /// `distance`, the rule's distance from `x` to `key`, as charged.
    fn charge(&self, x: Id, key: Id, distance: u128) -> u128 {
        if x.distance_to(key) < key.distance_to(x) {
            distance.saturating_add(self.short_of_key)
        } else {
            distance
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::neighbours::tests::{loc, node};

    fn hop(me: u128, key: u128, neighbours: &Neighbours, friends: &[u128], rule: RoutingRule) -> NextHop {
        let friends: std::vec::Vec<ResourceLocator> = friends.iter().map(|&f| loc(f)).collect();
        let guides: Guides = Guides { rule, ..Guides::default() };
        next_hop(Id(me), Id(key), neighbours, &friends, None, &[], &guides)
    }

    #[test]
    fn either_way_a_friend_just_past_the_key_is_used() {
        let ring = node(&[5], &[20]);
        // Towards 50 from 10: friend 52 is 2 away, past the key; 45 is 5 short of it.
        assert_eq!(hop(10, 50, &ring, &[45, 52], RoutingRule::EitherWay), NextHop::Forward(loc(52)));
        // Key 0 lies 60 behind 60: friend 3, just past it, is 3 away.
        assert_eq!(hop(60, 0, &node(&[55], &[70]), &[3], RoutingRule::EitherWay), NextHop::Forward(loc(3)));
        // Clockwise, only contacts short of the key count: 45, else the right neighbour 20.
        assert_eq!(hop(10, 50, &ring, &[45, 52], RoutingRule::Clockwise), NextHop::Forward(loc(45)));
        assert_eq!(hop(10, 50, &ring, &[52], RoutingRule::Clockwise), NextHop::Forward(loc(20)));
    }

    #[test]
    fn the_node_just_past_the_key_hands_back_to_its_left_neighbour() {
        // Nodes 45, 52, 55, 60: 52 is responsible for 50.
        let past = node(&[52, 45], &[60]);
        assert_eq!(hop(55, 50, &past, &[], RoutingRule::EitherWay), NextHop::Forward(loc(52)), "the chain brackets 50");
        // Without a backup to bracket it: 52 is the closest contact, and responsible.
        assert_eq!(hop(55, 50, &node(&[52], &[60]), &[], RoutingRule::EitherWay), NextHop::Forward(loc(52)));
        assert_eq!(hop(52, 50, &node(&[45], &[55]), &[], RoutingRule::EitherWay), NextHop::Local);
        // The node just before the key hands over to its right neighbour, by either rule.
        for rule in [RoutingRule::EitherWay, RoutingRule::Clockwise] {
            assert_eq!(hop(45, 50, &node(&[40], &[52]), &[55], rule), NextHop::Forward(loc(52)));
        }
    }

    #[test]
    fn either_way_the_key_s_successor_is_preferred_to_the_node_short_of_it() {
        // Neighbours 5 and 20: a typical gap of 7 (rounded down), so a
        // contact short of the key counts 14 further. Key 50: 48 is 2
        // short, 53 is 3 past.
        let ring = node(&[5], &[20]);
        assert_eq!(hop(10, 50, &ring, &[48, 53], RoutingRule::EitherWay), NextHop::Forward(loc(53)));
        // Short of the key still wins by more than the charge: 6 + 14 against 22.
        assert_eq!(hop(10, 50, &ring, &[44, 72], RoutingRule::EitherWay), NextHop::Forward(loc(44)));
        // Clockwise nothing is charged: 48, the furthest short of the key.
        assert_eq!(hop(10, 50, &ring, &[48, 53], RoutingRule::Clockwise), NextHop::Forward(loc(48)));
    }

    #[test]
    fn a_nearer_chain_node_cannot_draw_a_walk_by_its_digest() {
        // Digests keep the top 32 bits of IDs: node n has ID n << 96.
        let n = |n: u128| n << 96;
        // Towards 90 along the right chain 20, 30: 20 claims a contact at the
        // key, but 30 is nearer and in the same chain, so 20 counts as itself.
        let ring = node(&[n(5)], &[n(20), n(30)]);
        let mut digests: Digests = Digests::default();
        digests.replace(Id(n(20)), &[Id(n(90))]);
        for rule in [RoutingRule::EitherWay, RoutingRule::Clockwise] {
            let guides: Guides = Guides { rule, digests: Some(&digests), ..Guides::default() };
            let hop = next_hop(Id(n(10)), Id(n(90)), &ring, &[], None, &[], &guides);
            assert_eq!(hop, NextHop::Forward(loc(n(30))), "{rule:?}");
            // A friend's report still counts: friend 50 reported the key, 60 did not.
            let mut digests = digests.clone();
            digests.replace(Id(n(50)), &[Id(n(90))]);
            let guides = Guides { digests: Some(&digests), ..guides };
            let hop = next_hop(Id(n(10)), Id(n(90)), &ring, &[loc(n(50)), loc(n(60))], None, &[], &guides);
            assert_eq!(hop, NextHop::Forward(loc(n(50))), "{rule:?}");
        }
    }

    #[test]
    fn clockwise_goes_on_round_the_ring() {
        // Past the key, clockwise routing never steps back: on round from 55 to
        // its furthest contact short of 50 (friend 30), or its right neighbour.
        let past = node(&[52], &[60]);
        assert_eq!(hop(55, 50, &past, &[30], RoutingRule::Clockwise), NextHop::Forward(loc(30)));
        assert_eq!(hop(55, 50, &past, &[], RoutingRule::Clockwise), NextHop::Forward(loc(60)));
        // Clockwise, 30 is nearly a whole turn from 55; either way, 25 back.
        assert_eq!(RoutingRule::Clockwise.distance(Id(55), Id(30)), u128::MAX - 24);
        assert_eq!(RoutingRule::EitherWay.distance(Id(55), Id(30)), 25);
    }
}
