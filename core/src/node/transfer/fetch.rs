//! Fetching: the download commands, and what arrives on a download's
//! streams — BLOCK_PROOF and DATA (checked chunk by chunk, each complete
//! leaf against the file's root) and REFUSE.
//!
//! A block proof is checked against the file's root on arrival; its leaf
//! values then check each leaf as it completes. Only the owner asked for a
//! leaf may fill its slot: a packet from any other address, or on another
//! stream, is dropped. A leaf (or a proof) that does not verify is fetched
//! again, from another owner if there is one, and its sender counted;
//! after [`MAX_BAD_LEAVES`] a sender is dropped.

use crate::content::ContentId;
use crate::event::{CommandError, Event, RequestId};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::downloads::{
    Download, Source, SourceState, Staged, BUSY_RETRY, MAX_BAD_LEAVES, MAX_DOWNLOADS, MAX_SOURCES, MISSING_RANGES,
};
use crate::tables::outbox::Outgoing;
use crate::time::Instant;
use crate::wire::{BlockProof, Data, Header, Refuse, RefuseReason};
use core::net::SocketAddrV6;
use core::ops::Range;

impl<P: Profile> Node<P> {
    /// Starts fetching `content` from `owners`; `missing` names the leaves
    /// still to fetch (empty: all of them — a resumed download passes the
    /// gaps of its bitmap; past [`MISSING_RANGES`] ranges the last ones
    /// are merged). Chunks come out as [`Output::Write`](crate::Output::Write),
    /// each verified leaf as [`Event::LeafVerified`], the end as
    /// [`Event::DownloadComplete`].
    pub fn download(
        &mut self,
        now: Instant,
        content: ContentId,
        owners: &[SocketAddrV6],
        missing: &[Range<u32>],
    ) -> Result<RequestId, CommandError> {
        self.now = now;
        if !content.is_valid() {
            return Err(CommandError::ContentTooLarge);
        }
        if self.transfers.downloads.list.len() >= MAX_DOWNLOADS {
            return Err(CommandError::TransfersFull);
        }
        if owners.iter().any(|o| !crate::id::ResourceLocator::new(crate::id::Id::KEY_NODE, *o).is_usable()) {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        let leaves = content.leaf_count();
        let mut ranges: heapless::Vec<Range<u32>, MISSING_RANGES> = heapless::Vec::new();
        let whole = core::iter::once(0..leaves);
        let wanted = missing.iter().cloned();
        for range in whole.filter(|_| missing.is_empty()).chain(wanted) {
            let range = range.start.min(leaves)..range.end.min(leaves);
            if range.is_empty() {
                continue;
            }
            if let Err(range) = ranges.push(range.clone()) {
                // Out of room: the last range stretches to cover the rest.
                if let Some(last) = ranges.last_mut() {
                    last.end = last.end.max(range.end);
                }
            }
        }
        let remaining = ranges.iter().map(|r| r.end - r.start).sum();
        let mut download = Download { request, content, missing: ranges, sources: heapless::Vec::new(), remaining };
        for &owner in owners.iter().take(MAX_SOURCES) {
            if !download.sources.iter().any(|s| s.addr == owner) {
                let stream = self.rng.next_u64();
                let _ = download.sources.push(Source::new(owner, stream, now));
            }
        }
        if remaining == 0 {
            self.emit(Event::DownloadComplete { request, content });
            return Ok(request);
        }
        // Cannot fail: checked for room above.
        let _ = self.transfers.downloads.list.push(download);
        self.assign_leaves();
        Ok(request)
    }

    /// Adds `owner` as a source of download `request`.
    pub fn add_source(&mut self, now: Instant, request: RequestId, owner: SocketAddrV6) -> Result<(), CommandError> {
        self.now = now;
        let stream = self.rng.next_u64();
        let download = self.transfers.downloads.get_mut(request).ok_or(CommandError::NoSuchDownload)?;
        if let Some(source) = download.sources.iter_mut().find(|s| s.addr == owner) {
            // Known: given another chance.
            if !source.is_active() {
                *source = Source::new(owner, stream, now);
            }
        } else {
            download.sources.push(Source::new(owner, stream, now)).map_err(|_| CommandError::TransfersFull)?;
        }
        self.assign_leaves();
        Ok(())
    }

    /// Stops download `request`: its owners are told to stop, and the
    /// leaves verified so far stay with the program.
    pub fn cancel_download(&mut self, now: Instant, request: RequestId) -> Result<(), CommandError> {
        self.now = now;
        let index = self
            .transfers
            .downloads
            .list
            .iter()
            .position(|d| d.request == request)
            .ok_or(CommandError::NoSuchDownload)?;
        self.finish_download(index);
        Ok(())
    }

    /// The downloads running.
    pub fn downloads(&self) -> impl Iterator<Item = &Download> {
        self.transfers.downloads.list.iter()
    }

    pub(crate) fn handle_block_proof(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        proof: BlockProof,
    ) -> Result<(), DropReason> {
        let request = self.stream_packet(from, header.txid, proof.pn)?;
        let content = self.transfers.downloads.get(request).map(|d| d.content).ok_or(DropReason::UnknownStream)?;
        let leaves = content.block_leaves(proof.block);
        if !crate::content::verify_block(&content, proof.block, &proof.values, &proof.siblings) {
            // A lie (or a proof of another file): counted like a bad leaf.
            self.bad_leaf(request, leaves.start, from);
            return Err(DropReason::InvalidReply);
        }
        for (leaf, value) in leaves.zip(proof.values) {
            if self.transfers.downloads.learn_value(request, leaf, value) {
                self.check_leaf(request, leaf);
            }
        }
        Ok(())
    }

    pub(crate) fn handle_data(&mut self, from: SocketAddrV6, header: &Header, data: Data) -> Result<(), DropReason> {
        if self.transfers.staged.is_full() {
            return Err(DropReason::WriteQueueFull);
        }
        let request = self.stream_packet(from, header.txid, data.pn)?;
        let content = self.transfers.downloads.get(request).map(|d| d.content).ok_or(DropReason::UnknownStream)?;
        let slot = self.transfers.downloads.slot_mut(request, data.leaf).filter(|s| s.source == from);
        let slot = slot.ok_or(DropReason::UnknownStream)?;
        if slot.check.add_chunk(&content, data.chunk, &data.bytes) {
            let offset = content.chunk_range(data.leaf, data.chunk).start;
            // Cannot fail: checked for room above.
            let _ = self.transfers.staged.push(Staged { request, offset, bytes: data.bytes });
            self.check_leaf(request, data.leaf);
        }
        Ok(())
    }

    pub(crate) fn handle_refuse(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        refuse: Refuse,
    ) -> Result<(), DropReason> {
        let now = self.now;
        let (request, source) =
            self.transfers.downloads.stream_mut(from, header.txid).ok_or(DropReason::UnknownStream)?;
        if refuse.reason == RefuseReason::Retry {
            if source.cookie == refuse.cookie {
                return Ok(());
            }
            // The owner wants our address proven — first contact, or it
            // restarted and numbers its packets afresh: the GET goes again
            // with its cookie, and what we acknowledge starts over.
            (source.cookie, source.get_due, source.last_heard) = (refuse.cookie, Some(now), now);
            source.received.clear();
            return Ok(());
        }
        if refuse.reason == RefuseReason::Busy {
            // Full for now: asked again later, like a silent source.
            source.unanswered = source.unanswered.saturating_add(1);
            source.retry_at = Some(now + BUSY_RETRY);
            self.emit(Event::SourceRefused { request, source: from, reason: refuse.reason });
            return Ok(());
        }
        source.state = SourceState::Refused(refuse.reason);
        self.emit(Event::SourceRefused { request, source: from, reason: refuse.reason });
        self.release_source(request, from);
        Ok(())
    }

    /// A packet `pn` arrived on stream `stream` from `from`: the source is
    /// heard and the packet acknowledged. Returns its download.
    fn stream_packet(&mut self, from: SocketAddrV6, stream: u64, pn: u32) -> Result<RequestId, DropReason> {
        let now = self.now;
        let (request, source) = self.transfers.downloads.stream_mut(from, stream).ok_or(DropReason::UnknownStream)?;
        if !source.is_active() {
            return Err(DropReason::UnknownStream);
        }
        if source.packet_arrived(pn, now) {
            let (to, stream) = (source.addr, source.stream);
            self.send(Outgoing::DataAck { to, request, stream });
        }
        Ok(request)
    }

    /// Checks leaf `leaf` of `request` once it is complete and its value
    /// known: verified, it is done; bad, it starts over with another
    /// source. Complete without a value, it asks its source for the proof.
    fn check_leaf(&mut self, request: RequestId, leaf: u32) {
        let Some(content) = self.transfers.downloads.get(request).map(|d| d.content) else { return };
        let downloads = &self.transfers.downloads;
        let Some(index) = downloads.slots.iter().position(|s| s.request == request && s.check.leaf() == leaf) else {
            return;
        };
        let slot = &downloads.slots[index];
        let Some(value) = slot.check.value(&content) else { return };
        let from = slot.source;
        let Some(expected) = slot.expected else {
            let now = self.now;
            self.mark_get(request, from, now);
            return;
        };
        if value != expected {
            self.bad_leaf(request, leaf, from);
            return;
        }
        self.transfers.downloads.slots.swap_remove(index);
        let Some(download) = self.transfers.downloads.get_mut(request) else { return };
        download.remaining = download.remaining.saturating_sub(1);
        if let Some(source) = download.sources.iter_mut().find(|s| s.addr == from) {
            source.good_leaves += 1;
        }
        self.emit(Event::LeafVerified { request, leaf, from });
        if download_done(&self.transfers.downloads, request) {
            if let Some(i) = self.transfers.downloads.list.iter().position(|d| d.request == request) {
                self.emit(Event::DownloadComplete { request, content });
                self.finish_download(i);
            }
            return;
        }
        self.assign_leaves();
    }

    /// `from` sent a bad leaf (or a bad proof for the block starting at
    /// `leaf`): counted, dropped after [`MAX_BAD_LEAVES`], and the leaf
    /// asked again of another source.
    fn bad_leaf(&mut self, request: RequestId, leaf: u32, from: SocketAddrV6) {
        let Some(download) = self.transfers.downloads.get_mut(request) else { return };
        let Some(source) = download.sources.iter_mut().find(|s| s.addr == from) else { return };
        source.bad_leaves += 1;
        let dropped = source.bad_leaves >= MAX_BAD_LEAVES;
        if dropped {
            source.state = SourceState::Lost;
        }
        let other = self.pick_source(request, Some(from));
        if let Some(slot) = self.transfers.downloads.slot_mut(request, leaf).filter(|s| s.source == from) {
            slot.restart();
            if let Some(other) = other {
                slot.source = other;
            }
        }
        self.emit(Event::LeafRejected { request, leaf, from });
        let now = self.now;
        if let Some(other) = other {
            self.mark_get(request, other, now);
        }
        self.mark_get(request, from, now);
        if dropped {
            self.emit(Event::SourceLost { request, source: from });
            self.release_source(request, from);
        }
        self.assign_leaves();
    }
}

/// True once download `request` has nothing left to verify.
fn download_done<A: crate::profile::Apps>(
    downloads: &crate::tables::downloads::Downloads<A>,
    request: RequestId,
) -> bool {
    downloads.get(request).is_some_and(|d| d.remaining == 0)
}
