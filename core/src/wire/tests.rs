//! Unit and property tests of the wire format: every parse error from a crafted
//! input, emit's bounds, the [`Packet`] view, and quickcheck round trips.

use super::*;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};
use quickcheck::{Arbitrary, Gen, QuickCheck, Testable};

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

fn chain(nodes: &[u16]) -> Chain {
    nodes.iter().map(|&n| node(n)).collect()
}

fn repr(sender: u16, message: Message) -> Repr {
    Repr { header: Header { flags: 0, hop_limit: 64, txid: 0x0102_0304_0506_0708, sender: node(sender) }, message }
}

/// One message of every type, in [`MessageType::ALL`] order.
fn samples() -> [Repr; 12] {
    [
        repr(12, Message::Ping),
        repr(14, Message::Pong),
        repr(9, Message::Ack),
        repr(14, Message::HopAck),
        join(),
        join_reply(),
        neighbour_update(),
        repr(9, Message::Stabilise),
        repr(14, Message::StabiliseReply { left: chain(&[9, 0]), right: chain(&[0, 9]) }),
        repr(12, Message::Leave { side: Side::Left, chain: chain(&[9, 0]) }),
        repr(9, Message::Lookup { origin: node(9), key: Id(13), hops: 1 }),
        repr(14, Message::LookupReply { key: Id(13), hops: 2 }),
    ]
}

fn join() -> Repr {
    repr(12, Message::Join { joiner: node(12), hops: 1 })
}

fn join_reply() -> Repr {
    repr(14, Message::JoinReply { status: JoinStatus::Accepted, hops: 2, left: chain(&[12, 9]), right: chain(&[9]) })
}

fn neighbour_update() -> Repr {
    repr(14, Message::NeighbourUpdate { side: Side::Right, chain: chain(&[12, 14]) })
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
fn each_parse_error_comes_from_its_crafted_input() {
    let ping = encode(&samples()[0]);
    let join = encode(&join());
    let reply = encode(&join_reply());
    let update = encode(&neighbour_update());
    let reply_left_count = HEADER_LEN + 2;
    let reply_right_count = reply_left_count + 1 + 2 * LOC;
    let update_count = HEADER_LEN + 1;
    let mut cases: Vec<(&str, Vec<u8>, WireError)> = vec![
        ("1233 bytes", [ping.as_slice(), &[0; MAX_DATAGRAM + 1 - HEADER_LEN]].concat(), WireError::Oversized),
        ("empty", vec![], WireError::Truncated),
        ("one byte of magic", b"M".to_vec(), WireError::Truncated),
        ("header less one byte", ping[..HEADER_LEN - 1].to_vec(), WireError::Truncated),
        ("JOIN without hops", join[..join.len() - 1].to_vec(), WireError::Truncated),
        ("chain of 2 holding 1", update[..update.len() - LOC].to_vec(), WireError::Truncated),
        ("short garbage", b"GET / HTTP/1.1".to_vec(), WireError::BadMagic),
        ("magic MX", patched(&ping, 1, b"X"), WireError::BadMagic),
        ("version 0", patched(&ping, VERSION_AT, &[0]), WireError::UnsupportedVersion),
        ("version 2", patched(&ping, VERSION_AT, &[2]), WireError::UnsupportedVersion),
        ("type 0x00", patched(&ping, TYPE_AT, &[0x00]), WireError::UnknownType),
        ("type 0x05", patched(&ping, TYPE_AT, &[0x05]), WireError::UnknownType),
        ("type 0xff", patched(&ping, TYPE_AT, &[0xff]), WireError::UnknownType),
        ("NEIGHBOUR_UPDATE count 7", patched(&update, update_count, &[7]), WireError::CountTooLarge),
        ("JOIN_REPLY left count 7", patched(&reply, reply_left_count, &[7]), WireError::CountTooLarge),
        ("JOIN_REPLY right count 7", patched(&reply, reply_right_count, &[7]), WireError::CountTooLarge),
        ("PING plus one byte", [ping.as_slice(), &[0]].concat(), WireError::TrailingBytes),
        ("NEIGHBOUR_UPDATE plus one byte", [update.as_slice(), &[0]].concat(), WireError::TrailingBytes),
        ("side 2", patched(&update, HEADER_LEN, &[2]), WireError::InvalidField),
        ("join status 3", patched(&reply, HEADER_LEN, &[3]), WireError::InvalidField),
        ("STABILISE padding not zero", patched(&encode(&samples()[7]), JOIN_LEN - 1, &[1]), WireError::InvalidField),
        ("JOIN padding not zero", patched(&join, join.len() - 1, &[1]), WireError::InvalidField),
        (
            "empty NEIGHBOUR_UPDATE chain",
            patched(&update[..update_count + 1], update_count, &[0]),
            WireError::InvalidField,
        ),
    ];
    // A bad address wherever a locator sits: the header's sender and each kind of body locator.
    for ip in bad_addresses() {
        let at_joiner = HEADER_LEN + ADDR_IN_LOCATOR;
        let at_chain = reply_left_count + 1 + LOC + ADDR_IN_LOCATOR;
        for (bytes, at) in [(&ping, SENDER_ADDR_AT), (&join, at_joiner), (&reply, at_chain)] {
            cases.push(("bad address", patched(bytes, at, &ip.octets()), WireError::InvalidAddress));
        }
    }
    for (what, bytes, expected) in cases {
        assert_eq!(Repr::parse_bytes(&bytes), Err(expected), "{what}: {bytes:02x?}");
    }
}

#[test]
fn the_first_failing_check_decides_the_error() {
    let ping = encode(&samples()[0]);
    let join = encode(&join());
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
    let largest =
        repr(14, Message::JoinReply { status: JoinStatus::Accepted, hops: 255, left: full.clone(), right: full });
    assert_eq!(largest.buffer_len(), HEADER_LEN + 4 + 2 * MAX_CHAIN * LOC);
    assert_eq!(largest.buffer_len(), 460);
    assert!(largest.buffer_len() <= 3 * JOIN_LEN, "a full JOIN_REPLY never amplifies its JOIN more than 3×");
    assert_eq!(join().buffer_len(), JOIN_LEN);
    assert!(largest.buffer_len() <= MAX_DATAGRAM);
    assert_eq!(Repr::parse_bytes(&encode(&largest)), Ok(largest));
}

#[test]
fn packet_accessors_read_the_header() {
    let mut sample = join();
    sample.header.flags = 0x80;
    let bytes = encode(&sample);
    let mut packet = Packet::new_checked(bytes.clone()).expect("valid");
    assert_eq!(packet.version(), VERSION);
    assert_eq!(packet.message_type(), MessageType::Join as u8);
    assert_eq!(packet.flags(), 0x80);
    assert_eq!(packet.hop_limit(), 64);
    assert_eq!(packet.txid(), 0x0102_0304_0506_0708);
    assert_eq!(packet.sender_bytes(), &bytes[14..HEADER_LEN]);
    assert_eq!(packet.body(), &bytes[HEADER_LEN..]);
    assert_eq!(Repr::parse(&packet), Ok(sample.clone()));

    packet.set_hop_limit(63);
    assert_eq!(packet.hop_limit(), 63);
    sample.header.hop_limit = 63;
    assert_eq!(Repr::parse(&packet), Ok(sample));
    assert_eq!(packet.into_inner(), patched(&bytes, 5, &[63]));
}

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
/// [`MAX_CHAIN`], unicast addresses, flowinfo and scope id 0.
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

fn any_chain(g: &mut Gen, min: usize) -> Chain {
    let len = min + usize::arbitrary(g) % (MAX_CHAIN + 1 - min);
    (0..len).map(|_| any_locator(g)).collect()
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
            MessageType::Join => Message::Join { joiner: any_locator(g), hops: u8::arbitrary(g) },
            MessageType::JoinReply => Message::JoinReply {
                status: *g
                    .choose(&[JoinStatus::Accepted, JoinStatus::IdInUse, JoinStatus::NotMember])
                    .expect("non-empty"),
                hops: u8::arbitrary(g),
                left: any_chain(g, 0),
                right: any_chain(g, 0),
            },
            MessageType::NeighbourUpdate => Message::NeighbourUpdate {
                side: *g.choose(&[Side::Left, Side::Right]).expect("non-empty"),
                chain: any_chain(g, 1),
            },
            MessageType::Stabilise => Message::Stabilise,
            MessageType::StabiliseReply => Message::StabiliseReply { left: any_chain(g, 0), right: any_chain(g, 0) },
            MessageType::Leave => Message::Leave {
                side: *g.choose(&[Side::Left, Side::Right]).expect("non-empty"),
                chain: any_chain(g, 0),
            },
            MessageType::Lookup => {
                Message::Lookup { origin: any_locator(g), key: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) }
            }
            MessageType::LookupReply => Message::LookupReply { key: Id(u128::arbitrary(g)), hops: u8::arbitrary(g) },
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
