//! Search results waiting for their owners' registrations.
//!
//! A searcher reports an owner only once it has checked the owner's
//! signature of the locator against the key registered for the owner's ID
//! at the owner's address. An owner whose registration it does not know
//! waits here while the registration is fetched, at most
//! [`MAX_PENDING_OWNERS`] at a time; a search whose last page has come while
//! some of its owners wait is completed when the last of them is checked.

use crate::event::RequestId;
use crate::id::Id;
use crate::wire::SignedOwner;

/// Owners waiting for their registrations, over all searches.
pub const MAX_PENDING_OWNERS: usize = 16;
/// Searches whose pages are all in but whose owners are still checked.
pub const MAX_AWAITING_SEARCHES: usize = 8;

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

/// A search with all its pages in, and `found` owners reported so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AwaitingSearch {
    /// The search.
    pub request: RequestId,
    /// The key searched.
    pub key: Id,
    /// Owners reported so far.
    pub found: u16,
}

/// The owners waiting, and the searches waiting for them.
#[derive(Clone, Debug, Default)]
pub struct OwnerChecks {
    /// Owners waiting for their registrations.
    pub pending: heapless::Vec<PendingOwner, MAX_PENDING_OWNERS>,
    /// Searches waiting for their owners.
    pub awaiting: heapless::Vec<AwaitingSearch, MAX_AWAITING_SEARCHES>,
}

impl OwnerChecks {
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
}
