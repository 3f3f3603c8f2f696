//! Looking one hop ahead: friends and neighbours tell each other their
//! contacts (see [`Digests`](crate::tables::digests::Digests) for what is
//! kept and how routing uses it). A node sends each of its *digest peers*
//! (its friends, then the nodes of its neighbour chains that are not
//! friends), in turn, a FRIEND_DIGEST of its own contacts, and keeps the
//! digests its digest peers send it: a neighbour's contacts cover the
//! ring around it as a friend's do.

use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::timers::Timer;
use crate::time::Instant;
use crate::wire::{Header, MAX_DIGEST_IDS};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// The contacts this node reports in its digests: friends first, then
    /// neighbours and backups, each once.
    pub(crate) fn digest_ids(&self) -> heapless::Vec<Id, MAX_DIGEST_IDS> {
        let mut ids = heapless::Vec::new();
        let contacts = self.liveness.friends.iter().chain(self.ring.neighbours.contacts());
        for contact in contacts {
            if !ids.contains(&contact.id) && ids.push(contact.id).is_err() {
                break;
            }
        }
        ids
    }

    /// The nodes we send digests to and keep digests from: friends, then
    /// the nodes of our chains that are not friends, each once.
    fn digest_peers(&self) -> impl Iterator<Item = &ResourceLocator> {
        let friends = &self.liveness.friends;
        let chains = self.ring.neighbours.contacts().enumerate();
        let first_time = move |(i, c): &(usize, &ResourceLocator)| {
            friends.get(c.id).is_none() && !self.ring.neighbours.contacts().take(*i).any(|earlier| earlier.id == c.id)
        };
        friends.iter().chain(chains.filter(first_time).map(|(_, c)| c))
    }

    /// True if `sender` is a digest peer at that address.
    fn is_digest_peer(&self, sender: &ResourceLocator) -> bool {
        self.liveness.friends.get(sender.id) == Some(sender) || self.ring.neighbours.find(sender.id) == Some(sender)
    }

    /// Sends our digest to the next digest peer in turn, and schedules the
    /// next one so each hears from us once per `digest_interval`.
    pub(crate) fn send_digests(&mut self, now: Instant) {
        if !self.config.lookahead {
            return;
        }
        let count = self.digest_peers().count();
        if count > 0 {
            self.lookahead.digest_turn = (self.lookahead.digest_turn + 1) % count;
            let peer = self.digest_peers().nth(self.lookahead.digest_turn).copied();
            if let Some(peer) = peer {
                self.send(Outgoing::FriendDigest { to: peer.addr });
            }
        }
        let spacing = self.config.digest_interval / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        let at = Some(now + self.jittered(spacing));
        self.timers.set(Timer::Digest, at);
    }

    /// Starts the round of digests if it is not running: a new friend or
    /// neighbour is covered from now on.
    pub(crate) fn start_digests(&mut self) {
        if self.config.lookahead && self.timers.get(Timer::Digest).is_none() {
            let at = Some(self.now + self.jittered(self.config.digest_interval));
            self.timers.set(Timer::Digest, at);
        }
    }

    /// Forgets the digests of nodes that are no longer digest peers.
    pub(crate) fn forget_stale_digests(&mut self) {
        let (friends, neighbours) = (&self.liveness.friends, &self.ring.neighbours);
        self.lookahead.digests.retain(|owner| friends.get(owner).is_some() || neighbours.find(owner).is_some());
    }

    /// A digest: kept if it comes from a friend or chain node at the address we know for it.
    pub(crate) fn handle_friend_digest(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        ids: &[Id],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        if !self.is_digest_peer(&sender) {
            return Err(DropReason::NotADigestPeer);
        }
        if self.config.lookahead {
            self.lookahead.digests.replace(sender.id, ids);
        }
        Ok(())
    }
}
