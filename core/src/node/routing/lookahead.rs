//! Looking one hop ahead: friends tell each other their contacts (see
//! [`Digests`](crate::tables::digests::Digests) for what is kept and how
//! routing uses it). A node sends each friend, in turn, a FRIEND_DIGEST of
//! its own contacts, and keeps the digests its friends send it.

use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::timers::Timer;
use crate::time::Instant;
use crate::wire::{Header, MAX_DIGEST_IDS};
use core::net::SocketAddrV6;

impl Node {
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

    /// Sends our digest to the next friend in turn, and schedules the next
    /// one so each friend hears from us once per `digest_interval`.
    pub(crate) fn send_digests(&mut self, now: Instant) {
        if !self.config.lookahead {
            return;
        }
        let count = self.liveness.friends.len();
        if count > 0 {
            self.lookahead.digest_turn = (self.lookahead.digest_turn + 1) % count;
            if let Some(friend) = self.liveness.friends.entries().get(self.lookahead.digest_turn).map(|f| f.locator) {
                self.send(Outgoing::FriendDigest { to: friend.addr });
            }
        }
        let spacing = self.config.digest_interval / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        let at = Some(now + self.jittered(spacing));
        self.timers.set(Timer::Digest, at);
    }

    /// A friend's digest: kept if it comes from the address we know for that friend.
    pub(crate) fn handle_friend_digest(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        ids: &[Id],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        if self.liveness.friends.get(sender.id) != Some(&sender) {
            return Err(DropReason::NotAFriend);
        }
        if self.config.lookahead {
            self.lookahead.digests.replace(sender.id, ids);
        }
        Ok(())
    }
}
