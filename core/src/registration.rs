//! Registration records: which key owns an ID, and at which address.
//!
//! An ID names a slot on the ring (the MD5 of an e-mail address); the
//! *registration* says who owns it: a record binding the ID to a public key
//! and the owner's current address, signed by that key. It is made when a
//! node joins: the node responsible for the ID hands the joiner a fresh
//! nonce (the join cookie) and the joiner signs its record over it, so a
//! record also shows that its key's holder was at its address when it
//! joined. The first record for an ID wins (first come, first registered);
//! only a record signed by the same key replaces it (a takeover: the owner
//! on a new address or device), and then only with a higher sequence number.
//!
//! ```
//! use core::net::{Ipv6Addr, SocketAddrV6};
//! use mmp2p_core::identity::Identity;
//! use mmp2p_core::registration::Registration;
//! use mmp2p_core::Id;
//!
//! let alice = Identity::from_seed([7; 32]);
//! let id = Id::from_email("alice@example.org");
//! let addr = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0);
//! let record = Registration::sign(&alice, id, addr, 1, 0x1234);
//! assert_eq!(record.check(), Ok(()));
//! let mut forged = record;
//! forged.addr.set_port(4001);
//! assert!(forged.check().is_err(), "the signature covers the address");
//! ```

use crate::id::{Id, ResourceLocator};
use crate::identity::{Identity, PublicKey, Signature, SignatureError};
use core::net::SocketAddrV6;

/// What a registration's signature covers, after this domain tag: the ID,
/// the key, the address and port, the sequence number and the nonce.
const DOMAIN: &[u8; 22] = b"mmp2p registration v1\0";
/// Bytes a registration's signature covers.
const SIGNED_LEN: usize = DOMAIN.len() + Id::LEN + PublicKey::LEN + 16 + 2 + 4 + 8;

/// A signed record: `key` owns `id`, which is at `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Registration {
    /// The ID owned.
    pub id: Id,
    /// The owner's public key.
    pub key: PublicKey,
    /// The owner's address when it registered.
    pub addr: SocketAddrV6,
    /// Grows with each registration under the same key; a record replaces
    /// another of the same key only with a higher one.
    pub seq: u32,
    /// The responsible node's nonce the record was signed over (its join cookie).
    pub nonce: u64,
    /// The key's signature of all the above.
    pub signature: Signature,
}

impl Registration {
    /// Bytes of a registration on the wire: the locator (ID, address, port),
    /// the key, the sequence number, the nonce and the signature.
    pub const WIRE_LEN: usize = ResourceLocator::WIRE_LEN + PublicKey::LEN + 4 + 8 + Signature::LEN;

    /// The record `identity` signs for `id` at `addr`.
    pub fn sign(identity: &Identity, id: Id, addr: SocketAddrV6, seq: u32, nonce: u64) -> Registration {
        let key = identity.public_key();
        let signature = identity.sign(&signed_bytes(id, &key, &addr, seq, nonce));
        Registration { id, key, addr, seq, nonce, signature }
    }

    /// Checks the record's signature by its own key.
    pub fn check(&self) -> Result<(), SignatureError> {
        self.key.verify(&signed_bytes(self.id, &self.key, &self.addr, self.seq, self.nonce), &self.signature)
    }

    /// The owner's locator: its ID at its address.
    pub fn locator(&self) -> ResourceLocator {
        ResourceLocator::new(self.id, self.addr)
    }

    /// True if `self` may replace `old`, the record held for the same ID:
    /// signed by the same key, with a higher sequence number.
    pub fn supersedes(&self, old: &Registration) -> bool {
        self.id == old.id && self.key == old.key && self.seq > old.seq
    }
}

/// The bytes a registration's signature covers.
fn signed_bytes(id: Id, key: &PublicKey, addr: &SocketAddrV6, seq: u32, nonce: u64) -> [u8; SIGNED_LEN] {
    crate::identity::concat(&[
        DOMAIN,
        &id.to_be_bytes(),
        &key.0,
        &addr.ip().octets(),
        &addr.port().to_be_bytes(),
        &seq.to_be_bytes(),
        &nonce.to_be_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn addr(port: u16) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0)
    }

    #[test]
    fn every_field_is_signed() {
        let alice = Identity::from_seed([1; 32]);
        let record = Registration::sign(&alice, Id(5), addr(4000), 3, 99);
        assert_eq!(record.check(), Ok(()));
        let changes: [fn(&mut Registration); 5] = [
            |r| r.id = Id(6),
            |r| r.addr = addr(4001),
            |r| r.seq = 4,
            |r| r.nonce = 100,
            |r| r.key = Identity::from_seed([2; 32]).public_key(),
        ];
        for change in changes {
            let mut changed = record;
            change(&mut changed);
            assert!(changed.check().is_err(), "{changed:?}");
        }
    }

    #[test]
    fn only_the_same_key_with_a_higher_sequence_supersedes() {
        let alice = Identity::from_seed([1; 32]);
        let mallory = Identity::from_seed([2; 32]);
        let first = Registration::sign(&alice, Id(5), addr(4000), 1, 7);
        assert!(Registration::sign(&alice, Id(5), addr(4001), 2, 8).supersedes(&first));
        assert!(!Registration::sign(&alice, Id(5), addr(4001), 1, 8).supersedes(&first));
        assert!(!Registration::sign(&mallory, Id(5), addr(4001), 9, 8).supersedes(&first));
        assert!(!Registration::sign(&alice, Id(6), addr(4001), 2, 8).supersedes(&first));
    }
}
