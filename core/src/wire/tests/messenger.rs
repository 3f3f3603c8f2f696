//! Samples and arbitrary values of the messenger's messages: signed and
//! sealed with real keys, as the specification's vectors are.

use crate::conversation::{ConversationKey, Seal, SealKind};
use crate::id::{Id, ResourceLocator};
use crate::identity::Identity;
use crate::identity::Signature;
use crate::wire::*;
use quickcheck::{Arbitrary, Gen};

/// Node `n`'s identity: the secret key of 32 bytes `n`.
fn identity(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

/// The conversation key of nodes 9 and 12, as node `n` of them holds it.
fn conversation(n: u8) -> ConversationKey {
    let other = if n == 9 { 12 } else { 9 };
    ConversationKey::agree(&identity(n), &identity(other).public_key()).expect("valid keys")
}

/// Node 9 asks node 12; node 12 accepts; node 9 ends the friendship;
/// node 12's presence; a chat fragment from node 9; node 12's acknowledgement;
/// then node 12 offline: node 9 mails the fragment to node 14, the holder of
/// node 12's ID, which copies it to node 0 and, once node 12 is back,
/// delivers it; node 12 acknowledges it.
pub(super) fn samples(repr: impl Fn(u16, Message) -> Repr, node: impl Fn(u16) -> ResourceLocator) -> [Repr; 10] {
    let mut request = FriendRequest {
        to: Id(12),
        key: identity(9).public_key(),
        nonce: 0x1111_2222_3333_4444,
        text: "hi, it's nine".try_into().expect("short"),
        signature: Signature([0; 64]),
    };
    request.signature = identity(9).sign(request.transcript(&node(9)).as_bytes());
    let mut answer = FriendAnswer {
        nonce: request.nonce,
        accept: true,
        key: identity(12).public_key(),
        signature: Signature([0; 64]),
    };
    answer.signature = identity(12).sign(answer.transcript(&node(12), Id(9)).as_bytes());
    let unfriend_seal = Seal { kind: SealKind::Unfriend, first: request.nonce, second: 0 };
    let unfriend = Unfriend { since: request.nonce, tag: conversation(9).seal(unfriend_seal, &[], &mut []) };
    let mut presence = Presence {
        version: 3,
        status: Status::Away,
        text: "lunch".try_into().expect("short"),
        signature: Signature([0; 64]),
    };
    presence.signature = identity(12).sign(presence.transcript(&node(12)).as_bytes());
    let mut chat = ChatFragment {
        epoch: 0x0a0b_0c0d_0e0f_1011,
        seq: 1,
        fragment: 0,
        fragments: 1,
        sealed: heapless::Vec::from_slice(b"see you at eight").expect("short"),
        tag: [0; 16],
    };
    let chat_seal = Seal { kind: SealKind::Chat, first: chat.epoch, second: 1 << 16 | 1 };
    chat.tag = conversation(9).seal(chat_seal, &chat.associated(), &mut chat.sealed);
    let mut ack = ChatAck { delivered: 1, seq: 1, fragment: 0, room: 3, tag: [0; 16] };
    let ack_seal = Seal { kind: SealKind::ChatAck, first: 1, second: 1 << 16 | 3 };
    ack.tag = conversation(12).seal(ack_seal, &[], &mut []);
    let mail = Mail { recipient: Id(12), sender: node(9), lifetime_secs: 604_800, chat: chat.clone() };
    let copy = Mail { lifetime_secs: 604_790, ..mail.clone() };
    let delivered = Mail { lifetime_secs: 604_700, ..mail.clone() };
    let mail_ack = MailAck { recipient: Id(12), sender: Id(9), delivered: 1 };
    [
        repr(9, Message::FriendRequest(request)),
        repr(12, Message::FriendAnswer(answer)),
        repr(9, Message::Unfriend(unfriend)),
        repr(12, Message::Presence(presence)),
        repr(9, Message::Chat(chat)),
        repr(12, Message::ChatAck(ack)),
        repr(9, Message::MailStore(mail)),
        repr(14, Message::MailCopy(copy)),
        repr(14, Message::Mail(delivered)),
        repr(12, Message::MailAck(mail_ack)),
    ]
}

fn bytes<const N: usize>(g: &mut Gen) -> [u8; N] {
    core::array::from_fn(|_| u8::arbitrary(g))
}

fn text<const N: usize>(g: &mut Gen) -> heapless::String<N> {
    let mut text = heapless::String::new();
    for c in String::arbitrary(g).chars() {
        if text.push(c).is_err() {
            break;
        }
    }
    text
}

fn any_chat(g: &mut Gen) -> ChatFragment {
    let fragments = 1 + u8::arbitrary(g) % MAX_FRAGMENTS;
    let fragment = u8::arbitrary(g) % fragments;
    let len = if fragment + 1 == fragments { 1 + usize::arbitrary(g) % MAX_FRAGMENT } else { MAX_FRAGMENT };
    let sealed = (0..len).map(|_| u8::arbitrary(g)).collect();
    let seq = u32::arbitrary(g).max(1);
    ChatFragment { epoch: u64::arbitrary(g), seq, fragment, fragments, sealed, tag: bytes(g) }
}

fn any_mail(g: &mut Gen) -> Mail {
    // A unique-local address: always usable in a locator.
    let ip = core::net::Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(u64::arbitrary(g)));
    let sender =
        ResourceLocator::new(Id(u128::arbitrary(g)), core::net::SocketAddrV6::new(ip, u16::arbitrary(g), 0, 0));
    Mail { recipient: Id(u128::arbitrary(g)), sender, lifetime_secs: u32::arbitrary(g), chat: any_chat(g) }
}

/// An arbitrary messenger message of type `kind` (signatures and tags are
/// random bytes: the wire format does not check them).
pub(super) fn any_messenger(g: &mut Gen, kind: MessageType) -> Option<Message> {
    Some(match kind {
        MessageType::FriendRequest => Message::FriendRequest(FriendRequest {
            to: Id(u128::arbitrary(g)),
            key: crate::identity::PublicKey(bytes(g)),
            nonce: u64::arbitrary(g),
            text: text(g),
            signature: Signature(bytes(g)),
        }),
        MessageType::FriendAnswer => Message::FriendAnswer(FriendAnswer {
            nonce: u64::arbitrary(g),
            accept: bool::arbitrary(g),
            key: crate::identity::PublicKey(bytes(g)),
            signature: Signature(bytes(g)),
        }),
        MessageType::Unfriend => Message::Unfriend(Unfriend { since: u64::arbitrary(g), tag: bytes(g) }),
        MessageType::Presence => Message::Presence(Presence {
            version: u64::arbitrary(g),
            status: Status::from_u8(u8::arbitrary(g) % 4).unwrap_or_default(),
            text: text(g),
            signature: Signature(bytes(g)),
        }),
        MessageType::Chat => Message::Chat(any_chat(g)),
        MessageType::MailStore => Message::MailStore(any_mail(g)),
        MessageType::MailCopy => Message::MailCopy(any_mail(g)),
        MessageType::Mail => Message::Mail(any_mail(g)),
        MessageType::MailAck => Message::MailAck(MailAck {
            recipient: Id(u128::arbitrary(g)),
            sender: Id(u128::arbitrary(g)),
            delivered: u32::arbitrary(g),
        }),
        MessageType::ChatAck => Message::ChatAck(ChatAck {
            delivered: u32::arbitrary(g),
            seq: u32::arbitrary(g),
            fragment: u8::arbitrary(g),
            room: u8::arbitrary(g),
            tag: bytes(g),
        }),
        _ => return None,
    })
}
