//! REGISTRY_COPY: registrations live where their IDs' responsibility does.
//!
//! The node responsible for an ID keeps its registration; when that node
//! leaves or fails, its right neighbour becomes responsible. So each refresh
//! period (and after a join next to it) a node copies the records of the
//! IDs in its range `(left, me]` to every node of its right chain, and hands
//! the records of its left neighbour's range to it (a joiner takes over IDs
//! that were ours). Records are kept 30 days from the last copy, so they
//! outlive their owners' offline periods while the ring keeps copying them.
//! A copy is taken only from a node in one of our chains at its address,
//! and each record only with a valid signature; the registry's rules decide
//! the rest (first come, first registered; only the same key with a higher
//! sequence number replaces a record).

use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::registration::Registration;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::wire::{Chain, Header, Message, Side, MAX_REGISTRY_COPY};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Copies registrations where they must live: those of our range to our
    /// right chain, those of our left neighbour's range to it.
    pub(crate) fn copy_registrations(&mut self) {
        let Some(left) = self.ring.neighbours.left().copied() else { return };
        let me = self.me.id;
        let successors: Chain = self.ring.neighbours.chain(Side::Right).iter().copied().collect();
        for peer in &successors {
            self.send_registrations(peer, left.id, me);
        }
        self.hand_over_registrations();
    }

    /// Keeps our own registration, signed by us, if we hold none for our ID
    /// (a ring's first node joined through no one).
    pub(crate) fn register_self(&mut self) {
        if self.ring.registry.get(self.me.id).is_none() {
            let record = Registration::sign(&self.identity, self.me.id, self.me.addr, 1, 0);
            self.register(record);
        }
    }

    /// Gives `joiner`, our new left neighbour, the records of its own left
    /// neighbour's range: it is now the node after those IDs.
    pub(crate) fn copy_left_range_to_joiner(&mut self, joiner: &ResourceLocator) {
        let left = self.ring.neighbours.chain(Side::Left);
        let (Some(before), Some(far)) = (left.get(1).copied(), left.get(2).map(|n| n.id)) else { return };
        self.send_registrations(joiner, far, before.id);
    }

    /// Copies the records of our range to `peer`, our new right neighbour:
    /// it is now the first node after each of those IDs, the one a
    /// REGISTRY_GET for them reaches.
    pub(crate) fn copy_registrations_to(&mut self, peer: &ResourceLocator) {
        // Alone until now, the peer is about to be our left neighbour too.
        let from = self.ring.neighbours.left().map_or(peer.id, |left| left.id);
        self.send_registrations(peer, from, self.me.id);
    }

    /// Hands our left neighbour the records of its range (after it joined,
    /// those IDs are its to keep).
    pub(crate) fn hand_over_registrations(&mut self) {
        let Some(left) = self.ring.neighbours.left().copied() else { return };
        // Its range starts after its own left neighbour, the next node of
        // our left chain (or us, in a ring of two).
        let before_left = self.ring.neighbours.chain(Side::Left).get(1).map_or(self.me.id, |n| n.id);
        self.send_registrations(&left, before_left, left.id);
    }

    /// Queues copies of the records with IDs in `(from, upto]` — but `to`'s
    /// own, which it keeps itself — in datagrams of at most [`MAX_REGISTRY_COPY`].
    fn send_registrations(&mut self, to: &ResourceLocator, from: Id, upto: Id) {
        let count = self.ring.registry.records().filter(|r| copied(r, to.id, from, upto)).count();
        for skip in (0..count).step_by(MAX_REGISTRY_COPY) {
            let skip = u8::try_from(skip).unwrap_or(u8::MAX);
            self.send(Outgoing::RegistryCopy { to: to.addr, to_id: to.id, from, upto, skip });
        }
    }

    /// The REGISTRY_COPY for `to_id` of the records with IDs in `(from, upto]`, from the `skip`th on.
    pub(crate) fn registry_copy(&self, to_id: Id, from: Id, upto: Id, skip: u8) -> Message {
        let records = self
            .ring
            .registry
            .records()
            .filter(|r| copied(r, to_id, from, upto))
            .skip(usize::from(skip))
            .take(MAX_REGISTRY_COPY)
            .copied()
            .collect();
        Message::RegistryCopy { records }
    }

    pub(crate) fn handle_registry_copy(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        records: &[Registration],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        let neighbours = &self.ring.neighbours;
        if !neighbours.chain(Side::Left).contains(&sender) && !neighbours.chain(Side::Right).contains(&sender) {
            return Err(DropReason::UnexpectedCopy);
        }
        for record in records {
            if record.check().is_err() {
                self.stats.count_drop(DropReason::BadSignature);
                continue;
            }
            self.register(*record);
        }
        Ok(())
    }
}

/// True if `record` goes in a copy to node `to` of the records in `(from, upto]`.
fn copied(record: &Registration, to: Id, from: Id, upto: Id) -> bool {
    record.id.in_open_closed(from, upto) && record.id != to
}
