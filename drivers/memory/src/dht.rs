//! Shared files and searches on whole overlays, checked against the truth.

use crate::overlay::Overlay;
use crate::NodeIndex;
use mmp2p_core::{CommandError, Event, Id, ResourceLocator};
use std::collections::HashSet;
use std::time::Duration;

/// What one search found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchOutcome {
    /// Every owner reported, across all pages.
    pub owners: HashSet<ResourceLocator>,
    /// Overlay hops of the SEARCH (`None` if no reply came).
    pub hops: Option<u8>,
    /// True if the search completed (every page arrived).
    pub complete: bool,
}

impl Overlay {
    /// Sets node `node`'s shared files; a node in the ring publishes them at once.
    pub fn share(&mut self, node: NodeIndex, names: &[&str]) -> Result<usize, CommandError> {
        self.network.command(node, |n, now| n.share(now, names.iter().copied()))
    }

    /// Searches `key` from `origin`, running the network until the search
    /// completes or fails or `limit` passes.
    pub fn search(&mut self, origin: NodeIndex, key: Id, limit: Duration) -> SearchOutcome {
        let mut outcome = SearchOutcome::default();
        let seen = self.network.events().len();
        let Ok(request) = self.network.command(origin, |n, now| n.search_id(now, key)) else { return outcome };
        let end = self.network.now() + limit;
        let mut read = seen;
        loop {
            let events = self.network.events();
            for e in &events[read..] {
                if e.node != origin {
                    continue;
                }
                match &e.event {
                    Event::SearchResult { request: r, owner, hops, .. } if *r == request => {
                        outcome.owners.insert(*owner);
                        outcome.hops = Some(outcome.hops.unwrap_or(0).max(*hops));
                    }
                    Event::SearchComplete { request: r, .. } if *r == request => outcome.complete = true,
                    Event::SearchFailed { request: r, .. } if *r == request => return outcome,
                    _ => {}
                }
            }
            read = events.len();
            if outcome.complete || self.network.next_instant().is_none_or(|at| at > end) {
                return outcome;
            }
            self.network.step();
        }
    }

    /// STORE datagrams emitted so far by the running nodes.
    pub fn store_datagrams(&self) -> u64 {
        self.network.nodes().filter(|(i, _)| self.network.is_up(*i)).map(|(_, n)| n.stats().store_out).sum()
    }
}
