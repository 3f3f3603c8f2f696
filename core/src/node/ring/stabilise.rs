//! STABILISE: repairing the ring from what neighbours report (after Chord's
//! stabilise and notify).
//!
//! A node periodically sends STABILISE to each neighbour and learns its
//! chains from the STABILISE_REPLY. From its right neighbour P it takes its
//! right chain as `[P] + P's right chain`; if P's left neighbour X lies
//! between the two of them, X is a better right neighbour: the node probes X
//! and, when X answers, adopts it. The left side is the mirror image.
//!
//! A STABILISE from a node the receiver does not count as a neighbour, but
//! which would be closer than its current neighbour on a side (or a side is
//! empty), makes the receiver probe that node as a candidate. Chains change
//! only on answers to the node's own probes, so a stranger cannot plant a
//! fake neighbour or make a node drop a live one; and a candidate is
//! adopted only once it has proven its registered identity too (see
//! `identity/vetting.rs`).

use crate::id::ResourceLocator;
use crate::node::identity::Verdict;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::neighbours::{between, cut_chain};
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::{Purpose, Role};
use crate::wire::{Header, IdentityProof, MessageType, Side};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    pub(crate) fn handle_stabilise(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        identify: bool,
    ) -> Result<(), DropReason> {
        if !self.is_member() {
            return Err(DropReason::NotJoined);
        }
        // The probe first: to an unproven sender, the reply gets what is left of its allowance.
        self.consider(ResourceLocator::new(header.sender.id, from));
        self.send(Outgoing::StabiliseReply { to: from, txid: header.txid, identify });
        Ok(())
    }

    /// Probes `node` as a candidate neighbour on each side where it would be
    /// closer than the current neighbour, or where there is none.
    pub(crate) fn consider(&mut self, node: ResourceLocator) {
        if node.id == self.me.id || self.ring.leaving.is_some() {
            return;
        }
        for side in [Side::Left, Side::Right] {
            let closer = match self.ring.neighbours.neighbour(side) {
                // An empty side takes anyone but the nodes of the other side,
                // which sit the wrong way round (unless they are all there is).
                None => {
                    let other = self.ring.neighbours.chain(side.opposite());
                    other.len() <= 1 || !other.contains(&node)
                }
                Some(current) => current != &node && between(side, self.me.id, current.id, node.id),
            };
            if closer {
                self.probe(node, Role::Candidate(side));
            }
        }
    }

    pub(crate) fn handle_stabilise_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        (left, right): (&[ResourceLocator], &[ResourceLocator]),
        proof: Option<IdentityProof>,
    ) -> Result<(), DropReason> {
        let sender_id = header.sender.id;
        let same_node = |p: &Purpose| matches!(p, Purpose::Probe { target, .. } if target.id == sender_id);
        let tx = self.complete_request(header, MessageType::StabiliseReply, from, same_node)?;
        let Purpose::Probe { target: peer, role } = tx.purpose else { return Ok(()) };
        let side = match role {
            Role::Neighbour(side) | Role::Candidate(side) => side,
            Role::Backup | Role::Friend => return Ok(()),
        };
        let (toward_us, away) = match side {
            Side::Right => (left, right),
            Side::Left => (right, left),
        };
        let adopt = match (role, self.ring.neighbours.neighbour(side)) {
            (Role::Neighbour(_), current) => current == Some(&peer),
            (_, None) => true,
            (_, Some(current)) => between(side, self.me.id, current.id, peer.id),
        };
        let vetted = match role {
            Role::Candidate(_) if adopt && self.ring.leaving.is_none() => self.vet(peer, side, proof, tx.txid),
            _ => Verdict::Adopt,
        };
        if adopt && self.ring.leaving.is_none() && matches!(vetted, Verdict::Adopt) {
            let chain = cut_chain(
                self.me.id,
                side,
                core::iter::once(peer).chain(away.iter().copied()),
                self.config.chain_len(),
            );
            self.set_chain(side, chain, None);
        }
        // Someone the peer knows between us is a better neighbour still: the
        // nearest to us of those it lists.
        let closer = toward_us.iter().take_while(|x| between(side, self.me.id, peer.id, x.id)).last();
        if let Some(closer) = closer {
            self.probe(*closer, Role::Candidate(side));
        }
        Ok(())
    }
}
