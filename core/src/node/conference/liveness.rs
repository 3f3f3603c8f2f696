//! Keeping the tree alive: each member sends its parent a heartbeat (a
//! TREE_JOIN that attaches again) every `tree_heartbeat`, sent up to
//! [`TREE_ATTEMPTS`](crate::tables::transactions::TREE_ATTEMPTS) times an
//! eighth of a period apart; a parent that answers none is presumed gone
//! and its child searches again — so an orphan starts looking at most
//! 1.5 periods after its parent went. A parent drops a child
//! it has not heard for three periods; a member that leaves tells its
//! neighbours at once.

use crate::conference::SessionId;
use crate::id::Id;
use crate::node::Node;
use crate::tables::conferences::MAX_CONFERENCES;
use crate::tables::transactions::Purpose;
use crate::tables::tree::Phase;
use crate::time::Instant;

/// Heartbeat periods a child may stay silent before its parent drops it.
const CHILD_SILENCE: u32 = 3;

impl Node {
    /// When a tree next has work: a heartbeat due, a search to start again,
    /// a silent child to drop.
    pub(crate) fn tree_deadline(&self) -> Option<Instant> {
        let silence = self.config.tree_heartbeat * CHILD_SILENCE;
        self.conferences
            .iter()
            .flat_map(|c| {
                let tree = &c.tree;
                let waiting = match tree.phase {
                    Phase::Waiting(at) => Some(at),
                    _ => None,
                };
                let heartbeat = tree.parent.and(tree.heartbeat_at);
                let child = tree.children.iter().map(|child| child.heard + silence).min();
                [waiting, heartbeat, child]
            })
            .flatten()
            .chain(self.next_chat_retry())
            .chain(self.next_piece_due())
            .chain(self.next_pull())
            .chain(self.next_playout())
            .chain(
                self.conference_transfers
                    .iter()
                    .filter_map(|t| t.finished)
                    .map(|at| at + crate::tables::conference_transfer::LINGER),
            )
            .min()
    }

    /// Serves every tree's due work, and held chat messages to send again.
    pub(crate) fn tree_timers(&mut self, now: Instant) {
        self.retry_chats(now);
        self.send_pulls(now);
        self.play_streams(now);
        self.expire_transfers(now);
        let silence = self.config.tree_heartbeat * CHILD_SILENCE;
        let sessions: heapless::Vec<SessionId, MAX_CONFERENCES> = self.conferences.iter().map(|c| c.session).collect();
        for session in sessions {
            let Ok(conference) = self.conferences.get_mut(session) else { continue };
            let tree = &mut conference.tree;
            tree.children.retain(|child| child.heard + silence > now);
            if matches!(tree.phase, Phase::Waiting(at) if at <= now) {
                self.search_from_root(session);
                continue;
            }
            let due = tree.parent.is_some() && tree.heartbeat_at.is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            let Some(parent) = tree.parent else { continue };
            tree.heartbeat_at = Some(now + self.config.tree_heartbeat);
            let outstanding = self
                .requests
                .transactions
                .iter()
                .any(|tx| matches!(tx.purpose, Purpose::TreeAttach { session: s, .. } if s == session));
            if !outstanding {
                // A full request table skips this heartbeat; the next comes a period on.
                let _ = self.start_request(parent.locator.addr, Purpose::TreeAttach { session, heartbeat: true });
            }
        }
    }

    /// `member` left or was removed: drop it as a child, or look for a
    /// new parent if it was ours.
    pub(crate) fn tree_neighbour_gone(&mut self, session: SessionId, member: Id) {
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        conference.tree.children.retain(|c| c.locator.id != member);
        if conference.tree.parent.is_some_and(|p| p.locator.id == member) {
            self.orphaned(session);
        }
    }
}
