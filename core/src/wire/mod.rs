//! The MMP2P wire format: a checked view over datagram bytes ([`Packet`]) and a
//! typed representation ([`Repr`]) with `parse` and `emit`.
//!
//! `docs/wire.md` is the normative specification; this module mirrors it.
//! Every message type is one entry of the table in `types.rs`
//! ([`MessageType`]); its body is one variant of [`Message`]. Integers are
//! big-endian; every list has a one-byte count bounded by a named constant.
//! Parsing never panics and never allocates; it rejects truncated input,
//! over-long counts and trailing bytes with a [`WireError`]. Emitting never
//! writes more than [`MAX_DATAGRAM`] bytes. Every [`Repr`] and [`Message`]
//! prints as one line of text.

mod codec;
mod conference;
mod conference_data;
mod cursor;
mod dht;
mod display;
mod error;
mod fields;
mod header;
mod message;
mod messenger;
mod named;
mod packet;
mod repr;
mod transfer;
mod types;

pub use conference::{
    ConfAdmit, ConfAnswer, ConfChat, ConfInvite, ConfLeave, TreeJoin, TreeMode, TreeState, TreeStatus,
    CONF_CHAT_SIGNING_LEN, MAX_CANDIDATES, MAX_CONF_TEXT, MAX_DEPTH,
};
pub use conference_data::{
    Announcement, ConfData, ConfProof, ConfPull, ANNOUNCEMENT_SIGNING_LEN, MAX_CONF_SIBLINGS, MAX_PULL_RANGES,
    MAX_TRANSFER_NAME,
};
pub use dht::{
    FileEntry, ReplicaEntry, SignedOwner, MAX_DIGEST_IDS, MAX_NAMES_PER_PAGE, MAX_OWNERS_PER_REPLY, MAX_REGISTRY_COPY,
    MAX_REPLICATE_BATCH, MAX_STORE_BATCH, MAX_VERIFY_KEYS,
};
pub use error::{EmitError, WireError};
pub use fields::{Chain, IdentityProof, JoinStatus, Side, MAX_CHAIN};
pub use header::{Header, DETOUR_BITS, HEADER_LEN, MAGIC, MAX_DATAGRAM, MAX_DETOURS, PADDED_REQUEST_LEN, VERSION};
pub use message::Message;
pub use messenger::{
    ChatAck, ChatFragment, FriendAnswer, FriendRequest, Mail, MailAck, Presence, Status, Transcript, Unfriend,
    MAX_FRAGMENT, MAX_FRAGMENTS, MAX_MESSAGE, MAX_REQUEST_TEXT, MAX_STATUS_TEXT,
};
pub use packet::Packet;
pub use repr::Repr;
pub use transfer::{
    BlockProof, ContentInfo, Data, DataAck, Get, LeafRange, Refuse, RefuseReason, MAX_ACK_RANGES, MAX_GET_RANGES,
};
pub use types::{Delivery, MessageType, Traffic};

#[cfg(test)]
mod tests;
