//! Replication and handover (beyond the paper): a crash must not lose
//! locators until the next refresh, and a join must not hide them.
//!
//! Every `store_interval` (jittered) a node copies the verified entries it is
//! responsible for to every node of its right chain, its backup successors:
//! when it dies, the next node is responsible at once and already holds them.
//! When a node accepts a joiner, it checks the joiner's address (a PING whose
//! nonce it must echo) and then hands over the entries whose keys now fall in
//! the joiner's range. A copy carries the time its entry has left, so it
//! never outlives the owner's latest refresh: only the owner extends an entry.
//! A node takes copies only from its left chain (replication) and its right
//! neighbour (handover).

use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::Outgoing;
use crate::tables::store::{Origin, StoreRefusal};
use crate::tables::timers::Timer;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{Chain, Header, Message, ReplicaEntry, Side, MAX_REPLICATE_BATCH};
use core::net::SocketAddrV6;
use core::time::Duration;

/// REPLICATE datagrams sent to each successor per period; larger stores are
/// covered over several periods, in turn.
const CHUNKS_PER_PERIOD: usize = 3;
/// Outbox slots copies leave free for the ring's own traffic.
const OUTBOX_RESERVE: usize = 8;

impl Node {
    /// Copies (a turn of) our verified entries to every node of our right chain.
    pub(crate) fn replicate(&mut self) {
        let (Some(left), me) = (self.ring.neighbours.left().copied(), self.me.id) else { return };
        let entries = self.dht.store.in_range(left.id, me).filter(|e| e.verified).count();
        if entries == 0 {
            return;
        }
        let chunks = entries.div_ceil(MAX_REPLICATE_BATCH);
        let first = self.dht.replicate_turn % chunks;
        self.dht.replicate_turn = self.dht.replicate_turn.wrapping_add(CHUNKS_PER_PERIOD);
        let successors: Chain = self.ring.neighbours.chain(Side::Right).iter().copied().collect();
        for peer in successors {
            for chunk in (0..chunks.min(CHUNKS_PER_PERIOD)).map(|i| (first + i) % chunks) {
                // Copies yield to other traffic; the next period sends them.
                if self.outbox.capacity() - self.outbox.len() <= OUTBOX_RESERVE {
                    return;
                }
                self.send_copies(peer.addr, left.id, me, chunk);
            }
        }
    }

    /// Checks the joiner's address (a PING whose nonce it must echo) before
    /// handing it the entries with keys in `(from, joiner]`: a forged JOIN
    /// must not draw a stream of copies towards someone else.
    pub(crate) fn hand_over_when_checked(&mut self, joiner: ResourceLocator, from: Id) {
        if self.dht.store.in_range(from, joiner.id).any(|e| e.verified)
            && self.start_request(joiner.addr, Purpose::Handover { joiner, from }).is_err()
        {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }

    /// Hands the entries with keys in `(from, to]` to the joiner now responsible for them.
    pub(crate) fn hand_over(&mut self, joiner: &ResourceLocator, from: Id) {
        let entries = self.dht.store.in_range(from, joiner.id).filter(|e| e.verified).count();
        for chunk in 0..entries.div_ceil(MAX_REPLICATE_BATCH) {
            if self.outbox.capacity() - self.outbox.len() <= OUTBOX_RESERVE {
                // The joiner's replicas and the owners' refreshes fill in the rest.
                return;
            }
            self.send_copies(joiner.addr, from, joiner.id, chunk);
        }
    }

    fn send_copies(&mut self, to: SocketAddrV6, from: Id, upto: Id, chunk: usize) {
        self.send_copies_since(to, from, upto, chunk, None);
    }

    fn send_copies_since(&mut self, to: SocketAddrV6, from: Id, upto: Id, chunk: usize, since: Option<u32>) {
        let skip = (chunk * MAX_REPLICATE_BATCH) as u16;
        let txid = self.rng.next_u64();
        self.send(Outgoing::Replicate { to, txid, from, upto, skip, since });
    }

    /// Schedules a copy of what owners announced or we verified since the
    /// last copy, one stabilisation interval from now, so that a batch
    /// gathers: a crash soon after a refresh finds the refresh at the
    /// successors, not only the copy of an older one.
    pub(crate) fn replicate_soon(&mut self) {
        if self.timers.get(Timer::Replicate).is_none() && self.dht.store.changes() != self.dht.copied {
            let at = self.now + self.config.stabilise_interval;
            self.timers.set(Timer::Replicate, Some(at));
        }
    }

    /// Copies the verified entries in our range changed since the last copy
    /// to every node of our right chain, at most [`CHUNKS_PER_PERIOD`]
    /// datagrams each; the periodic replication covers any rest.
    pub(crate) fn replicate_fresh(&mut self, now: Instant) {
        if self.timers.get(Timer::Replicate).is_none_or(|at| at > now) {
            return;
        }
        self.timers.set(Timer::Replicate, None);
        let since = self.dht.copied;
        self.dht.copied = self.dht.store.changes();
        let (Some(left), me) = (self.ring.neighbours.left().copied(), self.me.id) else { return };
        let fresh =
            self.dht.store.in_range(left.id, me).filter(|e| e.verified && changed_after(e.changed, since)).count();
        let successors: Chain = self.ring.neighbours.chain(Side::Right).iter().copied().collect();
        for peer in successors {
            for chunk in 0..fresh.div_ceil(MAX_REPLICATE_BATCH).min(CHUNKS_PER_PERIOD) {
                if self.outbox.capacity() - self.outbox.len() <= OUTBOX_RESERVE {
                    return;
                }
                self.send_copies_since(peer.addr, left.id, me, chunk, Some(since));
            }
        }
    }

    /// The REPLICATE for the verified entries with keys in `(from, upto]`, from the `skip`th on.
    pub(crate) fn copies(&self, from: Id, upto: Id, skip: u16, since: Option<u32>) -> Message {
        let now = self.now;
        let fresh = |changed: u32| since.is_none_or(|since| changed_after(changed, since));
        let entries = self
            .dht
            .store
            .in_range(from, upto)
            .filter(|e| {
                e.verified && fresh(e.changed) && e.expires.saturating_duration_since(now) >= Duration::from_secs(1)
            })
            .skip(usize::from(skip))
            .take(MAX_REPLICATE_BATCH)
            .map(|e| ReplicaEntry {
                key: e.key,
                owner: e.owner,
                lifetime_secs: u32::try_from(e.expires.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX),
                name: e.name.clone(),
            })
            .collect();
        Message::Replicate { entries }
    }

    pub(crate) fn handle_replicate(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        entries: &[ReplicaEntry],
    ) -> Result<(), DropReason> {
        if !self.is_member() || self.is_joining() {
            return Err(DropReason::NotJoined);
        }
        let sender = ResourceLocator::new(header.sender.id, from);
        let predecessor = self.ring.neighbours.chain(Side::Left).contains(&sender);
        if !predecessor && self.ring.neighbours.right() != Some(&sender) {
            return Err(DropReason::UnexpectedCopy);
        }
        for entry in entries {
            let expires = self.now + Duration::from_secs(u64::from(entry.lifetime_secs));
            match self.dht.store.upsert(entry.key, entry.owner, &entry.name, expires, Origin::Replica) {
                Ok(_) => {}
                Err(StoreRefusal::Full) => bump(&mut self.stats.store_refused_full),
                Err(StoreRefusal::OwnerCapReached) => bump(&mut self.stats.store_refused_owner_cap),
            }
        }
        Ok(())
    }
}

/// True if change number `changed` comes after `since` (change numbers wrap).
fn changed_after(changed: u32, since: u32) -> bool {
    (changed.wrapping_sub(since) as i32) > 0
}
