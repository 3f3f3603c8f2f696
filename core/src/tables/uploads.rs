//! Streams we serve: per downloader and file, the leaves it asked for, the
//! packets in flight (RFC 9002's sent-packet record), those to send again,
//! and the stream's round trip and congestion window.
//!
//! Bounded: at most [`MAX_UPLOADS`] streams, [`UPLOADS_PER_PEER`] per
//! downloader, [`MAX_IN_FLIGHT`] packets in flight each; requests that
//! open a stream or draw an answer of their own (a REFUSE, a CONTENT_INFO)
//! at most [`ASK_LIMIT`] per address, for the last [`ASKERS`] addresses. A stream holds no
//! file bytes: each packet names a [`Piece`], which the driver reads when
//! the packet is sent (see [`Fill`](crate::event::Fill)).

use crate::capacity::Table;
use crate::content::ContentId;
use crate::profile::{Apps, WithApps};
use crate::tables::congestion::{Congestion, RttEstimator, PACKET_THRESHOLD};
use crate::tables::rate::Limit;
use crate::time::Instant;
use crate::wire::{DataAck, LeafRange, MAX_GET_RANGES};
use core::net::SocketAddrV6;

/// Streams served at once.
pub const MAX_UPLOADS: usize = 4;
/// Streams served to one downloader address at once.
pub const UPLOADS_PER_PEER: usize = 2;
/// Packets a stream tracks in flight: its window's ceiling.
pub const MAX_IN_FLIGHT: usize = crate::tables::congestion::MAX_WINDOW_PACKETS as usize;
/// Requests a downloader address may make that open a stream or draw an
/// answer (GETs not on a stream of theirs, CONTENT_QUERYs): a burst of 16,
/// then 10 a second. A download opens a stream once per owner.
pub const ASK_LIMIT: Limit = Limit { burst: 16, refill: core::time::Duration::from_millis(100) };
/// Addresses whose request rate is tracked (the most recently heard).
pub const ASKERS: usize = 32;
/// Leaves sent whole that a stream remembers, not to send them again.
pub const DONE_MEMORY: usize = 64;
/// Probe timeouts in a row after which a stream's downloader is presumed gone.
pub const MAX_PROBES: u8 = 6;

/// What a packet carries: a block's proof, or a chunk of a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// The proof of this block.
    Proof(u32),
    /// Chunk `.1` of leaf `.0`.
    Chunk(u32, u8),
}

/// A packet in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sent {
    pn: u32,
    piece: Piece,
    at: Instant,
    len: u16,
    /// Acknowledged, but behind an older packet still in flight.
    acked: bool,
}

/// One stream we serve.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The downloader.
    pub peer: SocketAddrV6,
    /// The downloader's stream number (the header's txid).
    pub stream: u64,
    /// The file.
    pub content: ContentId,
    /// The latest GET's number.
    pub seq: u32,
    /// The leaves the latest GET asked for and not yet begun.
    pub wanted: heapless::Vec<LeafRange, MAX_GET_RANGES>,
    /// The leaf being sent, and its next chunk.
    current: Option<(u32, u8)>,
    /// The block whose proof went out last.
    proved: Option<u32>,
    /// Leaves sent whole lately (a later GET may still list them while they fly).
    done: heapless::Deque<u32, DONE_MEMORY>,
    /// Packets in flight, oldest first.
    sent: heapless::Deque<Sent, MAX_IN_FLIGHT>,
    /// Pieces declared lost, to send before new ones.
    lost: heapless::Deque<Piece, MAX_IN_FLIGHT>,
    /// The next packet number.
    pub next_pn: u32,
    /// The highest packet number acknowledged.
    pub largest_acked: Option<u32>,
    /// Bytes in flight.
    pub in_flight: u32,
    /// The stream's round trip.
    pub rtt: RttEstimator,
    /// The stream's window.
    pub congestion: Congestion,
    /// Probe timeouts in a row.
    pub probes: u8,
    /// When the last ack-eliciting packet went out.
    pub last_sent: Instant,
}

impl Upload {
    /// A stream to `peer` for `content`, with nothing asked yet.
    pub fn new(peer: SocketAddrV6, stream: u64, content: ContentId, now: Instant) -> Upload {
        Upload {
            peer,
            stream,
            content,
            seq: 0,
            wanted: heapless::Vec::new(),
            current: None,
            proved: None,
            done: heapless::Deque::new(),
            sent: heapless::Deque::new(),
            lost: heapless::Deque::new(),
            next_pn: 0,
            largest_acked: None,
            in_flight: 0,
            rtt: RttEstimator::default(),
            congestion: Congestion::default(),
            probes: 0,
            last_sent: now,
        }
    }

    /// Replaces the wish list (a GET numbered `seq`); returns false for a
    /// GET older than the latest. The leaf being sent is finished if the
    /// new list still holds it, and abandoned if not; a proof asked for on
    /// its own goes out first.
    pub fn want(&mut self, seq: u32, ranges: &[LeafRange]) -> bool {
        if seq <= self.seq && self.seq != 0 {
            return false;
        }
        self.seq = seq;
        self.wanted.clear();
        for range in ranges {
            if range.count > 0 {
                // Cannot overflow: a GET holds at most MAX_GET_RANGES ranges.
                let _ = self.wanted.push(*range);
            } else if range.proofs {
                self.queue_proof(range.first / crate::content::BLOCK_LEAVES);
            }
        }
        if self.current.is_some_and(|(leaf, _)| !self.wanted.iter().any(|r| r.contains(leaf))) {
            self.current = None;
        }
        true
    }

    /// Queues block `block`'s proof, unless it is queued or in flight already.
    fn queue_proof(&mut self, block: u32) {
        let piece = Piece::Proof(block);
        if !self.lost.iter().any(|p| *p == piece) && !self.sent.iter().any(|s| s.piece == piece) {
            let _ = self.lost.push_back(piece);
        }
    }

    /// True if nothing is asked for, in flight or lost: the stream is done.
    pub fn is_idle(&self) -> bool {
        self.current.is_none() && self.wanted.is_empty() && self.sent.is_empty() && self.lost.is_empty()
    }

    /// True if a piece waits to be sent: a lost one, or more of the wish list.
    pub fn has_work(&self) -> bool {
        !self.lost.is_empty() || self.current.is_some() || !self.wanted.is_empty()
    }

    /// True if the window lets another packet out.
    pub fn may_send(&self) -> bool {
        !self.sent.is_full() && (self.in_flight < self.congestion.window() || self.probes > 0 && self.sent.is_empty())
    }

    /// The next piece to send, if any: a lost (or asked) one first, then
    /// the rest of the leaf being sent, then the next leaf of the wish list
    /// not sent already — preceded by its block's proof if its range asks
    /// for proofs and that block's was not the last sent.
    pub fn next_piece(&mut self) -> Option<Piece> {
        if let Some(piece) = self.lost.pop_front() {
            return Some(piece);
        }
        loop {
            if let Some((leaf, next)) = self.current {
                if next < self.content.chunk_count(leaf) {
                    self.current = Some((leaf, next + 1));
                    return Some(Piece::Chunk(leaf, next));
                }
                if self.done.is_full() {
                    self.done.pop_front();
                }
                let _ = self.done.push_back(leaf);
                self.current = None;
            }
            let (leaf, proofs) = self.pop_wanted()?;
            let block = leaf / crate::content::BLOCK_LEAVES;
            let sent = self.done.iter().any(|&done| done == leaf);
            if !sent {
                self.current = Some((leaf, 0));
            }
            if proofs && self.proved != Some(block) {
                self.proved = Some(block);
                return Some(Piece::Proof(block));
            }
        }
    }

    /// Takes the first leaf off the wish list, with its range's proof flag.
    fn pop_wanted(&mut self) -> Option<(u32, bool)> {
        let range = self.wanted.first_mut()?;
        let taken = (range.first, range.proofs);
        range.first = range.first.wrapping_add(1);
        range.count -= 1;
        if range.count == 0 {
            self.wanted.remove(0);
        }
        Some(taken)
    }

    /// Records packet `pn` carrying `piece`, `len` bytes, sent at `now`.
    pub fn on_sent(&mut self, now: Instant, piece: Piece, len: usize) -> u32 {
        let pn = self.next_pn;
        self.next_pn = self.next_pn.wrapping_add(1);
        let len = len.min(usize::from(u16::MAX)) as u16;
        // Cannot overflow: `may_send` checked for room.
        let _ = self.sent.push_back(Sent { pn, piece, at: now, len, acked: false });
        self.in_flight = self.in_flight.saturating_add(u32::from(len));
        self.congestion.on_sent(now, self.rtt.smoothed());
        self.last_sent = now;
        pn
    }

    /// Takes in an ack received at `now`: the newly acknowledged packets
    /// leave the flight (their bytes grow the window), a round trip is
    /// measured on the highest, and packets the thresholds declare lost
    /// are queued to send again. Returns how many were newly acknowledged.
    pub fn on_ack(&mut self, now: Instant, ack: &DataAck) -> usize {
        let (mut newly, mut bytes, mut largest) = (0, 0u32, None::<Sent>);
        // The flight holds consecutive packet numbers (packets leave it from
        // the front only), so a range maps straight onto positions.
        let Some(front) = self.sent.front().map(|s| s.pn) else { return 0 };
        let (head, tail) = self.sent.as_mut_slices();
        for &(first, last) in &ack.ranges {
            let start = first.saturating_sub(front) as usize;
            let end = (last.saturating_sub(front) as usize + 1).min(head.len() + tail.len());
            if last < front || start >= end {
                continue;
            }
            for index in start..end {
                let sent = if index < head.len() { &mut head[index] } else { &mut tail[index - head.len()] };
                if !sent.acked {
                    sent.acked = true;
                    newly += 1;
                    bytes = bytes.saturating_add(u32::from(sent.len));
                    largest = Some(largest.map_or(*sent, |l: Sent| if sent.pn > l.pn { *sent } else { l }));
                }
            }
        }
        while self.sent.front().is_some_and(|s| s.acked) {
            self.sent.pop_front();
        }
        let Some(largest) = largest else { return 0 };
        self.in_flight = self.in_flight.saturating_sub(bytes);
        self.largest_acked = Some(self.largest_acked.map_or(largest.pn, |l| l.max(largest.pn)));
        // A round trip is measured only when the ack's highest packet is newly acknowledged (RFC 9002 §5.1).
        let rtt = (largest.pn == ack.largest()).then(|| now.saturating_duration_since(largest.at));
        if let Some(rtt) = rtt {
            self.rtt.sample(rtt, core::time::Duration::from_micros(u64::from(ack.delay_us)));
        }
        self.probes = 0;
        self.congestion.on_ack(now, bytes, rtt);
        self.detect_losses(now);
        newly
    }

    /// RFC 9002 §6.1: packets below the highest acknowledged by
    /// [`PACKET_THRESHOLD`], or sent more than the loss delay before now,
    /// are lost.
    pub fn detect_losses(&mut self, now: Instant) {
        let Some(largest) = self.largest_acked else { return };
        let delay = self.rtt.loss_delay();
        while let Some(&sent) = self.sent.front() {
            if sent.acked {
                self.sent.pop_front();
                continue;
            }
            let by_count = largest.wrapping_sub(sent.pn) >= PACKET_THRESHOLD && sent.pn < largest;
            let by_time = sent.pn < largest && now.saturating_duration_since(sent.at) >= delay;
            if !(by_count || by_time) {
                break;
            }
            self.sent.pop_front();
            self.in_flight = self.in_flight.saturating_sub(u32::from(sent.len));
            self.congestion.on_loss(now, sent.at);
            // Cannot overflow: `lost` is as large as the flight.
            let _ = self.lost.push_back(sent.piece);
        }
    }

    /// When loss detection or the probe timeout next has work.
    pub fn deadline(&self) -> Option<Instant> {
        let oldest = self.sent.front()?;
        let largest = self.largest_acked.unwrap_or(0);
        if self.largest_acked.is_some() && oldest.pn < largest {
            return Some(oldest.at + self.rtt.loss_delay());
        }
        let last = self.sent.back().map_or(oldest.at, |s| s.at);
        Some(last + self.rtt.probe_timeout() * (1u32 << self.probes.min(6)))
    }

    /// The loss or probe timer fired at `now`: losses declared by time, or,
    /// with none, a probe (the oldest packet in flight is sent again).
    /// Returns false once the downloader has missed [`MAX_PROBES`] probes.
    pub fn on_timeout(&mut self, now: Instant) -> bool {
        let before = self.lost.len();
        self.detect_losses(now);
        if self.lost.len() > before || self.deadline().is_some_and(|at| at > now) {
            return true;
        }
        self.probes = self.probes.saturating_add(1);
        if self.probes >= 3 {
            self.congestion.on_persistent_congestion();
        }
        if let Some(oldest) = self.sent.pop_front() {
            self.in_flight = self.in_flight.saturating_sub(u32::from(oldest.len));
            let _ = self.lost.push_front(oldest.piece);
        }
        self.probes < MAX_PROBES
    }
}

/// Contents served at once.
pub const MAX_SERVED: usize = 64;

/// Who may fetch a served content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Audience {
    /// Anyone who asks (after proving its address).
    Anyone,
    /// Only our friends, at their current addresses.
    Friends,
}

/// A content we serve: under which file ID, and to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// The file ID it is published under (MD5 of its name).
    pub key: crate::id::Id,
    /// The content.
    pub content: ContentId,
    /// Who may fetch it.
    pub audience: Audience,
}

/// The content we serve and to whom: up to [`MAX_SERVED`] (none
/// [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct ServedContent<A: Apps = WithApps> {
    entries: Table<Served, A::List<MAX_SERVED>>,
}

impl<A: Apps> ServedContent<A> {
    /// Serves `served` (replacing what was served under its file ID); false if the table is full.
    pub fn insert(&mut self, served: Served) -> bool {
        if let Some(entry) = self.entries.iter_mut().find(|s| s.key == served.key) {
            *entry = served;
            return true;
        }
        self.entries.push(served).is_ok()
    }

    /// Stops serving `content`; false if it was not served.
    pub fn remove(&mut self, content: &ContentId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|s| s.content != *content);
        self.entries.len() < before
    }

    /// Who may fetch `content`, if it is served.
    pub fn audience(&self, content: &ContentId) -> Option<Audience> {
        self.entries.iter().find(|s| s.content == *content).map(|s| s.audience)
    }

    /// What is served under file ID `key`.
    pub fn by_key(&self, key: crate::id::Id) -> Option<&Served> {
        self.entries.iter().find(|s| s.key == key)
    }

    /// Every content served.
    pub fn iter(&self) -> impl Iterator<Item = &Served> {
        self.entries.iter()
    }
}

/// The streams we serve: up to [`MAX_UPLOADS`] (none [`WithoutApps`](crate::profile::WithoutApps)).
#[derive(Clone, Debug, Default)]
pub struct Uploads<A: Apps = WithApps> {
    streams: Table<Upload, A::List<MAX_UPLOADS>>,
    /// Which stream sends next (round robin).
    turn: usize,
}

/// Why a stream cannot be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadsFull;

impl<A: Apps> Uploads<A> {
    /// The stream `stream` from `peer`, if served.
    pub fn get_mut(&mut self, peer: SocketAddrV6, stream: u64) -> Option<&mut Upload> {
        self.streams.iter_mut().find(|u| u.peer == peer && u.stream == stream)
    }

    /// Opens a stream, unless the table or the peer's share is full.
    pub fn open(&mut self, upload: Upload) -> Result<&mut Upload, UploadsFull> {
        let peers = self.streams.iter().filter(|u| u.peer == upload.peer).count();
        if peers >= UPLOADS_PER_PEER {
            return Err(UploadsFull);
        }
        self.streams.push(upload).map_err(|_| UploadsFull)?;
        self.streams.last_mut().ok_or(UploadsFull)
    }

    /// Ends the stream `stream` from `peer`.
    pub fn close(&mut self, peer: SocketAddrV6, stream: u64) {
        self.streams.retain(|u| !(u.peer == peer && u.stream == stream));
    }

    /// Ends every stream for which `keep` is false.
    pub fn retain(&mut self, keep: impl FnMut(&Upload) -> bool) {
        self.streams.retain(keep);
    }

    /// Keeps the streams for which `keep` (which may change them) is true.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut Upload) -> bool) {
        self.streams.retain_mut(keep);
    }

    /// The streams, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Upload> {
        self.streams.iter()
    }

    /// The streams, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Upload> {
        self.streams.iter_mut()
    }

    /// How many streams are served.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// True if none is.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// The index of the next stream, round robin, for which `ready` holds.
    pub fn next_ready(&mut self, ready: impl Fn(&Upload) -> bool) -> Option<usize> {
        let len = self.streams.len();
        let index = (0..len).map(|i| (self.turn + i) % len).find(|&i| ready(&self.streams[i]))?;
        self.turn = (index + 1) % len.max(1);
        Some(index)
    }

    /// The stream at `index`.
    pub fn at_mut(&mut self, index: usize) -> Option<&mut Upload> {
        self.streams.get_mut(index)
    }

    /// The earliest loss or probe deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.streams.iter().filter_map(Upload::deadline).min()
    }
}
