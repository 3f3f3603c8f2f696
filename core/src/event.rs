//! What the node tells its driver: outputs, events and command errors.

use crate::id::{Id, ResourceLocator};
use crate::time::Instant;
use crate::wire::Side;
use core::fmt;
use core::net::SocketAddrV6;
use core::time::Duration;

pub use crate::request_id::RequestId;

/// One step of the node's output, from [`Node::poll_output`](crate::Node::poll_output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send the first `len` bytes of the caller's buffer to `to`.
    Transmit(Transmit),
    /// Something happened that the application may want to know.
    Event(Event),
    /// Write the first `len` bytes of the caller's buffer into a file being
    /// downloaded (see [`Write`]).
    Write(Write),
    /// Drained: call [`handle_timeout`](crate::Node::handle_timeout) at this
    /// instant, or never if `None` (until another input arrives).
    Timeout(Option<Instant>),
}

/// A datagram written into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub to: SocketAddrV6,
    /// Bytes written at the front of the buffer.
    pub len: usize,
    /// Bytes of a shared file the driver must write into the datagram
    /// before sending it: the core never holds file bytes. Only a node
    /// that serves content ([`Node::serve`](crate::Node::serve_content)) asks.
    pub fill: Option<Fill>,
}

/// Bytes of a shared file to read into an outgoing datagram: `len` bytes at
/// `at` in the buffer (the datagram was written with zeros there).
///
/// A driver that cannot read them drops the datagram; the downloader's
/// acknowledgements then make the core send the piece again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The file.
    pub content: crate::content::ContentId,
    /// What to read.
    pub piece: FillPiece,
    /// Where in the buffer.
    pub at: usize,
    /// How many bytes.
    pub len: usize,
}

/// What a [`Fill`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillPiece {
    /// The file's bytes from this offset.
    Bytes {
        /// The offset in the file.
        offset: u64,
    },
    /// Block `block`'s proof: its leaves' values, then its siblings' up
    /// the file's tree, nearest first (see
    /// [`content::block_proof`](crate::content::block_proof)).
    Proof {
        /// The block.
        block: u32,
    },
}

/// Received bytes of a file being downloaded, in the caller's buffer: write
/// the first `len` bytes at `offset` of download `request`'s file. They
/// belong to a leaf not yet verified; [`Event::LeafVerified`] follows once
/// the whole leaf is, [`Event::LeafRejected`] if it is not (its bytes will
/// be written again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    /// The download.
    pub request: RequestId,
    /// Where in the file.
    pub offset: u64,
    /// How many bytes, at the front of the buffer.
    pub len: usize,
}

/// Why a join failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum JoinFailure {
    /// No reply after every retransmission.
    Timeout,
    /// The responsible node reports another node with our ID.
    IdInUse,
    /// The node asked is not in a ring (it restarted alone).
    NotMember,
    /// The responsible node asked for its cookie again after we echoed one
    /// (the ring changed under the join, or the cookie expired on the way).
    CookieRefused,
    /// Our ID is registered to another key: a duplicated identifier (for a
    /// user, the e-mail address is registered with another password).
    IdRegistered,
}

/// Something that happened inside the node.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Event {
    /// Our JOIN was accepted: we now sit between `left` and `right`.
    Joined {
        /// The join command's id.
        request: RequestId,
        /// Our left neighbour (predecessor).
        left: ResourceLocator,
        /// Our right neighbour (successor), the node that accepted us.
        right: ResourceLocator,
        /// Overlay hops the JOIN took to reach the responsible node.
        hops: u8,
    },
    /// Our JOIN failed.
    JoinFailed {
        /// The join command's id.
        request: RequestId,
        /// Why.
        reason: JoinFailure,
    },
    /// No entry of the bootstrap list let us in (see [`Node::join_bootstrap`](crate::Node::join_bootstrap)).
    NoKnownPeers {
        /// The join command's id.
        request: RequestId,
    },
    /// We left the ring (see [`Node::leave`](crate::Node::leave)).
    Left {
        /// The leave command's id.
        request: RequestId,
    },
    /// A contact (neighbour, backup or friend) missed its probes and is
    /// believed dead; neighbours and backups leave the chains.
    PeerDown {
        /// The contact.
        peer: ResourceLocator,
    },
    /// Someone tried to join under our ID with another key (a duplicated
    /// identifier) and was refused.
    IdentityClaimed {
        /// The address the claimant joined from.
        claimant: core::net::SocketAddrV6,
    },
    /// Our owner joined from another address, proving our key: we step
    /// aside and leave the ring to it.
    TakenOver {
        /// The owner's new address.
        by: core::net::SocketAddrV6,
    },
    /// A friend believed dead answered again; routing uses it again.
    PeerUp {
        /// The friend.
        peer: ResourceLocator,
    },
    /// Every probe failed and nothing was heard: our own link is presumed down.
    LinkDown,
    /// A datagram arrived after [`Event::LinkDown`].
    LinkUp,
    /// Our neighbour on `side` changed.
    NeighbourChanged {
        /// Which side.
        side: Side,
        /// The new neighbour (`None`: we are alone).
        neighbour: Option<ResourceLocator>,
    },
    /// A neighbour did not acknowledge an update after every retransmission.
    NeighbourUnreachable {
        /// The neighbour.
        peer: ResourceLocator,
    },
    /// A lookup reached the responsible node.
    LookupSucceeded {
        /// The lookup command's id.
        request: RequestId,
        /// The key looked up.
        key: Id,
        /// The node responsible for `key`.
        responsible: ResourceLocator,
        /// Overlay hops from us to it (0 if we are responsible).
        hops: u8,
    },
    /// A lookup got no answer after every retransmission.
    LookupFailed {
        /// The lookup command's id.
        request: RequestId,
        /// The key looked up.
        key: Id,
    },
    /// One owner answering a search.
    SearchResult {
        /// The search command's id.
        request: RequestId,
        /// The key searched.
        key: Id,
        /// An owner of `key`.
        owner: ResourceLocator,
        /// Overlay hops the SEARCH took (0 for later pages and local answers).
        hops: u8,
    },
    /// Every page of a search arrived.
    SearchComplete {
        /// The search command's id.
        request: RequestId,
        /// The key searched.
        key: Id,
        /// Owners found across all pages.
        owners: u16,
    },
    /// A search (or one of its pages) got no answer after every retransmission.
    SearchFailed {
        /// The search command's id.
        request: RequestId,
        /// The key searched.
        key: Id,
    },
    /// One of a friend's shared-file names.
    FileListed {
        /// The list command's id.
        request: RequestId,
        /// The friend.
        friend: Id,
        /// A file name it shares.
        name: heapless::String<{ crate::config::MAX_NAME_LEN }>,
    },
    /// Every page of a friend's file list arrived.
    FileListComplete {
        /// The list command's id.
        request: RequestId,
        /// The friend.
        friend: Id,
        /// How many names were listed.
        files: u16,
    },
    /// A friend did not answer (or refused) a page of its file list.
    FileListFailed {
        /// The list command's id.
        request: RequestId,
        /// The friend.
        friend: Id,
    },
    /// A ping was answered.
    PingSucceeded {
        /// The ping command's id.
        request: RequestId,
        /// Who answered.
        peer: SocketAddrV6,
        /// Time from the last transmission to the answer.
        rtt: Duration,
    },
    /// A ping got no answer after every retransmission.
    PingFailed {
        /// The ping command's id.
        request: RequestId,
        /// Who was pinged.
        peer: SocketAddrV6,
    },
    /// A friend request arrived and its sender's registration confirmed it:
    /// its note is in [`Node::friend_requests`](crate::Node::friend_requests);
    /// answer with `accept_friend`, `decline_friend` or `block`.
    FriendRequest {
        /// Who asks.
        from: ResourceLocator,
    },
    /// A request of ours was accepted: the user is now a contact.
    FriendAccepted {
        /// The new friend.
        friend: Id,
    },
    /// A request of ours was declined.
    FriendDeclined {
        /// The user asked.
        friend: Id,
    },
    /// A friend ended the friendship.
    Unfriended {
        /// The former friend.
        friend: Id,
    },
    /// A friend's presence changed (its text is in
    /// [`Node::contacts`](crate::Node::contacts)); `Offline` also once its
    /// liveness probes fail.
    PresenceChanged {
        /// The friend.
        friend: Id,
        /// Its new state.
        status: crate::wire::Status,
    },
    /// A friend's chat message was delivered: read it with
    /// [`Node::read_message`](crate::Node::read_message).
    Message {
        /// The friend.
        from: Id,
        /// Its number in the conversation.
        seq: u32,
        /// Its length in bytes.
        len: u16,
    },
    /// A chat message of ours reached the friend's user: the delivery receipt.
    Delivered {
        /// The friend.
        friend: Id,
        /// The message's number.
        seq: u32,
    },
    /// What an owner shares under a file ID (the answer to
    /// [`Node::query_content`](crate::Node::query_content)).
    ContentInfo {
        /// The query.
        request: RequestId,
        /// The owner.
        owner: SocketAddrV6,
        /// The file ID.
        key: Id,
        /// The content and who may fetch it; `None`: nothing under that ID.
        content: Option<(crate::content::ContentId, crate::tables::uploads::Audience)>,
    },
    /// An owner never answered a content query.
    ContentQueryFailed {
        /// The query.
        request: RequestId,
        /// The owner.
        owner: SocketAddrV6,
    },
    /// A leaf of a download hashed to the file's root: its bytes, written
    /// before, are good.
    LeafVerified {
        /// The download.
        request: RequestId,
        /// The leaf.
        leaf: u32,
        /// The owner that sent it.
        from: SocketAddrV6,
    },
    /// A leaf of a download did not hash to the file's root: it is fetched
    /// again (from another owner if there is one) and its sender counted.
    LeafRejected {
        /// The download.
        request: RequestId,
        /// The leaf.
        leaf: u32,
        /// The owner that sent it.
        from: SocketAddrV6,
    },
    /// An owner refused a download's GET (the reason says why).
    SourceRefused {
        /// The download.
        request: RequestId,
        /// The owner.
        source: SocketAddrV6,
        /// Why.
        reason: crate::wire::RefuseReason,
    },
    /// An owner went silent or sent too many bad leaves: its leaves move to the others.
    SourceLost {
        /// The download.
        request: RequestId,
        /// The owner.
        source: SocketAddrV6,
    },
    /// Every leaf of a download is verified.
    DownloadComplete {
        /// The download.
        request: RequestId,
        /// The file.
        content: crate::content::ContentId,
    },
    /// A download has no owner left to fetch from; it waits for
    /// [`Node::add_source`](crate::Node::add_source) or a cancel.
    DownloadStalled {
        /// The download.
        request: RequestId,
    },
    /// Something happened in a conference.
    Conference(crate::conference::ConferenceEvent),
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The node is already part of a ring with other nodes.
    AlreadyJoined,
    /// A join is already under way.
    JoinInProgress,
    /// The command needs a joined node.
    NotJoined,
    /// The request table is full; try again after some requests complete.
    TooManyRequests,
    /// The friends table is full.
    FriendsFull,
    /// The command names this node itself.
    OwnLocator,
    /// The address is not a usable IPv6 unicast address.
    InvalidAddress,
    /// The bootstrap list holds no entry to join through.
    NoKnownPeers,
    /// The node is leaving.
    Leaving,
    /// The shared-file list was refused.
    Share(crate::tables::shared::ShareError),
    /// The command names a node that is not among our friends.
    NotAFriend,
    /// The user is already a contact.
    AlreadyFriends,
    /// No friend request from (or to) that user is waiting.
    NoSuchRequest,
    /// A table of the messenger is full (contacts, sent requests, blocked IDs).
    MessengerFull,
    /// A text is longer than its limit (a request's note, a status text).
    TextTooLong,
    /// A chat message is empty or longer than 4 KiB.
    BadMessageLength,
    /// Earlier chat messages still wait for delivery: send this one later.
    ChatFull,
    /// As many downloads run as the node allows, or a table of served content is full.
    TransfersFull,
    /// No download with that id runs.
    NoSuchDownload,
    /// The content is larger than the transfer protocol names (1 TiB).
    ContentTooLarge,
    /// A conference refused the change.
    Conference(crate::tables::conferences::ConferenceError),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommandError::AlreadyJoined => "already joined",
            CommandError::JoinInProgress => "a join is already in progress",
            CommandError::NotJoined => "not joined yet",
            CommandError::TooManyRequests => "too many outstanding requests",
            CommandError::FriendsFull => "friends table is full",
            CommandError::OwnLocator => "that is this node itself",
            CommandError::InvalidAddress => "not a usable IPv6 unicast address",
            CommandError::NoKnownPeers => "the bootstrap list is empty",
            CommandError::Leaving => "the node is leaving",
            CommandError::NotAFriend => "not a friend",
            CommandError::AlreadyFriends => "already friends",
            CommandError::NoSuchRequest => "no such friend request",
            CommandError::MessengerFull => "messenger table full",
            CommandError::TextTooLong => "text too long",
            CommandError::BadMessageLength => "a chat message takes 1 to 4096 bytes",
            CommandError::ChatFull => "earlier messages still wait for delivery",
            CommandError::TransfersFull => "transfer table full",
            CommandError::NoSuchDownload => "no such download",
            CommandError::ContentTooLarge => "content larger than 1 TiB",
            CommandError::Share(e) => return write!(f, "shared files refused: {e}"),
            CommandError::Conference(e) => return write!(f, "conference: {e}"),
        })
    }
}

impl core::error::Error for CommandError {}
