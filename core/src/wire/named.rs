//! Which address a message names for the answers and checks it draws.

use super::message::Message;
use core::net::SocketAddrV6;

impl Message {
    /// The address the body names for the answers and checks it draws,
    /// besides the datagram's source: a routed request's origin or joiner,
    /// a STORE's owner. A receiver counts the datagram's bytes as received
    /// in that address's name too (see [`Budgets`](crate::tables::budgets::Budgets)).
    pub fn named_address(&self) -> Option<SocketAddrV6> {
        match self {
            Message::Join { joiner: named, .. }
            | Message::Lookup { origin: named, .. }
            | Message::Search { origin: named, .. }
            | Message::Store { owner: named, .. }
            | Message::RegistryGet { origin: named, .. } => Some(named.addr),
            Message::Ping
            | Message::Pong
            | Message::Ack
            | Message::HopAck
            | Message::JoinReply { .. }
            | Message::NeighbourUpdate { .. }
            | Message::Stabilise { .. }
            | Message::StabiliseReply { .. }
            | Message::Leave { .. }
            | Message::FriendDigest { .. }
            | Message::RegistryCopy { .. }
            | Message::RegistryRecord { .. }
            | Message::LookupReply { .. }
            | Message::Verify { .. }
            | Message::VerifyReply { .. }
            | Message::SearchPage { .. }
            | Message::SearchReply { .. }
            | Message::Replicate { .. }
            | Message::ListFiles { .. }
            | Message::FileList { .. }
            | Message::FriendRequest(_)
            | Message::FriendAnswer(_)
            | Message::Unfriend(_)
            | Message::Presence(_)
            | Message::Chat(_)
            | Message::ChatAck(_)
            | Message::MailStore(_)
            | Message::MailCopy(_)
            | Message::Mail(_)
            | Message::MailAck(_)
            | Message::Get(_)
            | Message::BlockProof(_)
            | Message::Data(_)
            | Message::DataAck(_)
            | Message::Refuse(_)
            | Message::ContentQuery { .. }
            | Message::ContentInfo(_)
            | Message::ConfInvite(_)
            | Message::ConfAnswer(_)
            | Message::ConfAdmit(_)
            | Message::ConfLeave(_)
            | Message::TreeJoin(_)
            | Message::TreeState(_)
            | Message::ConfChat(_)
            | Message::ConfProof(_)
            | Message::ConfData(_)
            | Message::ConfPull(_) => None,
        }
    }
}
