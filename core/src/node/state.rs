//! The node's state, grouped by concern. Each group is plain data; the
//! rules that change it live in the files of `node/`.

use crate::capacity::{Queue, Table};
use crate::event::RequestId;
use crate::profile::{Apps, Profile};
use crate::tables::bootstrap::{BootstrapList, JoinCampaign};
use crate::tables::budgets::Budgets;
use crate::tables::chat::{ChatInbox, ChatOutbox};
use crate::tables::contacts::Contacts;
use crate::tables::digests::Digests;
use crate::tables::friend_requests::FriendRequests;
use crate::tables::friends::Friends;
use crate::tables::known_keys::KnownKeys;
use crate::tables::neighbours::Neighbours;
use crate::tables::outbox::EncodedDatagram;
use crate::tables::owner_checks::OwnerChecks;
use crate::tables::registry::Registry;
use crate::tables::rtts::Rtts;
use crate::tables::shared::SharedFiles;
use crate::tables::store::LocatorStore;
use crate::tables::transactions::Transactions;
use crate::time::Instant;
use core::net::SocketAddrV6;

/// Our place in the ring and how we got (or leave) there.
#[derive(Clone, Debug, Default)]
pub(super) struct RingState<P: Profile> {
    /// Our neighbour chains.
    pub neighbours: Neighbours,
    /// A node that founded the ring (or the key node) answers JOINs while alone.
    pub founder: bool,
    /// Where to knock when joining.
    pub bootstrap: BootstrapList,
    /// A join working through the bootstrap list.
    pub campaign: Option<JoinCampaign>,
    /// A leave in progress: its command id.
    pub leaving: Option<RequestId>,
    /// The last LEAVE accepted (source and txid), to acknowledge a repeat.
    pub last_leave: Option<(SocketAddrV6, u64)>,
    /// The key our join cookies are made under (see `ring::cookie`).
    pub cookie_key: [u8; 32],
    /// The registrations we keep: ours, and those of IDs we are responsible for.
    pub registry: Registry<P::Registrations>,
    /// Registrations of other IDs, as their registrars told us.
    pub known: KnownKeys<P::KnownKeys>,
}

/// Who is alive: our friends, and whether our own link seems to work.
#[derive(Clone, Debug)]
pub(super) struct LivenessState<P: Profile> {
    /// Friends, their liveness and probe schedule.
    pub friends: Friends<P::Friends>,
    /// Stabilisation rounds so far (backups are pinged every few rounds).
    pub stabilise_rounds: u32,
    /// When any datagram was last received.
    pub last_heard_any: Instant,
    /// Every probe failed with nothing heard meanwhile: our own link is presumed down.
    pub link_down: bool,
}

impl<P: Profile> LivenessState<P> {
    /// No friends, and the link presumed up as of `now`.
    pub fn new(now: Instant) -> LivenessState<P> {
        LivenessState { friends: Friends::default(), stabilise_rounds: 0, last_heard_any: now, link_down: false }
    }
}

/// The locator DHT: what we share, what we keep for others.
#[derive(Clone, Debug, Default)]
pub(super) struct DhtState<P: Profile> {
    /// The files this node shares.
    pub shared: SharedFiles<P::Apps>,
    /// The locators this node keeps for others.
    pub store: LocatorStore<P::Store>,
    /// Datagrams encoded on arrival of their input, waiting for the outbox.
    pub encoded: Queue<EncodedDatagram, P::Relayed>,
    /// Which turn of our entries the next replication copies.
    pub replicate_turn: usize,
    /// The store's change number as of our last copy of fresh entries.
    pub copied: u32,
    /// Retries of the latest publication so far.
    pub publish_retries: u8,
    /// Search results waiting for their owners' registrations.
    pub checks: OwnerChecks<P::Apps>,
}

/// What guides routing beyond the chains: friends' digests and round trips.
#[derive(Clone, Debug, Default)]
pub(super) struct LookaheadState<P: Profile> {
    /// What friends told us of their contacts.
    pub digests: Digests<P::DigestOwners, P::DigestIds>,
    /// Contacts' measured round-trip times.
    pub rtts: Rtts<P::Rtts>,
    /// The friend (by position) that got our digest last.
    pub digest_turn: usize,
}

/// Our outstanding requests and the command ids we hand out.
#[derive(Clone, Debug, Default)]
pub(super) struct RequestState<P: Profile> {
    /// Outstanding requests.
    pub transactions: Transactions<P::Requests>,
    /// The last command id handed out.
    pub next_request: u64,
    /// Addresses that echoed a nonce of ours, and the byte counts of the others.
    pub budgets: Budgets<P::Proven, P::Counted>,
    /// True while handling a datagram from an unproven address: requests
    /// started meanwhile are charged to their destinations' allowances.
    pub unproven_input: bool,
}

/// The messenger: contacts, friend requests, chat each way, our presence.
#[derive(Clone, Debug, Default)]
pub(super) struct MessengerState<P: Profile> {
    /// The users befriended.
    pub contacts: Contacts<P::Apps>,
    /// Friend requests received and sent, blocked senders, rate limits.
    pub requests: FriendRequests<P::Apps>,
    /// Chat messages sent and not yet delivered.
    pub outbox: ChatOutbox<P::Apps>,
    /// Chat messages received.
    pub inbox: ChatInbox<P::Apps>,
    /// Offline mail we keep for others.
    pub mailbox: crate::tables::mailbox::Mailbox<P::Apps>,
    /// Our presence as friends see it (its signature is made when sent).
    pub presence: OwnPresence,
}

/// Our own presence.
#[derive(Clone, Debug)]
pub(super) struct OwnPresence {
    pub status: crate::wire::Status,
    pub text: heapless::String<{ crate::wire::MAX_STATUS_TEXT }>,
    pub version: u64,
}

impl Default for OwnPresence {
    /// Online, without a text, version 1.
    fn default() -> OwnPresence {
        OwnPresence { status: crate::wire::Status::Online, text: heapless::String::new(), version: 1 }
    }
}

/// File transfers: what we serve, the streams we serve, what we fetch.
#[derive(Clone, Debug, Default)]
pub(super) struct TransferState<P: Profile> {
    /// The content we serve.
    pub served: crate::tables::uploads::ServedContent<P::Apps>,
    /// The streams we serve.
    pub uploads: crate::tables::uploads::Uploads<P::Apps>,
    /// Per downloader address, what it may still ask (see [`ASK_LIMIT`](crate::tables::uploads::ASK_LIMIT)).
    pub askers:
        crate::tables::rate::PeerBuckets<SocketAddrV6, <P::Apps as Apps>::List<{ crate::tables::uploads::ASKERS }>>,
    /// The files we fetch.
    pub downloads: crate::tables::downloads::Downloads<P::Apps>,
    /// Received chunks waiting for the driver to write them, oldest first.
    pub staged:
        Table<crate::tables::downloads::Staged, <P::Apps as Apps>::List<{ crate::tables::downloads::STAGED_CHUNKS }>>,
}
