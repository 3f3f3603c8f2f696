//! The friends table: a user's instant-messenger friends, used as routing
//! shortcuts ("fingers").

use crate::config::MAX_FRIENDS;
use crate::id::{Id, ResourceLocator};

/// Up to [`MAX_FRIENDS`] friends' locators, one per ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Friends {
    entries: heapless::Vec<ResourceLocator, MAX_FRIENDS>,
}

/// The friends table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FriendsFull;

impl Friends {
    /// Adds a friend or updates the address of a known one.
    pub fn insert(&mut self, friend: ResourceLocator) -> Result<(), FriendsFull> {
        if let Some(known) = self.entries.iter_mut().find(|f| f.id == friend.id) {
            *known = friend;
            return Ok(());
        }
        self.entries.push(friend).map_err(|_| FriendsFull)
    }

    /// Removes the friend with `id`; true if there was one.
    pub fn remove(&mut self, id: Id) -> bool {
        match self.entries.iter().position(|f| f.id == id) {
            Some(i) => {
                self.entries.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The friend with `id`, if known.
    pub fn get(&self, id: Id) -> Option<&ResourceLocator> {
        self.entries.iter().find(|f| f.id == id)
    }

    /// All friends, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &ResourceLocator> {
        self.entries.iter()
    }

    /// How many friends are known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no friend is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
