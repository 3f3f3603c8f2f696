//! Who is who: registrations follow responsibility for their IDs
//! (`copies.rs`); other nodes fetch them (`fetch.rs`); a candidate
//! neighbour proves its registered identity before it is adopted
//! (`vetting.rs`). Admission under a registered ID is
//! part of JOIN (`ring/join.rs`).

mod copies;
mod fetch;
mod vetting;

pub(crate) use vetting::Verdict;

use super::Node;
use crate::identity::{Identity, PublicKey};
use crate::profile::Profile;

impl<P: Profile> Node<P> {
    /// Gives the node `identity`, the key pair it signs with in its user's
    /// name. The program derives or loads it (see
    /// [`identity`](crate::identity)); the core never sees a password. Until
    /// then a node signs with a key drawn from its seed.
    pub fn set_identity(&mut self, identity: Identity) {
        self.identity = identity;
    }

    /// The key pair the node signs with (to carry it over to a restarted node).
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The public key of the node's identity.
    pub fn public_key(&self) -> PublicKey {
        self.identity.public_key()
    }

    /// The registrations the node keeps (see [`registration`](crate::registration)).
    pub fn registry(&self) -> &crate::tables::registry::Registry<P::Registrations> {
        &self.ring.registry
    }
}
