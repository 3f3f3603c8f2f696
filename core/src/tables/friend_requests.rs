//! Friend requests: those received and waiting for the user's answer,
//! those sent and waiting for the other user's, the blocked senders, and
//! the rate limits that keep a flood of requests from costing more than a
//! few signature checks a second.
//!
//! - Received requests: at most [`MAX_INCOMING_REQUESTS`]. A repeat from
//!   the same sender is merged into its entry. When full, a new request
//!   takes the place of the oldest one whose sender's registration is not
//!   yet confirmed, else of the oldest one.
//! - Before any signature is checked, a request must pass two limits: one
//!   per sender ID (one every [`SENDER_INTERVAL`], over the last
//!   [`RECENT_SENDERS`] senders) and one for all (a bucket of
//!   [`REQUEST_BURST`] refilled one every [`REQUEST_REFILL`]).
//! - Sent requests: at most [`MAX_OUTGOING_REQUESTS`], each sent again
//!   with a backoff doubling from 1 s to [`MAX_REQUEST_BACKOFF`] until it
//!   is answered or cancelled.
//! - Blocked senders: at most [`MAX_BLOCKED`] IDs, whose requests,
//!   presence and chat are dropped silently (and counted).

use crate::capacity::Table;
use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::profile::{Apps, WithApps};
use crate::tables::rate::{Limit, TokenBucket};
use crate::time::Instant;
use crate::wire::MAX_REQUEST_TEXT;
use core::time::Duration;

/// Received requests kept until answered.
pub const MAX_INCOMING_REQUESTS: usize = 32;
/// Sent requests kept until answered.
pub const MAX_OUTGOING_REQUESTS: usize = 16;
/// Blocked IDs.
pub const MAX_BLOCKED: usize = 64;
/// Requests from one sender ID: at most one per this interval.
pub const SENDER_INTERVAL: Duration = Duration::from_secs(10);
/// Senders remembered for the per-sender limit.
pub const RECENT_SENDERS: usize = 32;
/// Requests checked in a burst, from all senders together.
pub const REQUEST_BURST: u32 = 8;
/// One more request may be checked every this long.
pub const REQUEST_REFILL: Duration = Duration::from_secs(1);
/// The longest wait between two sends of an unanswered request.
pub const MAX_REQUEST_BACKOFF: Duration = Duration::from_secs(60);
/// The wait before the first repeat of a request.
pub const FIRST_REQUEST_BACKOFF: Duration = Duration::from_secs(1);

/// A request received and waiting for the user's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingRequest {
    /// Who asks, at the address it asked from.
    pub from: ResourceLocator,
    /// The key it signed with.
    pub key: PublicKey,
    /// The request's nonce (the answer echoes it).
    pub nonce: u64,
    /// Its note.
    pub text: heapless::String<MAX_REQUEST_TEXT>,
    /// When it (or its latest repeat) arrived.
    pub received: Instant,
    /// The sender's registration confirmed the key and address: the user has been told.
    pub verified: bool,
}

/// A request sent and waiting for the other user's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The ID asked.
    pub to: Id,
    /// The request's nonce.
    pub nonce: u64,
    /// Its note.
    pub text: heapless::String<MAX_REQUEST_TEXT>,
    /// Sends so far.
    pub sends: u32,
    pub(crate) next_send: Instant,
    pub(crate) backoff: Duration,
}

/// The request tables and limits (see the module documentation); none
/// [`WithoutApps`](crate::profile::WithoutApps).
#[derive(Clone, Debug, Default)]
pub struct FriendRequests<A: Apps = WithApps> {
    incoming: Table<IncomingRequest, A::List<MAX_INCOMING_REQUESTS>>,
    outgoing: Table<OutgoingRequest, A::List<MAX_OUTGOING_REQUESTS>>,
    blocked: Table<Id, A::List<MAX_BLOCKED>>,
    recent: Table<(Id, Instant), A::List<RECENT_SENDERS>>,
    /// Requests checked from all senders together.
    bucket: TokenBucket,
}

/// Why a request was not taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its sender is blocked.
    Blocked,
    /// Over a rate limit.
    RateLimited,
}

impl<A: Apps> FriendRequests<A> {
    /// Received requests, oldest first.
    pub fn incoming(&self) -> &[IncomingRequest] {
        &self.incoming
    }

    /// Sent requests not yet answered.
    pub fn outgoing(&self) -> &[OutgoingRequest] {
        &self.outgoing
    }

    /// Blocked IDs.
    pub fn blocked(&self) -> &[Id] {
        &self.blocked
    }

    /// True if `id` is blocked.
    pub fn is_blocked(&self, id: Id) -> bool {
        self.blocked.contains(&id)
    }

    /// Decides whether a request from `from` may be checked at `now`,
    /// spending from both limits if so.
    pub(crate) fn admit(&mut self, from: Id, now: Instant) -> Result<(), Refusal> {
        if self.is_blocked(from) {
            return Err(Refusal::Blocked);
        }
        let earlier = self.recent.iter().position(|(id, _)| *id == from);
        if earlier.is_some_and(|i| now < self.recent[i].1 + SENDER_INTERVAL) {
            return Err(Refusal::RateLimited);
        }
        if !self.bucket.take(now, Limit { burst: REQUEST_BURST, refill: REQUEST_REFILL }) {
            return Err(Refusal::RateLimited);
        }
        match earlier {
            Some(i) => self.recent[i].1 = now,
            None => {
                if self.recent.is_full() {
                    // No room to remember any sender: no request can be rate-limited, so none is taken.
                    let Some(oldest) = (0..self.recent.len()).min_by_key(|&i| self.recent[i].1) else {
                        return Err(Refusal::RateLimited);
                    };
                    self.recent.swap_remove(oldest);
                }
                // Cannot fail: a slot was freed above if needed.
                let _ = self.recent.push((from, now));
            }
        }
        Ok(())
    }

    /// Takes in a checked request: merged into its sender's entry (true if
    /// that entry is already verified), or added in the place of another
    /// if the table is full.
    pub(crate) fn receive(&mut self, request: IncomingRequest) -> bool {
        if let Some(known) = self.incoming.iter_mut().find(|r| r.from.id == request.from.id) {
            let verified = known.verified && known.key == request.key && known.from == request.from;
            *known = IncomingRequest { verified, ..request };
            return verified;
        }
        if self.incoming.is_full() {
            let oldest = |verified: bool| {
                (0..self.incoming.len())
                    .filter(|&i| self.incoming[i].verified == verified)
                    .min_by_key(|&i| self.incoming[i].received)
            };
            if let Some(index) = oldest(false).or_else(|| oldest(true)) {
                self.incoming.remove(index);
            }
        }
        // Cannot fail: a place was freed above if needed.
        let _ = self.incoming.push(request);
        false
    }

    /// The received request from `id`.
    pub(crate) fn incoming_from(&mut self, id: Id) -> Option<&mut IncomingRequest> {
        self.incoming.iter_mut().find(|r| r.from.id == id)
    }

    /// Removes the received request from `id`.
    pub(crate) fn take_incoming(&mut self, id: Id) -> Option<IncomingRequest> {
        let index = self.incoming.iter().position(|r| r.from.id == id)?;
        Some(self.incoming.remove(index))
    }

    /// Adds a request to send to `to` from `now` on; false if the table is full.
    pub(crate) fn send_to(
        &mut self,
        to: Id,
        nonce: u64,
        text: heapless::String<MAX_REQUEST_TEXT>,
        now: Instant,
    ) -> bool {
        self.outgoing.retain(|r| r.to != to);
        let request = OutgoingRequest { to, nonce, text, sends: 0, next_send: now, backoff: FIRST_REQUEST_BACKOFF };
        self.outgoing.push(request).is_ok()
    }

    /// The sent request to `to`.
    pub(crate) fn outgoing_to(&self, to: Id) -> Option<&OutgoingRequest> {
        self.outgoing.iter().find(|r| r.to == to)
    }

    /// Removes the sent request to `to`.
    pub(crate) fn take_outgoing(&mut self, to: Id) -> Option<OutgoingRequest> {
        let index = self.outgoing.iter().position(|r| r.to == to)?;
        Some(self.outgoing.remove(index))
    }

    /// When the next sent request is due again.
    pub(crate) fn next_send(&self) -> Option<Instant> {
        self.outgoing.iter().map(|r| r.next_send).min()
    }

    /// The sent requests due at `now`, each scheduled for its next send.
    pub(crate) fn due(&mut self, now: Instant) -> heapless::Vec<Id, MAX_OUTGOING_REQUESTS> {
        let mut due = heapless::Vec::new();
        for request in self.outgoing.iter_mut().filter(|r| r.next_send <= now) {
            request.sends = request.sends.saturating_add(1);
            request.next_send = now + request.backoff;
            request.backoff = request.backoff.saturating_mul(2).min(MAX_REQUEST_BACKOFF);
            // Cannot fail: as many places as sent requests.
            let _ = due.push(request.to);
        }
        due
    }

    /// Blocks `id`; false if the list is full.
    pub(crate) fn block(&mut self, id: Id) -> bool {
        self.incoming.retain(|r| r.from.id != id);
        self.is_blocked(id) || self.blocked.push(id).is_ok()
    }

    /// Unblocks `id`; true if it was blocked.
    pub(crate) fn unblock(&mut self, id: Id) -> bool {
        let before = self.blocked.len();
        self.blocked.retain(|b| *b != id);
        self.blocked.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv6Addr, SocketAddrV6};

    fn request(id: u128, at: u64) -> IncomingRequest {
        let from = ResourceLocator::new(Id(id), SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0));
        let received = Instant::from_micros(at);
        IncomingRequest { from, key: PublicKey([1; 32]), nonce: 7, text: Default::default(), received, verified: false }
    }

    #[test]
    fn limits_hold_per_sender_and_for_all() {
        let mut requests: FriendRequests = FriendRequests::default();
        let t0 = Instant::ZERO;
        assert_eq!(requests.admit(Id(1), t0), Ok(()));
        assert_eq!(requests.admit(Id(1), t0 + Duration::from_secs(9)), Err(Refusal::RateLimited));
        for id in 2..=REQUEST_BURST as u128 {
            assert_eq!(requests.admit(Id(id), t0), Ok(()));
        }
        assert_eq!(requests.admit(Id(100), t0), Err(Refusal::RateLimited), "the bucket is empty");
        assert_eq!(requests.admit(Id(100), t0 + REQUEST_REFILL), Ok(()), "one more each refill");
        assert_eq!(requests.admit(Id(101), t0 + REQUEST_REFILL), Err(Refusal::RateLimited));
        assert!(requests.block(Id(5)));
        assert_eq!(requests.admit(Id(5), t0 + Duration::from_secs(100)), Err(Refusal::Blocked));
    }

    #[test]
    fn repeats_merge_and_a_full_table_gives_way_to_the_unverified_first() {
        let mut requests: FriendRequests = FriendRequests::default();
        requests.receive(IncomingRequest { verified: true, ..request(1, 0) });
        for id in 2..=MAX_INCOMING_REQUESTS as u128 {
            requests.receive(request(id, id as u64));
        }
        assert!(requests.receive(request(1, 99)), "a repeat keeps its verification");
        assert_eq!(requests.incoming().len(), MAX_INCOMING_REQUESTS);
        requests.receive(request(1000, 100));
        assert_eq!(requests.incoming().len(), MAX_INCOMING_REQUESTS);
        assert!(requests.incoming().iter().any(|r| r.from.id == Id(1)), "the verified one stays");
        assert!(!requests.incoming().iter().any(|r| r.from.id == Id(2)), "the oldest unverified gave way");
    }

    #[test]
    fn sent_requests_back_off_to_a_minute() {
        let mut requests: FriendRequests = FriendRequests::default();
        assert!(requests.send_to(Id(9), 1, Default::default(), Instant::ZERO));
        let mut now = Instant::ZERO;
        let mut gaps = [Duration::ZERO; 9];
        for gap in gaps.iter_mut() {
            assert_eq!(requests.due(now).as_slice(), &[Id(9)]);
            let next = requests.next_send().unwrap();
            *gap = next.saturating_duration_since(now);
            now = next;
        }
        assert_eq!(gaps[0], FIRST_REQUEST_BACKOFF);
        assert_eq!(gaps[8], MAX_REQUEST_BACKOFF);
        assert!(requests.take_outgoing(Id(9)).is_some());
        assert_eq!(requests.next_send(), None);
    }
}
