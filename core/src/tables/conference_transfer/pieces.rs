//! A transfer's pieces, numbered in sending order: per block of
//! [`BLOCK_LEAVES`] leaves, its proof, then each chunk of each leaf.

use crate::content::{ContentId, BLOCK_LEAVES, CHUNKS_PER_LEAF};

/// Pieces per full block: its proof, then its leaves' chunks.
const PIECES_PER_BLOCK: u32 = 1 + BLOCK_LEAVES * CHUNKS_PER_LEAF as u32;

/// One piece of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Block `.0`'s proof.
    Proof(u32),
    /// Chunk `.1` of leaf `.0`.
    Chunk(u32, u8),
}

/// Piece `piece`'s number in `content`'s sending order.
pub fn piece_number(piece: Piece) -> u32 {
    match piece {
        Piece::Proof(block) => block.saturating_mul(PIECES_PER_BLOCK),
        Piece::Chunk(leaf, chunk) => (leaf / BLOCK_LEAVES)
            .saturating_mul(PIECES_PER_BLOCK)
            .saturating_add(1 + (leaf % BLOCK_LEAVES) * CHUNKS_PER_LEAF as u32 + u32::from(chunk)),
    }
}

/// The piece numbered `pn` in `content`, if it has one.
pub fn piece_at(content: &ContentId, pn: u32) -> Option<Piece> {
    let (block, rest) = (pn / PIECES_PER_BLOCK, pn % PIECES_PER_BLOCK);
    if block >= content.block_count() {
        return None;
    }
    if rest == 0 {
        return Some(Piece::Proof(block));
    }
    let leaf = block * BLOCK_LEAVES + (rest - 1) / CHUNKS_PER_LEAF as u32;
    let chunk = ((rest - 1) % CHUNKS_PER_LEAF as u32) as u8;
    (leaf < content.leaf_count() && chunk < content.chunk_count(leaf)).then_some(Piece::Chunk(leaf, chunk))
}

/// The number after `content`'s last piece.
pub fn piece_count(content: &ContentId) -> u32 {
    let last = content.leaf_count().saturating_sub(1);
    piece_number(Piece::Chunk(last, content.chunk_count(last).saturating_sub(1))) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::LEAF_LEN;

    #[test]
    fn pieces_number_proofs_then_chunks_block_by_block() {
        // 13 leaves of 16 KiB less a bit: two blocks, the last leaf short.
        let content = ContentId { root: [0; 32], size: 12 * LEAF_LEN as u64 + 3000 };
        assert_eq!(piece_number(Piece::Proof(0)), 0);
        assert_eq!(piece_number(Piece::Chunk(0, 0)), 1);
        assert_eq!(piece_number(Piece::Chunk(7, 15)), 128);
        assert_eq!(piece_number(Piece::Proof(1)), 129);
        assert_eq!(piece_number(Piece::Chunk(8, 0)), 130);
        for pn in 0..piece_count(&content) {
            let piece = piece_at(&content, pn).unwrap_or_else(|| panic!("piece {pn}"));
            assert_eq!(piece_number(piece), pn);
        }
        // The last leaf has three chunks: the numbers after them name nothing.
        assert_eq!(piece_at(&content, piece_count(&content)), None);
        assert_eq!(piece_count(&content), 129 + 1 + 4 * 16 + 3);
    }
}
