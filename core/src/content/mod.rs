//! Content addressing: a file is named by its size and its BLAKE3 hash.
//!
//! BLAKE3 already hashes its input as a Merkle tree of 1 KiB chunks, left
//! subtrees always a power of two long. This module cuts that same tree at
//! [`LEAF_LEN`] (16 KiB, as BitTorrent v2's BEP 52 does): every leaf is one
//! complete subtree with a *value* (its chaining value), and the tree above
//! the leaves pairs neighbours level by level, an odd node out at the right
//! edge moving up unchanged. That is BLAKE3's shape, so the root is exactly
//! `blake3::hash(file)`.
//!
//! Leaves are proven in **blocks** of [`BLOCK_LEAVES`]: a block's proof is
//! its leaves' values and the siblings of the block's subtree up the tree
//! ([`block_proof`]). A downloader that knows only a [`ContentId`] checks
//! the proof against the root ([`verify_block`]), and from then on each
//! leaf of the block alone, as its chunks arrive ([`LeafCheck`]), from any
//! owner — a bad leaf is fetched again alone. A proof costs some 75 bytes
//! per leaf of a 64 MiB file, against 441 for a proof per leaf.
//!
//! Who does what: the program hashes a shared file once ([`leaf_value`]
//! per leaf, [`build_levels`] for the levels above, both without an
//! allocator) and answers proofs with [`block_proof`]; a downloader's core
//! checks proofs and chunks as they come.
//!
//! ```
//! use mmp2p_core::content::{self, ContentId, LeafCheck, CHUNK_LEN, LEAF_LEN};
//!
//! let file: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
//! let id = ContentId::of(&file);
//! assert_eq!(id.root, *blake3::hash(&file).as_bytes());
//! assert_eq!((id.leaf_count(), id.block_count()), (13, 2));
//!
//! // The owner: leaf values, then the levels above them.
//! let mut tree = vec![[0u8; 32]; content::tree_len(id.leaf_count())];
//! for leaf in 0..id.leaf_count() {
//!     let range = id.leaf_range(leaf);
//!     tree[leaf as usize] = content::leaf_value(&id, leaf, &file[range.start as usize..range.end as usize]);
//! }
//! content::build_levels(id.leaf_count(), &mut tree);
//! let (values, siblings) = content::block_proof(id.leaf_count(), &tree, 1);
//!
//! // The downloader: block 1's proof against the root, then leaf 9's
//! // chunks in any order against its value.
//! assert!(content::verify_block(&id, 1, &values, &siblings));
//! let mut check = LeafCheck::new(9);
//! for chunk in (0..id.chunk_count(9)).rev() {
//!     let at = 9 * LEAF_LEN + usize::from(chunk) * CHUNK_LEN;
//!     check.add_chunk(&id, chunk, &file[at..(at + CHUNK_LEN).min(file.len())]);
//! }
//! assert_eq!(check.value(&id), Some(values[1]));
//! ```

use blake3::hazmat::{merge_subtrees_non_root, merge_subtrees_root, HasherExt, Mode};
use core::ops::Range;

/// A BLAKE3 chunk, and the payload of one DATA datagram.
pub const CHUNK_LEN: usize = blake3::CHUNK_LEN;
/// Chunks per leaf.
pub const CHUNKS_PER_LEAF: usize = 16;
/// The unit a downloader checks, and fetches again if it is bad.
pub const LEAF_LEN: usize = CHUNK_LEN * CHUNKS_PER_LEAF;
/// The largest file the transfer protocol names: 1 TiB.
pub const MAX_FILE_SIZE: u64 = 1 << 40;
/// Levels above the leaves in the largest tree (2²⁶ leaves of 16 KiB make 1 TiB).
pub const MAX_LEVELS: u32 = 26;
/// Leaves a block proof covers.
pub const BLOCK_LEAVES: u32 = 1 << BLOCK_LEVEL;
/// The level of a block's subtree root.
pub const BLOCK_LEVEL: u32 = 3;
/// The most siblings above a block.
pub const MAX_BLOCK_SIBLINGS: usize = (MAX_LEVELS - BLOCK_LEVEL) as usize;

/// A BLAKE3 hash or chaining value.
pub type Hash = [u8; 32];

/// A block's leaf values, in order.
pub type BlockValues = heapless::Vec<Hash, { BLOCK_LEAVES as usize }>;

/// A block's siblings up the tree, nearest first.
pub type Siblings = heapless::Vec<Hash, MAX_BLOCK_SIBLINGS>;

/// What names a file's content: its BLAKE3 hash and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ContentId {
    /// `blake3::hash` of the whole file, the root of its leaf tree.
    pub root: Hash,
    /// The file's size in bytes.
    pub size: u64,
}

impl ContentId {
    /// The bytes on the wire: root, then size (big-endian).
    pub const WIRE_LEN: usize = 32 + 8;

    /// The ID of `bytes` (for tests and small files; the program hashes
    /// large files in pieces).
    pub fn of(bytes: &[u8]) -> ContentId {
        ContentId { root: *blake3::hash(bytes).as_bytes(), size: bytes.len() as u64 }
    }

    /// True if the transfer protocol can name this file (at most [`MAX_FILE_SIZE`]).
    pub fn is_valid(&self) -> bool {
        self.size <= MAX_FILE_SIZE
    }

    /// How many leaves the file has (0 for an empty file).
    pub fn leaf_count(&self) -> u32 {
        leaf_count_of(self.size)
    }

    /// The byte range leaf `leaf` covers (empty past the end).
    pub fn leaf_range(&self, leaf: u32) -> Range<u64> {
        let start = (u64::from(leaf) * LEAF_LEN as u64).min(self.size);
        start..(start + LEAF_LEN as u64).min(self.size)
    }

    /// How many chunks leaf `leaf` has (0 past the end).
    pub fn chunk_count(&self, leaf: u32) -> u8 {
        let range = self.leaf_range(leaf);
        (range.end - range.start).div_ceil(CHUNK_LEN as u64) as u8
    }

    /// The byte range of chunk `chunk` of leaf `leaf` (empty past the end).
    pub fn chunk_range(&self, leaf: u32, chunk: u8) -> Range<u64> {
        let leaf_range = self.leaf_range(leaf);
        let start = (leaf_range.start + u64::from(chunk) * CHUNK_LEN as u64).min(leaf_range.end);
        start..(start + CHUNK_LEN as u64).min(leaf_range.end)
    }

    /// How many blocks of [`BLOCK_LEAVES`] the leaves make.
    pub fn block_count(&self) -> u32 {
        self.leaf_count().div_ceil(BLOCK_LEAVES)
    }

    /// The leaves of block `block` (empty past the end).
    pub fn block_leaves(&self, block: u32) -> Range<u32> {
        let count = self.leaf_count();
        let start = block.saturating_mul(BLOCK_LEAVES).min(count);
        start..start.saturating_add(BLOCK_LEAVES).min(count)
    }

    /// How many siblings block `block`'s proof holds.
    pub fn siblings_len(&self, block: u32) -> usize {
        let count = self.leaf_count();
        (BLOCK_LEVEL..levels(count))
            .filter(|&level| sibling(count, level, block >> (level - BLOCK_LEVEL)).is_some())
            .count()
    }
}

/// How many leaves a file of `size` bytes has (0 for an empty file).
pub fn leaf_count_of(size: u64) -> u32 {
    size.div_ceil(LEAF_LEN as u64).min(u64::from(u32::MAX)) as u32
}

/// The leaves of `0..leaf_count` not `verified`, as ranges in order: what a
/// resumed download passes as `missing`, read from a bitmap.
pub fn missing_ranges(leaf_count: u32, verified: impl Fn(u32) -> bool) -> impl Iterator<Item = Range<u32>> {
    let mut leaf = 0;
    core::iter::from_fn(move || {
        while leaf < leaf_count && verified(leaf) {
            leaf += 1;
        }
        let start = leaf;
        while leaf < leaf_count && !verified(leaf) {
            leaf += 1;
        }
        (start < leaf).then_some(start..leaf)
    })
}

/// Levels above the leaves in a tree of `leaf_count` leaves.
pub fn levels(leaf_count: u32) -> u32 {
    match leaf_count {
        0 | 1 => 0,
        n => u32::BITS - (n - 1).leading_zeros(),
    }
}

/// How many nodes a level holds: `leaf_count` halved `level` times, rounded up.
pub fn level_width(leaf_count: u32, level: u32) -> u32 {
    if level >= u32::BITS {
        return u32::from(leaf_count > 0);
    }
    leaf_count.div_ceil(1 << level)
}

/// The sibling of node `index` on `level`, if it has one (an odd node out
/// at the right edge has none: it moves up unchanged).
pub fn sibling(leaf_count: u32, level: u32, index: u32) -> Option<u32> {
    let other = index ^ 1;
    (other < level_width(leaf_count, level)).then_some(other)
}

/// The node values a whole tree of `leaf_count` leaves holds: every level,
/// leaves first.
pub fn tree_len(leaf_count: u32) -> usize {
    (0..=levels(leaf_count)).map(|level| level_width(leaf_count, level) as usize).sum()
}

/// Where `level` starts in a tree laid out by [`build_levels`].
fn level_start(leaf_count: u32, level: u32) -> usize {
    (0..level).map(|l| level_width(leaf_count, l) as usize).sum()
}

/// Fills the levels above the leaves: `tree` holds [`tree_len`] values,
/// the `leaf_count` leaf values first (from [`leaf_value`]); each level
/// follows the one below it. The last value is then the root.
///
/// # Panics
/// If `tree` is shorter than [`tree_len`]`(leaf_count)`.
pub fn build_levels(leaf_count: u32, tree: &mut [Hash]) {
    let top = levels(leaf_count);
    for level in 1..=top {
        let (below, here) = (level_start(leaf_count, level - 1), level_start(leaf_count, level));
        for index in 0..level_width(leaf_count, level) {
            let left = tree[below + 2 * index as usize];
            let value = match sibling(leaf_count, level - 1, 2 * index) {
                Some(right) => parent(&left, &tree[below + right as usize], level == top),
                None => left,
            };
            tree[here + index as usize] = value;
        }
    }
}

/// Hashes a whole file held in memory: its ID, and its tree (every level,
/// leaves first) written into `tree`, which holds [`tree_len`] values of its
/// leaf count. A program hashing a file on disk calls [`leaf_value`] leaf by
/// leaf and then [`build_levels`] instead.
///
/// # Panics
/// If `tree` is shorter than the tree.
pub fn hash_tree(bytes: &[u8], tree: &mut [Hash]) -> ContentId {
    let id = ContentId::of(bytes);
    for leaf in 0..id.leaf_count() {
        let range = id.leaf_range(leaf);
        tree[leaf as usize] = leaf_value(&id, leaf, &bytes[range.start as usize..range.end as usize]);
    }
    build_levels(id.leaf_count(), tree);
    id
}

/// Writes block `block`'s proof as a BLOCK_PROOF carries it — the values,
/// then the siblings, 32 bytes each — into `out` (what a driver does for a
/// [`Fill`](crate::event::Fill) of a proof). Returns the bytes written.
///
/// # Panics
/// If `tree` is shorter than [`tree_len`]`(leaf_count)`.
pub fn write_block_proof(leaf_count: u32, tree: &[Hash], block: u32, out: &mut [u8]) -> usize {
    let (values, siblings) = block_proof(leaf_count, tree, block);
    let mut written = 0;
    for (slot, value) in out.chunks_exact_mut(32).zip(values.iter().chain(siblings.iter())) {
        slot.copy_from_slice(value);
        written += 32;
    }
    written
}

/// Block `block`'s proof, read from a tree laid out by [`build_levels`]:
/// its leaves' values and the siblings above it.
///
/// # Panics
/// If `tree` is shorter than [`tree_len`]`(leaf_count)`.
pub fn block_proof(leaf_count: u32, tree: &[Hash], block: u32) -> (BlockValues, Siblings) {
    let first = block.saturating_mul(BLOCK_LEAVES).min(leaf_count);
    let values =
        tree[first as usize..first.saturating_add(BLOCK_LEAVES).min(leaf_count) as usize].iter().copied().collect();
    let mut siblings = Siblings::new();
    for level in BLOCK_LEVEL..levels(leaf_count) {
        if let Some(other) = sibling(leaf_count, level, block >> (level - BLOCK_LEVEL)) {
            // Cannot overflow: MAX_FILE_SIZE keeps the tree to MAX_LEVELS.
            let _ = siblings.push(tree[level_start(leaf_count, level) + other as usize]);
        }
    }
    (values, siblings)
}

/// True if block `block` of `content`, with these leaf values and
/// siblings, hashes to the root.
pub fn verify_block(content: &ContentId, block: u32, values: &[Hash], siblings: &[Hash]) -> bool {
    let leaves = content.leaf_count();
    let range = content.block_leaves(block);
    if range.is_empty() || values.len() != (range.end - range.start) as usize || !content.is_valid() {
        return false;
    }
    if leaves == 1 {
        return siblings.is_empty() && values[0] == content.root;
    }
    let top = levels(leaves);
    // Fold the block's values up to its subtree's root.
    let mut nodes = [[0u8; 32]; BLOCK_LEAVES as usize];
    nodes[..values.len()].copy_from_slice(values);
    let mut count = values.len();
    for level in 0..BLOCK_LEVEL.min(top) {
        let mut next = 0;
        for i in (0..count).step_by(2) {
            nodes[next] = if i + 1 < count { parent(&nodes[i], &nodes[i + 1], level + 1 == top) } else { nodes[i] };
            next += 1;
        }
        count = next;
    }
    // Then up the tree with the siblings.
    let (mut value, mut used) = (nodes[0], 0);
    for level in BLOCK_LEVEL..top {
        let index = block >> (level - BLOCK_LEVEL);
        if let Some(other) = sibling(leaves, level, index) {
            let Some(theirs) = siblings.get(used) else { return false };
            used += 1;
            value = if other > index {
                parent(&value, theirs, level + 1 == top)
            } else {
                parent(theirs, &value, level + 1 == top)
            };
        }
    }
    used == siblings.len() && value == content.root
}

/// The value of leaf `leaf` of `content` whose bytes are `bytes` (a
/// chaining value; for a one-leaf file, the root itself).
pub fn leaf_value(content: &ContentId, leaf: u32, bytes: &[u8]) -> Hash {
    let offset = content.leaf_range(leaf).start;
    if content.leaf_count() <= 1 {
        return *blake3::hash(bytes).as_bytes();
    }
    blake3::Hasher::new().set_input_offset(offset).update(bytes).finalize_non_root()
}

/// The parent of two subtrees: a chaining value, or the root at the top.
fn parent(left: &Hash, right: &Hash, root: bool) -> Hash {
    if root {
        *merge_subtrees_root(left, right, Mode::Hash).as_bytes()
    } else {
        merge_subtrees_non_root(left, right, Mode::Hash)
    }
}

/// A leaf being received: the chunks' chaining values as they come, in any
/// order, then one check against the file's root. The chunks' bytes need
/// not be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafCheck {
    /// Which leaf.
    leaf: u32,
    /// Chaining values of the chunks received (or, for a one-chunk file,
    /// the hash of the file).
    chunks: [Hash; CHUNKS_PER_LEAF],
    /// Bit `i`: chunk `i` received.
    have: u16,
}

impl LeafCheck {
    /// Nothing received yet of leaf `leaf`.
    pub fn new(leaf: u32) -> LeafCheck {
        LeafCheck { leaf, chunks: [[0; 32]; CHUNKS_PER_LEAF], have: 0 }
    }

    /// The leaf this checks.
    pub fn leaf(&self) -> u32 {
        self.leaf
    }

    /// Bit `i` set: chunk `i` received.
    pub fn received(&self) -> u16 {
        self.have
    }

    /// True once every chunk of the leaf is in.
    pub fn is_complete(&self, content: &ContentId) -> bool {
        let count = content.chunk_count(self.leaf);
        count > 0 && self.have.count_ones() == u32::from(count)
    }

    /// Takes chunk `chunk`'s bytes. Returns false, changing nothing, if the
    /// chunk is out of the leaf, already in, or of the wrong length.
    pub fn add_chunk(&mut self, content: &ContentId, chunk: u8, bytes: &[u8]) -> bool {
        let range = content.chunk_range(self.leaf, chunk);
        let bit = 1u16.checked_shl(u32::from(chunk)).unwrap_or(0);
        if bit == 0 || self.have & bit != 0 || range.is_empty() || bytes.len() as u64 != range.end - range.start {
            return false;
        }
        self.chunks[usize::from(chunk)] = if content.size <= CHUNK_LEN as u64 {
            *blake3::hash(bytes).as_bytes()
        } else {
            blake3::Hasher::new().set_input_offset(range.start).update(bytes).finalize_non_root()
        };
        self.have |= bit;
        true
    }

    /// The complete leaf's value (for a one-leaf file, the root), to compare
    /// with the value its block's proof gave; `None` while chunks are missing.
    pub fn value(&self, content: &ContentId) -> Option<Hash> {
        if !self.is_complete(content) {
            return None;
        }
        self.leaf_value(content, content.leaf_count() == 1)
    }

    /// The leaf's value from its chunks', folded the way BLAKE3 folds them
    /// (`root`: the leaf is the whole file).
    fn leaf_value(&self, content: &ContentId, root: bool) -> Option<Hash> {
        let count = u32::from(content.chunk_count(self.leaf));
        if count == 1 {
            // A one-chunk leaf is its chunk (a one-chunk file's chunk was hashed as the root).
            return Some(self.chunks[0]);
        }
        let mut values = self.chunks;
        let top = levels(count);
        for level in 1..=top {
            for index in 0..level_width(count, level) {
                let left = values[2 * index as usize];
                values[index as usize] = match sibling(count, level - 1, 2 * index) {
                    Some(right) => parent(&left, &values[right as usize], root && level == top),
                    None => left,
                };
            }
        }
        Some(values[0])
    }
}

#[cfg(test)]
mod tests;
