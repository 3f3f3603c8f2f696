//! The ring: each node's left and right neighbour chains and the rules that
//! keep them right.
//!
//! A *chain* is a neighbour followed by its backups outward (the paper's
//! "backup branches"), at most `1 + backups` long and never containing the
//! node itself. Chains change only through:
//! - a JOIN this node is responsible for (the joiner becomes the left neighbour; see `join`),
//! - a JOIN_REPLY matching our own JOIN (see `join`),
//! - a NEIGHBOUR_UPDATE or LEAVE from the current neighbour on that side
//!   ([`Neighbours::accept_update`], `leave`),
//! - a STABILISE_REPLY answering our own probe (see `stabilise`),
//! - a contact declared dead after its probes went unanswered (see `liveness`).
//!
//! Whenever a chain changes, the node tells the nodes that derive their chains
//! from it (`ChainChange`): its opposite neighbour gets the new chain, and a
//! new neighbour gets the chain of the other side.

use crate::id::{Id, ResourceLocator};
use crate::wire::{Chain, Side};

/// A node's view of the ring around it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbours {
    left: Chain,
    right: Chain,
}

/// Why a NEIGHBOUR_UPDATE was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateRefused {
    /// The sender is not our current neighbour on that side.
    NotOurNeighbour,
    /// The announced new neighbour does not sit between us and the sender,
    /// or the sender does not appear in its own chain.
    Implausible,
}

/// What a chain change obliges the node to announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChainChange {
    /// The side whose chain changed.
    pub side: Side,
    /// The neighbour on that side before the change.
    pub old_neighbour: Option<ResourceLocator>,
    /// The neighbour on that side after the change.
    pub new_neighbour: Option<ResourceLocator>,
}

impl Neighbours {
    /// Chains given outright, for simulations and tests of routing. Each
    /// chain must run outward from the node (neighbour first) and must not
    /// contain the node itself; the protocol keeps that true for chains it
    /// builds.
    pub fn from_chains(left: Chain, right: Chain) -> Neighbours {
        Neighbours { left, right }
    }

    /// The chain on `side`, neighbour first.
    pub fn chain(&self, side: Side) -> &[ResourceLocator] {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// The neighbour on `side`, if the node is not alone.
    pub fn neighbour(&self, side: Side) -> Option<&ResourceLocator> {
        self.chain(side).first()
    }

    /// The left neighbour (predecessor).
    pub fn left(&self) -> Option<&ResourceLocator> {
        self.neighbour(Side::Left)
    }

    /// The right neighbour (successor).
    pub fn right(&self) -> Option<&ResourceLocator> {
        self.neighbour(Side::Right)
    }

    /// True while the node knows no other node: a ring of one.
    pub fn is_alone(&self) -> bool {
        self.left.is_empty() && self.right.is_empty()
    }

    /// Every neighbour and backup, left chain first (a node may appear twice in small rings).
    pub fn contacts(&self) -> impl Iterator<Item = &ResourceLocator> + Clone {
        self.left.iter().chain(self.right.iter())
    }

    /// The contact with `id`, if any.
    pub fn find(&self, id: Id) -> Option<&ResourceLocator> {
        self.contacts().find(|c| c.id == id)
    }

    /// True if this node (`me`) is responsible for `key`: `key` ∈ (left, me].
    pub fn is_responsible(&self, me: Id, key: Id) -> bool {
        match self.left() {
            None => true,
            Some(left) => key.in_open_closed(left.id, me),
        }
    }

    /// Replaces the chain on `side`, returning what changed (`None` if nothing).
    pub(crate) fn replace(&mut self, side: Side, chain: Chain) -> Option<ChainChange> {
        let slot = match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        };
        if *slot == chain {
            return None;
        }
        let old_neighbour = slot.first().copied();
        *slot = chain;
        Some(ChainChange { side, old_neighbour, new_neighbour: slot.first().copied() })
    }

    /// The chain to tell `peer`, which sits in our chain on `receiver_side.opposite()`
    /// and will take what we send as its chain on `receiver_side`:
    /// the nodes between it and us, then us, then our chain on `receiver_side`.
    ///
    /// `None` if `peer` is no longer in our chain (the announcement is stale).
    pub(crate) fn chain_for(&self, me: &ResourceLocator, peer: Id, receiver_side: Side) -> Option<Chain> {
        let toward = self.chain(receiver_side.opposite());
        let index = toward.iter().position(|c| c.id == peer)?;
        let between = toward[..index].iter().rev();
        Some(
            between
                .chain(core::iter::once(me))
                .chain(self.chain(receiver_side))
                .copied()
                .take(crate::wire::MAX_CHAIN)
                .collect(),
        )
    }

    /// Checks a NEIGHBOUR_UPDATE from `sender` about our chain on `side` and
    /// returns the chain to adopt.
    pub fn accept_update(
        &self,
        me: Id,
        sender: &ResourceLocator,
        side: Side,
        chain: &[ResourceLocator],
        max_len: usize,
    ) -> Result<Chain, UpdateRefused> {
        let current = self.neighbour(side).ok_or(UpdateRefused::NotOurNeighbour)?;
        if current != sender {
            return Err(UpdateRefused::NotOurNeighbour);
        }
        let first = chain.first().ok_or(UpdateRefused::Implausible)?;
        if first.id != sender.id {
            let between = match side {
                Side::Right => first.id.in_open(me, sender.id),
                Side::Left => first.id.in_open(sender.id, me),
            };
            if !between || !chain.iter().any(|c| c == sender) {
                return Err(UpdateRefused::Implausible);
            }
        }
        Ok(cut_chain(me, side, chain.iter().copied(), max_len))
    }
}

/// Takes a chain as received: entries must move steadily away from `me` on
/// `side`; the first that does not (our own ID, a repeat, a wrap past us) ends
/// it. At most `max_len` entries are kept.
pub(crate) fn cut_chain(
    me: Id,
    side: Side,
    entries: impl IntoIterator<Item = ResourceLocator>,
    max_len: usize,
) -> Chain {
    let away = |c: &ResourceLocator| match side {
        Side::Right => me.distance_to(c.id),
        Side::Left => c.id.distance_to(me),
    };
    let mut chain = Chain::new();
    let mut last = 0u128;
    for entry in entries.into_iter().take(max_len.min(crate::wire::MAX_CHAIN)) {
        let d = away(&entry);
        if d <= last {
            break;
        }
        last = d;
        // Cannot overflow: at most MAX_CHAIN entries are taken.
        let _ = chain.push(entry);
    }
    chain
}

/// True if `x` lies strictly between `me` and `far` on `side`.
pub(crate) fn between(side: Side, me: Id, far: Id, x: Id) -> bool {
    match side {
        Side::Right => x.in_open(me, far),
        Side::Left => x.in_open(far, me),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::net::{Ipv6Addr, SocketAddrV6};

    /// A contact with ID `id` at an address derived from it.
    pub(crate) fn loc(id: u128) -> ResourceLocator {
        ResourceLocator::new(
            Id(id),
            SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, id as u16 + 1), 4000, 0, 0),
        )
    }

    fn chain(ids: &[u128]) -> Chain {
        ids.iter().map(|&i| loc(i)).collect()
    }

    /// A node's chains, neighbour first on each side.
    pub(crate) fn node(left: &[u128], right: &[u128]) -> Neighbours {
        Neighbours { left: chain(left), right: chain(right) }
    }

    #[test]
    fn cut_stops_at_self_and_at_wraps() {
        assert_eq!(cut_chain(Id(9), Side::Right, chain(&[12, 14, 0, 9, 12]), 6), chain(&[12, 14, 0]));
        assert_eq!(cut_chain(Id(9), Side::Left, chain(&[0, 14, 12, 9]), 6), chain(&[0, 14, 12]));
        assert_eq!(cut_chain(Id(9), Side::Right, chain(&[12, 14, 0]), 2), chain(&[12, 14]));
        // A chain that turns back is cut where it does.
        assert_eq!(cut_chain(Id(9), Side::Right, chain(&[12, 10, 14]), 6), chain(&[12]));
    }

    #[test]
    fn chain_for_the_old_left_neighbour_includes_the_joiner() {
        // Node 14 after node 12 joined between 9 and 14.
        let n = node(&[12, 9, 0], &[0, 9]);
        assert_eq!(n.chain_for(&loc(14), Id(9), Side::Right), Some(chain(&[12, 14, 0, 9])));
        assert_eq!(n.chain_for(&loc(14), Id(12), Side::Right), Some(chain(&[14, 0, 9])));
        assert_eq!(n.chain_for(&loc(14), Id(0), Side::Left), Some(chain(&[14, 12, 9, 0])));
        assert_eq!(n.chain_for(&loc(14), Id(5), Side::Right), None);
    }

    #[test]
    fn updates_only_from_the_current_neighbour() {
        let n = node(&[0, 14], &[14, 0]); // node 9 in the ring 0, 9, 14
        let update = chain(&[12, 14, 0, 9]);
        assert_eq!(n.accept_update(Id(9), &loc(14), Side::Right, &update, 3), Ok(chain(&[12, 14, 0])));
        assert_eq!(n.accept_update(Id(9), &loc(0), Side::Right, &update, 3), Err(UpdateRefused::NotOurNeighbour));
        // Same ID, other address: not our neighbour.
        let mut impostor = loc(14);
        impostor.addr.set_port(1);
        assert_eq!(n.accept_update(Id(9), &impostor, Side::Right, &update, 3), Err(UpdateRefused::NotOurNeighbour));
        // A "new neighbour" outside (9, 14) is implausible.
        assert_eq!(
            n.accept_update(Id(9), &loc(14), Side::Right, &chain(&[20, 14]), 3),
            Err(UpdateRefused::Implausible)
        );
        // The sender must appear in a chain that replaces it.
        assert_eq!(n.accept_update(Id(9), &loc(14), Side::Right, &chain(&[12]), 3), Err(UpdateRefused::Implausible));
        assert_eq!(
            Neighbours::default().accept_update(Id(9), &loc(14), Side::Right, &update, 3),
            Err(UpdateRefused::NotOurNeighbour)
        );
    }

    #[test]
    fn responsibility_is_left_exclusive_self_inclusive() {
        let n = node(&[9, 0], &[0, 9]); // node 14
        assert!(n.is_responsible(Id(14), Id(12)));
        assert!(n.is_responsible(Id(14), Id(14)));
        assert!(!n.is_responsible(Id(14), Id(9)));
        assert!(!n.is_responsible(Id(14), Id(15)));
        assert!(Neighbours::default().is_responsible(Id(14), Id(15)));
    }
}
