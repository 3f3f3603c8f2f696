//! A member's answers to TREE_JOIN: its place in the tree to a probe, and
//! to a member that asks to attach, a place as its child — if it is placed
//! itself, has room under its degree bound (`tree_children`) or a child
//! that takes fewer children than the asker (which it lets go), the asker
//! is not one of its ancestors and the tree would not grow too deep — or a
//! refusal naming children to try. A member shows its certificate unless
//! it is already the receiver's child; a child's repeated TREE_JOIN is its
//! heartbeat; a parent's TREE_JOIN that detaches lets its child go.

use crate::conference::SessionId;
use crate::id::ResourceLocator;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conferences::Role;
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::tables::transactions::Purpose;
use crate::tables::tree::{displaces, half_micros, Link};
use crate::wire::{Header, TreeJoin, TreeMode, TreeStatus};
use core::net::SocketAddrV6;
use core::time::Duration;

impl<P: Profile> Node<P> {
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
        let from_parent = conference.tree.parent.is_some_and(|p| p.locator == asker);
        let status = match (known, join.mode) {
            (Some(index), TreeMode::Attach) => {
                if let Ok(conference) = self.conferences.get_mut(session) {
                    let child = &mut conference.tree.children[index];
                    (child.heard, child.capacity) = (now, join.capacity);
                    if join.delay_us > 0 {
                        child.rtt = Duration::from_micros(2 * u64::from(join.delay_us));
                    }
                }
                TreeStatus::Child
            }
            // Our parent lets us go: another took our place under it.
            (_, TreeMode::Detach) if from_parent => {
                self.orphaned(session);
                TreeStatus::Info
            }
            // A child of ours moved to a better parent (it expects no answer).
            (Some(_), TreeMode::Detach) => {
                self.tree_neighbour_gone(session, asker.id);
                return Ok(());
            }
            (_, TreeMode::Detach) => return Err(DropReason::NotInConference),
            (Some(_), TreeMode::Probe) => TreeStatus::Info,
            (None, mode) => {
                if asker.id == conference.creator {
                    // The root attaches nowhere.
                    return Err(DropReason::NotInConference);
                }
                let key = self.member_key(session, asker.id, join.certificate)?;
                let link = Link {
                    locator: asker,
                    key,
                    rtt: Duration::from_micros(2 * u64::from(join.delay_us)),
                    heard: now,
                    proven: false,
                    capacity: join.capacity,
                    since: now,
                };
                if mode == TreeMode::Probe {
                    TreeStatus::Info
                } else if self.adopt(session, link) {
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
        // An attachment (not a heartbeat) gets our certificate, a repeated one too.
        let certify = status == TreeStatus::Child && join.certificate.is_some();
        let what = ConferenceOutgoing::TreeState { status, certify };
        self.send(Outgoing::Conference { to: from, txid: header.txid, session, what });
        Ok(())
    }

    /// Takes `link` as a child if the tree allows it: with room under our
    /// bound, or in the place of the weakest child (the one that takes the
    /// fewest children, the farthest of those) if `link` [`displaces`] it
    /// (that child is let go, and looks for another parent).
    fn adopt(&mut self, session: SessionId, link: Link) -> bool {
        let (me, bound) = (self.me.id, usize::from(self.config.tree_children));
        let (now, settle) = (self.now, self.settle_time(session));
        let Ok(conference) = self.conferences.get_mut(session) else { return false };
        let asker = link.locator.id;
        let takes = conference.takes_children();
        let tree = &mut conference.tree;
        let is_parent = tree.parent.is_some_and(|p| p.locator.id == asker);
        let allowed = takes && asker != me && !is_parent && !tree.path.contains(&asker);
        if !allowed || bound == 0 {
            return false;
        }
        // The same member at a new address replaces its old entry.
        tree.children.retain(|c| c.locator.id != asker);
        let mut released = None;
        if tree.children.len() >= bound {
            let (capacity, distance) = (link.capacity, half_micros(link.rtt));
            match tree.weakest_child(now, settle).map(|(i, c)| (i, *c)) {
                Some((index, child)) if displaces(capacity, distance, child.capacity, half_micros(child.rtt)) => {
                    tree.children.swap_remove(index);
                    released = Some(child.locator.addr);
                }
                _ => return false,
            }
        }
        let adopted = tree.children.push(link).is_ok();
        if let Some(to) = released {
            // A full request table: the child finds out at its next heartbeat.
            let _ = self.start_request(to, Purpose::TreeDetach { session });
        }
        adopted
    }

    /// How long a new child keeps its place whoever asks: while a file or
    /// stream flows in `session`, a heartbeat period (its first pieces come
    /// and a stream's first leaf plays within it); else no time at all.
    pub(crate) fn settle_time(&self, session: SessionId) -> Duration {
        let flowing = self.conference_transfers.iter().any(|t| t.session == session && t.finished.is_none());
        if flowing {
            self.config.tree_heartbeat
        } else {
            Duration::ZERO
        }
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

    /// Sets the children this node takes in a conference's tree (its upload
    /// budget divided by the conference's rate, at most
    /// [`MAX_TREE_CHILDREN`](crate::config::MAX_TREE_CHILDREN)); children
    /// already taken stay.
    pub fn set_tree_children(&mut self, children: u8) -> Result<(), crate::config::ConfigError> {
        let config = crate::config::Config { tree_children: children, ..self.config };
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// Children we still take in `session`'s tree.
    pub(crate) fn spare_children(&self, session: SessionId) -> u8 {
        let Some(conference) = self.conferences.get(session) else { return 0 };
        if !conference.takes_children() {
            return 0;
        }
        self.config.tree_children.saturating_sub(conference.tree.children.len() as u8)
    }
}
