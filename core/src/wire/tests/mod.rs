//! Unit and property tests of the wire format: every parse error from a crafted
//! input, emit's bounds, the [`Packet`] view, and quickcheck round trips.

use super::*;
use crate::config::STORE_NAME_LEN;
use crate::id::{Id, ResourceLocator};
use crate::identity::Signature;
use crate::locator_signature::sign_locator;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

/// Datagram offsets the crafted inputs patch (see the header table in `docs/wire.md`).
const VERSION_AT: usize = 2;
const TYPE_AT: usize = 3;
const SENDER_ADDR_AT: usize = 14 + Id::LEN;
/// Offset of a locator's address within the locator.
const ADDR_IN_LOCATOR: usize = Id::LEN;
const LOC: usize = ResourceLocator::WIRE_LEN;

/// Node `n` at `[fd00::n]:4000`, as in the specification's test vectors.
fn node(n: u16) -> ResourceLocator {
    ResourceLocator::new(Id(n.into()), SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n), 4000, 0, 0))
}

/// Bytes of a STORE before its entries: header, owner, key, hops, count.
const STORE_FIXED: usize = HEADER_LEN + LOC + 32 + 2;

fn chain(nodes: &[u16]) -> Chain {
    nodes.iter().map(|&n| node(n)).collect()
}

fn repr(sender: u16, message: Message) -> Repr {
    Repr { header: Header { flags: 0, hop_limit: 64, txid: 0x0102_0304_0506_0708, sender: node(sender) }, message }
}

/// One message of every type, in [`MessageType::ALL`] order.
fn samples() -> [Repr; 52] {
    let [request, answer, unfriend, presence, chat, chat_ack, mail_store, mail_copy, mail, mail_ack] =
        messenger::samples(repr, node);
    let [get, block_proof, data, data_ack, refuse, content_query, content_info] = transfer::samples(repr);
    let [conf_invite, conf_answer, conf_admit, conf_leave, tree_join, tree_state, conf_chat, conf_proof, conf_data, conf_pull] =
        conference::samples(repr, node);
    [
        repr(12, Message::Ping),
        repr(14, Message::Pong),
        repr(9, Message::Ack),
        repr(14, Message::HopAck),
        join(),
        join_reply(),
        neighbour_update(),
        repr(9, Message::Stabilise { identify: true }),
        stabilise_reply(),
        repr(12, Message::Leave { side: Side::Left, chain: chain(&[9, 0]) }),
        repr(13, Message::FriendDigest { ids: [Id(9), Id(0xab << 64)].into_iter().collect() }),
        registry_copy(),
        repr(9, Message::RegistryGet { origin: node(9), id: Id(12), hops: 1 }),
        registry_record(),
        repr(9, Message::Lookup { origin: node(9), key: Id(13), hops: 1 }),
        repr(14, Message::LookupReply { key: Id(13), hops: 2 }),
        store(),
        verify(),
        verify_reply(),
        search(),
        search_page(),
        search_reply(),
        repr(
            9,
            Message::Replicate {
                entries: [ReplicaEntry {
                    key: Id::from_file_name("song.mp3"),
                    owner: node(12),
                    lifetime_secs: 170,
                    name: "song.mp3".try_into().expect("short"),
                    owner_key: identity_12().public_key(),
                    signature: sign_locator(&identity_12(), song(), &node(12)),
                }]
                .into_iter()
                .collect(),
            },
        ),
        repr(12, Message::ListFiles { page: 0 }),
        repr(
            14,
            Message::FileList {
                page: 0,
                pages: 1,
                names: ["paper.pdf", "song.mp3"].iter().map(|n| (*n).try_into().expect("short")).collect(),
            },
        ),
        request,
        answer,
        unfriend,
        presence,
        chat,
        chat_ack,
        mail_store,
        mail_copy,
        mail,
        mail_ack,
        get,
        block_proof,
        data,
        data_ack,
        refuse,
        content_query,
        content_info,
        conf_invite,
        conf_answer,
        conf_admit,
        conf_leave,
        tree_join,
        tree_state,
        conf_chat,
        conf_proof,
        conf_data,
        conf_pull,
    ]
}

fn join() -> Repr {
    repr(12, Message::Join { joiner: node(12), hops: 1, cookie: 0, proof: None })
}

fn join_reply() -> Repr {
    let (left, right) = (chain(&[12, 9]), chain(&[9]));
    repr(14, Message::JoinReply { status: JoinStatus::Accepted, hops: 2, left, right, cookie: 0, seq: 0 })
}

/// Node 14 copies node 12's registration (key from the secret key of 32 bytes `0c`) to its right neighbour 0.
fn registry_copy() -> Repr {
    repr(14, Message::RegistryCopy { records: [registration_12(0x5f8a_588d_bee2_99ba)].into_iter().collect() })
}

/// Node 12's identity: the key from the secret key of 32 bytes `0c`.
fn identity_12() -> crate::identity::Identity {
    crate::identity::Identity::from_seed([12; 32])
}

/// Node `n` as an owner of "song.mp3" in a search result, signed with node 12's key.
fn signed_owner(n: u16) -> SignedOwner {
    SignedOwner { owner: node(n), signature: sign_locator(&identity_12(), song(), &node(n)) }
}

/// Node 12's registration, sequence number 1, over `nonce`.
fn registration_12(nonce: u64) -> crate::registration::Registration {
    crate::registration::Registration::sign(&identity_12(), Id(12), node(12).addr, 1, nonce)
}

/// Node 12, probed as a candidate by node 9 with the sample txid, proves its identity.
fn stabilise_reply() -> Repr {
    let proof = Some(IdentityProof::of(&registration_12(0x0102_0304_0506_0708)));
    repr(12, Message::StabiliseReply { left: chain(&[9]), right: chain(&[14, 0]), proof })
}

/// Node 14 answers node 0: the registration it holds for ID 12 (as copied).
fn registry_record() -> Repr {
    repr(14, Message::RegistryRecord { id: Id(12), record: Some(registration_12(0x5f8a_588d_bee2_99ba)) })
}

fn neighbour_update() -> Repr {
    repr(14, Message::NeighbourUpdate { side: Side::Right, chain: chain(&[12, 14]) })
}

/// A file entry as an owner publishes it: the key is the MD5 of the name.
fn file(name: &str) -> FileEntry {
    let key = Id::from_file_name(name);
    FileEntry {
        key,
        name: name.try_into().expect("short name"),
        signature: sign_locator(&identity_12(), key, &node(12)),
    }
}

/// The files of the specification's DHT vectors, sorted by ID: "paper.pdf", "song.mp3".
fn files() -> heapless::Vec<FileEntry, MAX_STORE_BATCH> {
    let mut files: heapless::Vec<FileEntry, MAX_STORE_BATCH> =
        [file("song.mp3"), file("paper.pdf")].into_iter().collect();
    files.sort_unstable_by_key(|f| f.key);
    files
}

fn song() -> Id {
    Id::from_file_name("song.mp3")
}

fn store() -> Repr {
    repr(12, Message::Store { owner: node(12), key: identity_12().public_key(), hops: 1, entries: files() })
}

fn verify() -> Repr {
    repr(9, Message::Verify { owner: Id(12), keys: files().iter().map(|f| f.key).collect() })
}

fn verify_reply() -> Repr {
    repr(12, Message::VerifyReply { keys: files().iter().map(|f| f.key).collect(), mask: 0b11 })
}

fn search() -> Repr {
    repr(14, Message::Search { origin: node(14), key: song(), hops: 1 })
}

fn search_page() -> Repr {
    repr(14, Message::SearchPage { key: song(), page: 1 })
}

fn search_reply() -> Repr {
    repr(
        9,
        Message::SearchReply {
            key: song(),
            hops: 1,
            page: 0,
            pages: 1,
            owners: [signed_owner(12)].into_iter().collect(),
        },
    )
}

/// A STORE from node 12 of `count` entries, each with a name of `name_len` ASCII bytes.
fn store_of(count: usize, name_len: usize) -> Repr {
    let entries = (0..count)
        .map(|i| {
            let mut name = heapless::String::new();
            for j in 0..name_len {
                name.push(char::from(b'a' + ((i + j) % 26) as u8)).expect("within STORE_NAME_LEN");
            }
            let key = Id::from_file_name(&name);
            FileEntry { key, name, signature: sign_locator(&identity_12(), key, &node(12)) }
        })
        .collect();
    repr(12, Message::Store { owner: node(12), key: identity_12().public_key(), hops: 1, entries })
}

fn encode(repr: &Repr) -> Vec<u8> {
    let mut buf = [0u8; MAX_DATAGRAM];
    let len = repr.emit(&mut buf).expect("sample emits");
    buf[..len].to_vec()
}

/// `bytes` with `with` written at offset `at`.
fn patched(bytes: &[u8], at: usize, with: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + with.len()].copy_from_slice(with);
    out
}

/// Parsing `bytes` either fails or yields a message that re-emits to exactly `bytes`.
fn rejected_or_canonical(bytes: &[u8]) -> bool {
    match Repr::parse_bytes(bytes) {
        Err(_) => true,
        Ok(repr) => repr.buffer_len() == bytes.len() && encode(&repr) == bytes,
    }
}

fn bad_addresses() -> [Ipv6Addr; 3] {
    [Ipv6Addr::UNSPECIFIED, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped()]
}

#[test]
fn samples_cover_every_type_in_order() {
    let kinds = samples().map(|r| r.message.message_type());
    assert_eq!(kinds, MessageType::ALL);
    for kind in MessageType::ALL {
        assert_eq!(MessageType::from_u8(kind as u8), Some(kind));
    }
}

#[test]
fn the_first_failing_check_decides_the_error() {
    let ping = encode(&samples()[0]);
    let join = encode(&join());
    let store = encode(&store());
    let verify = encode(&verify());
    let search = encode(&search());
    let search_reply = encode(&search_reply());
    let first_name_len = STORE_FIXED + Id::LEN;
    let reply_page = HEADER_LEN + Id::LEN + 1;
    let bad_sender = patched(&ping, SENDER_ADDR_AT, &Ipv6Addr::UNSPECIFIED.octets());
    let cases = [
        // Oversized before anything else.
        ("oversized garbage", vec![0xee; MAX_DATAGRAM + 1], WireError::Oversized),
        // Magic before version, version before type, type before fields.
        ("bad magic and version", patched(&patched(&ping, 0, b"XX"), VERSION_AT, &[9]), WireError::BadMagic),
        (
            "bad version and type",
            patched(&patched(&ping, VERSION_AT, &[9]), TYPE_AT, &[0xff]),
            WireError::UnsupportedVersion,
        ),
        ("unknown type, bad sender", patched(&bad_sender, TYPE_AT, &[0xff]), WireError::UnknownType),
        // The sender locator before the body.
        (
            "bad sender, short body",
            patched(&join[..join.len() - 1], SENDER_ADDR_AT, &[0; 16]),
            WireError::InvalidAddress,
        ),
        // A locator is read whole before its address is checked.
        (
            "bad joiner address, cut",
            patched(&join, HEADER_LEN + ADDR_IN_LOCATOR, &[0; 16])[..HEADER_LEN + LOC - 1].to_vec(),
            WireError::Truncated,
        ),
        // Fields before trailing bytes.
        ("bad sender plus one byte", [bad_sender.as_slice(), &[0]].concat(), WireError::InvalidAddress),
        // A name's length is checked before its bytes are read; its bytes are read whole before decoding.
        (
            "name of 33 bytes, cut",
            patched(&store, first_name_len, &[33])[..first_name_len + 1].to_vec(),
            WireError::CountTooLarge,
        ),
        (
            "bad UTF-8, cut",
            patched(&store, first_name_len + 1, &[0xff])[..first_name_len + 2].to_vec(),
            WireError::Truncated,
        ),
        // A count is checked before its items are read.
        (
            "VERIFY count 33, no keys",
            patched(&verify, HEADER_LEN + Id::LEN, &[33])[..HEADER_LEN + Id::LEN + 1].to_vec(),
            WireError::CountTooLarge,
        ),
        // SEARCH_REPLY's page numbers are checked before its owners are read.
        (
            "page 1 of 1, cut",
            patched(&search_reply, reply_page, &[1])[..reply_page + 2].to_vec(),
            WireError::InvalidField,
        ),
        (
            "page 1 of 1, count 13",
            patched(&patched(&search_reply, reply_page, &[1]), reply_page + 2, &[13]),
            WireError::InvalidField,
        ),
        // Padding is read whole before its bytes are checked.
        (
            "SEARCH padding not zero, cut",
            patched(&search, PADDED_REQUEST_LEN - 2, &[1])[..PADDED_REQUEST_LEN - 1].to_vec(),
            WireError::Truncated,
        ),
    ];
    for (what, bytes, expected) in cases {
        assert_eq!(Repr::parse_bytes(&bytes), Err(expected), "{what}");
    }
}

#[test]
fn emit_into_a_small_buffer_writes_nothing() {
    for repr in samples() {
        let needed = repr.buffer_len();
        for len in [0, HEADER_LEN - 1, needed - 1] {
            let mut buf = vec![0xaa; len];
            assert_eq!(repr.emit(&mut buf), Err(EmitError::BufferTooSmall { needed }));
            assert!(buf.iter().all(|&b| b == 0xaa), "{:?} wrote into a short buffer", repr.message.message_type());
        }
        let mut roomy = vec![0xaa; needed + 10];
        assert_eq!(repr.emit(&mut roomy), Ok(needed));
        assert_eq!(&roomy[needed..], &[0xaa; 10], "wrote past the message");
    }
}

#[test]
fn the_largest_message_fits_a_datagram() {
    let full: Chain = (1..=MAX_CHAIN as u16).map(node).collect();
    let largest = repr(
        14,
        Message::JoinReply {
            status: JoinStatus::Accepted,
            hops: 255,
            left: full.clone(),
            right: full,
            cookie: 0,
            seq: 0,
        },
    );
    assert_eq!(largest.buffer_len(), HEADER_LEN + 4 + 2 * MAX_CHAIN * LOC + 8 + 4);
    assert_eq!(largest.buffer_len(), 472);
    assert!(largest.buffer_len() <= 3 * PADDED_REQUEST_LEN, "a full JOIN_REPLY never amplifies its JOIN more than 3×");
    assert_eq!(join().buffer_len(), PADDED_REQUEST_LEN);
    let identity = crate::identity::Identity::from_seed([12; 32]);
    let record = crate::registration::Registration::sign(&identity, Id(12), node(12).addr, 1, 7);
    let signed =
        repr(12, Message::Join { joiner: node(12), hops: 1, cookie: 7, proof: Some(IdentityProof::of(&record)) });
    assert_eq!(signed.buffer_len(), HEADER_LEN + LOC + 1 + 8 + 1 + IdentityProof::WIRE_LEN);
    assert_eq!(signed.buffer_len(), 192);
    assert!(largest.buffer_len() <= MAX_DATAGRAM);
    assert_eq!(Repr::parse_bytes(&encode(&largest)), Ok(largest));
}

#[test]
fn an_oversized_store_is_refused_whole() {
    // The most a STORE can hold in memory: 13 entries with 32-byte names.
    let largest = store_of(MAX_STORE_BATCH, STORE_NAME_LEN);
    let needed = STORE_FIXED + MAX_STORE_BATCH * (Id::LEN + 1 + STORE_NAME_LEN + 64);
    assert_eq!(needed, 1585);
    assert_eq!(largest.buffer_len(), needed);
    let mut buf = vec![0xaa; 2048];
    assert_eq!(largest.emit(&mut buf), Err(EmitError::TooLarge { needed }));
    assert!(buf.iter().all(|&b| b == 0xaa), "an oversized STORE wrote into the buffer");
    // Too large wins over too small.
    assert_eq!(largest.emit(&mut [0; 10]), Err(EmitError::TooLarge { needed }));

    // 13 entries without names fit; so do names until the datagram is full.
    let nameless = store_of(MAX_STORE_BATCH, 0);
    assert_eq!(nameless.buffer_len(), STORE_FIXED + MAX_STORE_BATCH * (Id::LEN + 1 + 64));
    assert_eq!(Repr::parse_bytes(&encode(&nameless)), Ok(nameless));
    // 1232 - 116 = 1116 = 9 · 113 + 99: 9 entries with 32-byte names and one with an 18-byte name.
    let mut full = store_of(9, STORE_NAME_LEN);
    let Message::Store { entries, .. } = &mut full.message else { unreachable!() };
    entries.push(file("a-tune-of-18-bytes")).expect("room");
    assert_eq!(full.buffer_len(), MAX_DATAGRAM);
    assert_eq!(Repr::parse_bytes(&encode(&full)), Ok(full.clone()));
    let Message::Store { entries, .. } = &mut full.message else { unreachable!() };
    entries.last_mut().expect("entry").name.push('s').expect("room");
    assert_eq!(full.emit(&mut [0; MAX_DATAGRAM + 1]), Err(EmitError::TooLarge { needed: MAX_DATAGRAM + 1 }));
}

#[test]
fn dht_messages_stay_within_their_bounds() {
    // SEARCH and SEARCH_PAGE are padded like JOIN, so a full SEARCH_REPLY stays within 3× either.
    assert_eq!(search().buffer_len(), PADDED_REQUEST_LEN);
    assert_eq!(search_page().buffer_len(), PADDED_REQUEST_LEN);
    let owners = (1..=MAX_OWNERS_PER_REPLY as u16).map(signed_owner).collect();
    let full = repr(9, Message::SearchReply { key: song(), hops: 255, page: 254, pages: 255, owners });
    assert_eq!(full.buffer_len(), HEADER_LEN + Id::LEN + 4 + MAX_OWNERS_PER_REPLY * (LOC + 64));
    assert_eq!(full.buffer_len(), 460);
    assert!(
        full.buffer_len() <= 3 * PADDED_REQUEST_LEN,
        "a full SEARCH_REPLY never amplifies its request more than 3×"
    );
    assert_eq!(Repr::parse_bytes(&encode(&full)), Ok(full));
    // A full VERIFY and its reply: the reply is never larger than the request.
    let keys: heapless::Vec<Id, MAX_VERIFY_KEYS> = (0..MAX_VERIFY_KEYS as u128).map(Id).collect();
    let verify = repr(9, Message::Verify { owner: Id(12), keys: keys.clone() });
    let reply = repr(12, Message::VerifyReply { keys, mask: u32::MAX });
    assert_eq!(verify.buffer_len(), HEADER_LEN + Id::LEN + 1 + MAX_VERIFY_KEYS * Id::LEN);
    assert_eq!(reply.buffer_len(), verify.buffer_len() - Id::LEN + 4);
    assert_eq!(Repr::parse_bytes(&encode(&verify)), Ok(verify));
    assert_eq!(Repr::parse_bytes(&encode(&reply)), Ok(reply));
    // The mask bit of key i is bit i; every mask parses and re-emits unchanged.
    let mut bytes = encode(&verify_reply());
    let at = bytes.len() - 4;
    bytes[at..].copy_from_slice(&0x8000_0001u32.to_be_bytes());
    let parsed = Repr::parse_bytes(&bytes).expect("any mask parses");
    assert!(matches!(parsed.message, Message::VerifyReply { mask: 0x8000_0001, .. }));
    assert_eq!(encode(&parsed), bytes);
}

#[test]
fn names_are_bytes_of_utf8_up_to_the_bound() {
    for name in ["", "a", "é", "🎵 tune.flac", &"é".repeat(STORE_NAME_LEN / 2), &"n".repeat(STORE_NAME_LEN)] {
        let entry = FileEntry { key: Id(7), name: name.try_into().expect("fits"), signature: Signature([7; 64]) };
        let key = identity_12().public_key();
        let sample = repr(12, Message::Store { owner: node(12), key, hops: 3, entries: [entry].into_iter().collect() });
        let bytes = encode(&sample);
        // The length byte counts bytes, not characters.
        assert_eq!(usize::from(bytes[STORE_FIXED + Id::LEN]), name.len(), "{name:?}");
        assert_eq!(Repr::parse_bytes(&bytes), Ok(sample), "{name:?}");
    }
    // 17 two-byte characters are 34 bytes: over the bound, however few characters.
    let mut bytes = encode(&store_of(1, 0));
    let at = STORE_FIXED + Id::LEN;
    bytes[at] = 34;
    bytes.extend("é".repeat(17).as_bytes());
    assert_eq!(Repr::parse_bytes(&bytes), Err(WireError::CountTooLarge));
    // An overlong encoding and a lone surrogate are not UTF-8.
    for bad in [&[0xc0, 0xaf][..], &[0xed, 0xa0, 0x80]] {
        let mut bytes = encode(&store_of(1, 0));
        bytes[at] = bad.len() as u8;
        bytes.extend(bad);
        assert_eq!(Repr::parse_bytes(&bytes), Err(WireError::InvalidField), "{bad:02x?}");
    }
}

mod conference;
mod display;
mod errors;
mod messenger;
mod packet;
mod properties;
mod transfer;
