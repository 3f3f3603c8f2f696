//! STORE: publishing shared files, and keeping the locators this node is
//! responsible for.
//!
//! Every `store_interval` (jittered), and at once when the shared list is set
//! or the node joins, the owner publishes every shared file ID with its own
//! locator. File IDs it is itself responsible for are kept at home; the rest
//! go out sorted, one STORE datagram (at most 1232 bytes and
//! [`MAX_STORE_BATCH`] entries) per run of IDs that share a next hop. A node
//! receiving a STORE keeps the entries it is responsible for and sends the
//! rest on the same way, sorted clockwise from itself; when its waiting slots
//! run short, the remainder travels in one STORE and is split further on.
//! Routes that share hops share datagrams: never one routed message per
//! file, never a walk around the ring.
//!
//! Each entry carries the owner's signature of its locator, made with the
//! key the STORE names (see [`locator_signature`](crate::locator_signature)).
//! The responsible node keeps an entry only if that key is the one
//! registered for the owner's ID at the owner's address, as the ID's
//! registrar says (fetched with REGISTRY_GET and kept a while), and the
//! signature checks out; so nobody can publish in another's name.
//! Until the registrar's answer is in, the entries wait unverified (see
//! `verify`).
//!
//! A kept entry expires `store_lifetime` after the owner's latest refresh,
//! removed by the timer. A new owner address is not served before it passes
//! the return-routability check (see `verify`).

use crate::config::STORE_NAME_LEN;
use crate::event::CommandError;
use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::locator_signature::{check_locator, sign_locator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::Outgoing;
use crate::tables::shared::SharedFiles;
use crate::tables::store::{LocatorStore, Origin, OwnerProof, StoreRefusal, Upserted};
use crate::tables::timers::Timer;
use crate::time::Instant;
use crate::wire::{FileEntry, Header, Message, Repr, HEADER_LEN, MAX_DATAGRAM, MAX_STORE_BATCH};
use core::net::SocketAddrV6;

/// Bytes of a STORE before its entries: header, owner locator, key, hops, count.
const STORE_FIXED_LEN: usize = HEADER_LEN + ResourceLocator::WIRE_LEN + PublicKey::LEN + 2;

/// Files one STORE always holds, however long their names: 9 with 32-byte names.
const FILES_PER_FULL_STORE: usize = (MAX_DATAGRAM - STORE_FIXED_LEN) / FileEntry::wire_len_for(STORE_NAME_LEN);

/// Where an owner stands with a node asked to keep its locators.
#[derive(Clone, Copy)]
enum Standing {
    /// Its key is the one registered for its ID at its address.
    Registered,
    /// Its registration is being fetched: its entries wait, unverified.
    Fetching,
    /// Its ID is registered to another key or address, or not at all.
    Refused,
}

/// Consecutive shared files (by index) that leave through the same next hop.
struct Run {
    to: SocketAddrV6,
    start: usize,
    end: usize,
    size: usize,
    count: usize,
    /// The files go under their keys' mirrors.
    mirror: bool,
}

/// The name a STORE carries for a file: the name if it fits, else none.
pub(crate) fn stored_name(name: &str) -> &str {
    if name.len() <= STORE_NAME_LEN {
        name
    } else {
        ""
    }
}

impl<P: Profile> Node<P> {
    /// Sets the node's shared files (names; the core computes each file ID as
    /// the MD5 of the name) and publishes them at once if the node is in a ring.
    pub fn share<'a>(&mut self, now: Instant, names: impl IntoIterator<Item = &'a str>) -> Result<usize, CommandError> {
        self.now = now;
        let count = self.dht.shared.set(names).map_err(CommandError::Share)?;
        if self.is_member() {
            self.publish(false);
        }
        Ok(count)
    }

    /// The node's shared files.
    pub fn shared(&self) -> &SharedFiles<P::Apps> {
        &self.dht.shared
    }

    /// The locators this node keeps for others.
    pub fn store(&self) -> &LocatorStore<P::Store> {
        &self.dht.store
    }

    /// Publishes every shared file (or, retrying, those whose locators are
    /// not yet confirmed): own keys kept at home, the rest in sorted batches.
    /// While some are unconfirmed, a retry follows after `request_timeout`,
    /// doubling, at most `max_attempts - 1` times per publication.
    pub(crate) fn publish(&mut self, retry: bool) {
        if !retry {
            self.dht.publish_retries = 0;
        }
        let me = self.me;
        let expires = self.now + self.config.store_lifetime;
        // Keep room in the outbox for other traffic; runs are merged once
        // what is left would otherwise not fit the room left.
        let mut budget = self.outbox.capacity().saturating_sub(self.outbox.len() + 4);
        let wanted = (0..self.dht.shared.len()).filter(|&i| !(retry && self.dht.shared.is_confirmed(i))).count();
        let mut remaining = 2 * wanted;
        // Each file under its key, then under its key's mirror.
        for mirror in [false, true] {
            let mut run: Option<Run> = None;
            for index in 0..self.dht.shared.len() {
                if retry && self.dht.shared.is_confirmed(index) {
                    continue;
                }
                remaining -= 1;
                let Some((file, name)) = self.dht.shared.get(index) else { break };
                let key = if mirror { file.mirror() } else { file };
                let len = FileEntry::wire_len_for(stored_name(name).len());
                let Some((next, _)) = self.route(key, None, &[], false).step() else {
                    let name: heapless::String<STORE_NAME_LEN> = stored_name(name).try_into().unwrap_or_default();
                    let signature = sign_locator(&self.identity, key, &me);
                    self.keep(me, key, &name, expires, OwnerProof { key: self.identity.public_key(), signature });
                    self.dht.shared.confirm(file);
                    continue;
                };
                let hop = next.addr;
                if let Some(r) = run.as_mut() {
                    let fits = r.size + len <= MAX_DATAGRAM && r.count < MAX_STORE_BATCH && r.end == index;
                    if fits && (r.to == hop || budget <= 1 + remaining.div_ceil(FILES_PER_FULL_STORE)) {
                        (r.size, r.count, r.end) = (r.size + len, r.count + 1, index + 1);
                        continue;
                    }
                    self.send_run(r, retry);
                    budget = budget.saturating_sub(1);
                }
                let (start, end) = (index, index + 1);
                run = Some(Run { to: hop, start, end, size: STORE_FIXED_LEN + len, count: 1, mirror });
            }
            if let Some(r) = run.as_ref() {
                self.send_run(r, retry);
            }
        }
        let shared = &self.dht.shared;
        self.dht.store.verify(&me, |key| shared.shares(key));
        self.replicate_soon();
        let retries = self.dht.publish_retries;
        if self.dht.shared.any_unconfirmed() && retries < self.config.max_attempts.saturating_sub(1) {
            let at = self.now + self.config.request_timeout.saturating_mul(1 << retries);
            self.timers.set(Timer::PublishRetry, Some(at));
        }
    }

    /// Publishes again the files whose locators no VERIFY has confirmed:
    /// a STORE is not acknowledged hop by hop, so a batch
    /// lost on the way (or dropped by a node still joining) is sent again
    /// long before the next refresh.
    pub(crate) fn retry_publish(&mut self) {
        self.timers.set(Timer::PublishRetry, None);
        if self.is_member() && self.dht.shared.any_unconfirmed() {
            self.dht.publish_retries += 1;
            self.publish(true);
        }
    }

    /// Sends one run of shared files to its next hop. A STORE is not
    /// acknowledged hop by hop: a friend taking one that has not been heard
    /// from for a stabilisation interval is probed now, so that if it died
    /// the next refresh goes around it.
    fn send_run(&mut self, run: &Run, unconfirmed: bool) {
        let (now, quiet_for) = (self.now, self.config.stabilise_interval);
        // Right after this input (its timers are served already).
        let soon = now + core::time::Duration::from_millis(1);
        for friend in self.liveness.friends.at_addr_mut(run.to) {
            if friend.alive && now.saturating_duration_since(friend.last_heard) > quiet_for {
                friend.next_probe = friend.next_probe.min(soon);
            }
        }
        let txid = self.rng.next_u64();
        let hop_limit = self.config.hop_limit;
        let (start, end, mirror) = (run.start as u16, run.end as u16, run.mirror);
        self.send(Outgoing::Store { to: run.to, txid, hop_limit, start, end, unconfirmed, mirror });
    }

    /// The STORE for shared files `start..end` (only the unconfirmed ones if
    /// `unconfirmed`; under their keys' mirrors if `mirror`), less the keys
    /// we keep ourselves.
    pub(crate) fn own_store(&self, (start, end): (u16, u16), unconfirmed: bool, mirror: bool) -> Message {
        let me = self.me.id;
        let entries = (usize::from(start)..usize::from(end))
            .filter(|&i| !(unconfirmed && self.dht.shared.is_confirmed(i)))
            .filter_map(|i| self.dht.shared.get(i))
            .map(|(key, name)| (if mirror { key.mirror() } else { key }, name))
            .filter(|(key, _)| !self.ring.neighbours.is_responsible(me, *key))
            .map(|(key, name)| FileEntry {
                key,
                name: stored_name(name).try_into().unwrap_or_default(),
                signature: sign_locator(&self.identity, key, &self.me),
            })
            .take(MAX_STORE_BATCH)
            .collect();
        Message::Store { owner: self.me, key: self.identity.public_key(), hops: 1, entries }
    }

    pub(crate) fn handle_store(
        &mut self,
        header: &Header,
        (owner, key): (ResourceLocator, PublicKey),
        hops: u8,
        entries: &[FileEntry],
    ) -> Result<(), DropReason> {
        if !self.is_member() || self.is_joining() {
            return self.pass_store_while_joining(header, (owner, key), hops, entries);
        }
        let me = self.me.id;
        let expires = self.now + self.config.store_lifetime;
        let mut rest: heapless::Vec<FileEntry, MAX_STORE_BATCH> = heapless::Vec::new();
        let mut standing = None;
        let mut fetching = false;
        for entry in entries {
            if owner == self.me && !self.dht.shared.shares(entry.key) {
                // Nobody publishes for us: we know what we share.
                continue;
            }
            if self.ring.neighbours.is_responsible(me, entry.key) {
                let standing = *standing.get_or_insert_with(|| self.standing(&owner, &key));
                fetching = matches!(standing, Standing::Fetching);
                let proof = OwnerProof { key, signature: entry.signature };
                match standing {
                    Standing::Refused => {}
                    _ if check_locator(&key, entry.key, &owner, &entry.signature).is_err() => {
                        self.stats.count_drop(DropReason::BadSignature)
                    }
                    Standing::Registered | Standing::Fetching => {
                        self.keep(owner, entry.key, &entry.name, expires, proof)
                    }
                }
            } else {
                // Cannot overflow: `entries` holds at most MAX_STORE_BATCH.
                let _ = rest.push(entry.clone());
            }
        }
        if owner != self.me && !fetching && self.dht.store.unverified_keys(&owner).next().is_some() {
            self.verify_owner(owner);
        }
        if rest.is_empty() {
            return Ok(());
        }
        let hop_limit = self.relay_hop_limit(header.hop_limit)?;
        let header = Header { flags: 0, hop_limit, txid: header.txid, sender: self.me };
        self.send_store_on(header, (owner, key), hops.saturating_add(1), &mut rest)
    }

    /// Where `owner`, publishing under `key`, stands with us; the first
    /// STORE of an owner we know nothing of starts a fetch of its registration.
    fn standing(&mut self, owner: &ResourceLocator, key: &PublicKey) -> Standing {
        if *owner == self.me {
            if *key == self.identity.public_key() {
                return Standing::Registered;
            }
            self.stats.count_drop(DropReason::Unidentified);
            return Standing::Refused;
        }
        match self.registration_of(owner.id) {
            Some(known) if known.vouches(key, &owner.addr) => Standing::Registered,
            Some(_) => {
                self.stats.count_drop(DropReason::Unidentified);
                Standing::Refused
            }
            None => {
                self.fetch_registration(owner.id);
                Standing::Fetching
            }
        }
    }

    /// Sends `entries` of `owner` on towards the nodes responsible for
    /// them, sorted clockwise from us: one STORE per run of keys sharing a
    /// next hop; when waiting slots run short, the rest goes in one STORE
    /// and is sorted out further on.
    pub(crate) fn send_store_on(
        &mut self,
        header: Header,
        (owner, key): (ResourceLocator, PublicKey),
        hops: u8,
        entries: &mut [FileEntry],
    ) -> Result<(), DropReason> {
        let me = self.me.id;
        entries.sort_unstable_by_key(|e| me.distance_to(e.key));
        let mut start = 0;
        while start < entries.len() {
            let hop = |key: Id| self.route(key, None, &[], false).step().map(|(next, _)| next.addr);
            let Some(to) = hop(entries[start].key) else { break };
            let last_slot = self.dht.encoded.capacity() - self.dht.encoded.len() <= 1;
            let mut end = start + 1;
            while end < entries.len() && (last_slot || hop(entries[end].key) == Some(to)) {
                end += 1;
            }
            let message = Message::Store { owner, key, hops, entries: entries[start..end].iter().cloned().collect() };
            self.send_encoded(to, Repr { header, message }, false)?;
            start = end;
        }
        Ok(())
    }

    /// A node still joining keeps nothing and knows no ring to route by, yet
    /// a friend may route a STORE through it (a STORE is not acknowledged
    /// hop by hop, so nobody would try another hop): it passes the STORE,
    /// unchanged but for the hop counts, to the node its JOIN went to.
    /// A node neither in a ring nor joining one drops it.
    fn pass_store_while_joining(
        &mut self,
        header: &Header,
        (owner, key): (ResourceLocator, PublicKey),
        hops: u8,
        entries: &[FileEntry],
    ) -> Result<(), DropReason> {
        let Some(to) = self.join_target() else { return Err(DropReason::NotJoined) };
        let hop_limit = self.relay_hop_limit(header.hop_limit)?;
        let header = Header { flags: 0, hop_limit, txid: header.txid, sender: self.me };
        let entries = entries.iter().cloned().collect();
        let message = Message::Store { owner, key, hops: hops.saturating_add(1), entries };
        self.send_encoded(to, Repr { header, message }, false)
    }

    /// Keeps one locator with its owner's checked proof, counting a refusal.
    fn keep(&mut self, owner: ResourceLocator, key: Id, name: &str, expires: Instant, proof: OwnerProof) {
        let upserted = self.dht.store.upsert(key, owner, name, expires, Origin::Owner);
        if self.count_upsert(&upserted) {
            self.dht.store.prove(key, &owner, proof);
            self.replicate_soon();
        }
    }

    /// Counts what an upsert did: an eviction, or a refusal by reason;
    /// true if the entry is stored.
    pub(crate) fn count_upsert(&mut self, upserted: &Result<Upserted, StoreRefusal>) -> bool {
        let counter = match upserted {
            Ok(Upserted::Displaced { .. }) => &mut self.stats.store_evicted,
            Ok(Upserted::Inserted | Upserted::Refreshed | Upserted::Unchanged) => return true,
            Err(StoreRefusal::Full) => &mut self.stats.store_refused_full,
            Err(StoreRefusal::OwnerQuota) => &mut self.stats.store_refused_owner_cap,
            Err(StoreRefusal::NetworkQuota) => &mut self.stats.store_refused_network_cap,
        };
        bump(counter);
        upserted.is_ok()
    }

    /// Publishes our files and replicates our entries: the periodic refresh.
    pub(crate) fn refresh_store(&mut self, now: Instant) {
        let at = now + self.jittered(self.config.store_interval);
        self.timers.set(Timer::Publish, Some(at));
        if !self.dht.shared.is_empty() && self.is_member() {
            self.publish(false);
        }
        self.replicate();
        self.copy_registrations();
        self.copy_mail();
    }
}
