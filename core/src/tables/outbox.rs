//! Datagrams waiting to be sent, kept as compact descriptions and encoded
//! only when the driver polls, straight into the driver's buffer (see
//! `node/outbox.rs`); and the few encoded when their input arrived.

use crate::id::{Id, ResourceLocator};
use crate::tables::transactions::Journey;
use crate::wire::{JoinStatus, Side, MAX_DATAGRAM};
use core::net::SocketAddrV6;

/// A datagram to send, described by what it must say rather than its bytes.
/// Contents that come from the node's tables are read at encode time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    FriendDigest {
        to: SocketAddrV6,
    },
    Ping {
        to: SocketAddrV6,
        txid: u64,
    },
    Pong {
        to: SocketAddrV6,
        txid: u64,
    },
    Ack {
        to: SocketAddrV6,
        txid: u64,
    },
    HopAck {
        to: SocketAddrV6,
        txid: u64,
    },
    /// A probe of a neighbour, or of a candidate (`identify`: it must prove its identity).
    Stabilise {
        to: SocketAddrV6,
        txid: u64,
        identify: bool,
    },
    /// Our chains as they stand, with our proof of identity if `identify`.
    StabiliseReply {
        to: SocketAddrV6,
        txid: u64,
        identify: bool,
    },
    /// The registration we hold for `id`, if any.
    RegistryRecord {
        to: SocketAddrV6,
        txid: u64,
        id: Id,
    },
    /// We leave: the receiver's chain on `side` becomes ours on that side.
    Leave {
        to: SocketAddrV6,
        txid: u64,
        side: Side,
    },
    /// A routed message (JOIN, LOOKUP, SEARCH), from its origin or relayed.
    Routed {
        to: SocketAddrV6,
        txid: u64,
        journey: Journey,
    },
    /// Our chains as they stand, to a joiner; at most `max_len` bytes.
    JoinReply {
        to: SocketAddrV6,
        txid: u64,
        status: JoinStatus,
        hops: u8,
        max_len: u16,
        /// With `Retry`, the cookie to echo.
        cookie: u64,
        /// With `Retry`, the sequence number the joiner's registration must carry.
        seq: u32,
    },
    /// The chain `peer` should hold on `side`, derived from ours.
    NeighbourUpdate {
        peer: ResourceLocator,
        txid: u64,
        side: Side,
    },
    LookupReply {
        to: SocketAddrV6,
        txid: u64,
        key: Id,
        hops: u8,
    },
    /// Our own STORE for shared files `start..end`.
    Store {
        to: SocketAddrV6,
        txid: u64,
        hop_limit: u8,
        start: u16,
        end: u16,
        /// Only the files whose locators are not yet confirmed (a retry).
        unconfirmed: bool,
        /// Under their keys' mirrors.
        mirror: bool,
    },
    /// The oldest datagram waiting already encoded (see [`EncodedDatagram`]).
    Encoded,
    /// A return-routability check of `owner` (at `owner.addr`).
    Verify {
        owner: ResourceLocator,
        txid: u64,
    },
    /// A request for a further page of owners.
    SearchPage {
        to: SocketAddrV6,
        txid: u64,
        key: Id,
        page: u8,
    },
    /// Copies of our verified entries with keys in `(from, upto]` (those
    /// changed after `since`, if given), from the `skip`th on.
    Replicate {
        to: SocketAddrV6,
        txid: u64,
        from: Id,
        upto: Id,
        skip: u16,
        /// Only entries changed after this store change number (`None`: all).
        since: Option<u32>,
    },
    /// Copies of the registrations with IDs in `(from, upto]` (but the
    /// receiver's own, `to_id`), from the `skip`th on.
    RegistryCopy {
        to: SocketAddrV6,
        to_id: Id,
        from: Id,
        upto: Id,
        skip: u8,
    },
    /// A request for page `page` of a friend's file names.
    ListFiles {
        to: SocketAddrV6,
        txid: u64,
        page: u8,
    },
    /// Page `page` of our file names.
    FileList {
        to: SocketAddrV6,
        txid: u64,
        page: u8,
    },
    /// Our friend request to `target`, as the request table holds it.
    FriendRequest {
        to: SocketAddrV6,
        target: Id,
    },
    /// Our answer to `requester`'s friend request `nonce`.
    FriendAnswer {
        to: SocketAddrV6,
        txid: u64,
        requester: Id,
        nonce: u64,
        accept: bool,
    },
    /// The end of a friendship begun by request `since`, sealed with `tag`.
    Unfriend {
        to: SocketAddrV6,
        txid: u64,
        since: u64,
        tag: [u8; crate::conversation::TAG_LEN],
    },
    /// Our presence as it stands.
    Presence {
        to: SocketAddrV6,
        txid: u64,
    },
    /// Fragment `fragment` of our message `seq` to `friend`, if still held.
    Chat {
        friend: Id,
        seq: u32,
        fragment: u8,
    },
    /// Acknowledges `friend`'s fragment, with what we delivered as it
    /// stands: drawn by its CHAT, or (`drawn` false) by its mail.
    ChatAck {
        to: SocketAddrV6,
        friend: Id,
        seq: u32,
        fragment: u8,
        drawn: bool,
    },
    /// Fragment `fragment` of our message `seq` to offline `friend`, as mail.
    MailStore {
        to: SocketAddrV6,
        txid: u64,
        friend: Id,
        seq: u32,
        fragment: u8,
    },
    /// A letter we keep, copied to a successor.
    MailCopy {
        to: SocketAddrV6,
        letter: crate::tables::mailbox::LetterKey,
    },
    /// A letter we keep, delivered to its recipient.
    Mail {
        to: SocketAddrV6,
        letter: crate::tables::mailbox::LetterKey,
    },
    /// "Mail from `sender` to `recipient` up to `delivered` is delivered":
    /// drawn by a MAIL (to its holder), or passed on to our successors.
    MailAck {
        to: SocketAddrV6,
        txid: u64,
        ack: crate::wire::MailAck,
        drawn: bool,
    },
    /// Download `request`'s wish list for the source on stream `stream`, as it stands.
    Get {
        to: SocketAddrV6,
        request: crate::event::RequestId,
        stream: u64,
    },
    /// "What do you share under `key`?"
    ContentQuery {
        to: SocketAddrV6,
        txid: u64,
        key: crate::id::Id,
    },
    /// "Stop sending": an empty GET on stream `stream` for `content`.
    StopGet {
        to: SocketAddrV6,
        stream: u64,
        content: crate::content::ContentId,
    },
    /// The packets received on stream `stream` of download `request`.
    DataAck {
        to: SocketAddrV6,
        request: crate::event::RequestId,
        stream: u64,
    },
    /// What we share under file ID `key`, as the served table stands.
    ContentInfo {
        to: SocketAddrV6,
        txid: u64,
        key: crate::id::Id,
    },
    /// A conference's datagram.
    Conference {
        to: SocketAddrV6,
        txid: u64,
        session: crate::conference::SessionId,
        what: ConferenceOutgoing,
    },
    /// An owner's refusal of a GET.
    Refuse {
        to: SocketAddrV6,
        txid: u64,
        reason: crate::wire::RefuseReason,
        cookie: u64,
    },
    /// A page of `key`'s owners as the store stands.
    SearchReply {
        to: SocketAddrV6,
        txid: u64,
        key: Id,
        hops: u8,
        page: u8,
    },
}

/// A conference's datagram, described (see `node/conference/encode.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConferenceOutgoing {
    /// Our invitation of `invitee`.
    Invite { invitee: Id },
    /// Our answer to an invitation.
    Answer { join: bool },
    /// The creator's admission of `member` (`admitted` false: none).
    Admit { member: Id, admitted: bool },
    /// `member` leaves (we do, or it is the creator ending the
    /// conference), or we remove it (`removed`).
    Leave { member: Id, removed: bool },
    /// A probe of the receiver's place in the tree, our attachment under
    /// it, or its release as our child; with our certificate if `certify`.
    TreeJoin { mode: crate::wire::TreeMode, certify: bool },
    /// Our place in the tree, answering a TREE_JOIN; with our certificate if `certify`.
    TreeState { status: crate::wire::TreeStatus, certify: bool },
    /// `sender`'s chat message `seq`, as held.
    Chat { sender: Id, seq: u32 },
    /// Our pull for what transfer `transfer` lacks.
    Pull { transfer: u64 },
    /// Our pull for block `block`'s proof of transfer `transfer`, whose
    /// pieces came before its announcement.
    ProofPull { transfer: u64, block: u32 },
}

/// Whether a datagram counts against its destination's 3× allowance while
/// that destination is unproven (see [`Budgets`](crate::tables::budgets::Budgets)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charge {
    /// An answer or a check drawn by a datagram: always.
    Drawn,
    /// A probe: if the transaction `txid` was started on the word of an
    /// unproven address (a candidate named by a stranger's STABILISE).
    Probe { txid: u64 },
    /// Our own traffic — commands, maintenance, routed messages sent on
    /// to contacts in our tables: never.
    Own,
}

impl Outgoing {
    /// How the datagram is charged.
    pub fn charge(&self) -> Charge {
        match *self {
            Outgoing::Pong { .. }
            | Outgoing::Ack { .. }
            | Outgoing::HopAck { .. }
            | Outgoing::StabiliseReply { .. }
            | Outgoing::JoinReply { .. }
            | Outgoing::LookupReply { .. }
            | Outgoing::SearchReply { .. }
            | Outgoing::FileList { .. }
            | Outgoing::RegistryRecord { .. }
            | Outgoing::ChatAck { drawn: true, .. }
            | Outgoing::MailAck { drawn: true, .. }
            | Outgoing::Refuse { .. }
            | Outgoing::ContentInfo { .. }
            | Outgoing::Conference {
                what: ConferenceOutgoing::Admit { .. } | ConferenceOutgoing::TreeState { .. },
                ..
            }
            | Outgoing::Verify { .. } => Charge::Drawn,
            Outgoing::Ping { txid, .. } | Outgoing::Stabilise { txid, .. } => Charge::Probe { txid },
            Outgoing::Leave { .. }
            | Outgoing::Routed { .. }
            | Outgoing::NeighbourUpdate { .. }
            | Outgoing::SearchPage { .. }
            | Outgoing::ListFiles { .. }
            | Outgoing::FriendDigest { .. }
            | Outgoing::Store { .. }
            | Outgoing::Replicate { .. }
            | Outgoing::RegistryCopy { .. }
            | Outgoing::FriendRequest { .. }
            | Outgoing::FriendAnswer { .. }
            | Outgoing::Unfriend { .. }
            | Outgoing::Presence { .. }
            | Outgoing::Chat { .. }
            | Outgoing::ChatAck { drawn: false, .. }
            | Outgoing::MailStore { .. }
            | Outgoing::MailCopy { .. }
            | Outgoing::Mail { .. }
            | Outgoing::MailAck { drawn: false, .. }
            | Outgoing::Get { .. }
            | Outgoing::StopGet { .. }
            | Outgoing::ContentQuery { .. }
            | Outgoing::Conference {
                what:
                    ConferenceOutgoing::Invite { .. }
                    | ConferenceOutgoing::Answer { .. }
                    | ConferenceOutgoing::Leave { .. }
                    | ConferenceOutgoing::Chat { .. }
                    | ConferenceOutgoing::Pull { .. }
                    | ConferenceOutgoing::ProofPull { .. }
                    | ConferenceOutgoing::TreeJoin { .. },
                ..
            }
            | Outgoing::DataAck { .. } => Charge::Own,
            // An encoded datagram carries its own mark (`EncodedDatagram::charged`).
            Outgoing::Encoded => Charge::Own,
        }
    }
}

/// A datagram encoded when its input arrived (a relayed STORE, a
/// VERIFY_REPLY): its contents come from the input, not from our tables. At
/// most [`STORE_RELAY_SLOTS`](crate::config::STORE_RELAY_SLOTS) wait at once.
#[derive(Clone, Debug)]
pub(crate) struct EncodedDatagram {
    pub to: SocketAddrV6,
    /// An answer drawn by a datagram (a VERIFY_REPLY): charged to an unproven
    /// destination's allowance, like [`Charge::Drawn`].
    pub charged: bool,
    pub len: usize,
    pub bytes: [u8; MAX_DATAGRAM],
}
