//! Which owner is asked for which leaf, and when the downloader's GETs and
//! acks go out.
//!
//! - **Leaves to owners**: each free slot takes the next missing leaf for
//!   the active source asked the fewest (each at most its share of the
//!   slots, and at least [`LEAVES_PER_SOURCE`]), so a fast owner,
//!   finishing sooner, is asked more. At the end
//!   (nothing missing), an idle source takes over a leaf not yet begun
//!   from the busiest one. A refused, silent or lying source's leaves move
//!   to the others.
//! - **GETs**: a source's wish list goes out whenever it changes, and
//!   again while the source stays silent — after [`SILENCE`](crate::tables::downloads::SILENCE), then
//!   [`GET_RETRY`] doubling; after [`MAX_UNANSWERED`] the source is lost.
//! - **Acks**: every [`ACK_EVERY`](crate::tables::downloads::ACK_EVERY)th packet at once, the rest within
//!   [`MAX_ACK_DELAY`](crate::tables::downloads::MAX_ACK_DELAY) (QUIC acknowledges every second; fewer acks halve
//!   the datagrams a transfer's acks cost both ends, and the owner's window
//!   grows by the bytes acknowledged, not by the acks).

use crate::event::{Event, RequestId};
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::downloads::{Slot, SourceState, GET_RETRY, LEAF_SLOTS, LEAVES_PER_SOURCE, MAX_UNANSWERED};
use crate::tables::outbox::Outgoing;
use crate::time::Instant;
use crate::wire::{DataAck, Get, Message};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Fills free slots with missing leaves, each for the active source
    /// asked the fewest; at the end, lets idle sources take over leaves
    /// not yet begun.
    pub(crate) fn assign_leaves(&mut self) {
        let now = self.now;
        loop {
            let mut progress = false;
            for index in 0..self.transfers.downloads.list.len() {
                if self.transfers.downloads.slots.len() >= LEAF_SLOTS {
                    return;
                }
                let request = self.transfers.downloads.list[index].request;
                let Some(source) = self.pick_source(request, None) else { continue };
                let download = &mut self.transfers.downloads.list[index];
                let Some(leaf) = download.take_missing() else {
                    progress |= self.take_over(request, source);
                    continue;
                };
                let check = crate::content::LeafCheck::new(leaf);
                let content = download.content;
                // A one-leaf file's leaf is the root; others' values come with their blocks' proofs.
                let expected = match content.leaf_count() {
                    1 => Some(content.root),
                    _ => self.transfers.downloads.take_value(request, leaf),
                };
                // Cannot fail: checked for room above.
                let _ = self.transfers.downloads.slots.push(Slot { request, source, check, expected });
                self.mark_get(request, source, now);
                progress = true;
            }
            if !progress {
                return;
            }
        }
    }

    /// End game: `idle`, with nothing asked of it, takes over a leaf of
    /// another source — any leaf of one gone silent (its GET went again
    /// unanswered), else the last leaf not yet begun of the source asked
    /// the most (if that has two or more). A leaf taken over starts afresh.
    fn take_over(&mut self, request: RequestId, idle: SocketAddrV6) -> bool {
        let downloads = &self.transfers.downloads;
        if downloads.asked_of(request, idle) > 0 {
            return false;
        }
        let Some(download) = downloads.get(request) else { return false };
        let silent = download
            .sources
            .iter()
            .find(|s| s.addr != idle && s.unanswered > 0 && downloads.asked_of(request, s.addr) > 0);
        let busiest = download.sources.iter().map(|s| s.addr).max_by_key(|&addr| downloads.asked_of(request, addr));
        let (from, any_leaf) = match (silent, busiest) {
            (Some(silent), _) => (silent.addr, true),
            (None, Some(busiest)) if busiest != idle && downloads.asked_of(request, busiest) >= 2 => (busiest, false),
            _ => return false,
        };
        let unbegun = |s: &Slot| s.check.received() == 0;
        let movable = |s: &Slot| s.request == request && s.source == from && (any_leaf || unbegun(s));
        let Some(slot) = self.transfers.downloads.slots.iter_mut().rev().find(|s| movable(s)) else { return false };
        slot.source = idle;
        slot.restart();
        let now = self.now;
        self.mark_get(request, idle, now);
        self.mark_get(request, from, now);
        true
    }

    /// The active source of `request` asked the fewest leaves (below its
    /// share: the slots split among the active sources, at least
    /// [`LEAVES_PER_SOURCE`]), other than `avoid` if another will do.
    pub(crate) fn pick_source(&self, request: RequestId, avoid: Option<SocketAddrV6>) -> Option<SocketAddrV6> {
        let downloads = &self.transfers.downloads;
        let download = downloads.get(request)?;
        let candidates = download.sources.iter().filter(|s| s.is_active()).map(|s| s.addr);
        let asked = |addr: &SocketAddrV6| downloads.asked_of(request, *addr);
        let best = candidates.clone().filter(|a| Some(*a) != avoid).min_by_key(asked);
        let share = (LEAF_SLOTS / candidates.clone().count().max(1)).max(LEAVES_PER_SOURCE);
        match avoid {
            // Moving a leaf: any other active source, however busy.
            Some(_) => best.or_else(|| candidates.clone().next()),
            None => best.filter(|a| asked(a) < share),
        }
    }

    /// `gone` no longer serves `request`: its leaves move to the other
    /// active sources, or back among the missing; with none left, the
    /// download stalls.
    pub(crate) fn release_source(&mut self, request: RequestId, gone: SocketAddrV6) {
        let now = self.now;
        let other = self.pick_source(request, Some(gone)).filter(|&a| a != gone);
        let downloads = &mut self.transfers.downloads;
        let content = downloads.get(request).map(|d| d.content);
        let mut index = 0;
        while index < downloads.slots.len() {
            let slot = &mut downloads.slots[index];
            if slot.request != request || slot.source != gone {
                index += 1;
                continue;
            }
            if let Some(other) = other {
                slot.source = other;
                slot.restart();
                index += 1;
            } else {
                let leaf = slot.check.leaf();
                downloads.slots.swap_remove(index);
                if let Some(download) = downloads.get_mut(request) {
                    download.put_missing(leaf);
                }
            }
        }
        match other {
            Some(other) => self.mark_get(request, other, now),
            None if content.is_some() => self.emit(Event::DownloadStalled { request }),
            None => {}
        }
        self.assign_leaves();
    }

    /// Ends download `index` (done or cancelled): its sources are told to
    /// stop, its slots freed.
    pub(crate) fn finish_download(&mut self, index: usize) {
        let download = self.transfers.downloads.list.swap_remove(index);
        for source in download.sources.iter().filter(|s| s.is_active()) {
            self.send(Outgoing::StopGet { to: source.addr, stream: source.stream, content: download.content });
        }
        self.transfers.downloads.slots.retain(|s| s.request != download.request);
        self.transfers.downloads.values.retain(|v| v.0 != download.request);
        self.assign_leaves();
    }

    /// `source`'s wish list for `request` changed: a GET goes out now.
    pub(crate) fn mark_get(&mut self, request: RequestId, source: SocketAddrV6, now: Instant) {
        if let Some(source) =
            self.transfers.downloads.get_mut(request).and_then(|d| d.sources.iter_mut().find(|s| s.addr == source))
        {
            source.get_due = Some(now);
        }
    }

    /// When a download's GET or ack is next due.
    pub(crate) fn download_deadline(&self) -> Option<Instant> {
        let sources = self.transfers.downloads.list.iter().flat_map(|d| d.sources.iter());
        sources.filter(|s| s.is_active()).flat_map(|s| [s.get_due, s.ack_due, s.retry_at]).flatten().min()
    }

    /// Sends the GETs and acks due at `now`; a source silent through
    /// [`MAX_UNANSWERED`] GETs is lost.
    pub(crate) fn download_timers(&mut self, now: Instant) {
        let mut lost: heapless::Vec<(RequestId, SocketAddrV6), 8> = heapless::Vec::new();
        let mut outgoing: heapless::Vec<Outgoing, 16> = heapless::Vec::new();
        let mut stalled = false;
        let downloads = &mut self.transfers.downloads;
        for download in downloads.list.iter_mut() {
            let request = download.request;
            for source in download.sources.iter_mut().filter(|s| s.is_active()) {
                let (to, stream) = (source.addr, source.stream);
                if source.ack_due.is_some_and(|at| at <= now) {
                    (source.unacked, source.ack_due) = (0, None);
                    let _ = outgoing.push(Outgoing::DataAck { to, request, stream });
                }
                let asked = downloads.slots.iter().any(|s| s.request == request && s.source == to);
                let retry = source.retry_at.is_some_and(|at| at <= now);
                if retry && !asked {
                    source.retry_at = None;
                } else if retry && source.unanswered >= MAX_UNANSWERED {
                    source.state = SourceState::Lost;
                    let _ = lost.push((request, to));
                    continue;
                } else if retry {
                    source.unanswered += 1;
                    source.get_due = Some(now);
                    // Its leaves may move to an idle source now.
                    stalled = true;
                }
                if source.get_due.is_some_and(|at| at <= now) {
                    source.get_due = None;
                    source.retry_at = Some(now + GET_RETRY * (1u32 << source.unanswered.min(8)));
                    let _ = outgoing.push(Outgoing::Get { to, request, stream });
                }
            }
        }
        for outgoing in outgoing {
            self.send(outgoing);
        }
        for (request, source) in lost {
            self.emit(Event::SourceLost { request, source });
            self.release_source(request, source);
        }
        if stalled {
            self.assign_leaves();
        }
    }

    /// Download `request`'s GET for the source at `to` on `stream`, its
    /// wish list as it stands (and its number moved on).
    pub(crate) fn get_message(&mut self, request: RequestId, to: SocketAddrV6, stream: u64) -> Option<Message> {
        let ranges = self.transfers.downloads.wish_list(request, to);
        let download = self.transfers.downloads.get_mut(request)?;
        let content = download.content;
        let source = download.source_mut(to, stream)?;
        source.seq = source.seq.wrapping_add(1).max(1);
        Some(Message::Get(Get { content, seq: source.seq, cookie: source.cookie, ranges }))
    }

    /// The ack of what arrived on `stream` of download `request`.
    pub(crate) fn data_ack_message(&mut self, request: RequestId, to: SocketAddrV6, stream: u64) -> Option<Message> {
        let now = self.now;
        let source = self.transfers.downloads.get_mut(request)?.source_mut(to, stream)?;
        if source.received.is_empty() {
            return None;
        }
        let delay = now.saturating_duration_since(source.largest_at).as_micros();
        let delay_us = u32::try_from(delay).unwrap_or(u32::MAX);
        Some(Message::DataAck(DataAck { delay_us, ranges: source.received.clone() }))
    }
}
