//! Properties of the codec over random input: every single-byte change is
//! rejected or canonical, every message round-trips, arbitrary bytes never
//! panic.

use super::*;
use crate::config::STORE_NAME_LEN;
use crate::identity::{PublicKey, Signature};
use quickcheck::{Arbitrary, Gen, QuickCheck, Testable};

#[test]
fn every_single_byte_change_is_rejected_or_canonical() {
    for repr in samples() {
        let bytes = encode(&repr);
        for at in 0..bytes.len() {
            for value in 0..=u8::MAX {
                let changed = patched(&bytes, at, &[value]);
                assert!(rejected_or_canonical(&changed), "byte {at} set to {value:#04x}: {changed:02x?}");
            }
        }
    }
}

/// Any well-formed message: every type, chains of every length up to
/// [`MAX_CHAIN`], unicast addresses, flowinfo and scope id 0; DHT lists of
/// every length up to their bounds (a STORE only as long as fits a datagram),
/// names of random UTF-8 up to [`STORE_NAME_LEN`] bytes, and SEARCH_REPLY
/// pages with `page < pages`.
#[derive(Clone, Debug)]
struct AnyRepr(Repr);

/// Whether the specification allows `ip` in a locator (written independently of the parser).
fn is_usable(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip != Ipv6Addr::UNSPECIFIED && s[0] >> 8 != 0xff && s[..6] != [0, 0, 0, 0, 0, 0xffff]
}

fn any_locator(g: &mut Gen) -> ResourceLocator {
    let ip = loop {
        let ip = Ipv6Addr::from(u128::arbitrary(g));
        if is_usable(ip) {
            break ip;
        }
    };
    ResourceLocator::new(Id(u128::arbitrary(g)), SocketAddrV6::new(ip, u16::arbitrary(g), 0, 0))
}

fn any_proof(g: &mut Gen) -> IdentityProof {
    IdentityProof {
        key: PublicKey(core::array::from_fn(|_| u8::arbitrary(g))),
        seq: u32::arbitrary(g),
        signature: Signature(core::array::from_fn(|_| u8::arbitrary(g))),
    }
}

fn any_record(g: &mut Gen) -> crate::registration::Registration {
    crate::registration::Registration {
        id: Id(u128::arbitrary(g)),
        key: PublicKey(core::array::from_fn(|_| u8::arbitrary(g))),
        addr: any_locator(g).addr,
        seq: u32::arbitrary(g),
        nonce: u64::arbitrary(g),
        signature: Signature(core::array::from_fn(|_| u8::arbitrary(g))),
    }
}

fn any_chain(g: &mut Gen, min: usize) -> Chain {
    let len = min + usize::arbitrary(g) % (MAX_CHAIN + 1 - min);
    (0..len).map(|_| any_locator(g)).collect()
}

/// Any name a FileEntry may carry: random UTF-8 of at most [`STORE_NAME_LEN`] bytes.
fn any_name(g: &mut Gen) -> heapless::String<STORE_NAME_LEN> {
    let mut name = heapless::String::new();
    for c in String::arbitrary(g).chars() {
        if name.push(c).is_err() {
            break;
        }
    }
    name
}

/// Up to [`MAX_STORE_BATCH`] entries with random names, as many as fit a datagram.
fn any_store(g: &mut Gen, header: &Header) -> Message {
    let mut store = Message::Store {
        owner: any_locator(g),
        key: any_proof(g).key,
        hops: u8::arbitrary(g),
        entries: heapless::Vec::new(),
    };
    let wanted = usize::arbitrary(g) % (MAX_STORE_BATCH + 1);
    for _ in 0..wanted {
        let entry = FileEntry { key: Id(u128::arbitrary(g)), name: any_name(g), signature: any_proof(g).signature };
        let Message::Store { entries, .. } = &mut store else { unreachable!() };
        if entries.push(entry).is_err() {
            break;
        }
        if (Repr { header: *header, message: store.clone() }).buffer_len() > MAX_DATAGRAM {
            let Message::Store { entries, .. } = &mut store else { unreachable!() };
            entries.pop();
            break;
        }
    }
    store
}

fn any_keys(g: &mut Gen) -> heapless::Vec<Id, MAX_VERIFY_KEYS> {
    let count = usize::arbitrary(g) % (MAX_VERIFY_KEYS + 1);
    (0..count).map(|_| Id(u128::arbitrary(g))).collect()
}

impl Arbitrary for AnyRepr {
    fn arbitrary(g: &mut Gen) -> AnyRepr {
        let header = Header {
            flags: u8::arbitrary(g),
            hop_limit: u8::arbitrary(g),
            txid: u64::arbitrary(g),
            sender: any_locator(g),
        };
        let message = match *g.choose(&MessageType::ALL).expect("non-empty") {
            MessageType::Ping => Message::Ping,
            MessageType::Pong => Message::Pong,
            MessageType::Ack => Message::Ack,
            MessageType::HopAck => Message::HopAck,
            MessageType::Join => Message::Join {
                joiner: any_locator(g),
                hops: u8::arbitrary(g),
                cookie: u64::arbitrary(g),
                proof: bool::arbitrary(g).then(|| any_proof(g)),
            },
            MessageType::JoinReply => Message::JoinReply {
                status: *g
                    .choose(&[
                        JoinStatus::Accepted,
                        JoinStatus::IdInUse,
                        JoinStatus::NotMember,
                        JoinStatus::Retry,
                        JoinStatus::IdRegistered,
                    ])
                    .expect("non-empty"),
                hops: u8::arbitrary(g),
                left: any_chain(g, 0),
                right: any_chain(g, 0),
                cookie: u64::arbitrary(g),
                seq: u32::arbitrary(g),
            },
            MessageType::NeighbourUpdate => Message::NeighbourUpdate {
                side: *g.choose(&[Side::Left, Side::Right]).expect("non-empty"),
                chain: any_chain(g, 1),
            },
            MessageType::Stabilise => Message::Stabilise { identify: bool::arbitrary(g) },
            MessageType::StabiliseReply => Message::StabiliseReply {
                left: any_chain(g, 0),
                right: any_chain(g, 0),
                proof: bool::arbitrary(g).then(|| any_proof(g)),
            },
            MessageType::RegistryGet => {
                Message::RegistryGet { origin: any_locator(g), id: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) }
            }
            MessageType::RegistryRecord => Message::RegistryRecord {
                id: Id(u128::arbitrary(g)),
                record: bool::arbitrary(g).then(|| any_record(g)),
            },
            MessageType::Leave => Message::Leave {
                side: *g.choose(&[Side::Left, Side::Right]).expect("non-empty"),
                chain: any_chain(g, 0),
            },
            MessageType::FriendDigest => {
                let count = usize::arbitrary(g) % (MAX_DIGEST_IDS + 1);
                Message::FriendDigest { ids: (0..count).map(|_| Id(u128::arbitrary(g))).collect() }
            }
            MessageType::RegistryCopy => {
                let count = usize::arbitrary(g) % (MAX_REGISTRY_COPY + 1);
                Message::RegistryCopy { records: (0..count).map(|_| any_record(g)).collect() }
            }
            MessageType::Lookup => {
                Message::Lookup { origin: any_locator(g), key: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) }
            }
            MessageType::LookupReply => Message::LookupReply { key: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) },
            MessageType::Store => any_store(g, &header),
            MessageType::Verify => Message::Verify { owner: Id(u128::arbitrary(g)), keys: any_keys(g) },
            MessageType::VerifyReply => Message::VerifyReply { keys: any_keys(g), mask: u32::arbitrary(g) },
            MessageType::Search => {
                Message::Search { origin: any_locator(g), key: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) }
            }
            MessageType::SearchPage => Message::SearchPage { key: Id(u128::arbitrary(g)), page: u8::arbitrary(g) },
            MessageType::SearchReply => {
                let pages = u8::arbitrary(g).max(1);
                let count = usize::arbitrary(g) % (MAX_OWNERS_PER_REPLY + 1);
                Message::SearchReply {
                    key: Id(u128::arbitrary(g)),
                    hops: u8::arbitrary(g),
                    page: u8::arbitrary(g) % pages,
                    pages,
                    owners: (0..count)
                        .map(|_| SignedOwner { owner: any_locator(g), signature: any_proof(g).signature })
                        .collect(),
                }
            }
            MessageType::Replicate => {
                let count = usize::arbitrary(g) % (MAX_REPLICATE_BATCH + 1);
                let entries = (0..count)
                    .map(|_| ReplicaEntry {
                        key: Id(u128::arbitrary(g)),
                        owner: any_locator(g),
                        lifetime_secs: u32::arbitrary(g),
                        name: any_name(g),
                        owner_key: any_proof(g).key,
                        signature: any_proof(g).signature,
                    })
                    .collect();
                Message::Replicate { entries }
            }
            MessageType::ListFiles => Message::ListFiles { page: u8::arbitrary(g) },
            MessageType::FileList => {
                let pages = u8::arbitrary(g).max(1);
                let count = usize::arbitrary(g) % (MAX_NAMES_PER_PAGE + 1);
                let names = (0..count).map(|_| any_name(g).as_str().try_into().unwrap_or_default()).collect();
                Message::FileList { page: u8::arbitrary(g) % pages, pages, names }
            }
            kind => super::messenger::any_messenger(g, kind)
                .or_else(|| super::transfer::any_transfer(g, kind))
                .or_else(|| super::conference::any_conference(g, kind))
                .expect("a messenger, transfer or conference type"),
        };
        AnyRepr(Repr { header, message })
    }
}

/// Runs a property over more cases than quickcheck's default 100.
fn check<P: Testable>(property: P) {
    QuickCheck::new().tests(2_000).quickcheck(property);
}

#[test]
fn every_message_round_trips() {
    fn property(AnyRepr(repr): AnyRepr) -> bool {
        let mut buf = [0u8; MAX_DATAGRAM];
        let len = repr.emit(&mut buf).expect("fits");
        len == repr.buffer_len() && len <= MAX_DATAGRAM && Repr::parse_bytes(&buf[..len]) == Ok(repr)
    }
    check(property as fn(AnyRepr) -> bool);
}

#[test]
fn arbitrary_bytes_never_panic_and_parse_canonically() {
    fn property(bytes: Vec<u8>) -> bool {
        rejected_or_canonical(&bytes)
    }
    check(property as fn(Vec<u8>) -> bool);
}

#[test]
fn damaged_messages_are_rejected_or_canonical() {
    /// Overwrites bytes of a valid datagram, optionally cuts it, then appends `tail`.
    fn property(AnyRepr(repr): AnyRepr, edits: Vec<(u16, u8)>, cut: Option<u16>, tail: Vec<u8>) -> bool {
        let mut bytes = encode(&repr);
        for (at, value) in edits {
            let at = usize::from(at) % bytes.len();
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(usize::from(cut) % (bytes.len() + 1));
        }
        bytes.extend(tail);
        rejected_or_canonical(&bytes)
    }
    check(property as fn(AnyRepr, Vec<(u16, u8)>, Option<u16>, Vec<u8>) -> bool);
}

#[test]
fn a_full_friend_digest_fits_a_datagram() {
    let ids: heapless::Vec<Id, MAX_DIGEST_IDS> = (0..MAX_DIGEST_IDS as u128).map(|i| Id(u128::MAX - i)).collect();
    let repr = repr(12, Message::FriendDigest { ids });
    assert_eq!(repr.buffer_len(), HEADER_LEN + 1 + MAX_DIGEST_IDS * Id::LEN);
    assert!(repr.buffer_len() <= MAX_DATAGRAM);
    assert_eq!(Repr::parse_bytes(&encode(&repr)), Ok(repr));
}
