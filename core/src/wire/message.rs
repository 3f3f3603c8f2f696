//! Message bodies: one variant per message type (their encoding is in `codec.rs`).

use super::conference::{ConfAdmit, ConfAnswer, ConfChat, ConfInvite, ConfLeave, TreeJoin, TreeState};
use super::conference_data::{ConfData, ConfProof, ConfPull};
use super::dht::{self, FileEntry, ReplicaEntry, SignedOwner};
use super::fields::{Chain, IdentityProof, JoinStatus, Side};
use super::messenger::{ChatAck, ChatFragment, FriendAnswer, FriendRequest, Mail, MailAck, Presence, Unfriend};
use super::transfer::{BlockProof, ContentInfo, Data, DataAck, Get, Refuse};
use super::types::MessageType;
use crate::config::MAX_NAME_LEN;
use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;

/// A message body, one variant per message type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(clippy::large_enum_variant, reason = "no allocator to box the chains; a message is a short-lived value")]
pub enum Message {
    /// Liveness probe.
    Ping,
    /// Answer to a ping.
    Pong,
    /// Acknowledges a neighbour update or a LEAVE.
    Ack,
    /// Acknowledges one hop of a routed message.
    HopAck,
    /// A node asks to join; routed towards the successor of `joiner.id`.
    Join {
        /// The node that wants to join.
        joiner: ResourceLocator,
        /// Overlay hops taken so far: the joiner sends 1, each relay adds 1.
        hops: u8,
        /// The responsible node's cookie, echoed from a `Retry` reply (0: none yet).
        cookie: u64,
        /// With the cookie, the joiner's registration signed over it (none
        /// for a node without an identity).
        proof: Option<IdentityProof>,
    },
    /// The responsible node's answer to a JOIN.
    JoinReply {
        /// Whether the join was accepted.
        status: JoinStatus,
        /// Overlay hops the JOIN took to reach the responder.
        hops: u8,
        /// The responder's left chain (the joiner first once accepted).
        left: Chain,
        /// The responder's right chain.
        right: Chain,
        /// With `Retry`, the cookie the joiner must echo; otherwise 0.
        cookie: u64,
        /// With `Retry`, the sequence number the joiner's registration must
        /// carry (one above the one held for its ID, or 1); otherwise 0.
        seq: u32,
    },
    /// "Your neighbour chain on `side` is `chain`" (the neighbour first).
    NeighbourUpdate {
        /// The receiver's side this chain describes.
        side: Side,
        /// The chain, neighbour first; never empty.
        chain: Chain,
    },
    /// "Tell me your chains": a liveness probe and a ring repair step.
    Stabilise {
        /// The sender probes a candidate neighbour and wants its identity
        /// proven: the reply must carry a proof signed over this txid.
        identify: bool,
    },
    /// The answer to STABILISE.
    StabiliseReply {
        /// The responder's left chain.
        left: Chain,
        /// The responder's right chain.
        right: Chain,
        /// If the STABILISE asked, the responder's registration signed over its txid.
        proof: Option<IdentityProof>,
    },
    /// "I am leaving; your chain on `side` is now `chain`" (possibly empty).
    Leave {
        /// The receiver's side the leaver was on.
        side: Side,
        /// The receiver's new chain on that side.
        chain: Chain,
    },
    /// The sender's contact IDs (friends, neighbours, backups), for a friend
    /// to look one hop ahead when routing.
    FriendDigest {
        /// The IDs, at most [`MAX_DIGEST_IDS`](dht::MAX_DIGEST_IDS).
        ids: heapless::Vec<Id, { dht::MAX_DIGEST_IDS }>,
    },
    /// Registrations copied to a neighbour (see [`Registration`](crate::registration::Registration)).
    RegistryCopy {
        /// The records, at most [`MAX_REGISTRY_COPY`](dht::MAX_REGISTRY_COPY).
        records: heapless::Vec<crate::registration::Registration, { dht::MAX_REGISTRY_COPY }>,
    },
    /// "Which registration do you hold for `id`?", routed towards the
    /// successor of `id + 1`: the node after `id`, which holds its record.
    RegistryGet {
        /// The node that asked, which gets the reply.
        origin: ResourceLocator,
        /// The ID asked about.
        id: Id,
        /// Overlay hops taken so far: the origin sends 1, each relay adds 1.
        hops: u8,
    },
    /// The answer to REGISTRY_GET.
    RegistryRecord {
        /// The ID asked about.
        id: Id,
        /// The registration held for it, if any.
        record: Option<crate::registration::Registration>,
    },
    /// A routed request for the node responsible for `key`.
    Lookup {
        /// The node that asked, which gets the reply.
        origin: ResourceLocator,
        /// The key looked up.
        key: Id,
        /// Overlay hops taken so far: the origin sends 1, each relay adds 1.
        hops: u8,
    },
    /// The responsible node (the header's sender) answers a lookup.
    LookupReply {
        /// The key looked up.
        key: Id,
        /// Overlay hops the lookup took to reach the responsible node.
        hops: u8,
    },
    /// An owner publishes file IDs, sorted; each responsible node on the way
    /// keeps its keys and passes the rest on.
    Store {
        /// Who shares the files.
        owner: ResourceLocator,
        /// The owner's public key, which signed each entry.
        key: PublicKey,
        /// Overlay hops taken so far: the owner sends 1, each relay adds 1.
        hops: u8,
        /// The files, sorted by ID.
        entries: heapless::Vec<FileEntry, { dht::MAX_STORE_BATCH }>,
    },
    /// "Do you, `owner`, share these keys?" The txid is the nonce the owner echoes.
    Verify {
        /// The ID the STORE claimed as owner.
        owner: Id,
        /// Keys to confirm.
        keys: heapless::Vec<Id, { dht::MAX_VERIFY_KEYS }>,
    },
    /// The owner's answer: the keys asked about, and bit `i` of `mask` set
    /// if it shares `keys[i]`.
    VerifyReply {
        /// The keys of the VERIFY, in its order.
        keys: heapless::Vec<Id, { dht::MAX_VERIFY_KEYS }>,
        /// One bit per key.
        mask: u32,
    },
    /// A routed request for the owners of `key`.
    Search {
        /// The node that asked, which gets the reply.
        origin: ResourceLocator,
        /// The key searched.
        key: Id,
        /// Overlay hops taken so far: the origin sends 1, each relay adds 1.
        hops: u8,
    },
    /// A request for page `page` of a search's owners, straight to the responder.
    SearchPage {
        /// The key searched.
        key: Id,
        /// The page wanted (the first reply is page 0).
        page: u8,
    },
    /// Owners of `key`: page `page` of `pages`.
    SearchReply {
        /// The key searched.
        key: Id,
        /// Overlay hops the SEARCH took.
        hops: u8,
        /// This page's number, from 0.
        page: u8,
        /// How many pages there are (at least 1).
        pages: u8,
        /// The owners on this page, each with its signature of the locator.
        owners: heapless::Vec<SignedOwner, { dht::MAX_OWNERS_PER_REPLY }>,
    },
    /// Stored entries copied to a neighbour.
    Replicate {
        /// The entries.
        entries: heapless::Vec<ReplicaEntry, { dht::MAX_REPLICATE_BATCH }>,
    },
    /// A friend asks for page `page` of our shared-file names.
    ListFiles {
        /// The page wanted, from 0.
        page: u8,
    },
    /// A page of shared-file names.
    FileList {
        /// This page's number, from 0.
        page: u8,
        /// How many pages there are (at least 1).
        pages: u8,
        /// The names on this page.
        names: heapless::Vec<heapless::String<MAX_NAME_LEN>, { dht::MAX_NAMES_PER_PAGE }>,
    },
    /// A signed friend request.
    FriendRequest(FriendRequest),
    /// A signed answer to a friend request.
    FriendAnswer(FriendAnswer),
    /// A friend ends the friendship.
    Unfriend(Unfriend),
    /// A friend's signed presence.
    Presence(Presence),
    /// One fragment of a sealed chat message.
    Chat(ChatFragment),
    /// Acknowledges a chat fragment; reports the messages delivered.
    ChatAck(ChatAck),
    /// A chat fragment for an offline friend, to the holder of its mail.
    MailStore(Mail),
    /// Offline mail copied to the holder's successors.
    MailCopy(Mail),
    /// Offline mail delivered to its recipient.
    Mail(Mail),
    /// The recipient delivered a sender's messages up to a number.
    MailAck(MailAck),
    /// A downloader asks an owner for leaves of a file.
    Get(Get),
    /// The proof of a block of leaves.
    BlockProof(BlockProof),
    /// One chunk of a leaf.
    Data(Data),
    /// The packets of a stream a downloader received.
    DataAck(DataAck),
    /// An owner does not serve a GET.
    Refuse(Refuse),
    /// "What content do you share under this file ID?"
    ContentQuery {
        /// The file ID.
        key: Id,
    },
    /// What an owner shares under a file ID.
    ContentInfo(ContentInfo),
    /// A signed invitation to a conference.
    ConfInvite(ConfInvite),
    /// An invitee's signed answer.
    ConfAnswer(ConfAnswer),
    /// The creator's admission of a member (or none).
    ConfAdmit(ConfAdmit),
    /// A member leaves or is removed.
    ConfLeave(ConfLeave),
    /// A probe of, or an attachment to, a member's place in a conference's tree.
    TreeJoin(TreeJoin),
    /// A member's place in the tree.
    TreeState(TreeState),
    /// A member's chat message to a conference.
    ConfChat(ConfChat),
    /// A block's proof in a conference transfer.
    ConfProof(ConfProof),
    /// One chunk of a conference transfer.
    ConfData(ConfData),
    /// A request for pieces of a conference transfer.
    ConfPull(ConfPull),
}

impl Message {
    /// This message's type byte.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Ping => MessageType::Ping,
            Message::Pong => MessageType::Pong,
            Message::Ack => MessageType::Ack,
            Message::HopAck => MessageType::HopAck,
            Message::Join { .. } => MessageType::Join,
            Message::JoinReply { .. } => MessageType::JoinReply,
            Message::NeighbourUpdate { .. } => MessageType::NeighbourUpdate,
            Message::Stabilise { .. } => MessageType::Stabilise,
            Message::StabiliseReply { .. } => MessageType::StabiliseReply,
            Message::Leave { .. } => MessageType::Leave,
            Message::FriendDigest { .. } => MessageType::FriendDigest,
            Message::RegistryCopy { .. } => MessageType::RegistryCopy,
            Message::RegistryGet { .. } => MessageType::RegistryGet,
            Message::RegistryRecord { .. } => MessageType::RegistryRecord,
            Message::Lookup { .. } => MessageType::Lookup,
            Message::LookupReply { .. } => MessageType::LookupReply,
            Message::Store { .. } => MessageType::Store,
            Message::Verify { .. } => MessageType::Verify,
            Message::VerifyReply { .. } => MessageType::VerifyReply,
            Message::Search { .. } => MessageType::Search,
            Message::SearchPage { .. } => MessageType::SearchPage,
            Message::SearchReply { .. } => MessageType::SearchReply,
            Message::Replicate { .. } => MessageType::Replicate,
            Message::ListFiles { .. } => MessageType::ListFiles,
            Message::FileList { .. } => MessageType::FileList,
            Message::FriendRequest(_) => MessageType::FriendRequest,
            Message::FriendAnswer(_) => MessageType::FriendAnswer,
            Message::Unfriend(_) => MessageType::Unfriend,
            Message::Presence(_) => MessageType::Presence,
            Message::Chat(_) => MessageType::Chat,
            Message::ChatAck(_) => MessageType::ChatAck,
            Message::MailStore(_) => MessageType::MailStore,
            Message::MailCopy(_) => MessageType::MailCopy,
            Message::Mail(_) => MessageType::Mail,
            Message::MailAck(_) => MessageType::MailAck,
            Message::Get(_) => MessageType::Get,
            Message::BlockProof(_) => MessageType::BlockProof,
            Message::Data(_) => MessageType::Data,
            Message::DataAck(_) => MessageType::DataAck,
            Message::Refuse(_) => MessageType::Refuse,
            Message::ContentQuery { .. } => MessageType::ContentQuery,
            Message::ContentInfo(_) => MessageType::ContentInfo,
            Message::ConfInvite(_) => MessageType::ConfInvite,
            Message::ConfAnswer(_) => MessageType::ConfAnswer,
            Message::ConfAdmit(_) => MessageType::ConfAdmit,
            Message::ConfLeave(_) => MessageType::ConfLeave,
            Message::TreeJoin(_) => MessageType::TreeJoin,
            Message::TreeState(_) => MessageType::TreeState,
            Message::ConfChat(_) => MessageType::ConfChat,
            Message::ConfProof(_) => MessageType::ConfProof,
            Message::ConfData(_) => MessageType::ConfData,
            Message::ConfPull(_) => MessageType::ConfPull,
        }
    }
}
