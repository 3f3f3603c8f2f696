//! Sending a file or a stream to a conference: the sender paces its pieces
//! at the transfer's rate, each piece to every tree neighbour proven at its
//! address — a block's proof (with the signed announcement), then the
//! block's chunks — and the driver reads each piece's bytes into the
//! datagram ([`Fill`]). Here too the datagrams a conference sends when
//! polled: pieces passed on as they came, pieces a neighbour asked for
//! again, then the sender's next pieces.

use crate::conference::{ConferenceEvent, SessionId};
use crate::content::{ContentId, CHUNK_LEN};
use crate::event::{CommandError, Event, Fill, FillPiece};
use crate::identity::Signature;
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::conference_transfer::{piece_at, piece_count, ConfTransfer, Piece, MAX_CONF_LEAVES};
use crate::tables::conferences::{ConferenceError, Role};
use crate::wire::{Announcement, BlockProof, ConfData, ConfProof, Data, Header, Message, Repr};
use core::net::SocketAddrV6;
use core::time::Duration;

impl<P: Profile> Node<P> {
    /// Sends `content` — which the driver reads, as for a served file — to
    /// every member of conference `session`, named `name` (at most 32
    /// bytes), at `rate` bytes a second; `stream`: members play it as it
    /// comes. Returns the transfer's number, which its events carry.
    pub fn conference_send(
        &mut self,
        now: crate::time::Instant,
        session: SessionId,
        (content, name): (ContentId, &str),
        rate: u32,
        stream: bool,
    ) -> Result<u64, CommandError> {
        self.now = now;
        let conference =
            self.conferences.get(session).ok_or(CommandError::Conference(ConferenceError::UnknownSession))?;
        let certificate = match conference.role {
            Role::Creator => None,
            Role::Member(certificate) => Some(certificate),
            Role::Invited | Role::Answering { .. } => return Err(CommandError::Conference(ConferenceError::NotMember)),
        };
        if !content.is_valid() || content.size == 0 || content.leaf_count() > MAX_CONF_LEAVES {
            return Err(CommandError::ContentTooLarge);
        }
        let name = heapless::String::try_from(name).map_err(|_| CommandError::TextTooLong)?;
        if rate == 0 {
            return Err(CommandError::Conference(ConferenceError::ZeroRate));
        }
        let transfer = self.rng.next_u64();
        let sender = self.me.id;
        let mut announcement =
            Announcement { sender, certificate, content, rate, stream, name, signature: Signature([0; 64]) };
        announcement.signature = self.identity.sign(&announcement.signing_bytes(session, transfer));
        let request = self.next_request_id();
        let state = ConfTransfer::new((session, transfer), announcement, request, true, now);
        self.conference_transfers.add(state).map_err(|_| CommandError::TransfersFull)?;
        Ok(transfer)
    }

    /// The next conference datagram, if one waits: a piece passed on, a
    /// piece asked for again, or a sender's next piece once it is due.
    pub(crate) fn next_conference_packet(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV6, usize, Option<Fill>)> {
        if let Some(forward) = self.conference_out.forwards.first_mut() {
            let to = forward.to.pop();
            let len = forward.len;
            if forward.to.is_empty() {
                let forward = self.conference_out.forwards.remove(0);
                return self.copy_forward(buf, to?, &forward.bytes[..len]);
            }
            let bytes = forward.bytes;
            return self.copy_forward(buf, to?, &bytes[..len]);
        }
        while let Some(resend) = self.conference_out.resends.pop_front() {
            let packet = self.piece_packet(buf, (resend.session, resend.transfer, resend.pn), false);
            if let Some((len, fill)) = packet {
                return Some((resend.to, len, fill));
            }
        }
        self.next_sent_piece(buf)
    }

    fn copy_forward(
        &mut self,
        buf: &mut [u8],
        to: SocketAddrV6,
        bytes: &[u8],
    ) -> Option<(SocketAddrV6, usize, Option<Fill>)> {
        let Some(out) = buf.get_mut(..bytes.len()) else {
            self.stats.count_drop(crate::stats::DropReason::BufferTooSmall);
            return None;
        };
        out.copy_from_slice(bytes);
        self.count_out(bytes.get(3).copied().and_then(crate::wire::MessageType::from_u8), bytes.len());
        Some((to, bytes.len(), None))
    }

    /// The next piece of a transfer we send whose time has come, to its
    /// next neighbour; a piece sent to every neighbour moves the pace on.
    fn next_sent_piece(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV6, usize, Option<Fill>)> {
        loop {
            if let Some(packet) = self.next_sent_piece_once(buf)? {
                return Some(packet);
            }
        }
    }

    /// One step of [`next_sent_piece`](Node::next_sent_piece): `None` when
    /// nothing is due, `Some(None)` when the step sent nothing (no neighbour
    /// to send to, or the piece could not be written) but moved on.
    #[allow(clippy::type_complexity, reason = "a packet, nothing yet, or nothing due")]
    fn next_sent_piece_once(&mut self, buf: &mut [u8]) -> Option<Option<(SocketAddrV6, usize, Option<Fill>)>> {
        let now = self.now;
        let t = self
            .conference_transfers
            .iter()
            .find(|t| t.sends_more() && t.released.is_some_and(|by| t.send_at <= by))?;
        let (session, transfer, pn, next_to) = (t.session, t.transfer, t.front, usize::from(t.next_to));
        let tree = self.conferences.get(session).map(|c| &c.tree);
        let to = tree.and_then(|tree| tree.proven_neighbours().nth(next_to)).map(|link| link.locator.addr);
        let neighbours = tree.map_or(0, |tree| tree.proven_neighbours().count());
        let packet = to.and_then(|_| self.piece_packet(buf, (session, transfer, pn), true));
        let t = self.conference_transfers.get_mut(session, transfer)?;
        if to.is_some() && next_to + 1 < neighbours {
            t.next_to += 1;
        } else {
            let content = *t.content();
            let bytes = match piece_at(&content, pn) {
                Some(Piece::Chunk(leaf, chunk)) => {
                    content.chunk_range(leaf, chunk).end - content.chunk_range(leaf, chunk).start
                }
                _ => 0,
            };
            (t.next_to, t.front) = (0, pn + 1);
            t.send_at = t.send_at + Duration::from_micros(bytes * 1_000_000 / u64::from(t.announcement.rate.max(1)));
            if t.front >= piece_count(&content) {
                t.finished = Some(now);
                self.emit(Event::Conference(ConferenceEvent::Sent { session, transfer }));
            }
        }
        Some(match (to, packet) {
            (Some(to), Some((len, fill))) => Some((to, len, fill)),
            // Nobody to send to now, or the piece could not be written: the next one.
            _ => None,
        })
    }

    /// Writes piece `pn` of a transfer into `buf`: from the proof we keep,
    /// or with a [`Fill`] for the driver to read its bytes (ours, or the
    /// file we received). A piece asked for again must be one we have;
    /// the sender's `next` piece is the one it is sending now.
    fn piece_packet(
        &mut self,
        buf: &mut [u8],
        (session, transfer, pn): (SessionId, u64, u32),
        next: bool,
    ) -> Option<(usize, Option<Fill>)> {
        let t = self.conference_transfers.get(session, transfer)?;
        let content = *t.content();
        let piece = piece_at(&content, pn).filter(|piece| next || t.has(*piece))?;
        let (message, fill) = match piece {
            Piece::Proof(block) => {
                let (values, siblings) = match t.proof(block) {
                    Some((_, values, siblings)) if !t.source => (values.clone(), siblings.clone()),
                    _ => {
                        let values = (content.block_leaves(block).end - content.block_leaves(block).start) as usize;
                        let values: crate::content::BlockValues = core::iter::repeat_n([0u8; 32], values).collect();
                        let siblings: crate::content::Siblings =
                            core::iter::repeat_n([0u8; 32], content.siblings_len(block)).collect();
                        (values, siblings)
                    }
                };
                let fill_len = if t.source { (values.len() + siblings.len()) * 32 } else { 0 };
                let proof = BlockProof { pn, block, values, siblings };
                let message = ConfProof { session, transfer, announcement: t.announcement.clone(), proof };
                (Message::ConfProof(message), (fill_len > 0).then_some((FillPiece::Proof { block }, fill_len)))
            }
            Piece::Chunk(leaf, chunk) => {
                let range = content.chunk_range(leaf, chunk);
                let len = (range.end - range.start) as usize;
                let mut bytes = heapless::Vec::<u8, CHUNK_LEN>::new();
                // Cannot fail: a chunk is at most CHUNK_LEN bytes.
                let _ = bytes.resize(len, 0);
                let data = Data { pn, leaf, chunk, bytes };
                (
                    Message::ConfData(ConfData { session, transfer, data }),
                    Some((FillPiece::Bytes { offset: range.start }, len)),
                )
            }
        };
        let header = Header { flags: 0, hop_limit: 0, txid: transfer, sender: self.me };
        let kind = message.message_type();
        let Ok(len) = (Repr { header, message }).emit(buf) else {
            self.stats.count_drop(crate::stats::DropReason::BufferTooSmall);
            return None;
        };
        self.count_out(Some(kind), len);
        let fill = fill.map(|(piece, fill_len)| Fill { content, piece, at: len - fill_len, len: fill_len });
        Some((len, fill))
    }

    /// The conference transfers we send or receive.
    pub fn conference_transfers(&self) -> &crate::tables::conference_transfer::ConferenceTransfers<P::Apps> {
        &self.conference_transfers
    }

    /// When a transfer we send next has a piece due that is not released yet.
    pub(crate) fn next_piece_due(&self) -> Option<crate::time::Instant> {
        let sending = self.conference_transfers.iter().filter(|t| t.sends_more());
        sending.filter(|t| t.released.is_none_or(|by| t.send_at > by)).map(|t| t.send_at).min()
    }

    /// Releases the pieces of our transfers due by `now` to the next drain
    /// (the pace is kept by `send_at`; `poll_output` sends them).
    pub(crate) fn release_pieces(&mut self, now: crate::time::Instant) {
        for t in self.conference_transfers.iter_mut().filter(|t| t.sends_more() && t.send_at <= now) {
            t.released = Some(now);
        }
    }
}
