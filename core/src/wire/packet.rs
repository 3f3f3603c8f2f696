//! A checked, zero-copy view over the bytes of one datagram.

use super::error::WireError;
use super::header::{HEADER_LEN, MAGIC, MAX_DATAGRAM, VERSION};
use core::ops::Range;

mod field {
    use core::ops::Range;
    pub const MAGIC: Range<usize> = 0..2;
    pub const VERSION: usize = 2;
    pub const TYPE: usize = 3;
    pub const FLAGS: usize = 4;
    pub const HOP_LIMIT: usize = 5;
    pub const TXID: Range<usize> = 6..14;
    pub const SENDER: Range<usize> = 14..48;
}

/// A view over datagram bytes whose header fields can be read without panics.
///
/// [`Packet::new_checked`] verifies the length, magic and version once; after
/// that every accessor is infallible. The body is not interpreted here; see
/// [`Repr::parse`](super::Repr::parse).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking length, magic and version.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let bytes = buffer.as_ref();
        if bytes.len() > MAX_DATAGRAM {
            return Err(WireError::Oversized);
        }
        if bytes.len() < HEADER_LEN {
            // Say "bad magic" for short garbage that is not even ours.
            return Err(match bytes.get(field::MAGIC) {
                Some(m) if m != MAGIC => WireError::BadMagic,
                _ => WireError::Truncated,
            });
        }
        if bytes[field::MAGIC] != MAGIC {
            return Err(WireError::BadMagic);
        }
        if bytes[field::VERSION] != VERSION {
            return Err(WireError::UnsupportedVersion);
        }
        Ok(Packet { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn array<const N: usize>(&self, range: Range<usize>) -> [u8; N] {
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes()[range]);
        out
    }

    /// The protocol version byte.
    pub fn version(&self) -> u8 {
        self.bytes()[field::VERSION]
    }

    /// The raw message type byte (may be unknown to this version).
    pub fn message_type(&self) -> u8 {
        self.bytes()[field::TYPE]
    }

    /// The flags byte.
    pub fn flags(&self) -> u8 {
        self.bytes()[field::FLAGS]
    }

    /// Hops the message may still take.
    pub fn hop_limit(&self) -> u8 {
        self.bytes()[field::HOP_LIMIT]
    }

    /// The transaction id.
    pub fn txid(&self) -> u64 {
        u64::from_be_bytes(self.array(field::TXID))
    }

    /// The raw sender locator (ID, address, port).
    pub fn sender_bytes(&self) -> &[u8] {
        &self.bytes()[field::SENDER]
    }

    /// Everything after the header.
    pub fn body(&self) -> &[u8] {
        &self.bytes()[HEADER_LEN..]
    }

    /// Gives back the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Overwrites the hop limit in place.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }
}
