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

mod event;
mod session;

pub use event::{ConferenceEvent, LeftReason};
pub use session::{ParseSessionError, SessionId, MAX_CONF_TEXT, MAX_NAME_LEN};

use crate::id::Id;
use crate::identity::{Identity, PublicKey, Signature, SignatureError};

/// What every signed statement starts with.
const STATEMENT_CONTEXT: &[u8; 24] = b"mmp2p conference v1\0\0\0\0\0";

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
    /// The creator admits a member that joined, under the member's key
    /// (signed by the creator): the member's [`Certificate`].
    Admit {
        /// The conference.
        session: SessionId,
        /// Its creator.
        creator: Id,
        /// Who is admitted.
        member: Id,
        /// The member's identity key.
        key: PublicKey,
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

/// Bytes a statement's signature covers: context, kind, session, two IDs
/// and a key (zeros but in an admission).
pub const SIGNING_LEN: usize = STATEMENT_CONTEXT.len() + 1 + SessionId::LEN + 2 * 16 + PublicKey::LEN;

impl Statement {
    /// The member whose key must sign it.
    pub fn signer(&self) -> Id {
        match *self {
            Statement::Invite { creator, .. }
            | Statement::Admit { creator, .. }
            | Statement::Remove { creator, .. } => creator,
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
            | Statement::Admit { session, .. }
            | Statement::Remove { session, .. } => session,
        }
    }

    /// What its signature covers.
    pub fn signing_bytes(&self) -> [u8; SIGNING_LEN] {
        let none = PublicKey([0; PublicKey::LEN]);
        let (kind, first, second, key) = match *self {
            Statement::Invite { creator, invitee, .. } => (1u8, creator, invitee, none),
            Statement::Join { member, .. } => (2, member, Id(0), none),
            Statement::Decline { invitee, .. } => (3, invitee, Id(0), none),
            Statement::Leave { member, .. } => (4, member, Id(0), none),
            Statement::Remove { creator, member, .. } => (5, creator, member, none),
            Statement::Admit { creator, member, key, .. } => (6, creator, member, key),
        };
        let mut bytes = [0; SIGNING_LEN];
        let (context, rest) = bytes.split_at_mut(STATEMENT_CONTEXT.len());
        context.copy_from_slice(STATEMENT_CONTEXT);
        rest[0] = kind;
        rest[1..17].copy_from_slice(&self.session().0);
        rest[17..33].copy_from_slice(&first.to_be_bytes());
        rest[33..49].copy_from_slice(&second.to_be_bytes());
        rest[49..].copy_from_slice(&key.0);
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

/// A member's admission: its ID and identity key, signed by the
/// conference's creator ([`Statement::Admit`]). Members show it to one
/// another (joining the tree, signing chat), so any member that knows the
/// creator's key can check any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Certificate {
    /// The member.
    pub member: Id,
    /// Its identity key.
    pub key: PublicKey,
    /// The creator's signature of [`Statement::Admit`].
    pub signature: Signature,
}

impl Certificate {
    /// Bytes on the wire.
    pub const WIRE_LEN: usize = 16 + PublicKey::LEN + Signature::LEN;

    /// The creator's certificate for `member` holding `key` in `session`.
    pub fn issue(session: SessionId, creator: &Identity, creator_id: Id, member: Id, key: PublicKey) -> Certificate {
        let statement = Statement::Admit { session, creator: creator_id, member, key };
        Certificate { member, key, signature: statement.sign(creator) }
    }

    /// Checks it was issued for `session` by `creator`, whose key is `creator_key`.
    pub fn verify(&self, session: SessionId, creator: Id, creator_key: &PublicKey) -> Result<(), SignatureError> {
        let statement = Statement::Admit { session, creator, member: self.member, key: self.key };
        statement.verify(creator_key, &self.signature)
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
        let key = PublicKey([7; 32]);
        assert_eq!(Statement::Admit { session: s, creator: Id(1), member: Id(2), key }.signer(), Id(1));
    }

    #[test]
    fn a_certificate_binds_member_key_session_and_creator() {
        let creator = Identity::from_seed([5; 32]);
        let (s, c, m) = (SessionId([1; 16]), Id(10), Id(11));
        let key = Identity::from_seed([6; 32]).public_key();
        let certificate = Certificate::issue(s, &creator, c, m, key);
        assert!(certificate.verify(s, c, &creator.public_key()).is_ok());
        assert!(certificate.verify(SessionId([2; 16]), c, &creator.public_key()).is_err(), "another session");
        assert!(certificate.verify(s, Id(12), &creator.public_key()).is_err(), "another creator");
        let other_key = Certificate { key: Identity::from_seed([7; 32]).public_key(), ..certificate };
        assert!(other_key.verify(s, c, &creator.public_key()).is_err(), "another key");
        let other_member = Certificate { member: Id(13), ..certificate };
        assert!(other_member.verify(s, c, &creator.public_key()).is_err(), "another member");
        assert!(certificate.verify(s, c, &key).is_err(), "signed by the member itself");
    }
}
