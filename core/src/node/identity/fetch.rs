//! REGISTRY_GET: learning which key an ID is registered to.
//!
//! The record of an ID lives at its registrar — the ID's successor — and
//! at the nodes after it (see `copies.rs`); while its owner is a member,
//! the owner is its own registrar, and it cannot vouch for itself. So a
//! REGISTRY_GET is routed towards `id + 1`: it ends at the node after the
//! ID, the registrar of an ID no member holds, or the first replica of a
//! member's. That node answers the origin with REGISTRY_RECORD: the record
//! it holds, or none. Answers are kept in [`KnownKeys`] for a while, so a
//! node fetches each owner's registration once, not per locator.
//!
//! [`KnownKeys`]: crate::tables::known_keys::KnownKeys

use crate::id::Id;
use crate::node::Node;
use crate::profile::Profile;
use crate::registration::Registration;
use crate::stats::DropReason;
use crate::tables::known_keys::Known;
use crate::tables::transactions::Purpose;
use crate::wire::{Header, MessageType};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// What we know of `id`'s registration: our own registry's record, or a
    /// registrar's recent answer.
    pub(crate) fn registration_of(&self, id: Id) -> Option<Known> {
        match self.ring.registry.get(id) {
            Some(record) => Some(Known::Registered { key: record.key, addr: record.addr }),
            None => self.ring.known.get(id, self.now),
        }
    }

    /// Starts fetching `id`'s registration unless we know it or a fetch is out.
    pub(crate) fn fetch_registration(&mut self, id: Id) {
        let asked = |tx: &crate::tables::transactions::Transaction| tx.purpose == Purpose::FetchRegistration { id };
        if self.registration_of(id).is_some() || self.requests.transactions.iter().any(asked) {
            return;
        }
        let now = self.now;
        match self.originate(now, Id(id.0.wrapping_add(1)), |_| Purpose::FetchRegistration { id }) {
            Ok((_, true)) => self.registration_answered(&Purpose::FetchRegistration { id }, None),
            Ok((_, false)) => {}
            Err(_) => self.stats.count_drop(DropReason::RequestTableFull),
        }
    }

    pub(crate) fn handle_registry_record(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        id: Id,
        record: Option<Registration>,
    ) -> Result<(), DropReason> {
        let asked = |p: &Purpose| match p {
            Purpose::RegistryCheck { candidate, .. } => candidate.id == id,
            Purpose::FetchRegistration { id: wanted } => *wanted == id,
            _ => false,
        };
        let tx = self.complete_request(header, MessageType::RegistryRecord, from, asked)?;
        self.forget_first_hop(tx.txid);
        if record.is_some_and(|r| r.id != id || r.check().is_err()) {
            return Err(DropReason::BadSignature);
        }
        self.registration_answered(&tx.purpose, record.as_ref());
        Ok(())
    }

    /// A registrar answered (or we are the registrar, and looked ourselves).
    pub(crate) fn registration_answered(&mut self, purpose: &Purpose, record: Option<&Registration>) {
        match *purpose {
            Purpose::RegistryCheck { candidate, key } => self.candidate_registration(candidate, key, record),
            Purpose::FetchRegistration { id } => {
                let known = match record {
                    Some(r) => Known::Registered { key: r.key, addr: r.addr },
                    None => Known::Unregistered,
                };
                self.ring.known.learn(id, known, self.now);
                self.owners_of_id_checked(id);
                self.stored_owners_checked(id);
                self.request_registration_known(id, Some(known));
            }
            _ => {}
        }
    }

    /// A fetch got no answer: nothing is learned, and the owners waiting
    /// for it cannot be checked.
    pub(crate) fn registration_unknown(&mut self, id: Id) {
        self.owners_of_id_checked(id);
        self.stored_owners_checked(id);
        self.request_registration_known(id, None);
    }
}
