//! Join cookies: a JOIN changes nothing until the joiner has shown that it
//! receives at the address it names (return routability, as QUIC's Retry).
//!
//! The responsible node answers a JOIN without a valid cookie with a
//! JOIN_REPLY `Retry` carrying one, and nothing else: no chain changes, no
//! neighbour updates, and a reply smaller than the JOIN. The joiner sends
//! the JOIN again, straight to the responder, with the cookie. The cookie is
//! stateless: the first 8 bytes of BLAKE3 in keyed mode, under a key only
//! this node knows, of the joiner's ID, address and port and the current
//! [`COOKIE_PERIOD`]; one from the period before is accepted too, so a
//! cookie lives between one and two periods. Nobody can make one for an
//! address whose datagrams they do not receive.

use crate::id::ResourceLocator;
use crate::node::Node;
use crate::profile::Profile;
use core::time::Duration;

/// How long a cookie is made for; it is accepted for one period more.
pub const COOKIE_PERIOD: Duration = Duration::from_secs(30);

impl<P: Profile> Node<P> {
    /// The cookie for `joiner` in the current period.
    pub(crate) fn join_cookie(&self, joiner: &ResourceLocator) -> u64 {
        self.cookie_for(joiner, self.cookie_epoch())
    }

    /// True if `cookie` is ours for `joiner`, made this period or the one before.
    pub(crate) fn cookie_is_valid(&self, joiner: &ResourceLocator, cookie: u64) -> bool {
        let epoch = self.cookie_epoch();
        cookie != 0 && [epoch, epoch.wrapping_sub(1)].into_iter().any(|e| self.cookie_for(joiner, e) == cookie)
    }

    fn cookie_epoch(&self) -> u64 {
        self.now.as_micros() / COOKIE_PERIOD.as_micros() as u64
    }

    fn cookie_for(&self, joiner: &ResourceLocator, epoch: u64) -> u64 {
        let mut mac = blake3::Hasher::new_keyed(&self.ring.cookie_key);
        mac.update(&joiner.id.to_be_bytes());
        mac.update(&joiner.addr.ip().octets());
        mac.update(&joiner.addr.port().to_be_bytes());
        mac.update(&epoch.to_be_bytes());
        let mut cookie = [0u8; 8];
        cookie.copy_from_slice(&mac.finalize().as_bytes()[..8]);
        // 0 means "no cookie" on the wire.
        u64::from_be_bytes(cookie).max(1)
    }
}
