//! Replication and handover (beyond the paper): a crash must not lose
//! locators until the next refresh, and a ring that changes must not hide
//! them.
//!
//! Every `store_interval` (jittered) a node copies the verified entries it is
//! responsible for to every node of its right chain, its backup successors;
//! what changed since its last copy (owners' announcements, verifications,
//! a range it took over) goes a quarter of a liveness period after the
//! change. When it dies, the next node is responsible at once and already
//! holds them. Responsibility follows the left neighbour: a closer one (a
//! joiner, or a node stabilisation finds) gets the entries now in its range
//! once its address is checked (a PING whose nonce it must echo); a farther
//! one leaves its old range to us. A copy carries the time its entry has
//! left, so it never outlives the owner's latest refresh: only the owner
//! extends an entry. A node takes copies only from its left chain
//! (replication) and its right chain (handover).

use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::locator_signature::check_locator;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::store::{Origin, OwnerProof, Upserted};
use crate::tables::timers::Timer;
use crate::tables::transactions::{Purpose, Transaction};
use crate::wire::{Chain, FileEntry, Header, Message, ReplicaEntry, Side, MAX_REPLICATE_BATCH};
use core::net::SocketAddrV6;
use core::time::Duration;

/// REPLICATE datagrams sent to each successor per period; larger stores are
/// covered over several periods, in turn.
const CHUNKS_PER_PERIOD: usize = 3;
/// Changes are copied in batches a quarter of a liveness period
/// (`stabilise_interval`) long: well within one liveness period, so a crash
/// that follows a refresh by a liveness period finds it at the successors.
const BATCHES_PER_LIVENESS_PERIOD: u32 = 4;
/// Most misplaced entries sent on to their responsible nodes per round.
const MAX_SENT_ON: usize = 32;
/// Outbox slots copies leave free for the ring's own traffic.
const OUTBOX_RESERVE: usize = 8;

impl<P: Profile> Node<P> {
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
    ///
    /// One check per peer: a handover to a peer whose check is outstanding
    /// widens that check's range instead.
    pub(crate) fn hand_over_when_checked(&mut self, joiner: ResourceLocator, from: Id) {
        let mail = self.messenger.mailbox.in_range(from, joiner.id).next().is_some();
        if !mail && !self.dht.store.in_range(from, joiner.id).any(|e| e.verified) {
            return;
        }
        let pending = |tx: &Transaction| matches!(tx.purpose, Purpose::Handover { joiner: j, .. } if j == joiner);
        if let Some(index) = self.requests.transactions.position(pending) {
            if let Purpose::Handover { from: wider, .. } = &mut self.requests.transactions.get_mut(index).purpose {
                if from.distance_to(joiner.id) > wider.distance_to(joiner.id) {
                    *wider = from;
                }
            }
            return;
        }
        if self.start_request(joiner.addr, Purpose::Handover { joiner, from }).is_err() {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }

    /// Moves responsibility with our predecessor, whatever changed it (a join
    /// we accept, stabilisation adopting a closer node, a crash, a leave).
    /// A closer predecessor takes the entries now in its range, once its
    /// address is checked; a farther one (or none) leaves us responsible
    /// for its old range, whose copies we serve at once and copy on to our
    /// own successors in the next batch.
    pub(crate) fn follow_responsibility(&mut self, old: Option<ResourceLocator>, new: Option<ResourceLocator>) {
        let me = self.me.id;
        match (old, new) {
            // When we were alone, every key was ours: the newcomer's are in (us, newcomer].
            (None, Some(new)) => self.hand_over_when_checked(new, me),
            (Some(old), Some(new)) if new.id.in_open(old.id, me) => self.hand_over_when_checked(new, old.id),
            (Some(old), new) => {
                // When we are alone, every key is ours.
                let from = new.map_or(me, |n| n.id);
                if self.dht.store.adopt_range(from, old.id) > 0 {
                    self.replicate_soon();
                }
            }
            (None, None) => {}
        }
    }

    /// Keeps every entry where responsibility is, whatever was lost on the
    /// way: takes over the copies in our range, and hands on the primary
    /// entries that are no longer ours — stored or handed to us while we
    /// did not yet know a closer predecessor, verified after it came, or
    /// handed to us by a node that knew less of the ring — keeping them as
    /// copies. Those in our left neighbour's range go to it, once its
    /// address is checked; those beyond go straight to their responsible
    /// nodes as a routed STORE in their owner's name, which the owner
    /// confirms there (a VERIFY): an entry far from its key never walks
    /// the ring node by node.
    pub(crate) fn hand_on_misplaced(&mut self) {
        let (me, Some(left)) = (self.me.id, self.ring.neighbours.left().copied()) else { return };
        if self.dht.store.adopt_range(left.id, me) > 0 {
            self.replicate_soon();
        }
        if let Some(beyond) = self.ring.neighbours.chain(Side::Left).get(1).map(|l| l.id) {
            self.send_on_misplaced(beyond, me);
        }
        if let Some(farthest) = self.dht.store.demote_outside(left.id, me) {
            self.hand_over_when_checked(left, Id(farthest.0.wrapping_sub(1)));
        }
    }

    /// Sends the primary entries with keys outside `(beyond, me]`, up to
    /// [`MAX_SENT_ON`] a round, on to their responsible nodes in routed
    /// STOREs, one owner at a time, and keeps them as copies.
    fn send_on_misplaced(&mut self, beyond: Id, me: Id) {
        let mut far: heapless::Vec<(ResourceLocator, PublicKey, FileEntry), MAX_SENT_ON> = self
            .dht
            .store
            .misplaced(beyond, me)
            .map(|e| {
                (e.owner, e.proof.key, FileEntry { key: e.key, name: e.name.clone(), signature: e.proof.signature })
            })
            .take(MAX_SENT_ON)
            .collect();
        far.sort_unstable_by_key(|(owner, key, _)| (owner.id, owner.addr.ip().octets(), owner.addr.port(), key.0));
        for group in far.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (owner, key) = (group[0].0, group[0].1);
            let mut entries: heapless::Vec<FileEntry, MAX_SENT_ON> = group.iter().map(|(_, _, e)| e.clone()).collect();
            let header =
                Header { flags: 0, hop_limit: self.config.hop_limit, txid: self.rng.next_u64(), sender: self.me };
            if self.send_store_on(header, (owner, key), 1, &mut entries).is_err() {
                // No room to send: the next round tries again.
                return;
            }
            for entry in &entries {
                self.dht.store.demote(entry.key, &owner);
            }
        }
    }

    /// Hands the entries with keys in `(from, to]` to the joiner now responsible for them.
    pub(crate) fn hand_over(&mut self, joiner: &ResourceLocator, from: Id) {
        self.hand_over_mail(joiner, from);
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

    /// Schedules a copy of what changed since the last copy (owners'
    /// announcements, verifications, a range we took over) a quarter of a
    /// liveness period from now, so that a batch gathers: a crash soon after
    /// a refresh finds the refresh at the successors, not only the copy of
    /// an older one.
    pub(crate) fn replicate_soon(&mut self) {
        if self.timers.get(Timer::Replicate).is_none() && self.dht.store.changes() != self.dht.copied {
            let at = self.now + self.config.stabilise_interval / BATCHES_PER_LIVENESS_PERIOD;
            self.timers.set(Timer::Replicate, Some(at));
        }
    }

    /// Copies the verified entries in our range changed since the last copy
    /// to every node of our right chain, at most [`CHUNKS_PER_PERIOD`]
    /// datagrams each; the periodic replication covers any rest.
    pub(crate) fn replicate_fresh(&mut self) {
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
                owner_key: e.proof.key,
                signature: e.proof.signature,
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
        // A handover comes from a node on our right: the right neighbour, or a
        // backup that has not yet heard of the nodes between us.
        if !predecessor && !self.ring.neighbours.chain(Side::Right).contains(&sender) {
            return Err(DropReason::UnexpectedCopy);
        }
        let (me, left) = (self.me.id, self.ring.neighbours.left().copied());
        let ours = |key: Id| left.is_none_or(|l| key.in_open_closed(l.id, me));
        // Handed-over keys that are not ours are ours to send on: they go
        // to our left neighbour, or straight to their responsible nodes.
        let mut misplaced = false;
        for entry in entries {
            if check_locator(&entry.owner_key, entry.key, &entry.owner, &entry.signature).is_err() {
                self.stats.count_drop(DropReason::BadSignature);
                continue;
            }
            let expires = self.now + Duration::from_secs(u64::from(entry.lifetime_secs));
            let upserted = self.dht.store.upsert(entry.key, entry.owner, &entry.name, expires, Origin::Replica);
            if self.count_upsert(&upserted) {
                let proof = OwnerProof { key: entry.owner_key, signature: entry.signature };
                self.dht.store.prove(entry.key, &entry.owner, proof);
            }
            match upserted {
                Err(_) => {}
                // Replication: we are a backup of these keys.
                Ok(_) if predecessor => {}
                Ok(Upserted::Unchanged) if ours(entry.key) => {}
                Ok(_) if ours(entry.key) => {
                    // Ours now: our successors need copies too.
                    self.dht.store.adopt_range(Id(entry.key.0.wrapping_sub(1)), entry.key);
                    self.replicate_soon();
                }
                Ok(_) => {
                    self.dht.store.adopt_range(Id(entry.key.0.wrapping_sub(1)), entry.key);
                    misplaced = true;
                }
            }
        }
        if misplaced {
            self.hand_on_misplaced();
        }
        Ok(())
    }
}

/// True if change number `changed` comes after `since` (change numbers wrap).
fn changed_after(changed: u32, since: u32) -> bool {
    (changed.wrapping_sub(since) as i32) > 0
}
