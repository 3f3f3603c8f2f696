//! Offline mail: chat fragments kept, still sealed, for users who are
//! offline — by the node responsible for the recipient's ID (the letter's
//! holder) and, as copies, by the nodes after it.
//!
//! At most [`MAILBOX_CAPACITY`] letters, [`MAIL_PER_RECIPIENT`] for one
//! recipient and [`MAIL_PER_SENDER`] from one sender; each expires
//! [`MAIL_LIFETIME`] after it was first stored (a copy keeps its
//! letter's expiry). A letter whose recipient came back carries the
//! address it is being delivered to.

use crate::capacity::Table;
use crate::id::{Id, ResourceLocator};
use crate::profile::{Apps, WithApps};
use crate::time::Instant;
use crate::wire::ChatFragment;
use core::net::SocketAddrV6;
use core::time::Duration;

/// Letters a node keeps, as holder or copy.
pub const MAILBOX_CAPACITY: usize = 32;
/// Letters for one recipient.
pub const MAIL_PER_RECIPIENT: usize = 16;
/// Letters from one sender.
pub const MAIL_PER_SENDER: usize = 8;
/// How long a letter is kept: 7 days.
pub const MAIL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// One chat fragment waiting for its recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    /// Who it is for.
    pub recipient: Id,
    /// Who sealed it.
    pub sender: ResourceLocator,
    /// The sealed fragment, as the sender would have sent it.
    pub chat: ChatFragment,
    /// When it is dropped, delivered or not.
    pub expires: Instant,
    /// Its recipient is back at this address: it is being delivered.
    pub(crate) delivery: Option<Delivery>,
}

/// A letter's delivery to its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub to: SocketAddrV6,
    pub sends: u8,
    pub next_send: Instant,
}

/// Which letter: recipient, sender, message and fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LetterKey {
    pub recipient: Id,
    pub sender: Id,
    pub seq: u32,
    pub fragment: u8,
}

/// The mailbox is full (overall, for the recipient or from the sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxFull;

/// Letters kept (see the module documentation); none [`WithoutApps`](crate::profile::WithoutApps).
#[derive(Clone, Debug, Default)]
pub struct Mailbox<A: Apps = WithApps> {
    letters: Table<Letter, A::List<MAILBOX_CAPACITY>>,
}

impl Letter {
    /// Which letter this is.
    pub(crate) fn key(&self) -> LetterKey {
        let (recipient, sender, seq, fragment) = (self.recipient, self.sender.id, self.chat.seq, self.chat.fragment);
        LetterKey { recipient, sender, seq, fragment }
    }
}

impl<A: Apps> Mailbox<A> {
    /// Keeps `letter`; true if it is new (a letter already kept is left as it was).
    pub(crate) fn keep(&mut self, letter: Letter) -> Result<bool, MailboxFull> {
        if self.get(letter.key()).is_some() {
            return Ok(false);
        }
        let for_recipient = self.letters.iter().filter(|l| l.recipient == letter.recipient).count();
        let from_sender = self.letters.iter().filter(|l| l.sender.id == letter.sender.id).count();
        if for_recipient >= MAIL_PER_RECIPIENT || from_sender >= MAIL_PER_SENDER {
            return Err(MailboxFull);
        }
        self.letters.push(letter).map(|()| true).map_err(|_| MailboxFull)
    }

    /// The letter `key` names.
    pub(crate) fn get(&self, key: LetterKey) -> Option<&Letter> {
        self.letters.iter().find(|l| l.key() == key)
    }

    /// Drops the letters from `sender` to `recipient` up to message `delivered`; returns how many.
    pub(crate) fn delivered(&mut self, recipient: Id, sender: Id, delivered: u32) -> usize {
        let before = self.letters.len();
        self.letters.retain(|l| !(l.recipient == recipient && l.sender.id == sender && l.chat.seq <= delivered));
        before - self.letters.len()
    }

    /// Letters whose recipients lie in `(from, to]`.
    pub fn in_range(&self, from: Id, to: Id) -> impl Iterator<Item = &Letter> {
        self.letters.iter().filter(move |l| l.recipient.in_open_closed(from, to))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Letter> {
        self.letters.iter_mut()
    }

    /// Every letter kept.
    pub fn iter(&self) -> impl Iterator<Item = &Letter> {
        self.letters.iter()
    }

    /// Drops the letters expired at `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        self.letters.retain(|l| l.expires > now);
    }

    /// When the next letter expires.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.letters.iter().map(|l| l.expires).min()
    }

    /// When the next delivery is due.
    pub(crate) fn next_delivery(&self) -> Option<Instant> {
        self.letters.iter().filter_map(|l| l.delivery.map(|d| d.next_send)).min()
    }

    /// How many letters are kept.
    pub fn len(&self) -> usize {
        self.letters.len()
    }

    /// True if none is.
    pub fn is_empty(&self) -> bool {
        self.letters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn letter(recipient: u128, sender: u128, seq: u32) -> Letter {
        let addr = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4000, 0, 0);
        let chat = ChatFragment {
            epoch: 1,
            seq,
            fragment: 0,
            fragments: 1,
            sealed: heapless::Vec::from_slice(b"x").unwrap(),
            tag: [0; 16],
        };
        let sender = ResourceLocator::new(Id(sender), addr);
        Letter { recipient: Id(recipient), sender, chat, expires: Instant::ZERO + MAIL_LIFETIME, delivery: None }
    }

    #[test]
    fn bounds_hold_per_recipient_per_sender_and_overall() {
        let mut mailbox: Mailbox = Mailbox::default();
        for seq in 1..=MAIL_PER_SENDER as u32 {
            assert_eq!(mailbox.keep(letter(1, 2, seq)), Ok(true));
        }
        assert_eq!(mailbox.keep(letter(1, 2, 1)), Ok(false), "a repeat is kept once");
        assert_eq!(mailbox.keep(letter(1, 2, 99)), Err(MailboxFull), "per sender");
        for seq in 1..=(MAIL_PER_RECIPIENT - MAIL_PER_SENDER) as u32 {
            assert_eq!(mailbox.keep(letter(1, 3, seq)), Ok(true));
        }
        assert_eq!(mailbox.keep(letter(1, 4, 1)), Err(MailboxFull), "per recipient");
        for sender in 10..10 + (MAILBOX_CAPACITY - MAIL_PER_RECIPIENT) as u128 {
            assert_eq!(mailbox.keep(letter(sender, sender, 1)), Ok(true));
        }
        assert_eq!(mailbox.keep(letter(99, 98, 1)), Err(MailboxFull), "overall");
        assert_eq!(mailbox.delivered(Id(1), Id(2), 3), 3);
        assert_eq!(mailbox.in_range(Id(0), Id(1)).count(), MAIL_PER_RECIPIENT - 3);
        mailbox.expire(Instant::ZERO + MAIL_LIFETIME);
        assert!(mailbox.is_empty());
    }
}
