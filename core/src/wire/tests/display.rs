//! Every message prints as one line that opens with its type's name.

use super::*;

#[test]
fn every_message_prints_one_line_opening_with_its_name() {
    for sample in samples() {
        let line = sample.to_string();
        assert!(line.starts_with(sample.message.message_type().name()), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

#[test]
fn transcript_lines_name_the_fields() {
    assert_eq!(join().to_string(), "JOIN joiner=12 hops=1");
    assert_eq!(neighbour_update().to_string(), "NEIGHBOUR_UPDATE Right [12, 14]");
    let mut detoured = join();
    detoured.header.flags = 2;
    assert_eq!(detoured.to_string(), "JOIN joiner=12 hops=1 detours=2");
    assert_eq!(repr(14, Message::HopAck).to_string(), "HOP_ACK");
}
