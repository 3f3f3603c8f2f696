//! The one table of message types: each type's code, name, traffic class,
//! delivery and the response that completes it, written once.
//!
//! A new message type is one line here; the compiler then names every
//! exhaustive `match` that must say what to do with it (its body in
//! [`Message`](super::Message), its parse and emit, the node's dispatch).

/// Whether a message keeps the overlay alive or serves a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Traffic {
    /// Keeps the ring and routing state alive: counted in
    /// [`Stats::maintenance_out`](crate::stats::Stats::maintenance_out).
    Maintenance,
    /// Serves a user's request (joins, lookups, the DHT, file lists).
    Service,
}

/// How a message reaches the node that acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Straight to the address it is sent to.
    Direct,
    /// Hop by hop towards the node responsible for a key, so any node may
    /// turn out to be the one that acts on it (JOIN, LOOKUP and SEARCH
    /// hops are acknowledged with HOP_ACK).
    Routed,
}

macro_rules! message_types {
    (@response) => { None };
    (@response $response:ident) => { Some(MessageType::$response) };
    ($(
        $(#[$doc:meta])*
        $variant:ident = $code:literal, $name:literal, $traffic:ident, $delivery:ident $(, answered by $response:ident)?;
    )*) => {
        /// The message type byte.
        ///
        /// Everything this implementation knows of a type — its code, its
        /// name in `docs/wire.md`, its [`Traffic`] class, its [`Delivery`]
        /// and the response that answers it — comes from one table in
        /// `wire/types.rs`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum MessageType {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl MessageType {
            /// How many message types this version knows.
            pub const COUNT: usize = [$($code),*].len();

            /// Every message type, in code order.
            pub const ALL: [MessageType; MessageType::COUNT] = [$(MessageType::$variant),*];

            /// The type for a type byte, if it is one this version knows.
            pub const fn from_u8(byte: u8) -> Option<MessageType> {
                match byte {
                    $( $code => Some(MessageType::$variant), )*
                    _ => None,
                }
            }

            /// The name `docs/wire.md` uses.
            pub const fn name(self) -> &'static str {
                match self {
                    $( MessageType::$variant => $name, )*
                }
            }

            /// Whether it keeps the overlay alive or serves a request.
            pub const fn traffic(self) -> Traffic {
                match self {
                    $( MessageType::$variant => Traffic::$traffic, )*
                }
            }

            /// How it reaches the node that acts on it.
            pub const fn delivery(self) -> Delivery {
                match self {
                    $( MessageType::$variant => Delivery::$delivery, )*
                }
            }

            /// The response that completes a request of this type (`None`
            /// for responses and for messages nobody answers). A routed
            /// request's hops are acknowledged by HOP_ACK besides.
            pub const fn response(self) -> Option<MessageType> {
                match self {
                    $( MessageType::$variant => message_types!(@response $($response)?), )*
                }
            }
        }
    };
}

message_types! {
    /// Liveness probe.
    Ping = 0x01, "PING", Maintenance, Direct, answered by Pong;
    /// Answer to a ping.
    Pong = 0x02, "PONG", Maintenance, Direct;
    /// Acknowledges a neighbour update, a LEAVE, a friend's answer, an UNFRIEND, a PRESENCE or a MAIL_STORE.
    Ack = 0x03, "ACK", Maintenance, Direct;
    /// Acknowledges one hop of a routed message (JOIN, LOOKUP, SEARCH) to the node that sent it.
    HopAck = 0x04, "HOP_ACK", Service, Direct;
    /// A node asks to join; routed to the joiner's successor.
    Join = 0x10, "JOIN", Service, Routed, answered by JoinReply;
    /// The responsible node's answer to a JOIN, sent straight to the joiner.
    JoinReply = 0x11, "JOIN_REPLY", Service, Direct;
    /// A neighbour tells a node its neighbour chain on one side.
    NeighbourUpdate = 0x12, "NEIGHBOUR_UPDATE", Maintenance, Direct, answered by Ack;
    /// A node asks a neighbour (or a candidate) for its chains; also a liveness probe.
    Stabilise = 0x13, "STABILISE", Maintenance, Direct, answered by StabiliseReply;
    /// The answer to STABILISE: the responder's chains.
    StabiliseReply = 0x14, "STABILISE_REPLY", Maintenance, Direct;
    /// A neighbour leaves the ring and hands over its chain on the other side.
    Leave = 0x15, "LEAVE", Maintenance, Direct, answered by Ack;
    /// A friend's contact IDs, for looking one hop ahead when routing.
    FriendDigest = 0x16, "FRIEND_DIGEST", Maintenance, Direct;
    /// Registrations copied to a neighbour: replicas for the nodes on the right, a handover to the left.
    RegistryCopy = 0x17, "REGISTRY_COPY", Maintenance, Direct;
    /// A routed request for the registration of an ID, to the node after it (its registrar or first replica).
    RegistryGet = 0x18, "REGISTRY_GET", Service, Routed, answered by RegistryRecord;
    /// The registration held for the ID asked about, if any, sent straight to the origin.
    RegistryRecord = 0x19, "REGISTRY_RECORD", Service, Direct;
    /// A routed request for the node responsible for a key.
    Lookup = 0x20, "LOOKUP", Service, Routed, answered by LookupReply;
    /// The responsible node's answer to a lookup, sent straight to the origin.
    LookupReply = 0x21, "LOOKUP_REPLY", Service, Direct;
    /// An owner publishes file IDs; routed, each responsible node keeps its own.
    Store = 0x30, "STORE", Service, Routed;
    /// A responsible node checks that an owner's address is real (return routability).
    Verify = 0x31, "VERIFY", Service, Direct, answered by VerifyReply;
    /// The owner's answer to VERIFY.
    VerifyReply = 0x32, "VERIFY_REPLY", Service, Direct;
    /// A routed request for the owners of a key.
    Search = 0x33, "SEARCH", Service, Routed, answered by SearchReply;
    /// A direct request for a further page of owners.
    SearchPage = 0x34, "SEARCH_PAGE", Service, Direct, answered by SearchReply;
    /// A page of owners, from the responsible node.
    SearchReply = 0x35, "SEARCH_REPLY", Service, Direct;
    /// Stored entries copied to a neighbour (replication, handover).
    Replicate = 0x36, "REPLICATE", Service, Direct;
    /// A friend asks for a page of shared-file names.
    ListFiles = 0x37, "LIST_FILES", Service, Direct, answered by FileList;
    /// A page of shared-file names.
    FileList = 0x38, "FILE_LIST", Service, Direct;
    /// A signed friend request, to the address registered for the ID asked.
    FriendRequest = 0x40, "FRIEND_REQUEST", Service, Direct;
    /// A signed answer to a friend request: accepted or declined.
    FriendAnswer = 0x41, "FRIEND_ANSWER", Service, Direct, answered by Ack;
    /// A friend ends the friendship.
    Unfriend = 0x42, "UNFRIEND", Service, Direct, answered by Ack;
    /// A friend's signed presence: status and status text.
    Presence = 0x43, "PRESENCE", Service, Direct, answered by Ack;
    /// One fragment of an end-to-end sealed chat message.
    Chat = 0x44, "CHAT", Service, Direct;
    /// Acknowledges a chat fragment and reports the messages delivered.
    ChatAck = 0x45, "CHAT_ACK", Service, Direct;
    /// A chat fragment for an offline friend, to the node responsible for the friend's ID.
    MailStore = 0x46, "MAIL_STORE", Service, Direct, answered by Ack;
    /// Offline mail copied to the holder's successors.
    MailCopy = 0x47, "MAIL_COPY", Service, Direct;
    /// Offline mail delivered to its recipient, back online.
    Mail = 0x48, "MAIL", Service, Direct, answered by MailAck;
    /// The recipient delivered a sender's messages up to a number: their mail goes.
    MailAck = 0x49, "MAIL_ACK", Service, Direct;
    /// A downloader asks an owner for leaves of a file (its whole wish list for the stream).
    Get = 0x50, "GET", Service, Direct;
    /// The proof of a block of leaves: their values and the siblings above them.
    BlockProof = 0x51, "BLOCK_PROOF", Service, Direct;
    /// One chunk of a leaf.
    Data = 0x52, "DATA", Service, Direct;
    /// The packets of a stream a downloader received, as ranges.
    DataAck = 0x53, "DATA_ACK", Service, Direct;
    /// An owner does not serve a GET, and says why.
    Refuse = 0x54, "REFUSE", Service, Direct;
    /// "What content do you share under this file ID?" — a downloader, to an owner a search found.
    ContentQuery = 0x55, "CONTENT_QUERY", Service, Direct, answered by ContentInfo;
    /// The content an owner shares under a file ID, if any, and to whom.
    ContentInfo = 0x56, "CONTENT_INFO", Service, Direct;
    /// The creator invites a friend to a conference (signed).
    ConfInvite = 0x60, "CONF_INVITE", Service, Direct, answered by Ack;
    /// An invitee joins or declines (signed).
    ConfAnswer = 0x61, "CONF_ANSWER", Service, Direct, answered by ConfAdmit;
    /// The creator's answer to CONF_ANSWER: the new member's certificate, or none.
    ConfAdmit = 0x62, "CONF_ADMIT", Service, Direct;
    /// A member leaves or is removed (signed); the creator leaving ends the conference.
    ConfLeave = 0x63, "CONF_LEAVE", Service, Direct, answered by Ack;
    /// A member probes another's place in a conference's tree, or attaches (and stays attached) as its child.
    TreeJoin = 0x64, "TREE_JOIN", Service, Direct, answered by TreeState;
    /// A member's place in the tree (delay from the root, path, room), and whether it took the asker as a child.
    TreeState = 0x65, "TREE_STATE", Service, Direct;
    /// A member's signed chat message, passed on along the tree hop by hop.
    ConfChat = 0x66, "CONF_CHAT", Service, Direct, answered by Ack;
    /// A block's proof in a conference transfer, with the sender's signed announcement; passed on along the tree.
    ConfProof = 0x67, "CONF_PROOF", Service, Direct;
    /// One chunk of a conference transfer, passed on along the tree.
    ConfData = 0x68, "CONF_DATA", Service, Direct;
    /// A member asks a tree neighbour for pieces of a transfer it missed.
    ConfPull = 0x69, "CONF_PULL", Service, Direct;
}

impl core::fmt::Display for MessageType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
