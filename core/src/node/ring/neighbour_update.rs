//! NEIGHBOUR_UPDATE and its ACK: how chain changes travel around the ring.
//!
//! A node accepts an update only from its current neighbour on that side
//! (see [`Neighbours::accept_update`](crate::tables::neighbours::Neighbours::accept_update)),
//! acknowledges it, adopts the chain, and in turn tells its own opposite
//! neighbour if its chain changed. Each step moves the change one node
//! further and the chains are bounded, so announcements die out after at
//! most `1 + backups` nodes.

use crate::event::Event;
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::neighbours::ChainChange;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::wire::{Chain, Header, MessageType, Side};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    pub(crate) fn handle_neighbour_update(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        side: Side,
        chain: &[ResourceLocator],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        let adopted = self
            .ring
            .neighbours
            .accept_update(self.me.id, &sender, side, chain, self.config.chain_len())
            .map_err(|_| DropReason::UnexpectedNeighbourUpdate)?;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        self.set_chain(side, adopted, None);
        Ok(())
    }

    pub(crate) fn handle_ack(&mut self, from: SocketAddrV6, header: &Header) -> Result<(), DropReason> {
        let tx = self.complete_request(header, MessageType::Ack, from, |_| true)?;
        match tx.purpose {
            crate::tables::transactions::Purpose::Leave { request, .. } => self.leave_step_done(request),
            crate::tables::transactions::Purpose::Presence { friend, version } => {
                self.presence_acknowledged(friend, version)
            }
            crate::tables::transactions::Purpose::MailStore { friend, seq, fragment } => {
                self.mail_stored(friend, seq, fragment)
            }
            crate::tables::transactions::Purpose::ConfChat { session, sender, seq } => {
                self.conf_chat_sent(session, sender, seq)
            }
            _ => {}
        }
        Ok(())
    }

    /// Adopts `chain` on `side` and announces the change to the nodes whose
    /// chains derive from ours. `quiet` names a node already told (a joiner
    /// that got our chains in its JOIN_REPLY).
    pub(crate) fn set_chain(&mut self, side: Side, chain: Chain, quiet: Option<Id>) {
        let Some(change) = self.ring.neighbours.replace(side, chain) else {
            return;
        };
        if side == Side::Left && change.old_neighbour != change.new_neighbour {
            self.follow_responsibility(change.old_neighbour, change.new_neighbour);
        }
        if let Some(new) =
            change.new_neighbour.filter(|_| side == Side::Right && change.old_neighbour != change.new_neighbour)
        {
            self.copy_registrations_to(&new);
        }
        self.forget_stale_digests();
        self.start_digests();
        self.announce(change, quiet);
        self.schedule_maintenance();
    }

    fn announce(&mut self, change: ChainChange, quiet: Option<Id>) {
        let ChainChange { side, old_neighbour, new_neighbour } = change;
        // Our opposite neighbour's chain on `side` runs through us.
        if let Some(opposite) = self.ring.neighbours.neighbour(side.opposite()).copied() {
            if Some(opposite.id) != quiet {
                self.notify(opposite, side);
            }
        }
        if old_neighbour != new_neighbour {
            // A new neighbour learns our other side from us.
            if let Some(new) = new_neighbour.filter(|n| Some(n.id) != quiet) {
                self.notify(new, side.opposite());
            }
            self.emit(Event::NeighbourChanged { side, neighbour: new_neighbour });
        }
    }

    /// Sends `peer` the chain it should hold on `side`, reliably.
    pub(crate) fn notify(&mut self, peer: ResourceLocator, side: Side) {
        // An update already outstanding for the same peer and side is sent
        // again at once under its own txid: chains are read at encode time, so
        // it carries the newest chain, and either copy's ACK completes it.
        let outstanding =
            self.requests.transactions.iter().find(|tx| tx.purpose == Purpose::NeighbourUpdate { peer, side });
        if let Some(tx) = outstanding {
            let txid = tx.txid;
            self.send(Outgoing::NeighbourUpdate { peer, txid, side });
        } else if self.start_request(peer.addr, Purpose::NeighbourUpdate { peer, side }).is_err() {
            self.stats.count_drop(DropReason::RequestTableFull);
        }
    }
}
