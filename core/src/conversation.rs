//! End-to-end keys between two identities, for chat.
//!
//! Two friends agree on a key without exchanging anything but their
//! identity keys: each converts its Ed25519 key pair to X25519 (the
//! birational map of RFC 7748 §4.1, as libsodium's
//! `crypto_sign_ed25519_pk_to_curve25519`) and runs X25519 with the
//! other's public key. The shared secret, with both public keys in order,
//! goes through BLAKE3's key derivation (context `mmp2p conversation v1`)
//! to give the conversation's 32-byte key. Datagrams are sealed in place
//! with XChaCha20-Poly1305 (ChaCha20-Poly1305 of RFC 8439 with the 24-byte
//! nonce of draft-irtf-cfrg-xchacha), a 16-byte tag beside them. The nonce
//! is a [`Seal`]: one byte for the direction (0 from the lower public key,
//! 1 from the higher), one for the kind of datagram, six zero bytes and two
//! 64-bit numbers, big-endian, that tell the datagrams of a kind apart. A
//! chat fragment's numbers are the sender's run epoch (drawn afresh each
//! time a node starts) and its position in the conversation, so a nonce
//! never repeats under a key even when a restarted sender lost count; an
//! acknowledgement's are its whole contents, so equal nonces seal equal
//! (empty) messages. Nothing here allocates.
//!
//! ```
//! use mmp2p_core::conversation::{ConversationKey, Seal, SealKind};
//! use mmp2p_core::identity::Identity;
//!
//! let (alice, bob) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
//! let at_alice = ConversationKey::agree(&alice, &bob.public_key()).unwrap();
//! let at_bob = ConversationKey::agree(&bob, &alice.public_key()).unwrap();
//! let mut message = *b"hello, bob";
//! let seal = Seal { kind: SealKind::Chat, first: 7, second: 1 };
//! let tag = at_alice.seal(seal, b"header", &mut message);
//! assert_ne!(&message, b"hello, bob");
//! at_bob.open(seal, b"header", &mut message, &tag).unwrap();
//! assert_eq!(&message, b"hello, bob");
//! ```

use crate::identity::{Identity, PublicKey};
use chacha20poly1305::{AeadInOut, Key, KeyInit, XChaCha20Poly1305, XNonce};
use core::fmt;
use ed25519_dalek::VerifyingKey;

/// What BLAKE3 derives a conversation key under.
const CONTEXT: &str = "mmp2p conversation v1";
/// Bytes of the tag a sealed message carries.
pub const TAG_LEN: usize = 16;

/// What a sealed datagram is: with the direction, its nonce's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealKind {
    /// A fragment of a chat message.
    Chat = 0,
    /// An acknowledgement of a chat fragment (and a delivery receipt).
    ChatAck = 1,
    /// The end of a friendship.
    Unfriend = 2,
}

/// A sealed datagram's nonce, less its direction: its kind and two numbers
/// that no two different datagrams of that kind from one side share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seal {
    /// What the datagram is.
    pub kind: SealKind,
    /// Its first number (a chat fragment: the sender's run epoch).
    pub first: u64,
    /// Its second number (a chat fragment: its sequence number and fragment).
    pub second: u64,
}

/// The key two identities share, as one of them holds it: it seals in
/// that holder's direction and opens the other's.
#[derive(Clone, PartialEq, Eq)]
pub struct ConversationKey {
    key: [u8; 32],
    /// The holder's public key is the lower of the two.
    mine_lower: bool,
}

/// Why no key could be agreed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgreementError {
    /// The peer's key is not a valid Ed25519 public key, or a weak one.
    BadKey,
    /// The peer's key is our own: there is no one to talk to.
    OwnKey,
}

/// A sealed message did not open: altered, or not sealed under this key,
/// nonce and associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenError;

impl ConversationKey {
    /// The key `me` shares with the holder of `peer`.
    pub fn agree(me: &Identity, peer: &PublicKey) -> Result<ConversationKey, AgreementError> {
        let mine = me.public_key();
        if *peer == mine {
            return Err(AgreementError::OwnKey);
        }
        let theirs = VerifyingKey::from_bytes(&peer.0).map_err(|_| AgreementError::BadKey)?;
        if theirs.is_weak() {
            return Err(AgreementError::BadKey);
        }
        let shared = theirs.to_montgomery().mul_clamped(me.x25519_secret()).to_bytes();
        let (lower, higher) = if mine < *peer { (mine, *peer) } else { (*peer, mine) };
        let mut material = [0u8; 96];
        material[..32].copy_from_slice(&shared);
        material[32..64].copy_from_slice(&lower.0);
        material[64..].copy_from_slice(&higher.0);
        Ok(ConversationKey { key: blake3::derive_key(CONTEXT, &material), mine_lower: lower == mine })
    }

    /// The nonce of `seal` sent by the holder (`mine`) or by the other side.
    fn nonce(&self, mine: bool, seal: Seal) -> XNonce {
        let mut nonce = [0u8; 24];
        nonce[0] = u8::from(mine != self.mine_lower);
        nonce[1] = seal.kind as u8;
        nonce[8..16].copy_from_slice(&seal.first.to_be_bytes());
        nonce[16..].copy_from_slice(&seal.second.to_be_bytes());
        XNonce::from(nonce)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.key))
    }

    /// Seals `message` in place as `seal` from the holder, binding
    /// `associated` (sent in clear); returns the tag.
    pub fn seal(&self, seal: Seal, associated: &[u8], message: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = self.nonce(true, seal);
        // Cannot fail: XChaCha20-Poly1305 takes up to 2^38 bytes, and a message is one datagram.
        let tag = self.cipher().encrypt_inout_detached(&nonce, associated, message.into()).unwrap_or_default();
        tag.into()
    }

    /// Opens `message` in place, sealed as `seal` by the other side with
    /// `associated`; on failure the message is left as it was.
    pub fn open(
        &self,
        seal: Seal,
        associated: &[u8],
        message: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        let nonce = self.nonce(false, seal);
        self.cipher().decrypt_inout_detached(&nonce, associated, message.into(), &(*tag).into()).map_err(|_| OpenError)
    }
}

impl fmt::Debug for ConversationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConversationKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Identity, Identity, ConversationKey, ConversationKey) {
        let (alice, bob) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
        let a = ConversationKey::agree(&alice, &bob.public_key()).unwrap();
        let b = ConversationKey::agree(&bob, &alice.public_key()).unwrap();
        (alice, bob, a, b)
    }

    #[test]
    fn the_montgomery_public_key_is_the_x25519_key_of_the_secret() {
        let alice = Identity::from_seed([9; 32]);
        let public = VerifyingKey::from_bytes(&alice.public_key().0).unwrap().to_montgomery();
        let from_secret = curve25519_dalek::montgomery::MontgomeryPoint::mul_base_clamped(alice.x25519_secret());
        assert_eq!(public, from_secret);
    }

    #[test]
    fn both_sides_agree_and_a_third_does_not() {
        let (alice, bob, a, b) = pair();
        assert_eq!(a.key, b.key);
        let carol = Identity::from_seed([3; 32]);
        let c = ConversationKey::agree(&carol, &bob.public_key()).unwrap();
        assert_ne!(c.key, a.key);
        assert_eq!(ConversationKey::agree(&alice, &alice.public_key()).unwrap_err(), AgreementError::OwnKey);
        assert_eq!(ConversationKey::agree(&alice, &PublicKey([0; 32])).unwrap_err(), AgreementError::BadKey);
    }

    #[test]
    fn only_the_exact_nonce_direction_and_data_open() {
        let (_, _, a, b) = pair();
        let at = |second: u64| Seal { kind: SealKind::Chat, first: 3, second };
        let mut message = *b"see you at eight";
        let tag = a.seal(at(7), b"chat", &mut message);
        let mut opened = message;
        assert_eq!(b.open(at(7), b"chat", &mut opened, &tag), Ok(()));
        assert_eq!(&opened, b"see you at eight");
        // Another number, kind, direction or associated data, a flipped bit: refused, message untouched.
        let ack = Seal { kind: SealKind::ChatAck, ..at(7) };
        let epoch = Seal { first: 4, ..at(7) };
        for (opener, seal, associated, flip) in [
            (&b, at(8), &b"chat"[..], false),
            (&b, ack, &b"chat"[..], false),
            (&b, epoch, &b"chat"[..], false),
            // Alice's own key opens only Bob's direction.
            (&a, at(7), &b"chat"[..], false),
            (&b, at(7), &b"chaT"[..], false),
            (&b, at(7), &b"chat"[..], true),
        ] {
            let mut tampered = message;
            tampered[0] ^= u8::from(flip);
            let before = tampered;
            assert_eq!(opener.open(seal, associated, &mut tampered, &tag), Err(OpenError));
            assert_eq!(tampered, before);
        }
        // The two directions never share a nonce: the same numbers seal differently.
        let mut other = *b"see you at eight";
        b.seal(at(7), b"chat", &mut other);
        assert_ne!(other, message);
    }
}
