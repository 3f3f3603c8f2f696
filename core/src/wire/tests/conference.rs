//! Samples and arbitrary values of the conferences' messages, signed with
//! real keys, as the specification's vectors are.

use crate::conference::{Certificate, SessionId, Statement};
use crate::id::{Id, ResourceLocator};
use crate::identity::{Identity, PublicKey, Signature};
use crate::wire::*;
use quickcheck::{Arbitrary, Gen};

/// Node `n`'s identity: the secret key of 32 bytes `n`.
fn identity(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

/// Node 12's conference `weekly`, drawn with its nonce.
pub(super) fn session() -> (SessionId, u64) {
    let nonce = 0x1122_3344_5566_7788;
    (SessionId::new(Id(12), "weekly", nonce), nonce)
}

/// Node 12 creates conference `weekly` and invites its friend node 14;
/// node 14 joins and node 12 admits it; node 14 probes node 12's place in
/// the tree and node 12 (the root, two children of room left, node 9 a
/// child already) answers; later node 14 leaves; meanwhile it says hello,
/// and node 12 sends the transfer samples' file (as `paper.pdf`, 64 KiB/s):
/// block 1's proof, leaf 12's last chunk, and node 14's pull of leaf 8 again.
pub(super) fn samples(repr: impl Fn(u16, Message) -> Repr, node: impl Fn(u16) -> ResourceLocator) -> [Repr; 10] {
    let (session, nonce) = session();
    let invite = Statement::Invite { session, creator: Id(12), invitee: Id(14) };
    let invite =
        ConfInvite { session, nonce, name: "weekly".try_into().expect("short"), signature: invite.sign(&identity(12)) };
    let mut answer = ConfAnswer { session, join: true, signature: Signature([0; 64]) };
    answer.signature = answer.statement(Id(14)).sign(&identity(14));
    let certificate = Certificate::issue(session, &identity(12), Id(12), Id(14), identity(14).public_key());
    let admit = ConfAdmit { session, certificate: Some(certificate) };
    let mut leave = ConfLeave { session, member: Id(14), removed: false, signature: Signature([0; 64]) };
    leave.signature = leave.statement(Id(12)).sign(&identity(14));
    let probe = TreeJoin { session, mode: TreeMode::Probe, capacity: 3, delay_us: 0, certificate: Some(certificate) };
    let state = TreeState {
        session,
        status: TreeStatus::Info,
        root_delay_us: 0,
        spare: 2,
        weakest: 2,
        weakest_delay_us: 11_000,
        path: heapless::Vec::new(),
        candidates: [node(9)].into_iter().collect(),
        certificate: None,
    };
    let mut chat = ConfChat {
        session,
        sender: Id(14),
        certificate: Some(certificate),
        seq: 1,
        text: "hello all".try_into().expect("short"),
        signature: Signature([0; 64]),
    };
    chat.signature = identity(14).sign(&chat.signing_bytes());
    let content = crate::content::ContentId::of(&super::transfer::sample_bytes());
    let transfer = 0x5555_6666_7777_8888;
    let mut announcement = Announcement {
        sender: Id(12),
        certificate: None,
        content,
        rate: 64 * 1024,
        stream: false,
        name: "paper.pdf".try_into().expect("short"),
        signature: Signature([0; 64]),
    };
    announcement.signature = identity(12).sign(&announcement.signing_bytes(session, transfer));
    let (values, siblings) = super::transfer::sample_proof(1);
    let proof = BlockProof { pn: 129, block: 1, values, siblings };
    let conf_proof = ConfProof { session, transfer, announcement, proof };
    let bytes = super::transfer::sample_bytes()[199_680..].iter().copied().collect();
    let data = ConfData { session, transfer, data: Data { pn: 130 + 4 * 16 + 3, leaf: 12, chunk: 3, bytes } };
    let pull = ConfPull { session, transfer, ranges: [(130, 16)].into_iter().collect() };
    [
        repr(12, Message::ConfInvite(invite)),
        repr(14, Message::ConfAnswer(answer)),
        repr(12, Message::ConfAdmit(admit)),
        repr(14, Message::ConfLeave(leave)),
        repr(14, Message::TreeJoin(probe)),
        repr(12, Message::TreeState(state)),
        repr(14, Message::ConfChat(chat)),
        repr(12, Message::ConfProof(conf_proof)),
        repr(12, Message::ConfData(data)),
        repr(14, Message::ConfPull(pull)),
    ]
}

fn any_certificate(g: &mut Gen) -> Certificate {
    let key = PublicKey(core::array::from_fn(|_| u8::arbitrary(g)));
    Certificate { member: Id(0), key, signature: Signature(core::array::from_fn(|_| u8::arbitrary(g))) }
}

fn any_session(g: &mut Gen) -> SessionId {
    SessionId(core::array::from_fn(|_| u8::arbitrary(g)))
}

fn any_locator(g: &mut Gen) -> ResourceLocator {
    let ip = core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::arbitrary(g).max(1));
    ResourceLocator::new(Id(u128::arbitrary(g)), core::net::SocketAddrV6::new(ip, u16::arbitrary(g), 0, 0))
}

/// An arbitrary conference message of type `kind`.
pub(super) fn any_conference(g: &mut Gen, kind: MessageType) -> Option<Message> {
    let session = any_session(g);
    let signature = Signature(core::array::from_fn(|_| u8::arbitrary(g)));
    let certificate = bool::arbitrary(g).then(|| Certificate { member: Id(u128::arbitrary(g)), ..any_certificate(g) });
    Some(match kind {
        MessageType::ConfInvite => {
            let len = usize::arbitrary(g) % (crate::conference::MAX_NAME_LEN + 1);
            let name = (0..len).map(|_| char::from(b'a' + u8::arbitrary(g) % 26)).collect::<std::string::String>();
            let name = name.as_str().try_into().expect("short");
            Message::ConfInvite(ConfInvite { session, nonce: u64::arbitrary(g), name, signature })
        }
        MessageType::ConfAnswer => Message::ConfAnswer(ConfAnswer { session, join: bool::arbitrary(g), signature }),
        MessageType::ConfAdmit => Message::ConfAdmit(ConfAdmit { session, certificate }),
        MessageType::ConfLeave => {
            let (member, removed) = (Id(u128::arbitrary(g)), bool::arbitrary(g));
            Message::ConfLeave(ConfLeave { session, member, removed, signature })
        }
        MessageType::TreeJoin => Message::TreeJoin(TreeJoin {
            session,
            mode: [TreeMode::Probe, TreeMode::Attach, TreeMode::Detach][usize::arbitrary(g) % 3],
            capacity: u8::arbitrary(g),
            delay_us: u32::arbitrary(g),
            certificate,
        }),
        MessageType::TreeState => {
            let status = [TreeStatus::Info, TreeStatus::Child, TreeStatus::Refused][usize::arbitrary(g) % 3];
            let path = (0..usize::arbitrary(g) % (MAX_DEPTH + 1)).map(|_| Id(u128::arbitrary(g))).collect();
            let candidates = (0..usize::arbitrary(g) % (MAX_CANDIDATES + 1)).map(|_| any_locator(g)).collect();
            let (root_delay_us, spare, weakest) = (u32::arbitrary(g), u8::arbitrary(g), u8::arbitrary(g));
            Message::TreeState(TreeState {
                session,
                status,
                root_delay_us,
                spare,
                weakest,
                weakest_delay_us: u32::arbitrary(g),
                path,
                candidates,
                certificate,
            })
        }
        MessageType::ConfProof | MessageType::ConfData | MessageType::ConfPull => {
            return any_transfer_piece(g, kind, session, certificate)
        }
        MessageType::ConfChat => {
            let len = usize::arbitrary(g) % (MAX_CONF_TEXT + 1);
            let text = (0..len).map(|_| char::from(b'a' + u8::arbitrary(g) % 26)).collect::<std::string::String>();
            let text = text.as_str().try_into().expect("short");
            let (sender, seq) = (Id(u128::arbitrary(g)), u32::arbitrary(g));
            Message::ConfChat(ConfChat { session, sender, certificate, seq, text, signature })
        }
        _ => return None,
    })
}

/// An arbitrary transfer piece or pull.
fn any_transfer_piece(
    g: &mut Gen,
    kind: MessageType,
    session: SessionId,
    certificate: Option<Certificate>,
) -> Option<Message> {
    let transfer = u64::arbitrary(g);
    Some(match kind {
        MessageType::ConfProof => {
            let Some(Message::BlockProof(mut proof)) = super::transfer::any_transfer(g, MessageType::BlockProof) else {
                return None;
            };
            proof.siblings.truncate(MAX_CONF_SIBLINGS);
            let len = usize::arbitrary(g) % (MAX_TRANSFER_NAME + 1);
            let name = (0..len).map(|_| char::from(b'a' + u8::arbitrary(g) % 26)).collect::<std::string::String>();
            let content = crate::content::ContentId { root: [u8::arbitrary(g); 32], size: u64::arbitrary(g) };
            let announcement = Announcement {
                sender: Id(u128::arbitrary(g)),
                certificate,
                content,
                rate: u32::arbitrary(g),
                stream: bool::arbitrary(g),
                name: name.as_str().try_into().expect("short"),
                signature: Signature(core::array::from_fn(|_| u8::arbitrary(g))),
            };
            Message::ConfProof(ConfProof { session, transfer, announcement, proof })
        }
        MessageType::ConfData => {
            let Some(Message::Data(data)) = super::transfer::any_transfer(g, MessageType::Data) else { return None };
            Message::ConfData(ConfData { session, transfer, data })
        }
        _ => {
            let count = usize::arbitrary(g) % (MAX_PULL_RANGES + 1);
            let ranges = (0..count).map(|_| (u32::arbitrary(g), u16::arbitrary(g).max(1))).collect();
            Message::ConfPull(ConfPull { session, transfer, ranges })
        }
    })
}

#[test]
fn the_largest_conference_proof_fits_a_datagram() {
    let mut g = Gen::new(8);
    let announcement = Announcement {
        sender: Id(1),
        certificate: Some(any_certificate(&mut g)),
        content: crate::content::ContentId { root: [1; 32], size: 1 << 36 },
        rate: u32::MAX,
        stream: true,
        name: "x".repeat(MAX_TRANSFER_NAME).as_str().try_into().expect("fits"),
        signature: Signature([2; 64]),
    };
    let proof = BlockProof {
        pn: u32::MAX,
        block: u32::MAX,
        values: (0..8).map(|_| [3; 32]).collect(),
        siblings: (0..MAX_CONF_SIBLINGS).map(|_| [4; 32]).collect(),
    };
    let message = Message::ConfProof(ConfProof { session: any_session(&mut g), transfer: 1, announcement, proof });
    let sender = ResourceLocator::new(Id(1), "[fd00::1]:4000".parse().expect("an address"));
    let repr = Repr { header: Header { flags: 0, hop_limit: 0, txid: 1, sender }, message };
    assert!(repr.buffer_len() <= MAX_DATAGRAM, "{} bytes", repr.buffer_len());
}

#[test]
fn the_largest_tree_state_fits_a_datagram() {
    let mut g = Gen::new(8);
    let state = TreeState {
        session: any_session(&mut g),
        status: TreeStatus::Refused,
        root_delay_us: u32::MAX,
        spare: 255,
        weakest: u8::MAX,
        weakest_delay_us: u32::MAX,
        path: (0..MAX_DEPTH as u128).map(Id).collect(),
        candidates: (0..MAX_CANDIDATES).map(|_| any_locator(&mut g)).collect(),
        certificate: Some(any_certificate(&mut g)),
    };
    let sender = ResourceLocator::new(Id(1), "[fd00::1]:4000".parse().expect("an address"));
    let repr = Repr { header: Header { flags: 0, hop_limit: 0, txid: 1, sender }, message: Message::TreeState(state) };
    assert!(repr.buffer_len() <= MAX_DATAGRAM, "{} bytes", repr.buffer_len());
    let mut buf = [0u8; MAX_DATAGRAM];
    let len = repr.emit(&mut buf).expect("fits");
    assert_eq!(Repr::parse_bytes(&buf[..len]), Ok(repr));
}

#[test]
fn the_samples_signatures_hold() {
    let node = |n: u16| {
        ResourceLocator::new(
            Id(n.into()),
            core::net::SocketAddrV6::new(core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n), 4000, 0, 0),
        )
    };
    let repr = |n: u16, message| Repr { header: Header { flags: 0, hop_limit: 64, txid: 1, sender: node(n) }, message };
    let [invite, answer, admit, leave, _, _, chat, proof, ..] = samples(repr, node).map(|r| r.message);
    let (session, _) = session();
    let (k12, k14) = (identity(12).public_key(), identity(14).public_key());
    let Message::ConfInvite(invite) = invite else { panic!("an invite") };
    let statement = Statement::Invite { session, creator: Id(12), invitee: Id(14) };
    assert!(statement.verify(&k12, &invite.signature).is_ok());
    let Message::ConfAnswer(answer) = answer else { panic!("an answer") };
    assert!(answer.statement(Id(14)).verify(&k14, &answer.signature).is_ok());
    let Message::ConfAdmit(ConfAdmit { certificate: Some(certificate), .. }) = admit else { panic!("an admission") };
    assert!(certificate.verify(session, Id(12), &k12).is_ok());
    let Message::ConfLeave(leave) = leave else { panic!("a leave") };
    assert!(leave.statement(Id(12)).verify(&k14, &leave.signature).is_ok());
    let Message::ConfChat(chat) = chat else { panic!("a chat message") };
    assert!(k14.verify(&chat.signing_bytes(), &chat.signature).is_ok());
    let Message::ConfProof(proof) = proof else { panic!("a proof") };
    let a = &proof.announcement;
    assert!(k12.verify(&a.signing_bytes(session, proof.transfer), &a.signature).is_ok());
    assert!(crate::content::verify_block(&a.content, 1, &proof.proof.values, &proof.proof.siblings));
}
