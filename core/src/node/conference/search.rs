//! A member's search for its parent: it probes the root, then the members
//! the answers list (each answer lists some of the answerer's children),
//! at most [`MAX_PROBES`](crate::tables::tree::MAX_PROBES) of them,
//! [`PROBES_AT_ONCE`](crate::tables::tree::PROBES_AT_ONCE) at a time, and
//! asks the one that gives the least delay from the root — its delay plus
//! half the round trip measured by the probe — among those with room that
//! we are not an ancestor of and that are not too deep. A refusal moves on
//! to the next best; a search that finds none waits a heartbeat period and
//! starts again from the root.

use crate::conference::{ConferenceEvent, SessionId};
use crate::event::Event;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conferences::Role;
use crate::tables::transactions::Purpose;
use crate::tables::tree::{displaces, half_micros, Link, Offer, Phase};
use crate::wire::{Header, MessageType, TreeState, TreeStatus, MAX_DEPTH};
use core::net::SocketAddrV6;
use core::time::Duration;

/// Members probed after which an orphan's search takes the best place on
/// offer without waiting for the rest of its answers.
const PROBES_BEFORE_CHOOSING: u8 = 8;

impl<P: Profile> Node<P> {
    /// Sends the probes the search of `session` may send now; once it has
    /// nothing left to wait for, asks the best offer to take us.
    pub(crate) fn search_step(&mut self, session: SessionId) {
        loop {
            let Ok(conference) = self.conferences.get_mut(session) else { return };
            let Some(next) = conference.tree.next_probe() else { break };
            if self.start_request(next.addr, Purpose::TreeProbe { session }).is_err() {
                self.probe_done(session);
            }
        }
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        // Done when nothing is left to wait for — or, with a place on offer,
        // once enough members were probed (an orphan must not wait long).
        let tree = &conference.tree;
        let enough = tree.phase == Phase::Searching
            && tree.hurry
            && tree.probed >= PROBES_BEFORE_CHOOSING
            && tree.best().is_some();
        if !(tree.search_done() || enough) {
            return;
        }
        if tree.phase == Phase::Refining {
            return self.refinement_done(session);
        }
        match conference.tree.best().copied() {
            Some(best) => {
                conference.tree.phase = Phase::Attaching;
                let purpose = Purpose::TreeAttach { session, heartbeat: false };
                if self.start_request(best.locator.addr, purpose).is_err() {
                    self.search_later(session);
                }
            }
            None => self.search_later(session),
        }
    }

    /// Nobody took us: search again from the root a heartbeat period on.
    pub(crate) fn search_later(&mut self, session: SessionId) {
        let at = self.now + self.config.tree_heartbeat;
        if let Ok(conference) = self.conferences.get_mut(session) {
            conference.tree.phase = Phase::Waiting(at);
        }
    }

    /// Starts a search from the root of `session`'s tree (`hurry`: an
    /// orphan, which takes a good place soon rather than the best late).
    pub(crate) fn search_from_root(&mut self, session: SessionId, hurry: bool) {
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let Some(root) = conference.creator_locator().copied() else { return };
        if matches!(conference.role, Role::Member(_)) {
            conference.tree.start_search(&[root], hurry);
            self.search_step(session);
        }
    }

    fn probe_done(&mut self, session: SessionId) {
        if let Ok(conference) = self.conferences.get_mut(session) {
            conference.tree.outstanding = conference.tree.outstanding.saturating_sub(1);
        }
    }

    /// A probe went unanswered.
    pub(crate) fn tree_probe_failed(&mut self, session: SessionId) {
        self.probe_done(session);
        self.search_step(session);
    }

    /// The member we asked to take us never answered: try the next best.
    pub(crate) fn tree_attach_failed(&mut self, session: SessionId, to: SocketAddrV6, heartbeat: bool) {
        if heartbeat {
            return self.orphaned(session);
        }
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        if conference.tree.phase == Phase::Moving {
            return self.stay_placed(session);
        }
        if conference.tree.phase != Phase::Attaching {
            return;
        }
        conference.tree.offers.retain(|o| o.locator.addr != to);
        conference.tree.phase = Phase::Searching;
        self.search_step(session);
    }

    pub(crate) fn handle_tree_state(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        state: TreeState,
    ) -> Result<(), DropReason> {
        let session = state.session;
        let matches = |p: &Purpose| match *p {
            Purpose::TreeProbe { session: s } | Purpose::TreeAttach { session: s, .. } => s == session,
            _ => false,
        };
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        if header.sender.id == conference.creator && conference.creator_locator().map(|c| c.addr) != Some(from) {
            // Only the creator, where we know it, speaks as the root.
            return Err(DropReason::NotInConference);
        }
        let tx = self.complete_request(header, MessageType::TreeState, from, matches)?;
        // A round trip measured across a retransmission would be too short:
        // the probe's counts from its first transmission, a heartbeat's is not taken.
        let rtt = self.now.saturating_duration_since(if tx.attempts == 1 { tx.sent_at } else { tx.started });
        match tx.purpose {
            Purpose::TreeProbe { .. } => self.tree_probe_answered(header, &state, rtt),
            Purpose::TreeAttach { heartbeat: false, .. } => {
                if let Err(reason) = self.attach_answered(header, &state, rtt) {
                    // An answer we cannot take: on to the next offer.
                    self.tree_attach_failed(session, from, false);
                    return Err(reason);
                }
            }
            Purpose::TreeAttach { heartbeat: true, .. } => {
                self.heartbeat_answered(header, &state, (tx.attempts == 1).then_some(rtt))
            }
            Purpose::TreeDetach { .. } => {}
            _ => return Err(DropReason::InvalidReply),
        }
        Ok(())
    }

    fn tree_probe_answered(&mut self, header: &Header, state: &TreeState, rtt: Duration) {
        let session = state.session;
        self.probe_done(session);
        let (me, capacity) = (self.me.id, self.config.tree_children);
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        if !conference.tree.is_probing() {
            return;
        }
        // Room, or a child that takes fewer children than we do (or as many,
        // farther away), whose place we may take.
        let distance_us = half_micros(rtt);
        // A member looking for a better place takes only room (it displaces no one: no cascades).
        let refining = conference.tree.phase == Phase::Refining;
        let displacing = !refining && displaces(capacity, distance_us, state.weakest, state.weakest_delay_us);
        let room = state.spare > 0 || displacing;
        let eligible = room && !state.path.contains(&me) && state.path.len() + 1 < MAX_DEPTH;
        let delay_us = state.root_delay_us.saturating_add(distance_us);
        if header.sender.id == conference.creator {
            conference.tree.root_distance_us = distance_us;
        }
        conference.tree.offer(Offer { locator: header.sender, delay_us, distance_us, eligible });
        for candidate in state.candidates.iter().filter(|c| c.id != me) {
            conference.tree.enqueue(*candidate);
        }
        self.search_step(session);
    }

    fn attach_answered(&mut self, header: &Header, state: &TreeState, rtt: Duration) -> Result<(), DropReason> {
        let session = state.session;
        let parent = header.sender;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        let moving = conference.tree.phase == Phase::Moving;
        if conference.tree.phase != Phase::Attaching && !moving {
            return Err(DropReason::InvalidReply);
        }
        if moving && (state.status != TreeStatus::Child || state.path.contains(&self.me.id)) {
            self.stay_placed(session);
            return Ok(());
        }
        if state.status != TreeStatus::Child || state.path.contains(&self.me.id) {
            let Ok(conference) = self.conferences.get_mut(session) else { return Ok(()) };
            conference.tree.offers.retain(|o| o.locator.id != parent.id);
            conference.tree.phase = Phase::Searching;
            for candidate in state.candidates.iter() {
                conference.tree.enqueue(*candidate);
            }
            self.search_step(session);
            return Ok(());
        }
        let key = self.member_key(session, parent.id, state.certificate)?;
        let (now, heartbeat) = (self.now, self.config.tree_heartbeat);
        let Ok(conference) = self.conferences.get_mut(session) else { return Ok(()) };
        let link = Link { locator: parent, key, rtt, heard: now, proven: true, capacity: 0, since: now };
        let old = conference.tree.parent.filter(|old| old.locator != parent);
        conference.tree.attach(link, &state.path, state.root_delay_us, now, heartbeat);
        let (depth, root_delay_us) = (conference.tree.depth() as u8, conference.tree.root_delay_us);
        self.emit(Event::Conference(ConferenceEvent::Attached { session, parent: parent.id, depth, root_delay_us }));
        self.moved(session, old.map(|old| old.locator.addr), moving);
        Ok(())
    }

    fn heartbeat_answered(&mut self, header: &Header, state: &TreeState, rtt: Option<Duration>) {
        let session = state.session;
        let me = self.me.id;
        let now = self.now;
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let Some(parent) = conference.tree.parent.as_mut().filter(|p| p.locator.id == header.sender.id) else {
            return;
        };
        if state.status != TreeStatus::Child || state.path.contains(&me) {
            // Our parent no longer has us, or a loop formed: look again.
            return self.orphaned(session);
        }
        parent.heard = now;
        conference.tree.suspect = None;
        let Some(parent) = conference.tree.parent.as_mut() else { return };
        if let Some(rtt) = rtt {
            // Smoothed as RFC 6298 does: seven eighths of the old, one eighth of the new.
            parent.rtt = (parent.rtt * 7 + rtt) / 8;
        }
        let link = *parent;
        let tree = &mut conference.tree;
        tree.path.clear();
        for id in state.path.iter().chain(core::iter::once(&link.locator.id)).take(MAX_DEPTH) {
            // Cannot overflow: at most MAX_DEPTH are taken.
            let _ = tree.path.push(*id);
        }
        tree.root_delay_us = state.root_delay_us.saturating_add(half_micros(link.rtt));
    }

    /// Our parent is gone (silent, refused us, left, or a loop): we look
    /// for another, from the root.
    pub(crate) fn orphaned(&mut self, session: SessionId) {
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let Some(parent) = conference.tree.parent.take() else { return };
        conference.tree.path.clear();
        self.requests
            .transactions
            .retain(|tx| !matches!(tx.purpose, Purpose::TreeAttach { session: s, .. } if s == session));
        self.emit(Event::Conference(ConferenceEvent::Orphaned { session, parent: parent.locator.id }));
        self.search_from_root(session, true);
    }
}
