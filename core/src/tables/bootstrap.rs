//! The bootstrap list: where to knock when joining (the paper's `access.dat`).
//!
//! A bounded list of known-good nodes: key-node entries (ID 0) first, then the
//! nodes most recently seen in the ring. The core keeps it as data; a driver
//! loads it before [`Node::join_bootstrap`](crate::Node::join_bootstrap) and
//! saves it after [`Event::Joined`](crate::Event::Joined). Entries are not
//! trusted blindly: joining tries them in order, and one that does not answer,
//! or answers that it is not in a ring, is skipped.

use crate::config::BOOTSTRAP_CAPACITY;
use crate::event::RequestId;
use crate::id::{Id, ResourceLocator};
use crate::time::Instant;

/// Up to [`BOOTSTRAP_CAPACITY`] entry points, best first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BootstrapList {
    entries: heapless::Vec<ResourceLocator, BOOTSTRAP_CAPACITY>,
}

impl BootstrapList {
    /// A list holding the given entries (beyond the capacity, the rest are ignored).
    pub fn new(entries: impl IntoIterator<Item = ResourceLocator>) -> BootstrapList {
        let mut list = BootstrapList::default();
        for entry in entries {
            list.add(entry);
        }
        list
    }

    /// Appends an entry unless its address is already listed or the list is full.
    pub fn add(&mut self, entry: ResourceLocator) {
        if !self.entries.iter().any(|e| e.addr == entry.addr) {
            // A full list keeps what it has.
            let _ = self.entries.push(entry);
        }
    }

    /// The entries, best first.
    pub fn entries(&self) -> &[ResourceLocator] {
        &self.entries
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Rebuilds the list after a successful join: key-node entries first,
    /// then `recent` (nodes just seen in the ring), then the older entries.
    pub(crate) fn refresh(&mut self, recent: impl IntoIterator<Item = ResourceLocator>) {
        let old = core::mem::take(&mut self.entries);
        let keys = old.iter().filter(|e| e.id == Id::KEY_NODE);
        let others = old.iter().filter(|e| e.id != Id::KEY_NODE);
        for entry in keys.copied().chain(recent).chain(others.copied()) {
            self.add(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv6Addr, SocketAddrV6};

    fn loc(id: u128, host: u16) -> ResourceLocator {
        ResourceLocator::new(Id(id), SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host), 4000, 0, 0))
    }

    #[test]
    fn refresh_keeps_key_nodes_first_then_recent_then_old() {
        let mut list = BootstrapList::new([loc(5, 5), loc(0, 1), loc(6, 6)]);
        list.add(loc(5, 5));
        assert_eq!(list.len(), 3, "no duplicate addresses");
        list.refresh([loc(9, 9), loc(6, 6)]);
        let ids: std::vec::Vec<u128> = list.entries().iter().map(|e| e.id.0).collect();
        assert_eq!(ids, [0, 9, 6, 5]);
    }

    #[test]
    fn the_list_is_bounded() {
        let list = BootstrapList::new((1..100).map(|i| loc(i, i as u16)));
        assert_eq!(list.len(), BOOTSTRAP_CAPACITY);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn the_list_round_trips_through_serde_for_access_dat() {
        let list = BootstrapList::new([loc(0, 1), loc(9, 9)]);
        let mut buf = [0u8; 256];
        let bytes = postcard::to_slice(&list, &mut buf).expect("fits");
        let back: BootstrapList = postcard::from_bytes(bytes).expect("decodes");
        assert_eq!(back, list);
    }
}

/// A join working through the bootstrap list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JoinCampaign {
    pub request: RequestId,
    /// The entry being tried, or to try next.
    pub next: usize,
    /// When to try `next` (`None` while an attempt is outstanding).
    pub retry_at: Option<Instant>,
}
