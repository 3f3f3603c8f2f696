//! Conference transfers a node sends or receives: which pieces it has,
//! the leaves it is assembling and the proofs it keeps to check them, the
//! neighbour the transfer comes from, and — for a stream — where playback
//! stands.
//!
//! A transfer's pieces are numbered in sending order: per block of
//! [`BLOCK_LEAVES`] leaves, its proof, then each chunk of each leaf
//! ([`piece_number`], [`piece_at`]). A receiver tracks a window of
//! [`WINDOW`] leaves from the first it lacks (`base`); everything below
//! `base` it has (or, in a stream, is past playing).
//!
//! Bounded: [`MAX_CONF_TRANSFERS`] transfers, [`ASSEMBLING`] leaves being
//! assembled and [`PROOF_SLOTS`] proofs each.

use crate::capacity::Table;
use crate::conference::SessionId;
use crate::content::{BlockValues, ContentId, Hash, LeafCheck, Siblings, BLOCK_LEAVES, LEAF_LEN};
use crate::event::RequestId;
use crate::profile::{Apps, WithApps};
use crate::time::Instant;
use crate::wire::Announcement;
use core::net::SocketAddrV6;
use core::time::Duration;

mod asked;
mod pieces;

pub use asked::Asked;
pub use pieces::{piece_at, piece_count, piece_number, Piece};

/// Transfers a node takes part in at once.
pub const MAX_CONF_TRANSFERS: usize = 2;
/// Leaves a receiver tracks from the first it lacks.
pub const WINDOW: u32 = 64;
/// Leaves being assembled at once, per transfer.
pub const ASSEMBLING: usize = 32;
/// Block proofs kept per transfer: the window's blocks, and four before
/// them for neighbours that lag behind.
pub const PROOF_SLOTS: usize = (WINDOW / BLOCK_LEAVES) as usize + 4;
/// The most leaves a conference sends: 2²² (64 GiB), so its proofs fit a datagram.
pub const MAX_CONF_LEAVES: u32 = 1 << 22;
/// How long a stream's first leaf waits before it plays: the playout buffer.
pub const PLAYOUT_BUFFER: Duration = Duration::from_millis(750);
/// How long a finished transfer stays, to answer its neighbours' pulls.
pub const LINGER: Duration = Duration::from_secs(30);

/// A stream's playback: when its first leaf played, and the next to play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Playout {
    /// The first leaf played.
    pub first: u32,
    /// When it played.
    pub start: Instant,
    /// The next leaf to play.
    pub next: u32,
    /// Leaves there by their time.
    pub played: u32,
    /// Leaves missing at their time (skipped).
    pub missed: u32,
}

impl Playout {
    /// When leaf `leaf` plays, at `rate` bytes a second.
    pub fn deadline(&self, leaf: u32, rate: u32) -> Instant {
        let micros = u64::from(leaf.saturating_sub(self.first)) * LEAF_LEN as u64 * 1_000_000 / u64::from(rate.max(1));
        self.start + Duration::from_micros(micros)
    }
}

/// One transfer this node sends or receives.
#[derive(Clone, Debug)]
pub struct ConfTransfer {
    /// The conference.
    pub session: SessionId,
    /// The transfer's number.
    pub transfer: u64,
    /// The sender's signed announcement.
    pub announcement: Announcement,
    /// The id its file writes and events carry.
    pub request: RequestId,
    /// We send it.
    pub source: bool,
    /// When we began sending it, or first heard of it.
    pub started: Instant,
    /// The sender's next piece to send (ours, or the highest we heard plus one).
    pub front: u32,
    /// When `front` last moved.
    pub front_at: Instant,
    /// The sender's next tree neighbour to send the current piece to.
    pub next_to: u8,
    /// When the sender's next piece is due.
    pub send_at: Instant,
    /// The sender's pieces due by this instant are released: the timer
    /// that saw them due handed them to the next drain, which sends them.
    pub released: Option<Instant>,
    /// The first leaf we lack (all below it we have, or have played past).
    pub base: u32,
    /// Chunks received of each leaf from `base`.
    pub have: [u16; WINDOW as usize],
    /// Leaves from `base` whose value checked.
    pub verified: u64,
    /// Leaves being assembled.
    pub assembling: heapless::Vec<LeafCheck, ASSEMBLING>,
    /// Proofs kept: block, leaf values, siblings.
    pub proofs: heapless::Deque<(u32, BlockValues, Siblings), PROOF_SLOTS>,
    /// The tree neighbour the transfer came from last.
    pub upstream: Option<SocketAddrV6>,
    /// When to ask for missing pieces.
    pub pull_at: Option<Instant>,
    /// The piece number the last pull looked up to.
    pub pull_until: u32,
    /// Chunks of the window asked for lately (on their way: not asked again yet).
    pub asked: Asked<{ WINDOW as usize }>,
    /// Leaves that did not check.
    pub bad_leaves: u32,
    /// When it finished (sent, received, or played to its end).
    pub finished: Option<Instant>,
    /// A stream's playback, once its first leaf is in.
    pub playout: Option<Playout>,
    /// Leaves of a stream skipped unplayed lately: below `base`, yet not had.
    pub skipped: heapless::Deque<u32, 16>,
    /// Proofs a neighbour asked us for that we no longer keep: we ask for
    /// them ourselves, to send them on.
    pub wanted_proofs: heapless::Vec<u32, 4>,
}

impl ConfTransfer {
    /// A transfer as its sender or a receiver starts it.
    pub fn new(
        (session, transfer): (SessionId, u64),
        announcement: Announcement,
        request: RequestId,
        source: bool,
        now: Instant,
    ) -> ConfTransfer {
        ConfTransfer {
            session,
            transfer,
            announcement,
            request,
            source,
            started: now,
            front: 0,
            front_at: now,
            next_to: 0,
            send_at: now,
            released: None,
            base: 0,
            have: [0; WINDOW as usize],
            verified: 0,
            assembling: heapless::Vec::new(),
            proofs: heapless::Deque::new(),
            upstream: None,
            pull_at: None,
            pull_until: 0,
            asked: Asked::new(now),
            bad_leaves: 0,
            finished: None,
            playout: None,
            skipped: heapless::Deque::new(),
            wanted_proofs: heapless::Vec::new(),
        }
    }

    /// The file.
    pub fn content(&self) -> &ContentId {
        &self.announcement.content
    }

    /// True if we send it and have pieces of it left to send.
    pub fn sends_more(&self) -> bool {
        self.source && self.finished.is_none() && self.front < piece_count(self.content())
    }

    /// True if we have `piece` to send: the sender, once it sent it; a
    /// receiver, a proof it keeps or a chunk it has.
    pub fn has(&self, piece: Piece) -> bool {
        if self.source {
            return piece_number(piece) < self.front;
        }
        match piece {
            Piece::Proof(block) => self.proof(block).is_some(),
            Piece::Chunk(leaf, chunk) => {
                (leaf < self.base && !self.skipped.iter().any(|s| *s == leaf))
                    || self.slot(leaf).is_some_and(|i| self.have[i] & (1 << chunk) != 0)
            }
        }
    }

    /// Leaf `leaf`'s place in the window.
    pub fn slot(&self, leaf: u32) -> Option<usize> {
        leaf.checked_sub(self.base).filter(|offset| *offset < WINDOW).map(|offset| offset as usize)
    }

    /// Block `block`'s proof, if kept.
    pub fn proof(&self, block: u32) -> Option<&(u32, BlockValues, Siblings)> {
        self.proofs.iter().find(|(b, _, _)| *b == block)
    }

    /// Leaf `leaf`'s value, from its block's proof.
    pub fn leaf_value(&self, leaf: u32) -> Option<Hash> {
        let (_, values, _) = self.proof(leaf / BLOCK_LEAVES)?;
        values.get((leaf % BLOCK_LEAVES) as usize).copied()
    }

    /// Keeps block `block`'s proof if the window reaches it (or a neighbour
    /// wants it), making room by forgetting the lowest block behind the
    /// window; false if it is not kept (beyond the window, or no room).
    pub fn keep_proof(&mut self, block: u32, values: BlockValues, siblings: Siblings) -> bool {
        let window = self.base / BLOCK_LEAVES..(self.base + WINDOW).div_ceil(BLOCK_LEAVES);
        let wanted = self.wanted_proofs.contains(&block);
        self.wanted_proofs.retain(|b| *b != block);
        if self.proof(block).is_some() || (block >= window.end && !wanted) {
            return self.proof(block).is_some();
        }
        if self.proofs.is_full() {
            let behind = self
                .proofs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.0 < window.start && p.0 != block)
                .min_by_key(|(_, p)| p.0);
            let Some((at, _)) = behind else { return false };
            let mut kept: heapless::Deque<(u32, BlockValues, Siblings), PROOF_SLOTS> = heapless::Deque::new();
            for (i, proof) in core::mem::take(&mut self.proofs).into_iter().enumerate() {
                if i != at {
                    // Cannot fail: one fewer than before.
                    let _ = kept.push_back(proof);
                }
            }
            self.proofs = kept;
        }
        self.proofs.push_back((block, values, siblings)).is_ok()
    }

    /// True once every leaf is in (a file) or played past (a stream).
    pub fn is_complete(&self) -> bool {
        self.base >= self.content().leaf_count()
    }

    /// Marks leaf `leaf` checked and moves `base` past the leaves in.
    pub fn leaf_verified(&mut self, leaf: u32) {
        if let Some(i) = self.slot(leaf) {
            self.verified |= 1 << i;
        }
        self.assembling.retain(|check| check.leaf() != leaf);
        while self.verified & 1 == 1 {
            self.skip_one();
        }
    }

    /// Moves `base` on by one leaf, whether it is in or not (a stream's
    /// leaf past its time: remembered as not had).
    pub fn skip_one(&mut self) {
        let base = self.base;
        if self.verified & 1 == 0 {
            if self.skipped.is_full() {
                self.skipped.pop_front();
            }
            // Cannot fail: a slot was freed above if needed.
            let _ = self.skipped.push_back(base);
        }
        self.assembling.retain(|check| check.leaf() != base);
        self.have.copy_within(1.., 0);
        self.have[WINDOW as usize - 1] = 0;
        self.asked.shift();
        self.verified >>= 1;
        self.base += 1;
    }

    /// Where leaf `leaf` is assembled: its slot, or a new one — taken, when
    /// all are busy, from the highest leaf if that is above `leaf` (its
    /// chunks are forgotten and asked for again), so the leaves the window
    /// waits for first always find room.
    pub fn assembly_slot(&mut self, leaf: u32) -> Option<usize> {
        if let Some(at) = self.assembling.iter().position(|c| c.leaf() == leaf) {
            return Some(at);
        }
        if self.assembling.is_full() {
            let (at, highest) =
                self.assembling.iter().enumerate().map(|(i, c)| (i, c.leaf())).max_by_key(|(_, l)| *l)?;
            if highest < leaf {
                return None;
            }
            self.assembling.swap_remove(at);
            if let Some(i) = self.slot(highest) {
                self.have[i] = 0;
                self.asked.forget(i);
            }
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.assembling.push(LeafCheck::new(leaf));
        Some(self.assembling.len() - 1)
    }

    /// Forgets what arrived of leaf `leaf` (it did not check).
    pub fn leaf_rejected(&mut self, leaf: u32) {
        if let Some(i) = self.slot(leaf) {
            self.have[i] = 0;
            self.asked.forget(i);
        }
        self.assembling.retain(|check| check.leaf() != leaf);
        self.bad_leaves += 1;
    }

    /// Missing pieces from the window's first up to (not including)
    /// `until`, as ranges of piece numbers, at most `max_ranges`, `budget`
    /// pieces in all; with `fresh`, only chunks not [`asked`](Self::asked) for lately.
    pub fn missing(&self, until: u32, max_ranges: usize, budget: u32, fresh: bool) -> heapless::Vec<(u32, u16), 16> {
        let mut ranges: heapless::Vec<(u32, u16), 16> = heapless::Vec::new();
        let content = *self.content();
        let mut pn = piece_number(Piece::Proof(self.base / BLOCK_LEAVES));
        let mut left = budget;
        while pn < until && left > 0 {
            let Some(piece) = piece_at(&content, pn) else { break };
            let beyond = matches!(piece, Piece::Chunk(leaf, _) if self.slot(leaf).is_none() && leaf >= self.base);
            if beyond {
                break;
            }
            let on_its_way = |leaf, chunk| fresh && self.slot(leaf).is_some_and(|i| self.asked.contains(i, chunk));
            let wanted = !self.has(piece)
                && !matches!(piece, Piece::Chunk(leaf, chunk) if leaf < self.base || on_its_way(leaf, chunk));
            if wanted {
                left -= 1;
                let full = ranges.len() == max_ranges.min(16);
                match ranges.last_mut() {
                    Some((first, count)) if *first + u32::from(*count) == pn && *count < u16::MAX => *count += 1,
                    _ if full => break,
                    // Cannot fail: the length was checked above.
                    _ => drop(ranges.push((pn, 1))),
                }
            }
            pn += 1;
        }
        ranges
    }

    /// Notes the chunks of `ranges` (piece numbers) as asked for now.
    pub fn mark_asked(&mut self, ranges: &[(u32, u16)]) {
        let content = *self.content();
        for &(first, count) in ranges {
            for pn in first..first.saturating_add(u32::from(count)) {
                if let Some(Piece::Chunk(leaf, chunk)) = piece_at(&content, pn) {
                    if let Some(i) = self.slot(leaf) {
                        self.asked.mark(i, chunk);
                    }
                }
            }
        }
    }
}

/// The transfers of one node: up to [`MAX_CONF_TRANSFERS`] (none [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct ConferenceTransfers<A: Apps = WithApps> {
    transfers: Table<ConfTransfer, A::List<MAX_CONF_TRANSFERS>>,
}

/// No room for another transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransfersFull;

impl<A: Apps> ConferenceTransfers<A> {
    /// Every transfer.
    pub fn iter(&self) -> impl Iterator<Item = &ConfTransfer> {
        self.transfers.iter()
    }

    /// Every transfer, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut ConfTransfer> {
        self.transfers.iter_mut()
    }

    /// Transfer `transfer` of `session`.
    pub fn get(&self, session: SessionId, transfer: u64) -> Option<&ConfTransfer> {
        self.transfers.iter().find(|t| t.session == session && t.transfer == transfer)
    }

    /// Transfer `transfer` of `session`, mutably.
    pub fn get_mut(&mut self, session: SessionId, transfer: u64) -> Option<&mut ConfTransfer> {
        self.transfers.iter_mut().find(|t| t.session == session && t.transfer == transfer)
    }

    /// Whether [`add`](Self::add) would find room for one more.
    pub fn has_room(&self) -> bool {
        !self.transfers.is_full() || self.transfers.iter().any(|t| t.finished.is_some())
    }

    /// Adds `transfer`, making room by forgetting the transfer finished
    /// longest ago if it must.
    pub fn add(&mut self, transfer: ConfTransfer) -> Result<(), TransfersFull> {
        if self.transfers.is_full() {
            let oldest = self.transfers.iter().enumerate().filter_map(|(i, t)| t.finished.map(|at| (at, i))).min();
            let (_, index) = oldest.ok_or(TransfersFull)?;
            self.transfers.swap_remove(index);
        }
        self.transfers.push(transfer).map_err(|_| TransfersFull)
    }

    /// Forgets transfers finished more than [`LINGER`] before `now`, and those of `gone` conferences.
    pub fn expire(&mut self, now: Instant, mut gone: impl FnMut(SessionId) -> bool) {
        self.transfers.retain(|t| t.finished.is_none_or(|at| at + LINGER > now) && !gone(t.session));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_moves_past_leaves_in_and_lists_what_is_missing() {
        let content = ContentId { root: [0; 32], size: 40 * LEAF_LEN as u64 };
        let announcement = Announcement {
            sender: crate::id::Id(1),
            certificate: None,
            content,
            rate: 1000,
            stream: false,
            name: heapless::String::new(),
            signature: crate::identity::Signature([0; 64]),
        };
        let mut t = ConfTransfer::new((SessionId([1; 16]), 7), announcement, RequestId(1), false, Instant::ZERO);
        assert!(t.keep_proof(0, BlockValues::new(), Siblings::new()));
        assert!(!t.keep_proof(WINDOW / BLOCK_LEAVES, BlockValues::new(), Siblings::new()), "beyond the window");
        t.have[0] = u16::MAX;
        t.have[1] = 0x00ff;
        assert!(t.has(Piece::Chunk(1, 7)) && !t.has(Piece::Chunk(1, 8)));
        t.leaf_verified(1);
        assert_eq!(t.base, 0, "leaf 0 is not in yet");
        t.leaf_verified(0);
        assert_eq!(t.base, 2, "both in: the window moves on");
        assert!(t.has(Piece::Chunk(0, 3)), "below the window: in");
        // Up to leaf 3's chunk 4: leaf 2's sixteen chunks and leaf 3's first four are missing.
        let until = piece_number(Piece::Chunk(3, 4));
        assert_eq!(t.missing(until, 16, 1000, true).as_slice(), [(piece_number(Piece::Chunk(2, 0)), 20)]);
        let first_five = [(piece_number(Piece::Chunk(2, 0)), 5)];
        assert_eq!(t.missing(until, 16, 5, true).as_slice(), first_five, "the budget bounds it");
        t.mark_asked(&first_five);
        assert_eq!(
            t.missing(until, 16, 1000, true).as_slice(),
            [(piece_number(Piece::Chunk(2, 5)), 15)],
            "on their way"
        );
        assert_eq!(t.missing(until, 16, 1000, false).as_slice(), [(piece_number(Piece::Chunk(2, 0)), 20)]);
        t.leaf_rejected(2);
        assert_eq!(t.bad_leaves, 1);
    }

    #[test]
    fn a_full_table_makes_room_only_by_forgetting_a_finished_transfer() {
        let content = ContentId { root: [0; 32], size: 1 };
        let announcement = Announcement {
            sender: crate::id::Id(1),
            certificate: None,
            content,
            rate: 1,
            stream: false,
            name: heapless::String::new(),
            signature: crate::identity::Signature([0; 64]),
        };
        let make = |n: u64| {
            ConfTransfer::new((SessionId([1; 16]), n), announcement.clone(), RequestId(n), false, Instant::ZERO)
        };
        let mut table: ConferenceTransfers = ConferenceTransfers::default();
        for n in 0..MAX_CONF_TRANSFERS as u64 {
            table.add(make(n)).expect("room");
        }
        assert_eq!(table.add(make(99)).map_err(|_| ()), Err(()));
        table.get_mut(SessionId([1; 16]), 0).expect("there").finished = Some(Instant::ZERO);
        table.add(make(99)).expect("the finished one gives way");
        assert!(table.get(SessionId([1; 16]), 0).is_none());
        table.expire(Instant::ZERO + LINGER, |_| false);
        assert_eq!(table.iter().count(), MAX_CONF_TRANSFERS);
    }
}
