//! Fuzzes the node state machine: one `Node` driven by a stream of operations
//! decoded from the input.
//!
//! After every operation the harness drains `poll_output` and checks what the
//! node promises: it stops within its queue capacities, it only emits valid
//! datagrams of at most `MAX_DATAGRAM` bytes, signed with its own locator and
//! sent to usable addresses, its chains stay within `1 + backups` entries and
//! never list the node itself, and after `handle_timeout(now)` nothing is due
//! at `now` any more. A JOIN, LOOKUP or SEARCH it relays keeps its txid,
//! originator and target, counts one more hop and one less hop limit; a
//! relayed STORE keeps its txid and owner, counts one more hop and one less hop
//! limit, and carries only entries of the STORE it came from that the node is
//! not responsible for, sorted clockwise from the node; a JOIN_REPLY or
//! SEARCH_REPLY is at most 3 times the size of the request it answers, and a
//! VERIFY_REPLY no larger than its VERIFY (`docs/wire.md`). Its locator store
//! stays within its bounds and holds nothing expired, and every owner a
//! SEARCH_REPLY names is a verified entry of the store for that key.
//!
//! # Input format
//!
//! The input's first byte chooses the node's profile, modulo 3: 0 the
//! desktop's ([`Desktop`](mmp2p_core::profile::Desktop)), 1 the overlay's
//! alone ([`OverlayOnly`](mmp2p_core::profile::OverlayOnly): small tables,
//! none for the applications), 2 the barest (`Bare` in `node_checks.rs`:
//! every table that may be empty is). The rest is a sequence of
//! operations, each an opcode byte (taken modulo [`OPS`]) followed by its
//! operands. Reading past the end yields zero bytes,
//! so every input decodes; decoding stops when no opcode byte is left.
//!
//! | op | name          | operands                                              |
//! | -: | ------------- | ----------------------------------------------------- |
//! |  0 | datagram      | peer:u8, len:u16 (big-endian, mod 1301), len bytes    |
//! |  1 | tick          | millis:u16 — time advances, then `handle_timeout`     |
//! |  2 | join          | peer:u8 — `Node::join` via that peer                  |
//! |  3 | lookup        | id — `Node::lookup`                                   |
//! |  4 | add friend    | locator — `Node::add_friend`                          |
//! |  5 | ping          | peer:u8 — `Node::ping`                                |
//! |  6 | reply         | which:u8, flags:u8, … — answer a recent transmission  |
//! |  7 | update        | side:u8, txid:u8, chain — NEIGHBOUR_UPDATE from the current neighbour |
//! |  8 | peer join     | peer:u8, locator, hop_limit:u8, hops:u8 — a JOIN from a peer |
//! |  9 | peer lookup   | peer:u8, locator, id, hop_limit:u8 — a LOOKUP from a peer |
//! | 10 | peer ping     | peer:u8, txid:u8 — a PING from a peer                 |
//! | 11 | remove friend | id                                                    |
//! | 12 | leave         | — `Node::leave`                                       |
//! | 13 | join bootstrap| mask:u8 — `Node::join_bootstrap` through the peers whose bit is set |
//! | 14 | peer stabilise| peer:u8, txid:u8 — a STABILISE from a peer            |
//! | 15 | share         | count:u8 (mod 8), count names — `Node::share`         |
//! | 16 | search        | b:u8 — `Node::search` of file name `b` if `b < 0x80`, else `Node::search_id` of an id that follows |
//! | 17 | peer store    | peer:u8, locator, hop_limit:u8, hops:u8, count:u8 (mod 8, bit 7: sorted), count entries — a STORE from a peer |
//! | 18 | peer search   | peer:u8, locator, b:u8, hop_limit:u8 — a SEARCH (or, if bit 7 of `b` is set, a SEARCH_PAGE for page `b & 7`) of file `b` from a peer |
//! | 19 | peer verify   | peer:u8, id, count:u8 (mod 8), count file names — a VERIFY from a peer, naming that owner ID |
//! | 20 | peer registry | peer:u8, count:u8 (mod 8), count × (seed:u8, id, seq:u8) — a REGISTRY_COPY from a peer: records signed by keys drawn from the seeds, every other one with a flipped signature bit |
//! | 21 | conference    | sub:u8, … — a conference command, or a contact's signed conference message (`node_conference.rs`) |
//!
//! A *file name* operand is one byte `b`: below `0xc0` the name is
//! `file-NN.bin` with `NN = b & 0x3f` in hex (64 names that ops share, so a
//! search can find what was shared and stored); from `0xc0` on a length byte
//! (mod 80: past 32 bytes a STORE carries no name, past 64 `share` refuses it)
//! and that many bytes follow, read as UTF-8 with invalid sequences replaced.
//! A STORE entry is a file name whose key is its MD5, or, for `b == 0xff`, an
//! id with no name.
//!
//! `fuzz/seed-corpus.sh` relies on op 0 (`00 pp LL LL bytes…`) to wrap the
//! wire test vectors as node inputs.
//!
//! The *reply* operation is what lets the fuzzer past transaction-id checks:
//! it takes one of the node's recent transmissions (`which` counts back from
//! the newest) and answers it as a well-behaved peer would, with the same
//! txid and from the address it was sent to: PONG for a PING, ACK for a
//! NEIGHBOUR_UPDATE, JOIN_REPLY (naming the joiner first in the left chain)
//! for a JOIN, LOOKUP_REPLY for a LOOKUP, VERIFY_REPLY (echoing the keys, with
//! a mask from the input) for a VERIFY, SEARCH_REPLY (owners from the input)
//! for a SEARCH or SEARCH_PAGE, CONF_ADMIT (with flag bit 2, a certificate
//! from fixed peer 0, the node's contact; bit 4 spoils it) for a
//! CONF_ANSWER, and a PING for anything else.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mmp2p_core::capacity::Capacity;
use mmp2p_core::config::{MAX_ENTRIES_PER_OWNER, STORE_NAME_LEN};
use mmp2p_core::identity::{Identity, PublicKey, Signature};
use mmp2p_core::locator_signature::sign_locator;
use mmp2p_core::profile::Profile;
use mmp2p_core::registration::Registration;
use mmp2p_core::wire::{
    Chain, FileEntry, Header, IdentityProof, JoinStatus, MailAck, Message, Repr, Side, SignedOwner, TreeStatus,
    MAX_CHAIN, MAX_DATAGRAM, MAX_OWNERS_PER_REPLY, MAX_VERIFY_KEYS,
};
use mmp2p_core::{Config, Event, Id, Instant, Node, Output, ResourceLocator};
use std::collections::VecDeque;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

#[path = "node_input.rs"]
mod input;
use input::{short_name, Reader};

#[path = "node_checks.rs"]
mod checks;

#[path = "node_conference.rs"]
mod conference;
use checks::{check_event, check_response};

/// Number of opcodes; an opcode byte is taken modulo this.
const OPS: u8 = 22;
const OP_DATAGRAM: u8 = 0;
const OP_TICK: u8 = 1;
const OP_JOIN: u8 = 2;
const OP_LOOKUP: u8 = 3;
const OP_ADD_FRIEND: u8 = 4;
const OP_PING: u8 = 5;
const OP_REPLY: u8 = 6;
const OP_UPDATE: u8 = 7;
const OP_PEER_JOIN: u8 = 8;
const OP_PEER_LOOKUP: u8 = 9;
const OP_PEER_PING: u8 = 10;
const OP_REMOVE_FRIEND: u8 = 11;
const OP_LEAVE: u8 = 12;
const OP_JOIN_BOOTSTRAP: u8 = 13;
const OP_PEER_STABILISE: u8 = 14;
const OP_SHARE: u8 = 15;
const OP_SEARCH: u8 = 16;
const OP_PEER_STORE: u8 = 17;
const OP_PEER_SEARCH: u8 = 18;
const OP_PEER_VERIFY: u8 = 19;
const OP_PEER_REGISTRY: u8 = 20;
const OP_CONFERENCE: u8 = 21;

/// Longest datagram the datagram op delivers (a little over `MAX_DATAGRAM`,
/// so oversized datagrams are exercised too).
const MAX_FUZZ_DATAGRAM: usize = 1300;
/// Outputs one drain may take before the harness calls it an endless loop.
const DRAIN_CAP: usize = 1000;
/// Recent transmissions the reply op can answer.
const RECENT: usize = 16;
/// The port every fixed peer and the node listen on.
const PORT: u16 = 4000;
/// Most names one share op lists, entries one peer STORE carries, keys one peer VERIFY asks about.
const MAX_LIST_OP: u8 = 8;

/// The node under test: in the middle of the ring.
const ME_ID: u128 = 0x8000_0000_0000_0000_0000_0000_0000_0000;
/// The fixed peers' IDs, one in each quarter of the ring.
const PEER_IDS: [u128; 4] = [
    0x2000_0000_0000_0000_0000_0000_0000_0000,
    0x6000_0000_0000_0000_0000_0000_0000_0000,
    0xa000_0000_0000_0000_0000_0000_0000_0000,
    0xe000_0000_0000_0000_0000_0000_0000_0000,
];
/// IDs the compact ID encoding can name (and step around): the node, the peers, the key node.
const KNOWN_IDS: [u128; 6] = [ME_ID, PEER_IDS[0], PEER_IDS[1], PEER_IDS[2], PEER_IDS[3], 0];

fn ip(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, last)
}

fn me() -> ResourceLocator {
    ResourceLocator::new(Id(ME_ID), SocketAddrV6::new(ip(1), PORT, 0, 0))
}

/// The address of fixed peer `index % 4`: fd00::a to fd00::d, port 4000.
fn peer_addr(index: u8) -> SocketAddrV6 {
    SocketAddrV6::new(ip(0xa + u16::from(index % 4)), PORT, 0, 0)
}

/// Fixed peer `index % 4` with its own ID.
fn peer(index: u8) -> ResourceLocator {
    ResourceLocator::new(Id(PEER_IDS[usize::from(index % 4)]), peer_addr(index))
}

/// True for an address a node may send to.
fn usable(addr: &SocketAddrV6) -> bool {
    let ip = addr.ip();
    !(ip.is_unspecified() || ip.is_multicast() || ip.to_ipv4_mapped().is_some())
}

struct Harness<P: Profile> {
    node: Node<P>,
    now: Instant,
    buf: [u8; MAX_DATAGRAM],
    /// The node's recent transmissions, newest last.
    recent: VecDeque<(SocketAddrV6, Repr)>,
    /// The datagram the current operation delivered, if it parsed, and its length.
    inbound: Option<(Repr, usize)>,
}

impl<P: Profile> Harness<P> {
    fn new() -> Harness<P> {
        let mut node =
            Node::with_profile(Config::default(), me(), Instant::ZERO, 0x5eed).expect("default config is valid");
        conference::set_up(&mut node);
        Harness { node, now: Instant::ZERO, buf: [0; MAX_DATAGRAM], recent: VecDeque::new(), inbound: None }
    }

    /// Delivers a datagram built from `header` and `message`.
    fn deliver(&mut self, from: SocketAddrV6, header: Header, message: Message) {
        let repr = Repr { header, message };
        let mut bytes = [0u8; MAX_DATAGRAM];
        let len = repr.emit(&mut bytes).expect("harness datagrams fit");
        self.handle_datagram(from, &bytes[..len]);
    }

    fn handle_datagram(&mut self, from: SocketAddrV6, bytes: &[u8]) {
        self.inbound = Repr::parse_bytes(bytes).ok().map(|repr| (repr, bytes.len()));
        let _ = self.node.handle_datagram(self.now, from, bytes);
    }

    fn header(txid: u64, sender: ResourceLocator) -> Header {
        Header { flags: 0, hop_limit: 64, txid, sender }
    }

    fn step(&mut self, op: u8, r: &mut Reader<'_>) {
        self.inbound = None;
        match op % OPS {
            OP_DATAGRAM => {
                let from = peer_addr(r.u8());
                let len = usize::from(r.u16()) % (MAX_FUZZ_DATAGRAM + 1);
                let bytes = r.bytes(len);
                self.handle_datagram(from, bytes);
            }
            OP_TICK => {
                self.now = self.now + Duration::from_millis(u64::from(r.u16()));
                self.node.handle_timeout(self.now);
                if let Some(next) = self.node.poll_timeout() {
                    assert!(
                        next > self.now || self.now == Instant::MAX,
                        "after handle_timeout({:?}) a request is still due at {next:?}",
                        self.now
                    );
                }
            }
            OP_JOIN => {
                let _ = self.node.join(self.now, peer_addr(r.u8()));
            }
            OP_LOOKUP => {
                let key = r.id();
                let _ = self.node.lookup(self.now, key);
            }
            OP_ADD_FRIEND => {
                let friend = r.locator();
                let _ = self.node.add_friend(self.now, friend);
            }
            OP_PING => {
                let _ = self.node.ping(self.now, peer_addr(r.u8()));
            }
            OP_REPLY => self.reply(r),
            OP_UPDATE => {
                let side = r.side();
                let txid = 0x7570_0000 | u64::from(r.u8());
                // From our current neighbour on that side, so it can be accepted.
                let sender = self.node.neighbours().neighbour(side).copied().unwrap_or_else(|| peer(0));
                let chain = r.chain(side, Some(sender), MAX_CHAIN - 1);
                if chain.is_empty() {
                    return;
                }
                self.deliver(sender.addr, Self::header(txid, sender), Message::NeighbourUpdate { side, chain });
            }
            OP_PEER_JOIN => {
                let via = peer(r.u8());
                let joiner = r.locator();
                let hop_limit = r.u8();
                let hops = r.u8();
                let header = Header { hop_limit, ..Self::header(0x6a00 | u64::from(hops), via) };
                // Half the JOINs echo a cookie (almost never a valid one).
                let cookie = if hops & 1 == 0 { 0 } else { 0xc0_0c1e_0000 | u64::from(r.u8()) };
                // Some carry a proof (never a valid signature: the fuzzer cannot sign).
                let proof = (hops & 2 != 0).then(|| IdentityProof {
                    key: PublicKey(core::array::from_fn(|_| r.u8())),
                    seq: u32::from(r.u8()),
                    signature: Signature(core::array::from_fn(|_| r.u8())),
                });
                self.deliver(via.addr, header, Message::Join { joiner, hops, cookie, proof });
            }
            OP_PEER_LOOKUP => {
                let via = peer(r.u8());
                let origin = r.locator();
                let key = r.id();
                let hop_limit = r.u8();
                let header = Header { hop_limit, ..Self::header(0x6c00 | u64::from(hop_limit), via) };
                self.deliver(via.addr, header, Message::Lookup { origin, key, hops: 0 });
            }
            OP_PEER_PING => {
                let via = peer(r.u8());
                let txid = u64::from(r.u8());
                self.deliver(via.addr, Self::header(txid, via), Message::Ping);
            }
            OP_REMOVE_FRIEND => {
                let id = r.id();
                self.node.remove_friend(self.now, id);
            }
            OP_LEAVE => {
                let _ = self.node.leave(self.now);
            }
            OP_JOIN_BOOTSTRAP => {
                let mask = r.u8();
                let list = mmp2p_core::BootstrapList::new((0..4).filter(|i| mask & (1 << i) != 0).map(peer));
                self.node.set_bootstrap(list);
                let _ = self.node.join_bootstrap(self.now);
            }
            OP_PEER_STABILISE => {
                let via = peer(r.u8());
                let txid = u64::from(r.u8());
                self.deliver(via.addr, Self::header(txid, via), Message::Stabilise { identify: txid & 1 != 0 });
            }
            OP_SHARE => {
                let count = r.u8() % MAX_LIST_OP;
                let names: Vec<String> = (0..count).map(|_| r.file_name()).collect();
                let _ = self.node.share(self.now, names.iter().map(String::as_str));
            }
            OP_SEARCH => {
                let b = r.u8();
                let _ = if b < 0x80 {
                    self.node.search(self.now, &short_name(b))
                } else {
                    let key = r.id();
                    self.node.search_id(self.now, key)
                };
            }
            OP_PEER_STORE => {
                let via = peer(r.u8());
                let owner = r.locator();
                let hop_limit = r.u8();
                let hops = r.u8();
                let b = r.u8();
                let mut entries: Vec<FileEntry> = (0..b % MAX_LIST_OP).map(|_| r.file_entry()).collect();
                if b & 0x80 != 0 {
                    entries.sort_unstable_by_key(|e| e.key);
                }
                // Signed by one of four keys (the ones peer registrations use), or spoiled.
                let signer = Identity::from_seed([hops % 4; 32]);
                for entry in &mut entries {
                    entry.signature = sign_locator(&signer, entry.key, &owner);
                    entry.signature.0[0] ^= b & 0x40;
                }
                let entries = entries.into_iter().collect();
                let header = Header { hop_limit, ..Self::header(0x5700 | u64::from(hops), via) };
                self.deliver(via.addr, header, Message::Store { owner, key: signer.public_key(), hops, entries });
            }
            OP_PEER_SEARCH => {
                let via = peer(r.u8());
                let origin = r.locator();
                let b = r.u8();
                let hop_limit = r.u8();
                let key = Id::from_file_name(&short_name(b));
                let header = Header { hop_limit, ..Self::header(0x5300 | u64::from(b), via) };
                let message = if b & 0x80 != 0 {
                    Message::SearchPage { key, page: b & 7 }
                } else {
                    Message::Search { origin, key, hops: 1 }
                };
                self.deliver(via.addr, header, message);
            }
            OP_PEER_VERIFY => {
                let via = peer(r.u8());
                let owner = r.id();
                let count = r.u8() % MAX_LIST_OP;
                let keys = (0..count).map(|_| Id::from_file_name(&r.file_name())).collect();
                self.deliver(via.addr, Self::header(0x5600 | u64::from(count), via), Message::Verify { owner, keys });
            }
            OP_PEER_REGISTRY => {
                let via = peer(r.u8());
                let count = r.u8() % MAX_LIST_OP;
                let records = (0..count)
                    .map(|i| {
                        let identity = Identity::from_seed([r.u8(); 32]);
                        let mut record = Registration::sign(&identity, r.id(), via.addr, u32::from(r.u8()), 1);
                        record.signature.0[0] ^= i & 1;
                        record
                    })
                    .collect();
                self.deliver(via.addr, Self::header(0x5200 | u64::from(count), via), Message::RegistryCopy { records });
            }
            OP_CONFERENCE => self.conference(r),
            _ => unreachable!("op % OPS < OPS"),
        }
    }

    /// Answers one of the node's recent transmissions as a well-behaved peer would.
    ///
    /// Operands: which:u8, flags:u8, then per message type: for a JOIN a
    /// responder locator, hops:u8, left chain (after the joiner), right chain;
    /// for a LOOKUP a responder locator and hops:u8; for a VERIFY mask:u8 (its
    /// byte repeated four times: 0xff confirms every key); for a SEARCH a
    /// responder locator, pages:u8 and owners (count:u8 mod 13, locators); for
    /// a SEARCH_PAGE pages:u8 and owners; otherwise an ID for the answering
    /// node. Flag bit 1: the responder answers from the address the request
    /// went to (else from its locator's address); bit 2: JOIN_REPLY says
    /// ID_IN_USE (bit 4: RETRY, with a cookie from the input), a SEARCH_REPLY
    /// names the page after the one asked for; bit
    /// 3: a JOIN, LOOKUP or SEARCH is answered with the next hop's HOP_ACK
    /// instead. A SEARCH_REPLY has `pages` (at least the page it carries + 1)
    /// of `pages:u8 % 4` further pages.
    fn reply(&mut self, r: &mut Reader<'_>) {
        let which = usize::from(r.u8());
        let flags = r.u8();
        if self.recent.is_empty() {
            return;
        }
        let index = self.recent.len() - 1 - which % self.recent.len();
        let (to, sent) = self.recent[index].clone();
        let txid = sent.header.txid;
        let responder = |r: &mut Reader<'_>| {
            let mut responder = r.locator();
            if flags & 2 != 0 {
                responder.addr = to;
            }
            responder
        };
        match sent.message {
            Message::Ping => {
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Pong);
            }
            Message::NeighbourUpdate { .. } | Message::Leave { .. } => {
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Ack);
            }
            Message::Stabilise { identify } => {
                let sender = ResourceLocator::new(r.id(), to);
                let left = r.chain(Side::Left, None, MAX_CHAIN);
                let right = r.chain(Side::Right, None, MAX_CHAIN);
                // A candidate proves its identity, or tries to with a bad signature.
                let proof = (identify && flags & 4 != 0).then(|| {
                    let mut proof = IdentityProof::of(&Registration::sign(
                        &Identity::from_seed([r.u8() % 4; 32]),
                        sender.id,
                        to,
                        u32::from(r.u8()),
                        txid,
                    ));
                    proof.signature.0[0] ^= flags & 16;
                    proof
                });
                self.deliver(to, Self::header(txid, sender), Message::StabiliseReply { left, right, proof });
            }
            Message::Join { .. } | Message::Lookup { .. } | Message::Search { .. } | Message::RegistryGet { .. }
                if flags & 8 != 0 =>
            {
                // The next hop acknowledges the routed message.
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::HopAck);
            }
            Message::RegistryGet { id, .. } => {
                // The registrar holds a record of one of four keys, or none.
                let sender = ResourceLocator::new(r.id(), to);
                let record = (flags & 4 != 0)
                    .then(|| Registration::sign(&Identity::from_seed([r.u8() % 4; 32]), id, to, u32::from(r.u8()), 1));
                self.deliver(to, Self::header(txid, sender), Message::RegistryRecord { id, record });
            }
            Message::Join { joiner, hops, .. } => {
                let responder = responder(r);
                let status = match (flags & 4 != 0, flags & 16 != 0) {
                    (true, false) => JoinStatus::IdInUse,
                    (true, true) => JoinStatus::IdRegistered,
                    (false, true) => JoinStatus::Retry,
                    (false, false) => JoinStatus::Accepted,
                };
                let cookie = if status == JoinStatus::Retry { 0xc0_0c1e_0000 | u64::from(r.u8()) } else { 0 };
                let seq = if status == JoinStatus::Retry { u32::from(r.u8()) } else { 0 };
                let hops = hops.saturating_add(r.u8());
                let left = r.chain(Side::Left, Some(joiner), MAX_CHAIN - 1);
                let right = r.chain(Side::Right, None, MAX_CHAIN);
                // The joiner stays first whatever the sorting did.
                let left = core::iter::once(joiner).chain(left.into_iter().filter(|c| *c != joiner)).collect();
                let message = Message::JoinReply { status, hops, left, right, cookie, seq };
                self.deliver(responder.addr, Self::header(txid, responder), message);
            }
            Message::Lookup { key, hops, .. } => {
                let responder = responder(r);
                let hops = hops.saturating_add(r.u8());
                self.deliver(responder.addr, Self::header(txid, responder), Message::LookupReply { key, hops });
            }
            Message::Verify { owner, keys } => {
                // The owner answers from the address the VERIFY went to.
                let sender = ResourceLocator::new(owner, to);
                let mask = u32::from_ne_bytes([r.u8(); 4]);
                self.deliver(to, Self::header(txid, sender), Message::VerifyReply { keys, mask });
            }
            Message::Search { key, hops, .. } => {
                let responder = responder(r);
                let message = search_reply(r, key, hops, 0, flags);
                self.deliver(responder.addr, Self::header(txid, responder), message);
            }
            Message::SearchPage { key, page } => {
                let sender = ResourceLocator::new(r.id(), to);
                let message = search_reply(r, key, 0, page, flags);
                self.deliver(to, Self::header(txid, sender), message);
            }
            Message::ListFiles { page } => {
                // The friend answers a page with a name or two from the input.
                let sender = ResourceLocator::new(r.id(), to);
                let pages = r.u8().max(page.saturating_add(1));
                let names = (0..r.u8() % 3)
                    .filter_map(|i| {
                        let name = format!("f{i}-{}", r.u8());
                        name.as_str().try_into().ok()
                    })
                    .collect();
                self.deliver(to, Self::header(txid, sender), Message::FileList { page, pages, names });
            }
            Message::FriendDigest { .. } => {
                // The friend sends its own digest back, its IDs from the input.
                let sender = ResourceLocator::new(r.id(), to);
                let ids = (0..r.u8() % 8).map(|_| r.id()).collect();
                self.deliver(to, Self::header(txid, sender), Message::FriendDigest { ids });
            }
            Message::FriendAnswer(_) | Message::Unfriend(_) | Message::Presence(_) | Message::MailStore(_) => {
                // The peer acknowledges, as a friend would.
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Ack);
            }
            Message::Mail(mail) => {
                // The recipient acknowledges what it says it delivered.
                let sender = ResourceLocator::new(mail.recipient, to);
                let ack = MailAck { recipient: mail.recipient, sender: mail.sender.id, delivered: r.u8().into() };
                self.deliver(to, Self::header(txid, sender), Message::MailAck(ack));
            }
            Message::Get(get) => {
                // The owner refuses (any reason, a cookie from the input) or sends a chunk of the first leaf asked.
                let sender = ResourceLocator::new(r.id(), to);
                let leaf = get.ranges.first().map_or(0, |range| range.first);
                let message = if flags & 4 != 0 {
                    let reason = mmp2p_core::wire::RefuseReason::from_u8(r.u8() % 5)
                        .unwrap_or(mmp2p_core::wire::RefuseReason::Busy);
                    Message::Refuse(mmp2p_core::wire::Refuse { reason, cookie: u64::from(r.u8()) })
                } else {
                    let bytes = (0..1 + usize::from(r.u8()) * 4).map(|_| r.u8()).collect();
                    Message::Data(mmp2p_core::wire::Data { pn: r.u8().into(), leaf, chunk: r.u8() % 16, bytes })
                };
                self.deliver(to, Self::header(txid, sender), message);
            }
            Message::BlockProof(mmp2p_core::wire::BlockProof { pn, .. })
            | Message::Data(mmp2p_core::wire::Data { pn, .. }) => {
                // The downloader acknowledges the packet and a few before it.
                let sender = ResourceLocator::new(r.id(), to);
                let ranges = [(pn.saturating_sub(r.u8().into()), pn)].into_iter().collect();
                let ack = mmp2p_core::wire::DataAck { delay_us: r.u8().into(), ranges };
                self.deliver(to, Self::header(txid, sender), Message::DataAck(ack));
            }
            Message::ContentQuery { key } => {
                // The owner names a content of the input's, or nothing.
                let sender = ResourceLocator::new(r.id(), to);
                let content =
                    mmp2p_core::content::ContentId { root: [r.u8(); 32], size: u64::from(r.u8()) << (r.u8() % 48) };
                let content = (flags & 4 != 0).then_some((content, flags & 16 != 0));
                let info = mmp2p_core::wire::ContentInfo { key, content };
                self.deliver(to, Self::header(txid, sender), Message::ContentInfo(info));
            }
            Message::ConfInvite(_) | Message::ConfLeave(_) | Message::ConfChat(_) => {
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Ack);
            }
            Message::ConfAnswer(answer) => {
                // The creator admits the node under the contact's key, or no one.
                let sender = ResourceLocator::new(r.id(), to);
                let certificate = (flags & 4 != 0).then(|| {
                    let mut certificate = conference::certificate(&self.node, answer.session);
                    certificate.signature.0[0] ^= flags & 16;
                    certificate
                });
                let admit = mmp2p_core::wire::ConfAdmit { session: answer.session, certificate };
                self.deliver(to, Self::header(txid, sender), Message::ConfAdmit(admit));
            }
            Message::TreeJoin(join) => {
                // A member's place: the input's delay, room, status and path.
                let sender = ResourceLocator::new(r.id(), to);
                let status = [TreeStatus::Info, TreeStatus::Child, TreeStatus::Refused][usize::from(flags % 3)];
                let path = (0..r.u8() % 4).map(|_| r.id()).collect();
                let candidates = (0..r.u8() % 3).map(|_| r.locator()).collect();
                let state = mmp2p_core::wire::TreeState {
                    session: join.session,
                    status,
                    root_delay_us: u32::from(r.u8()) << 10,
                    spare: r.u8() % 3,
                    weakest: u8::MAX,
                    weakest_delay_us: 0,
                    path,
                    candidates,
                    certificate: None,
                };
                self.deliver(to, Self::header(txid, sender), Message::TreeState(state));
            }
            Message::FriendRequest(_)
            | Message::ConfProof(_)
            | Message::ConfData(_)
            | Message::ConfPull(_)
            | Message::ConfAdmit(_)
            | Message::TreeState(_)
            | Message::DataAck(_)
            | Message::ContentInfo(_)
            | Message::Refuse(_)
            | Message::MailCopy(_)
            | Message::MailAck(_)
            | Message::Chat(_)
            | Message::ChatAck(_)
            | Message::Store { .. }
            | Message::VerifyReply { .. }
            | Message::SearchReply { .. }
            | Message::Replicate { .. }
            | Message::RegistryCopy { .. }
            | Message::RegistryRecord { .. }
            | Message::FileList { .. } => {
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Ping);
            }
            Message::Pong
            | Message::Ack
            | Message::HopAck
            | Message::StabiliseReply { .. }
            | Message::JoinReply { .. }
            | Message::LookupReply { .. } => {
                let sender = ResourceLocator::new(r.id(), to);
                self.deliver(to, Self::header(txid, sender), Message::Ping);
            }
        }
    }

    /// Drains `poll_output`, checking every output.
    fn drain(&mut self) {
        let (mut transmits, mut events) = (0usize, 0usize);
        for _ in 0..DRAIN_CAP {
            match self.node.poll_output(&mut self.buf) {
                Output::Transmit(t) => {
                    transmits += 1;
                    assert!(transmits <= P::Outbox::MAX, "more transmits in one drain than the outbox holds");
                    assert!(t.len <= MAX_DATAGRAM, "transmit of {} bytes", t.len);
                    let bytes = &self.buf[..t.len];
                    let repr = match Repr::parse_bytes(bytes) {
                        Ok(repr) => repr,
                        Err(e) => panic!("node emitted an invalid datagram ({e}) to {}: {bytes:02x?}", t.to),
                    };
                    assert_eq!(repr.header.sender, me(), "datagram not signed with the node's locator");
                    assert!(usable(&t.to), "datagram sent to unusable address {}", t.to);
                    if let Some((inbound, inbound_len)) = &self.inbound {
                        check_response(&self.node, inbound, *inbound_len, &repr, t.len);
                    }
                    self.check_served(&repr);
                    if self.recent.len() == RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((t.to, repr));
                }
                Output::Event(event) => {
                    events += 1;
                    assert!(events <= P::Events::MAX, "more events in one drain than the queue holds");
                    check_event(&event);
                }
                Output::Write(write) => {
                    assert!(write.len <= mmp2p_core::content::CHUNK_LEN, "write of {} bytes", write.len);
                }
                Output::Timeout(deadline) => {
                    assert_eq!(deadline, self.node.poll_timeout(), "Output::Timeout disagrees with poll_timeout");
                    return;
                }
            }
        }
        panic!("poll_output did not drain within {DRAIN_CAP} outputs");
    }

    /// Checks a SEARCH_REPLY the node sent: it serves only verified owners of the key.
    fn check_served(&self, sent: &Repr) {
        if let Message::SearchReply { key, owners, .. } = &sent.message {
            for SignedOwner { owner, .. } in owners {
                assert!(
                    self.node.store().owners(*key).any(|e| e.owner == *owner),
                    "SEARCH_REPLY names {owner:?}, not a verified owner of {key:?}: {sent:?}"
                );
            }
        }
    }

    /// Checks the node's tables against their documented bounds.
    fn check_state(&self) {
        let chain_len = self.node.config().chain_len();
        for side in [Side::Left, Side::Right] {
            let chain = self.node.neighbours().chain(side);
            assert!(chain.len() <= chain_len, "{side:?} chain longer than 1 + backups: {chain:?}");
            assert!(chain.iter().all(|c| c.id != Id(ME_ID)), "{side:?} chain lists the node itself: {chain:?}");
        }
        assert!(self.node.friends().len() <= P::Friends::MAX);
        let store = self.node.store();
        assert!(store.len() <= P::Store::MAX);
        for entry in store.entries() {
            let same_owner = store.entries().iter().filter(|e| e.owner.id == entry.owner.id).count();
            assert!(same_owner <= MAX_ENTRIES_PER_OWNER, "{same_owner} entries of owner {:?}", entry.owner.id);
            let twins = store.entries().iter().filter(|e| e.key == entry.key && e.owner == entry.owner).count();
            assert_eq!(twins, 1, "two entries for one (key, owner locator): {entry:?}");
            assert!(entry.name.len() <= STORE_NAME_LEN);
            assert!(
                entry.expires > self.now || self.now == Instant::MAX,
                "entry expired at {:?} still stored at {:?}: {entry:?}",
                entry.expires,
                self.now
            );
        }
    }
}

/// A SEARCH_REPLY answering `key`'s page `page`, from the input: `pages`
/// (at least `page + 1`) and owners; flag bit 2 names the next page instead.
fn search_reply(r: &mut Reader<'_>, key: Id, hops: u8, page: u8, flags: u8) -> Message {
    let page = if flags & 4 != 0 { page.saturating_add(1) } else { page };
    let pages = page.saturating_add(1).saturating_add(r.u8() % 4);
    let page = page.min(pages - 1);
    // Each owner signed by one of four keys, or spoiled.
    let owners = r
        .owners()
        .into_iter()
        .map(|owner| {
            let mut signature = sign_locator(&Identity::from_seed([owner.addr.port() as u8 % 4; 32]), key, &owner);
            signature.0[0] ^= flags & 16;
            SignedOwner { owner, signature }
        })
        .collect();
    Message::SearchReply { key, hops, page, pages, owners }
}
