//! Identifiers, ring arithmetic and resource locators.
//!
//! Every resource in MMP2P is named by a 128-bit [`Id`]: a user or node by the
//! MD5 of its e-mail address (trimmed, lower-cased), a file by the MD5 of its
//! name's UTF-8 bytes. The key node has ID 0. IDs live on a ring modulo 2¹²⁸;
//! the node responsible for a key is the key's *successor*, the first node at
//! or clockwise after it.

use core::fmt;
use core::net::SocketAddrV6;
use md5::{Digest, Md5};

/// A 128-bit identifier on the MMP2P ring.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Id(pub u128);

impl Id {
    /// The key node's identifier.
    pub const KEY_NODE: Id = Id(0);
    /// Number of bytes of an identifier on the wire.
    pub const LEN: usize = 16;

    /// MD5 of arbitrary bytes, read as a big-endian 128-bit integer.
    pub fn from_md5(bytes: &[u8]) -> Id {
        let digest: [u8; 16] = Md5::digest(bytes).into();
        Id(u128::from_be_bytes(digest))
    }

    /// The ID of a user or node: MD5 of the e-mail address, trimmed and lower-cased.
    ///
    /// Lower-casing is ASCII-only and done incrementally, so no allocation is
    /// needed for addresses of any length.
    pub fn from_email(email: &str) -> Id {
        let mut hasher = Md5::new();
        let mut chunk = [0u8; 64];
        for piece in email.trim().as_bytes().chunks(chunk.len()) {
            let lower = &mut chunk[..piece.len()];
            lower.copy_from_slice(piece);
            lower.make_ascii_lowercase();
            hasher.update(&*lower);
        }
        let digest: [u8; 16] = hasher.finalize().into();
        Id(u128::from_be_bytes(digest))
    }

    /// The key half the ring away (the top bit flipped), where a second copy
    /// of a key's locators is kept: its responsible node is another node,
    /// reached by another route.
    pub const fn mirror(self) -> Id {
        Id(self.0 ^ (1 << 127))
    }

    /// The ID of a file: MD5 of the file name's UTF-8 bytes.
    pub fn from_file_name(name: &str) -> Id {
        Id::from_md5(name.as_bytes())
    }

    /// Big-endian bytes, as on the wire.
    pub fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Reads an ID from its big-endian bytes.
    pub fn from_be_bytes(bytes: [u8; 16]) -> Id {
        Id(u128::from_be_bytes(bytes))
    }

    /// Clockwise distance from `self` to `to`, modulo 2¹²⁸.
    pub fn distance_to(self, to: Id) -> u128 {
        to.0.wrapping_sub(self.0)
    }

    /// Distance between `self` and `to` around the ring the shorter way:
    /// the lesser of the clockwise and the counter-clockwise distance.
    pub fn ring_distance(self, to: Id) -> u128 {
        self.distance_to(to).min(to.distance_to(self))
    }

    /// True if `self` lies in the half-open clockwise interval `(from, to]`.
    ///
    /// When `from == to` the interval is the whole ring: a node that is its own
    /// neighbour is responsible for every key.
    pub fn in_open_closed(self, from: Id, to: Id) -> bool {
        from == to || (from.distance_to(self) != 0 && from.distance_to(self) <= from.distance_to(to))
    }

    /// True if `self` lies in the open clockwise interval `(from, to)`.
    ///
    /// When `from == to` the interval is the whole ring except `from`.
    pub fn in_open(self, from: Id, to: Id) -> bool {
        let d = from.distance_to(self);
        d != 0 && (from == to || d < from.distance_to(to))
    }
}

impl Id {
    /// The ID as transcripts print it: in decimal below 2¹⁶ (the small IDs
    /// of the specification's examples and scenario tests), otherwise as its
    /// 32 hex digits.
    pub fn short(self) -> impl fmt::Display {
        struct Short(Id);
        impl fmt::Display for Short {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.0 .0 < 1 << 16 {
                    write!(f, "{}", self.0 .0)
                } else {
                    write!(f, "{}", self.0)
                }
            }
        }
        Short(self)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 1 << 16 {
            write!(f, "Id({})", self.0)
        } else {
            write!(f, "Id({:032x})", self.0)
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// An error reading an [`Id`] from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseIdError;

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ID is 1 to 32 hexadecimal digits")
    }
}

impl core::error::Error for ParseIdError {}

impl core::str::FromStr for Id {
    type Err = ParseIdError;

    /// Parses 1 to 32 hexadecimal digits, as [`Display`](fmt::Display) prints them.
    fn from_str(s: &str) -> Result<Id, ParseIdError> {
        if s.is_empty() || s.len() > 32 {
            return Err(ParseIdError);
        }
        u128::from_str_radix(s, 16).map(Id).map_err(|_| ParseIdError)
    }
}

/// Where a resource lives: its ID and the IPv6 address and port that serve it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResourceLocator {
    /// The resource's identifier.
    pub id: Id,
    /// The IPv6 socket address serving it.
    pub addr: SocketAddrV6,
}

impl ResourceLocator {
    /// Bytes of a locator on the wire: ID, IPv6 address, port.
    pub const WIRE_LEN: usize = 16 + 16 + 2;

    /// A locator for `id` at `addr`.
    pub const fn new(id: Id, addr: SocketAddrV6) -> ResourceLocator {
        ResourceLocator { id, addr }
    }

    /// True if its address is one a node can send to (see [`usable_address`]).
    pub fn is_usable(&self) -> bool {
        usable_address(&self.addr)
    }
}

/// The rule for addresses MMP2P uses, written once: a unicast IPv6 address —
/// not unspecified, multicast or IPv4-mapped. Locators on the wire that
/// break it are [`WireError::InvalidAddress`](crate::wire::WireError::InvalidAddress);
/// commands given one are refused.
pub fn usable_address(addr: &SocketAddrV6) -> bool {
    let ip = addr.ip();
    !(ip.is_unspecified() || ip.is_multicast() || ip.to_ipv4_mapped().is_some())
}

impl fmt::Debug for ResourceLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.id, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(id: Id) -> [u8; 16] {
        id.to_be_bytes()
    }

    #[test]
    fn md5_matches_rfc1321_vectors() {
        let vectors: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, expected) in vectors {
            let id = Id::from_md5(input.as_bytes());
            assert_eq!(id, expected.parse::<Id>().unwrap(), "MD5({input:?})");
            assert_eq!(Id::from_file_name(input), id);
            assert_eq!(hex(id)[0], u8::from_str_radix(&expected[..2], 16).unwrap());
        }
    }

    #[test]
    fn email_ids_are_trimmed_and_lower_cased() {
        let plain = Id::from_md5(b"alice@example.org");
        assert_eq!(Id::from_email("  Alice@Example.ORG\n"), plain);
        assert_eq!(Id::from_email("alice@example.org"), plain);
        // Longer than one 64-byte chunk.
        let long = "A".repeat(70) + "@x.org";
        assert_eq!(Id::from_email(&long), Id::from_md5(long.to_ascii_lowercase().as_bytes()));
        // File names are taken as they are.
        assert_ne!(Id::from_file_name("Song.mp3"), Id::from_file_name("song.mp3"));
    }

    #[test]
    fn distance_wraps_around() {
        let max = Id(u128::MAX);
        assert_eq!(max.distance_to(Id(0)), 1);
        assert_eq!(Id(0).distance_to(max), u128::MAX);
        assert_eq!(Id(5).distance_to(Id(5)), 0);
        assert_eq!(Id(9).distance_to(Id(3)), u128::MAX - 5);
        // The shorter way round, either direction.
        assert_eq!(Id(9).ring_distance(Id(3)), 6);
        assert_eq!(Id(3).ring_distance(Id(9)), 6);
        assert_eq!(max.ring_distance(Id(1)), 2);
        assert_eq!(Id(0).ring_distance(Id(1 << 127)), 1 << 127);
    }

    #[test]
    fn open_closed_interval_at_the_wrap() {
        let max = Id(u128::MAX);
        // (max-1, 2] contains max, 0, 1, 2 and not max-1 or 3.
        let from = Id(u128::MAX - 1);
        for inside in [max, Id(0), Id(1), Id(2)] {
            assert!(inside.in_open_closed(from, Id(2)), "{inside:?}");
        }
        for outside in [from, Id(3), Id(1 << 64)] {
            assert!(!outside.in_open_closed(from, Id(2)), "{outside:?}");
        }
        // Figure 3: node 14 is responsible for 12 when its left neighbour is 9.
        assert!(Id(12).in_open_closed(Id(9), Id(14)));
        assert!(Id(14).in_open_closed(Id(9), Id(14)));
        assert!(!Id(9).in_open_closed(Id(9), Id(14)));
        // The key node (0) is responsible for keys after the last node.
        assert!(Id(20).in_open_closed(Id(14), Id(0)));
        // A degenerate interval is the whole ring.
        assert!(Id(7).in_open_closed(Id(3), Id(3)));
        assert!(Id(3).in_open_closed(Id(3), Id(3)));
    }

    #[test]
    fn open_interval_at_the_wrap() {
        let from = Id(u128::MAX);
        assert!(Id(0).in_open(from, Id(1)));
        assert!(!Id(1).in_open(from, Id(1)));
        assert!(!from.in_open(from, Id(1)));
        assert!(Id(2).in_open(Id(3), Id(3)));
        assert!(!Id(3).in_open(Id(3), Id(3)));
    }

    #[test]
    fn ids_print_and_parse_as_hex() {
        let id = Id::from_email("bob@example.org");
        assert_eq!(id.to_string().parse::<Id>(), Ok(id));
        assert_eq!("0".parse::<Id>(), Ok(Id::KEY_NODE));
        assert_eq!("".parse::<Id>(), Err(ParseIdError));
        assert_eq!("g".parse::<Id>(), Err(ParseIdError));
        assert_eq!("1".repeat(33).parse::<Id>(), Err(ParseIdError));
    }
}
