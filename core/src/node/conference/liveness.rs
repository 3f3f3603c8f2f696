//! Keeping the tree alive: each member sends its parent a heartbeat (a
//! TREE_JOIN that attaches again) every `tree_heartbeat`, sent up to
//! [`TREE_ATTEMPTS`](crate::tables::transactions::TREE_ATTEMPTS) times an
//! eighth of a period apart; a parent that answers none is presumed gone
//! and its child searches again — so an orphan starts looking at most
//! 1.5 periods after its parent went. While a transfer flows, its pieces
//! prove the parent alive: the child leaves out up to two heartbeats in a
//! row, and a parent silent for 150 ms while a transfer flows (some piece
//! before its end not yet in: the silence after its last piece means
//! nothing) is asked at once and must answer within three round trips (at
//! least 150 ms), so an orphan mid-transfer starts looking within 300 ms
//! to 600 ms. A parent drops a child it
//! has not heard for four periods; a member that leaves tells its
//! neighbours at once.

use crate::conference::SessionId;
use crate::id::Id;
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::conference_transfer::piece_count;
use crate::tables::conferences::MAX_CONFERENCES;
use crate::tables::transactions::Purpose;
use crate::tables::tree::Phase;
use crate::time::Instant;

/// Heartbeat periods a child may stay silent before its parent drops it.
const CHILD_SILENCE: u32 = 4;
/// Heartbeats a child leaves out in a row while transfer pieces come from
/// its parent (which then proves itself alive).
const MAX_SKIPPED: u8 = 2;
/// Silence of a parent mid-transfer after which the child asks it at once
/// (a stream at 64 KiB/s sends a piece every 16 ms).
const DATA_SILENCE: core::time::Duration = core::time::Duration::from_millis(150);
/// The least a silent parent has to answer that quick heartbeat.
const SUSPECT_GRACE: core::time::Duration = core::time::Duration::from_millis(150);

impl<P: Profile> Node<P> {
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
                let quiet = tree.data_at.filter(|_| tree.suspect.is_none()).map(|at| at + DATA_SILENCE);
                let suspect = tree.suspect.map(|(_, by)| by);
                [waiting, heartbeat, child, quiet, suspect]
            })
            .flatten()
            .chain(self.next_chat_retry())
            .chain(self.next_refinement())
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
        self.refine_trees(now);
        self.release_pieces(now);
        self.send_pulls(now);
        self.play_streams(now);
        self.expire_transfers(now);
        let silence = self.config.tree_heartbeat * CHILD_SILENCE;
        let sessions: heapless::Vec<SessionId, MAX_CONFERENCES> = self.conferences.iter().map(|c| c.session).collect();
        for session in sessions {
            // Silence after a transfer's last piece is no sign of a parent gone.
            let flowing = self.conference_transfers.iter().any(|t| {
                t.session == session && !t.source && t.finished.is_none() && t.front < piece_count(t.content())
            });
            let Ok(conference) = self.conferences.get_mut(session) else { continue };
            let tree = &mut conference.tree;
            tree.children.retain(|child| child.heard + silence > now);
            if matches!(tree.phase, Phase::Waiting(at) if at <= now) {
                let hurry = tree.hurry;
                self.search_from_root(session, hurry);
                continue;
            }
            let Some(parent) = tree.parent else { continue };
            // A parent silent mid-transfer is asked at once, and must answer quickly.
            if let Some((since, _)) = tree.suspect.filter(|(_, by)| *by <= now) {
                tree.suspect = None;
                if parent.heard < since {
                    self.orphaned(session);
                }
                continue;
            }
            let quiet = tree.suspect.is_none() && tree.data_at.is_some_and(|at| at + DATA_SILENCE <= now);
            if quiet {
                tree.data_at = None;
            }
            let quiet = quiet && flowing;
            if quiet {
                tree.suspect = Some((now, now + SUSPECT_GRACE.max(parent.rtt * 3)));
            }
            let due = tree.heartbeat_at.is_some_and(|at| at <= now);
            if !due && !quiet {
                continue;
            }
            if due {
                tree.heartbeat_at = Some(now + self.config.tree_heartbeat);
                // Pieces from the parent prove it alive: the heartbeat waits, up to a point.
                let fed = tree.data_at.is_some_and(|at| at + self.config.tree_heartbeat > now);
                if fed && tree.skipped < MAX_SKIPPED && !quiet {
                    tree.skipped += 1;
                    continue;
                }
                tree.skipped = 0;
            }
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
