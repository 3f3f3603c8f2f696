//! Why bytes are not a datagram, and why a datagram could not be written.

use super::header::MAX_DATAGRAM;
use core::fmt;

macro_rules! wire_errors {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// Why bytes are not a valid MMP2P datagram.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum WireError {
            $( $(#[$doc])* $variant, )*
        }

        impl WireError {
            /// Every error, in declaration order (for per-reason counters).
            pub const ALL: [WireError; [$($text),*].len()] = [$(WireError::$variant),*];
        }

        impl fmt::Display for WireError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $( WireError::$variant => $text, )*
                })
            }
        }
    };
}

wire_errors! {
    /// The datagram ends before a field it must contain.
    Truncated => "datagram truncated",
    /// The datagram is longer than [`MAX_DATAGRAM`].
    Oversized => "datagram longer than 1232 bytes",
    /// The first two bytes are not [`MAGIC`](super::MAGIC).
    BadMagic => "bad magic bytes",
    /// A version this implementation does not speak.
    UnsupportedVersion => "unsupported protocol version",
    /// A message type this version does not know.
    UnknownType => "unknown message type",
    /// A list count exceeds its bound.
    CountTooLarge => "list count exceeds its bound",
    /// Bytes follow the last field of the message.
    TrailingBytes => "trailing bytes after the message",
    /// A field holds a value the specification does not define.
    InvalidField => "field value not defined by the specification",
    /// A locator's address is unspecified, multicast or IPv4-mapped.
    InvalidAddress => "locator address is not a usable IPv6 unicast address",
}

impl core::error::Error for WireError {}

/// Why a [`Repr`](super::Repr) could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The buffer holds fewer bytes than the message needs.
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
    },
    /// The message would exceed [`MAX_DATAGRAM`] bytes.
    TooLarge {
        /// Bytes the message would need.
        needed: usize,
    },
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            EmitError::TooLarge { needed } => write!(f, "message of {needed} bytes exceeds {MAX_DATAGRAM}"),
        }
    }
}

impl core::error::Error for EmitError {}
