//! The `node` target's conference operation: the user's conference
//! commands, and a contact's signed conference messages.
//!
//! Fixed peer 0 is a contact of the node under [`CONTACT_SEED`]'s key, so
//! the messages this op builds for it carry valid signatures (or, with a
//! flag bit, spoiled ones): an invitation to its conference, a chat line in
//! it; the reply op admits the node under a certificate from that key.
//!
//! The sub-op byte's low 7 bits (mod 10) choose it; bit 7 is its flag.
//!
//! | sub-op | what                                                                 |
//! | -----: | -------------------------------------------------------------------- |
//! |      0 | `create_conference`, name from the input                              |
//! |      1 | `invite_to_conference` of the contact into conference `i`             |
//! |      2 | `answer_invitation` of conference `i`: join (flag) or decline         |
//! |      3 | `leave_conference` of conference `i`                                  |
//! |      4 | `remove_from_conference` of the contact from conference `i`           |
//! |      5 | `conference_say` in conference `i`, text from the input              |
//! |      6 | `conference_send` in conference `i`: size, rate; a stream (flag)      |
//! |      7 | `set_tree_children`                                                   |
//! |      8 | the contact's CONF_INVITE to its conference `n`, signed (spoiled: flag) |
//! |      9 | the contact's CONF_CHAT in its conference `n`, signed (spoiled: flag) |

use super::input::Reader;
use super::{peer, Harness};
use mmp2p_core::conference::{Certificate, SessionId, Statement};
use mmp2p_core::content::ContentId;
use mmp2p_core::identity::{Identity, Signature};
use mmp2p_core::profile::Profile;
use mmp2p_core::tables::contacts::ContactRecord;
use mmp2p_core::wire::{ConfChat, ConfInvite, Message};
use mmp2p_core::{Instant, Node, ResourceLocator};

/// The seed of the contact's key (fixed peer 0).
pub(crate) const CONTACT_SEED: [u8; 32] = [0xc0; 32];
/// The seed of the node's own key.
pub(crate) const NODE_SEED: [u8; 32] = [0x11; 32];

/// The contact's key.
pub(crate) fn contact() -> Identity {
    Identity::from_seed(CONTACT_SEED)
}

/// Gives the node its key and fixed peer 0 as a contact.
pub(crate) fn set_up<P: Profile>(node: &mut Node<P>) {
    node.set_identity(Identity::from_seed(NODE_SEED));
    let friend = peer(0);
    let record =
        ContactRecord { id: friend.id, key: contact().public_key(), since: 0, next_seq: 1, receipted: 0, delivered: 0 };
    // A node without the messenger has no room for it (a typed error).
    let _ = node.restore_contact(Instant::ZERO, friend, record);
}

/// The contact's conference `n` (one of four) and its nonce.
fn contact_conference(n: u8) -> (SessionId, u64, &'static str) {
    const NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
    let nonce = u64::from(n % 4);
    let name = NAMES[usize::from(n % 4)];
    (SessionId::new(peer(0).id, name, nonce), nonce, name)
}

/// A certificate from the contact for the node in `session`: what the
/// reply op sends to admit the node.
pub(crate) fn certificate<P: Profile>(node: &Node<P>, session: SessionId) -> Certificate {
    Certificate::issue(session, &contact(), peer(0).id, node.locator().id, node.identity().public_key())
}

impl<P: Profile> Harness<P> {
    /// Session `i` among the node's conferences (modulo their number).
    fn session(&self, i: u8) -> Option<SessionId> {
        let count = self.node.conferences().iter().count();
        (count > 0).then(|| self.node.conferences().iter().nth(usize::from(i) % count).map(|c| c.session)).flatten()
    }

    /// One conference operation.
    pub(crate) fn conference(&mut self, r: &mut Reader<'_>) {
        let sub = r.u8();
        // Bit 7 is the sub-op's flag: join, stream, spoil.
        let (kind, flag) = ((sub & 0x7f) % 10, sub & 0x80 != 0);
        let now = self.now;
        match kind {
            0 => {
                let b = r.u8();
                let name = if b < 0xc0 {
                    format!("conf-{}", b & 3)
                } else {
                    String::from_utf8_lossy(r.bytes(usize::from(b & 0x3f))).into_owned()
                };
                let _ = self.node.create_conference(now, &name);
            }
            1..=6 => {
                let Some(session) = self.session(r.u8()) else { return };
                let friend = peer(0).id;
                let _ = match kind {
                    1 => self.node.invite_to_conference(now, session, friend),
                    2 => self.node.answer_invitation(now, session, flag),
                    3 => self.node.leave_conference(now, session),
                    4 => self.node.remove_from_conference(now, session, friend),
                    5 => {
                        let len = usize::from(r.u16()) % 300;
                        let text = String::from_utf8_lossy(r.bytes(len)).into_owned();
                        self.node.conference_say(now, session, &text).map(|_| ())
                    }
                    _ => {
                        let size = u64::from(r.u16()) << (r.u8() % 24);
                        let content = ContentId { root: [r.u8(); 32], size };
                        let rate = u32::from(r.u16()) << 4;
                        self.node.conference_send(now, session, (content, "fuzzed.bin"), rate, flag).map(|_| ())
                    }
                };
            }
            7 => {
                let _ = self.node.set_tree_children(r.u8() % 10);
            }
            8 => {
                let (session, nonce, name) = contact_conference(r.u8());
                let statement = Statement::Invite { session, creator: peer(0).id, invitee: self.node.locator().id };
                let mut signature = statement.sign(&contact());
                signature.0[0] ^= u8::from(flag);
                let invite = ConfInvite { session, nonce, name: name.try_into().unwrap_or_default(), signature };
                let txid = u64::from(r.u8());
                self.deliver(peer(0).addr, Self::header(txid, peer(0)), Message::ConfInvite(invite));
            }
            _ => {
                let (session, _, _) = contact_conference(r.u8());
                let seq = u32::from(r.u8());
                let len = usize::from(r.u8());
                let text = String::from_utf8_lossy(r.bytes(len)).chars().take(200).collect::<String>();
                let text = text.as_str().try_into().unwrap_or_default();
                let sender = peer(0).id;
                let mut chat =
                    ConfChat { session, sender, certificate: None, seq, text, signature: Signature([0; 64]) };
                chat.signature = contact().sign(&chat.signing_bytes());
                chat.signature.0[0] ^= u8::from(flag);
                let txid = u64::from(r.u8());
                let from: ResourceLocator = peer(0);
                self.deliver(from.addr, Self::header(txid, from), Message::ConfChat(chat));
            }
        }
    }
}
