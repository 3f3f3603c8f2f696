//! Owners: who may be named as sharing a file. Locators are signed by
//! their owners and checked against registered keys by the nodes that keep
//! them and by every searcher; a search asks a key's node and its mirror's;
//! and the store is shared fairly however hard one party floods it.

mod common;

use common::datagram;
use mmp2p_core::identity::{Identity, Signature};
use mmp2p_core::locator_signature::sign_locator;
use mmp2p_core::wire::{FileEntry, Header, IdentityProof, JoinStatus, Message, Repr, SignedOwner, MAX_STORE_BATCH};
use mmp2p_core::{rng::Rng, Config, Id, ResourceLocator};
use mmp2p_memory::liar::{Tamper, Way};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Network, NodeIndex};
use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

fn overlay(nodes: usize, seed: u64) -> Overlay {
    let spec = OverlaySpec { nodes, friends: 5, seed, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// The flooder of `store_fair_under_flood`: 16 addresses of one /64 and 64
/// registered identities, storing as fast as it can and answering every check.
struct Flooder {
    host: NodeIndex,
    rng: Rng,
    read: usize,
    /// Its identities, each registered at one of its addresses.
    identities: Vec<(Identity, ResourceLocator)>,
}

impl Flooder {
    fn addr(i: u64) -> SocketAddrV6 {
        SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, 0, 1 + (i % 16) as u16), 4000, 0, 0)
    }

    fn is_ours(addr: &SocketAddrV6) -> bool {
        addr.ip().segments()[..4] == [0xfd00, 0xbad, 0, 0]
    }

    /// Registers its 64 identities, 4 at each of its addresses, by joining
    /// with each (echoing the responsible node's cookie, signing its
    /// registration) and then falling silent.
    fn register(&mut self, overlay: &mut Overlay, members: &[NodeIndex]) {
        let wanted: Vec<(Identity, ResourceLocator)> = (0..64u64)
            .map(|j| {
                let identity = Identity::from_seed([j as u8 + 1; 32]);
                let id = Id::from_email(&format!("sybil{j}@example.org"));
                (identity, ResourceLocator::new(id, Flooder::addr(j)))
            })
            .collect();
        // Joins that lose a race with another are tried again.
        let mut accepted = std::collections::BTreeSet::new();
        for _ in 0..4 {
            self.read = overlay.network.trace().len();
            let mut first = HashMap::new();
            for (j, (_, joiner)) in wanted.iter().enumerate().filter(|(j, _)| !accepted.contains(j)) {
                let message = Message::Join { joiner: *joiner, hops: 1, cookie: 0, proof: None };
                let via = Network::addr(members[self.rng.below(members.len() as u64) as usize]);
                first.insert(self.send(overlay, *joiner, via, message), j);
            }
            overlay.network.run_for(Duration::from_secs(3));
            let mut second = HashMap::new();
            for (_, from, reply) in self.replies(overlay) {
                let Message::JoinReply { status: JoinStatus::Retry, hops, cookie, seq, .. } = reply.message else {
                    continue;
                };
                let Some(&j) = first.get(&reply.header.txid) else { continue };
                let (identity, joiner) = &wanted[j];
                let record =
                    mmp2p_core::registration::Registration::sign(identity, joiner.id, joiner.addr, seq, cookie);
                let message = Message::Join { joiner: *joiner, hops, cookie, proof: Some(IdentityProof::of(&record)) };
                second.insert(self.send(overlay, *joiner, from, message), j);
            }
            overlay.network.run_for(Duration::from_secs(3));
            accepted.extend(
                self.replies(overlay)
                    .into_iter()
                    .filter(|(_, _, r)| matches!(r.message, Message::JoinReply { status: JoinStatus::Accepted, .. }))
                    .filter_map(|(_, _, r)| second.get(&r.header.txid).copied()),
            );
            // The silent joiners are routed around before the next round.
            overlay.network.run_for(Duration::from_secs(20));
        }
        assert!(accepted.len() == wanted.len(), "only {} sybil identities registered", accepted.len());
        self.identities = accepted.into_iter().map(|j| wanted[j].clone()).collect();
    }

    /// Sends `message` from `sender` (at one of its addresses) to `to`; returns its txid.
    fn send(&mut self, overlay: &mut Overlay, sender: ResourceLocator, to: SocketAddrV6, message: Message) -> u64 {
        let txid = self.rng.next_u64();
        let repr = Repr { header: Header { flags: 0, hop_limit: 64, txid, sender }, message };
        let bytes = datagram(&repr);
        overlay.network.inject_spoofed(self.host, sender.addr, to, bytes);
        txid
    }

    /// Datagrams to its addresses since last time: (to, from, message).
    fn replies(&mut self, overlay: &Overlay) -> Vec<(SocketAddrV6, SocketAddrV6, Repr)> {
        let trace = overlay.network.trace();
        let replies = trace[self.read..]
            .iter()
            .filter(|t| Flooder::is_ours(&t.to))
            .filter_map(|t| t.repr().ok().map(|r| (t.to, t.from, r)))
            .collect();
        self.read = trace.len();
        replies
    }

    /// One STORE of 13 random keys from each of its addresses, each as one
    /// of its identities there, to a random member.
    fn flood(&mut self, overlay: &mut Overlay, members: &[NodeIndex]) {
        for _ in 0..16 {
            let (identity, owner) = self.identities[self.rng.below(self.identities.len() as u64) as usize].clone();
            let mut keys: Vec<Id> = (0..MAX_STORE_BATCH)
                .map(|_| Id((u128::from(self.rng.next_u64()) << 64) | u128::from(self.rng.next_u64())))
                .collect();
            keys.sort_unstable();
            let entries = keys
                .into_iter()
                .map(|key| FileEntry { key, name: Default::default(), signature: sign_locator(&identity, key, &owner) })
                .collect();
            let source = owner.addr;
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 64, txid: self.rng.next_u64(), sender: owner },
                message: Message::Store { owner, key: identity.public_key(), hops: 1, entries },
            };
            let bytes = datagram(&repr);
            let target = members[self.rng.below(members.len() as u64) as usize];
            overlay.network.inject_spoofed(self.host, source, Network::addr(target), bytes);
        }
    }

    /// Confirms every key of every VERIFY sent to its addresses since last time.
    fn answer_checks(&mut self, overlay: &mut Overlay) {
        let checks: Vec<_> = self
            .replies(overlay)
            .into_iter()
            .filter_map(|(to, from, r)| match r.message {
                Message::Verify { owner, keys } => Some((to, from, r.header.txid, owner, keys)),
                _ => None,
            })
            .collect();
        for (source, to, txid, owner, keys) in checks {
            let mask = if keys.len() == 32 { u32::MAX } else { (1 << keys.len()) - 1 };
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 0, txid, sender: ResourceLocator::new(owner, source) },
                message: Message::VerifyReply { keys, mask },
            };
            let bytes = datagram(&repr);
            overlay.network.inject_spoofed(self.host, source, to, bytes);
        }
    }

    /// Floods and answers for `duration`, in steps of 50 ms.
    fn run(&mut self, overlay: &mut Overlay, members: &[NodeIndex], duration: Duration) {
        let step = Duration::from_millis(50);
        for _ in 0..duration.as_millis() / step.as_millis() {
            self.flood(overlay, members);
            overlay.network.run_for(step);
            self.answer_checks(overlay);
        }
    }
}

#[test]
fn store_fair_under_flood() {
    let mut overlay = overlay(100, 1320);
    let members: Vec<NodeIndex> = overlay.members().collect();
    overlay.network.set_tracing(true);
    let mut flooder = Flooder { host: members[0], rng: Rng::new(1321), read: 0, identities: Vec::new() };
    flooder.register(&mut overlay, &members);
    // The fake joiners fall silent: the ring routes around them, their registrations stay.
    overlay.network.run_for(Duration::from_secs(60));
    // The flood fills the stores first; then 100 honest owners share while it goes on.
    flooder.run(&mut overlay, &members, Duration::from_secs(10));
    let names: Vec<String> = (0..members.len()).map(|i| format!("honest-{i}.txt")).collect();
    for (&owner, name) in members.iter().zip(&names) {
        overlay.share(owner, &[name.as_str()]).expect("shared");
    }
    flooder.run(&mut overlay, &members, Duration::from_secs(60));
    let stats = overlay.network.nodes().map(|(_, n)| n.stats().clone()).fold((0, 0, 0), |acc, s| {
        (acc.0 + s.store_refused_network_cap, acc.1 + s.store_evicted, acc.2 + s.store_refused_full)
    });
    let flooded = overlay
        .network
        .nodes()
        .map(|(_, n)| n.store().entries().iter().filter(|e| Flooder::is_ours(&e.owner.addr)).count())
        .max()
        .unwrap_or(0);
    println!(
        "store_fair_under_flood: {flooded} flood entries in the fullest store; refused by network share {}, \
         evicted {}, refused full {}",
        stats.0, stats.1, stats.2
    );
    assert!(flooded > 0, "the flood reached the stores");
    // Every honest file is found, from another member.
    let searches: Vec<(NodeIndex, Id)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (members[(i + 50) % members.len()], Id::from_file_name(name)))
        .collect();
    let found = overlay.search_many(&searches, Duration::from_secs(30));
    for (i, outcome) in found.iter().enumerate() {
        assert!(outcome.owners.contains(&overlay.network.locator(members[i])), "{} not found: {outcome:?}", names[i]);
    }
}

#[test]
fn owner_spoof_rejected() {
    let mut overlay = overlay(40, 1350);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let alice = members[11];
    let alice_loc = overlay.network.locator(alice);
    overlay.share(alice, &["alice.txt"]).expect("shared");
    overlay.network.run_for(Duration::from_secs(10));
    let key = Id::from_file_name("alice.txt");
    let holder = overlay.responsible(key);
    // The attacker, at its own address, signs with its own key, or names
    // alice's key with signatures it cannot make; and it answers every VERIFY.
    let attacker_addr = SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, 0, 7), 4000, 0, 0);
    let mallory = Identity::from_seed([0x66; 32]);
    let at_attacker = ResourceLocator::new(alice_loc.id, attacker_addr);
    let claims = [
        (at_attacker, mallory.public_key(), sign_locator(&mallory, key, &at_attacker)),
        (alice_loc, mallory.public_key(), sign_locator(&mallory, key, &alice_loc)),
        (at_attacker, overlay.network.node(alice).public_key(), Signature([0x5a; 64])),
    ];
    overlay.network.set_tracing(true);
    let mut read = overlay.network.trace().len();
    let mut rng = Rng::new(1351);
    for _ in 0..3 {
        for (owner, public, signature) in claims {
            let entries =
                [FileEntry { key, name: "alice.txt".try_into().expect("short"), signature }].into_iter().collect();
            let repr = Repr {
                header: Header { flags: 0, hop_limit: 64, txid: rng.next_u64(), sender: owner },
                message: Message::Store { owner, key: public, hops: 1, entries },
            };
            let bytes = datagram(&repr);
            overlay.network.inject_spoofed(members[3], attacker_addr, Network::addr(holder), bytes);
        }
        for _ in 0..50 {
            overlay.network.run_for(Duration::from_millis(100));
            // Every check that reaches the attacker is confirmed.
            let checks: Vec<_> = overlay.network.trace()[read..]
                .iter()
                .filter(|t| t.to == attacker_addr)
                .filter_map(|t| t.repr().ok().map(|r| (t.from, r)))
                .filter_map(|(from, r)| match r.message {
                    Message::Verify { owner, keys } => Some((from, r.header.txid, owner, keys)),
                    _ => None,
                })
                .collect();
            read = overlay.network.trace().len();
            for (to, txid, owner, keys) in checks {
                let repr = Repr {
                    header: Header { flags: 0, hop_limit: 0, txid, sender: ResourceLocator::new(owner, attacker_addr) },
                    message: Message::VerifyReply { mask: (1 << keys.len()) - 1, keys },
                };
                let bytes = datagram(&repr);
                overlay.network.inject_spoofed(members[3], attacker_addr, to, bytes);
            }
        }
    }
    // Nobody keeps a locator of alice's ID but alice's own, and searches list alice alone.
    for (_, node) in overlay.network.nodes() {
        for entry in node.store().entries().iter().filter(|e| e.owner.id == alice_loc.id) {
            assert_eq!(entry.owner, alice_loc, "a spoofed locator of alice's ID is kept: {entry:?}");
        }
    }
    let refused = overlay.network.node(holder).stats();
    let (unidentified, bad) =
        (refused.dropped(mmp2p_core::DropReason::Unidentified), refused.dropped(mmp2p_core::DropReason::BadSignature));
    assert!(unidentified >= 2 && bad + unidentified >= 3, "refused: {unidentified} unidentified, {bad} bad signatures");
    for &origin in &members[20..30] {
        let found = overlay.search(origin, key, Duration::from_secs(30));
        assert!(found.complete);
        assert_eq!(found.owners, [alice_loc].into_iter().collect(), "only alice owns alice.txt");
    }
}

#[test]
fn sybil_cannot_fake_or_hide_owners() {
    let mut overlay = overlay(60, 1360);
    let members: Vec<NodeIndex> = overlay.members().collect();
    let key = Id::from_file_name("rare.txt");
    // The sybil chose an e-mail whose ID is the file's key: it joins, is
    // registered, and is responsible for the key.
    let sybil = overlay.network.add_node(key, Config::default());
    overlay.network.command(sybil, |n, now| n.join(now, Network::addr(members[0]))).expect("join starts");
    overlay.network.run_for(Duration::from_secs(10));
    overlay.refresh_ring();
    assert_eq!(overlay.responsible(key), sybil);
    // It keeps nothing for the key and answers searches for it with owners
    // it made up: a member that shares nothing, and an unregistered ID.
    let bob = overlay.network.locator(members[40]);
    let ghost = ResourceLocator::new(
        Id(0x6765_6e74_0000_0000_0000_0000_0000_0001),
        SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0xbad, 0, 0, 0, 0, 0, 9), 4000, 0, 0),
    );
    let forger = overlay.network.node(sybil).identity().clone();
    overlay.network.lie(
        sybil,
        Box::new(move |way, bytes| {
            let Ok(repr) = Repr::parse_bytes(bytes) else { return Tamper::Pass };
            match (way, repr.message) {
                (Way::In, Message::Store { entries, .. }) if entries.iter().any(|e| e.key == key) => Tamper::Drop,
                (Way::In, Message::Replicate { entries }) if entries.iter().any(|e| e.key == key) => Tamper::Drop,
                (Way::Out, Message::SearchReply { key: k, hops, .. }) if k == key => {
                    let sign = |owner| SignedOwner { owner, signature: sign_locator(&forger, key, &owner) };
                    let owners = [sign(bob), sign(ghost)].into_iter().collect();
                    let forged = Repr {
                        header: repr.header,
                        message: Message::SearchReply { key, hops, page: 0, pages: 1, owners },
                    };
                    let bytes = datagram(&forged);
                    Tamper::Replace(bytes)
                }
                _ => Tamper::Pass,
            }
        }),
    );
    let honest = [members[5], members[17], members[33]];
    for &owner in &honest {
        overlay.share(owner, &["rare.txt"]).expect("shared");
    }
    overlay.network.run_for(Duration::from_secs(70));
    let expected: std::collections::HashSet<ResourceLocator> =
        honest.iter().map(|&o| overlay.network.locator(o)).collect();
    for &origin in &members[45..55] {
        let found = overlay.search(origin, key, Duration::from_secs(30));
        assert!(found.complete, "the search from {origin:?} completes");
        assert_eq!(found.owners, expected, "from {origin:?}: every honest owner, nothing invented");
    }
    let forged: u64 = members[45..55]
        .iter()
        .map(|&m| overlay.network.node(m).stats().dropped(mmp2p_core::DropReason::ForgedOwner))
        .sum();
    assert!(forged >= 10, "the invented owners were seen and refused: {forged}");
}
