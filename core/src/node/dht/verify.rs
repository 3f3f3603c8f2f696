//! VERIFY: the return-routability check that stops a node from planting
//! locators pointing at someone else.
//!
//! Before a responsible node serves a new owner address, it sends that
//! address a VERIFY listing the unconfirmed keys (up to [`MAX_VERIFY_KEYS`]),
//! with a random txid as the nonce. The owner answers only if the VERIFY
//! names its own ID, echoing the nonce and the keys with one bit per key it
//! really shares. Confirmed entries become servable; denied ones are removed;
//! if the address never answers, all its unconfirmed entries are removed.

use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::Outgoing;
use crate::tables::store::Confirmation;
use crate::tables::transactions::{Purpose, Transaction};
use crate::wire::{Header, Message, MessageType, Repr, MAX_VERIFY_KEYS};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Starts a check of `owner`'s address unless one is out already.
    pub(crate) fn verify_owner(&mut self, owner: ResourceLocator) {
        let outstanding = self.requests.transactions.iter().any(|tx| tx.purpose == Purpose::Verify { owner });
        if !outstanding && self.start_request(owner.addr, Purpose::Verify { owner }).is_err() {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }

    /// The VERIFY for `owner`: its unconfirmed keys, as they stand.
    pub(crate) fn verify_message(&self, owner: &ResourceLocator) -> Message {
        let keys = self.dht.store.unverified_keys(owner).take(MAX_VERIFY_KEYS).collect();
        Message::Verify { owner: owner.id, keys }
    }

    pub(crate) fn handle_verify(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        owner: Id,
        keys: &[Id],
    ) -> Result<(), DropReason> {
        if owner != self.me.id {
            return Err(DropReason::NotOurs);
        }
        // The check is the receipt: these locators reached a responsible node.
        for key in keys {
            self.dht.shared.confirm(*key);
            self.dht.shared.confirm(key.mirror());
        }
        let mask =
            keys.iter().enumerate().filter(|(_, k)| self.dht.shared.shares(**k)).fold(0u32, |m, (i, _)| m | 1 << i);
        let reply = Message::VerifyReply { keys: keys.iter().copied().collect(), mask };
        let header = Header { flags: 0, hop_limit: 0, txid: header.txid, sender: self.me };
        // The reply echoes the request's keys, so it is encoded now, like a relayed STORE.
        self.send_encoded(from, Repr { header, message: reply }, true)
    }

    pub(crate) fn handle_verify_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        keys: &[Id],
        mask: u32,
    ) -> Result<(), DropReason> {
        let tx = self.complete_request(header, MessageType::VerifyReply, from, |_| true)?;
        let Purpose::Verify { owner } = tx.purpose else { return Ok(()) };
        for (i, key) in keys.iter().enumerate() {
            match self.dht.store.confirm(&owner, *key, mask & (1 << i) != 0) {
                Confirmation::Kept => {}
                Confirmation::Denied => bump(&mut self.stats.store_unverified_dropped),
                Confirmation::NoRoom => bump(&mut self.stats.store_refused_full),
            }
        }
        if self.dht.store.unverified_keys(&owner).next().is_some() {
            self.verify_owner(owner);
        }
        self.hand_on_misplaced();
        self.replicate_soon();
        Ok(())
    }

    /// The registration of `id` is known now (or could not be fetched): the
    /// unverified entries of owners with that ID are checked against it,
    /// and go on to the return-routability check, or are removed.
    pub(crate) fn stored_owners_checked(&mut self, id: Id) {
        let known = self.registration_of(id);
        let waiting: heapless::Vec<(ResourceLocator, PublicKey), 8> = self
            .dht
            .store
            .entries()
            .iter()
            .filter(|e| !e.verified && e.owner.id == id)
            .map(|e| (e.owner, e.proof.key))
            .fold(heapless::Vec::new(), |mut owners, owner| {
                if !owners.contains(&owner) {
                    let _ = owners.push(owner);
                }
                owners
            });
        for (owner, key) in waiting {
            if known.is_some_and(|k| k.vouches(&key, &owner.addr)) {
                self.verify_owner(owner);
                continue;
            }
            let reason = if known.is_some() { DropReason::Unidentified } else { DropReason::OwnerUnchecked };
            self.stats.count_drop(reason);
            let dropped = self.dht.store.remove_owner_unverified(&owner) as u64;
            self.stats.store_unverified_dropped = self.stats.store_unverified_dropped.saturating_add(dropped);
        }
    }

    /// The owner's address never answered: none of its unconfirmed entries is kept.
    pub(crate) fn verify_failed(&mut self, tx: &Transaction) {
        if let Purpose::Verify { owner } = tx.purpose {
            let dropped = self.dht.store.remove_owner_unverified(&owner) as u64;
            self.stats.store_unverified_dropped = self.stats.store_unverified_dropped.saturating_add(dropped);
        }
    }

    /// Queues a datagram encoded now (its contents come from the input, not
    /// our tables); `charged` if it answers a datagram (see
    /// [`Budgets`](crate::tables::budgets::Budgets)).
    pub(crate) fn send_encoded(&mut self, to: SocketAddrV6, repr: Repr, charged: bool) -> Result<(), DropReason> {
        if self.dht.encoded.is_full() || self.outbox.is_full() {
            return Err(DropReason::OutboxFull);
        }
        let mut slot =
            crate::tables::outbox::EncodedDatagram { to, charged, len: 0, bytes: [0; crate::wire::MAX_DATAGRAM] };
        slot.len = repr.emit(&mut slot.bytes).map_err(|_| DropReason::OutboxFull)?;
        // Cannot fail: both queues were checked above.
        let _ = self.dht.encoded.push_back(slot);
        self.send(Outgoing::Encoded);
        Ok(())
    }
}
