//! Checking the owners a search reports: one lying node must not invent one.
//!
//! A SEARCH_REPLY lists each owner with its signature of the locator. The
//! requester reports an owner only if the signature is by the key
//! registered for the owner's ID, and the owner is at the registered
//! address: our own registry's record, or the registrar's answer to a
//! REGISTRY_GET (see `identity/fetch.rs`). An owner whose registration we
//! do not know waits while it is fetched (see
//! [`OwnerChecks`](crate::tables::owner_checks::OwnerChecks)); one that
//! fails is dropped and counted (`ForgedOwner`).

use crate::event::{Event, RequestId};
use crate::id::Id;
use crate::locator_signature::check_locator;
use crate::node::Node;
use crate::stats::DropReason;
use crate::tables::known_keys::Known;
use crate::tables::owner_checks::{AwaitingSearch, PendingOwner};
use crate::tables::transactions::Purpose;
use crate::wire::SignedOwner;

impl Node {
    /// Reports the owners of a page of `request` that check out now, and
    /// holds those whose registrations must be fetched; returns how many
    /// were reported.
    pub(crate) fn check_owners(&mut self, request: RequestId, key: Id, owners: &[SignedOwner], hops: u8) -> u16 {
        let mut reported = 0;
        for signed in owners {
            match self.registration_of(signed.owner.id) {
                Some(known) => reported += u16::from(self.judge_owner(request, key, signed, &known, hops)),
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
        reported
    }

    /// Reports `signed` if `known`, its registration, vouches for its signature.
    fn judge_owner(&mut self, request: RequestId, key: Id, signed: &SignedOwner, known: &Known, hops: u8) -> bool {
        let genuine = match *known {
            Known::Registered { key: public, addr } => {
                addr == signed.owner.addr && check_locator(&public, key, &signed.owner, &signed.signature).is_ok()
            }
            Known::Unregistered => false,
        };
        if genuine {
            self.report_owners(request, key, &[signed.owner], hops);
        } else {
            self.stats.count_drop(DropReason::ForgedOwner);
        }
        genuine
    }

    /// Every page of `request` is in, with `found` owners reported: it is
    /// complete now, or once its waiting owners are checked.
    pub(crate) fn search_pages_done(&mut self, request: RequestId, key: Id, found: u16) {
        let awaiting = AwaitingSearch { request, key, found };
        if !self.dht.checks.waits(request) || self.dht.checks.awaiting.push(awaiting).is_err() {
            self.emit(Event::SearchComplete { request, key, owners: found });
        }
    }

    /// `id`'s registration is known now (or could not be fetched): the
    /// owners waiting for it are judged, and searches they held up complete.
    pub(crate) fn owners_of_id_checked(&mut self, id: Id) {
        let known = self.registration_of(id);
        for pending in self.dht.checks.take_for(id) {
            let PendingOwner { request, key, owner, hops } = pending;
            let genuine = match known {
                Some(known) => self.judge_owner(request, key, &owner, &known, hops),
                None => {
                    self.stats.count_drop(DropReason::OwnerUnchecked);
                    false
                }
            };
            if genuine {
                self.count_found(request);
            }
            self.complete_if_checked(request);
        }
    }

    /// Counts one more owner reported for `request`, wherever its tally is.
    fn count_found(&mut self, request: RequestId) {
        if let Some(awaiting) = self.dht.checks.awaiting.iter_mut().find(|a| a.request == request) {
            awaiting.found = awaiting.found.saturating_add(1);
            return;
        }
        let page = |tx: &crate::tables::transactions::Transaction| matches!(tx.purpose, Purpose::SearchPage { request: r, .. } if r == request);
        if let Some(index) = self.requests.transactions.position(page) {
            if let Purpose::SearchPage { found, .. } = &mut self.requests.transactions.get_mut(index).purpose {
                *found = found.saturating_add(1);
            }
        }
    }

    /// Completes `request` if its pages are in and no owner of it waits.
    fn complete_if_checked(&mut self, request: RequestId) {
        if self.dht.checks.waits(request) {
            return;
        }
        if let Some(index) = self.dht.checks.awaiting.iter().position(|a| a.request == request) {
            let AwaitingSearch { key, found, .. } = self.dht.checks.awaiting.swap_remove(index);
            self.emit(Event::SearchComplete { request, key, owners: found });
        }
    }
}
