//! Samples and arbitrary values of the transfer's messages.

use crate::content::{BlockValues, ContentId, Siblings};
use crate::wire::*;
use quickcheck::{Arbitrary, Gen};

/// The file of the samples: 200 000 bytes of `i * 7` (13 leaves, two blocks).
pub(super) fn sample_bytes() -> std::vec::Vec<u8> {
    (0..200_000u32).map(|i| (i * 7) as u8).collect()
}

/// Block `block`'s proof in the sample file.
pub(super) fn sample_proof(block: u32) -> (BlockValues, Siblings) {
    let bytes = sample_bytes();
    let id = ContentId::of(&bytes);
    let mut tree = std::vec![[0u8; 32]; crate::content::tree_len(id.leaf_count())];
    for i in 0..id.leaf_count() {
        let range = id.leaf_range(i);
        tree[i as usize] = crate::content::leaf_value(&id, i, &bytes[range.start as usize..range.end as usize]);
    }
    crate::content::build_levels(id.leaf_count(), &mut tree);
    crate::content::block_proof(id.leaf_count(), &tree, block)
}

/// Node 9 asks node 12 for leaves 8–12 of the sample file with their
/// proofs (echoing node 12's cookie); node 12 sends block 1's proof and the
/// last chunk of leaf 12; node 9 acknowledges; node 12 refuses a GET
/// without a cookie; node 9 asks node 12 what it shares as `song.mp3`, and
/// node 12 answers with the sample file, to anyone.
pub(super) fn samples(repr: impl Fn(u16, Message) -> Repr) -> [Repr; 7] {
    let content = ContentId::of(&sample_bytes());
    let ranges = [LeafRange { first: 8, count: 5, proofs: true }].into_iter().collect();
    let get = Get { content, seq: 1, cookie: 0x0a0b_0c0d_0e0f_1011, ranges };
    let (values, siblings) = sample_proof(1);
    let proof = BlockProof { pn: 17, block: 1, values, siblings };
    let bytes = sample_bytes()[199_680..].iter().copied().collect();
    let data = Data { pn: 18, leaf: 12, chunk: 3, bytes };
    let ack = DataAck { delay_us: 250, ranges: [(15, 18), (0, 12)].into_iter().collect() };
    let refuse = Refuse { reason: RefuseReason::Retry, cookie: 0x0a0b_0c0d_0e0f_1011 };
    [
        repr(9, Message::Get(get)),
        repr(12, Message::BlockProof(proof)),
        repr(12, Message::Data(data)),
        repr(9, Message::DataAck(ack)),
        repr(12, Message::Refuse(refuse)),
        repr(9, Message::ContentQuery { key: crate::id::Id::from_file_name("song.mp3") }),
        repr(
            12,
            Message::ContentInfo(ContentInfo {
                key: crate::id::Id::from_file_name("song.mp3"),
                content: Some((content, false)),
            }),
        ),
    ]
}

/// An arbitrary transfer message of type `kind`.
pub(super) fn any_transfer(g: &mut Gen, kind: MessageType) -> Option<Message> {
    let mut hash = || core::array::from_fn(|_| u8::arbitrary(g));
    Some(match kind {
        MessageType::Get => {
            let root = hash();
            let content = ContentId { root, size: u64::arbitrary(g) % (crate::content::MAX_FILE_SIZE + 1) };
            let count = usize::arbitrary(g) % (MAX_GET_RANGES + 1);
            let ranges = (0..count)
                .map(|_| LeafRange {
                    first: u32::arbitrary(g),
                    count: u16::arbitrary(g) >> 1,
                    proofs: bool::arbitrary(g),
                })
                .collect();
            Message::Get(Get { content, seq: u32::arbitrary(g), cookie: u64::arbitrary(g), ranges })
        }
        MessageType::BlockProof => {
            let values = 1 + usize::arbitrary(g) % crate::content::BLOCK_LEAVES as usize;
            let siblings = usize::arbitrary(g) % (crate::content::MAX_BLOCK_SIBLINGS + 1);
            let mut hash = || core::array::from_fn(|_| u8::arbitrary(g));
            let values = (0..values).map(|_| hash()).collect();
            let siblings = (0..siblings).map(|_| hash()).collect();
            Message::BlockProof(BlockProof { pn: u32::arbitrary(g), block: u32::arbitrary(g), values, siblings })
        }
        MessageType::Data => {
            let len = 1 + usize::arbitrary(g) % crate::content::CHUNK_LEN;
            let bytes = (0..len).map(|_| u8::arbitrary(g)).collect();
            let chunk = u8::arbitrary(g) % crate::content::CHUNKS_PER_LEAF as u8;
            Message::Data(Data { pn: u32::arbitrary(g), leaf: u32::arbitrary(g), chunk, bytes })
        }
        MessageType::DataAck => {
            // Ranges highest first, apart: built downwards from a top.
            let mut top = u32::arbitrary(g);
            let mut ranges = heapless::Vec::new();
            for _ in 0..1 + usize::arbitrary(g) % MAX_ACK_RANGES {
                let len = u32::arbitrary(g) % 64;
                let first = top.saturating_sub(len);
                let _ = ranges.push((first, top));
                let Some(next) = first.checked_sub(2 + u32::arbitrary(g) % 64) else { break };
                top = next;
            }
            Message::DataAck(DataAck { delay_us: u32::arbitrary(g), ranges })
        }
        MessageType::ContentQuery => Message::ContentQuery { key: crate::id::Id(u128::arbitrary(g)) },
        MessageType::ContentInfo => {
            let content = ContentId { root: hash(), size: u64::arbitrary(g) % (crate::content::MAX_FILE_SIZE + 1) };
            let content = bool::arbitrary(g).then_some((content, bool::arbitrary(g)));
            Message::ContentInfo(ContentInfo { key: crate::id::Id(u128::arbitrary(g)), content })
        }
        MessageType::Refuse => {
            let reason = RefuseReason::from_u8(u8::arbitrary(g) % 5).unwrap_or(RefuseReason::Busy);
            Message::Refuse(Refuse { reason, cookie: u64::arbitrary(g) })
        }
        _ => return None,
    })
}

#[test]
fn data_needs_bytes_and_ack_ranges_must_be_ordered() {
    let sender = crate::id::ResourceLocator::new(crate::id::Id(9), "[fd00::9]:4000".parse().expect("an address"));
    let [_, _, data, ack, _, _, _] =
        samples(|_, message| Repr { header: Header { flags: 0, hop_limit: 64, txid: 1, sender }, message });
    let mut buf = [0u8; MAX_DATAGRAM];
    let len = data.emit(&mut buf).expect("fits");
    assert_eq!(Repr::parse_bytes(&buf[..len]), Ok(data.clone()));
    // A DATA without bytes is refused.
    let chunk = len - 320;
    buf[chunk - 2..chunk].copy_from_slice(&[0, 0]);
    assert_eq!(Repr::parse_bytes(&buf[..chunk]), Err(WireError::InvalidField));
    let len = ack.emit(&mut buf).expect("fits");
    // Swap the two ranges: no longer highest first.
    let at = len - 16;
    let (first, second) = (buf[at..at + 8].to_vec(), buf[at + 8..len].to_vec());
    buf[at..at + 8].copy_from_slice(&second);
    buf[at + 8..len].copy_from_slice(&first);
    assert_eq!(Repr::parse_bytes(&buf[..len]), Err(WireError::InvalidField));
}
