//! Fuzzes the wire codec: whatever parses must re-emit within the size limit,
//! byte for byte (the encoding is canonical, `docs/wire.md`), and re-parse to
//! the same representation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mmp2p_core::wire::{Packet, Repr, MAX_DATAGRAM};

fuzz_target!(|data: &[u8]| {
    let parsed = Repr::parse_bytes(data);
    // The two-step parse must agree with the one-step one.
    if let Ok(packet) = Packet::new_checked(data) {
        assert_eq!(Repr::parse(&packet), parsed, "Repr::parse and Repr::parse_bytes disagree");
    }
    let Ok(repr) = parsed else {
        return;
    };
    assert!(data.len() <= MAX_DATAGRAM, "accepted a {}-byte datagram", data.len());

    let mut buf = [0u8; MAX_DATAGRAM];
    let len = match repr.emit(&mut buf) {
        Ok(len) => len,
        Err(e) => panic!("a parsed datagram does not emit: {e} ({repr:?})"),
    };
    assert!(len <= MAX_DATAGRAM, "emitted {len} bytes");
    assert_eq!(len, repr.buffer_len(), "emit and buffer_len disagree");
    let again = match Repr::parse_bytes(&buf[..len]) {
        Ok(again) => again,
        Err(e) => panic!("emitted bytes do not parse: {e} ({repr:?})"),
    };
    assert_eq!(again, repr, "parse(emit(parse(x))) != parse(x)");
    // docs/wire.md: "a datagram that parses re-encodes to the identical bytes".
    assert_eq!(&buf[..len], data, "encoding is not canonical");
});
