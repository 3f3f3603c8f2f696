//! Vetting a candidate neighbour: a node that would sit closer to us than
//! our neighbour on a side is adopted only once it has proven its address
//! and its registered identity.
//!
//! A candidate is probed with a STABILISE that asks it to identify itself;
//! its STABILISE_REPLY must carry its registration signed over the probe's
//! txid (an [`IdentityProof`]), from the address it claims, so it holds the
//! key it names and receives at that address. The key must then be the one
//! registered for its ID, or the ID must be unregistered (first come, first
//! registered, as for a JOIN):
//! - on the left, we are the registrar of the candidate's ID (it would sit
//!   in our range): our registry decides, and keeps the record if the ID
//!   was free;
//! - on the right, the registrar is our right neighbour, the candidate's
//!   successor: unless we hold a record ourselves (a replica), we ask it
//!   with a REGISTRY_GET whose first hop it is, and adopt the candidate
//!   when REGISTRY_RECORD shows no other key. A node with no right neighbour at all has no registrar
//!   to ask and goes by its own registry.
//!
//! So a stranger cannot take an ID that is registered to another key, nor
//! become a neighbour without the key of the ID it claims.

use crate::id::ResourceLocator;
use crate::identity::PublicKey;
use crate::node::Node;
use crate::profile::Profile;
use crate::registration::Registration;
use crate::stats::DropReason;
use crate::tables::neighbours::{between, cut_chain};
use crate::tables::transactions::Purpose;
use crate::wire::{IdentityProof, Side};

/// What to do with a candidate that answered our probe.
pub(crate) enum Verdict {
    /// Adopt it now.
    Adopt,
    /// Its registrar was asked; adopt it if the answer allows.
    Asked,
    /// Leave it out.
    Refuse,
}

impl<P: Profile> Node<P> {
    /// Our registration signed over `nonce` (a candidate probe's txid).
    pub(crate) fn identity_proof(&self, nonce: u64) -> IdentityProof {
        let key = self.identity.public_key();
        let seq = self.ring.registry.get(self.me.id).filter(|r| r.key == key).map_or(1, |r| r.seq);
        IdentityProof::of(&Registration::sign(&self.identity, self.me.id, self.me.addr, seq, nonce))
    }

    /// Checks the identity `candidate` proved (or did not) in its answer to
    /// our probe `nonce` on `side`.
    pub(crate) fn vet(
        &mut self,
        candidate: ResourceLocator,
        side: Side,
        proof: Option<IdentityProof>,
        nonce: u64,
    ) -> Verdict {
        let record = proof.map(|p| p.registration(&candidate, nonce)).filter(|r| r.check().is_ok());
        let Some(record) = record else {
            self.stats.count_drop(DropReason::Unidentified);
            return Verdict::Refuse;
        };
        match self.ring.registry.get(candidate.id) {
            Some(held) if held.key != record.key => {
                self.stats.count_drop(DropReason::Unidentified);
                Verdict::Refuse
            }
            Some(held) => {
                if record.supersedes(held) {
                    let _ = self.ring.registry.offer(record, self.me.id, self.now);
                }
                Verdict::Adopt
            }
            None => match (side, self.ring.neighbours.neighbour(Side::Right).copied()) {
                (Side::Right, Some(registrar)) if registrar.id != candidate.id => {
                    let purpose = Purpose::RegistryCheck { candidate, key: record.key };
                    if self.start_request(registrar.addr, purpose).is_err() {
                        self.stats.count_drop(DropReason::RequestTableFull);
                    }
                    Verdict::Asked
                }
                _ => {
                    // A free ID: first come, first registered.
                    if self.ring.registry.offer(record, self.me.id, self.now).is_err() {
                        self.stats.count_drop(DropReason::RegistrationRefused);
                    }
                    Verdict::Adopt
                }
            },
        }
    }

    /// The registrar's answer about a candidate's ID: the candidate
    /// becomes our right neighbour unless the ID is registered to another
    /// key (or someone nearer took the place meanwhile).
    pub(crate) fn candidate_registration(
        &mut self,
        candidate: ResourceLocator,
        key: PublicKey,
        record: Option<&Registration>,
    ) {
        if !registered_to(record, key) {
            return self.stats.count_drop(DropReason::Unidentified);
        }
        let closer = self
            .ring
            .neighbours
            .neighbour(Side::Right)
            .is_none_or(|current| between(Side::Right, self.me.id, current.id, candidate.id));
        if closer && self.ring.leaving.is_none() {
            let current = self.ring.neighbours.chain(Side::Right).iter().copied();
            let chain =
                cut_chain(self.me.id, Side::Right, core::iter::once(candidate).chain(current), self.config.chain_len());
            self.set_chain(Side::Right, chain, None);
        }
    }
}

/// True unless `record` registers its ID to another key than `key`.
fn registered_to(record: Option<&Registration>, key: PublicKey) -> bool {
    record.is_none_or(|r| r.key == key)
}
