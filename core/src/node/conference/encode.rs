//! A conference's datagrams written when polled: statements signed then,
//! the tree's state read from the table as it stands.

use crate::conference::{Certificate, SessionId, Statement};
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::conference_transfer::{piece_number, Piece};
use crate::tables::conferences::Role;
use crate::tables::outbox::ConferenceOutgoing;
use crate::wire::{
    ConfAdmit, ConfAnswer, ConfInvite, ConfLeave, ConfPull, Message, TreeJoin, TreeState, TreeStatus, MAX_CANDIDATES,
};

impl<P: Profile> Node<P> {
    /// The message `what` describes, or `None` if what it needs is gone
    /// (the conference left, a contact removed).
    pub(crate) fn conference_message(
        &mut self,
        to: core::net::SocketAddrV6,
        session: SessionId,
        what: ConferenceOutgoing,
    ) -> Option<Message> {
        let me = self.me.id;
        Some(match what {
            ConferenceOutgoing::Invite { invitee } => {
                let conference = self.conferences.get(session)?;
                let statement = Statement::Invite { session, creator: me, invitee };
                let (nonce, name) = (conference.nonce, conference.name.clone());
                Message::ConfInvite(ConfInvite { session, nonce, name, signature: statement.sign(&self.identity) })
            }
            ConferenceOutgoing::Answer { join } => {
                let answer = ConfAnswer { session, join, signature: crate::identity::Signature([0; 64]) };
                let signature = answer.statement(me).sign(&self.identity);
                Message::ConfAnswer(ConfAnswer { signature, ..answer })
            }
            ConferenceOutgoing::Admit { member, admitted } => {
                let key = self.messenger.contacts.get(member).map(|c| c.key);
                let certificate =
                    key.filter(|_| admitted).map(|key| Certificate::issue(session, &self.identity, me, member, key));
                Message::ConfAdmit(ConfAdmit { session, certificate })
            }
            ConferenceOutgoing::Leave { member, removed } => {
                let statement = if removed {
                    Statement::Remove { session, creator: me, member }
                } else {
                    Statement::Leave { session, member }
                };
                if statement.signer() != me {
                    return None;
                }
                Message::ConfLeave(ConfLeave { session, member, removed, signature: statement.sign(&self.identity) })
            }
            ConferenceOutgoing::TreeJoin { mode, certify } => {
                let certificate = self.own_certificate(session).filter(|_| certify);
                let delay_us = self.conferences.get(session).map_or(0, |c| c.tree.distance_to(to));
                let capacity = self.config.tree_children;
                Message::TreeJoin(TreeJoin { session, mode, capacity, delay_us, certificate })
            }
            ConferenceOutgoing::TreeState { status, certify } => {
                Message::TreeState(self.tree_state(session, status, certify)?)
            }
            ConferenceOutgoing::Chat { sender, seq } => {
                Message::ConfChat(self.conference_chats.get(session, sender, seq)?.chat.clone())
            }
            ConferenceOutgoing::Pull { transfer } => {
                Message::ConfPull(self.pull_message(session, transfer).filter(|p| !p.ranges.is_empty())?)
            }
            ConferenceOutgoing::ProofPull { transfer, block } => {
                // Cannot fail: one range of several.
                let ranges = heapless::Vec::from_slice(&[(piece_number(Piece::Proof(block)), 1)]).ok()?;
                Message::ConfPull(ConfPull { session, transfer, ranges })
            }
        })
    }

    /// Our certificate in `session` (none if we are its creator).
    fn own_certificate(&self, session: SessionId) -> Option<Certificate> {
        match self.conferences.get(session)?.role {
            Role::Member(certificate) => Some(certificate),
            _ => None,
        }
    }

    /// Our place in `session`'s tree; a heartbeat's answer lists no candidates.
    fn tree_state(&mut self, session: SessionId, status: TreeStatus, certify: bool) -> Option<TreeState> {
        let spare = self.spare_children(session);
        let certificate = self.own_certificate(session).filter(|_| certify);
        let tree = &self.conferences.get(session)?.tree;
        let mut candidates = heapless::Vec::<_, MAX_CANDIDATES>::new();
        if status != TreeStatus::Child && !tree.children.is_empty() {
            // From a turning start, so that askers spread over the children.
            let start = self.rng.below(tree.children.len() as u64) as usize;
            let turned = tree.children.iter().cycle().skip(start).take(tree.children.len());
            for child in turned.take(MAX_CANDIDATES) {
                // Cannot overflow: at most MAX_CANDIDATES are taken.
                let _ = candidates.push(child.locator);
            }
        }
        let (weakest, weakest_delay_us) = tree.weakest(self.now, self.settle_time(session));
        let (path, root_delay_us) = (tree.path.clone(), tree.root_delay_us);
        Some(TreeState {
            session,
            status,
            root_delay_us,
            spare,
            weakest,
            weakest_delay_us,
            path,
            candidates,
            certificate,
        })
    }
}
