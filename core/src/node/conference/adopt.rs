//! A member's answers to TREE_JOIN: its place in the tree to a probe, and
//! to a member that asks to attach, a place as its child — if it is placed
//! itself, has room under its degree bound (`tree_children`), the asker is
//! not one of its ancestors and the tree would not grow too deep — or a
//! refusal naming children to try. A member shows its certificate unless
//! it is already the receiver's child; a child's repeated TREE_JOIN is its
//! heartbeat.

use crate::conference::SessionId;
use crate::id::ResourceLocator;
use crate::node::Node;
use crate::stats::DropReason;
use crate::tables::conferences::Role;
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::tables::transactions::Purpose;
use crate::tables::tree::{Link, Phase};
use crate::wire::{Header, TreeJoin, TreeStatus, MAX_DEPTH};
use core::net::SocketAddrV6;
use core::time::Duration;

impl Node {
    pub(crate) fn handle_tree_join(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        join: TreeJoin,
    ) -> Result<(), DropReason> {
        let session = join.session;
        let asker = ResourceLocator::new(header.sender.id, from);
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        if matches!(conference.role, Role::Invited | Role::Answering { .. }) {
            return Err(DropReason::NotInConference);
        }
        let now = self.now;
        let known = conference.tree.children.iter().position(|c| c.locator == asker);
        let status = match (known, join.attach) {
            (Some(index), true) => {
                if let Ok(conference) = self.conferences.get_mut(session) {
                    conference.tree.children[index].heard = now;
                }
                TreeStatus::Child
            }
            (Some(_), false) => TreeStatus::Info,
            (None, attach) => {
                if asker.id == conference.creator {
                    // The root attaches nowhere.
                    return Err(DropReason::NotInConference);
                }
                let key = self.member_key(session, asker.id, join.certificate)?;
                if !attach {
                    TreeStatus::Info
                } else if self
                    .adopt(session, Link { locator: asker, key, rtt: Duration::ZERO, heard: now, proven: false })
                {
                    // Transfers go to it once it answers a PING at that address.
                    if self.start_request(from, Purpose::ProveChild { session }).is_err() {
                        self.tree_neighbour_gone(session, asker.id);
                        return Err(DropReason::RequestTableFull);
                    }
                    TreeStatus::Child
                } else {
                    TreeStatus::Refused
                }
            }
        };
        let certify = status == TreeStatus::Child && known.is_none();
        let what = ConferenceOutgoing::TreeState { status, certify };
        self.send(Outgoing::Conference { to: from, txid: header.txid, session, what });
        Ok(())
    }

    /// Takes `link` as a child if the tree allows it.
    fn adopt(&mut self, session: SessionId, link: Link) -> bool {
        let (me, bound) = (self.me.id, usize::from(self.config.tree_children));
        let Ok(conference) = self.conferences.get_mut(session) else { return false };
        let tree = &mut conference.tree;
        let asker = link.locator.id;
        let placed = tree.phase == Phase::Placed && (tree.parent.is_some() || conference.role == Role::Creator);
        let is_parent = tree.parent.is_some_and(|p| p.locator.id == asker);
        let allowed = placed
            && asker != me
            && !is_parent
            && !tree.path.contains(&asker)
            && tree.depth() + 1 < MAX_DEPTH
            && tree.children.len() < bound;
        if !allowed {
            return false;
        }
        // The same member at a new address replaces its old entry.
        tree.children.retain(|c| c.locator.id != asker);
        tree.children.push(link).is_ok()
    }

    /// A child answered our PING: transfers go to it from now on.
    pub(crate) fn child_proven(&mut self, session: SessionId, addr: SocketAddrV6) {
        if let Ok(conference) = self.conferences.get_mut(session) {
            if let Some(child) = conference.tree.children.iter_mut().find(|c| c.locator.addr == addr) {
                child.proven = true;
            }
        }
    }

    /// A child never answered our PING: it is dropped.
    pub(crate) fn child_unproven(&mut self, session: SessionId, addr: SocketAddrV6) {
        if let Ok(conference) = self.conferences.get_mut(session) {
            conference.tree.children.retain(|c| c.locator.addr != addr || c.proven);
        }
    }

    /// Children we still take in `session`'s tree.
    pub(crate) fn spare_children(&self, session: SessionId) -> u8 {
        let Some(conference) = self.conferences.get(session) else { return 0 };
        let tree = &conference.tree;
        let placed = tree.phase == Phase::Placed && (tree.parent.is_some() || conference.role == Role::Creator);
        if !placed || tree.depth() + 1 >= MAX_DEPTH {
            return 0;
        }
        self.config.tree_children.saturating_sub(tree.children.len() as u8)
    }
}
