//! The packets the owners' windows let out: each stream in turn sends its
//! next piece — a lost one first — while its bytes in flight are under its
//! congestion window; and the loss and probe timers of the streams.
//!
//! A packet is written with zeros where the file's bytes go, and the
//! [`Fill`] tells the driver which bytes to read there.

use crate::content::CHUNK_LEN;
use crate::event::{Fill, FillPiece};
use crate::node::Node;
use crate::profile::Profile;
use crate::tables::uploads::Piece;
use crate::time::Instant;
use crate::wire::{BlockProof, Data, Header, Message, Repr};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Writes the next packet a stream's window lets out into `buf`.
    pub(crate) fn next_upload_packet(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV6, usize, Fill)> {
        // A stream whose wish list held only leaves sent already yields nothing: try the next.
        (0..self.transfers.uploads.len()).find_map(|_| self.upload_packet(buf))
    }

    /// The next packet of the next stream in turn that has one to send.
    fn upload_packet(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV6, usize, Fill)> {
        let index = self.transfers.uploads.next_ready(|u| u.may_send() && u.has_work())?;
        let me = self.me;
        let now = self.now;
        let upload = self.transfers.uploads.at_mut(index)?;
        let content = upload.content;
        // Cannot be `None` but for leaves all sent already: then the next poll tries again.
        let piece = upload.next_piece()?;
        let (message, fill_len, fill_piece) = match piece {
            Piece::Proof(block) => {
                let leaves = content.block_leaves(block);
                let values = (leaves.end - leaves.start) as usize;
                let siblings = content.siblings_len(block);
                let proof = BlockProof {
                    pn: upload.next_pn,
                    block,
                    values: core::iter::repeat_n([0u8; 32], values).collect(),
                    siblings: core::iter::repeat_n([0u8; 32], siblings).collect(),
                };
                (Message::BlockProof(proof), (values + siblings) * 32, FillPiece::Proof { block })
            }
            Piece::Chunk(leaf, chunk) => {
                let range = content.chunk_range(leaf, chunk);
                let len = (range.end - range.start) as usize;
                let mut bytes = heapless::Vec::<u8, CHUNK_LEN>::new();
                // Cannot fail: a chunk is at most CHUNK_LEN bytes.
                let _ = bytes.resize(len, 0);
                let data = Data { pn: upload.next_pn, leaf, chunk, bytes };
                (Message::Data(data), len, FillPiece::Bytes { offset: range.start })
            }
        };
        let kind = message.message_type();
        let header = Header { flags: 0, hop_limit: 0, txid: upload.stream, sender: me };
        let to = upload.peer;
        let Ok(len) = (Repr { header, message }).emit(buf) else {
            self.stats.count_drop(crate::stats::DropReason::BufferTooSmall);
            return None;
        };
        upload.on_sent(now, piece, len);
        self.count_out(Some(kind), len);
        Some((to, len, Fill { content, piece: fill_piece, at: len - fill_len, len: fill_len }))
    }

    /// Serves the streams' loss and probe timers due at `now`; a stream
    /// whose downloader missed every probe ends.
    pub(crate) fn upload_timers(&mut self, now: Instant) {
        self.transfers
            .uploads
            .retain_mut(|upload| upload.deadline().is_none_or(|at| at > now) || upload.on_timeout(now));
    }
}
