//! A member improves its place: the order members join in decides who
//! finds room near the root, so an attached member looks again, now and
//! then, for a parent that gives it less delay from the root. It probes
//! the root and the members the answers name (at most [`REFINE_PROBES`]),
//! keeping its parent meanwhile, and moves only to a parent that cuts its
//! delay from the root by a fifth; its old parent is told to let it go.
//! It looks again [`REFINE_FIRST`] heartbeat periods after it attached,
//! then twice as long each time, and after [`REFINE_LOOKS`] looks in a row
//! that find nothing better every [`REFINE_LAST`] periods; not while a
//! stream it receives has yet to start playing, and not at all while its
//! delay is within a quarter of the direct path's (as its probe of the root
//! measured it).

use crate::conference::SessionId;
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::conferences::{Role, MAX_CONFERENCES};
use crate::tables::outbox::ConferenceOutgoing;
use crate::tables::transactions::Purpose;
use crate::tables::tree::{Phase, NEARER_BY_US};
use crate::time::Instant;
use crate::wire::TreeMode;
use core::net::SocketAddrV6;

/// Heartbeat periods after attaching before the first look for a better parent.
pub const REFINE_FIRST: u32 = 1;
/// Heartbeat periods between looks, at most.
pub const REFINE_LAST: u32 = 64;
/// Members one look probes at most.
pub const REFINE_PROBES: u8 = 6;
/// Looks in a row that find nothing better, after which a member looks
/// only every [`REFINE_LAST`] heartbeat periods (until it moves or is orphaned).
pub const REFINE_LOOKS: u8 = 3;

/// True if a place `delay_us` from the root is worth moving to from one
/// `current_us` away: a fifth less, and [`NEARER_BY_US`] less.
fn better(delay_us: u32, current_us: u32) -> bool {
    u64::from(delay_us) * 5 < u64::from(current_us) * 4 && current_us - delay_us >= NEARER_BY_US
}

/// True if a member `root_delay_us` from the root along the tree, whose
/// direct path is `direct_us` (0: unknown), may find a better place: its
/// delay is more than a quarter above the direct path's.
fn worth_looking(root_delay_us: u32, direct_us: u32) -> bool {
    direct_us == 0 || u64::from(root_delay_us) * 4 > u64::from(direct_us) * 5
}

impl<P: Profile> Node<P> {
    /// When an attached member next looks for a better parent.
    pub(crate) fn next_refinement(&self) -> Option<Instant> {
        self.conferences.iter().filter_map(|c| c.tree.next_look()).min()
    }

    /// Starts each look for a better parent that is due.
    pub(crate) fn refine_trees(&mut self, now: Instant) {
        let due: heapless::Vec<SessionId, MAX_CONFERENCES> = self
            .conferences
            .iter()
            .filter(|c| c.tree.next_look().is_some_and(|at| at <= now))
            .map(|c| c.session)
            .collect();
        for session in due {
            // A stream about to play is not disturbed: the look waits.
            let starting = self.conference_transfers.iter().any(|t| {
                t.session == session
                    && !t.source
                    && t.announcement.stream
                    && t.finished.is_none()
                    && t.playout.is_none()
            });
            let Ok(conference) = self.conferences.get_mut(session) else { continue };
            if starting {
                conference.tree.refine_at = Some(now + self.config.tree_heartbeat);
                continue;
            }
            let tree = &conference.tree;
            let root = conference.creator_locator().copied();
            match root.filter(|_| worth_looking(tree.root_delay_us, tree.root_distance_us)) {
                Some(root) if matches!(conference.role, Role::Member(_)) => {
                    conference.tree.start_refinement(root, REFINE_PROBES);
                    self.search_step(session);
                }
                _ => self.schedule_refinement(session),
            }
        }
    }

    /// A look for a better parent has its answers: asks the best to take
    /// us if it is better enough, else stays.
    pub(crate) fn refinement_done(&mut self, session: SessionId) {
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let tree = &mut conference.tree;
        let parent = tree.parent.map(|p| p.locator.id);
        let best = tree.best().copied().filter(|b| Some(b.locator.id) != parent);
        let Some(best) = best.filter(|b| better(b.delay_us, tree.root_delay_us)) else {
            return self.stay_placed(session);
        };
        tree.phase = Phase::Moving;
        let purpose = Purpose::TreeAttach { session, heartbeat: false };
        if self.start_request(best.locator.addr, purpose).is_err() {
            self.stay_placed(session);
        }
    }

    /// We keep our parent: the next look is scheduled.
    pub(crate) fn stay_placed(&mut self, session: SessionId) {
        if let Ok(conference) = self.conferences.get_mut(session) {
            if conference.tree.parent.is_some() {
                conference.tree.phase = Phase::Placed;
            }
        }
        self.schedule_refinement(session);
    }

    /// We took a parent: a move (`moving`) lets the old one go, at `old`;
    /// the next look is scheduled, from the start after a move.
    pub(crate) fn moved(&mut self, session: SessionId, old: Option<SocketAddrV6>, moving: bool) {
        if let Some(to) = old.filter(|_| moving) {
            self.send_conference(to, session, ConferenceOutgoing::TreeJoin { mode: TreeMode::Detach, certify: false });
        }
        if let Ok(conference) = self.conferences.get_mut(session) {
            conference.tree.refinements = 0;
        }
        self.schedule_refinement(session);
    }

    /// The next look for a better parent: twice as far off as the last;
    /// after [`REFINE_LOOKS`] in a row, [`REFINE_LAST`] periods off.
    fn schedule_refinement(&mut self, session: SessionId) {
        let (now, heartbeat) = (self.now, self.config.tree_heartbeat);
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let tree = &mut conference.tree;
        let periods = if tree.refinements < REFINE_LOOKS {
            REFINE_FIRST.saturating_mul(1 << tree.refinements).min(REFINE_LAST)
        } else {
            REFINE_LAST
        };
        tree.refine_at = Some(now + heartbeat * periods);
        tree.refinements = tree.refinements.saturating_add(1);
    }
}
