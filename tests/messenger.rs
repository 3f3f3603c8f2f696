//! The messenger on the memory network: friend requests with consent,
//! presence, and end-to-end sealed chat delivered exactly once and in order.

mod common;

use common::{befriend, datagram, wait_for};
use mmp2p_core::conversation::{ConversationKey, Seal, SealKind};
use mmp2p_core::identity::{Identity, PublicKey, Signature};
use mmp2p_core::tables::friend_requests::{MAX_INCOMING_REQUESTS, REQUEST_BURST, REQUEST_REFILL};
use mmp2p_core::wire::{
    ChatAck, ChatFragment, FriendAnswer, FriendRequest, Header, Mail, MailAck, Message, MessageType, Presence, Repr,
    Status, Unfriend,
};
use mmp2p_core::{rng::Rng, DropReason, Event, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{NetworkConfig, NodeIndex};
use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 0, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// What `reader` read from `from`, in order.
fn read_by(overlay: &Overlay, reader: NodeIndex, from: Id) -> Vec<&[u8]> {
    let chats = overlay.network.chats().iter();
    chats.filter(|c| c.node == reader && c.from == from).map(|c| &c.text[..]).collect()
}

#[test]
fn requests_need_consent_and_answers_reach_the_asker() {
    let mut overlay = overlay(12, 1400);
    let m: Vec<NodeIndex> = overlay.members().collect();
    befriend(&mut overlay, m[1], m[2]);
    // A declined request: no contact either side, the asker is told.
    let (asker, asked) = (m[3], m[4]);
    let (asker_id, asked_id) = (overlay.network.locator(asker).id, overlay.network.locator(asked).id);
    let since = overlay.network.events().len();
    overlay.network.command(asker, |n, now| n.request_friend(now, asked_id, "hi")).unwrap();
    wait_for(&mut overlay, asked, since, Duration::from_secs(30), |e| matches!(e, Event::FriendRequest { .. }));
    overlay.network.command(asked, |n, now| n.decline_friend(now, asker_id)).unwrap();
    wait_for(&mut overlay, asker, since, Duration::from_secs(30), |e| matches!(e, Event::FriendDeclined { .. }));
    assert!(overlay.network.node(asker).contacts().is_empty() && overlay.network.node(asked).contacts().is_empty());
    assert!(overlay.network.node(asker).friend_requests().outgoing().is_empty(), "answered: no more sends");
    // A cancelled request stops going out.
    let far = overlay.network.locator(m[5]).id;
    overlay.network.command(asker, |n, now| n.request_friend(now, far, "hello?")).unwrap();
    assert!(overlay.network.command(asker, |n, now| n.cancel_friend_request(now, far)));
    overlay.network.run_for(Duration::from_secs(120));
    assert!(overlay.network.node(asker).friend_requests().outgoing().is_empty());
    assert!(overlay.network.node(m[5]).friend_requests().incoming().is_empty(), "a cancelled request never shows");
    // A blocked asker is dropped silently and counted.
    overlay.network.command(asked, |n, now| n.block(now, asker_id)).unwrap();
    overlay.network.command(asker, |n, now| n.request_friend(now, asked_id, "again")).unwrap();
    overlay.network.run_for(Duration::from_secs(20));
    assert!(overlay.network.node(asked).friend_requests().incoming().is_empty());
    assert!(overlay.network.node(asked).stats().dropped(DropReason::Blocked) > 0);
    // Unfriending tells the other side.
    let (one, two) = (overlay.network.locator(m[1]).id, m[2]);
    let since = overlay.network.events().len();
    overlay.network.command(two, |n, now| n.unfriend(now, one)).unwrap();
    wait_for(&mut overlay, m[1], since, Duration::from_secs(30), |e| matches!(e, Event::Unfriended { .. }));
    assert!(overlay.network.node(m[1]).contacts().is_empty() && overlay.network.node(two).contacts().is_empty());
}

/// 10 000 messages between 100 pairs of friends under 20 % loss, 5 %
/// duplication and reordering: each read once, in order; every receipt back.
#[test]
fn chat_exactly_once() {
    let mut overlay = overlay(200, 1410);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let pairs: Vec<(NodeIndex, NodeIndex)> = (0..100).map(|i| (m[i], m[i + 100])).collect();
    for &(a, b) in &pairs {
        befriend(&mut overlay, a, b);
    }
    let faults = NetworkConfig { loss: 0.2, duplicate: 0.05, reorder: 0.1, ..NetworkConfig::default() };
    overlay.network.set_config(faults);
    // 50 messages each way per pair, some longer than a datagram.
    let mut backlog: BTreeMap<NodeIndex, Vec<(Id, Vec<u8>)>> = BTreeMap::new();
    for &(a, b) in &pairs {
        for (from, to) in [(a, b), (b, a)] {
            let to_id = overlay.network.locator(to).id;
            let texts = (0..50).map(|i| {
                let len = if i % 10 == 9 { 2500 } else { 20 };
                let mut text = format!("{from:?}->{to:?} #{i:03} ").into_bytes();
                text.resize(len, b'.');
                (to_id, text)
            });
            backlog.entry(from).or_default().extend(texts);
        }
    }
    let sent: Vec<(NodeIndex, Id, Vec<u8>)> =
        backlog.iter().flat_map(|(&n, texts)| texts.iter().map(move |(to, t)| (n, *to, t.clone()))).collect();
    let mut seqs = BTreeMap::new();
    let events_from = overlay.network.events().len();
    let reads_from = overlay.network.chats().len();
    let deadline = overlay.network.now() + Duration::from_secs(3600);
    while backlog.values().any(|b| !b.is_empty()) && overlay.network.now() < deadline {
        for (&node, texts) in backlog.iter_mut() {
            while let Some((to, text)) = texts.first() {
                match overlay.network.command(node, |n, now| n.say(now, *to, text)) {
                    Ok(seq) => {
                        seqs.insert((node, seq), text.clone());
                        texts.remove(0);
                    }
                    Err(_) => break,
                }
            }
        }
        overlay.network.run_for(Duration::from_millis(200));
    }
    overlay.network.set_config(NetworkConfig::default());
    overlay.network.run_for(Duration::from_secs(300));
    assert_eq!(seqs.len(), 10_000);
    // Every message read once, in order, per conversation direction.
    let mut read: BTreeMap<(NodeIndex, Id), Vec<Vec<u8>>> = BTreeMap::new();
    for chat in &overlay.network.chats()[reads_from..] {
        read.entry((chat.node, chat.from)).or_default().push(chat.text.clone());
    }
    let by_id: BTreeMap<Id, NodeIndex> = m.iter().map(|&n| (overlay.network.locator(n).id, n)).collect();
    let mut expected: BTreeMap<(NodeIndex, Id), Vec<Vec<u8>>> = BTreeMap::new();
    for (from, to, text) in &sent {
        let to_node = by_id[to];
        expected.entry((to_node, overlay.network.locator(*from).id)).or_default().push(text.clone());
    }
    assert_eq!(read.len(), expected.len());
    for (conversation, texts) in &expected {
        assert_eq!(read.get(conversation), Some(texts), "{conversation:?}: lost, repeated or out of order");
    }
    // Every receipt arrived, once.
    let receipts =
        overlay.network.events()[events_from..].iter().filter(|e| matches!(e.event, Event::Delivered { .. }));
    assert_eq!(receipts.count(), 10_000);
    assert!(overlay.network.nodes().all(|(_, n)| n.undelivered().next().is_none()));
}

/// A datagram from `sender` carrying `message`.
fn forged(sender: ResourceLocator, message: Message, rng: &mut Rng) -> Vec<u8> {
    datagram(&Repr { header: Header { flags: 0, hop_limit: 64, txid: rng.next_u64(), sender }, message })
}

/// What an impostor who knows a friendship, but not its keys, sends in
/// the name of `victim` to `target`: one forgery per messenger type,
/// signed or sealed with its own key.
fn impersonation(
    kind: MessageType,
    mallory: &Identity,
    target: (Id, PublicKey),
    victim: ResourceLocator,
    rng: &mut Rng,
) -> Message {
    let own = ConversationKey::agree(mallory, &target.1).expect("valid keys");
    let mut chat = ChatFragment {
        epoch: rng.next_u64(),
        seq: 2,
        fragment: 0,
        fragments: 1,
        sealed: (&b"send me your password"[..]).try_into().expect("short"),
        tag: [0; 16],
    };
    let seal = Seal { kind: SealKind::Chat, first: chat.epoch, second: 2 << 16 | 1 };
    chat.tag = own.seal(seal, &chat.associated(), &mut chat.sealed);
    let mail = Mail { recipient: target.0, sender: victim, lifetime_secs: 604_800, chat: chat.clone() };
    match kind {
        MessageType::FriendRequest => {
            let mut request = FriendRequest {
                to: Id(0),
                key: mallory.public_key(),
                nonce: rng.next_u64(),
                text: "it's me, really".try_into().expect("short"),
                signature: Signature([0; 64]),
            };
            request.signature = mallory.sign(&[0]);
            Message::FriendRequest(request)
        }
        MessageType::FriendAnswer => Message::FriendAnswer(FriendAnswer {
            nonce: rng.next_u64(),
            accept: true,
            key: mallory.public_key(),
            signature: mallory.sign(&[1]),
        }),
        MessageType::Unfriend => {
            let since = rng.next_u64();
            let tag = own.seal(Seal { kind: SealKind::Unfriend, first: since, second: 0 }, &[], &mut []);
            Message::Unfriend(Unfriend { since, tag })
        }
        MessageType::Presence => Message::Presence(Presence {
            version: u64::MAX,
            status: Status::Busy,
            text: "hijacked".try_into().expect("short"),
            signature: mallory.sign(&[2]),
        }),
        MessageType::Chat => Message::Chat(chat),
        MessageType::MailStore => Message::MailStore(mail),
        MessageType::MailCopy => Message::MailCopy(mail),
        MessageType::Mail => Message::Mail(mail),
        MessageType::MailAck => {
            Message::MailAck(MailAck { recipient: victim.id, sender: target.0, delivered: u32::MAX })
        }
        MessageType::ChatAck => {
            let tag = own.seal(Seal { kind: SealKind::ChatAck, first: 1_000, second: 1 << 16 | 4 }, &[], &mut []);
            Message::ChatAck(ChatAck { delivered: 1_000, seq: 1, fragment: 0, room: 4, tag })
        }
        other => panic!("no impersonation of {other}: add one"),
    }
}

/// An impostor speaks as a friend of Bob's — from its own address, and
/// from the friend's address spoofed — with every messenger message type,
/// and replays the friend's real chat: Bob reads the friend's one message
/// once, keeps the friendship, its presence and its receipts as they were.
#[test]
fn impostor_cannot_chat_as_friend() {
    let mut overlay = overlay(12, 1420);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (alice, bob, mallory) = (m[1], m[2], m[3]);
    befriend(&mut overlay, alice, bob);
    let (alice_at, bob_at) = (overlay.network.locator(alice), overlay.network.locator(bob));
    overlay.network.set_tracing(true);
    let seq = overlay.network.command(alice, |n, now| n.say(now, bob_at.id, b"real")).expect("sent");
    overlay.network.run_for(Duration::from_secs(2));
    let genuine = overlay.network.trace().iter().find(|t| t.to == bob_at.addr && t.bytes[3] == MessageType::Chat as u8);
    let genuine = genuine.expect("alice's chat went out").bytes.clone();
    let events_from = overlay.network.events().len();
    let mallory_identity = Identity::from_seed([0x66; 32]);
    let mut rng = Rng::new(1421);
    let before = overlay.network.node(bob).stats().dropped(DropReason::BadSignature);
    // The messenger's types: 0x40 to 0x4f.
    let kinds: Vec<MessageType> = MessageType::ALL.into_iter().filter(|k| (0x40..0x50).contains(&(*k as u8))).collect();
    for kind in kinds {
        let target = (bob_at.id, overlay.network.node(bob).public_key());
        let message = impersonation(kind, &mallory_identity, target, alice_at, &mut rng);
        let bytes = forged(alice_at, message, &mut rng);
        overlay.network.inject(mallory, bob_at.addr, bytes.clone());
        overlay.network.inject_spoofed(mallory, alice_at.addr, bob_at.addr, bytes);
    }
    for _ in 0..3 {
        overlay.network.inject_spoofed(mallory, alice_at.addr, bob_at.addr, genuine.clone());
    }
    overlay.network.run_for(Duration::from_secs(10));
    let from_alice = read_by(&overlay, bob, alice_at.id);
    assert_eq!(from_alice, [&b"real"[..]], "the friend's message, once; nothing forged");
    let bob_node = overlay.network.node(bob);
    let contact = bob_node.contacts().get(alice_at.id).expect("still friends");
    assert_eq!((contact.delivered, contact.presence.status), (seq, Status::Online));
    assert!(overlay.network.node(alice).contacts().get(bob_at.id).is_some());
    assert!(bob_node.friend_requests().incoming().is_empty(), "no request in alice's name");
    assert!(
        bob_node.stats().dropped(DropReason::BadSignature) >= before + 4,
        "the spoofed forgeries fail their checks"
    );
    let changed = overlay.network.events()[events_from..].iter().any(|e| {
        e.node == bob
            && matches!(e.event, Event::Unfriended { .. } | Event::PresenceChanged { .. } | Event::FriendRequest { .. })
    });
    assert!(!changed, "no forged unfriending, presence or request");
    let receipts =
        overlay.network.events().iter().filter(|e| e.node == alice && matches!(e.event, Event::Delivered { .. }));
    assert_eq!(receipts.count(), 1, "alice's one receipt, none forged");
}

/// A friend sets a status, then crashes: it shows as offline within one
/// friend-probe period plus the probe's retries.
#[test]
fn presence_goes_offline_within_bound() {
    let mut overlay = overlay(12, 1430);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (alice, bob) = (m[1], m[2]);
    befriend(&mut overlay, alice, bob);
    let (alice_id, bob_id) = (overlay.network.locator(alice).id, overlay.network.locator(bob).id);
    let since = overlay.network.events().len();
    overlay.network.command(bob, |n, now| n.set_presence(now, Status::Away, "lunch")).expect("set");
    let away = |e: &Event| matches!(e, Event::PresenceChanged { friend, status: Status::Away } if *friend == bob_id);
    wait_for(&mut overlay, alice, since, Duration::from_secs(10), away);
    assert_eq!(overlay.network.node(alice).contacts().get(bob_id).expect("friend").presence.text, "lunch");
    // Chat keeps the friend heard for a while, then it crashes.
    overlay.network.command(bob, |n, now| n.say(now, alice_id, b"back soon")).expect("sent");
    overlay.network.run_for(Duration::from_secs(30));
    let crashed = overlay.network.now();
    overlay.network.crash(bob);
    let since = overlay.network.events().len();
    let config = *overlay.network.node(alice).config();
    let bound = config.friend_probe_interval + config.probe_timeout * u32::from(config.liveness_misses);
    let offline =
        |e: &Event| matches!(e, Event::PresenceChanged { friend, status: Status::Offline } if *friend == bob_id);
    wait_for(&mut overlay, alice, since, bound + Duration::from_secs(60), offline);
    let shown =
        overlay.network.events()[since..].iter().find(|e| e.node == alice && offline(&e.event)).expect("seen").at;
    let took = shown.saturating_duration_since(crashed);
    assert!(took <= bound, "offline after {took:?}, bound {bound:?}");
}

/// A signed request for `to` from `identity` at `sender`.
fn request_from(identity: &Identity, sender: ResourceLocator, to: Id, nonce: u64, rng: &mut Rng) -> Vec<u8> {
    let mut request = FriendRequest {
        to,
        key: identity.public_key(),
        nonce,
        text: "add me".try_into().expect("short"),
        signature: Signature([0; 64]),
    };
    request.signature = identity.sign(request.transcript(&sender).as_bytes());
    forged(sender, Message::FriendRequest(request), rng)
}

/// 1 000 requests from 1 000 identities and 10 000 from one registered
/// user, over some 22 s: the pending list stays within its bound, checks
/// within the rate limits, and a genuine request from a real user still
/// arrives and is accepted.
#[test]
fn friend_request_flood() {
    let mut overlay = overlay(30, 1440);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (target, genuine, one, host) = (m[1], m[2], m[3], m[4]);
    let (target_at, genuine_id, one_at) =
        (overlay.network.locator(target), overlay.network.locator(genuine).id, overlay.network.locator(one));
    let one_identity = overlay.network.node(one).identity().clone();
    let since = overlay.network.events().len();
    overlay.network.command(genuine, |n, now| n.request_friend(now, target_at.id, "from the conference")).unwrap();
    let started = overlay.network.now();
    let mut rng = Rng::new(1441);
    let mut most_pending = 0;
    for i in 0..11_000u32 {
        if i % 11 == 0 {
            // One of 1 000 identities, each at an address of its own.
            let identity = Identity::from_seed(core::array::from_fn(|j| (rng.next_u64() >> (j % 8)) as u8));
            let addr =
                SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, (i >> 16) as u16, i as u16), 4000, 0, 0);
            let sender = ResourceLocator::new(Id(u128::from(rng.next_u64()) << 64 | u128::from(i)), addr);
            let bytes = request_from(&identity, sender, target_at.id, rng.next_u64(), &mut rng);
            overlay.network.inject_spoofed(host, addr, target_at.addr, bytes);
        } else {
            let bytes = request_from(&one_identity, one_at, target_at.id, u64::from(i), &mut rng);
            overlay.network.inject(one, target_at.addr, bytes);
        }
        if i % 50 == 49 {
            overlay.network.run_for(Duration::from_millis(100));
            most_pending = most_pending.max(overlay.network.node(target).friend_requests().incoming().len());
        }
    }
    let flood = overlay.network.now().saturating_duration_since(started);
    let node = overlay.network.node(target);
    let sends = overlay.network.node(genuine).friend_requests().outgoing().iter().map(|r| r.sends).sum::<u32>();
    let arrived = 11_000 + u64::from(sends);
    let checked = arrived - node.stats().dropped(DropReason::RateLimited);
    let allowed = u64::from(REQUEST_BURST) + (flood.as_micros() / REQUEST_REFILL.as_micros()) as u64 + 1;
    assert!(most_pending <= MAX_INCOMING_REQUESTS, "{most_pending} pending");
    assert!(checked <= allowed, "{checked} requests checked in {flood:?}, at most {allowed} allowed");
    let from_one = node.friend_requests().incoming().iter().filter(|r| r.from.id == one_at.id).count();
    assert!(from_one <= 1, "repeats merge");
    // The genuine request gets through once the flood is over, and is accepted.
    let asked = |e: &Event| matches!(e, Event::FriendRequest { from } if from.id == genuine_id);
    wait_for(&mut overlay, target, since, Duration::from_secs(120), asked);
    overlay.network.command(target, |n, now| n.accept_friend(now, genuine_id)).expect("accepted");
    let accepted = |e: &Event| matches!(e, Event::FriendAccepted { friend } if *friend == target_at.id);
    wait_for(&mut overlay, genuine, since, Duration::from_secs(30), accepted);
    assert!(overlay.network.node(target).friend_requests().incoming().len() <= MAX_INCOMING_REQUESTS);
}

/// Nodes (up) that keep mail for `recipient`.
fn mail_holders(overlay: &Overlay, recipient: Id) -> Vec<NodeIndex> {
    let network = &overlay.network;
    let keeps = |n: &mmp2p_core::Node| n.mailbox().iter().any(|l| l.recipient == recipient);
    network.nodes().filter(|(i, n)| network.is_up(*i) && keeps(n)).map(|(i, _)| i).collect()
}

/// Bob is offline; Alice's messages to him wait as mail at the node
/// responsible for his ID and its successors; Alice goes offline too; the
/// holder crashes and a successor's copy serves; Bob comes back (restarted,
/// his friendship restored) and reads each message once, in order; then no
/// node keeps his mail.
#[test]
fn offline_message_delivered() {
    let mut overlay = overlay(16, 1450);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let bob = m[2];
    let bob_at = overlay.network.locator(bob);
    let holder = overlay.responsible(Id(bob_at.id.0.wrapping_add(1)));
    let alice = *m.iter().find(|&&n| n != bob && n != holder && n != NodeIndex(0)).expect("a third member");
    let alice_at = overlay.network.locator(alice);
    befriend(&mut overlay, alice, bob);
    let record = overlay.network.node(bob).contacts().get(alice_at.id).expect("friend").record();
    // Bob crashes; Alice sees him offline.
    let since = overlay.network.events().len();
    overlay.network.crash(bob);
    let offline =
        |e: &Event| matches!(e, Event::PresenceChanged { friend, status: Status::Offline } if *friend == bob_at.id);
    wait_for(&mut overlay, alice, since, Duration::from_secs(120), offline);
    let mut long = b"a long one: ".to_vec();
    long.resize(2500, b'~');
    let texts: [&[u8]; 3] = [b"are you there?", &long, b"call me when you are back"];
    for text in texts {
        overlay.network.command(alice, |n, now| n.say(now, bob_at.id, text)).expect("queued");
    }
    overlay.network.run_for(Duration::from_secs(30));
    let letters = |overlay: &Overlay, node: NodeIndex| {
        overlay.network.node(node).mailbox().iter().filter(|l| l.recipient == bob_at.id).count()
    };
    assert_eq!(letters(&overlay, holder), 5, "the holder keeps every fragment: 1 + 3 + 1");
    let copies = mail_holders(&overlay, bob_at.id);
    assert!(copies.len() >= 2, "copies beside the holder: {copies:?}");
    // Alice goes offline too: the mail is all there is. The holder crashes.
    overlay.network.crash(alice);
    overlay.network.crash(holder);
    overlay.network.run_for(Duration::from_secs(60));
    assert!(!mail_holders(&overlay, bob_at.id).is_empty(), "a successor's copy survives");
    // Bob comes back: restarted, his friendship with Alice restored, he rejoins.
    overlay.network.restart(bob);
    let entry = mmp2p_memory::Network::addr(m[0]);
    overlay.network.command(bob, |n, now| n.restore_contact(now, alice_at, record)).expect("restored");
    overlay.network.set_tracing(true);
    overlay.network.command(bob, |n, now| n.join(now, entry)).expect("joins");
    overlay.network.run_for(Duration::from_secs(120));
    let read = read_by(&overlay, bob, alice_at.id);
    assert_eq!(read, texts, "each message once, in order");
    let mail_to_bob =
        overlay.network.trace().iter().filter(|t| t.to == bob_at.addr && t.bytes[3] == MessageType::Mail as u8);
    assert!(mail_to_bob.count() >= 5, "delivered as mail by the holder's successor");
    assert!(mail_holders(&overlay, bob_at.id).is_empty(), "then gone from the overlay");
    assert_eq!(overlay.network.node(bob).contacts().get(alice_at.id).expect("friend").delivered, 3);
}
