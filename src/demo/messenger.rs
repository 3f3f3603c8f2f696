//! The demo's messenger steps: friend requests accepted, presence seen,
//! a chat with receipts, and a message to a user who went offline,
//! delivered once after its node restarts.

use super::{ms, Demo, STEP_LIMIT};
use mmp2p_core::tables::contacts::ContactRecord;
use mmp2p_core::wire::{Status, MAX_MESSAGE};
use mmp2p_core::{Event, Id, Node};
use std::collections::HashMap;
use std::time::Instant as Clock;

/// The users of the messenger steps: alice asks bob and carol.
const ALICE: usize = 1;
const BOB: usize = 2;
const CAROL: usize = 3;
/// Messages alice sends bob; one is longer than a datagram.
const CHAT_MESSAGES: usize = 10;

/// Every message `node` holds for its user: (from, seq, text).
fn read_all(node: &mut Node) -> Vec<(Id, u32, String)> {
    let mut buf = Box::new([0u8; MAX_MESSAGE]);
    let mut read = Vec::new();
    while let Some(m) = node.read_message(&mut buf) {
        read.push((m.from, m.seq, String::from_utf8_lossy(&buf[..m.len]).into_owned()));
    }
    read
}

impl Demo {
    /// Alice asks bob and carol to be friends; both accept.
    pub(super) fn friend_requests(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("friend requests")?;
        let alice = self.cluster.locator(ALICE).id;
        for friend in [BOB, CAROL] {
            let id = self.cluster.locator(friend).id;
            let started = Clock::now();
            self.cluster.command(ALICE, move |node, now| node.request_friend(now, id, "hi, it's alice"))?;
            let asked = self.cluster.wait_event(STEP_LIMIT, |node, event| {
                matches!(event, Event::FriendRequest { from } if node == friend && from.id == alice).then_some(())
            });
            let answered = asked.is_some()
                && self.cluster.command(friend, move |node, now| node.accept_friend(now, alice)).is_ok();
            let accepted = answered
                && self
                    .cluster
                    .wait_event(STEP_LIMIT, |node, event| {
                        matches!(event, Event::FriendAccepted { friend: f } if node == ALICE && *f == id).then_some(())
                    })
                    .is_some();
            figures.record_result(accepted, None, started.elapsed());
            println!(
                "  {} asks {} (signed, checked against the registration): {} in {:.1} ms",
                self.users[ALICE].name,
                self.users[friend].name,
                if accepted { "accepted" } else { "NOT accepted" },
                ms(started.elapsed())
            );
        }
        self.end(figures, before)
    }

    /// Bob goes away; alice sees it.
    pub(super) fn presence(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("presence")?;
        let bob = self.cluster.locator(BOB).id;
        let started = Clock::now();
        self.cluster.command(BOB, |node, now| node.set_presence(now, Status::Away, "lunch"))?;
        let seen = self.cluster.wait_event(STEP_LIMIT, |node, event| {
            matches!(event, Event::PresenceChanged { friend, status: Status::Away } if node == ALICE && *friend == bob)
                .then_some(())
        });
        figures.record_result(seen.is_some(), None, started.elapsed());
        println!(
            "  {} sets away \"lunch\" (signed): {} sees it in {:.1} ms",
            self.users[BOB].name,
            self.users[ALICE].name,
            ms(started.elapsed())
        );
        self.end(figures, before)
    }

    /// Alice sends bob messages (end-to-end sealed, one longer than a
    /// datagram); bob reads each once, in order; every receipt comes back.
    pub(super) fn chat(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("chat with receipts")?;
        let (alice, bob) = (self.cluster.locator(ALICE).id, self.cluster.locator(BOB).id);
        let texts: Vec<String> = (0..CHAT_MESSAGES)
            .map(|i| if i == 4 { format!("a long one: {}", "~".repeat(3000)) } else { format!("message {i}") })
            .collect();
        let mut sent = HashMap::new();
        for text in &texts {
            let owned = text.clone();
            let seq = self.cluster.command(ALICE, move |node, now| node.say(now, bob, owned.as_bytes()))?;
            sent.insert(seq, Clock::now());
        }
        let mut read = Vec::new();
        let mut receipts = 0;
        while receipts < texts.len() || read.len() < texts.len() {
            let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match *event {
                Event::Message { .. } if node == BOB => Some(None),
                Event::Delivered { friend, seq } if node == ALICE && friend == bob => Some(Some(seq)),
                _ => None,
            });
            match event {
                Some(None) => read.extend(self.cluster.query(BOB, |node, _, _| read_all(node))?),
                Some(Some(seq)) => {
                    receipts += 1;
                    let latency = sent.get(&seq).map(|at: &Clock| at.elapsed()).unwrap_or_default();
                    figures.record_result(true, None, latency);
                }
                None => break,
            }
        }
        let in_order = read.iter().map(|(from, _, text)| (*from, text.clone())).collect::<Vec<_>>()
            == texts.iter().map(|t| (alice, t.clone())).collect::<Vec<_>>();
        for _ in receipts..texts.len() {
            figures.record_result(false, None, Default::default());
        }
        if !in_order {
            figures.fail();
        }
        println!(
            "  {} sends {} {} messages (one of {} bytes, in {} datagrams): read once each, in order: {}; {} receipts",
            self.users[ALICE].name,
            self.users[BOB].name,
            texts.len(),
            texts[4].len(),
            texts[4].len().div_ceil(1024),
            if in_order { "yes" } else { "NO" },
            receipts
        );
        self.end(figures, before)
    }

    /// Carol goes offline; alice's messages wait as mail at the node
    /// responsible for carol's ID; carol's node restarts (a fresh node, its
    /// friendship restored), rejoins and reads them once.
    pub(super) fn offline_message(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("offline message")?;
        let (alice, carol) = (self.cluster.locator(ALICE).id, self.cluster.locator(CAROL));
        let record: Option<ContactRecord> =
            self.cluster.query(CAROL, move |node, _, _| node.contacts().get(alice).map(|c| c.record()))?;
        let alice_at = self.cluster.locator(ALICE);
        let identity = self.cluster.query(CAROL, |node, _, _| node.identity().clone())?;
        self.cluster.command(CAROL, |node, now| {
            let _ = node.set_presence(now, Status::Offline, "");
            node.leave(now)
        })?;
        let gone = self.cluster.wait_event(STEP_LIMIT, |node, event| {
            matches!(event, Event::PresenceChanged { friend, status: Status::Offline } if node == ALICE && *friend == carol.id)
                .then_some(())
        });
        let texts = ["are you there?", "call me when you are back"];
        let started = Clock::now();
        for text in texts {
            self.cluster.command(ALICE, move |node, now| node.say(now, carol.id, text.as_bytes()))?;
        }
        let held = self
            .cluster
            .wait_until(STEP_LIMIT, |c| {
                let held: usize = c
                    .live()
                    .map(|i| {
                        c.query(i, move |node, _, _| node.mailbox().iter().filter(|l| l.recipient == carol.id).count())
                    })
                    .sum::<Result<usize, String>>()?;
                Ok(held >= texts.len())
            })?
            .is_some();
        println!(
            "  {} leaves; {} sees it offline: {}; her 2 messages wait as mail in the ring: {}",
            self.users[CAROL].name,
            self.users[ALICE].name,
            if gone.is_some() { "yes" } else { "NO" },
            if held { "yes" } else { "NO" }
        );
        // Carol's program restarts: a fresh node, the same identity, its contact restored.
        let key = self.cluster.locator(0).addr;
        let files = self.users[CAROL].files.clone();
        let config = super::demo_config();
        let seed = self.seed ^ 0xca01;
        self.cluster.query(CAROL, move |node, _, now| -> Result<(), String> {
            *node = Node::new(config, carol, now, seed).map_err(|e| e.to_string())?;
            node.set_identity(identity);
            if let Some(record) = record {
                node.restore_contact(now, alice_at, record).map_err(|e| e.to_string())?;
            }
            node.share(now, files).map_err(|e| e.to_string())?;
            node.join(now, key).map(|_| ()).map_err(|e| e.to_string())
        })??;
        let mut read = Vec::new();
        let mut receipts = 0;
        while receipts < texts.len() || read.len() < texts.len() {
            let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match *event {
                Event::Message { .. } if node == CAROL => Some(false),
                Event::Delivered { friend, .. } if node == ALICE && friend == carol.id => Some(true),
                _ => None,
            });
            match event {
                Some(false) => read.extend(self.cluster.query(CAROL, |node, _, _| read_all(node))?),
                Some(true) => receipts += 1,
                None => break,
            }
        }
        let once: Vec<&str> = read.iter().map(|(_, _, text)| text.as_str()).collect();
        let ok = gone.is_some() && held && once == texts && receipts == texts.len();
        figures.record_result(ok, None, started.elapsed());
        println!(
            "  {} restarts and rejoins: reads {:?} once each, {} receipts to {}, {:.0} ms after sending",
            self.users[CAROL].name,
            once,
            receipts,
            self.users[ALICE].name,
            ms(started.elapsed())
        );
        self.end(figures, before)
    }
}
