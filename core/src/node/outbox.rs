//! Encoding at poll time: each queued [`Outgoing`] becomes a datagram in the
//! driver's buffer, its contents read from the node's tables as they stand.

use crate::id::ResourceLocator;
use crate::node::Node;
use crate::profile::Profile;
use crate::registration::Registration;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::{Charge, Outgoing};
use crate::tables::transactions::{Journey, Routed};
use crate::wire::{Chain, Header, IdentityProof, JoinStatus, Message, MessageType, Repr, Side, Traffic, DETOUR_BITS};
use core::net::SocketAddrV6;

/// The smallest STABILISE_REPLY with a proof: header, two empty chains,
/// the proof's flag and the proof.
const MIN_PROVEN_REPLY: usize = crate::wire::HEADER_LEN + 3 + IdentityProof::WIRE_LEN;

impl<P: Profile> Node<P> {
    /// Queues a datagram; a full outbox drops it and counts the drop.
    pub(crate) fn send(&mut self, outgoing: Outgoing) {
        if self.outbox.push_back(outgoing).is_err() {
            self.stats.count_drop(DropReason::OutboxFull);
        }
    }

    /// Encodes the next queued datagram into `buf`.
    ///
    /// Returns `None` when the outbox is empty. Datagrams that became stale
    /// (a neighbour update for a node no longer in our chains) or that do not
    /// fit `buf` are skipped.
    pub(crate) fn encode_next(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV6, usize)> {
        while let Some(outgoing) = self.outbox.pop_front() {
            if outgoing == Outgoing::Encoded {
                let Some(slot) = self.dht.encoded.pop_front() else { continue };
                if slot.charged && !self.requests.budgets.charge(&slot.to, slot.len, self.now) {
                    self.stats.count_drop(DropReason::AmplificationLimit);
                    continue;
                }
                match buf.get_mut(..slot.len) {
                    Some(out) => {
                        out.copy_from_slice(&slot.bytes[..slot.len]);
                        let kind = slot.bytes.get(3).copied().and_then(MessageType::from_u8);
                        self.count_out(kind, slot.len);
                        return Some((slot.to, slot.len));
                    }
                    None => self.stats.count_drop(DropReason::BufferTooSmall),
                }
                continue;
            }
            let Some((to, repr)) = self.describe(&outgoing) else {
                continue;
            };
            match repr.emit(buf) {
                Ok(len) if self.is_charged(&outgoing, to) && !self.requests.budgets.charge(&to, len, self.now) => {
                    self.stats.count_drop(DropReason::AmplificationLimit);
                }
                Ok(len) => {
                    self.count_out(Some(repr.message.message_type()), len);
                    return Some((to, len));
                }
                Err(_) => self.stats.count_drop(DropReason::BufferTooSmall),
            }
        }
        None
    }

    /// True if `outgoing`, to `to`, counts against `to`'s 3× allowance
    /// while `to` is unproven (see [`Charge`]).
    fn is_charged(&self, outgoing: &Outgoing, to: SocketAddrV6) -> bool {
        match outgoing.charge() {
            Charge::Drawn => true,
            Charge::Probe { txid } => {
                self.requests.transactions.iter().any(|tx| tx.txid == txid && tx.to == to && tx.charged)
            }
            Charge::Own => false,
        }
    }

    /// Counts one emitted datagram of type `kind`.
    pub(crate) fn count_out(&mut self, kind: Option<MessageType>, len: usize) {
        bump(&mut self.stats.datagrams_out);
        self.stats.bytes_out = self.stats.bytes_out.saturating_add(len as u64);
        if kind.is_some_and(|k| k.traffic() == Traffic::Maintenance) {
            bump(&mut self.stats.maintenance_out);
        }
        if kind == Some(MessageType::Store) {
            bump(&mut self.stats.store_out);
        }
        if let Some(kind) = kind {
            self.stats.count_sent(kind, len);
        }
    }

    fn header(&self, txid: u64, hop_limit: u8) -> Header {
        Header { flags: 0, hop_limit, txid, sender: self.me }
    }

    /// The destination and full message for a queued datagram.
    fn describe(&mut self, outgoing: &Outgoing) -> Option<(SocketAddrV6, Repr)> {
        let direct = |node: &Self, txid: u64, message: Message| Repr { header: node.header(txid, 0), message };
        Some(match *outgoing {
            Outgoing::Ping { to, txid } => (to, direct(self, txid, Message::Ping)),
            Outgoing::Pong { to, txid } => (to, direct(self, txid, Message::Pong)),
            Outgoing::Ack { to, txid } => (to, direct(self, txid, Message::Ack)),
            Outgoing::HopAck { to, txid } => (to, direct(self, txid, Message::HopAck)),
            Outgoing::Stabilise { to, txid, identify } => (to, direct(self, txid, Message::Stabilise { identify })),
            Outgoing::FriendDigest { to } => {
                let txid = self.rng.next_u64();
                (to, direct(self, txid, Message::FriendDigest { ids: self.digest_ids() }))
            }
            Outgoing::StabiliseReply { to, txid, identify } => {
                // To an unproven address, only what its allowance covers,
                // and a proof only if it covers that.
                let mut room = self.requests.budgets.allowance(&to, self.now).min(crate::wire::MAX_DATAGRAM);
                let proof = (identify && room >= MIN_PROVEN_REPLY).then(|| self.identity_proof(txid));
                room -= proof.map_or(0, |_| IdentityProof::WIRE_LEN);
                let (left, right) = self.chains_within(room);
                (to, direct(self, txid, Message::StabiliseReply { left, right, proof }))
            }
            Outgoing::RegistryRecord { to, txid, id } => {
                let record = self.ring.registry.get(id).copied();
                (to, direct(self, txid, Message::RegistryRecord { id, record }))
            }
            Outgoing::Leave { to, txid, side } => {
                let chain = self.ring.neighbours.chain(side).iter().copied().collect();
                (to, direct(self, txid, Message::Leave { side, chain }))
            }
            Outgoing::Routed { to, txid, journey } => {
                let Journey { routed, hops, hop_limit, .. } = journey;
                let mut header = self.header(txid, hop_limit);
                header.flags |= journey.detours_sent() & DETOUR_BITS;
                let message = match routed {
                    Routed::Join { joiner, cookie, seq } => {
                        // Our own JOIN echoing a cookie carries our registration, signed over it.
                        let proof = (joiner == self.me && cookie != 0).then(|| {
                            IdentityProof::of(&Registration::sign(&self.identity, joiner.id, joiner.addr, seq, cookie))
                        });
                        Message::Join { joiner, hops, cookie, proof }
                    }
                    Routed::Lookup { origin, key } => Message::Lookup { origin, key, hops },
                    Routed::Search { origin, key } => Message::Search { origin, key, hops },
                    Routed::RegistryGet { origin, id } => Message::RegistryGet { origin, id, hops },
                };
                (to, Repr { header, message })
            }
            Outgoing::JoinReply { to, txid, status, hops, max_len, cookie, seq } => {
                let (left, right) = match status {
                    JoinStatus::Accepted => self.chains_within(usize::from(max_len)),
                    JoinStatus::IdInUse | JoinStatus::NotMember | JoinStatus::Retry | JoinStatus::IdRegistered => {
                        (Chain::new(), Chain::new())
                    }
                };
                (to, direct(self, txid, Message::JoinReply { status, hops, left, right, cookie, seq }))
            }
            Outgoing::NeighbourUpdate { peer, txid, side } => {
                let Some(chain) = self.ring.neighbours.chain_for(&self.me, peer.id, side) else {
                    // The peer left our chains since this was queued: nothing to tell it.
                    let stale = |t: &crate::tables::transactions::Transaction| {
                        t.txid == txid
                            && matches!(t.purpose, crate::tables::transactions::Purpose::NeighbourUpdate { .. })
                    };
                    if let Some(index) = self.requests.transactions.position(stale) {
                        self.requests.transactions.remove_at(index);
                    }
                    return None;
                };
                (peer.addr, direct(self, txid, Message::NeighbourUpdate { side, chain }))
            }
            Outgoing::LookupReply { to, txid, key, hops } => {
                (to, direct(self, txid, Message::LookupReply { key, hops }))
            }
            Outgoing::Store { to, txid, hop_limit, start, end, unconfirmed, mirror } => {
                let message = self.own_store((start, end), unconfirmed, mirror);
                (to, Repr { header: self.header(txid, hop_limit), message })
            }
            Outgoing::Verify { owner, txid } => (owner.addr, direct(self, txid, self.verify_message(&owner))),
            Outgoing::SearchPage { to, txid, key, page } => (to, direct(self, txid, Message::SearchPage { key, page })),
            Outgoing::SearchReply { to, txid, key, hops, page } => {
                (to, direct(self, txid, self.search_reply(key, hops, page)))
            }
            Outgoing::Replicate { to, txid, from, upto, skip, since } => {
                (to, direct(self, txid, self.copies(from, upto, skip, since)))
            }
            Outgoing::RegistryCopy { to, to_id, from, upto, skip } => {
                let txid = self.rng.next_u64();
                (to, direct(self, txid, self.registry_copy(to_id, from, upto, skip)))
            }
            Outgoing::ListFiles { to, txid, page } => (to, direct(self, txid, Message::ListFiles { page })),
            Outgoing::FileList { to, txid, page } => (to, direct(self, txid, self.file_list(page))),
            Outgoing::FriendRequest { to, target } => {
                let txid = self.rng.next_u64();
                (to, direct(self, txid, self.friend_request_message(target)?))
            }
            Outgoing::FriendAnswer { to, txid, requester, nonce, accept } => {
                (to, direct(self, txid, self.friend_answer_message(requester, nonce, accept)))
            }
            Outgoing::Unfriend { to, txid, since, tag } => {
                (to, direct(self, txid, Message::Unfriend(crate::wire::Unfriend { since, tag })))
            }
            Outgoing::Presence { to, txid } => (to, direct(self, txid, self.presence_message())),
            Outgoing::Chat { friend, seq, fragment } => {
                let txid = self.rng.next_u64();
                let (to, message) = self.chat_datagram(friend, seq, fragment)?;
                (to, direct(self, txid, message))
            }
            Outgoing::ChatAck { to, friend, seq, fragment, .. } => {
                let txid = self.rng.next_u64();
                let ack = self.chat_ack_message(friend, seq, fragment)?;
                (to, direct(self, txid, ack))
            }
            Outgoing::MailStore { to, txid, friend, seq, fragment } => {
                (to, direct(self, txid, Message::MailStore(self.own_mail(friend, seq, fragment)?)))
            }
            Outgoing::MailCopy { to, letter } => {
                let txid = self.rng.next_u64();
                (to, direct(self, txid, Message::MailCopy(self.letter_mail(letter)?)))
            }
            Outgoing::Mail { to, letter } => {
                let txid = self.rng.next_u64();
                (to, direct(self, txid, Message::Mail(self.letter_mail(letter)?)))
            }
            Outgoing::MailAck { to, txid, ack, .. } => (to, direct(self, txid, Message::MailAck(ack))),
            Outgoing::Get { to, request, stream } => {
                let get = self.get_message(request, to, stream)?;
                (to, direct(self, stream, get))
            }
            Outgoing::StopGet { to, stream, content } => {
                let get = crate::wire::Get { content, seq: u32::MAX, cookie: 0, ranges: heapless::Vec::new() };
                (to, direct(self, stream, Message::Get(get)))
            }
            Outgoing::DataAck { to, request, stream } => {
                let ack = self.data_ack_message(request, to, stream)?;
                (to, direct(self, stream, ack))
            }
            Outgoing::ContentQuery { to, txid, key } => (to, direct(self, txid, Message::ContentQuery { key })),
            Outgoing::ContentInfo { to, txid, key } => {
                (to, direct(self, txid, Message::ContentInfo(self.content_info(key))))
            }
            Outgoing::Conference { to, txid, session, what } => {
                let message = self.conference_message(to, session, what)?;
                (to, direct(self, txid, message))
            }
            Outgoing::Refuse { to, txid, reason, cookie } => {
                (to, direct(self, txid, Message::Refuse(crate::wire::Refuse { reason, cookie })))
            }
            // Handled by encode_next before describing.
            Outgoing::Encoded => return None,
        })
    }

    /// Our left and right chains, trimmed from their far ends until a
    /// reply carrying them fits in `max_len` bytes.
    fn chains_within(&self, max_len: usize) -> (Chain, Chain) {
        let mut left: Chain = self.ring.neighbours.chain(Side::Left).iter().copied().collect();
        let mut right: Chain = self.ring.neighbours.chain(Side::Right).iter().copied().collect();
        let fixed = crate::wire::HEADER_LEN + 4;
        let room = max_len.saturating_sub(fixed) / ResourceLocator::WIRE_LEN;
        while left.len() + right.len() > room {
            let longer = if right.len() >= left.len() { &mut right } else { &mut left };
            longer.pop();
        }
        (left, right)
    }
}
