//! The checked [`Packet`] view reads the header fields.

use super::*;

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
