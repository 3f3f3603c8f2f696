//! Identity keys: who signs what a node says in its own name.
//!
//! A node's identity is an Ed25519 key pair ([RFC 8032]). The core only
//! holds it and signs and verifies with it; where the 32-byte seed comes
//! from is the program's business — derived from an e-mail address and a
//! password with a slow, salted KDF, or a random key kept in a file — so no
//! password and no key derivation ever runs in the core. Verification is
//! strict (`verify_strict`: no small-order keys, no malleable signatures),
//! so a signature names exactly one signer and one message.
//!
//! ```
//! use mmp2p_core::identity::{Identity, SignatureError};
//! let alice = Identity::from_seed([7; 32]);
//! let signature = alice.sign(b"I am alice");
//! assert_eq!(alice.public_key().verify(b"I am alice", &signature), Ok(()));
//! assert_eq!(alice.public_key().verify(b"I am bob", &signature), Err(SignatureError::BadSignature));
//! let mallory = Identity::from_seed([8; 32]);
//! assert!(mallory.public_key().verify(b"I am alice", &signature).is_err());
//! ```
//!
//! [RFC 8032]: https://www.rfc-editor.org/rfc/rfc8032

use core::fmt;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// A node's Ed25519 key pair. Its `Debug` shows the public key only.
#[derive(Clone)]
pub struct Identity {
    signing: SigningKey,
}

/// An Ed25519 public key, as its 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PublicKey(pub [u8; PublicKey::LEN]);

/// An Ed25519 signature, as its 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; Signature::LEN]);

/// Why a signature was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The public key is not a valid (or is a weak, small-order) Ed25519 key.
    BadKey,
    /// The signature is not the key's signature of the message.
    BadSignature,
}

impl Identity {
    /// The key pair whose secret key is `seed` (RFC 8032's 32-byte private key).
    pub fn from_seed(seed: [u8; 32]) -> Identity {
        Identity { signing: SigningKey::from_bytes(&seed) }
    }

    /// The secret key: what a key file keeps.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public key others verify this identity's signatures with.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// The X25519 secret key of this key pair's Montgomery form (the first
    /// half of SHA-512 of the seed, as RFC 8032 expands it; X25519 clamps it).
    pub(crate) fn x25519_secret(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
    }
}

impl PublicKey {
    /// Bytes of a public key on the wire.
    pub const LEN: usize = 32;

    /// Checks that `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::BadKey)?;
        if key.is_weak() {
            return Err(SignatureError::BadKey);
        }
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &signature).map_err(|_| SignatureError::BadSignature)
    }
}

impl PublicKey {
    /// The key's first four bytes in hex, for one-line displays.
    pub fn short(&self) -> impl fmt::Display {
        struct Short([u8; 4]);
        impl fmt::Display for Short {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                hex(f, &self.0)
            }
        }
        Short([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

impl Signature {
    /// Bytes of a signature on the wire.
    pub const LEN: usize = 64;
}

/// Serde knows arrays up to 32 elements: a signature goes as its two halves.
#[cfg(feature = "serde")]
impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let halves: [[u8; 32]; 2] = core::array::from_fn(|h| core::array::from_fn(|i| self.0[32 * h + i]));
        halves.serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Signature, D::Error> {
        let halves = <[[u8; 32]; 2]>::deserialize(deserializer)?;
        Ok(Signature(core::array::from_fn(|i| halves[i / 32][i % 32])))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

impl fmt::Display for PublicKey {
    /// The key in lower-case hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex(f, &self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// Writes `bytes` in lower-case hex.
fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::BadKey => "not a valid Ed25519 public key",
            SignatureError::BadSignature => "the signature does not match the key and message",
        })
    }
}

impl core::error::Error for SignatureError {}

/// The fields a signature covers, one after the other, in `N` bytes (the
/// sum of their lengths; a shorter sum leaves zeros, a longer one panics in
/// tests of the caller, never on input: every caller's fields are fixed-size).
pub(crate) fn concat<const N: usize>(fields: &[&[u8]]) -> [u8; N] {
    let mut bytes = [0u8; N];
    let mut at = 0;
    for field in fields {
        bytes[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1: the empty message.
        let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let signature = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
        let identity = Identity::from_seed(seed);
        assert_eq!(identity.public_key(), PublicKey(public));
        let signed = identity.sign(b"");
        assert_eq!(std::format!("{signed:?}"), std::format!("Signature({signature})"));
        assert_eq!(identity.public_key().verify(b"", &signed), Ok(()));
        assert_eq!(identity.seed(), seed);
    }

    #[test]
    fn tampering_and_weak_keys_are_refused() {
        let identity = Identity::from_seed([1; 32]);
        let mut signature = identity.sign(b"message");
        signature.0[10] ^= 1;
        assert_eq!(identity.public_key().verify(b"message", &signature), Err(SignatureError::BadSignature));
        // The identity point (a small-order key) would accept forged signatures: refused.
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert_eq!(PublicKey(identity_point).verify(b"message", &signature), Err(SignatureError::BadKey));
        // Any other key fails.
        assert!(PublicKey([0xff; 32]).verify(b"message", &signature).is_err());
        assert!(!std::format!("{identity:?}").contains("seed"), "Debug shows the public key only");
    }

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        core::array::from_fn(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
    }
}
