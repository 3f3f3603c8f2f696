//! Receiving a conference transfer: pieces are taken only from a tree
//! neighbour; the first proof's announcement must be signed by a member the
//! creator certified; each proof is checked against the file's root, each
//! leaf against its proof. A piece new at the front of the transfer goes on
//! at once to every other proven neighbour (cut through, before its leaf
//! is checked: each member checks every leaf itself); its bytes go to the
//! driver to write. A stream's first leaf plays a playout buffer after it
//! came, and each next leaf at the stream's rate after that.

use crate::conference::{ConferenceEvent, SessionId};
use crate::content::{verify_block, BLOCK_LEAVES};
use crate::event::Event;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conference_out::Forward;
use crate::tables::conference_transfer::{piece_number, ConfTransfer, Piece, Playout, MAX_CONF_LEAVES, PLAYOUT_BUFFER};
use crate::tables::downloads::Staged;
use crate::wire::{Announcement, ConfData, ConfProof, Header, Message, Repr, MAX_DATAGRAM};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    pub(crate) fn handle_conf_proof(&mut self, from: SocketAddrV6, proof: ConfProof) -> Result<(), DropReason> {
        let (session, transfer) = (proof.session, proof.transfer);
        self.check_tree_neighbour(session, from)?;
        if self.conference_transfers.get(session, transfer).is_none() {
            // A proof that does not hash to the announced root announces nothing.
            let (content, block) = (proof.announcement.content, proof.proof.block);
            if block >= content.block_count()
                || !verify_block(&content, block, &proof.proof.values, &proof.proof.siblings)
            {
                return Err(DropReason::BadSignature);
            }
            self.take_announcement(session, transfer, &proof.announcement)?;
            if let Some(t) = self.conference_transfers.get_mut(session, transfer).filter(|t| t.announcement.stream) {
                // A stream is joined where it is: its window starts at this block.
                t.base = proof.proof.block * BLOCK_LEAVES;
            }
        }
        let t = self.conference_transfers.get_mut(session, transfer).ok_or(DropReason::UnknownStream)?;
        let wanted = t.wanted_proofs.contains(&proof.proof.block);
        if t.source || (t.finished.is_some() && !wanted) {
            return Ok(());
        }
        let (content, block) = (*t.content(), proof.proof.block);
        if t.announcement != proof.announcement
            || block >= content.block_count()
            || proof.proof.pn != piece_number(Piece::Proof(block))
        {
            return Err(DropReason::InvalidReply);
        }
        let fresh = t.proof(block).is_none();
        if fresh {
            if !verify_block(&content, block, &proof.proof.values, &proof.proof.siblings) {
                return Err(DropReason::BadSignature);
            }
            // Not kept (beyond the window): asked for again later.
            t.keep_proof(block, proof.proof.values.clone(), proof.proof.siblings.clone());
        }
        let pn = proof.proof.pn;
        if fresh {
            self.piece_came(session, transfer, pn);
        }
        if self.note_piece(session, transfer, pn, from) && fresh {
            self.pass_on(session, from, Message::ConfProof(proof));
        }
        for leaf in content.block_leaves(block) {
            self.check_conference_leaf(session, transfer, leaf);
        }
        Ok(())
    }

    /// Takes a new transfer's announcement, if a member signed it.
    fn take_announcement(&mut self, session: SessionId, transfer: u64, a: &Announcement) -> Result<(), DropReason> {
        let key = self.member_key(session, a.sender, a.certificate)?;
        key.verify(&a.signing_bytes(session, transfer), &a.signature).map_err(|_| DropReason::BadSignature)?;
        if !a.content.is_valid() || a.content.size == 0 || a.content.leaf_count() > MAX_CONF_LEAVES || a.rate == 0 {
            return Err(DropReason::InvalidReply);
        }
        let request = self.next_request_id();
        let state = ConfTransfer::new((session, transfer), a.clone(), request, false, self.now);
        self.conference_transfers.add(state).map_err(|_| DropReason::ConferencesFull)?;
        let (sender, content, name, rate, stream) = (a.sender, a.content, a.name.clone(), a.rate, a.stream);
        let offered = ConferenceEvent::Offered { session, transfer, request, sender, content, name, rate, stream };
        self.emit(Event::Conference(offered));
        Ok(())
    }

    pub(crate) fn handle_conf_data(&mut self, from: SocketAddrV6, data: ConfData) -> Result<(), DropReason> {
        let (session, transfer) = (data.session, data.transfer);
        self.check_tree_neighbour(session, from)?;
        let staged_full = self.transfers.staged.is_full();
        let Some(t) = self.conference_transfers.get_mut(session, transfer) else {
            self.ask_announcement(session, transfer, data.data.leaf, from);
            return Err(DropReason::UnknownStream);
        };
        if t.source || t.finished.is_some() {
            return Ok(());
        }
        let content = *t.content();
        let (leaf, chunk, pn) = (data.data.leaf, data.data.chunk, data.data.pn);
        let range = content.chunk_range(leaf, chunk);
        let fits = leaf < content.leaf_count()
            && chunk < content.chunk_count(leaf)
            && data.data.bytes.len() as u64 == range.end - range.start
            && pn == piece_number(Piece::Chunk(leaf, chunk));
        if !fits {
            return Err(DropReason::InvalidReply);
        }
        let fresh = !t.has(Piece::Chunk(leaf, chunk));
        if fresh {
            // Beyond the window or no room to assemble: dropped, asked for later.
            let Some(slot) = t.slot(leaf) else { return Ok(()) };
            if staged_full {
                return Err(DropReason::WriteQueueFull);
            }
            let Some(at) = t.assembly_slot(leaf) else { return Ok(()) };
            let check = &mut t.assembling[at];
            check.add_chunk(&content, chunk, &data.data.bytes);
            t.have[slot] |= 1 << chunk;
            let request = t.request;
            let staged = Staged { request, offset: range.start, bytes: data.data.bytes.clone() };
            // Cannot fail: room was checked above.
            let _ = self.transfers.staged.push(staged);
        }
        if fresh {
            self.piece_came(session, transfer, pn);
        }
        if self.note_piece(session, transfer, pn, from) && fresh {
            self.pass_on(session, from, Message::ConfData(data));
        }
        if fresh {
            self.check_conference_leaf(session, transfer, leaf);
        }
        Ok(())
    }

    /// Piece `pn` came: the neighbours that asked us for it get it.
    fn piece_came(&mut self, session: SessionId, transfer: u64, pn: u32) {
        for _ in 0..self.conference_out.piece_came(session, transfer, pn) {
            self.stats.count_drop(DropReason::OutboxFull);
        }
    }

    /// Sends `message` on to every proven tree neighbour but `from`,
    /// encoded now; with no room, they ask for it later.
    fn pass_on(&mut self, session: SessionId, from: SocketAddrV6, message: Message) {
        let Some(conference) = self.conferences.get(session) else { return };
        let to = conference.tree.addresses(true, Some(from));
        if to.is_empty() {
            return;
        }
        let txid = match &message {
            Message::ConfData(d) => d.transfer,
            Message::ConfProof(p) => p.transfer,
            _ => 0,
        };
        let header = Header { flags: 0, hop_limit: 0, txid, sender: self.me };
        let mut forward = Forward { bytes: [0; MAX_DATAGRAM], len: 0, to };
        match (Repr { header, message }).emit(&mut forward.bytes) {
            Ok(len) => forward.len = len,
            Err(_) => return self.stats.count_drop(DropReason::BufferTooSmall),
        }
        if self.conference_out.forwards.push(forward).is_err() {
            self.stats.count_drop(DropReason::OutboxFull);
        }
    }

    /// Records that piece `pn` came from `from`: true if it is new at the
    /// transfer's front (to go on); a gap behind the front schedules a pull.
    /// A piece from our parent shows it alive.
    fn note_piece(&mut self, session: SessionId, transfer: u64, pn: u32, from: SocketAddrV6) -> bool {
        let now = self.now;
        if let Ok(conference) = self.conferences.get_mut(session) {
            let tree = &mut conference.tree;
            if tree.parent.is_some_and(|p| p.locator.addr == from) {
                (tree.data_at, tree.suspect) = (Some(now), None);
            }
        }
        let Some(t) = self.conference_transfers.get_mut(session, transfer) else { return false };
        t.upstream = Some(from);
        if pn < t.front {
            return false;
        }
        if pn > t.front {
            let due = now + super::pull::PULL_DELAY;
            t.pull_at = Some(t.pull_at.map_or(due, |at| at.min(due)));
        }
        (t.front, t.front_at) = (pn + 1, now);
        true
    }

    /// Checks leaf `leaf` once all its chunks and its value are in: good,
    /// the window moves on; bad, it is forgotten and asked for again.
    fn check_conference_leaf(&mut self, session: SessionId, transfer: u64, leaf: u32) {
        let now = self.now;
        let Some(t) = self.conference_transfers.get_mut(session, transfer) else { return };
        let content = *t.content();
        let Some(check) = t.assembling.iter().find(|c| c.leaf() == leaf) else { return };
        let (Some(value), Some(expected)) = (check.value(&content), t.leaf_value(leaf)) else { return };
        if value != expected {
            t.leaf_rejected(leaf);
            t.pull_at.get_or_insert(now);
            return;
        }
        let first = t.base;
        t.leaf_verified(leaf);
        if t.announcement.stream && t.playout.is_none() {
            let start = now + PLAYOUT_BUFFER;
            t.playout = Some(Playout { first, start, next: first, played: 0, missed: 0 });
            let startup = start.saturating_duration_since(t.started);
            self.emit(Event::Conference(ConferenceEvent::StreamStarted { session, transfer, startup }));
        } else if !t.announcement.stream && t.is_complete() {
            t.finished = Some(now);
            let request = t.request;
            self.emit(Event::Conference(ConferenceEvent::Received { session, transfer, request }));
        }
    }

    /// When a stream next plays a leaf.
    pub(crate) fn next_playout(&self) -> Option<crate::time::Instant> {
        self.conference_transfers
            .iter()
            .filter(|t| t.finished.is_none())
            .filter_map(|t| t.playout.map(|p| p.deadline(p.next, t.announcement.rate)))
            .min()
    }

    /// Plays every leaf whose time has come: there, it counts as played;
    /// missing, as missed, and the window moves past it.
    pub(crate) fn play_streams(&mut self, now: crate::time::Instant) {
        let mut ended: heapless::Vec<
            (SessionId, u64, u32, u32),
            { crate::tables::conference_transfer::MAX_CONF_TRANSFERS },
        > = heapless::Vec::new();
        for t in self.conference_transfers.iter_mut().filter(|t| t.finished.is_none()) {
            let (rate, leaves) = (t.announcement.rate, t.content().leaf_count());
            while let Some(mut playout) = t.playout.filter(|p| p.next < leaves && p.deadline(p.next, rate) <= now) {
                let there = playout.next < t.base || t.slot(playout.next).is_some_and(|i| t.verified & (1 << i) != 0);
                if there {
                    playout.played += 1;
                } else {
                    playout.missed += 1;
                }
                playout.next += 1;
                t.playout = Some(playout);
                while t.base < playout.next {
                    t.skip_one();
                }
            }
            if let Some(p) = t.playout.filter(|p| p.next >= leaves) {
                t.finished = Some(now);
                // Cannot overflow: one entry per transfer.
                let _ = ended.push((t.session, t.transfer, p.played, p.missed));
            }
        }
        for (session, transfer, played, missed) in ended {
            self.emit(Event::Conference(ConferenceEvent::StreamEnded { session, transfer, played, missed }));
        }
    }
}
