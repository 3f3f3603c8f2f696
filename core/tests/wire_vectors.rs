//! The test vectors of `docs/wire.md` checked against the implementation.
//!
//! Every `### VECTOR NAME` heading of the specification is followed by a
//! ```` ```hex ```` block holding one whole datagram. Each must parse as a
//! message of type `NAME`, re-emit to the identical bytes, and every message
//! type must have exactly one vector.
//!
//! `benches/codec.rs` includes this file as a module to benchmark the same
//! datagrams, so [`spec_vectors`] is the one reader of the vectors.

use mmp2p_core::wire::{Delivery, MessageType, Repr, Traffic, WireError, MAX_DATAGRAM};

/// Path of the normative wire specification.
pub const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wire.md");

/// Hex bytes per line in a vector block.
const BYTES_PER_LINE: usize = 16;

/// One `### VECTOR NAME` section of the specification.
pub struct Vector {
    /// The heading's message type name, as `MessageType::name` spells it.
    pub name: String,
    /// The datagram the hex block holds.
    pub bytes: Vec<u8>,
}

impl Vector {
    /// The vector's datagram parsed; panics, naming the vector, if it does not parse.
    pub fn repr(&self) -> Repr {
        Repr::parse_bytes(&self.bytes).unwrap_or_else(|e| panic!("VECTOR {}: {e}", self.name))
    }
}

/// Every vector of the specification, in document order.
///
/// Panics, naming the vector, if a block is missing or not formatted as the
/// specification says: lowercase two-digit hex, 16 bytes a line.
pub fn spec_vectors() -> Vec<Vector> {
    let text = spec_text();
    let mut lines = text.lines();
    let mut vectors = Vec::new();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("### VECTOR ") else { continue };
        let name = name.trim().to_owned();
        let opened = lines.by_ref().take_while(|l| !l.starts_with('#')).any(|l| l.trim_end() == "```hex");
        assert!(opened, "VECTOR {name}: no ```hex block before the next heading");
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim_end() != "```").collect();
        let mut bytes = Vec::new();
        for (i, row) in block.iter().enumerate() {
            let row: Vec<&str> = row.split_whitespace().collect();
            let last = i + 1 == block.len();
            assert!(
                row.len() == BYTES_PER_LINE || (last && !row.is_empty() && row.len() < BYTES_PER_LINE),
                "VECTOR {name}: line {} holds {} bytes, not {BYTES_PER_LINE}",
                i + 1,
                row.len()
            );
            bytes.extend(row.iter().map(|byte| {
                let lowercase = byte.len() == 2 && byte.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                assert!(lowercase, "VECTOR {name}: {byte:?} is not a lowercase hex byte");
                u8::from_str_radix(byte, 16).expect("checked hex digits")
            }));
        }
        assert!(!bytes.is_empty(), "VECTOR {name}: empty block");
        vectors.push(Vector { name, bytes });
    }
    vectors
}

#[test]
fn vectors_parse_as_their_type_and_reemit_identically() {
    for vector in spec_vectors() {
        let repr = vector.repr();
        assert_eq!(repr.message.message_type().name(), vector.name, "VECTOR {}: wrong type", vector.name);
        let mut out = [0u8; MAX_DATAGRAM];
        let len = repr.emit(&mut out).unwrap_or_else(|e| panic!("VECTOR {}: {e}", vector.name));
        assert_eq!(&out[..len], vector.bytes.as_slice(), "VECTOR {}: re-emitted bytes differ", vector.name);
    }
}

#[test]
fn every_message_type_has_exactly_one_vector() {
    let vectors = spec_vectors();
    for kind in MessageType::ALL {
        let count = vectors.iter().filter(|v| v.name == kind.name()).count();
        assert_eq!(count, 1, "VECTOR {}: {count} vectors", kind.name());
    }
    assert_eq!(vectors.len(), MessageType::ALL.len(), "vectors for unknown message types");
}

#[test]
fn damaged_vectors_are_rejected() {
    for vector in spec_vectors() {
        let bytes = &vector.bytes;
        let short = &bytes[..bytes.len() - 1];
        assert_eq!(Repr::parse_bytes(short), Err(WireError::Truncated), "VECTOR {} less one byte", vector.name);
        let long = [bytes.as_slice(), &[0]].concat();
        let expected = if long.len() > MAX_DATAGRAM { WireError::Oversized } else { WireError::TrailingBytes };
        assert_eq!(Repr::parse_bytes(&long), Err(expected), "VECTOR {} plus one byte", vector.name);
    }
}

/// The specification's text.
fn spec_text() -> String {
    std::fs::read_to_string(SPEC_PATH).unwrap_or_else(|e| panic!("reading {SPEC_PATH}: {e}"))
}

#[test]
fn the_specification_counts_the_message_types_there_are() {
    let text = spec_text().replace('\n', " ");
    let stated = text.split("exactly the ").nth(1).and_then(|rest| rest.split(' ').next()).expect("a stated count");
    assert_eq!(stated.parse::<usize>().ok(), Some(MessageType::COUNT), "docs/wire.md says \"exactly the {stated}\"");
}

#[test]
fn the_message_type_table_matches_the_code() {
    let text = spec_text();
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| !l.starts_with("| Code | Name"))
        .skip(2)
        .take_while(|l| l.starts_with("| 0x"))
        .map(|l| l.split('|').map(|cell| cell.trim().to_owned()).collect())
        .collect();
    assert_eq!(rows.len(), MessageType::COUNT, "one row per message type");
    for (row, kind) in rows.iter().zip(MessageType::ALL) {
        let (code, name, routed, traffic, answer) = (&row[1], &row[2], &row[4], &row[5], &row[6]);
        assert_eq!(*code, format!("0x{:02x}", kind as u8), "{name}: code");
        assert_eq!(name, kind.name(), "row for 0x{:02x}", kind as u8);
        let delivery = if kind.delivery() == Delivery::Routed { "yes" } else { "no" };
        assert_eq!(routed, delivery, "{name}: routed");
        let class = if kind.traffic() == Traffic::Maintenance { "maintenance" } else { "service" };
        assert_eq!(traffic, class, "{name}: traffic");
        let mut named = answer.split(|c: char| !(c.is_ascii_uppercase() || c == '_')).filter(|w| w.len() > 1);
        let final_answer = named.rfind(|w| *w != "HOP_ACK" || kind.delivery() == Delivery::Direct);
        assert_eq!(final_answer, kind.response().map(MessageType::name), "{name}: answered by");
    }
}
