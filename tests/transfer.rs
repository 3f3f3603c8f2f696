//! File transfers on the memory network: content-addressed, multi-source,
//! integrity-checked, resumable downloads with delay-based congestion
//! control, and what strangers and liars can do to them.

mod common;

use common::{befriend, datagram};
use mmp2p_core::content::{ContentId, CHUNK_LEN, LEAF_LEN};
use mmp2p_core::rng::Rng;
use mmp2p_core::tables::uploads::{Audience, ASK_LIMIT, MAX_UPLOADS};
use mmp2p_core::wire::{
    BlockProof, ContentInfo, Data, DataAck, Get, Header, LeafRange, Message, MessageType, Refuse, RefuseReason, Repr,
};
use mmp2p_core::{Config, DropReason, Event, Id, RequestId, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{LatencyModel, Network, NetworkConfig, NodeIndex, Uplink};
use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

/// `len` bytes that differ leaf to leaf.
fn file(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A network of `n` standalone nodes 5 ms apart (transfers need no ring).
fn network(n: usize, seed: u64) -> (Network, Vec<NodeIndex>) {
    let config =
        NetworkConfig { latency: LatencyModel::Constant(Duration::from_millis(5)), ..NetworkConfig::default() };
    let mut network = Network::new(seed, config);
    network.set_tracing(false);
    let nodes = (0..n).map(|i| network.add_node(Id::from_email(&format!("n{i}@example.org")), Config::default()));
    let nodes = nodes.collect();
    (network, nodes)
}

/// True once `node`'s download `request` completed.
fn completed(network: &Network, node: NodeIndex, request: RequestId) -> bool {
    network
        .events()
        .iter()
        .any(|e| e.node == node && matches!(e.event, Event::DownloadComplete { request: r, .. } if r == request))
}

/// Runs until `node`'s download `request` completes; panics after `limit`.
/// Returns how long it took.
fn until_complete(network: &mut Network, node: NodeIndex, request: RequestId, limit: Duration) -> Duration {
    let start = network.now();
    while !completed(network, node, request) {
        assert!(network.now().saturating_duration_since(start) < limit, "download incomplete after {limit:?}");
        network.run_for(Duration::from_millis(10));
    }
    network.now().saturating_duration_since(start)
}

/// The events of `node` that `pick` selects.
fn events_of(network: &Network, node: NodeIndex, pick: impl Fn(&Event) -> bool) -> Vec<Event> {
    network.events().iter().filter(|e| e.node == node && pick(&e.event)).map(|e| e.event.clone()).collect()
}

#[test]
fn a_file_arrives_intact_from_one_owner() {
    let (mut network, nodes) = network(2, 1);
    let bytes = file(10 * LEAF_LEN + 123, 7);
    let id = network.share_content(nodes[0], "file1", bytes.clone(), Audience::Anyone);
    let request = network.download(nodes[1], id, &[nodes[0]]).expect("starts");
    until_complete(&mut network, nodes[1], request, Duration::from_secs(30));
    let downloaded = &network.files(nodes[1]).downloads[&request];
    assert!(downloaded.is_complete());
    assert_eq!(downloaded.bytes, bytes);
    assert!(network.node(nodes[1]).downloads().next().is_none(), "the download is over");
}

#[test]
fn tiny_and_empty_files() {
    let (mut network, nodes) = network(2, 2);
    for len in [0, 1, CHUNK_LEN, CHUNK_LEN + 1, LEAF_LEN, LEAF_LEN + 1] {
        let bytes = file(len, len as u64);
        let id = network.share_content(nodes[0], "file2", bytes.clone(), Audience::Anyone);
        let request = network.download(nodes[1], id, &[nodes[0]]).expect("starts");
        until_complete(&mut network, nodes[1], request, Duration::from_secs(10));
        assert_eq!(network.files(nodes[1]).downloads[&request].bytes, bytes, "{len} bytes");
    }
}

/// A 64 MiB file through a bottleneck of 2 MB/s with a 200 ms queue, 50 ms
/// round trip and 1 % loss each way: the download keeps the link at least
/// 90 % busy with file bytes, while chat between the same two friends in
/// both directions arrives within the round trip plus 100 ms (p99).
#[test]
fn goodput_and_chat_at_a_bottleneck() {
    const RATE: u64 = 2_000_000;
    let latency = LatencyModel::Constant(Duration::from_millis(25));
    let spec = OverlaySpec { nodes: 6, friends: 0, seed: 1500, latency, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("the overlay settles");
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (owner, downloader) = (members[2], members[4]);
    befriend(&mut overlay, owner, downloader);
    let network = &mut overlay.network;
    network.set_tracing(false);
    network.set_uplink(owner, Uplink::new(RATE, Duration::from_millis(200)));
    network.set_config(NetworkConfig { latency, loss: 0.01, ..NetworkConfig::default() });
    let bytes = file(64 << 20, 1501);
    let id = network.share_content(owner, "file3", bytes, Audience::Anyone);
    let (owner_id, downloader_id) = (network.locator(owner).id, network.locator(downloader).id);
    let request = network.download(downloader, id, &[owner]).expect("starts");
    let start = network.now();
    let mut said = HashMap::new();
    let mut tick = 0u32;
    while !completed(network, downloader, request) {
        assert!(network.now().saturating_duration_since(start) < Duration::from_secs(120), "download too slow");
        // A line each way every 100 ms.
        for (from, to, to_id) in [(owner, downloader, downloader_id), (downloader, owner, owner_id)] {
            let text = format!("line {tick}");
            if let Ok(seq) = network.command(from, |n, now| n.say(now, to_id, text.as_bytes())) {
                said.insert((to, seq), network.now());
            }
        }
        tick += 1;
        network.run_for(Duration::from_millis(100));
    }
    let elapsed = network.now().saturating_duration_since(start).as_secs_f64();
    let goodput = (64 << 20) as f64 / elapsed;
    let mut latencies: Vec<Duration> = network
        .events()
        .iter()
        .filter_map(|e| match e.event {
            Event::Message { seq, .. } => said.get(&(e.node, seq)).map(|at| e.at.saturating_duration_since(*at)),
            _ => None,
        })
        .collect();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    println!("slowest lines: {:?}", &latencies[latencies.len() - 12..]);
    println!(
        "bottleneck: 64 MiB in {elapsed:.1} s, goodput {:.3} MB/s = {:.1} % of {RATE} B/s; chat p99 {p99:?} over {} lines",
        goodput / 1e6,
        100.0 * goodput / RATE as f64,
        latencies.len()
    );
    assert!(network.files(downloader).downloads[&request].is_complete());
    assert!(goodput >= 0.9 * RATE as f64, "goodput {goodput:.0} B/s below 90 % of the link");
    assert!(latencies.len() as u32 >= tick, "every line arrives");
    assert!(p99 <= Duration::from_millis(150), "chat p99 {p99:?} beyond RTT + 100 ms");
}

/// Two owners, one flipping a bit in the first chunk of every leaf it sends:
/// every leaf it completes is rejected and counted against it, it is dropped
/// after three, and the file arrives intact from the honest owner.
#[test]
fn bad_leaves_are_detected_and_fetched_again() {
    let (mut network, nodes) = network(3, 3);
    let (honest, liar, downloader) = (nodes[0], nodes[1], nodes[2]);
    let bytes = file(40 * LEAF_LEN, 31);
    let id = network.share_content(honest, "file4", bytes.clone(), Audience::Anyone);
    network.share_content(liar, "file5", bytes.clone(), Audience::Anyone);
    network.files_mut(liar).corrupt_every = LEAF_LEN as u64;
    let request = network.download(downloader, id, &[liar, honest]).expect("starts");
    until_complete(&mut network, downloader, request, Duration::from_secs(60));
    assert_eq!(network.files(downloader).downloads[&request].bytes, bytes, "intact");
    let liar_addr = Network::addr(liar);
    let rejected = events_of(&network, downloader, |e| matches!(e, Event::LeafRejected { .. }));
    assert!(rejected.len() >= 3, "the liar's leaves are caught");
    assert!(rejected.iter().all(|e| matches!(e, Event::LeafRejected { from, .. } if *from == liar_addr)));
    let verified_from_liar =
        events_of(&network, downloader, |e| matches!(e, Event::LeafVerified { from, .. } if *from == liar_addr));
    assert!(verified_from_liar.is_empty(), "no bad leaf passes");
    let lost =
        events_of(&network, downloader, |e| matches!(e, Event::SourceLost { source, .. } if *source == liar_addr));
    assert_eq!(lost.len(), 1, "the liar is dropped after three bad leaves");
}

/// Two owners; one crashes a quarter of the way through: the download
/// completes from the other.
#[test]
fn owner_crash_completes_from_the_other() {
    let (mut network, nodes) = network(3, 4);
    let (a, b, downloader) = (nodes[0], nodes[1], nodes[2]);
    for owner in [a, b] {
        network.set_uplink(owner, Uplink::new(1_000_000, Duration::from_millis(200)));
    }
    let bytes = file(4 << 20, 41);
    let id = network.share_content(a, "file6", bytes.clone(), Audience::Anyone);
    network.share_content(b, "file7", bytes.clone(), Audience::Anyone);
    let request = network.download(downloader, id, &[a, b]).expect("starts");
    while network.files(downloader).downloads[&request].verified.iter().filter(|v| **v).count() < 64 {
        network.run_for(Duration::from_millis(10));
    }
    network.crash(a);
    let crashed = network.now();
    until_complete(&mut network, downloader, request, Duration::from_secs(60));
    assert_eq!(network.files(downloader).downloads[&request].bytes, bytes);
    // After the crash, every leaf came from the other owner.
    let b_addr = Network::addr(b);
    // (What it had queued at the crash was on the wire already: a second later it is all in.)
    let after_crash = network.events().iter().skip_while(|e| e.at < crashed + Duration::from_secs(1));
    let verified: Vec<_> = after_crash.filter(|e| matches!(e.event, Event::LeafVerified { .. })).collect();
    assert!(!verified.is_empty());
    assert!(verified.iter().all(|e| matches!(e.event, Event::LeafVerified { from, .. } if from == b_addr)));
}

/// The downloader crashes halfway and restarts, resuming from its bitmap:
/// no leaf is verified twice more than once; then the owner restarts
/// mid-transfer and the download still completes.
#[test]
fn downloads_resume_after_either_side_restarts() {
    let (mut network, nodes) = network(2, 5);
    let (owner, downloader) = (nodes[0], nodes[1]);
    network.set_uplink(owner, Uplink::new(2_000_000, Duration::from_millis(200)));
    let bytes = file(8 << 20, 51);
    let leaves = bytes.len() / LEAF_LEN;
    let id = network.share_content(owner, "file8", bytes.clone(), Audience::Anyone);
    let first = network.download(downloader, id, &[owner]).expect("starts");
    let verified = |network: &Network, request| {
        network.files(downloader).downloads[&request].verified.iter().filter(|v| **v).count()
    };
    while verified(&network, first) < leaves / 2 {
        network.run_for(Duration::from_millis(5));
    }
    network.crash(downloader);
    network.run_for(Duration::from_secs(2));
    network.restart(downloader);
    let second = network.resume_download(downloader, first, &[owner]).expect("resumes");
    while verified(&network, second) < leaves * 3 / 4 {
        network.run_for(Duration::from_millis(5));
    }
    network.crash(owner);
    network.run_for(Duration::from_millis(500));
    network.restart(owner);
    until_complete(&mut network, downloader, second, Duration::from_secs(60));
    let file = &network.files(downloader).downloads[&second];
    assert_eq!(file.bytes, bytes);
    let twice = file.times_verified.iter().filter(|t| **t > 1).count();
    println!("resume: {twice} of {leaves} leaves verified twice");
    assert!(twice <= 1, "{twice} leaves fetched twice");
}

/// Friends-only content: a stranger is refused, a friend served.
#[test]
fn friends_only_content_is_refused_to_strangers() {
    let spec = OverlaySpec { nodes: 5, friends: 0, seed: 1600, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("the overlay settles");
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (owner, friend, stranger) = (members[1], members[2], members[3]);
    befriend(&mut overlay, owner, friend);
    let network = &mut overlay.network;
    let bytes = file(3 * LEAF_LEN, 61);
    let id = network.share_content(owner, "file9", bytes.clone(), Audience::Friends);
    let refused = network.download(stranger, id, &[owner]).expect("starts");
    network.run_for(Duration::from_secs(2));
    let reason = RefuseReason::FriendsOnly;
    let expected = Event::SourceRefused { request: refused, source: Network::addr(owner), reason };
    assert!(events_of(network, stranger, |e| *e == expected).len() == 1, "refused as a stranger");
    assert!(events_of(network, stranger, |e| matches!(e, Event::DownloadStalled { .. })).len() == 1);
    let served = network.download(friend, id, &[owner]).expect("starts");
    until_complete(network, friend, served, Duration::from_secs(10));
    assert_eq!(network.files(friend).downloads[&served].bytes, bytes);
}

/// An unknown content and a leaf past the end get typed refusals.
#[test]
fn unknown_content_and_out_of_range_are_refused() {
    let (mut network, nodes) = network(2, 6);
    let bytes = file(2 * LEAF_LEN, 71);
    network.share_content(nodes[0], "file10", bytes.clone(), Audience::Anyone);
    let unknown = ContentId::of(b"nobody shares this");
    let request = network.download(nodes[1], unknown, &[nodes[0]]).expect("starts");
    // Ask for a longer version of the shared file too: same root, other size.
    let longer = ContentId { size: 10 * LEAF_LEN as u64, ..ContentId::of(&bytes) };
    let other = network.download(nodes[1], longer, &[nodes[0]]).expect("starts");
    network.run_for(Duration::from_secs(2));
    let owner = Network::addr(nodes[0]);
    for request in [request, other] {
        let expected = Event::SourceRefused { request, source: owner, reason: RefuseReason::UnknownContent };
        assert_eq!(events_of(&network, nodes[1], |e| *e == expected).len(), 1);
    }
    // A GET past the end, by hand, from a proven address.
    let id = ContentId::of(&bytes);
    let reply = hand_get(&mut network, nodes[1], nodes[0], id, &[LeafRange { first: 1, count: 5, proofs: true }]);
    assert_eq!(reply, Some(RefuseReason::OutOfRange));
}

/// Sends a GET from `from` to `to` on a fresh stream — and again with the
/// cookie if asked — and returns the reason of a refusal, if any.
fn hand_get(
    network: &mut Network,
    from: NodeIndex,
    to: NodeIndex,
    content: ContentId,
    ranges: &[LeafRange],
) -> Option<RefuseReason> {
    let sender = network.locator(from);
    let mut cookie = 0;
    for seq in 1..=2 {
        let get = Get { content, seq, cookie, ranges: ranges.iter().copied().collect() };
        let repr =
            Repr { header: Header { flags: 0, hop_limit: 64, txid: 0x5eed, sender }, message: Message::Get(get) };
        network.set_tracing(true);
        let mark = network.trace().len();
        network.inject(from, Network::addr(to), datagram(&repr));
        network.run_for(Duration::from_millis(100));
        let refusal =
            network.trace()[mark..].iter().find_map(|t| match Repr::parse_bytes(&t.bytes).map(|r| r.message) {
                Ok(Message::Refuse(Refuse { reason, cookie })) if t.to == Network::addr(from) => Some((reason, cookie)),
                _ => None,
            });
        network.set_tracing(false);
        match refusal {
            Some((RefuseReason::Retry, echo)) => cookie = echo,
            Some((reason, _)) => return Some(reason),
            None => return None,
        }
    }
    Some(RefuseReason::Retry)
}

/// A flood of GETs — from 1 000 spoofed addresses and 1 000 streams of one
/// real one — at an owner: no data goes to an unproven address, the upload
/// table stays within its bound, refusals are typed, and a genuine download
/// still completes.
#[test]
fn get_flood_stays_bounded() {
    let (mut network, nodes) = network(3, 7);
    let (owner, attacker, downloader) = (nodes[0], nodes[1], nodes[2]);
    let bytes = file(20 * LEAF_LEN, 81);
    let id = network.share_content(owner, "file11", bytes.clone(), Audience::Anyone);
    network.set_tracing(true);
    let sender = network.locator(attacker);
    let ranges = [LeafRange { first: 0, count: 20, proofs: true }];
    let mut flood_bytes = 0;
    let flood_start = network.now();
    for i in 0..2000u32 {
        let spoofed = i < 1000;
        let source = if spoofed {
            SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, 0, i as u16 + 1), 4000, 0, 0)
        } else {
            sender.addr
        };
        let header =
            Header { flags: 0, hop_limit: 64, txid: u64::from(i), sender: ResourceLocator::new(sender.id, source) };
        let get = Get { content: id, seq: 1, cookie: u64::from(i), ranges: ranges.into_iter().collect() };
        let bytes = datagram(&Repr { header, message: Message::Get(get) });
        flood_bytes += bytes.len();
        network.inject_spoofed(attacker, source, Network::addr(owner), bytes);
        if i % 100 == 0 {
            network.run_for(Duration::from_millis(10));
            assert!(network.node(owner).uploads().len() <= MAX_UPLOADS);
        }
    }
    network.run_for(Duration::from_millis(10));
    // The attacker's own address drew at most its request rate in answers.
    let flood_time = network.now().saturating_duration_since(flood_start);
    let allowed = asks_allowed(flood_time);
    let answered = network.trace().iter().filter(|t| t.to == sender.addr && t.bytes[3] == MessageType::Refuse as u8);
    assert!(answered.count() <= allowed, "at most {allowed} answers in {flood_time:?}");
    assert!(network.node(owner).stats().dropped(DropReason::AskRateLimited) >= 900);
    let request = network.download(downloader, id, &[owner]).expect("starts");
    until_complete(&mut network, downloader, request, Duration::from_secs(60));
    assert_eq!(network.files(downloader).downloads[&request].bytes, bytes);
    // Nothing but refusals went to the spoofed addresses: at most 3× what "they" sent.
    let to_spoofed: usize =
        network.trace().iter().filter(|t| t.to.ip().segments()[1] == 0xbad).map(|t| t.bytes.len()).sum();
    let kinds_to_spoofed: Vec<u8> =
        network.trace().iter().filter(|t| t.to.ip().segments()[1] == 0xbad).map(|t| t.bytes[3]).collect();
    assert!(kinds_to_spoofed.iter().all(|k| *k == MessageType::Refuse as u8), "only REFUSE to unproven addresses");
    assert!(to_spoofed <= 3 * flood_bytes / 2, "{to_spoofed} bytes drawn by {} spoofed bytes", flood_bytes / 2);
    assert!(network.node(owner).uploads().len() <= MAX_UPLOADS);
}

/// The most requests one address may have answered in `elapsed`: its
/// burst, one per refill since, and one for the refill under way.
fn asks_allowed(elapsed: Duration) -> usize {
    (ASK_LIMIT.burst as u128 + elapsed.as_micros() / ASK_LIMIT.refill.as_micros() + 1) as usize
}

/// CONTENT_QUERYs from one address: answered within its request rate, the
/// rest dropped and counted.
#[test]
fn content_query_flood_is_rate_limited() {
    let (mut network, nodes) = network(2, 8);
    let (owner, asker) = (nodes[0], nodes[1]);
    let key = Id::from_file_name("file12");
    network.share_content(owner, "file12", file(LEAF_LEN, 82), Audience::Anyone);
    network.set_tracing(true);
    let sender = network.locator(asker);
    let start = network.now();
    for i in 0..200u64 {
        let header = Header { flags: 0, hop_limit: 64, txid: i + 1, sender };
        let bytes = datagram(&Repr { header, message: Message::ContentQuery { key } });
        network.inject_spoofed(asker, sender.addr, Network::addr(owner), bytes);
    }
    network.run_for(Duration::from_millis(50));
    let elapsed = network.now().saturating_duration_since(start);
    let allowed = asks_allowed(elapsed);
    let infos = network.trace().iter().filter(|t| t.to == sender.addr && t.bytes[3] == MessageType::ContentInfo as u8);
    let infos = infos.count();
    assert!(infos >= ASK_LIMIT.burst as usize && infos <= allowed, "{infos} answers, at most {allowed}");
    assert_eq!(network.node(owner).stats().dropped(DropReason::AskRateLimited), 200 - infos as u64);
}

/// Table-driven over every transfer message type: a stranger, and a
/// spoofer using the real owner's address with a guessed stream, send each
/// to a downloader and to an owner in mid-transfer. The download completes
/// intact, no leaf is blamed on the real owner, the upload goes on.
#[test]
fn strangers_and_spoofers_cannot_disturb_a_transfer() {
    let (mut network, nodes) = network(3, 8);
    let (owner, downloader, mallory) = (nodes[0], nodes[1], nodes[2]);
    network.set_uplink(owner, Uplink::new(1_000_000, Duration::from_millis(200)));
    let bytes = file(2 << 20, 91);
    let id = network.share_content(owner, "file12", bytes.clone(), Audience::Anyone);
    let request = network.download(downloader, id, &[owner]).expect("starts");
    network.run_for(Duration::from_millis(300));
    let kinds: Vec<MessageType> = MessageType::ALL.into_iter().filter(|k| (0x50..0x60).contains(&(*k as u8))).collect();
    assert_eq!(kinds.len(), 7);
    let mut rng = Rng::new(92);
    let (owner_at, downloader_at, mallory_at) =
        (network.locator(owner), network.locator(downloader), network.locator(mallory));
    for round in 0..20 {
        for &kind in &kinds {
            let message = forged(kind, id, &mut rng);
            for (victim, posing_as) in [
                (downloader_at, mallory_at),
                (downloader_at, owner_at),
                (owner_at, mallory_at),
                (owner_at, downloader_at),
            ] {
                let header = Header { flags: 0, hop_limit: 64, txid: rng.next_u64(), sender: posing_as };
                let bytes = datagram(&Repr { header, message: message.clone() });
                network.inject_spoofed(mallory, posing_as.addr, victim.addr, bytes);
            }
        }
        network.run_for(Duration::from_millis(20 + round));
    }
    until_complete(&mut network, downloader, request, Duration::from_secs(60));
    assert_eq!(network.files(downloader).downloads[&request].bytes, bytes);
    assert!(events_of(&network, downloader, |e| matches!(e, Event::LeafRejected { .. } | Event::SourceLost { .. }))
        .is_empty());
    let dropped = network.node(downloader).stats().dropped(DropReason::UnknownStream);
    assert!(dropped >= 40, "forged stream packets dropped and counted ({dropped})");
}

/// A transfer message of type `kind` with plausible contents for `content`.
fn forged(kind: MessageType, content: ContentId, rng: &mut Rng) -> Message {
    match kind {
        MessageType::Get => {
            let ranges = [LeafRange { first: 0, count: 16, proofs: true }].into_iter().collect();
            Message::Get(Get { content, seq: 1 + rng.next_u64() as u32 % 10, cookie: rng.next_u64(), ranges })
        }
        MessageType::BlockProof => {
            let block = rng.next_u64() as u32 % 2;
            let values = content.block_leaves(block).map(|_| [0x66; 32]).collect();
            let siblings = (0..content.siblings_len(block)).map(|_| [0x66; 32]).collect();
            Message::BlockProof(BlockProof { pn: rng.next_u64() as u32 % 64, block, values, siblings })
        }
        MessageType::Data => {
            let bytes = [0x66; CHUNK_LEN].into_iter().collect();
            let (leaf, chunk) = (rng.next_u64() as u32 % 16, rng.next_u64() as u8 % 16);
            Message::Data(Data { pn: rng.next_u64() as u32 % 64, leaf, chunk, bytes })
        }
        MessageType::DataAck => Message::DataAck(DataAck { delay_us: 0, ranges: [(0, 100_000)].into_iter().collect() }),
        MessageType::Refuse => Message::Refuse(Refuse { reason: RefuseReason::Busy, cookie: 0 }),
        MessageType::ContentQuery => Message::ContentQuery { key: Id::from_file_name("file1") },
        MessageType::ContentInfo => {
            let info = ContentInfo { key: Id::from_file_name("file1"), content: Some((content, false)) };
            Message::ContentInfo(info)
        }
        other => panic!("no forgery for {other}: add one"),
    }
}

/// Three owners of `song.mp3`, two with one version and one with another,
/// and a node sharing nothing: asked what they share under the name, each
/// answers for itself, and the version most of them have is fetched from
/// those two.
#[test]
fn owners_are_grouped_by_the_content_they_name() {
    let (mut network, nodes) = network(5, 9);
    let (a, b, c, none, downloader) = (nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]);
    let (common, other) = (file(5 * LEAF_LEN, 101), file(5 * LEAF_LEN, 102));
    let common_id = network.share_content(a, "song.mp3", common.clone(), Audience::Anyone);
    network.share_content(b, "song.mp3", common.clone(), Audience::Anyone);
    let other_id = network.share_content(c, "song.mp3", other, Audience::Friends);
    let key = Id::from_file_name("song.mp3");
    for owner in [a, b, c, none] {
        let addr = Network::addr(owner);
        network.command(downloader, |n, now| n.query_content(now, addr, key)).expect("asks");
    }
    network.run_for(Duration::from_secs(1));
    let mut named: HashMap<Option<ContentId>, Vec<std::net::SocketAddrV6>> = HashMap::new();
    for event in events_of(&network, downloader, |e| matches!(e, Event::ContentInfo { .. })) {
        if let Event::ContentInfo { owner, key: k, content, .. } = event {
            assert_eq!(k, key);
            named.entry(content.map(|(c, _)| c)).or_default().push(owner);
        }
    }
    assert_eq!(named.len(), 3, "{named:?}");
    assert_eq!(named[&Some(other_id)], [Network::addr(c)]);
    assert_eq!(named[&None], [Network::addr(none)]);
    let owners: Vec<NodeIndex> =
        named[&Some(common_id)].iter().map(|addr| network.index_of(addr).expect("a node")).collect();
    assert_eq!(owners.len(), 2);
    let request = network.download(downloader, common_id, &owners).expect("starts");
    until_complete(&mut network, downloader, request, Duration::from_secs(10));
    assert_eq!(network.files(downloader).downloads[&request].bytes, common);
    let from: std::collections::HashSet<_> =
        events_of(&network, downloader, |e| matches!(e, Event::LeafVerified { .. }))
            .into_iter()
            .map(|e| match e {
                Event::LeafVerified { from, .. } => from,
                _ => unreachable!(),
            })
            .collect();
    assert_eq!(from.len(), 2, "leaves from both owners");
}
