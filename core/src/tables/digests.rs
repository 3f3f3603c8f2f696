//! Looking one hop ahead: friends tell each other their contacts.
//!
//! Every node sends each friend, in turn, a FRIEND_DIGEST: the IDs of its own
//! contacts (friends, neighbours, backups), at most
//! [`crate::wire::MAX_DIGEST_IDS`]. A node keeps up to
//! [`DIGEST_KEEP`] of each friend's IDs (their top 32 bits), so its state
//! stays constant: at most friends × [`DIGEST_KEEP`] IDs. When routing, a
//! friend is worth what its best contact towards the key is worth: the node
//! forwards to the contact whose own contacts get closest to the key without
//! passing it (see [`routing`](crate::routing)). Digests choose among next
//! hops that make progress, plus at most three detours per route, so a stale
//! or false digest can cost hops, never correctness.

use crate::config::MAX_FRIENDS;
use crate::id::Id;

/// Most of one friend's contact IDs a node keeps.
pub const DIGEST_KEEP: usize = crate::wire::MAX_DIGEST_IDS;

/// What each friend told us of its contacts: per friend, up to
/// [`DIGEST_KEEP`] IDs, kept as their top 32 bits (enough to order the
/// nodes of rings far larger than 10⁶).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    owners: heapless::Vec<Digest, MAX_FRIENDS>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Digest {
    owner: Id,
    ids: heapless::Vec<u32, DIGEST_KEEP>,
}

impl Default for Digests {
    fn default() -> Digests {
        Digests { owners: heapless::Vec::new() }
    }
}

impl Digests {
    /// Keeps `ids` as `owner`'s contacts, replacing what it said before;
    /// beyond [`DIGEST_KEEP`], an evenly spread selection.
    pub fn replace(&mut self, owner: Id, ids: &[Id]) {
        let kept: heapless::Vec<u32, DIGEST_KEEP> = if ids.len() <= DIGEST_KEEP {
            ids.iter().map(|id| prefix(*id)).collect()
        } else {
            (0..DIGEST_KEEP).map(|i| prefix(ids[i * ids.len() / DIGEST_KEEP])).collect()
        };
        match self.owners.iter_mut().find(|d| d.owner == owner) {
            Some(digest) => digest.ids = kept,
            None => {
                // One digest per friend: the table cannot be fuller than the friends table.
                let _ = self.owners.push(Digest { owner, ids: kept });
            }
        }
    }

    /// Forgets what `owner` said.
    pub fn forget(&mut self, owner: Id) {
        self.owners.retain(|d| d.owner != owner);
    }

    /// The contacts `via` reported, as IDs (their low 96 bits zero).
    pub fn of(&self, via: Id) -> impl Iterator<Item = Id> + '_ {
        // One digest per friend: the first match is the only one.
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

    /// How many friends' digests are kept.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// True if no friend has sent a digest.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }
}

/// The top 32 bits of an ID.
fn prefix(id: Id) -> u32 {
    (id.0 >> 96) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_keeps_an_even_spread_and_replaces_the_last() {
        let mut digests = Digests::default();
        let many: std::vec::Vec<Id> = (0..100u128).map(|i| Id(i << 120)).collect();
        digests.replace(Id(7), &many);
        let kept: std::vec::Vec<Id> = digests.of(Id(7)).collect();
        assert_eq!(kept.len(), DIGEST_KEEP);
        assert_eq!(kept[1], many[100 / DIGEST_KEEP], "an even spread");
        digests.replace(Id(7), &[Id(5 << 96)]);
        assert_eq!(digests.of(Id(7)).collect::<std::vec::Vec<_>>(), [Id(5 << 96)]);
        assert_eq!(digests.len(), 1);
        digests.forget(Id(7));
        assert!(digests.is_empty());
    }

    #[test]
    fn remaining_is_the_best_contact_short_of_the_key() {
        let mut digests = Digests::default();
        let via = Id(10 << 96);
        digests.replace(via, &[Id(20 << 96), Id(40 << 96), Id(60 << 96), Id(5 << 96)]);
        // Key at 50: the contact at 40 is closest without passing; 60 passes it; 5 is behind via.
        assert_eq!(digests.remaining(via, Id(50 << 96)), Some(10 << 96));
        assert_eq!(digests.remaining(via, Id(15 << 96)), None, "nothing between via and the key");
        assert_eq!(digests.remaining(Id(11), Id(50 << 96)), None, "no digest from that friend");
    }
}
