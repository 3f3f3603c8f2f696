//! Our searches in progress, and their results waiting for their owners'
//! registrations.
//!
//! A search asks for a key and for its mirror (see [`Id::mirror`](crate::id::Id::mirror)); it is
//! complete once both halves have all their pages and every owner they
//! named is checked. A searcher reports an owner only once it has checked
//! the owner's signature of the locator against the key registered for the
//! owner's ID at the owner's address, and reports each owner once. An owner
//! whose registration it does not know waits here while the registration is
//! fetched, at most [`MAX_PENDING_OWNERS`] at a time.

use crate::capacity::Table;
use crate::event::RequestId;
use crate::id::Id;
use crate::profile::{Apps, WithApps};
use crate::wire::SignedOwner;

/// Owners waiting for their registrations, over all searches.
pub const MAX_PENDING_OWNERS: usize = 32;
/// Searches in progress at once.
pub const MAX_SEARCHES: usize = 8;
/// Owners a search remembers having reported, so that the two halves
/// report each once (past this, an owner may be reported twice).
pub const MAX_REPORTED: usize = 32;

/// A search result waiting for its owner's registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingOwner {
    /// The search it answers.
    pub request: RequestId,
    /// The key searched.
    pub key: Id,
    /// The owner and its signature.
    pub owner: SignedOwner,
    /// Overlay hops the search took.
    pub hops: u8,
}

/// A search in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchState {
    /// The search.
    pub request: RequestId,
    /// The key asked for.
    pub key: Id,
    /// Halves (the key, its mirror) still waiting for pages.
    pub halves_left: u8,
    /// Halves that failed.
    pub failed: u8,
    /// Owners reported so far.
    pub found: u16,
    /// The IDs of the owners reported, up to [`MAX_REPORTED`] (an ID has one
    /// registered address, so its ID names an owner).
    pub reported: heapless::Vec<Id, MAX_REPORTED>,
}

/// Our searches, and the owners waiting for their registrations (none
/// [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct OwnerChecks<A: Apps = WithApps> {
    /// Owners waiting for their registrations.
    pub pending: Table<PendingOwner, A::List<MAX_PENDING_OWNERS>>,
    /// Searches in progress.
    pub searches: Table<SearchState, A::List<MAX_SEARCHES>>,
}

impl<A: Apps> OwnerChecks<A> {
    /// Removes and returns the owners waiting for `id`'s registration.
    pub fn take_for(&mut self, id: Id) -> heapless::Vec<PendingOwner, MAX_PENDING_OWNERS> {
        let taken = self.pending.iter().filter(|p| p.owner.owner.id == id).copied().collect();
        self.pending.retain(|p| p.owner.owner.id != id);
        taken
    }

    /// True if owners of `request` still wait.
    pub fn waits(&self, request: RequestId) -> bool {
        self.pending.iter().any(|p| p.request == request)
    }

    /// The search `request`, if in progress.
    pub fn search_mut(&mut self, request: RequestId) -> Option<&mut SearchState> {
        self.searches.iter_mut().find(|s| s.request == request)
    }
}
