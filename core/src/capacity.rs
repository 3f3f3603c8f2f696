//! Capacities chosen per deployment: the bounded lists and queues the
//! tables keep their entries in.
//!
//! A table names its capacity as a type, [`Cap<N>`](Cap), rather than as a
//! constant, so that a [`Profile`](crate::profile::Profile) can give each
//! table of a [`Node`](crate::Node) the size its deployment needs — a
//! desktop node large tables, a simulated or embedded node small ones —
//! without an allocator: a [`Table`] or [`Queue`] of capacity `N` is an
//! inline array of `N` entries, and a full one refuses the next entry,
//! which its table turns into a typed error or a counted drop.
//!
//! ```
//! use mmp2p_core::capacity::{Cap, Table};
//!
//! let mut table: Table<u32, Cap<2>> = Table::new();
//! assert!(table.push(1).is_ok() && table.push(2).is_ok());
//! assert_eq!(table.push(3), Err(3)); // full: the entry comes back
//! assert_eq!(table.capacity(), 2);
//! assert_eq!(&table[..], &[1, 2]);
//! ```

use core::fmt;
use core::ops::{Deref, DerefMut};
use heapless::deque::DequeView;
use heapless::vec::VecView;

/// Inline storage for at most a fixed number of `T`, seen as a list.
pub trait ListStorage<T> {
    /// Empty storage.
    fn empty() -> Self;
    /// The list, its capacity erased.
    fn view(&self) -> &VecView<T>;
    /// The list to change, its capacity erased.
    fn view_mut(&mut self) -> &mut VecView<T>;
}

impl<T, const N: usize> ListStorage<T> for heapless::Vec<T, N> {
    fn empty() -> Self {
        heapless::Vec::new()
    }

    fn view(&self) -> &VecView<T> {
        self.as_view()
    }

    fn view_mut(&mut self) -> &mut VecView<T> {
        self.as_mut_view()
    }
}

/// Inline storage for at most a fixed number (at least one) of `T`, seen as a double-ended queue.
pub trait QueueStorage<T> {
    /// Empty storage.
    fn empty() -> Self;
    /// The queue, its capacity erased.
    fn view(&self) -> &DequeView<T>;
    /// The queue to change, its capacity erased.
    fn view_mut(&mut self) -> &mut DequeView<T>;
}

impl<T, const N: usize> QueueStorage<T> for heapless::Deque<T, N> {
    fn empty() -> Self {
        heapless::Deque::new()
    }

    fn view(&self) -> &DequeView<T> {
        self.as_view()
    }

    fn view_mut(&mut self) -> &mut DequeView<T> {
        self.as_mut_view()
    }
}

/// How many entries a table holds: [`Cap<N>`](Cap).
pub trait Capacity: Clone + Copy + fmt::Debug + Default + PartialEq + Eq + 'static {
    /// The most entries.
    const MAX: usize;
    /// Storage for [`MAX`](Capacity::MAX) entries as a list.
    type List<T>: ListStorage<T>;
    /// Storage for [`MAX`](Capacity::MAX) entries as a queue (`MAX` must be at least 1).
    type Queue<T>: QueueStorage<T>;
}

/// A capacity of `N` entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cap<const N: usize>;

impl<const N: usize> Capacity for Cap<N> {
    const MAX: usize = N;
    type List<T> = heapless::Vec<T, N>;
    type Queue<T> = heapless::Deque<T, N>;
}

/// A list of at most `C::MAX` entries, stored inline. It dereferences to
/// heapless's [`VecView`], so it has a `Vec`'s methods; `push` on a full
/// table gives the entry back.
pub struct Table<T, C: Capacity> {
    storage: C::List<T>,
}

impl<T, C: Capacity> Table<T, C> {
    /// An empty table.
    pub fn new() -> Self {
        Table { storage: ListStorage::empty() }
    }

    /// The most entries the table holds.
    pub const fn capacity(&self) -> usize {
        C::MAX
    }

    /// A table of `items`, or the capacity error if they do not fit.
    pub fn from_slice(items: &[T]) -> Result<Self, heapless::CapacityError>
    where
        T: Clone,
    {
        let mut table = Table::new();
        table.extend_from_slice(items)?;
        Ok(table)
    }
}

impl<T, C: Capacity> Default for Table<T, C> {
    fn default() -> Self {
        Table::new()
    }
}

impl<T, C: Capacity> Deref for Table<T, C> {
    type Target = VecView<T>;
    fn deref(&self) -> &VecView<T> {
        self.storage.view()
    }
}

impl<T, C: Capacity> DerefMut for Table<T, C> {
    fn deref_mut(&mut self) -> &mut VecView<T> {
        self.storage.view_mut()
    }
}

impl<T: Clone, C: Capacity> Clone for Table<T, C> {
    fn clone(&self) -> Self {
        let mut copy = Table::new();
        // The copy has the same capacity: every entry fits.
        let _ = copy.extend_from_slice(self);
        copy
    }
}

impl<T: fmt::Debug, C: Capacity> fmt::Debug for Table<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, C: Capacity> PartialEq for Table<T, C> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: Eq, C: Capacity> Eq for Table<T, C> {}

impl<T, C: Capacity> FromIterator<T> for Table<T, C> {
    /// The first `C::MAX` items; the rest are left.
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut table = Table::new();
        for item in items.into_iter().take(C::MAX) {
            let _ = table.push(item);
        }
        table
    }
}

impl<'a, T, C: Capacity> IntoIterator for &'a Table<T, C> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T, C: Capacity> IntoIterator for &'a mut Table<T, C> {
    type Item = &'a mut T;
    type IntoIter = core::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// A double-ended queue of at most `C::MAX` entries (at least one), stored
/// inline. It dereferences to heapless's [`DequeView`]; `push_back` on a
/// full queue gives the entry back.
pub struct Queue<T, C: Capacity> {
    storage: C::Queue<T>,
}

impl<T, C: Capacity> Queue<T, C> {
    /// An empty queue.
    pub fn new() -> Self {
        Queue { storage: QueueStorage::empty() }
    }

    /// The most entries the queue holds.
    pub const fn capacity(&self) -> usize {
        C::MAX
    }

    /// How many entries wait.
    pub fn len(&self) -> usize {
        self.storage.view().storage_len()
    }

    /// True if none waits.
    pub fn is_empty(&self) -> bool {
        self.storage.view().is_empty()
    }
}

impl<T, C: Capacity> Default for Queue<T, C> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T, C: Capacity> Deref for Queue<T, C> {
    type Target = DequeView<T>;
    fn deref(&self) -> &DequeView<T> {
        self.storage.view()
    }
}

impl<T, C: Capacity> DerefMut for Queue<T, C> {
    fn deref_mut(&mut self) -> &mut DequeView<T> {
        self.storage.view_mut()
    }
}

impl<T: Clone, C: Capacity> Clone for Queue<T, C> {
    fn clone(&self) -> Self {
        let mut copy = Queue::new();
        for item in self.iter() {
            // The copy has the same capacity: every entry fits.
            let _ = copy.push_back(item.clone());
        }
        copy
    }
}

impl<T: fmt::Debug, C: Capacity> fmt::Debug for Queue<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, C: Capacity> PartialEq for Queue<T, C> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<T: Eq, C: Capacity> Eq for Queue<T, C> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_or_queue_gives_the_entry_back_and_keeps_what_it_has() {
        let mut table: Table<u8, Cap<1>> = Table::new();
        assert_eq!(table.push(1), Ok(()));
        assert_eq!(table.push(2), Err(2));
        assert_eq!(table.clone(), table);
        let mut queue: Queue<u8, Cap<1>> = Queue::new();
        assert_eq!(queue.push_back(1), Ok(()));
        assert_eq!(queue.push_back(2), Err(2));
        assert_eq!((queue.len(), queue.clone().pop_front()), (1, Some(1)));
        let empty: Table<[u8; 4096], Cap<0>> = Table::new();
        assert!(core::mem::size_of_val(&empty) <= 8 && empty.is_full());
    }
}
