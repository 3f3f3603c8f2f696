//! Outstanding requests: starting them, sending each transmission,
//! retransmitting on timeout, completing them from responses, and reporting
//! those that fail. The table itself is [`Transactions`](crate::tables::transactions::Transactions).

use crate::event::{CommandError, Event, RequestId};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::tables::transactions::{Asker, Journey, Purpose, Routed, Transaction};
use crate::time::Instant;
use crate::wire::{Header, MessageType};
use core::net::SocketAddrV6;
use core::time::Duration;

impl<P: Profile> Node<P> {
    /// Retransmits every request whose deadline has passed, and fails
    /// those out of attempts (a relayed hop is never retransmitted: the
    /// relay tries another next hop).
    pub(crate) fn retransmit_due(&mut self, now: Instant) {
        while let Some(index) = self.requests.transactions.first_due(now) {
            let policy = self.requests.transactions.get_mut(index).purpose.policy(&self.config);
            if matches!(self.requests.transactions.get_mut(index).purpose, Purpose::Forward { .. }) {
                let tx = self.requests.transactions.remove_at(index);
                self.hop_timed_out(tx);
                continue;
            }
            let tx = self.requests.transactions.get_mut(index);
            if tx.attempts < policy.attempts {
                let factor = if policy.backoff { 1u32 << tx.attempts.min(16) } else { 1 };
                tx.attempts += 1;
                tx.sent_at = now;
                tx.deadline = now + policy.timeout.saturating_mul(factor);
                let tx = tx.clone();
                bump(&mut self.stats.retransmits);
                self.transmit_request(&tx);
            } else {
                let tx = self.requests.transactions.remove_at(index);
                bump(&mut self.stats.requests_failed);
                self.request_failed(tx);
            }
        }
    }

    /// A fresh command id.
    pub(crate) fn next_request_id(&mut self) -> RequestId {
        self.requests.next_request += 1;
        RequestId(self.requests.next_request)
    }

    /// `period` scaled by a random factor in [0.75, 1.25).
    pub(crate) fn jittered(&mut self, period: Duration) -> Duration {
        let micros = u64::try_from(period.as_micros()).unwrap_or(u64::MAX);
        let permille = 750 + self.rng.below(500);
        Duration::from_micros(micros / 1000 * permille)
    }

    /// Records a request and sends its first transmission.
    pub(crate) fn start_request(&mut self, to: SocketAddrV6, purpose: Purpose) -> Result<u64, CommandError> {
        let txid = self.rng.next_u64();
        self.start_request_with(txid, to, purpose)?;
        Ok(txid)
    }

    /// Records a request under a given txid (a relayed message keeps its originator's) and sends it.
    pub(crate) fn start_request_with(
        &mut self,
        txid: u64,
        to: SocketAddrV6,
        purpose: Purpose,
    ) -> Result<(), CommandError> {
        let tx = self.track_request(txid, to, purpose)?;
        self.transmit_request(&tx);
        Ok(())
    }

    /// Records a request as sent now, without sending anything.
    pub(crate) fn track_request(
        &mut self,
        txid: u64,
        to: SocketAddrV6,
        purpose: Purpose,
    ) -> Result<Transaction, CommandError> {
        let timeout = purpose.policy(&self.config).timeout;
        let now = self.now;
        let charged = self.requests.unproven_input;
        let deadline = now + timeout;
        let tx = Transaction { txid, to, purpose, attempts: 1, started: now, sent_at: now, deadline, charged };
        self.requests.transactions.insert(tx.clone()).map_err(|_| CommandError::TooManyRequests)?;
        Ok(tx)
    }

    /// Queues one transmission of an outstanding request.
    fn transmit_request(&mut self, tx: &Transaction) {
        let (to, txid, hop_limit) = (tx.to, tx.txid, self.config.hop_limit);
        self.send(match tx.purpose {
            Purpose::Join { cookie, hops, seq, .. } => {
                let routed = Routed::Join { joiner: self.me, cookie, seq };
                Outgoing::Routed { to, txid, journey: Journey { hops, ..Journey::start(routed, hop_limit) } }
            }
            Purpose::Lookup { .. } | Purpose::Search { .. } | Purpose::FetchRegistration { .. } => {
                return self.resend(txid, &tx.purpose)
            }
            Purpose::Ping { .. }
            | Purpose::Handover { .. }
            | Purpose::ProveChild { .. }
            | Purpose::Probe {
                role: crate::tables::transactions::Role::Backup | crate::tables::transactions::Role::Friend,
                ..
            } => Outgoing::Ping { to, txid },
            Purpose::Probe { role, .. } => {
                let identify = matches!(role, crate::tables::transactions::Role::Candidate(_));
                Outgoing::Stabilise { to, txid, identify }
            }
            Purpose::RegistryCheck { candidate, .. } => {
                let routed = Routed::RegistryGet { origin: self.me, id: candidate.id };
                Outgoing::Routed { to, txid, journey: Journey::start(routed, hop_limit) }
            }
            Purpose::NeighbourUpdate { peer, side } => Outgoing::NeighbourUpdate { peer, txid, side },
            Purpose::Leave { side, .. } => Outgoing::Leave { to, txid, side },
            Purpose::Forward { journey, .. } => Outgoing::Routed { to, txid, journey },
            Purpose::SearchPage { key, page, .. } => Outgoing::SearchPage { to, txid, key, page },
            Purpose::Verify { owner } => Outgoing::Verify { owner, txid },
            Purpose::ListFiles { page, .. } => Outgoing::ListFiles { to, txid, page },
            Purpose::ContentQuery { key, .. } => Outgoing::ContentQuery { to, txid, key },
            Purpose::FriendAnswer { requester, nonce, accept } => {
                Outgoing::FriendAnswer { to, txid, requester, nonce, accept }
            }
            Purpose::Unfriend { since, tag, .. } => Outgoing::Unfriend { to, txid, since, tag },
            Purpose::Presence { .. } => Outgoing::Presence { to, txid },
            Purpose::MailStore { friend, seq, fragment } => Outgoing::MailStore { to, txid, friend, seq, fragment },
            Purpose::ConfInvite { session, invitee } => {
                Outgoing::Conference { to, txid, session, what: ConferenceOutgoing::Invite { invitee } }
            }
            Purpose::ConfAnswer { session, join } => {
                Outgoing::Conference { to, txid, session, what: ConferenceOutgoing::Answer { join } }
            }
            Purpose::ConfLeave { session, member, removed } => {
                Outgoing::Conference { to, txid, session, what: ConferenceOutgoing::Leave { member, removed } }
            }
            Purpose::ConfChat { session, sender, seq } => {
                Outgoing::Conference { to, txid, session, what: ConferenceOutgoing::Chat { sender, seq } }
            }
            Purpose::TreeProbe { session } => {
                let what = ConferenceOutgoing::TreeJoin { mode: crate::wire::TreeMode::Probe, certify: true };
                Outgoing::Conference { to, txid, session, what }
            }
            Purpose::TreeAttach { session, heartbeat } => {
                let what = ConferenceOutgoing::TreeJoin { mode: crate::wire::TreeMode::Attach, certify: !heartbeat };
                Outgoing::Conference { to, txid, session, what }
            }
            Purpose::TreeDetach { session } => {
                let what = ConferenceOutgoing::TreeJoin { mode: crate::wire::TreeMode::Detach, certify: false };
                Outgoing::Conference { to, txid, session, what }
            }
        });
    }

    /// Reports a request that ran out of attempts.
    fn request_failed(&mut self, tx: Transaction) {
        let event = match tx.purpose {
            Purpose::Join { request, campaign, .. } => {
                return self.join_attempt_failed(request, campaign, crate::event::JoinFailure::Timeout)
            }
            Purpose::Lookup { asker: Asker::User(request), key } => Event::LookupFailed { request, key },
            Purpose::Lookup { asker: Asker::Mail, key } => return self.mail_later(key),
            Purpose::Ping { request } => Event::PingFailed { request, peer: tx.to },
            Purpose::NeighbourUpdate { peer, .. } => Event::NeighbourUnreachable { peer },
            Purpose::Leave { request, .. } => return self.leave_step_done(request),
            Purpose::Probe { .. } => return self.probe_failed(&tx),
            Purpose::Forward { .. } => return,
            Purpose::Search { request, .. } | Purpose::SearchPage { request, .. } => {
                return self.search_half_done(request, true)
            }
            Purpose::Verify { .. } => return self.verify_failed(&tx),
            // The registrar never answered: the candidate stays out, and may try again.
            Purpose::RegistryCheck { .. } => return,
            // Nothing learned: the owners that waited on it stay unchecked.
            Purpose::FetchRegistration { id } => return self.registration_unknown(id),
            Purpose::ListFiles { request, friend, .. } => Event::FileListFailed { request, friend },
            Purpose::ContentQuery { request, .. } => Event::ContentQueryFailed { request, owner: tx.to },
            // The joiner never proved its address: it gets its keys from the owners' refreshes.
            Purpose::Handover { .. } => return,
            // The requester sends its request again until it hears our answer.
            Purpose::FriendAnswer { .. } | Purpose::Unfriend { .. } => return,
            Purpose::Presence { friend, .. } => return self.presence_push_failed(friend),
            Purpose::MailStore { friend, .. } => return self.mail_later(friend),
            Purpose::ConfInvite { session, invitee } => return self.conf_invite_failed(session, invitee),
            Purpose::ConfAnswer { session, .. } => return self.conf_answer_failed(session),
            // The tree's liveness tells the rest.
            Purpose::ConfLeave { .. } => return,
            // That neighbour misses it; the others still get it.
            Purpose::ConfChat { session, sender, seq } => return self.conf_chat_sent(session, sender, seq),
            Purpose::TreeProbe { session } => return self.tree_probe_failed(session),
            Purpose::ProveChild { session } => return self.child_unproven(session, tx.to),
            // The child let go never heard it: it finds out at its next heartbeat.
            Purpose::TreeDetach { .. } => return,
            Purpose::TreeAttach { session, heartbeat } => return self.tree_attach_failed(session, tx.to, heartbeat),
        };
        self.emit(event);
    }

    /// Completes the request a response answers (see `Transactions::complete`).
    /// A request answered by the contact it went to, on its first
    /// transmission, gives a round-trip sample of that contact.
    pub(crate) fn complete_request(
        &mut self,
        header: &Header,
        response: MessageType,
        from: SocketAddrV6,
        matches: impl Fn(&Purpose) -> bool,
    ) -> Result<Transaction, DropReason> {
        let tx = self.requests.transactions.complete(header.txid, response, from, header.sender.addr, matches)?;
        // The response echoes our nonce: its source receives at that address.
        self.vouch(from);
        if self.config.proximity && tx.attempts == 1 && tx.to == from {
            self.lookahead.rtts.sample(from, self.now.saturating_duration_since(tx.sent_at), self.now);
        }
        Ok(tx)
    }

    /// The reply to our own routed request `txid` is in: its first hop's
    /// acknowledgement no longer matters.
    pub(crate) fn forget_first_hop(&mut self, txid: u64) {
        self.requests.transactions.retain(|t| !(t.txid == txid && matches!(t.purpose, Purpose::Forward { .. })));
    }

    /// `addr` echoed a nonce of ours while we handle this input: it is
    /// proven, and what the input makes us do is on the word of a proven address.
    pub(crate) fn vouch(&mut self, addr: SocketAddrV6) {
        self.requests.budgets.prove(addr, self.now);
        self.requests.unproven_input = false;
    }

    /// Queues an event; a full queue drops it and counts the drop.
    pub(crate) fn emit(&mut self, event: Event) {
        if self.events.push_back(event).is_err() {
            self.stats.count_drop(DropReason::EventQueueFull);
        }
    }
}
