//! One file transfer between two MMP2P nodes over `[::1]` UDP through the
//! mio driver, against a bare UDP blast of the same datagrams.
//!
//! - `transfer/mio_driver`: one [`Driver`] hosting node A (the owner,
//!   serving a [`FILE_LEN`]-byte file from memory) and node B (the
//!   downloader, writing into memory), its loop in its own thread. The
//!   bench thread starts B's download of A's file and waits for B's
//!   [`Event::DownloadComplete`]; the loop does all the work of both ends —
//!   A's window and loss recovery, the fills, B's chunk hashing, proofs,
//!   acks and writes.
//! - `transfer/udp_blast`: the ceiling. Two non-blocking `std` sockets on
//!   `[::1]:0` in one thread, as the driver's one thread has both ends: it
//!   sends [`BLAST_BURST`] datagrams of a DATA datagram's length (48-byte
//!   header, 11 bytes of fields, 1 KiB chunk), then reads until the socket
//!   would block, until the same number of chunks' bytes has arrived.
//!
//! Criterion reports bytes/s of file (chunk) payload delivered. After its
//! report, one plain timed run of each over [`FIXED_LEN`] bytes prints both
//! rates in MiB/s, their ratio, and the transfer's retransmissions and the
//! blast's lost datagrams; the downloaded bytes are checked against the file.
//!
//! Run: `cargo bench -p mmp2p-mio --bench transfer`.
//!
//! Without `--bench` (as under `cargo test -p mmp2p-mio --benches`) each
//! side runs once over [`SMOKE_LEN`] bytes and the program exits.

#[path = "pair/mod.rs"]
mod pair;

use criterion::{Criterion, Throughput};
use mmp2p_core::content::{self, ContentId, Hash, CHUNK_LEN};
use mmp2p_core::event::{Fill, FillPiece, Write};
use mmp2p_core::tables::uploads::Audience;
use mmp2p_core::{Event, Id};
use mmp2p_mio::{DriverEvent, Storage};
use pair::TwoNodes;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The file of each criterion iteration.
const FILE_LEN: usize = 16 << 20;
/// The file of the fixed run printed after criterion's report.
const FIXED_LEN: usize = 64 << 20;
/// The file of each run in smoke mode.
const SMOKE_LEN: usize = 1 << 20;
/// A DATA datagram carrying a whole chunk: header, fields, chunk.
const DATA_LEN: usize = 48 + 11 + CHUNK_LEN;
/// Datagrams the blast sends before reading.
const BLAST_BURST: usize = 64;
/// Longest wait for a transfer to complete.
const TRANSFER_WAIT: Duration = Duration::from_secs(120);

/// A file held in memory, with its tree.
struct Served {
    bytes: Vec<u8>,
    tree: Vec<Hash>,
    content: ContentId,
}

/// Node A's storage: reads the served file; node B's: writes the download.
struct Memory {
    served: Arc<Served>,
    download: Arc<Mutex<Vec<u8>>>,
}

impl Storage for Memory {
    fn read(&mut self, fill: &Fill, out: &mut [u8]) -> io::Result<()> {
        if fill.content != self.served.content {
            return Err(io::Error::new(io::ErrorKind::NotFound, "unknown content"));
        }
        match fill.piece {
            FillPiece::Bytes { offset } => out.copy_from_slice(&self.served.bytes[offset as usize..][..out.len()]),
            FillPiece::Proof { block } => {
                content::write_block_proof(self.served.content.leaf_count(), &self.served.tree, block, out);
            }
        }
        Ok(())
    }

    fn write(&mut self, write: &Write, bytes: &[u8]) -> io::Result<()> {
        let mut download = self.download.lock().expect("the bench does not panic holding it");
        download[write.offset as usize..][..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

fn served(len: usize) -> Arc<Served> {
    let mut bytes = vec![0u8; len];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let mut tree = vec![[0u8; 32]; content::tree_len(content::leaf_count_of(len as u64))];
    let content = content::hash_tree(&bytes, &mut tree);
    Arc::new(Served { bytes, tree, content })
}

/// A and B, A serving `file`, B writing into `download`.
fn pair(file: &Arc<Served>, download: &Arc<Mutex<Vec<u8>>>) -> TwoNodes {
    TwoNodes::start(|driver, a, b| {
        for key in [a, b] {
            let storage = Memory { served: file.clone(), download: download.clone() };
            driver.set_storage(key, Box::new(storage));
        }
        let owner = driver.node_mut(a).expect("node A is hosted");
        owner.serve_content(Id::from_file_name("bench.bin"), file.content, Audience::Anyone).expect("room to serve");
    })
}

/// Downloads A's file at B once; how long it took.
fn transfer(nodes: &TwoNodes, content: ContentId) -> Duration {
    let owner = nodes.a.1.addr;
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    nodes.handle.command(nodes.b.0, move |node, now| {
        let _ = tx.send(node.download(now, content, &[owner], &[]));
    });
    let request = rx.recv().expect("the loop runs the command").expect("the download starts");
    wait_complete(&nodes.events, request);
    start.elapsed()
}

fn wait_complete(events: &Receiver<DriverEvent>, request: mmp2p_core::RequestId) {
    loop {
        match events.recv_timeout(TRANSFER_WAIT).expect("the transfer completes").event {
            Event::DownloadComplete { request: r, .. } if r == request => return,
            Event::SourceLost { .. } | Event::DownloadStalled { .. } => panic!("the transfer failed"),
            _ => {}
        }
    }
}

/// Blasts `len` bytes of chunks as DATA-sized datagrams from one socket to
/// another, one thread doing both ends; returns the time and datagrams lost.
fn blast(len: usize) -> (Duration, u64) {
    let loopback = SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 0));
    let (sender, receiver) = (UdpSocket::bind(loopback).expect("binds"), UdpSocket::bind(loopback).expect("binds"));
    receiver.set_nonblocking(true).expect("non-blocking");
    let to = receiver.local_addr().expect("bound");
    let datagrams = len.div_ceil(CHUNK_LEN);
    let payload = [0x5au8; DATA_LEN];
    let mut buf = [0u8; 2048];
    let (mut sent, mut received, mut lost) = (0usize, 0usize, 0u64);
    let start = Instant::now();
    while received < datagrams {
        let burst = BLAST_BURST.min(datagrams - received);
        for _ in 0..burst {
            sender.send_to(&payload, to).expect("sends");
            sent += 1;
        }
        let mut got = 0;
        loop {
            match receiver.recv_from(&mut buf) {
                Ok(_) => got += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("receive: {e}"),
            }
        }
        // What the burst did not deliver was dropped by the socket: counted, and sent again.
        lost += (burst - got.min(burst)) as u64;
        received += got.min(burst);
    }
    let _ = sent;
    (start.elapsed(), lost)
}

fn mib_per_s(len: usize, time: Duration) -> f64 {
    len as f64 / (1 << 20) as f64 / time.as_secs_f64()
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    if !benching {
        let file = served(SMOKE_LEN);
        let download = Arc::new(Mutex::new(vec![0u8; SMOKE_LEN]));
        let nodes = pair(&file, &download);
        let time = transfer(&nodes, file.content);
        nodes.finish();
        assert_eq!(*download.lock().expect("not poisoned"), file.bytes, "the download is the file");
        let (blast_time, _) = blast(SMOKE_LEN);
        println!(
            "transfer smoke: {:.1} MiB/s; blast {:.1} MiB/s",
            mib_per_s(SMOKE_LEN, time),
            mib_per_s(SMOKE_LEN, blast_time)
        );
        return;
    }
    let mut criterion = pair::criterion();
    let mut group = criterion.benchmark_group("transfer");
    group.throughput(Throughput::Bytes(FILE_LEN as u64));
    let file = served(FILE_LEN);
    let download = Arc::new(Mutex::new(vec![0u8; FILE_LEN]));
    let nodes = pair(&file, &download);
    group.bench_function("mio_driver", |b| b.iter(|| transfer(&nodes, file.content)));
    group.bench_function("udp_blast", |b| b.iter(|| blast(FILE_LEN)));
    group.finish();
    nodes.finish();
    fixed_run();
    Criterion::default().configure_from_args().final_summary();
}

/// One timed run of each over [`FIXED_LEN`] bytes, printed.
fn fixed_run() {
    let file = served(FIXED_LEN);
    let download = Arc::new(Mutex::new(vec![0u8; FIXED_LEN]));
    let nodes = pair(&file, &download);
    let time = transfer(&nodes, file.content);
    let driver = nodes.finish();
    assert_eq!(*download.lock().expect("not poisoned"), file.bytes, "the download is the file");
    let stats = |key| driver.node(key).map(|n| n.stats().clone()).expect("a node");
    let (a, _) = (stats(mmp2p_mio::NodeKey(0)), stats(mmp2p_mio::NodeKey(1)));
    let (blast_time, lost) = blast(FIXED_LEN);
    let (rate, ceiling) = (mib_per_s(FIXED_LEN, time), mib_per_s(FIXED_LEN, blast_time));
    println!(
        "transfer fixed run: {} MiB in {:.2} s = {rate:.1} MiB/s; udp blast {ceiling:.1} MiB/s ({lost} lost); ratio {:.2}; owner sent {} datagrams",
        FIXED_LEN >> 20,
        time.as_secs_f64(),
        rate / ceiling,
        a.datagrams_out,
    );
}
