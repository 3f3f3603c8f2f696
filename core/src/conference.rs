//! Conferences: a session's identifier and the statements about its
//! membership that members sign.
//!
//! A conference is named by a [`SessionId`]: the first 16 bytes of BLAKE3
//! in key-derivation mode (context `mmp2p conference session v1`) over the
//! creator's ID, the conference's name and a 64-bit nonce the creator
//! draws, so two conferences of one creator with one name still differ.
//! Who is in it is decided by signed [`Statement`]s: the creator invites a
//! friend and may remove a member; an invitee joins or declines; a member
//! leaves. Each statement is signed over its [`signing bytes`](Statement::signing_bytes):
//! a context string, the statement's kind, the session, and the IDs it names,
//! so no signature can be replayed as another kind, for another session or
//! another member. Nothing here allocates.
//!
//! ```
//! use mmp2p_core::conference::{SessionId, Statement};
//! use mmp2p_core::identity::Identity;
//! use mmp2p_core::Id;
//!
//! let (alice, bob) = (Id::from_email("alice@example.org"), Id::from_email("bob@example.org"));
//! let session = SessionId::new(alice, "weekly", 7);
//! let key = Identity::from_seed([1; 32]);
//! let invite = Statement::Invite { session, creator: alice, invitee: bob };
//! let signature = invite.sign(&key);
//! assert!(invite.verify(&key.public_key(), &signature).is_ok());
//! let forged = Statement::Invite { session, creator: alice, invitee: Id::from_email("eve@example.org") };
//! assert!(forged.verify(&key.public_key(), &signature).is_err());
//! ```

use crate::id::Id;
use crate::identity::{Identity, PublicKey, Signature, SignatureError};
use core::fmt;

/// What BLAKE3 derives session identifiers under.
const SESSION_CONTEXT: &str = "mmp2p conference session v1";
/// What every signed statement starts with.
const STATEMENT_CONTEXT: &[u8; 24] = b"mmp2p conference v1\0\0\0\0\0";
/// Longest conference name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 32;

/// A conference's identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// Bytes on the wire.
    pub const LEN: usize = 16;

    /// The identifier of `creator`'s conference `name` drawn with `nonce`.
    pub fn new(creator: Id, name: &str, nonce: u64) -> SessionId {
        let mut hasher = blake3::Hasher::new_derive_key(SESSION_CONTEXT);
        hasher.update(&creator.to_be_bytes());
        hasher.update(&(name.len() as u64).to_be_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&nonce.to_be_bytes());
        let mut id = [0; 16];
        id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        SessionId(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A signed statement about a conference's membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statement {
    /// The creator invites `invitee` (signed by the creator).
    Invite {
        /// The conference.
        session: SessionId,
        /// Its creator.
        creator: Id,
        /// Who is invited.
        invitee: Id,
    },
    /// An invitee joins (signed by the invitee).
    Join {
        /// The conference.
        session: SessionId,
        /// Who joins.
        member: Id,
    },
    /// An invitee declines (signed by the invitee).
    Decline {
        /// The conference.
        session: SessionId,
        /// Who declines.
        invitee: Id,
    },
    /// A member leaves (signed by the member).
    Leave {
        /// The conference.
        session: SessionId,
        /// Who leaves.
        member: Id,
    },
    /// The creator removes a member (signed by the creator).
    Remove {
        /// The conference.
        session: SessionId,
        /// Its creator.
        creator: Id,
        /// Who is removed.
        member: Id,
    },
}

/// Bytes a statement's signature covers: context, kind, session, two IDs.
pub const SIGNING_LEN: usize = STATEMENT_CONTEXT.len() + 1 + SessionId::LEN + 2 * 16;

impl Statement {
    /// The member whose key must sign it.
    pub fn signer(&self) -> Id {
        match *self {
            Statement::Invite { creator, .. } | Statement::Remove { creator, .. } => creator,
            Statement::Join { member, .. } | Statement::Leave { member, .. } => member,
            Statement::Decline { invitee, .. } => invitee,
        }
    }

    /// The conference it is about.
    pub fn session(&self) -> SessionId {
        match *self {
            Statement::Invite { session, .. }
            | Statement::Join { session, .. }
            | Statement::Decline { session, .. }
            | Statement::Leave { session, .. }
            | Statement::Remove { session, .. } => session,
        }
    }

    /// What its signature covers.
    pub fn signing_bytes(&self) -> [u8; SIGNING_LEN] {
        let (kind, first, second) = match *self {
            Statement::Invite { creator, invitee, .. } => (1u8, creator, invitee),
            Statement::Join { member, .. } => (2, member, Id(0)),
            Statement::Decline { invitee, .. } => (3, invitee, Id(0)),
            Statement::Leave { member, .. } => (4, member, Id(0)),
            Statement::Remove { creator, member, .. } => (5, creator, member),
        };
        let mut bytes = [0; SIGNING_LEN];
        let (context, rest) = bytes.split_at_mut(STATEMENT_CONTEXT.len());
        context.copy_from_slice(STATEMENT_CONTEXT);
        rest[0] = kind;
        rest[1..17].copy_from_slice(&self.session().0);
        rest[17..33].copy_from_slice(&first.to_be_bytes());
        rest[33..49].copy_from_slice(&second.to_be_bytes());
        bytes
    }

    /// Signs it with `identity` (the [`signer`](Statement::signer)'s).
    pub fn sign(&self, identity: &Identity) -> Signature {
        identity.sign(&self.signing_bytes())
    }

    /// Checks `signature` under `key`, the signer's registered key.
    pub fn verify(&self, key: &PublicKey, signature: &Signature) -> Result<(), SignatureError> {
        key.verify(&self.signing_bytes(), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_differ_by_creator_name_and_nonce() {
        let (a, b) = (Id::from_email("a@x"), Id::from_email("b@x"));
        let base = SessionId::new(a, "talk", 1);
        assert_eq!(base, SessionId::new(a, "talk", 1), "deterministic");
        for other in [SessionId::new(b, "talk", 1), SessionId::new(a, "talk2", 1), SessionId::new(a, "talk", 2)] {
            assert_ne!(base, other);
        }
        // The name's length is hashed: a name cannot borrow the nonce's bytes.
        assert_ne!(SessionId::new(a, "t", 0), SessionId::new(a, "t\0", 0));
    }

    #[test]
    fn a_signature_covers_kind_session_and_members() {
        let key = Identity::from_seed([3; 32]);
        let (a, b, c) = (Id(1), Id(2), Id(3));
        let (s, t) = (SessionId([1; 16]), SessionId([2; 16]));
        let statement = Statement::Remove { session: s, creator: a, member: b };
        let signature = statement.sign(&key);
        assert!(statement.verify(&key.public_key(), &signature).is_ok());
        let others = [
            Statement::Invite { session: s, creator: a, invitee: b },
            Statement::Remove { session: t, creator: a, member: b },
            Statement::Remove { session: s, creator: a, member: c },
            Statement::Leave { session: s, member: a },
        ];
        for other in others {
            assert!(other.verify(&key.public_key(), &signature).is_err(), "{other:?}");
        }
        assert!(statement.verify(&Identity::from_seed([4; 32]).public_key(), &signature).is_err());
    }

    #[test]
    fn each_statement_names_its_signer() {
        let s = SessionId([9; 16]);
        assert_eq!(Statement::Invite { session: s, creator: Id(1), invitee: Id(2) }.signer(), Id(1));
        assert_eq!(Statement::Join { session: s, member: Id(2) }.signer(), Id(2));
        assert_eq!(Statement::Decline { session: s, invitee: Id(2) }.signer(), Id(2));
        assert_eq!(Statement::Leave { session: s, member: Id(2) }.signer(), Id(2));
        assert_eq!(Statement::Remove { session: s, creator: Id(1), member: Id(2) }.signer(), Id(1));
    }
}
