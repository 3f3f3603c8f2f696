//! NEIGHBOUR_UPDATE and its ACK: how chain changes travel around the ring.
//!
//! A node accepts an update only from its current neighbour on that side
//! (see [`Neighbours::accept_update`](crate::neighbours::Neighbours::accept_update)),
//! acknowledges it, adopts the chain, and in turn tells its own opposite
//! neighbour if its chain changed. Each step moves the change one node
//! further and the chains are bounded, so announcements die out after at
//! most `1 + backups` nodes.

use crate::id::ResourceLocator;
use crate::node::Node;
use crate::outbox::Outgoing;
use crate::stats::DropReason;
use crate::wire::{Header, MessageType, Side};
use core::net::SocketAddrV6;

impl Node {
    pub(crate) fn handle_neighbour_update(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        side: Side,
        chain: &[ResourceLocator],
    ) -> Result<(), DropReason> {
        let sender = ResourceLocator::new(header.sender.id, from);
        let adopted = self
            .neighbours
            .accept_update(self.me.id, &sender, side, chain, self.config.chain_len())
            .map_err(|_| DropReason::UnexpectedNeighbourUpdate)?;
        self.send(Outgoing::Ack { to: from, txid: header.txid });
        self.set_chain(side, adopted, None);
        Ok(())
    }

    pub(crate) fn handle_ack(&mut self, from: SocketAddrV6, header: &Header) -> Result<(), DropReason> {
        let tx = self.complete_request(header, MessageType::Ack, from, |_| true)?;
        if let crate::transactions::Purpose::Leave { request, .. } = tx.purpose {
            self.leave_step_done(request);
        }
        Ok(())
    }
}
