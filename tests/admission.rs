//! Admission: what a stranger can make the ring do with a JOIN it forges,
//! a neighbour it claims to be, or any datagram from a spoofed source.
//!
//! A JOIN names a joiner's ID and address. Until the joiner echoes a cookie
//! of the responsible node — which only a host that receives at that
//! address can — the JOIN changes no chain and draws one reply no larger
//! than itself.

mod common;

use common::datagram;
use mmp2p_core::identity::{PublicKey, Signature};
use mmp2p_core::profile::OverlayOnly;
use mmp2p_core::wire::{
    Chain, ChatAck, ChatFragment, FileEntry, FriendAnswer, FriendRequest, Header, JoinStatus, Mail, MailAck, Message,
    MessageType, Presence, ReplicaEntry, Repr, Side, SignedOwner, Status, Unfriend, MAX_DIGEST_IDS, MAX_STORE_BATCH,
    MAX_VERIFY_KEYS,
};
use mmp2p_core::{rng::Rng, Config, Event, Id, JoinFailure, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Fate, Network, NodeIndex};
use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 5, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// A JOIN for `joiner`, as a member relaying it would send it.
fn forged_join(sender: ResourceLocator, joiner: ResourceLocator, txid: u64) -> Vec<u8> {
    datagram(&Repr {
        header: Header { flags: 0, hop_limit: 64, txid, sender },
        message: Message::Join { joiner, hops: 2, cookie: 0, proof: None },
    })
}

#[test]
fn forged_join_changes_nothing() {
    let mut overlay = overlay(60, 1300);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let attacker = members[7];
    let sender = overlay.network.locator(attacker);
    // The victim: an address where no node listens, and a live node.
    let nowhere = SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0xdead, 1), 4000, 0, 0);
    let live = Network::addr(members[20]);
    overlay.network.set_tracing(true);
    let mut rng = Rng::new(1301);
    let mut sent_bytes = 0;
    for (i, victim) in [nowhere, live].into_iter().cycle().take(1000).enumerate() {
        // IDs anywhere, each JOIN straight to the node responsible for it.
        let id = Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
        let joiner = ResourceLocator::new(id, victim);
        let bytes = forged_join(sender, joiner, 0xf0_0000 + i as u64);
        sent_bytes += bytes.len();
        let target = overlay.responsible(id);
        overlay.network.inject(attacker, Network::addr(target), bytes);
        if i % 50 == 0 {
            overlay.network.run_for(Duration::from_millis(100));
        }
    }
    overlay.network.run_for(Duration::from_secs(30));
    // No chain names a forged joiner: the ring is what it was.
    overlay.check_ring().expect("every chain holds the true neighbours");
    for (_, node) in overlay.network.nodes() {
        assert!(
            node.neighbours()
                .contacts()
                .all(|c| c.addr != nowhere && (c.addr != live || c.id == overlay.network.locator(members[20]).id)),
            "a forged joiner sits in a chain"
        );
    }
    // Each victim got at most one reply per JOIN, none larger than it.
    for victim in [nowhere, live] {
        let to_victim: Vec<_> = overlay
            .network
            .trace()
            .iter()
            .filter(|t| t.to == victim && matches!(t.fate, Fate::Sent { duplicate: false }))
            .filter_map(|t| t.repr().ok().map(|r| (t.bytes.len(), r)))
            .filter(|(_, r)| matches!(r.message, Message::JoinReply { .. }))
            .collect();
        assert!(to_victim.len() <= 500, "{} replies for 500 JOINs", to_victim.len());
        let bytes: usize = to_victim.iter().map(|(len, _)| len).sum();
        assert!(bytes <= sent_bytes / 2, "{bytes} bytes to {victim} for {} bytes of JOINs", sent_bytes / 2);
    }
    // And the ring still works.
    let report = overlay.run_lookups(200);
    assert_eq!((report.failed, report.wrong), (0, 0));
}

/// A datagram of type `kind` as a spoofing attacker would forge it: its
/// header names `sender` (whose address is the victim's), its body the
/// victim wherever a body names an address, and `key` wherever it names a
/// key. One arm per type, so a new type must say how it is forged.
fn forged(kind: MessageType, sender: ResourceLocator, key: Id, rng: &mut Rng) -> Message {
    let ids = |rng: &mut Rng, n: usize| -> Vec<Id> {
        (0..n).map(|_| Id((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))).collect()
    };
    let chain = || -> Chain { [sender].into_iter().collect() };
    let entries = |rng: &mut Rng| -> Vec<FileEntry> {
        let mut keys = ids(rng, MAX_STORE_BATCH);
        keys[0] = key;
        keys.into_iter().map(|key| FileEntry { key, name: Default::default(), signature: Signature([0; 64]) }).collect()
    };
    match kind {
        MessageType::Ping => Message::Ping,
        MessageType::Pong => Message::Pong,
        MessageType::Ack => Message::Ack,
        MessageType::HopAck => Message::HopAck,
        MessageType::Join => Message::Join { joiner: sender, hops: 1, cookie: rng.next_u64(), proof: None },
        MessageType::JoinReply => Message::JoinReply {
            status: JoinStatus::Accepted,
            hops: 1,
            left: chain(),
            right: chain(),
            cookie: 0,
            seq: 0,
        },
        MessageType::NeighbourUpdate => Message::NeighbourUpdate { side: Side::Left, chain: chain() },
        MessageType::Stabilise => Message::Stabilise { identify: true },
        MessageType::StabiliseReply => Message::StabiliseReply { left: chain(), right: chain(), proof: None },
        MessageType::Leave => Message::Leave { side: Side::Right, chain: chain() },
        MessageType::FriendDigest => Message::FriendDigest { ids: ids(rng, MAX_DIGEST_IDS).into_iter().collect() },
        MessageType::RegistryCopy => {
            let identity = mmp2p_core::identity::Identity::from_seed([0xee; 32]);
            let record = mmp2p_core::registration::Registration::sign(&identity, key, sender.addr, 1, 1);
            Message::RegistryCopy { records: [record].into_iter().collect() }
        }
        MessageType::RegistryGet => Message::RegistryGet { origin: sender, id: key, hops: 1 },
        MessageType::RegistryRecord => Message::RegistryRecord { id: key, record: None },
        MessageType::Lookup => Message::Lookup { origin: sender, key, hops: 1 },
        MessageType::LookupReply => Message::LookupReply { key, hops: 1 },
        MessageType::Store => {
            let entries = entries(rng).into_iter().collect();
            Message::Store { owner: sender, key: PublicKey([0xee; 32]), hops: 1, entries }
        }
        MessageType::Verify => Message::Verify { owner: key, keys: ids(rng, MAX_VERIFY_KEYS).into_iter().collect() },
        MessageType::VerifyReply => {
            Message::VerifyReply { keys: ids(rng, MAX_VERIFY_KEYS).into_iter().collect(), mask: u32::MAX }
        }
        MessageType::Search => Message::Search { origin: sender, key, hops: 1 },
        MessageType::SearchPage => Message::SearchPage { key, page: 0 },
        MessageType::SearchReply => {
            let owners = [SignedOwner { owner: sender, signature: Signature([0; 64]) }].into_iter().collect();
            Message::SearchReply { key, hops: 1, page: 0, pages: 1, owners }
        }
        MessageType::Replicate => Message::Replicate {
            entries: [ReplicaEntry {
                key,
                owner: sender,
                lifetime_secs: 3600,
                name: Default::default(),
                owner_key: PublicKey([0xee; 32]),
                signature: Signature([0; 64]),
            }]
            .into_iter()
            .collect(),
        },
        MessageType::ListFiles => Message::ListFiles { page: 0 },
        MessageType::FileList => Message::FileList { page: 0, pages: 1, names: Default::default() },
        MessageType::FriendRequest => Message::FriendRequest(FriendRequest {
            to: key,
            key: PublicKey([0xee; 32]),
            nonce: rng.next_u64(),
            text: "let me in".try_into().expect("short"),
            signature: Signature([0; 64]),
        }),
        MessageType::FriendAnswer => Message::FriendAnswer(FriendAnswer {
            nonce: rng.next_u64(),
            accept: true,
            key: PublicKey([0xee; 32]),
            signature: Signature([0; 64]),
        }),
        MessageType::Unfriend => Message::Unfriend(Unfriend { since: rng.next_u64(), tag: [0; 16] }),
        MessageType::Presence => Message::Presence(Presence {
            version: u64::MAX,
            status: Status::Online,
            text: Default::default(),
            signature: Signature([0; 64]),
        }),
        MessageType::Chat => Message::Chat(forged_chat(rng)),
        MessageType::ChatAck => Message::ChatAck(ChatAck { delivered: 1, seq: 1, fragment: 0, room: 4, tag: [0; 16] }),
        MessageType::MailStore => Message::MailStore(forged_mail(sender, key, rng)),
        MessageType::MailCopy => Message::MailCopy(forged_mail(sender, key, rng)),
        MessageType::Mail => Message::Mail(forged_mail(sender, key, rng)),
        MessageType::MailAck => Message::MailAck(MailAck { recipient: key, sender: sender.id, delivered: u32::MAX }),
        MessageType::Get => {
            let content = mmp2p_core::content::ContentId { root: [0x55; 32], size: 1 << 30 };
            let ranges = [mmp2p_core::wire::LeafRange { first: 0, count: 1000, proofs: true }].into_iter().collect();
            Message::Get(mmp2p_core::wire::Get { content, seq: 1, cookie: rng.next_u64(), ranges })
        }
        MessageType::BlockProof => {
            let values = [[0x55; 32]; mmp2p_core::content::BLOCK_LEAVES as usize].into_iter().collect();
            let siblings = [[0x55; 32]; mmp2p_core::content::MAX_BLOCK_SIBLINGS].into_iter().collect();
            Message::BlockProof(mmp2p_core::wire::BlockProof { pn: 0, block: 0, values, siblings })
        }
        MessageType::Data => {
            let bytes = [0x55; mmp2p_core::content::CHUNK_LEN].into_iter().collect();
            Message::Data(mmp2p_core::wire::Data { pn: 0, leaf: 0, chunk: 0, bytes })
        }
        MessageType::DataAck => {
            let ranges = [(0, u32::MAX - 1)].into_iter().collect();
            Message::DataAck(mmp2p_core::wire::DataAck { delay_us: 0, ranges })
        }
        MessageType::Refuse => Message::Refuse(mmp2p_core::wire::Refuse {
            reason: mmp2p_core::wire::RefuseReason::Retry,
            cookie: rng.next_u64(),
        }),
        MessageType::ContentQuery => Message::ContentQuery { key },
        MessageType::ContentInfo => {
            let content = mmp2p_core::content::ContentId { root: [0x55; 32], size: 1 << 30 };
            Message::ContentInfo(mmp2p_core::wire::ContentInfo { key, content: Some((content, false)) })
        }
        MessageType::ConfInvite
        | MessageType::ConfAnswer
        | MessageType::ConfAdmit
        | MessageType::ConfLeave
        | MessageType::TreeJoin
        | MessageType::TreeState
        | MessageType::ConfChat
        | MessageType::ConfProof
        | MessageType::ConfData
        | MessageType::ConfPull => forged_conference(kind, sender, key, rng),
        other => panic!("no forgery for {other}: add one"),
    }
}

/// A conference message for a session no one holds, signed by no one.
fn forged_conference(kind: MessageType, sender: ResourceLocator, key: Id, rng: &mut Rng) -> Message {
    use mmp2p_core::conference::{Certificate, SessionId};
    use mmp2p_core::wire::{ConfAdmit, ConfAnswer, ConfChat, ConfInvite, ConfLeave, TreeJoin, TreeState, TreeStatus};
    let session = SessionId::new(key, "forged", rng.next_u64());
    let signature = Signature([0x55; 64]);
    let certificate = Some(Certificate { member: sender.id, key: PublicKey([0x55; 32]), signature });
    match kind {
        MessageType::ConfInvite => Message::ConfInvite(ConfInvite {
            session,
            nonce: rng.next_u64(),
            name: "forged".try_into().expect("short"),
            signature,
        }),
        MessageType::ConfAnswer => Message::ConfAnswer(ConfAnswer { session, join: true, signature }),
        MessageType::ConfAdmit => Message::ConfAdmit(ConfAdmit { session, certificate }),
        MessageType::ConfLeave => Message::ConfLeave(ConfLeave { session, member: key, removed: true, signature }),
        MessageType::TreeJoin => Message::TreeJoin(TreeJoin {
            session,
            mode: mmp2p_core::wire::TreeMode::Attach,
            capacity: 16,
            delay_us: 0,
            certificate,
        }),
        MessageType::ConfProof | MessageType::ConfData | MessageType::ConfPull => {
            forged_piece(kind, session, sender, rng)
        }
        MessageType::ConfChat => {
            let text = "x".repeat(256).as_str().try_into().expect("fits");
            Message::ConfChat(ConfChat { session, sender: sender.id, certificate, seq: 1, text, signature })
        }
        _ => Message::TreeState(TreeState {
            session,
            status: TreeStatus::Child,
            root_delay_us: 0,
            spare: 8,
            weakest: u8::MAX,
            weakest_delay_us: 0,
            path: Default::default(),
            candidates: [sender].into_iter().collect(),
            certificate,
        }),
    }
}

/// A transfer piece, or a pull of 64 pieces, for a session no one holds.
fn forged_piece(
    kind: MessageType,
    session: mmp2p_core::conference::SessionId,
    sender: ResourceLocator,
    rng: &mut Rng,
) -> Message {
    use mmp2p_core::content::ContentId;
    use mmp2p_core::wire::{Announcement, BlockProof, ConfData, ConfProof, ConfPull, Data};
    let transfer = rng.next_u64();
    match kind {
        MessageType::ConfProof => {
            let content = ContentId { root: [0x55; 32], size: 1 << 30 };
            let name = "forged".try_into().expect("short");
            let announcement = Announcement {
                sender: sender.id,
                certificate: None,
                content,
                rate: u32::MAX,
                stream: false,
                name,
                signature: Signature([0x55; 64]),
            };
            let proof = BlockProof {
                pn: 0,
                block: 0,
                values: (0..8).map(|_| [0x55; 32]).collect(),
                siblings: (0..14).map(|_| [0x55; 32]).collect(),
            };
            Message::ConfProof(ConfProof { session, transfer, announcement, proof })
        }
        MessageType::ConfData => {
            let data = Data { pn: 1, leaf: 0, chunk: 0, bytes: (&[0x55u8; 1024][..]).try_into().expect("fits") };
            Message::ConfData(ConfData { session, transfer, data })
        }
        _ => Message::ConfPull(ConfPull { session, transfer, ranges: [(0, 64)].into_iter().collect() }),
    }
}

/// A kilobyte of chat, sealed under no key.
fn forged_chat(rng: &mut Rng) -> ChatFragment {
    let sealed = (&[0x55u8; 1000][..]).try_into().expect("fits");
    ChatFragment { epoch: rng.next_u64(), seq: 1, fragment: 0, fragments: 1, sealed, tag: [0; 16] }
}

/// A kilobyte of mail for `recipient` in `sender`'s name.
fn forged_mail(sender: ResourceLocator, recipient: Id, rng: &mut Rng) -> Mail {
    Mail { recipient, sender, lifetime_secs: 604_800, chat: forged_chat(rng) }
}

/// Bytes sent to `victim` since trace entry `since`, by any node.
fn bytes_to(overlay: &Overlay, victim: SocketAddrV6, since: usize) -> usize {
    let trace = &overlay.network.trace()[since..];
    trace.iter().filter(|t| t.to == victim && matches!(t.fate, Fate::Sent { .. })).map(|t| t.bytes.len()).sum()
}

/// Per node, since trace entry `since`: bytes it received from `victim` or
/// naming it, and bytes it sent to it.
fn exchanges_with(overlay: &Overlay, victim: SocketAddrV6, since: usize) -> HashMap<SocketAddrV6, (usize, usize)> {
    let mut per_node: HashMap<SocketAddrV6, (usize, usize)> = HashMap::new();
    for t in overlay.network.trace()[since..].iter().filter(|t| matches!(t.fate, Fate::Sent { .. })) {
        let names_victim = t.repr().is_ok_and(|r| r.message.named_address() == Some(victim));
        if t.from == victim || names_victim {
            per_node.entry(t.to).or_default().0 += t.bytes.len();
        }
        if t.to == victim {
            per_node.entry(t.from).or_default().1 += t.bytes.len();
        }
    }
    per_node
}

#[test]
fn amplification_at_most_3x() {
    let mut overlay = overlay(40, 1310);
    let members: Vec<NodeIndex> = overlay.members().collect();
    // Something to find: a popular file, shared by a dozen members.
    let popular = "popular.mkv";
    for &owner in &members[..12] {
        overlay.network.command(owner, |node, now| node.share(now, [popular])).expect("shared");
    }
    overlay.network.run_for(Duration::from_secs(20));
    let popular_key = Id::from_file_name(popular);
    let attacker = members[3];
    let victim = SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0xdead, 2), 4000, 0, 0);
    overlay.network.set_tracing(true);
    let mut rng = Rng::new(1311);
    for kind in MessageType::ALL {
        let since = overlay.network.trace().len();
        let mut sent = 0;
        // To eight members, each with a sender ID just after the member's
        // own, so that a STABILISE makes it a candidate neighbour.
        for (i, &target) in members.iter().skip(5).step_by(4).take(8).enumerate() {
            let target_id = overlay.network.locator(target).id;
            let sender = ResourceLocator::new(Id(target_id.0.wrapping_add(1)), victim);
            let key = if i % 2 == 0 { popular_key } else { target_id };
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 64, txid: rng.next_u64(), sender },
                message: forged(kind, sender, key, &mut rng),
            };
            let bytes = datagram(&repr);
            sent += bytes.len();
            overlay.network.inject_spoofed(attacker, victim, Network::addr(target), bytes);
        }
        overlay.network.run_for(Duration::from_secs(40));
        // Each node sent the victim at most 3x what it received from it or in its name.
        for (node, (received, answered)) in exchanges_with(&overlay, victim, since) {
            assert!(answered <= 3 * received, "{kind}: {node} got {received} bytes and sent {answered}");
        }
        // And the whole ring at most 3x what the attacker sent: a STORE's
        // responsible nodes check its owner against its registration, not
        // by asking the address it names.
        let drawn = bytes_to(&overlay, victim, since);
        assert!(drawn <= 3 * sent, "{kind}: {sent} bytes from a spoofed source drew {drawn} bytes to it");
    }
    // The ring is untouched and still works.
    overlay.check_ring().expect("every chain holds the true neighbours");
    let report = overlay.run_lookups(100);
    assert_eq!((report.failed, report.wrong), (0, 0));
}

/// Whether node `node` got event `wanted` since event number `since`.
fn got(overlay: &Overlay, node: NodeIndex, since: usize, wanted: impl Fn(&Event) -> bool) -> bool {
    overlay.network.events()[since..].iter().any(|e| e.node == node && wanted(&e.event))
}

#[test]
fn impostor_refused_owner_takes_over() {
    let mut overlay = overlay(40, 1330);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let (alice, via) = (members[17], Network::addr(members[3]));
    let alice_id = overlay.network.locator(alice).id;
    let alice_key = overlay.network.node(alice).identity().clone();
    // A refresh period copies every registration to its owner's successors.
    overlay.network.run_for(Duration::from_secs(70));
    let refused = |e: &Event| matches!(e, Event::JoinFailed { reason: JoinFailure::IdRegistered, .. });

    // An impostor — alice's ID, another key — is refused while alice runs, and alice is told.
    let impostor = overlay.network.add_node(alice_id, Config::default());
    let claimant = Network::addr(impostor);
    let since = overlay.network.events().len();
    overlay.network.command(impostor, |n, now| n.join(now, via)).expect("join starts");
    overlay.network.run_for(Duration::from_secs(10));
    assert!(got(&overlay, impostor, since, refused), "the impostor is refused while alice runs");
    assert!(got(&overlay, alice, since, |e| *e == Event::IdentityClaimed { claimant }), "alice is told");

    // Alice goes offline; once the ring has repaired, her successor refuses the impostor.
    overlay.network.crash(alice);
    overlay.network.run_for(Duration::from_secs(60));
    let since = overlay.network.events().len();
    overlay.network.command(impostor, |n, now| n.join(now, via)).expect("join starts");
    overlay.network.run_for(Duration::from_secs(10));
    assert!(got(&overlay, impostor, since, refused), "the impostor is refused after alice left");
    assert!(!overlay.network.node(impostor).is_joined());
    overlay.network.crash(impostor);

    // Alice on a new address, with her key, takes over at once.
    let new_device = |overlay: &mut Overlay| {
        let device = overlay.network.add_node(alice_id, Config::default());
        let since = overlay.network.events().len();
        let key = alice_key.clone();
        overlay
            .network
            .command(device, |n, now| {
                n.set_identity(key);
                n.join(now, via)
            })
            .expect("join starts");
        overlay.network.run_for(Duration::from_secs(5));
        (device, since)
    };
    let (laptop, since) = new_device(&mut overlay);
    assert!(got(&overlay, laptop, since, |e| matches!(e, Event::Joined { .. })), "alice's laptop joins");

    // And again from a phone while the laptop runs: the laptop steps aside.
    let (phone, since) = new_device(&mut overlay);
    let phone_addr = Network::addr(phone);
    assert!(got(&overlay, laptop, since, |e| *e == Event::TakenOver { by: phone_addr }), "the laptop steps aside");
    overlay.network.run_for(Duration::from_secs(30));
    // The phone joins once the laptop has left; no one else holds alice's ID.
    if !overlay.network.node(phone).is_joined() {
        overlay.network.command(phone, |n, now| n.join(now, via)).expect("join starts");
        overlay.network.run_for(Duration::from_secs(10));
    }
    assert!(overlay.network.node(phone).is_joined(), "alice's phone holds her ID");
    assert!(!overlay.network.node(laptop).is_member(), "the laptop left");
    overlay.network.crash(laptop);
    overlay.refresh_ring();
    overlay.settle(Duration::from_secs(60)).expect("one ring, alice's ID at her phone");
    assert_eq!(overlay.responsible(alice_id), phone);
    let report = overlay.run_queries(&[(members[3], alice_id), (members[30], alice_id)]);
    assert_eq!((report.failed, report.wrong), (0, 0), "lookups for alice's ID end at her phone");
}

/// A stranger at one address that claims an ID next to two members and
/// answers every probe sent to it, proving (or not) the identity it claims.
struct Stranger {
    host: NodeIndex,
    me: ResourceLocator,
    /// Its proof: the key it holds (`None`: it answers without one), and
    /// whether it spoils the signature.
    key: Option<(mmp2p_core::identity::Identity, bool)>,
    read: usize,
}

impl Stranger {
    /// STABILISEs both members whose neighbour it claims to be.
    fn knock(&self, overlay: &mut Overlay, members: &[NodeIndex]) {
        for &member in members {
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 0, txid: 0x5eed, sender: self.me },
                message: Message::Stabilise { identify: false },
            };
            let bytes = datagram(&repr);
            overlay.network.inject_spoofed(self.host, self.me.addr, Network::addr(member), bytes);
        }
    }

    /// Answers every STABILISE sent to its address since last time.
    fn answer(&mut self, overlay: &mut Overlay) {
        let trace = overlay.network.trace();
        let probes: Vec<(SocketAddrV6, u64)> = trace[self.read..]
            .iter()
            .filter(|t| t.to == self.me.addr)
            .filter_map(|t| t.repr().ok().map(|r| (t.from, r)))
            .filter(|(_, r)| matches!(r.message, Message::Stabilise { .. }))
            .map(|(from, r)| (from, r.header.txid))
            .collect();
        self.read = trace.len();
        for (prober, txid) in probes {
            let proof = self.key.as_ref().map(|(identity, spoil)| {
                let record = mmp2p_core::registration::Registration::sign(identity, self.me.id, self.me.addr, 1, txid);
                let mut proof = mmp2p_core::wire::IdentityProof::of(&record);
                proof.signature.0[0] ^= u8::from(*spoil);
                proof
            });
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 0, txid, sender: self.me },
                message: Message::StabiliseReply { left: Chain::new(), right: Chain::new(), proof },
            };
            let bytes = datagram(&repr);
            overlay.network.inject_spoofed(self.host, self.me.addr, prober, bytes);
        }
    }

    /// Knocks every 2 s and answers every probe for `duration`.
    fn run(&mut self, overlay: &mut Overlay, members: &[NodeIndex], duration: Duration) {
        let step = Duration::from_millis(100);
        for i in 0..duration.as_millis() / step.as_millis() {
            if i % 20 == 0 {
                self.knock(overlay, members);
            }
            overlay.network.run_for(step);
            self.answer(overlay);
        }
    }
}

/// True if any live member lists `addr` in one of its chains.
fn anyone_lists(overlay: &Overlay, addr: SocketAddrV6) -> bool {
    overlay.members().any(|m| {
        let neighbours = overlay.network.node(m).neighbours();
        [Side::Left, Side::Right].iter().any(|&side| neighbours.chain(side).iter().any(|c| c.addr == addr))
    })
}

#[test]
fn stranger_cannot_become_neighbour() {
    let mut overlay = overlay(40, 1340);
    let members: Vec<NodeIndex> = overlay.members().collect();
    // A refresh period copies every registration to its owner's successors.
    overlay.network.run_for(Duration::from_secs(70));
    let neighbours_of = |overlay: &Overlay, id: Id| {
        let owner = overlay.responsible(id);
        let left = overlay.network.node(owner).neighbours().chain(Side::Left)[0];
        let right = overlay.network.node(owner).neighbours().chain(Side::Right)[0];
        [left, right].map(|l| overlay.network.index_of(&l.addr).expect("a member"))
    };
    let stranger_addr = |i: u16| SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, 0, i), 4000, 0, 0);
    let unidentified = |overlay: &Overlay, nodes: &[NodeIndex]| -> u64 {
        nodes.iter().map(|&n| overlay.network.node(n).stats().dropped(mmp2p_core::DropReason::Unidentified)).sum()
    };

    // 1. A registered ID whose owner is offline, claimed with the stranger's own key.
    let victim = members[17];
    let victim_id = overlay.network.locator(victim).id;
    let around = neighbours_of(&overlay, victim_id);
    overlay.network.crash(victim);
    overlay.network.run_for(Duration::from_secs(30));
    let key = mmp2p_core::identity::Identity::from_seed([0x5a; 32]);
    let mut impostor = Stranger {
        host: members[3],
        me: ResourceLocator::new(victim_id, stranger_addr(1)),
        key: Some((key.clone(), false)),
        read: overlay.network.trace().len(),
    };
    overlay.network.set_tracing(true);
    impostor.run(&mut overlay, &around, Duration::from_secs(20));
    assert!(!anyone_lists(&overlay, impostor.me.addr), "an impostor of an offline owner became a neighbour");
    assert!(unidentified(&overlay, &around) > 0, "its claims were seen and refused");

    // 2. A free ID between two live members, answering without a proof, then with a forged one.
    for (i, key) in [None, Some((key, true))].into_iter().enumerate() {
        let [left, right] = {
            let a = members[25 + i];
            let right = overlay.network.node(a).neighbours().chain(Side::Right)[0];
            [a, overlay.network.index_of(&right.addr).expect("a member")]
        };
        let (l, r) = (overlay.network.locator(left).id, overlay.network.locator(right).id);
        let between = Id(l.0.wrapping_add(r.0.wrapping_sub(l.0) / 2));
        let before = unidentified(&overlay, &[left, right]);
        let mut stranger = Stranger {
            host: members[3],
            me: ResourceLocator::new(between, stranger_addr(2 + i as u16)),
            key,
            read: overlay.network.trace().len(),
        };
        stranger.run(&mut overlay, &[left, right], Duration::from_secs(20));
        assert!(!anyone_lists(&overlay, stranger.me.addr), "a stranger without the key it claims became a neighbour");
        assert!(unidentified(&overlay, &[left, right]) > before);
    }
    overlay.refresh_ring();
    overlay.settle(Duration::from_secs(60)).expect("the ring is whole");
    let report = overlay.run_lookups(100);
    assert_eq!((report.failed, report.wrong), (0, 0));
}

/// A ring of nodes of the overlay alone — small tables, no messenger,
/// transfers or conferences — takes every message type from a member:
/// what a node has no table for is dropped and counted, nothing panics,
/// the ring stays whole and lookups keep succeeding; the applications'
/// commands fail with a typed error.
#[test]
fn an_overlay_only_ring_takes_every_message_type_and_keeps_routing() {
    let spec = OverlaySpec { nodes: 24, friends: 6, seed: 29, ..OverlaySpec::default() };
    let mut overlay = Overlay::<OverlayOnly>::build_with_profile(&spec).expect("the overlay builds");
    let members: Vec<NodeIndex> = overlay.members().collect();
    let dropped = |overlay: &Overlay<OverlayOnly>| -> u64 {
        overlay.network.nodes().map(|(_, n)| n.stats().drops().map(|(_, count)| count).sum::<u64>()).sum()
    };
    let before = dropped(&overlay);
    let mut rng = Rng::new(4242);
    for kind in MessageType::ALL {
        for (i, &target) in members.iter().enumerate().step_by(3) {
            let from = members[(i + 1) % members.len()];
            let sender = overlay.network.locator(from);
            let key = overlay.network.locator(target).id;
            let header = Header { flags: 0, hop_limit: 64, txid: rng.next_u64(), sender };
            let repr = Repr { header, message: forged(kind, sender, key, &mut rng) };
            overlay.network.inject(from, Network::addr(target), datagram(&repr));
        }
        overlay.network.run_for(Duration::from_secs(5));
    }
    overlay.check_ring().expect("every chain holds the true neighbours");
    let report = overlay.run_lookups(100);
    assert_eq!((report.samples.len(), report.failed, report.wrong), (100, 0, 0));
    assert!(dropped(&overlay) > before, "the applications' messages are dropped and counted");
    let (node, peer) = (members[0], overlay.network.locator(members[1]).id);
    assert!(overlay.network.command(node, |n, now| n.request_friend(now, peer, "hi")).is_err());
    assert!(overlay.network.command(node, |n, now| n.create_conference(now, "talk")).is_err());
    assert!(overlay.network.command(node, |n, now| n.share(now, ["song.ogg"])).is_err());
}
