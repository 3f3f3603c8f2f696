//! Fuzzes a file transfer: an owner node serving a 10-leaf file and a
//! downloader fetching it from the owner and from a fake owner the input
//! plays, with the input choosing, step by step, which datagram between them
//! is delivered, dropped, duplicated or damaged, how far time moves, and
//! which crafted or raw datagrams arrive from the real addresses or from a
//! stranger's (on the streams seen, or others).
//!
//! Checks, after every step: nothing panics; every datagram parses and fits;
//! every fill names the served file within its bounds; every write lies
//! within the file; **every leaf the downloader reports verified holds the
//! file's true bytes** (whatever the fake owner and the damage did); the
//! upload, download and slot tables stay within their bounds; and a drain
//! ends.
//!
//! Input: a sequence of operations, `op = byte % 6`:
//!
//! | op | operands | does |
//! | -- | -- | -- |
//! | 0 | `fate` | the next datagram in flight: `fate % 4` = 0 deliver, 1 drop, 2 deliver twice, 3 flip a byte (position from the input) |
//! | 1 | `u16` | time moves `u16` milliseconds; both nodes' timers run |
//! | 2 | `to`, `from`, `kind`, `stream`, fields | a crafted transfer message (`kind % 7`: GET, BLOCK_PROOF, DATA, DATA_ACK, REFUSE, CONTENT_QUERY, CONTENT_INFO) to the owner or downloader, from the owner's, downloader's, fake owner's or a stranger's address, on a stream seen or made up |
//! | 3 | `to`, `len`, bytes | raw bytes to the owner or the downloader |
//! | 4 | `what` | the downloader: start another download of the file (1), cancel the first (2), add the fake owner as a source again (3) |
//! | 5 | `what` | the owner stops serving the file, or serves it again |

#![no_main]

use libfuzzer_sys::fuzz_target;
use mmp2p_core::content::{self, ContentId, Hash, CHUNK_LEN, LEAF_LEN};
use mmp2p_core::event::FillPiece;
use mmp2p_core::tables::downloads::MAX_DOWNLOADS;
use mmp2p_core::tables::uploads::{Audience, MAX_UPLOADS};
use mmp2p_core::wire::{
    BlockProof, ContentInfo, Data, DataAck, Get, Header, LeafRange, Message, Refuse, RefuseReason, Repr,
};
use mmp2p_core::{Config, Event, Id, Instant, Node, Output, RequestId, ResourceLocator, MAX_DATAGRAM};
use std::collections::VecDeque;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

const SIZE: usize = 10 * LEAF_LEN - 100;
const DRAIN_CAP: usize = 4096;

fn addr(n: u16) -> SocketAddrV6 {
    SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n), 4000, 0, 0)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

struct Harness {
    file: Vec<u8>,
    tree: Vec<Hash>,
    content: ContentId,
    owner: Node,
    downloader: Node,
    /// What each download wrote.
    download: std::collections::HashMap<RequestId, Vec<u8>>,
    requests: Vec<RequestId>,
    in_flight: VecDeque<(SocketAddrV6, SocketAddrV6, Vec<u8>)>,
    streams: Vec<u64>,
    now: Instant,
    buf: Box<[u8; MAX_DATAGRAM]>,
}

impl Harness {
    fn new() -> Harness {
        let file: Vec<u8> = (0..SIZE).map(|i| (i * 31 + i / 997) as u8).collect();
        let mut tree = vec![[0u8; 32]; content::tree_len(10)];
        let content = content::hash_tree(&file, &mut tree);
        let now = Instant::ZERO;
        let mut owner = Node::new(Config::default(), ResourceLocator::new(Id(1), addr(1)), now, 1).expect("valid");
        let downloader = Node::new(Config::default(), ResourceLocator::new(Id(2), addr(2)), now, 2).expect("valid");
        owner.serve_content(Id(7), content, Audience::Anyone).expect("room");
        let download = std::collections::HashMap::new();
        let mut harness = Harness {
            file,
            tree,
            content,
            owner,
            downloader,
            download,
            requests: Vec::new(),
            in_flight: VecDeque::new(),
            streams: Vec::new(),
            now,
            buf: Box::new([0; MAX_DATAGRAM]),
        };
        let request = harness.downloader.download(now, content, &[addr(1), addr(3)], &[]).expect("starts");
        harness.requests.push(request);
        harness.drain();
        harness
    }

    fn node(&mut self, to: SocketAddrV6) -> Option<&mut Node> {
        if to == addr(1) {
            Some(&mut self.owner)
        } else if to == addr(2) {
            Some(&mut self.downloader)
        } else {
            None
        }
    }

    fn deliver(&mut self, from: SocketAddrV6, to: SocketAddrV6, bytes: &[u8]) {
        let now = self.now;
        if let Some(node) = self.node(to) {
            let _ = node.handle_datagram(now, from, bytes);
        }
        self.drain();
    }

    fn drain(&mut self) {
        for which in [addr(1), addr(2)] {
            let mut outputs = 0;
            loop {
                outputs += 1;
                assert!(outputs < DRAIN_CAP, "a drain does not end");
                let node = if which == addr(1) { &mut self.owner } else { &mut self.downloader };
                match node.poll_output(&mut self.buf[..]) {
                    Output::Transmit(t) => {
                        assert!(t.len <= MAX_DATAGRAM);
                        if let Some(fill) = t.fill {
                            assert_eq!(fill.content, self.content, "a fill names the served file");
                            assert!(fill.at + fill.len <= t.len, "a fill lies within its datagram");
                            let out = &mut self.buf[fill.at..fill.at + fill.len];
                            match fill.piece {
                                FillPiece::Bytes { offset } => {
                                    let end = offset as usize + fill.len;
                                    assert!(end <= SIZE && fill.len <= CHUNK_LEN, "a fill within the file");
                                    out.copy_from_slice(&self.file[offset as usize..end]);
                                }
                                FillPiece::Proof { block } => {
                                    let written = content::write_block_proof(10, &self.tree, block, out);
                                    assert_eq!(written, fill.len, "a proof fills its room");
                                }
                            }
                        }
                        let bytes = self.buf[..t.len].to_vec();
                        let repr = Repr::parse_bytes(&bytes).expect("the node emits valid datagrams");
                        if which == addr(2) && t.to == addr(3) && !self.streams.contains(&repr.header.txid) {
                            self.streams.push(repr.header.txid);
                        }
                        if self.in_flight.len() < 4096 {
                            self.in_flight.push_back((which, t.to, bytes));
                        }
                    }
                    Output::Write(write) => {
                        assert_eq!(which, addr(2), "only the downloader writes");
                        let end = write.offset as usize + write.len;
                        assert!(end <= SIZE, "a write within the file");
                        let file = self.download.entry(write.request).or_insert_with(|| vec![0; SIZE]);
                        file[write.offset as usize..end].copy_from_slice(&self.buf[..write.len]);
                    }
                    Output::Event(Event::LeafVerified { request, leaf, .. }) => {
                        let range = self.content.leaf_range(leaf);
                        let range = range.start as usize..range.end as usize;
                        let written = self.download.get(&request).map(|f| &f[range.clone()]);
                        assert_eq!(written, Some(&self.file[range]), "leaf {leaf} verified with bad bytes");
                    }
                    Output::Event(_) => {}
                    Output::Timeout(_) => break,
                }
            }
        }
        assert!(self.owner.uploads().len() <= MAX_UPLOADS);
        assert!(self.downloader.downloads().count() <= MAX_DOWNLOADS);
    }

    fn crafted(&self, r: &mut Reader<'_>) -> Message {
        let content =
            if r.u8() & 1 == 0 { self.content } else { ContentId { root: [r.u8(); 32], size: u64::from(r.u32()) } };
        match r.u8() % 7 {
            0 => {
                let ranges = (0..r.u8() % 4)
                    .map(|_| LeafRange {
                        first: u32::from(r.u8() % 12),
                        count: u16::from(r.u8() % 12),
                        proofs: r.u8() & 1 == 1,
                    })
                    .collect();
                Message::Get(Get { content, seq: u32::from(r.u8()), cookie: u64::from(r.u8()), ranges })
            }
            1 => {
                let block = u32::from(r.u8() % 3);
                let (mut values, mut siblings) = content::block_proof(10, &self.tree, block.min(1));
                if r.u8() & 1 == 1 {
                    if let Some(v) = values.first_mut() {
                        v[usize::from(r.u8() % 32)] ^= 1 | r.u8();
                    }
                }
                if r.u8() & 1 == 1 {
                    siblings.clear();
                }
                Message::BlockProof(BlockProof { pn: u32::from(r.u8()), block, values, siblings })
            }
            2 => {
                let len = 1 + usize::from(r.u8()) * 4;
                let bytes = (0..len.min(CHUNK_LEN)).map(|_| r.u8()).collect();
                Message::Data(Data { pn: u32::from(r.u8()), leaf: u32::from(r.u8() % 12), chunk: r.u8() % 16, bytes })
            }
            3 => {
                let top = r.u32() % 4096;
                let first = top.saturating_sub(u32::from(r.u8()));
                Message::DataAck(DataAck { delay_us: r.u32(), ranges: [(first, top)].into_iter().collect() })
            }
            4 => {
                let reason = RefuseReason::from_u8(r.u8() % 5).unwrap_or(RefuseReason::Busy);
                Message::Refuse(Refuse { reason, cookie: u64::from(r.u8()) })
            }
            5 => Message::ContentQuery { key: Id(u128::from(r.u8())) },
            _ => Message::ContentInfo(ContentInfo { key: Id(7), content: Some((content, r.u8() & 1 == 1)) }),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut h = Harness::new();
    let mut r = Reader(data);
    while !r.0.is_empty() {
        match r.u8() % 6 {
            0 => {
                let fate = r.u8();
                let Some((from, to, mut bytes)) = h.in_flight.pop_front() else { continue };
                match fate % 4 {
                    0 => h.deliver(from, to, &bytes),
                    1 => {}
                    2 => {
                        h.deliver(from, to, &bytes);
                        h.deliver(from, to, &bytes);
                    }
                    _ => {
                        let at = usize::from(r.u16()) % bytes.len().max(1);
                        if let Some(byte) = bytes.get_mut(at) {
                            *byte ^= 1 | r.u8();
                        }
                        h.deliver(from, to, &bytes);
                    }
                }
            }
            1 => {
                h.now = h.now + Duration::from_millis(u64::from(r.u16()));
                let now = h.now;
                h.owner.handle_timeout(now);
                h.downloader.handle_timeout(now);
                h.drain();
            }
            2 => {
                let to = if r.u8() & 1 == 0 { addr(1) } else { addr(2) };
                let from = addr(1 + u16::from(r.u8() % 4));
                let pick = usize::from(r.u8());
                let txid = match h.streams.get(pick % h.streams.len().max(1)) {
                    Some(&stream) if pick & 0x80 == 0 => stream,
                    _ => u64::from(r.u8()),
                };
                let message = h.crafted(&mut r);
                let header = Header {
                    flags: 0,
                    hop_limit: 64,
                    txid,
                    sender: ResourceLocator::new(Id(u128::from(from.ip().segments()[7]) + 100), from),
                };
                let mut out = [0u8; MAX_DATAGRAM];
                if let Ok(len) = (Repr { header, message }).emit(&mut out) {
                    h.deliver(from, to, &out[..len]);
                }
            }
            3 => {
                let to = if r.u8() & 1 == 0 { addr(1) } else { addr(2) };
                let len = usize::from(r.u16()) % (MAX_DATAGRAM + 1);
                let bytes: Vec<u8> = (0..len).map(|_| r.u8()).collect();
                h.deliver(addr(4), to, &bytes);
            }
            4 => {
                let now = h.now;
                match r.u8() % 3 {
                    0 => {
                        if let Ok(request) = h.downloader.download(now, h.content, &[addr(1)], &[0..5]) {
                            h.requests.push(request);
                        }
                    }
                    1 => {
                        if let Some(&request) = h.requests.first() {
                            let _ = h.downloader.cancel_download(now, request);
                        }
                    }
                    _ => {
                        if let Some(&request) = h.requests.first() {
                            let _ = h.downloader.add_source(now, request, addr(3));
                        }
                    }
                }
                h.drain();
            }
            _ => {
                if r.u8() & 1 == 0 {
                    let content = h.content;
                    h.owner.unserve_content(&content);
                } else {
                    let _ = h.owner.serve_content(Id(7), h.content, Audience::Anyone);
                }
                h.drain();
            }
        }
    }
});
