//! Each message body's encoding: its length, parse and emit, one arm per
//! message type (`docs/wire.md` is the specification).

use super::conference::{ConfAdmit, ConfAnswer, ConfChat, ConfInvite, ConfLeave, TreeJoin, TreeState};
use super::conference_data::{ConfData, ConfProof, ConfPull};
use super::cursor::{Reader, Writer};
use super::dht::{self, FileEntry, ReplicaEntry, SignedOwner};
use super::error::WireError;
use super::fields::{IdentityProof, JoinStatus};
use super::header::{HEADER_LEN, PADDED_REQUEST_LEN};
use super::message::Message;
use super::messenger::{ChatAck, ChatFragment, FriendAnswer, FriendRequest, Mail, MailAck, Presence, Unfriend};
use super::transfer::{BlockProof, ContentInfo, Data, DataAck, Get, Refuse};
use super::types::MessageType;
use crate::id::{Id, ResourceLocator};
use crate::identity::{PublicKey, Signature};

/// Zero bytes that pad a JOIN body without a proof (after the joiner, hops,
/// cookie and proof flag) to [`PADDED_REQUEST_LEN`]; one with a proof is longer.
const JOIN_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - ResourceLocator::WIRE_LEN - 1 - COOKIE_LEN - 1;
/// Bytes of a join cookie.
const COOKIE_LEN: usize = 8;
/// Zero bytes that pad a STABILISE body (after its flag) to [`PADDED_REQUEST_LEN`].
const STABILISE_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - 1;
/// Zero bytes that pad a SEARCH (after origin, key and hops) to [`PADDED_REQUEST_LEN`].
const SEARCH_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - ResourceLocator::WIRE_LEN - Id::LEN - 1;
/// Zero bytes that pad a SEARCH_PAGE (after key and page) to [`PADDED_REQUEST_LEN`].
const SEARCH_PAGE_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - Id::LEN - 1;
/// Zero bytes that pad a REGISTRY_GET (after origin, ID and hops) to [`PADDED_REQUEST_LEN`].
const REGISTRY_GET_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - ResourceLocator::WIRE_LEN - Id::LEN - 1;
/// Zero bytes that pad a LIST_FILES (after the page) to [`PADDED_REQUEST_LEN`].
const LIST_FILES_PADDING: usize = PADDED_REQUEST_LEN - HEADER_LEN - 1;

impl Message {
    /// Bytes of the body on the wire.
    pub(super) fn body_len(&self) -> usize {
        const LOC: usize = ResourceLocator::WIRE_LEN;
        match self {
            Message::Ping | Message::Pong | Message::Ack | Message::HopAck => 0,
            Message::Join { proof: None, .. } => LOC + 1 + COOKIE_LEN + 1 + JOIN_PADDING,
            Message::Join { proof: Some(_), .. } => LOC + 1 + COOKIE_LEN + 1 + IdentityProof::WIRE_LEN,
            Message::JoinReply { left, right, .. } => 4 + (left.len() + right.len()) * LOC + COOKIE_LEN + 4,
            Message::NeighbourUpdate { chain, .. } | Message::Leave { chain, .. } => 2 + chain.len() * LOC,
            Message::Stabilise { .. } => 1 + STABILISE_PADDING,
            Message::StabiliseReply { left, right, proof } => {
                2 + (left.len() + right.len()) * LOC + 1 + proof.map_or(0, |_| IdentityProof::WIRE_LEN)
            }
            Message::FriendDigest { ids } => 1 + ids.len() * Id::LEN,
            Message::RegistryCopy { records } => 1 + records.len() * crate::registration::Registration::WIRE_LEN,
            Message::RegistryGet { .. } => LOC + Id::LEN + 1 + REGISTRY_GET_PADDING,
            Message::RegistryRecord { record, .. } => {
                Id::LEN + 1 + record.map_or(0, |_| crate::registration::Registration::WIRE_LEN)
            }
            Message::Lookup { .. } => LOC + Id::LEN + 1,
            Message::LookupReply { .. } => Id::LEN + 1,
            Message::Store { entries, .. } => {
                LOC + PublicKey::LEN + 2 + entries.iter().map(FileEntry::wire_len).sum::<usize>()
            }
            Message::Verify { keys, .. } => Id::LEN + 1 + keys.len() * Id::LEN,
            Message::VerifyReply { keys, .. } => 1 + keys.len() * Id::LEN + 4,
            Message::Search { .. } => LOC + Id::LEN + 1 + SEARCH_PADDING,
            Message::SearchPage { .. } => Id::LEN + 1 + SEARCH_PAGE_PADDING,
            Message::SearchReply { owners, .. } => Id::LEN + 4 + owners.len() * SignedOwner::WIRE_LEN,
            Message::Replicate { entries } => 1 + entries.iter().map(ReplicaEntry::wire_len).sum::<usize>(),
            Message::ListFiles { .. } => 1 + LIST_FILES_PADDING,
            Message::FileList { names, .. } => 3 + names.iter().map(|n| 1 + n.len()).sum::<usize>(),
            Message::FriendRequest(request) => FriendRequest::FIXED_LEN + request.text.len(),
            Message::FriendAnswer(_) => FriendAnswer::WIRE_LEN,
            Message::Unfriend(_) => Unfriend::WIRE_LEN,
            Message::Presence(presence) => Presence::FIXED_LEN + presence.text.len(),
            Message::Chat(chat) => ChatFragment::FIXED_LEN + chat.sealed.len(),
            Message::ChatAck(_) => ChatAck::WIRE_LEN,
            Message::MailStore(mail) | Message::MailCopy(mail) | Message::Mail(mail) => {
                Mail::FIXED_LEN + mail.chat.sealed.len()
            }
            Message::MailAck(_) => MailAck::WIRE_LEN,
            Message::Get(get) => get.wire_len(),
            Message::BlockProof(proof) => proof.wire_len(),
            Message::Data(data) => Data::FIXED_LEN + data.bytes.len(),
            Message::DataAck(ack) => ack.wire_len(),
            Message::Refuse(_) => Refuse::WIRE_LEN,
            Message::ContentQuery { .. } => Id::LEN,
            Message::ContentInfo(info) => info.wire_len(),
            Message::ConfInvite(invite) => ConfInvite::FIXED_LEN + invite.name.len(),
            Message::ConfAnswer(_) => ConfAnswer::WIRE_LEN,
            Message::ConfAdmit(admit) => admit.wire_len(),
            Message::ConfLeave(_) => ConfLeave::WIRE_LEN,
            Message::TreeJoin(join) => join.wire_len(),
            Message::TreeState(state) => state.wire_len(),
            Message::ConfChat(chat) => chat.wire_len(),
            Message::ConfProof(proof) => proof.wire_len(),
            Message::ConfData(data) => data.wire_len(),
            Message::ConfPull(pull) => pull.wire_len(),
        }
    }

    /// Parses a body of type `kind`.
    pub(super) fn parse(kind: MessageType, r: &mut Reader<'_>) -> Result<Message, WireError> {
        Ok(match kind {
            MessageType::Ping => Message::Ping,
            MessageType::Pong => Message::Pong,
            MessageType::Ack => Message::Ack,
            MessageType::HopAck => Message::HopAck,
            MessageType::Join => {
                let (joiner, hops, cookie) = (r.locator()?, r.u8()?, r.u64()?);
                let proof = r.optional(parse_proof)?;
                if proof.is_none() {
                    r.zeros(JOIN_PADDING)?;
                }
                Message::Join { joiner, hops, cookie, proof }
            }
            MessageType::JoinReply => {
                let status = JoinStatus::from_u8(r.u8()?).ok_or(WireError::InvalidField)?;
                let hops = r.u8()?;
                let left = r.chain()?;
                let right = r.chain()?;
                let cookie = r.u64()?;
                let seq = r.u32()?;
                Message::JoinReply { status, hops, left, right, cookie, seq }
            }
            MessageType::NeighbourUpdate => {
                let side = r.side()?;
                let chain = r.chain()?;
                if chain.is_empty() {
                    return Err(WireError::InvalidField);
                }
                Message::NeighbourUpdate { side, chain }
            }
            MessageType::Stabilise => {
                let identify = r.flag()?;
                r.zeros(STABILISE_PADDING)?;
                Message::Stabilise { identify }
            }
            MessageType::StabiliseReply => {
                Message::StabiliseReply { left: r.chain()?, right: r.chain()?, proof: r.optional(parse_proof)? }
            }
            MessageType::Leave => Message::Leave { side: r.side()?, chain: r.chain()? },
            MessageType::FriendDigest => Message::FriendDigest { ids: r.list(|r| r.id())? },
            MessageType::RegistryCopy => Message::RegistryCopy { records: r.list(dht::parse_registration)? },
            MessageType::RegistryGet => {
                let get = Message::RegistryGet { origin: r.locator()?, id: r.id()?, hops: r.u8()? };
                r.zeros(REGISTRY_GET_PADDING)?;
                get
            }
            MessageType::RegistryRecord => {
                Message::RegistryRecord { id: r.id()?, record: r.optional(dht::parse_registration)? }
            }
            MessageType::Lookup => Message::Lookup { origin: r.locator()?, key: r.id()?, hops: r.u8()? },
            MessageType::LookupReply => Message::LookupReply { key: r.id()?, hops: r.u8()? },
            MessageType::Store => {
                let (owner, key, hops) = (r.locator()?, PublicKey(r.take()?), r.u8()?);
                Message::Store { owner, key, hops, entries: r.list(FileEntry::parse)? }
            }
            MessageType::Verify => Message::Verify { owner: r.id()?, keys: r.list(|r| r.id())? },
            MessageType::VerifyReply => Message::VerifyReply { keys: r.list(|r| r.id())?, mask: r.u32()? },
            MessageType::Search => {
                let search = Message::Search { origin: r.locator()?, key: r.id()?, hops: r.u8()? };
                r.zeros(SEARCH_PADDING)?;
                search
            }
            MessageType::SearchPage => {
                let page = Message::SearchPage { key: r.id()?, page: r.u8()? };
                r.zeros(SEARCH_PAGE_PADDING)?;
                page
            }
            MessageType::SearchReply => {
                let (key, hops, page, pages) = (r.id()?, r.u8()?, r.u8()?, r.u8()?);
                if pages == 0 || page >= pages {
                    return Err(WireError::InvalidField);
                }
                Message::SearchReply { key, hops, page, pages, owners: r.list(SignedOwner::parse)? }
            }
            MessageType::Replicate => Message::Replicate { entries: r.list(ReplicaEntry::parse)? },
            MessageType::ListFiles => {
                let list = Message::ListFiles { page: r.u8()? };
                r.zeros(LIST_FILES_PADDING)?;
                list
            }
            MessageType::FileList => {
                let (page, pages) = (r.u8()?, r.u8()?);
                if pages == 0 || page >= pages {
                    return Err(WireError::InvalidField);
                }
                Message::FileList { page, pages, names: r.list(|r| r.name())? }
            }
            MessageType::FriendRequest => Message::FriendRequest(FriendRequest::parse(r)?),
            MessageType::FriendAnswer => Message::FriendAnswer(FriendAnswer::parse(r)?),
            MessageType::Unfriend => Message::Unfriend(Unfriend::parse(r)?),
            MessageType::Presence => Message::Presence(Presence::parse(r)?),
            MessageType::Chat => Message::Chat(ChatFragment::parse(r)?),
            MessageType::ChatAck => Message::ChatAck(ChatAck::parse(r)?),
            MessageType::MailStore => Message::MailStore(Mail::parse(r)?),
            MessageType::MailCopy => Message::MailCopy(Mail::parse(r)?),
            MessageType::Mail => Message::Mail(Mail::parse(r)?),
            MessageType::MailAck => Message::MailAck(MailAck::parse(r)?),
            MessageType::Get => Message::Get(Get::parse(r)?),
            MessageType::BlockProof => Message::BlockProof(BlockProof::parse(r)?),
            MessageType::Data => Message::Data(Data::parse(r)?),
            MessageType::DataAck => Message::DataAck(DataAck::parse(r)?),
            MessageType::Refuse => Message::Refuse(Refuse::parse(r)?),
            MessageType::ContentQuery => Message::ContentQuery { key: r.id()? },
            MessageType::ContentInfo => Message::ContentInfo(ContentInfo::parse(r)?),
            MessageType::ConfInvite => Message::ConfInvite(ConfInvite::parse(r)?),
            MessageType::ConfAnswer => Message::ConfAnswer(ConfAnswer::parse(r)?),
            MessageType::ConfAdmit => Message::ConfAdmit(ConfAdmit::parse(r)?),
            MessageType::ConfLeave => Message::ConfLeave(ConfLeave::parse(r)?),
            MessageType::TreeJoin => Message::TreeJoin(TreeJoin::parse(r)?),
            MessageType::TreeState => Message::TreeState(TreeState::parse(r)?),
            MessageType::ConfChat => Message::ConfChat(ConfChat::parse(r)?),
            MessageType::ConfProof => Message::ConfProof(ConfProof::parse(r)?),
            MessageType::ConfData => Message::ConfData(ConfData::parse(r)?),
            MessageType::ConfPull => Message::ConfPull(ConfPull::parse(r)?),
        })
    }

    /// Writes the body.
    pub(super) fn emit(&self, w: &mut Writer<'_>) {
        match self {
            Message::Ping | Message::Pong | Message::Ack | Message::HopAck => {}
            Message::Join { joiner, hops, cookie, proof } => {
                w.locator(joiner);
                w.u8(*hops);
                w.u64(*cookie);
                w.optional(proof.as_ref(), emit_proof);
                if proof.is_none() {
                    w.put(&[0; JOIN_PADDING]);
                }
            }
            Message::JoinReply { status, hops, left, right, cookie, seq } => {
                w.u8(*status as u8);
                w.u8(*hops);
                w.chain(left);
                w.chain(right);
                w.u64(*cookie);
                w.u32(*seq);
            }
            Message::NeighbourUpdate { side, chain } | Message::Leave { side, chain } => {
                w.u8(*side as u8);
                w.chain(chain);
            }
            Message::Stabilise { identify } => {
                w.u8(u8::from(*identify));
                w.put(&[0; STABILISE_PADDING]);
            }
            Message::StabiliseReply { left, right, proof } => {
                w.chain(left);
                w.chain(right);
                w.optional(proof.as_ref(), emit_proof);
            }
            Message::Lookup { origin, key, hops } => {
                w.locator(origin);
                w.id(*key);
                w.u8(*hops);
            }
            Message::LookupReply { key, hops } => {
                w.id(*key);
                w.u8(*hops);
            }
            Message::Store { owner, key, hops, entries } => {
                w.locator(owner);
                w.put(&key.0);
                w.u8(*hops);
                w.list(entries, |w, e| e.emit(w));
            }
            Message::Verify { owner, keys } => {
                w.id(*owner);
                w.list(keys, |w, k| w.id(*k));
            }
            Message::FriendDigest { ids } => w.list(ids, |w, k| w.id(*k)),
            Message::RegistryCopy { records } => w.list(records, dht::emit_registration),
            Message::RegistryGet { origin, id, hops } => {
                w.locator(origin);
                w.id(*id);
                w.u8(*hops);
                w.put(&[0; REGISTRY_GET_PADDING]);
            }
            Message::RegistryRecord { id, record } => {
                w.id(*id);
                w.optional(record.as_ref(), dht::emit_registration);
            }
            Message::VerifyReply { keys, mask } => {
                w.list(keys, |w, k| w.id(*k));
                w.u32(*mask);
            }
            Message::Search { origin, key, hops } => {
                w.locator(origin);
                w.id(*key);
                w.u8(*hops);
                w.put(&[0; SEARCH_PADDING]);
            }
            Message::SearchPage { key, page } => {
                w.id(*key);
                w.u8(*page);
                w.put(&[0; SEARCH_PAGE_PADDING]);
            }
            Message::SearchReply { key, hops, page, pages, owners } => {
                w.id(*key);
                w.u8(*hops);
                w.u8(*page);
                w.u8(*pages);
                w.list(owners, |w, o| o.emit(w));
            }
            Message::Replicate { entries } => w.list(entries, |w, e| e.emit(w)),
            Message::ListFiles { page } => {
                w.u8(*page);
                w.put(&[0; LIST_FILES_PADDING]);
            }
            Message::FileList { page, pages, names } => {
                w.u8(*page);
                w.u8(*pages);
                w.list(names, |w, n| w.name(n));
            }
            Message::FriendRequest(request) => request.emit(w),
            Message::FriendAnswer(answer) => answer.emit(w),
            Message::Unfriend(unfriend) => unfriend.emit(w),
            Message::Presence(presence) => presence.emit(w),
            Message::Chat(chat) => chat.emit(w),
            Message::ChatAck(ack) => ack.emit(w),
            Message::MailStore(mail) | Message::MailCopy(mail) | Message::Mail(mail) => mail.emit(w),
            Message::MailAck(ack) => ack.emit(w),
            Message::Get(get) => get.emit(w),
            Message::BlockProof(proof) => proof.emit(w),
            Message::Data(data) => data.emit(w),
            Message::DataAck(ack) => ack.emit(w),
            Message::Refuse(refuse) => refuse.emit(w),
            Message::ContentQuery { key } => w.id(*key),
            Message::ContentInfo(info) => info.emit(w),
            Message::ConfInvite(invite) => invite.emit(w),
            Message::ConfAnswer(answer) => answer.emit(w),
            Message::ConfAdmit(admit) => admit.emit(w),
            Message::ConfLeave(leave) => leave.emit(w),
            Message::TreeJoin(join) => join.emit(w),
            Message::TreeState(state) => state.emit(w),
            Message::ConfChat(chat) => chat.emit(w),
            Message::ConfProof(proof) => proof.emit(w),
            Message::ConfData(data) => data.emit(w),
            Message::ConfPull(pull) => pull.emit(w),
        }
    }
}

/// A proof of identity: key, sequence number, signature.
fn parse_proof(r: &mut Reader<'_>) -> Result<IdentityProof, WireError> {
    Ok(IdentityProof { key: PublicKey(r.take()?), seq: r.u32()?, signature: Signature(r.take()?) })
}

/// Writes a proof as [`parse_proof`] reads it.
fn emit_proof(w: &mut Writer<'_>, proof: &IdentityProof) {
    w.put(&proof.key.0);
    w.u32(proof.seq);
    w.put(&proof.signature.0);
}
