//! Unit tests of content addressing against `blake3::hash`.
use super::*;

fn file(len: usize) -> std::vec::Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

fn tree(id: &ContentId, bytes: &[u8]) -> std::vec::Vec<Hash> {
    let mut tree = std::vec![[0u8; 32]; tree_len(id.leaf_count())];
    for leaf in 0..id.leaf_count() {
        let range = id.leaf_range(leaf);
        tree[leaf as usize] = leaf_value(id, leaf, &bytes[range.start as usize..range.end as usize]);
    }
    build_levels(id.leaf_count(), &mut tree);
    tree
}

fn check(id: &ContentId, bytes: &[u8], leaf: u32) -> LeafCheck {
    let mut check = LeafCheck::new(leaf);
    for chunk in 0..id.chunk_count(leaf) {
        let range = id.chunk_range(leaf, chunk);
        assert!(check.add_chunk(id, chunk, &bytes[range.start as usize..range.end as usize]));
    }
    check
}

const SIZES: [usize; 14] =
    [1, 1024, 1025, 5000, 16384, 16385, 32768, 40_000, 49_152, 65_537, 81_920, 100_000, 300_000, 1_048_576];

#[test]
fn the_tree_root_is_blake3_of_the_file() {
    for size in SIZES {
        let bytes = file(size);
        let id = ContentId::of(&bytes);
        let tree = tree(&id, &bytes);
        assert_eq!(tree.last(), Some(&id.root), "size {size}");
        assert!(levels(id.leaf_count()) <= MAX_LEVELS);
    }
}

#[test]
fn every_block_verifies_and_every_leaf_matches_its_value() {
    for size in SIZES {
        let bytes = file(size);
        let id = ContentId::of(&bytes);
        let tree = tree(&id, &bytes);
        for block in 0..id.block_count() {
            let (values, siblings) = block_proof(id.leaf_count(), &tree, block);
            assert_eq!(siblings.len(), id.siblings_len(block));
            assert!(verify_block(&id, block, &values, &siblings), "size {size} block {block}");
            for (leaf, value) in id.block_leaves(block).zip(values.iter()) {
                assert_eq!(check(&id, &bytes, leaf).value(&id).as_ref(), Some(value), "size {size} leaf {leaf}");
            }
        }
    }
}

#[test]
fn a_flipped_bit_or_a_wrong_proof_fails() {
    let bytes = file(300_000);
    let id = ContentId::of(&bytes);
    let tree = tree(&id, &bytes);
    let (values, siblings) = block_proof(id.leaf_count(), &tree, 1);
    let mut bad = bytes.clone();
    bad[9 * LEAF_LEN + 77] ^= 1;
    assert_ne!(check(&id, &bad, 9).value(&id), Some(values[1]));
    let mut wrong = values.clone();
    wrong[3][0] ^= 1;
    assert!(!verify_block(&id, 1, &wrong, &siblings));
    assert!(!verify_block(&id, 0, &values, &siblings), "another block's proof");
    let mut short = siblings.clone();
    short.pop();
    assert!(!verify_block(&id, 1, &values, &short));
    assert!(!verify_block(&id, 1, &values[..4], &siblings));
}

#[test]
fn incomplete_duplicate_or_misfit_chunks_are_refused() {
    let bytes = file(20_000);
    let id = ContentId::of(&bytes);
    let mut check = LeafCheck::new(1);
    assert_eq!(id.chunk_count(1), 4);
    assert!(!check.add_chunk(&id, 4, &bytes[..10]), "past the leaf");
    assert!(!check.add_chunk(&id, 0, &bytes[..10]), "wrong length");
    assert!(check.add_chunk(&id, 0, &bytes[16384..17408]));
    assert!(!check.add_chunk(&id, 0, &bytes[16384..17408]), "twice");
    assert!(!check.is_complete(&id));
    assert_eq!(check.value(&id), None);
}

#[test]
fn missing_leaves_come_out_as_ranges() {
    let verified = [true, false, false, true, true, false, true, false];
    let ranges: std::vec::Vec<_> = missing_ranges(8, |leaf| verified[leaf as usize]).collect();
    assert_eq!(ranges, [1..3, 5..6, 7..8]);
    assert_eq!(missing_ranges(3, |_| true).count(), 0);
    assert_eq!(missing_ranges(3, |_| false).next(), Some(0..3));
}

#[test]
fn shapes() {
    assert_eq!(ContentId::of(&[]).leaf_count(), 0);
    assert_eq!(levels(1), 0);
    assert_eq!(levels(2), 1);
    assert_eq!(levels(5), 3);
    assert_eq!(tree_len(5), 5 + 3 + 2 + 1);
    let huge = ContentId { root: [0; 32], size: MAX_FILE_SIZE };
    assert_eq!(huge.leaf_count(), 1 << MAX_LEVELS);
    assert_eq!(huge.siblings_len(12345), MAX_BLOCK_SIBLINGS);
}
