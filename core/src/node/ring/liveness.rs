//! Liveness: who is still there, and what the node does when someone is not.
//!
//! Every `stabilise_interval` (jittered) the node stabilises with both
//! neighbours (see `stabilise`), which doubles as their liveness probe; every
//! `backup_probe_rounds` rounds it also pings its backups. Each friend not
//! heard from within `friend_probe_interval` is pinged, a friend believed dead
//! every `dead_friend_probe_interval`. Any datagram from a contact counts as
//! hearing from it.
//!
//! A probe retries `liveness_misses` times, `probe_timeout` apart; when all
//! go unanswered the contact is declared dead — unless the node heard from
//! nobody at all meanwhile. Then the node first checks its own link by
//! stabilising with its neighbours at once (and asks the contact again
//! later); if even a neighbour probe fails in total silence, it presumes its
//! own link down: it evicts no one, stabilises less often, and recovers as
//! soon as any datagram arrives.
//!
//! A dead neighbour or backup leaves the chains (the next backup is
//! promoted, and the change is announced); a dead friend stays in the table
//! but routing skips it until it answers again. A side left empty is sought
//! again from the nearest known contact on that side.

use crate::event::{CommandError, Event, RequestId};
use crate::id::{usable_address, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::neighbours::between;
use crate::tables::timers::Timer;
use crate::tables::transactions::{Purpose, Role, Transaction};
use crate::time::Instant;
use crate::wire::{Chain, Header, MessageType, Side};
use core::net::SocketAddrV6;

/// The share of the request table maintenance leaves free for commands and
/// relays: a quarter (8 of the desktop's 32 slots).
const RESERVED_SHARE: usize = 4;
/// While the link is presumed down, the stabilisation period grows up to this factor.
const LINK_DOWN_BACKOFF: u32 = 16;

impl<P: Profile> Node<P> {
    /// Notes that a datagram came from `from`.
    pub(crate) fn heard(&mut self, from: SocketAddrV6, header: &Header) {
        self.liveness.last_heard_any = self.now;
        if self.liveness.link_down {
            self.liveness.link_down = false;
            self.emit(Event::LinkUp);
            if self.timers.get(Timer::Maintenance).is_some() {
                self.timers.set(Timer::Maintenance, Some(self.now));
            }
        }
        let probe_at = self.now + self.config.friend_probe_interval;
        if let Some(friend) = self.liveness.friends.heard(from, header.sender.id, self.now, probe_at) {
            self.emit(Event::PeerUp { peer: friend });
            self.contact_up(friend.id);
            // A friend back from the dead may be back from another ring: it
            // could belong right next to us.
            self.consider(friend);
        }
    }

    /// The next instant periodic maintenance has work.
    pub(crate) fn next_maintenance(&self) -> Option<Instant> {
        if !self.config.maintenance || self.ring.leaving.is_some() || !self.is_member() {
            return None;
        }
        [self.timers.get(Timer::Maintenance), self.liveness.friends.next_probe()].into_iter().flatten().min()
    }

    /// Starts the stabilisation timer once the node is in a ring.
    pub(crate) fn schedule_maintenance(&mut self) {
        if self.config.maintenance && self.timers.get(Timer::Maintenance).is_none() && self.is_joined() {
            let at = Some(self.now + self.jittered(self.config.stabilise_interval));
            self.timers.set(Timer::Maintenance, at);
        }
        if self.timers.get(Timer::Publish).is_none() && self.is_member() {
            let at = Some(self.now + self.jittered(self.config.store_interval));
            self.timers.set(Timer::Publish, at);
        }
    }

    /// Runs whatever periodic maintenance is due at `now`.
    pub(crate) fn maintain(&mut self, now: Instant) {
        if self.timers.get(Timer::Maintenance).is_some_and(|at| at <= now) {
            let factor = if self.liveness.link_down { LINK_DOWN_BACKOFF } else { 1 };
            let period = self.jittered(self.config.stabilise_interval.saturating_mul(factor));
            self.timers.set(Timer::Maintenance, if self.is_joined() { Some(now + period) } else { None });
            self.stabilise_round();
        }
        let due: heapless::Vec<(ResourceLocator, bool, bool), { crate::config::MAX_FRIENDS }> = self
            .liveness
            .friends
            .due(now)
            .map(|f| (f.locator, f.alive && !f.suspect, f.last_heard + self.config.friend_probe_interval > now))
            .collect();
        for (friend, alive, heard_recently) in due {
            if !(alive && heard_recently) {
                self.probe(friend, Role::Friend);
            }
            let period = if alive { self.config.friend_probe_interval } else { self.config.dead_friend_probe_interval };
            let next = now + self.jittered(period);
            if let Some(f) = self.liveness.friends.get_mut(&friend) {
                f.next_probe = next;
            }
        }
    }

    /// Probes both neighbours (STABILISE) and, every few rounds, the backups (PING).
    fn stabilise_round(&mut self) {
        self.liveness.stabilise_rounds = self.liveness.stabilise_rounds.wrapping_add(1);
        self.hand_on_misplaced();
        for side in [Side::Left, Side::Right] {
            match self.ring.neighbours.neighbour(side).copied() {
                Some(neighbour) => self.probe(neighbour, Role::Neighbour(side)),
                None => self.seek(side),
            }
        }
        if self.liveness.stabilise_rounds % u32::from(self.config.backup_probe_rounds) == 0 {
            let backups: heapless::Vec<ResourceLocator, { 2 * crate::wire::MAX_CHAIN }> = [Side::Left, Side::Right]
                .into_iter()
                .flat_map(|side| self.ring.neighbours.chain(side).iter().skip(1).copied())
                .collect();
            for backup in backups {
                if self.ring.neighbours.left() != Some(&backup) && self.ring.neighbours.right() != Some(&backup) {
                    self.probe(backup, Role::Backup);
                }
            }
        }
    }

    /// Starts a liveness probe of `target` unless one is already out or the
    /// request table is nearly full.
    pub(crate) fn probe(&mut self, target: ResourceLocator, role: Role) {
        if self.ring.leaving.is_some() {
            return;
        }
        let already = self
            .requests
            .transactions
            .iter()
            .any(|tx| matches!(tx.purpose, Purpose::Probe { target: t, .. } if t.addr == target.addr));
        if already {
            return;
        }
        if let Role::Candidate(side) = role {
            // One candidate per side at a time: the nearest. A far one
            // (learned from a neighbour that is itself far off) must not
            // keep a nearer one (a node that says it is our neighbour) out.
            let pending =
                |tx: &Transaction| matches!(tx.purpose, Purpose::Probe { role: Role::Candidate(s), .. } if s == side);
            if let Some(index) = self.requests.transactions.position(pending) {
                let Purpose::Probe { target: current, .. } = self.requests.transactions.get_mut(index).purpose else {
                    return;
                };
                if !between(side, self.me.id, current.id, target.id) {
                    return;
                }
                self.requests.transactions.remove_at(index);
            }
        }
        // Neighbours and candidates keep the ring whole; backups and friends
        // leave room for commands and relays.
        let essential = matches!(role, Role::Neighbour(_) | Role::Candidate(_));
        let reserve = if essential { 0 } else { self.requests.transactions.capacity() / RESERVED_SHARE };
        if self.requests.transactions.room() <= reserve
            || self.start_request(target.addr, Purpose::Probe { target, role }).is_err()
        {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }

    /// A probe was answered (the answer itself was handled by its message's module).
    pub(crate) fn probe_answered(&mut self, _tx: &Transaction) {}

    /// A probe went unanswered every time.
    pub(crate) fn probe_failed(&mut self, tx: &Transaction) {
        let Purpose::Probe { target, role } = tx.purpose else { return };
        if self.liveness.last_heard_any < tx.started {
            // Nobody at all was heard while we waited: the silence may be ours.
            match role {
                Role::Neighbour(_) => {
                    // Our neighbours are probed every round; if even they are
                    // silent, blame our own link and evict no one.
                    if !self.liveness.link_down {
                        self.liveness.link_down = true;
                        self.emit(Event::LinkDown);
                    }
                }
                _ => {
                    // Check our link through the neighbours first, and ask
                    // this contact again once we know.
                    if self.timers.get(Timer::Maintenance).is_some() {
                        self.timers.set(Timer::Maintenance, Some(self.now));
                    }
                    if let Some(friend) = self.liveness.friends.get_mut(&target) {
                        friend.next_probe = self.now + self.config.probe_timeout;
                    }
                }
            }
            return;
        }
        // Whatever role it was probed in, a contact that never answered is
        // dead as a friend and as a chain member alike.
        let was_alive = self.liveness.friends.get_mut(&target).map(|f| core::mem::replace(&mut f.alive, false));
        if was_alive == Some(true) {
            if role == Role::Friend {
                self.emit(Event::PeerDown { peer: target });
            }
            // Probed as a friend or as a chain member: a contact shows offline either way.
            self.contact_down(target.id);
        }
        self.drop_contact(target);
    }

    /// Removes a dead contact from both chains, promoting the next backups.
    fn drop_contact(&mut self, dead: ResourceLocator) {
        let mut dropped = false;
        for side in [Side::Left, Side::Right] {
            let chain = self.ring.neighbours.chain(side);
            if chain.contains(&dead) {
                let kept: Chain = chain.iter().filter(|c| **c != dead).copied().collect();
                self.set_chain(side, kept, None);
                dropped = true;
            }
        }
        if !dropped {
            return;
        }
        // Whatever we still meant to tell it is moot.
        self.requests.transactions.retain(|tx| {
            tx.to != dead.addr || !matches!(tx.purpose, Purpose::NeighbourUpdate { .. } | Purpose::Probe { .. })
        });
        self.emit(Event::PeerDown { peer: dead });
        for side in [Side::Left, Side::Right] {
            match self.ring.neighbours.neighbour(side).copied() {
                // Tell the promoted neighbour about us at once.
                Some(neighbour) => self.probe(neighbour, Role::Neighbour(side)),
                None => self.seek(side),
            }
        }
    }

    /// Looks for a neighbour on an empty side: the known contact nearest on that side.
    fn seek(&mut self, side: Side) {
        let me = self.me.id;
        let distance = |c: &ResourceLocator| match side {
            Side::Right => me.distance_to(c.id),
            Side::Left => c.id.distance_to(me),
        };
        let nearest = self
            .ring
            .neighbours
            .contacts()
            .chain(self.liveness.friends.alive())
            .filter(|c| c.id != me)
            .min_by_key(|c| distance(c))
            .copied();
        if let Some(candidate) = nearest {
            self.probe(candidate, Role::Candidate(side));
        }
    }

    /// Pings `peer`; completes with [`Event::PingSucceeded`] or [`Event::PingFailed`].
    pub fn ping(&mut self, now: Instant, peer: SocketAddrV6) -> Result<RequestId, CommandError> {
        self.now = now;
        if !usable_address(&peer) {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        self.start_request(peer, Purpose::Ping { request })?;
        Ok(request)
    }

    pub(crate) fn handle_pong(&mut self, from: SocketAddrV6, header: &Header) -> Result<(), DropReason> {
        let tx = self.complete_request(header, MessageType::Pong, from, |_| true)?;
        match tx.purpose {
            Purpose::Ping { request } => {
                let rtt = self.now.saturating_duration_since(tx.sent_at);
                self.emit(Event::PingSucceeded { request, peer: from, rtt });
            }
            Purpose::Probe { .. } => self.probe_answered(&tx),
            Purpose::Handover { joiner, from } => self.hand_over(&joiner, from),
            Purpose::ProveChild { session } => self.child_proven(session, from),
            _ => {}
        }
        Ok(())
    }
}
