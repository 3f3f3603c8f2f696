//! Looking one hop ahead: friends and neighbours tell each other their contacts.
//!
//! Every node sends each friend and each node of its neighbour chains, in
//! turn, a FRIEND_DIGEST: the IDs of its own contacts (friends, neighbours,
//! backups), at most [`crate::wire::MAX_DIGEST_IDS`]. A node keeps up to
//! [`DIGEST_KEEP`] of each sender's IDs (their top 32 bits), so its state
//! stays constant: at most ([`MAX_FRIENDS`] + the chains) × [`DIGEST_KEEP`]
//! IDs. When routing, a contact is worth what its best contact towards the
//! key is worth: the node
//! forwards to the contact whose own contacts get closest to the key — by
//! ring distance either way ([`Digests::nearest`]), or clockwise without
//! passing the key ([`Digests::remaining`]), as the
//! [`RoutingRule`](crate::config::RoutingRule) says (see
//! [`routing`](crate::routing)). Digests choose among next hops that make
//! progress, plus at most three detours per route, so a stale or false
//! digest can cost hops, never correctness.

use crate::capacity::{Cap, Capacity, Table};
use crate::config::MAX_FRIENDS;
use crate::id::Id;

/// Most of one friend's contact IDs a node keeps.
pub const DIGEST_KEEP: usize = crate::wire::MAX_DIGEST_IDS;

/// Most digests a node keeps: one per friend and per chain node.
pub const DIGEST_OWNERS: usize = MAX_FRIENDS + 2 * crate::wire::MAX_CHAIN;

/// What each friend and neighbour told us of its contacts: per sender
/// (`O::MAX` senders, by default [`DIGEST_OWNERS`]), up to `K::MAX` IDs (by
/// default [`DIGEST_KEEP`]), kept as their top 32 bits (enough to order the
/// nodes of rings far larger than 10⁶).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests<O: Capacity = Cap<DIGEST_OWNERS>, K: Capacity = Cap<DIGEST_KEEP>> {
    owners: Table<Digest<K>, O>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Digest<K: Capacity> {
    owner: Id,
    ids: Table<u32, K>,
}

impl<O: Capacity, K: Capacity> Digests<O, K> {
    /// Keeps `ids` as `owner`'s contacts, replacing what it said before;
    /// beyond `K::MAX`, an evenly spread selection.
    pub fn replace(&mut self, owner: Id, ids: &[Id]) {
        let kept: Table<u32, K> = if ids.len() <= K::MAX {
            ids.iter().map(|id| prefix(*id)).collect()
        } else {
            (0..K::MAX).map(|i| prefix(ids[i * ids.len() / K::MAX])).collect()
        };
        match self.owners.iter_mut().find(|d| d.owner == owner) {
            Some(digest) => digest.ids = kept,
            None => {
                // One digest per friend or chain node: the table cannot be
                // fuller than the friends table and the chains together.
                let _ = self.owners.push(Digest { owner, ids: kept });
            }
        }
    }

    /// Forgets what every owner for which `keep` is false said.
    pub fn retain(&mut self, mut keep: impl FnMut(Id) -> bool) {
        self.owners.retain(|d| keep(d.owner));
    }

    /// The contacts `via` reported, as IDs (their low 96 bits zero).
    pub fn of(&self, via: Id) -> impl Iterator<Item = Id> + '_ {
        // One digest per sender: the first match is the only one.
        self.owners
            .iter()
            .find(|d| d.owner == via)
            .into_iter()
            .flat_map(|d| d.ids.iter().map(|&p| Id(u128::from(p) << 96)))
    }

    /// How close `via`'s best contact gets to `key` going clockwise from
    /// `via` without passing it: the clockwise distance left, if `via`
    /// reported any contact in `(via, key]`.
    pub fn remaining(&self, via: Id, key: Id) -> Option<u128> {
        let reach = via.distance_to(key);
        self.of(via).filter(|x| *x != via && via.distance_to(*x) <= reach).map(|x| x.distance_to(key)).min()
    }

    /// How close `via`'s best contact gets to `key` in either direction:
    /// the least ring distance ([`Id::ring_distance`]) from a contact `via`
    /// reported to `key`, as `charge` (given the contact and its distance)
    /// counts it, if it reported any. A kept prefix stands for every ID
    /// that starts with it, and counts as the one of them farthest from the
    /// key (as [`remaining`](Digests::remaining) reads a prefix as its
    /// lowest ID, the farthest short of the key), so that a report of a
    /// contact never looks closer than the contact itself.
    pub fn nearest(&self, via: Id, key: Id, charge: impl Fn(Id, u128) -> u128) -> Option<u128> {
        let farthest = |x: Id| charge(x, x.ring_distance(key).max(Id(x.0 | DROPPED).ring_distance(key)));
        self.of(via).filter(|x| *x != via).map(farthest).min()
    }

    /// How many senders' digests are kept.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// True if no friend or neighbour has sent a digest.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }
}

/// The low bits of an ID that a digest drops.
const DROPPED: u128 = (1 << 96) - 1;

/// The top 32 bits of an ID.
fn prefix(id: Id) -> u32 {
    (id.0 >> 96) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_keeps_an_even_spread_and_replaces_the_last() {
        let mut digests: Digests = Digests::default();
        let many: std::vec::Vec<Id> = (0..100u128).map(|i| Id(i << 120)).collect();
        digests.replace(Id(7), &many);
        let kept: std::vec::Vec<Id> = digests.of(Id(7)).collect();
        assert_eq!(kept.len(), DIGEST_KEEP);
        assert_eq!(kept[1], many[100 / DIGEST_KEEP], "an even spread");
        digests.replace(Id(7), &[Id(5 << 96)]);
        assert_eq!(digests.of(Id(7)).collect::<std::vec::Vec<_>>(), [Id(5 << 96)]);
        assert_eq!(digests.len(), 1);
        digests.retain(|owner| owner != Id(7));
        assert!(digests.is_empty());
    }

    #[test]
    fn remaining_is_the_best_contact_short_of_the_key() {
        let mut digests: Digests = Digests::default();
        let via = Id(10 << 96);
        digests.replace(via, &[Id(20 << 96), Id(40 << 96), Id(60 << 96), Id(5 << 96)]);
        // Key at 50: the contact at 40 is closest without passing; 60 passes it; 5 is behind via.
        assert_eq!(digests.remaining(via, Id(50 << 96)), Some(10 << 96));
        assert_eq!(digests.remaining(via, Id(15 << 96)), None, "nothing between via and the key");
        assert_eq!(digests.remaining(Id(11), Id(50 << 96)), None, "no digest from that friend");
    }

    #[test]
    fn nearest_is_the_best_contact_either_side_of_the_key() {
        let as_is = |_: Id, d: u128| d;
        let mut digests: Digests = Digests::default();
        let via = Id(10 << 96);
        digests.replace(via, &[Id(20 << 96), Id(40 << 96), Id(53 << 96), Id(5 << 96)]);
        // A prefix past the key counts as its highest ID.
        let past = |n: u128| Some((n << 96) + DROPPED);
        // Key at 50: 53, past it, is nearer than 40 short of it.
        assert_eq!(digests.nearest(via, Id(50 << 96), as_is), past(3));
        // Key at 42: 40, short of it, counts as its lowest ID.
        assert_eq!(digests.nearest(via, Id(42 << 96), as_is), Some(2 << 96));
        // Key at 15: 20 ahead of via, nothing clockwise short of the key.
        assert_eq!(digests.nearest(via, Id(15 << 96), as_is), past(5));
        // Key at 3, behind via: 5 is two away, the shorter way back.
        assert_eq!(digests.nearest(via, Id(3 << 96), as_is), past(2));
        // A contact never looks closer reported than it is: 53's own ID.
        let contact = Id((53 << 96) + 12345);
        digests.replace(via, &[contact]);
        assert!(digests.nearest(via, Id(50 << 96), as_is) >= Some(contact.ring_distance(Id(50 << 96))));
        assert_eq!(digests.nearest(Id(11), Id(50 << 96), as_is), None, "no digest from that friend");
        // The charge decides: 40 short of 42 charged ten, 53 past it as is.
        digests.replace(via, &[Id(40 << 96), Id(53 << 96)]);
        let short_of_key = |x: Id, d: u128| if x < Id(42 << 96) { d + (10 << 96) } else { d };
        assert_eq!(digests.nearest(via, Id(42 << 96), short_of_key), past(11));
    }
}
