//! A whole datagram as a typed value: parse, emit, and one line of text.

use super::cursor::{Reader, Writer};
use super::error::{EmitError, WireError};
use super::header::{Header, DETOUR_BITS, HEADER_LEN, MAGIC, MAX_DATAGRAM, VERSION};
use super::message::Message;
use super::packet::Packet;
use super::types::MessageType;
use core::fmt;

/// A whole datagram: header and message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Repr {
    /// The common header.
    pub header: Header,
    /// The message body.
    pub message: Message,
}

impl Repr {
    /// Parses a checked packet view into its typed representation.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, WireError> {
        let kind = MessageType::from_u8(packet.message_type()).ok_or(WireError::UnknownType)?;
        let mut header = Reader::new(packet.sender_bytes());
        let sender = header.locator()?;
        let mut body = Reader::new(packet.body());
        let message = Message::parse(kind, &mut body)?;
        body.finish()?;
        let header = Header { flags: packet.flags(), hop_limit: packet.hop_limit(), txid: packet.txid(), sender };
        Ok(Repr { header, message })
    }

    /// Checks and parses raw datagram bytes in one step.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Repr, WireError> {
        Repr::parse(&Packet::new_checked(bytes)?)
    }

    /// Bytes [`emit`](Repr::emit) writes for this message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.message.body_len()
    }

    /// Writes the datagram into the front of `buf` and returns its length.
    ///
    /// Never writes more than [`MAX_DATAGRAM`] bytes; a message that would
    /// need more, or a buffer too small for it, is a typed error and nothing
    /// is written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let needed = self.buffer_len();
        if needed > MAX_DATAGRAM {
            return Err(EmitError::TooLarge { needed });
        }
        let out = buf.get_mut(..needed).ok_or(EmitError::BufferTooSmall { needed })?;
        let mut w = Writer::new(out);
        w.put(&MAGIC);
        w.u8(VERSION);
        w.u8(self.message.message_type() as u8);
        w.u8(self.header.flags);
        w.u8(self.header.hop_limit);
        w.u64(self.header.txid);
        w.locator(&self.header.sender);
        self.message.emit(&mut w);
        debug_assert_eq!(w.len(), needed);
        Ok(needed)
    }
}

/// The message as one line, as transcripts print it after the route
/// (`JOIN joiner=12 hops=2 detours=1`): the message, then the detour count
/// a routed message's flags carry, if any.
impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        match self.header.flags & DETOUR_BITS {
            0 => Ok(()),
            n => write!(f, " detours={n}"),
        }
    }
}
