//! Checking the owners a search reports: one lying node must not invent one.
//!
//! A SEARCH_REPLY lists each owner with its signature of the locator. The
//! requester reports an owner only if the signature is by the key
//! registered for the owner's ID, and the owner is at the registered
//! address: our own registry's record, or the registrar's answer to a
//! REGISTRY_GET (see `identity/fetch.rs`). An owner whose registration we
//! do not know waits while it is fetched (see
//! [`OwnerChecks`](crate::tables::owner_checks::OwnerChecks)); one that
//! fails is dropped and counted (`ForgedOwner`). A search ends once both its
//! halves (the key and its mirror) are in and every owner they named is
//! checked.

use crate::event::{Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::locator_signature::check_locator;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::known_keys::Known;
use crate::tables::owner_checks::PendingOwner;
use crate::wire::SignedOwner;

impl<P: Profile> Node<P> {
    /// Reports the owners of a page of `request` (for the routed `key`) that
    /// check out now, and holds those whose registrations must be fetched.
    pub(crate) fn check_owners(&mut self, request: RequestId, key: Id, owners: &[SignedOwner], hops: u8) {
        for signed in owners {
            // The other half named it already: reported, or waiting.
            let reported = self.dht.checks.search_mut(request).is_some_and(|s| s.reported.contains(&signed.owner.id));
            let waiting = self.dht.checks.pending.iter().any(|p| p.request == request && p.owner.owner == signed.owner);
            if reported || waiting {
                continue;
            }
            match self.registration_of(signed.owner.id) {
                Some(known) => self.judge_owner(request, key, signed, &known, hops),
                None => {
                    let pending = PendingOwner { request, key, owner: *signed, hops };
                    if self.dht.checks.pending.push(pending).is_err() {
                        self.stats.count_drop(DropReason::OwnerUnchecked);
                        continue;
                    }
                    self.fetch_registration(signed.owner.id);
                }
            }
        }
    }

    /// Reports `signed` if `known`, its registration, vouches for its signature of `key`.
    fn judge_owner(&mut self, request: RequestId, key: Id, signed: &SignedOwner, known: &Known, hops: u8) {
        let genuine = match *known {
            Known::Registered { key: public, addr } => {
                addr == signed.owner.addr && check_locator(&public, key, &signed.owner, &signed.signature).is_ok()
            }
            Known::Unregistered => false,
        };
        if genuine {
            self.report_owner(request, signed.owner, hops);
        } else {
            self.stats.count_drop(DropReason::ForgedOwner);
        }
    }

    /// Reports `owner` for `request`, once.
    pub(crate) fn report_owner(&mut self, request: RequestId, owner: ResourceLocator, hops: u8) {
        let Some(search) = self.dht.checks.search_mut(request) else { return };
        if search.reported.contains(&owner.id) {
            return;
        }
        // Past the bound, an owner may be reported twice; never lost.
        let _ = search.reported.push(owner.id);
        search.found = search.found.saturating_add(1);
        let key = search.key;
        self.emit(Event::SearchResult { request, key, owner, hops });
    }

    /// One half of `request` has all its pages (or `failed`).
    pub(crate) fn search_half_done(&mut self, request: RequestId, failed: bool) {
        let Some(search) = self.dht.checks.search_mut(request) else { return };
        search.halves_left = search.halves_left.saturating_sub(1);
        search.failed += u8::from(failed);
        self.finish_search(request);
    }

    /// `id`'s registration is known now (or could not be fetched): the
    /// owners waiting for it are judged, and searches they held up end.
    pub(crate) fn owners_of_id_checked(&mut self, id: Id) {
        let known = self.registration_of(id);
        for pending in self.dht.checks.take_for(id) {
            let PendingOwner { request, key, owner, hops } = pending;
            match known {
                Some(known) => self.judge_owner(request, key, &owner, &known, hops),
                None => self.stats.count_drop(DropReason::OwnerUnchecked),
            }
            self.finish_search(request);
        }
    }

    /// Ends `request` if both halves are in and no owner of it waits: complete
    /// if either half answered, failed if both failed.
    fn finish_search(&mut self, request: RequestId) {
        let searches = &self.dht.checks.searches;
        let Some(index) = searches.iter().position(|s| s.request == request) else { return };
        if searches[index].halves_left > 0 || self.dht.checks.waits(request) {
            return;
        }
        let search = self.dht.checks.searches.swap_remove(index);
        let (key, owners) = (search.key, search.found);
        self.emit(match search.failed {
            2 => Event::SearchFailed { request, key },
            _ => Event::SearchComplete { request, key, owners },
        });
    }
}
