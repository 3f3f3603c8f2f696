//! Contacts: the friends a user befriended through a friend request, each
//! with the identity key the friendship was made with, the conversation
//! key agreed from it, where each direction of the conversation stands,
//! and the friend's presence. (A friend added by address only, as a
//! routing shortcut, is in [`Friends`](crate::tables::friends::Friends)
//! alone; every contact is also there, for liveness and routing.)

use crate::capacity::Table;
use crate::conversation::ConversationKey;
use crate::id::Id;
use crate::identity::PublicKey;
use crate::profile::{Apps, WithApps};
use crate::time::Instant;
use crate::wire::{Status, MAX_STATUS_TEXT};
use core::time::Duration;

/// How many contacts a node keeps.
pub const MAX_CONTACTS: usize = 64;
/// The retransmission timeout before any round trip was measured (RFC 6298's 1 s).
pub const INITIAL_RTO: Duration = Duration::from_secs(1);
/// The shortest retransmission timeout. Lower than RFC 6298's 1 s and
/// TCP's usual 200 ms, as QUIC's probe timeout is (RFC 9002 has no floor
/// but its 1 ms granularity): the receiver acknowledges at once, a
/// spurious retransmission of a chat fragment costs one small datagram and
/// is delivered once all the same, and a lost message should not wait
/// longer than a round trip or so.
pub const MIN_RTO: Duration = Duration::from_millis(50);

/// A friend's presence as last heard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FriendPresence {
    /// Its state (`Offline` until heard, and once its probes fail).
    pub status: Status,
    /// Its status text.
    pub text: heapless::String<MAX_STATUS_TEXT>,
    /// The version of the newest presence heard (0: none).
    pub version: u64,
}

/// A befriended user.
#[derive(Clone, Debug)]
pub struct Contact {
    /// The friend's ID.
    pub id: Id,
    /// The identity key the friendship was made with.
    pub key: PublicKey,
    /// The nonce of the friend request that began the friendship.
    pub since: u64,
    /// The friend's presence.
    pub presence: FriendPresence,
    /// The number our next message to the friend gets.
    pub next_seq: u32,
    /// The friend has delivered every message of ours up to this number.
    pub receipted: u32,
    /// We delivered every message of the friend's up to this number.
    pub delivered: u32,
    pub(crate) conversation: ConversationKey,
    /// Part of every chat nonce we seal for this friend: drawn afresh
    /// whenever the contact is made or restored, so a message number sealed
    /// again after a restart never reuses a nonce.
    pub(crate) epoch: u64,
    pub(crate) rtt: RttEstimate,
    /// Fragments the friend last said we may have outstanding.
    pub(crate) peer_room: u8,
    /// The room we last told the friend it has.
    pub(crate) advertised_room: u8,
    /// The version of our presence the friend acknowledged.
    pub(crate) presence_acked: u64,
    /// When to push our presence to the friend (`None`: a push is out, or none is needed).
    pub(crate) presence_retry: Option<Instant>,
    /// When to try again to mail our messages to the friend while it is offline.
    pub(crate) mail_retry: Option<Instant>,
}

/// A contact as the program stores it between runs: enough to restore
/// the friendship and where each direction of the conversation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ContactRecord {
    /// The friend's ID.
    pub id: Id,
    /// The identity key the friendship was made with.
    pub key: PublicKey,
    /// The nonce of the friend request that began the friendship.
    pub since: u64,
    /// The number our next message gets.
    pub next_seq: u32,
    /// The friend delivered every message of ours up to this number.
    pub receipted: u32,
    /// We delivered every message of the friend's up to this number.
    pub delivered: u32,
}

impl Contact {
    /// What the program stores of this contact.
    pub fn record(&self) -> ContactRecord {
        let Contact { id, key, since, next_seq, receipted, delivered, .. } = *self;
        ContactRecord { id, key, since, next_seq, receipted, delivered }
    }
}

/// A smoothed round-trip time and its variation (RFC 6298), in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RttEstimate {
    smoothed: u32,
    variation: u32,
}

impl RttEstimate {
    /// Takes in one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        let rtt = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX).max(1);
        if self.smoothed == 0 {
            self.smoothed = rtt;
            self.variation = rtt / 2;
        } else {
            self.variation = (3 * (self.variation / 4)).saturating_add(self.smoothed.abs_diff(rtt) / 4);
            self.smoothed = (7 * (self.smoothed / 8)).saturating_add(rtt / 8);
        }
    }

    /// The retransmission timeout: smoothed + 4 × variation, at least [`MIN_RTO`].
    pub fn timeout(&self) -> Duration {
        if self.smoothed == 0 {
            return INITIAL_RTO;
        }
        let micros = u64::from(self.smoothed) + 4 * u64::from(self.variation);
        Duration::from_micros(micros).max(MIN_RTO)
    }
}

/// Up to [`MAX_CONTACTS`] contacts (none [`WithoutApps`](crate::profile::WithoutApps)), one per ID.
#[derive(Clone, Debug, Default)]
pub struct Contacts<A: Apps = WithApps> {
    entries: Table<Contact, A::List<MAX_CONTACTS>>,
}

/// The contacts table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContactsFull;

impl<A: Apps> Contacts<A> {
    /// Adds `contact`, replacing one with its ID.
    pub(crate) fn insert(&mut self, contact: Contact) -> Result<(), ContactsFull> {
        self.remove(contact.id);
        self.entries.push(contact).map_err(|_| ContactsFull)
    }

    /// Removes the contact with `id`; true if there was one.
    pub(crate) fn remove(&mut self, id: Id) -> bool {
        let before = self.entries.len();
        self.entries.retain(|c| c.id != id);
        self.entries.len() != before
    }

    /// The contact with `id`.
    pub fn get(&self, id: Id) -> Option<&Contact> {
        self.entries.iter().find(|c| c.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: Id) -> Option<&mut Contact> {
        self.entries.iter_mut().find(|c| c.id == id)
    }

    /// Every contact, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Contact> {
        self.entries.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Contact> {
        self.entries.iter_mut()
    }

    /// How many contacts there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_follows_the_round_trips_within_its_floor() {
        let mut rtt = RttEstimate::default();
        assert_eq!(rtt.timeout(), INITIAL_RTO);
        rtt.sample(Duration::from_millis(100));
        assert_eq!(rtt.timeout(), Duration::from_millis(300));
        for _ in 0..50 {
            rtt.sample(Duration::from_millis(10));
        }
        assert_eq!(rtt.timeout(), MIN_RTO);
    }
}
