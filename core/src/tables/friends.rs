//! The friends table: a user's instant-messenger friends, used as routing
//! shortcuts ("fingers"), each with what the node knows of its liveness.

use crate::capacity::{Cap, Capacity, Table};
use crate::config::MAX_FRIENDS;
use crate::id::{Id, ResourceLocator};
use crate::time::Instant;
use core::net::SocketAddrV6;

/// A friend and its liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Friend {
    /// Where the friend is.
    pub locator: ResourceLocator,
    /// False once it missed enough probes; routing skips it until it answers again.
    pub alive: bool,
    /// It failed to acknowledge a routed message: routing skips it, and it is
    /// probed at once, until it is heard from again.
    pub suspect: bool,
    /// When it was last heard from.
    pub last_heard: Instant,
    /// When it is next due for a liveness probe.
    pub(crate) next_probe: Instant,
}

/// Up to `C::MAX` friends ([`MAX_FRIENDS`] by default), one per ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Friends<C: Capacity = Cap<MAX_FRIENDS>> {
    entries: Table<Friend, C>,
}

/// The friends table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FriendsFull;

impl<C: Capacity> Friends<C> {
    /// Adds a friend (alive until it fails its probes, first probed at
    /// `first_probe`) or updates the address of a known one.
    pub(crate) fn insert(
        &mut self,
        locator: ResourceLocator,
        now: Instant,
        first_probe: Instant,
    ) -> Result<(), FriendsFull> {
        if let Some(known) = self.entries.iter_mut().find(|f| f.locator.id == locator.id) {
            known.locator = locator;
            return Ok(());
        }
        let friend = Friend { locator, alive: true, suspect: false, last_heard: now, next_probe: first_probe };
        self.entries.push(friend).map_err(|_| FriendsFull)
    }

    /// Removes the friend with `id`; true if there was one.
    pub fn remove(&mut self, id: Id) -> bool {
        match self.entries.iter().position(|f| f.locator.id == id) {
            Some(i) => {
                self.entries.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The friend with `id`, if known.
    pub fn get(&self, id: Id) -> Option<&ResourceLocator> {
        self.entries.iter().find(|f| f.locator.id == id).map(|f| &f.locator)
    }

    /// Believes the friend with `id` gone (it said so) until it is heard again.
    pub(crate) fn mark_gone(&mut self, id: Id) {
        if let Some(friend) = self.entries.iter_mut().find(|f| f.locator.id == id) {
            friend.alive = false;
        }
    }

    /// The friend with `id`, unless it is believed dead.
    pub fn get_alive(&self, id: Id) -> Option<&ResourceLocator> {
        self.entries.iter().find(|f| f.locator.id == id && f.alive).map(|f| &f.locator)
    }

    /// All friends with their liveness, in no particular order.
    pub fn entries(&self) -> &[Friend] {
        &self.entries
    }

    /// All friends' locators, alive or not.
    pub fn iter(&self) -> impl Iterator<Item = &ResourceLocator> {
        self.entries.iter().map(|f| &f.locator)
    }

    /// The friends believed alive and not suspect: the ones routing may use.
    pub fn alive(&self) -> impl Iterator<Item = &ResourceLocator> + Clone {
        self.entries.iter().filter(|f| f.alive && !f.suspect).map(|f| &f.locator)
    }

    /// The most friends the table holds.
    pub const fn capacity(&self) -> usize {
        C::MAX
    }

    /// How many friends are known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no friend is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records that `from` was heard, and that it needs no probe before
    /// `probe_at`; returns the friend if it was believed dead (it answers again).
    pub(crate) fn heard(
        &mut self,
        from: SocketAddrV6,
        id: Id,
        now: Instant,
        probe_at: Instant,
    ) -> Option<ResourceLocator> {
        let friend = self.entries.iter_mut().find(|f| f.locator.addr == from && f.locator.id == id)?;
        friend.last_heard = now;
        friend.next_probe = probe_at;
        friend.suspect = false;
        let revived = !friend.alive;
        friend.alive = true;
        revived.then_some(friend.locator)
    }

    /// Every friend at `addr` (several IDs may claim one address), mutably.
    pub(crate) fn at_addr_mut(&mut self, addr: SocketAddrV6) -> impl Iterator<Item = &mut Friend> {
        self.entries.iter_mut().filter(move |f| f.locator.addr == addr)
    }

    /// The friend with exactly this locator, mutably.
    pub(crate) fn get_mut(&mut self, locator: &ResourceLocator) -> Option<&mut Friend> {
        self.entries.iter_mut().find(|f| f.locator == *locator)
    }

    /// The earliest probe due.
    pub(crate) fn next_probe(&self) -> Option<Instant> {
        self.entries.iter().map(|f| f.next_probe).min()
    }

    /// Friends due for a probe at `now`.
    pub(crate) fn due(&self, now: Instant) -> impl Iterator<Item = &Friend> {
        self.entries.iter().filter(move |f| f.next_probe <= now)
    }
}
