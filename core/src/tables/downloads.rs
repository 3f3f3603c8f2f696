//! Files we fetch: per download, the leaves still missing, the owners
//! (sources) and their streams, and the leaves being received — each in a
//! slot that checks its chunks as they come.
//!
//! Bounded: [`MAX_DOWNLOADS`] downloads, [`MAX_SOURCES`] sources each,
//! [`LEAF_SLOTS`] leaves being received across all downloads (the
//! downloader's window: an owner is only ever asked for leaves that have a
//! slot), and [`MISSING_RANGES`] ranges of missing leaves per download.

use crate::capacity::Table;
use crate::content::{ContentId, Hash, LeafCheck, BLOCK_LEAVES};
use crate::event::RequestId;
use crate::profile::{Apps, WithApps};
use crate::time::Instant;
use crate::wire::{LeafRange, RefuseReason, MAX_ACK_RANGES, MAX_GET_RANGES};
use core::net::SocketAddrV6;
use core::ops::Range;

/// Downloads at once.
pub const MAX_DOWNLOADS: usize = 4;
/// Owners a download fetches from.
pub const MAX_SOURCES: usize = 8;
/// Leaves being received at once, over all downloads.
pub const LEAF_SLOTS: usize = 32;
/// Leaves a source may always be asked for ahead, however many sources share the slots.
pub const LEAVES_PER_SOURCE: usize = 8;
/// Ranges of missing leaves a download keeps.
pub const MISSING_RANGES: usize = 64;
/// Verified leaf values kept for leaves not yet in a slot (from proofs of
/// whole blocks), the oldest forgotten first.
pub const VALUE_CACHE: usize = 64;
/// Received chunks waiting for the driver (one per datagram; the drain empties them).
pub const STAGED_CHUNKS: usize = 4;
/// Packets acknowledged at once together (fewer acks, fewer datagrams for
/// both ends to handle; the owner's window grows by bytes acknowledged, not
/// by acks).
pub const ACK_EVERY: u8 = 8;
/// How long a packet waits for more before it is acknowledged.
pub const MAX_ACK_DELAY: core::time::Duration = core::time::Duration::from_millis(1);
/// A source silent this long while asked for leaves is asked again.
pub const SILENCE: core::time::Duration = core::time::Duration::from_secs(1);
/// The first wait for an answer to a GET sent again; it doubles each time.
pub const GET_RETRY: core::time::Duration = core::time::Duration::from_millis(250);
/// How long a source that said it is busy waits before it is asked again
/// (it counts as an unanswered GET).
pub const BUSY_RETRY: core::time::Duration = core::time::Duration::from_secs(2);
/// GETs sent again unanswered before a source is presumed gone.
pub const MAX_UNANSWERED: u8 = 3;
/// Bad leaves after which a source is dropped.
pub const MAX_BAD_LEAVES: u32 = 3;

/// How a source stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceState {
    /// Asked, and serving (or about to).
    Active,
    /// It refused.
    Refused(RefuseReason),
    /// Silent too long, or it sent too many bad leaves.
    Lost,
}

/// One owner of the file and our stream with it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The owner's address.
    pub addr: SocketAddrV6,
    /// Our stream number with it (the header's txid).
    pub stream: u64,
    /// How it stands.
    pub state: SourceState,
    /// Its cookie, once it asked us to prove our address.
    pub cookie: u64,
    /// Our last GET's number.
    pub seq: u32,
    /// When to send the GET again (after a change, or unanswered).
    pub get_due: Option<Instant>,
    /// GETs sent since the source was last heard.
    pub unanswered: u8,
    /// When to send the GET again if the source stays silent.
    pub retry_at: Option<Instant>,
    /// When to acknowledge what arrived (one packet waits at most [`MAX_ACK_DELAY`]).
    pub ack_due: Option<Instant>,
    /// When it was last heard.
    pub last_heard: Instant,
    /// Packet numbers received, as ranges, highest first.
    pub received: heapless::Vec<(u32, u32), MAX_ACK_RANGES>,
    /// When the highest packet arrived.
    pub largest_at: Instant,
    /// Packets received since our last ack.
    pub unacked: u8,
    /// Leaves it sent that did not verify.
    pub bad_leaves: u32,
    /// Leaves it sent that verified.
    pub good_leaves: u32,
}

impl Source {
    /// A new source at `addr`, stream `stream`.
    pub fn new(addr: SocketAddrV6, stream: u64, now: Instant) -> Source {
        Source {
            addr,
            stream,
            state: SourceState::Active,
            cookie: 0,
            seq: 0,
            get_due: Some(now),
            unanswered: 0,
            retry_at: None,
            ack_due: None,
            last_heard: now,
            received: heapless::Vec::new(),
            largest_at: now,
            unacked: 0,
            bad_leaves: 0,
            good_leaves: 0,
        }
    }

    /// True if it may be asked for leaves.
    pub fn is_active(&self) -> bool {
        self.state == SourceState::Active
    }

    /// Packet `pn` arrived at `now`: the source is heard, the packet
    /// recorded and counted for the ack. True if it must be acknowledged
    /// at once (every [`ACK_EVERY`]th); otherwise the ack waits at most
    /// [`MAX_ACK_DELAY`].
    pub fn packet_arrived(&mut self, pn: u32, now: Instant) -> bool {
        (self.last_heard, self.unanswered, self.retry_at) = (now, 0, Some(now + SILENCE));
        self.receive(pn, now);
        self.unacked = self.unacked.saturating_add(1);
        if self.unacked >= ACK_EVERY {
            (self.unacked, self.ack_due) = (0, None);
            return true;
        }
        self.ack_due.get_or_insert(now + MAX_ACK_DELAY);
        false
    }

    /// Records packet `pn` as received at `now`; false if it was already.
    pub fn receive(&mut self, pn: u32, now: Instant) -> bool {
        let ranges = &mut self.received;
        if ranges.iter().any(|&(first, last)| (first..=last).contains(&pn)) {
            return false;
        }
        if ranges.first().is_none_or(|&(_, last)| pn > last) {
            self.largest_at = now;
        }
        // Find where pn goes (ranges run highest first) and merge neighbours.
        let at = ranges.iter().position(|&(_, last)| last < pn).unwrap_or(ranges.len());
        let joins_above = at > 0 && ranges[at - 1].0 == pn.wrapping_add(1);
        let joins_below = at < ranges.len() && ranges[at].1.wrapping_add(1) == pn;
        match (joins_above, joins_below) {
            (true, true) => {
                ranges[at - 1].0 = ranges[at].0;
                ranges.remove(at);
            }
            (true, false) => ranges[at - 1].0 = pn,
            (false, true) => ranges[at].1 = pn,
            (false, false) => {
                if ranges.is_full() {
                    // Forget the oldest range: those packets were acknowledged long ago.
                    ranges.pop();
                }
                if at <= ranges.len() {
                    let _ = ranges.insert(at, (pn, pn));
                }
            }
        }
        true
    }
}

/// A received chunk waiting for the driver to write it.
#[derive(Clone, Debug)]
pub struct Staged {
    /// The download.
    pub request: RequestId,
    /// Where in the file.
    pub offset: u64,
    /// The bytes.
    pub bytes: heapless::Vec<u8, { crate::content::CHUNK_LEN }>,
}

/// A leaf being received.
#[derive(Clone, Debug)]
pub struct Slot {
    /// The download it belongs to.
    pub request: RequestId,
    /// The source asked for it.
    pub source: SocketAddrV6,
    /// Its chunks so far.
    pub check: LeafCheck,
    /// Its value, once its block's proof verified.
    pub expected: Option<Hash>,
}

impl Slot {
    /// Forgets what arrived of the leaf: it starts afresh (with another
    /// source). Its value, verified against the root, stays.
    pub fn restart(&mut self) {
        self.check = LeafCheck::new(self.check.leaf());
    }
}

/// One file being fetched.
#[derive(Clone, Debug)]
pub struct Download {
    /// The command's id, which its events carry.
    pub request: RequestId,
    /// The file.
    pub content: ContentId,
    /// Leaves neither verified nor in a slot, as ranges in order.
    pub missing: heapless::Vec<Range<u32>, MISSING_RANGES>,
    /// The owners.
    pub sources: heapless::Vec<Source, MAX_SOURCES>,
    /// Leaves still to verify (missing or in a slot).
    pub remaining: u32,
}

impl Download {
    /// Takes the first missing leaf, if any.
    pub fn take_missing(&mut self) -> Option<u32> {
        let range = self.missing.first_mut()?;
        let leaf = range.start;
        range.start += 1;
        if range.start >= range.end {
            self.missing.remove(0);
        }
        Some(leaf)
    }

    /// Puts `leaf` back among the missing, in order (merged with a neighbour
    /// range if it touches one). False if the table of ranges is full.
    pub fn put_missing(&mut self, leaf: u32) -> bool {
        let at = self.missing.iter().position(|r| r.start > leaf).unwrap_or(self.missing.len());
        if at > 0 && self.missing[at - 1].end == leaf {
            self.missing[at - 1].end += 1;
            return true;
        }
        if at < self.missing.len() && self.missing[at].start == leaf + 1 {
            self.missing[at].start = leaf;
            return true;
        }
        self.missing.insert(at, leaf..leaf + 1).is_ok()
    }

    /// The source at `addr` on stream `stream`.
    pub fn source_mut(&mut self, addr: SocketAddrV6, stream: u64) -> Option<&mut Source> {
        self.sources.iter_mut().find(|s| s.addr == addr && s.stream == stream)
    }
}

/// The downloads, and the slots of the leaves being received (none
/// [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct Downloads<A: Apps = WithApps> {
    /// The downloads.
    pub list: Table<Download, A::List<MAX_DOWNLOADS>>,
    /// Leaves being received.
    pub slots: Table<Slot, A::List<LEAF_SLOTS>>,
    /// Verified values of leaves not in a slot: `(download, leaf, value)`.
    pub values: Table<(RequestId, u32, Hash), A::List<VALUE_CACHE>>,
}

impl<A: Apps> Downloads<A> {
    /// The download `request`.
    pub fn get(&self, request: RequestId) -> Option<&Download> {
        self.list.iter().find(|d| d.request == request)
    }

    /// The download `request`, mutably.
    pub fn get_mut(&mut self, request: RequestId) -> Option<&mut Download> {
        self.list.iter_mut().find(|d| d.request == request)
    }

    /// Stream `stream` with `addr`: its download and the source.
    pub fn stream_mut(&mut self, addr: SocketAddrV6, stream: u64) -> Option<(RequestId, &mut Source)> {
        self.list.iter_mut().find_map(|d| {
            let request = d.request;
            d.source_mut(addr, stream).map(|source| (request, source))
        })
    }

    /// The slot of leaf `leaf` of download `request`.
    pub fn slot_mut(&mut self, request: RequestId, leaf: u32) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.request == request && s.check.leaf() == leaf)
    }

    /// What download `request` asks of `source`, as GET ranges in order
    /// (at most [`MAX_GET_RANGES`]): first the proofs of blocks whose
    /// complete leaves wait for a value, then the leaves asked of it, with
    /// proofs for those whose value is not known.
    pub fn wish_list(&self, request: RequestId, source: SocketAddrV6) -> heapless::Vec<LeafRange, MAX_GET_RANGES> {
        let asked = || self.slots.iter().filter(move |s| s.request == request && s.source == source);
        let mut ranges: heapless::Vec<LeafRange, MAX_GET_RANGES> = heapless::Vec::new();
        for slot in asked().filter(|s| s.expected.is_none() && s.check.received() != 0) {
            let block = slot.check.leaf() / BLOCK_LEAVES;
            if !ranges.iter().any(|r| r.first / BLOCK_LEAVES == block) {
                let _ = ranges.push(LeafRange { first: block * BLOCK_LEAVES, count: 0, proofs: true });
            }
        }
        let mut leaves: heapless::Vec<(u32, bool), LEAF_SLOTS> =
            asked().map(|s| (s.check.leaf(), s.expected.is_none())).collect();
        leaves.sort_unstable();
        for (leaf, proofs) in leaves {
            match ranges.last_mut() {
                Some(r) if r.count > 0 && r.proofs == proofs && r.first + u32::from(r.count) == leaf => r.count += 1,
                _ => {
                    if ranges.push(LeafRange { first: leaf, count: 1, proofs }).is_err() {
                        break;
                    }
                }
            }
        }
        ranges
    }

    /// Keeps leaf `leaf`'s verified value: in its slot if it has one (true
    /// then), else in the cache.
    pub fn learn_value(&mut self, request: RequestId, leaf: u32, value: Hash) -> bool {
        if let Some(slot) = self.slot_mut(request, leaf) {
            slot.expected.get_or_insert(value);
            return true;
        }
        if !self.values.iter().any(|&(r, l, _)| r == request && l == leaf) {
            if self.values.is_full() && !self.values.is_empty() {
                self.values.remove(0);
            }
            let _ = self.values.push((request, leaf, value));
        }
        false
    }

    /// Takes leaf `leaf`'s value out of the cache, if it is there.
    pub fn take_value(&mut self, request: RequestId, leaf: u32) -> Option<Hash> {
        let at = self.values.iter().position(|&(r, l, _)| r == request && l == leaf)?;
        Some(self.values.remove(at).2)
    }

    /// Slots of download `request` asked of `source`.
    pub fn asked_of(&self, request: RequestId, source: SocketAddrV6) -> usize {
        self.slots.iter().filter(|s| s.request == request && s.source == source).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    #[test]
    fn received_packets_merge_into_ranges_highest_first() {
        let addr = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0, 0);
        let mut source = Source::new(addr, 1, Instant::ZERO);
        for pn in [0, 1, 2, 5, 7, 6, 3] {
            assert!(source.receive(pn, Instant::ZERO));
        }
        assert!(!source.receive(6, Instant::ZERO));
        assert_eq!(source.received.as_slice(), &[(5, 7), (0, 3)]);
        source.receive(4, Instant::ZERO);
        assert_eq!(source.received.as_slice(), &[(0, 7)]);
    }

    #[test]
    fn missing_leaves_come_out_in_order_and_go_back() {
        let content = ContentId { root: [0; 32], size: 10 * crate::content::LEAF_LEN as u64 };
        let mut download = Download {
            request: RequestId(1),
            content,
            missing: heapless::Vec::from_slice(&[0..3, 5..10]).unwrap(),
            sources: heapless::Vec::new(),
            remaining: 8,
        };
        assert_eq!(download.take_missing(), Some(0));
        assert!(download.put_missing(0));
        assert!(download.put_missing(4));
        assert_eq!(download.missing.as_slice(), &[0..3, 4..10]);
    }
}
