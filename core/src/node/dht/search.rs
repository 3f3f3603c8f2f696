//! SEARCH: finding every owner of a file (or user) ID.
//!
//! The requester routes a SEARCH towards the key's responsible node, hop by
//! hop like a LOOKUP. The responsible node answers the requester directly
//! with a SEARCH_REPLY: page 0 of the key's verified owners, at most
//! [`MAX_OWNERS_PER_REPLY`] to a page, and how many pages there are. The
//! requester asks for each further page with a SEARCH_PAGE sent straight to
//! the node that answered, so that every reply stays within 3× the (padded)
//! request that asked for it. Each owner comes with its signature of the
//! locator, and is reported as one [`Event::SearchResult`] only once the
//! requester has checked it against the owner's registered key (see
//! `owners.rs`); [`Event::SearchComplete`] follows the last page and the
//! last check. Replies from an address the requester did not ask are ignored.

use crate::event::{CommandError, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::owner_checks::SearchState;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{Header, Message, MessageType, SignedOwner, MAX_OWNERS_PER_REPLY};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Searches the whole overlay for the owners of the file called `name`.
    pub fn search(&mut self, now: Instant, name: &str) -> Result<RequestId, CommandError> {
        self.search_id(now, Id::from_file_name(name))
    }

    /// Searches for the owners of `key` (a file ID, or a user ID): at the
    /// node responsible for `key` and at the one responsible for its
    /// mirror, by separate routes, so that one lying or silent node can
    /// neither hide nor invent an owner.
    ///
    /// Reports each checked owner once ([`SearchResult`](crate::Event::SearchResult)), then
    /// [`SearchComplete`](crate::Event::SearchComplete), or
    /// [`SearchFailed`](crate::Event::SearchFailed) if neither half
    /// was answered.
    pub fn search_id(&mut self, now: Instant, key: Id) -> Result<RequestId, CommandError> {
        if self.dht.checks.searches.is_full() || self.requests.transactions.room() < 4 {
            return Err(CommandError::TooManyRequests);
        }
        let (request, local) = self.originate(now, key, |request| Purpose::Search { request, key })?;
        let state = SearchState { request, key, halves_left: 2, failed: 0, found: 0, reported: heapless::Vec::new() };
        // Cannot fail: checked for room above.
        let _ = self.dht.checks.searches.push(state);
        if local {
            self.answer_own(&Purpose::Search { request, key });
        }
        let mirror = key.mirror();
        match self.originate_for(mirror, Purpose::Search { request, key: mirror }) {
            Ok(true) => self.answer_own(&Purpose::Search { request, key: mirror }),
            Ok(false) => {}
            Err(_) => self.search_half_done(request, true),
        }
        Ok(request)
    }

    /// Answers one half of our own search, for a key we are responsible for, from our store.
    pub(crate) fn search_answered_here(&mut self, request: RequestId, key: Id) {
        // Our own answer goes straight to the event queue, so it is
        // bounded by it (one slot is kept for the completion).
        let owners: heapless::Vec<ResourceLocator, { crate::config::EVENT_QUEUE_CAPACITY }> =
            self.dht.store.owners(key).map(|e| e.owner).take(crate::config::EVENT_QUEUE_CAPACITY - 1).collect();
        for owner in owners {
            self.report_owner(request, owner, 0);
        }
        self.search_half_done(request, false);
    }

    pub(crate) fn handle_search_page(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        key: Id,
        page: u8,
    ) -> Result<(), DropReason> {
        if !self.is_member() {
            return Err(DropReason::NotJoined);
        }
        self.answer_search(header.txid, from, key, 0, page);
        Ok(())
    }

    /// Sends page `page` of `key`'s owners (encoded when polled).
    pub(crate) fn answer_search(&mut self, txid: u64, to: SocketAddrV6, key: Id, hops: u8, page: u8) {
        self.send(Outgoing::SearchReply { to, txid, key, hops, page });
    }

    /// How many pages `key`'s verified owners fill (at least one).
    fn pages(&self, key: Id) -> u8 {
        let owners = self.dht.store.owners(key).count();
        owners.div_ceil(MAX_OWNERS_PER_REPLY).clamp(1, usize::from(u8::MAX)) as u8
    }

    /// Page `page` of `key`'s verified owners.
    fn owners_page(&self, key: Id, page: u8) -> heapless::Vec<SignedOwner, MAX_OWNERS_PER_REPLY> {
        let skip = usize::from(page) * MAX_OWNERS_PER_REPLY;
        let signed =
            |e: &crate::tables::store::StoredLocator| SignedOwner { owner: e.owner, signature: e.proof.signature };
        self.dht.store.owners(key).skip(skip).take(MAX_OWNERS_PER_REPLY).map(signed).collect()
    }

    /// The SEARCH_REPLY for page `page` of `key`, as the store stands; a page
    /// past the end (owners expired meanwhile) comes back as the last page.
    pub(crate) fn search_reply(&self, key: Id, hops: u8, page: u8) -> Message {
        let pages = self.pages(key);
        let page = page.min(pages - 1);
        Message::SearchReply { key, hops, page, pages, owners: self.owners_page(key, page) }
    }

    pub(crate) fn handle_search_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        reply: &Message,
    ) -> Result<(), DropReason> {
        let Message::SearchReply { key, hops, page, pages, ref owners } = *reply else { return Ok(()) };
        let same = |p: &Purpose| match p {
            Purpose::Search { key: k, .. } => *k == key && page == 0,
            // A page past the end (owners expired meanwhile) comes back as the last one.
            Purpose::SearchPage { key: k, page: want, .. } => {
                *k == key && (*want == page || (page + 1 == pages && *want > page))
            }
            _ => false,
        };
        let tx = self.complete_request(header, MessageType::SearchReply, from, same)?;
        self.forget_first_hop(tx.txid);
        let (Purpose::Search { request, .. } | Purpose::SearchPage { request, .. }) = tx.purpose else { return Ok(()) };
        self.check_owners(request, key, owners, hops);
        let next = page.saturating_add(1);
        if next < pages {
            // Further pages come only from the node that answered.
            let purpose = Purpose::SearchPage { request, key, page: next };
            if self.start_request(from, purpose).is_err() {
                self.search_half_done(request, true);
            }
        } else {
            self.search_half_done(request, false);
        }
        Ok(())
    }
}
