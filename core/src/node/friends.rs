//! Friends: the user's contacts, which serve as routing shortcuts and are
//! probed for liveness.

use crate::event::CommandError;
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::outbox::Outgoing;
use crate::time::Instant;

impl<P: Profile> Node<P> {
    /// Adds a friend (or updates a known friend's address); friends serve as
    /// routing shortcuts and are probed for liveness.
    pub fn add_friend(&mut self, now: Instant, friend: ResourceLocator) -> Result<(), CommandError> {
        self.now = now;
        if friend.id == self.me.id {
            return Err(CommandError::OwnLocator);
        }
        if !friend.is_usable() {
            return Err(CommandError::InvalidAddress);
        }
        let first_probe = self.now + self.jittered(self.config.friend_probe_interval);
        self.liveness.friends.insert(friend, self.now, first_probe).map_err(|_| CommandError::FriendsFull)?;
        if self.config.lookahead {
            // The new friend hears our contacts at once; the round of digests covers it from now on.
            self.send(Outgoing::FriendDigest { to: friend.addr });
        }
        self.start_digests();
        Ok(())
    }

    /// Forgets a friend; true if it was known.
    pub fn remove_friend(&mut self, now: Instant, id: Id) -> bool {
        self.now = now;
        let known = self.liveness.friends.remove(id);
        self.forget_stale_digests();
        known
    }
}
