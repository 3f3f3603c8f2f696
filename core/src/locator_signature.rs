//! An owner's signature of a resource locator: "the file `key` is shared by
//! the node `owner` (its ID at its address)".
//!
//! Every STORE entry carries one, made with the owner's identity key; the
//! node that keeps the locator checks it against the key registered for the
//! owner's ID, keeps it with the entry, copies it with replicas and returns
//! it with search results, so a searcher can check every owner end to end:
//! nobody but the holder of an ID's registered key can make a locator in
//! that ID's name, nor move it to another address.
//!
//! ```
//! use core::net::{Ipv6Addr, SocketAddrV6};
//! use mmp2p_core::identity::Identity;
//! use mmp2p_core::locator_signature::{check_locator, sign_locator};
//! use mmp2p_core::{Id, ResourceLocator};
//!
//! let alice = Identity::from_seed([7; 32]);
//! let owner = ResourceLocator::new(Id::from_email("alice@example.org"), SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0));
//! let song = Id::from_file_name("song.mp3");
//! let signature = sign_locator(&alice, song, &owner);
//! assert_eq!(check_locator(&alice.public_key(), song, &owner, &signature), Ok(()));
//! let elsewhere = ResourceLocator::new(owner.id, SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4001, 0, 0));
//! assert!(check_locator(&alice.public_key(), song, &elsewhere, &signature).is_err());
//! ```

use crate::id::{Id, ResourceLocator};
use crate::identity::{concat, Identity, PublicKey, Signature, SignatureError};

/// What a locator signature covers, after this domain tag: the file ID, the
/// owner's ID, its IPv6 address and its port.
const DOMAIN: &[u8; 17] = b"mmp2p locator v1\0";
/// Bytes a locator signature covers.
const SIGNED_LEN: usize = DOMAIN.len() + Id::LEN + ResourceLocator::WIRE_LEN;

/// The bytes a locator signature covers.
fn signed_bytes(key: Id, owner: &ResourceLocator) -> [u8; SIGNED_LEN] {
    concat(&[
        DOMAIN,
        &key.to_be_bytes(),
        &owner.id.to_be_bytes(),
        &owner.addr.ip().octets(),
        &owner.addr.port().to_be_bytes(),
    ])
}

/// `identity`'s signature of "`owner` shares the file `key`".
pub fn sign_locator(identity: &Identity, key: Id, owner: &ResourceLocator) -> Signature {
    identity.sign(&signed_bytes(key, owner))
}

/// Checks that `signature` is `public`'s of "`owner` shares the file `key`".
pub fn check_locator(
    public: &PublicKey,
    key: Id,
    owner: &ResourceLocator,
    signature: &Signature,
) -> Result<(), SignatureError> {
    public.verify(&signed_bytes(key, owner), signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv6Addr, SocketAddrV6};

    #[test]
    fn the_file_the_owner_and_its_address_are_signed() {
        let alice = Identity::from_seed([1; 32]);
        let owner = ResourceLocator::new(Id(5), SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0));
        let signature = sign_locator(&alice, Id(9), &owner);
        let key = alice.public_key();
        assert_eq!(check_locator(&key, Id(9), &owner, &signature), Ok(()));
        assert!(check_locator(&key, Id(10), &owner, &signature).is_err());
        assert!(check_locator(&key, Id(9), &ResourceLocator::new(Id(6), owner.addr), &signature).is_err());
        let moved = ResourceLocator::new(owner.id, SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4001, 0, 0));
        assert!(check_locator(&key, Id(9), &moved, &signature).is_err());
        assert!(check_locator(&Identity::from_seed([2; 32]).public_key(), Id(9), &owner, &signature).is_err());
    }
}
