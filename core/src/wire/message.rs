//! Message bodies: one variant per message type, and their encoding.

use super::cursor::{Reader, Writer};
use super::dht::{self, FileEntry, ReplicaEntry, SignedOwner};
use super::error::WireError;
use super::fields::{Chain, IdentityProof, JoinStatus, Side};
use super::header::{HEADER_LEN, PADDED_REQUEST_LEN};
use super::types::MessageType;
use crate::config::MAX_NAME_LEN;
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
        }
    }

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
