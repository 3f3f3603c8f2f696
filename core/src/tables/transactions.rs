//! Outstanding requests: transaction ids, retransmission, and the rule for
//! which responses count.
//!
//! A direct request (PING, STABILISE, NEIGHBOUR_UPDATE, LEAVE, VERIFY,
//! SEARCH_PAGE, LIST_FILES, and each hop of a routed message) is answered by
//! the node it went to, so its response must come from that address. A routed
//! request (JOIN, LOOKUP, SEARCH) is answered by whichever node turns out to
//! be responsible, so its response must carry a header sender address equal
//! to its source address. Either way the 64-bit random transaction id must
//! match.

use crate::capacity::{Cap, Capacity, Table};
use crate::conference::SessionId;
use crate::config::{Config, MAX_PENDING_REQUESTS};
use crate::event::RequestId;
use crate::id::{Id, ResourceLocator};
use crate::stats::DropReason;
use crate::time::Instant;
use crate::wire::{Delivery, MessageType, Side};
use core::net::SocketAddrV6;
use core::time::Duration;

/// Next hops a routed message is offered to before a relay gives up on it.
pub(crate) const MAX_HOP_TRIES: usize = 3;

/// Which contact a liveness probe checks, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Our neighbour on this side (probed with STABILISE).
    Neighbour(Side),
    /// A node that may belong on this side, closer than our neighbour (STABILISE).
    Candidate(Side),
    /// A backup in one of our chains (PING).
    Backup,
    /// A friend (PING).
    Friend,
}

pub(crate) use super::journey::{JoinAsk, Journey, Routed};

/// What an outstanding request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Our JOIN; `campaign` if it works through the bootstrap list; with
    /// the responder's `cookie` once it asked us to show our address, and
    /// then the `hops` the first copy took to reach it (else 1) and the
    /// `seq` our registration must carry (else 0).
    Join {
        request: RequestId,
        campaign: bool,
        cookie: u64,
        hops: u8,
        /// The sequence number the responder asked our registration to carry.
        seq: u32,
    },
    /// Our LOOKUP of `key`, for `asker`.
    Lookup {
        asker: Asker,
        key: Id,
    },
    Ping {
        request: RequestId,
    },
    NeighbourUpdate {
        peer: ResourceLocator,
        side: Side,
    },
    Leave {
        request: RequestId,
        side: Side,
    },
    Probe {
        target: ResourceLocator,
        role: Role,
    },
    /// Our SEARCH; its first reply is page 0.
    Search {
        request: RequestId,
        key: Id,
    },
    /// A further page of our search, asked of the node that answered.
    SearchPage {
        request: RequestId,
        key: Id,
        page: u8,
    },
    /// A return-routability check of an owner's address.
    Verify {
        owner: ResourceLocator,
    },
    /// Asks our right neighbour, the registrar of a candidate right
    /// neighbour's ID, whether that ID is registered to another key than
    /// the one the candidate proved it holds (a REGISTRY_GET whose first
    /// hop is that neighbour).
    RegistryCheck {
        candidate: ResourceLocator,
        key: crate::identity::PublicKey,
    },
    /// Our REGISTRY_GET for `id`, routed to its registrar.
    FetchRegistration {
        id: Id,
    },
    /// A PING checking a joiner's address before we hand it keys in `(from, joiner]`.
    Handover {
        joiner: ResourceLocator,
        from: Id,
    },
    /// Page `page` of a friend's file list; `listed` counts names so far.
    ListFiles {
        request: RequestId,
        friend: Id,
        page: u8,
        listed: u16,
    },
    /// One hop of a routed message; `tried` holds the hops offered so far.
    Forward {
        journey: Journey,
        tried: heapless::Vec<SocketAddrV6, MAX_HOP_TRIES>,
    },
    /// What an owner shares under file ID `key`.
    ContentQuery {
        request: RequestId,
        key: Id,
    },
    /// Our answer to `requester`'s friend request `nonce`.
    FriendAnswer {
        requester: Id,
        nonce: u64,
        accept: bool,
    },
    /// The end of our friendship with `friend`, begun by request `since`.
    Unfriend {
        friend: Id,
        since: u64,
        tag: [u8; crate::conversation::TAG_LEN],
    },
    /// Our presence `version`, pushed to `friend`.
    Presence {
        friend: Id,
        version: u64,
    },
    /// Fragment `fragment` of our message `seq` to offline `friend`, to its mail's holder.
    MailStore {
        friend: Id,
        seq: u32,
        fragment: u8,
    },
    /// Our invitation of `invitee` to conference `session`.
    ConfInvite {
        session: SessionId,
        invitee: Id,
    },
    /// Our answer to conference `session`'s invitation.
    ConfAnswer {
        session: SessionId,
        join: bool,
    },
    /// `member` leaves conference `session` (we do), or is `removed` (by us, its creator).
    ConfLeave {
        session: SessionId,
        member: Id,
        removed: bool,
    },
    /// `sender`'s chat message `seq` in conference `session`, to a tree neighbour.
    ConfChat {
        session: SessionId,
        sender: Id,
        seq: u32,
    },
    /// A PING proving a new child's address in conference `session`'s tree.
    ProveChild {
        session: SessionId,
    },
    /// Our word to a child in conference `session`'s tree that it is no
    /// longer ours (another took its place).
    TreeDetach {
        session: SessionId,
    },
    /// A probe of a member's place in conference `session`'s tree.
    TreeProbe {
        session: SessionId,
    },
    /// Our attachment under a parent in conference `session`'s tree, or
    /// (`heartbeat`) our periodic word that we are still its child.
    TreeAttach {
        session: SessionId,
        heartbeat: bool,
    },
}

/// Transmissions of a tree probe, attachment or heartbeat, an eighth of a
/// heartbeat period apart, before the member asked is presumed gone.
pub const TREE_ATTEMPTS: u8 = 4;

/// Who wants a LOOKUP's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Asker {
    /// The user, by a `lookup` command.
    User(RequestId),
    /// The messenger, for the holder of an offline friend's mail (the key is the friend's ID).
    Mail,
}

/// How a request is retried.
pub(crate) struct Policy {
    pub attempts: u8,
    pub timeout: Duration,
    pub backoff: bool,
}

impl Purpose {
    /// The type of the request it sends.
    pub fn request_type(&self) -> MessageType {
        match self {
            Purpose::Join { .. } => MessageType::Join,
            Purpose::Lookup { .. } => MessageType::Lookup,
            Purpose::Ping { .. }
            | Purpose::Handover { .. }
            | Purpose::ProveChild { .. }
            | Purpose::Probe { role: Role::Backup | Role::Friend, .. } => MessageType::Ping,
            Purpose::Probe { role: Role::Neighbour(_) | Role::Candidate(_), .. } => MessageType::Stabilise,
            Purpose::NeighbourUpdate { .. } => MessageType::NeighbourUpdate,
            Purpose::Leave { .. } => MessageType::Leave,
            Purpose::Forward { journey, .. } => journey.routed.message_type(),
            Purpose::Search { .. } => MessageType::Search,
            Purpose::SearchPage { .. } => MessageType::SearchPage,
            Purpose::Verify { .. } => MessageType::Verify,
            Purpose::RegistryCheck { .. } | Purpose::FetchRegistration { .. } => MessageType::RegistryGet,
            Purpose::ListFiles { .. } => MessageType::ListFiles,
            Purpose::ContentQuery { .. } => MessageType::ContentQuery,
            Purpose::FriendAnswer { .. } => MessageType::FriendAnswer,
            Purpose::Unfriend { .. } => MessageType::Unfriend,
            Purpose::Presence { .. } => MessageType::Presence,
            Purpose::MailStore { .. } => MessageType::MailStore,
            Purpose::ConfInvite { .. } => MessageType::ConfInvite,
            Purpose::ConfAnswer { .. } => MessageType::ConfAnswer,
            Purpose::ConfLeave { .. } => MessageType::ConfLeave,
            Purpose::ConfChat { .. } => MessageType::ConfChat,
            Purpose::TreeProbe { .. } | Purpose::TreeAttach { .. } | Purpose::TreeDetach { .. } => {
                MessageType::TreeJoin
            }
        }
    }

    /// The response type that completes it: a relayed hop's HOP_ACK, or the
    /// response the type table names for its request.
    fn response_type(&self) -> Option<MessageType> {
        match self {
            Purpose::Forward { .. } => Some(MessageType::HopAck),
            // Exhaustive where it must be: `request_type` names every purpose.
            _ => self.request_type().response(),
        }
    }

    /// True if any node may answer: our own routed request, answered by
    /// whichever node is responsible (a relayed hop is answered by its next hop).
    fn is_routed(&self) -> bool {
        !matches!(self, Purpose::Forward { .. }) && self.request_type().delivery() == Delivery::Routed
    }

    /// How it is retried under `config`.
    pub fn policy(&self, config: &Config) -> Policy {
        match self {
            Purpose::Probe { .. } | Purpose::RegistryCheck { .. } => {
                Policy { attempts: config.liveness_misses, timeout: config.probe_timeout, backoff: false }
            }
            Purpose::Forward { .. } => Policy { attempts: 1, timeout: config.hop_timeout, backoff: false },
            Purpose::TreeProbe { .. }
            | Purpose::TreeAttach { .. }
            | Purpose::TreeDetach { .. }
            | Purpose::ProveChild { .. } => {
                Policy { attempts: TREE_ATTEMPTS, timeout: config.tree_heartbeat / 8, backoff: false }
            }
            // The address is unverified: two VERIFYs at most, so a forged
            // STORE never draws more than twice its size towards a victim.
            Purpose::Verify { .. } => Policy { attempts: 2, timeout: config.request_timeout, backoff: true },
            Purpose::Join { campaign: true, .. } => {
                Policy { attempts: config.max_attempts.min(2), timeout: config.request_timeout, backoff: true }
            }
            Purpose::Join { campaign: false, .. }
            | Purpose::Lookup { .. }
            | Purpose::Ping { .. }
            | Purpose::NeighbourUpdate { .. }
            | Purpose::Leave { .. }
            | Purpose::Search { .. }
            | Purpose::FetchRegistration { .. }
            | Purpose::SearchPage { .. }
            | Purpose::Handover { .. }
            | Purpose::ListFiles { .. }
            | Purpose::ContentQuery { .. }
            | Purpose::FriendAnswer { .. }
            | Purpose::Unfriend { .. }
            | Purpose::Presence { .. }
            | Purpose::MailStore { .. }
            | Purpose::ConfInvite { .. }
            | Purpose::ConfAnswer { .. }
            | Purpose::ConfLeave { .. }
            | Purpose::ConfChat { .. } => {
                Policy { attempts: config.max_attempts, timeout: config.request_timeout, backoff: true }
            }
        }
    }
}

/// One outstanding request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transaction {
    pub txid: u64,
    /// Where the request was (last) sent.
    pub to: SocketAddrV6,
    pub purpose: Purpose,
    /// Transmissions so far.
    pub attempts: u8,
    /// When it was first transmitted.
    pub started: Instant,
    /// When it was last transmitted.
    pub sent_at: Instant,
    /// When to retransmit or give up.
    pub deadline: Instant,
    /// Started on the word of an unproven address: each transmission to an
    /// unproven destination is charged to that destination's allowance.
    pub charged: bool,
}

/// Completed transaction ids remembered, so that a duplicated response is
/// told apart from a stray one.
const RECENTLY_COMPLETED: usize = 16;

/// The table of outstanding requests, at most `C::MAX` ([`MAX_PENDING_REQUESTS`] by default).
#[derive(Clone, Debug, Default)]
pub(crate) struct Transactions<C: Capacity = Cap<MAX_PENDING_REQUESTS>> {
    entries: Table<Transaction, C>,
    completed: heapless::Deque<u64, RECENTLY_COMPLETED>,
}

/// The request table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableFull;

impl<C: Capacity> Transactions<C> {
    pub fn insert(&mut self, tx: Transaction) -> Result<(), TableFull> {
        self.entries.push(tx).map_err(|_| TableFull)
    }

    /// The most requests outstanding at once.
    pub fn capacity(&self) -> usize {
        C::MAX
    }

    /// Free slots.
    pub fn room(&self) -> usize {
        C::MAX - self.entries.len()
    }

    /// Removes and returns the request a response answers, if it counts.
    /// `matches` checks what the response says against the request.
    ///
    /// `source` is the datagram's source address; `sender_addr` the address
    /// the response's header claims. A response to a request completed
    /// shortly before is a [`DropReason::DuplicateResponse`]; any other that
    /// does not count is a [`DropReason::UnexpectedResponse`].
    pub fn complete(
        &mut self,
        txid: u64,
        response: MessageType,
        source: SocketAddrV6,
        sender_addr: SocketAddrV6,
        matches: impl Fn(&Purpose) -> bool,
    ) -> Result<Transaction, DropReason> {
        let index = self.entries.iter().position(|tx| {
            tx.txid == txid
                && matches(&tx.purpose)
                && tx.purpose.response_type() == Some(response)
                && if tx.purpose.is_routed() { sender_addr == source } else { tx.to == source }
        });
        let Some(index) = index else {
            let again = self.completed.iter().any(|&done| done == txid);
            return Err(if again { DropReason::DuplicateResponse } else { DropReason::UnexpectedResponse });
        };
        if self.completed.is_full() {
            self.completed.pop_front();
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.completed.push_back(txid);
        Ok(self.entries.swap_remove(index))
    }

    /// Removes the request at `index` (from [`first_due`](Transactions::first_due) or [`position`](Transactions::position)).
    pub fn remove_at(&mut self, index: usize) -> Transaction {
        self.entries.swap_remove(index)
    }

    /// Where the first request with this purpose sits.
    pub fn position(&self, wanted: impl Fn(&Transaction) -> bool) -> Option<usize> {
        self.entries.iter().position(wanted)
    }

    /// The request at `index`, mutably.
    pub fn get_mut(&mut self, index: usize) -> &mut Transaction {
        &mut self.entries[index]
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.iter().map(|tx| tx.deadline).min()
    }

    /// The index of the first request whose deadline has passed.
    pub fn first_due(&self, now: Instant) -> Option<usize> {
        let due = self.entries.iter().enumerate().filter(|(_, tx)| tx.deadline <= now);
        due.min_by_key(|(_, tx)| (tx.deadline, tx.txid)).map(|(i, _)| i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Transaction> {
        self.entries.iter()
    }

    /// Drops every request matching `doomed`.
    pub fn retain(&mut self, keep: impl Fn(&Transaction) -> bool) {
        self.entries.retain(|tx| keep(tx));
    }
}
