//! Shared files and searches on whole overlays, checked against the truth.

use crate::overlay::Overlay;
use crate::NodeIndex;
use mmp2p_core::profile::Profile;
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

impl<P: Profile> Overlay<P> {
    /// Sets node `node`'s shared files; a node in the ring publishes them at once.
    pub fn share(&mut self, node: NodeIndex, names: &[&str]) -> Result<usize, CommandError> {
        self.network.command(node, |n, now| n.share(now, names.iter().copied()))
    }

    /// Searches `key` from `origin`, running the network until the search
    /// completes or fails or `limit` passes.
    pub fn search(&mut self, origin: NodeIndex, key: Id, limit: Duration) -> SearchOutcome {
        self.search_many(&[(origin, key)], limit).pop().unwrap_or_default()
    }

    /// Starts every search (origin, key) at once and runs the network until
    /// all complete or fail or `limit` passes; one outcome per search, in order.
    pub fn search_many(&mut self, searches: &[(NodeIndex, Id)], limit: Duration) -> Vec<SearchOutcome> {
        let mut outcomes = vec![SearchOutcome::default(); searches.len()];
        let mut pending = std::collections::HashMap::new();
        let mut read = self.network.events().len();
        for (i, &(origin, key)) in searches.iter().enumerate() {
            if let Ok(request) = self.network.command(origin, |n, now| n.search_id(now, key)) {
                pending.insert((origin, request), i);
            }
        }
        let end = self.network.now() + limit;
        loop {
            let events = self.network.events();
            for e in &events[read..] {
                let (request, done) = match &e.event {
                    Event::SearchResult { request, owner, hops, .. } => {
                        if let Some(&i) = pending.get(&(e.node, *request)) {
                            outcomes[i].owners.insert(*owner);
                            outcomes[i].hops = Some(outcomes[i].hops.unwrap_or(0).max(*hops));
                        }
                        (request, false)
                    }
                    Event::SearchComplete { request, .. } => {
                        if let Some(&i) = pending.get(&(e.node, *request)) {
                            outcomes[i].complete = true;
                        }
                        (request, true)
                    }
                    Event::SearchFailed { request, .. } => (request, true),
                    _ => continue,
                };
                if done {
                    pending.remove(&(e.node, *request));
                }
            }
            read = events.len();
            if pending.is_empty() || self.network.next_instant().is_none_or(|at| at > end) {
                return outcomes;
            }
            self.network.step();
        }
    }

    /// STORE datagrams emitted so far by the running nodes.
    pub fn store_datagrams(&self) -> u64 {
        self.network.nodes().filter(|(i, _)| self.network.is_up(*i)).map(|(_, n)| n.stats().store_out).sum()
    }
}
