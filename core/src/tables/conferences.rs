//! The conferences a node is in, and who is in each: the membership that
//! the signed [`Statement`](crate::conference::Statement)s of
//! [`conference`](crate::conference) decide.
//!
//! Bounded: at most [`MAX_CONFERENCES`] conferences, [`MAX_MEMBERS`]
//! members each (the creator, those who joined and those still invited).
//! Only the creator invites and removes; an invitee joins or declines; a
//! member leaves; the creator leaving ends the conference. Each change
//! raises the conference's `version`, so members can tell a newer
//! membership from an older one.

use crate::capacity::Table;
use crate::conference::{Certificate, SessionId, MAX_NAME_LEN};
use crate::id::{Id, ResourceLocator};
use crate::profile::{Apps, WithApps};
use crate::tables::tree::Tree;
use core::fmt;

/// Conferences a node is in at once.
pub const MAX_CONFERENCES: usize = 4;
/// Members of one conference, its creator included.
pub const MAX_MEMBERS: usize = 64;

/// Where a member stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Invited, not yet answered.
    Invited,
    /// In the conference.
    Joined,
}

/// One member of a conference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its ID and address.
    pub locator: ResourceLocator,
    /// Invited or joined.
    pub standing: Standing,
}

/// What this node is in a conference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Its creator: the tree's root.
    Creator,
    /// Invited; the user has not answered.
    Invited,
    /// Our answer is on its way to the creator.
    Answering {
        /// True: we join; false: we decline.
        join: bool,
    },
    /// A member, admitted under this certificate.
    Member(Certificate),
}

/// One conference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conference {
    /// Its identifier.
    pub session: SessionId,
    /// Its name.
    pub name: heapless::String<MAX_NAME_LEN>,
    /// Its creator.
    pub creator: Id,
    /// The nonce its identifier was drawn with.
    pub nonce: u64,
    /// Raised by every change of membership.
    pub version: u32,
    /// What this node is in it.
    pub role: Role,
    /// Its delivery tree, as this node sees it.
    pub tree: Tree,
    /// Per chat sender, the number of its last message given to our user in order.
    pub heard: heapless::Vec<(Id, u32), MAX_MEMBERS>,
    /// The number of our last chat message.
    pub said: u32,
    /// A transfer whose pieces came before its first proof (which carries
    /// its announcement), and when we last asked for a proof of it.
    pub unannounced: Option<(u64, crate::time::Instant)>,
    members: heapless::Vec<Member, MAX_MEMBERS>,
}

impl Conference {
    /// Its members, the creator first.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The number of `sender`'s last chat message given to our user.
    pub fn heard_from(&self, sender: Id) -> u32 {
        self.heard.iter().find(|(id, _)| *id == sender).map_or(0, |(_, seq)| *seq)
    }

    /// Records `sender`'s message `seq` as given to our user; false if
    /// there is no room to track another sender.
    pub fn record_heard(&mut self, sender: Id, seq: u32) -> bool {
        match self.heard.iter_mut().find(|(id, _)| *id == sender) {
            Some(entry) => {
                entry.1 = seq;
                true
            }
            None => self.heard.push((sender, seq)).is_ok(),
        }
    }

    /// True if we take children in its tree: we are placed (its root, or
    /// attached) and a child of ours would not be too deep.
    pub fn takes_children(&self) -> bool {
        let tree = &self.tree;
        let placed = tree.is_placed() && (tree.parent.is_some() || self.role == Role::Creator);
        placed && tree.depth() + 1 < crate::wire::MAX_DEPTH
    }

    /// The creator's locator (the first member).
    pub fn creator_locator(&self) -> Option<&ResourceLocator> {
        self.members.first().map(|m| &m.locator)
    }

    /// Member `id`, if it is one (invited or joined).
    pub fn member(&self, id: Id) -> Option<&Member> {
        self.members.iter().find(|m| m.locator.id == id)
    }

    /// Those who joined (the creator included).
    pub fn joined(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.standing == Standing::Joined)
    }

    fn position(&self, id: Id) -> Option<usize> {
        self.members.iter().position(|m| m.locator.id == id)
    }

    fn changed(&mut self) {
        self.version = self.version.wrapping_add(1);
    }
}

/// Why a change of membership was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConferenceError {
    /// The node is in as many conferences as it can be.
    TooManyConferences,
    /// The conference has [`MAX_MEMBERS`] members.
    Full,
    /// The node is not in that conference.
    UnknownSession,
    /// Only the creator may do that.
    NotCreator,
    /// That ID is not invited (to join or decline) or not a member (to leave or be removed).
    NotMember,
    /// That ID is already invited or a member.
    AlreadyMember,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    NameTooLong,
    /// A transfer's rate is zero.
    ZeroRate,
}

impl fmt::Display for ConferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConferenceError::TooManyConferences => "in too many conferences already",
            ConferenceError::Full => "the conference is full",
            ConferenceError::UnknownSession => "no such conference",
            ConferenceError::NotCreator => "only the conference's creator may do that",
            ConferenceError::NotMember => "not a member (or not invited)",
            ConferenceError::AlreadyMember => "already invited or a member",
            ConferenceError::NameTooLong => "conference name too long",
            ConferenceError::ZeroRate => "a transfer needs a rate above zero",
        })
    }
}

impl core::error::Error for ConferenceError {}

/// The conferences of one node: up to [`MAX_CONFERENCES`] (none [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct Conferences<A: Apps = WithApps> {
    conferences: Table<Conference, A::List<MAX_CONFERENCES>>,
}

impl<A: Apps> Conferences<A> {
    /// Every conference the node is in.
    pub fn iter(&self) -> impl Iterator<Item = &Conference> {
        self.conferences.iter()
    }

    /// Conference `session`, if the node is in it.
    pub fn get(&self, session: SessionId) -> Option<&Conference> {
        self.conferences.iter().find(|c| c.session == session)
    }

    /// Starts a conference created by `creator` (joined) named `name`,
    /// with identifier [`SessionId::new`]`(creator, name, nonce)`.
    pub fn create(&mut self, creator: ResourceLocator, name: &str, nonce: u64) -> Result<SessionId, ConferenceError> {
        let session = SessionId::new(creator.id, name, nonce);
        self.enter(session, (creator, nonce), name, Role::Creator)?;
        Ok(session)
    }

    /// Enters conference `session`, created by `creator` with `nonce`, as
    /// `role` (the creator, or invited), with the creator its first member.
    pub fn enter(
        &mut self,
        session: SessionId,
        (creator, nonce): (ResourceLocator, u64),
        name: &str,
        role: Role,
    ) -> Result<(), ConferenceError> {
        let name = heapless::String::try_from(name).map_err(|_| ConferenceError::NameTooLong)?;
        if self.get(session).is_some() {
            return Err(ConferenceError::AlreadyMember);
        }
        let mut members = heapless::Vec::new();
        // Cannot fail: the list is empty.
        let _ = members.push(Member { locator: creator, standing: Standing::Joined });
        let tree = if role == Role::Creator { Tree::root() } else { Tree::detached() };
        let (heard, said) = (heapless::Vec::new(), 0);
        let conference = Conference {
            session,
            name,
            creator: creator.id,
            nonce,
            version: 0,
            role,
            tree,
            heard,
            said,
            unannounced: None,
            members,
        };
        self.conferences.push(conference).map_err(|_| ConferenceError::TooManyConferences)
    }

    /// Conference `session`, mutably.
    pub fn get_mut(&mut self, session: SessionId) -> Result<&mut Conference, ConferenceError> {
        self.conferences.iter_mut().find(|c| c.session == session).ok_or(ConferenceError::UnknownSession)
    }

    /// Every conference, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Conference> {
        self.conferences.iter_mut()
    }

    /// `by` invites `invitee` to `session`; only the creator may.
    pub fn invite(&mut self, session: SessionId, by: Id, invitee: ResourceLocator) -> Result<(), ConferenceError> {
        let conference = self.by_creator(session, by)?;
        if conference.position(invitee.id).is_some() {
            return Err(ConferenceError::AlreadyMember);
        }
        conference
            .members
            .push(Member { locator: invitee, standing: Standing::Invited })
            .map_err(|_| ConferenceError::Full)?;
        conference.changed();
        Ok(())
    }

    /// Invitee `member` joins `session`, at the address it answered from.
    pub fn join(&mut self, session: SessionId, member: ResourceLocator) -> Result<(), ConferenceError> {
        let conference = self.get_mut(session)?;
        let index = conference.position(member.id).ok_or(ConferenceError::NotMember)?;
        if conference.members[index].standing != Standing::Invited {
            return Err(ConferenceError::AlreadyMember);
        }
        conference.members[index] = Member { locator: member, standing: Standing::Joined };
        conference.changed();
        Ok(())
    }

    /// Invitee `invitee` declines `session`: it is no longer invited.
    pub fn decline(&mut self, session: SessionId, invitee: Id) -> Result<(), ConferenceError> {
        let conference = self.get_mut(session)?;
        match conference.position(invitee) {
            Some(index) if conference.members[index].standing == Standing::Invited => {
                conference.members.remove(index);
                conference.changed();
                Ok(())
            }
            _ => Err(ConferenceError::NotMember),
        }
    }

    /// `member` leaves `session`; the creator leaving ends it (true then:
    /// the conference is gone).
    pub fn leave(&mut self, session: SessionId, member: Id) -> Result<bool, ConferenceError> {
        let index =
            self.conferences.iter().position(|c| c.session == session).ok_or(ConferenceError::UnknownSession)?;
        let conference = &mut self.conferences[index];
        if member == conference.creator {
            self.conferences.swap_remove(index);
            return Ok(true);
        }
        let position = conference.position(member).ok_or(ConferenceError::NotMember)?;
        conference.members.remove(position);
        conference.changed();
        Ok(false)
    }

    /// `by` removes `member` from `session`; only the creator may, and not itself.
    pub fn remove(&mut self, session: SessionId, by: Id, member: Id) -> Result<(), ConferenceError> {
        let conference = self.by_creator(session, by)?;
        match conference.position(member) {
            Some(index) if member != by => {
                conference.members.remove(index);
                conference.changed();
                Ok(())
            }
            _ => Err(ConferenceError::NotMember),
        }
    }

    /// Forgets `session` (the node left it, or was removed).
    pub fn forget(&mut self, session: SessionId) -> bool {
        let before = self.conferences.len();
        self.conferences.retain(|c| c.session != session);
        self.conferences.len() < before
    }

    fn by_creator(&mut self, session: SessionId, by: Id) -> Result<&mut Conference, ConferenceError> {
        let conference = self.get_mut(session)?;
        if conference.creator != by {
            return Err(ConferenceError::NotCreator);
        }
        Ok(conference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tables::test_locator as who;

    #[test]
    fn invite_join_decline_leave_and_remove() {
        let mut table: Conferences = Conferences::default();
        let (creator, bob, carol, dave) = (who(1), who(2), who(3), who(4));
        let s = table.create(creator, "weekly", 9).expect("room");
        for invitee in [bob, carol, dave] {
            table.invite(s, creator.id, invitee).expect("creator invites");
        }
        assert_eq!(table.invite(s, creator.id, bob), Err(ConferenceError::AlreadyMember));
        assert_eq!(table.invite(s, bob.id, who(5)), Err(ConferenceError::NotCreator));
        table.join(s, bob).expect("invited");
        assert_eq!(table.join(s, bob), Err(ConferenceError::AlreadyMember));
        assert_eq!(table.join(s, who(6)), Err(ConferenceError::NotMember), "never invited");
        table.decline(s, carol.id).expect("invited");
        assert_eq!(table.decline(s, bob.id), Err(ConferenceError::NotMember), "joined: it leaves instead");
        let conference = table.get(s).expect("in it");
        let joined: Vec<Id> = conference.joined().map(|m| m.locator.id).collect();
        assert_eq!(joined, [creator.id, bob.id]);
        assert_eq!(conference.member(dave.id).map(|m| m.standing), Some(Standing::Invited));
        let version = conference.version;
        assert_eq!(table.remove(s, bob.id, dave.id), Err(ConferenceError::NotCreator));
        assert_eq!(table.remove(s, creator.id, creator.id), Err(ConferenceError::NotMember));
        table.remove(s, creator.id, dave.id).expect("the creator removes");
        assert_eq!(table.leave(s, bob.id), Ok(false));
        assert!(table.get(s).expect("still there").version > version);
        assert_eq!(table.leave(s, creator.id), Ok(true), "the creator leaving ends it");
        assert!(table.get(s).is_none());
    }

    #[test]
    fn conferences_and_members_are_bounded() {
        let mut table: Conferences = Conferences::default();
        let creator = who(1);
        let sessions: Vec<SessionId> =
            (0..MAX_CONFERENCES as u64).map(|n| table.create(creator, "c", n).expect("room")).collect();
        assert_eq!(table.create(creator, "c", 99), Err(ConferenceError::TooManyConferences));
        assert_eq!(table.create(creator, &"x".repeat(MAX_NAME_LEN + 1), 0), Err(ConferenceError::NameTooLong));
        let s = sessions[0];
        for n in 2..=MAX_MEMBERS as u16 {
            table.invite(s, creator.id, who(n)).expect("room");
        }
        assert_eq!(table.invite(s, creator.id, who(1000)), Err(ConferenceError::Full));
        assert_eq!(table.get(s).map(|c| c.members().len()), Some(MAX_MEMBERS));
        assert!(table.forget(s));
        assert_eq!(table.iter().count(), MAX_CONFERENCES - 1);
    }
}
