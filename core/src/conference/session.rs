//! A conference's identifier, and the bound on its name.

use crate::id::Id;
use core::fmt;

/// What BLAKE3 derives session identifiers under.
const SESSION_CONTEXT: &str = "mmp2p conference session v1";
/// Most bytes of one conference chat message.
pub const MAX_CONF_TEXT: usize = 256;
/// Longest conference name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 32;

/// A conference's identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// Bytes on the wire.
    pub const LEN: usize = 16;

    /// The identifier of `creator`'s conference `name` drawn with `nonce`.
    pub fn new(creator: Id, name: &str, nonce: u64) -> SessionId {
        let mut hasher = blake3::Hasher::new_derive_key(SESSION_CONTEXT);
        hasher.update(&creator.to_be_bytes());
        hasher.update(&(name.len() as u64).to_be_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&nonce.to_be_bytes());
        let mut id = [0; 16];
        id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        SessionId(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A text that is not a session identifier: 32 hexadecimal digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseSessionError;

impl fmt::Display for ParseSessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conference's session is 32 hexadecimal digits")
    }
}

impl core::str::FromStr for SessionId {
    type Err = ParseSessionError;

    /// Parses the 32 hexadecimal digits [`Display`](fmt::Display) prints.
    ///
    /// ```
    /// use mmp2p_core::conference::SessionId;
    /// use mmp2p_core::Id;
    ///
    /// let session = SessionId::new(Id(7), "weekly", 1);
    /// assert_eq!(session.to_string().parse(), Ok(session));
    /// assert!("12ab".parse::<SessionId>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<SessionId, ParseSessionError> {
        if s.len() != 2 * SessionId::LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseSessionError);
        }
        let value = u128::from_str_radix(s, 16).map_err(|_| ParseSessionError)?;
        Ok(SessionId(value.to_be_bytes()))
    }
}
