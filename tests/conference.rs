//! Conferences on the memory network: signed invitations and answers,
//! members leaving and removed, and the delivery tree — degree-bounded,
//! loop-free, repaired when a member goes — and what strangers, spoofed
//! sources and lying members can do to any of it.

mod common;

use common::{befriend, datagram, wait_for};
use mmp2p_core::conference::{Certificate, ConferenceEvent, LeftReason, SessionId, Statement};
use mmp2p_core::identity::{Identity, PublicKey, Signature};
use mmp2p_core::tables::conferences::{Role, Standing};
use mmp2p_core::wire::{
    ConfAdmit, ConfAnswer, ConfChat, ConfInvite, ConfLeave, Header, Message, MessageType, Repr, TreeJoin, TreeMode,
    TreeState, TreeStatus,
};
use mmp2p_core::{Config, Event, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{Network, NodeIndex};
use std::collections::BTreeMap;
use std::time::Duration;

/// A settled overlay whose nodes take `children` children in a tree.
fn overlay(nodes: usize, seed: u64, children: u8) -> Overlay {
    let config = Config { tree_children: children, ..Config::default() };
    let spec = OverlaySpec { nodes, friends: 0, seed, config, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// A settled overlay over the transit-stub internet whose nodes take
/// `children` children in a tree.
fn transit_stub_overlay(nodes: usize, seed: u64, children: u8) -> Overlay {
    let config = Config { tree_children: children, ..Config::default() };
    let latency = mmp2p_memory::LatencyModel::transit_stub();
    let spec = OverlaySpec { nodes, friends: 0, seed, config, latency, ..OverlaySpec::default() };
    Overlay::build(&spec).expect("the overlay settles")
}

/// The conference events node `node` got since event number `since`.
fn conference_events(overlay: &Overlay, node: NodeIndex, since: usize) -> Vec<ConferenceEvent> {
    let events = overlay.network.events()[since..].iter().filter(|e| e.node == node);
    events
        .filter_map(|e| match &e.event {
            Event::Conference(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// `creator` creates a conference and invites `invitees` (befriending
/// them first); those in `joining` join, the others decline. Returns the
/// session once every answer is in and every joiner has a parent.
fn conference(overlay: &mut Overlay, creator: NodeIndex, invitees: &[NodeIndex], joining: usize) -> SessionId {
    for &invitee in invitees {
        befriend(overlay, creator, invitee);
    }
    let session = overlay.network.command(creator, |n, now| n.create_conference(now, "weekly")).expect("created");
    for &invitee in invitees {
        let id = overlay.network.locator(invitee).id;
        let since = overlay.network.events().len();
        overlay.network.command(creator, |n, now| n.invite_to_conference(now, session, id)).expect("invited");
        let invited =
            |e: &Event| matches!(e, Event::Conference(ConferenceEvent::Invited { session: s, .. }) if *s == session);
        wait_for(overlay, invitee, since, Duration::from_secs(20), invited);
    }
    for (i, &invitee) in invitees.iter().enumerate() {
        let join = i < joining;
        let since = overlay.network.events().len();
        overlay.network.command(invitee, |n, now| n.answer_invitation(now, session, join)).expect("answered");
        let done = move |e: &Event| match e {
            Event::Conference(ConferenceEvent::Attached { session: s, .. }) => join && *s == session,
            Event::Conference(ConferenceEvent::Left { session: s, reason: LeftReason::Left }) => !join && *s == session,
            _ => false,
        };
        wait_for(overlay, invitee, since, Duration::from_secs(30), done);
    }
    session
}

/// Every member's parent, by ID (the root: none).
fn parents(overlay: &Overlay, members: &[NodeIndex], session: SessionId) -> BTreeMap<Id, Option<Id>> {
    members
        .iter()
        .filter_map(|&m| {
            let conference = overlay.network.node(m).conferences().get(session)?;
            Some((overlay.network.locator(m).id, conference.tree.parent.map(|p| p.locator.id)))
        })
        .collect()
}

/// Checks the members' trees agree and form one tree rooted at the
/// creator: each member's parent lists it as a child, no member has more
/// children than `bound`, and each path leads to the root without a loop.
fn check_tree(overlay: &Overlay, members: &[NodeIndex], session: SessionId, bound: usize) {
    let by_id: BTreeMap<Id, NodeIndex> = members.iter().map(|&m| (overlay.network.locator(m).id, m)).collect();
    let parents = parents(overlay, members, session);
    let roots: Vec<&Id> = parents.iter().filter(|(_, p)| p.is_none()).map(|(id, _)| id).collect();
    assert_eq!(roots.len(), 1, "one root: {parents:?}");
    for (&id, &parent) in &parents {
        let tree = &overlay.network.node(by_id[&id]).conferences().get(session).expect("in it").tree;
        assert!(tree.children.len() <= bound, "{id:?} has {} children", tree.children.len());
        if let Some(parent) = parent {
            let parent_tree = &overlay.network.node(by_id[&parent]).conferences().get(session).expect("in it").tree;
            assert!(parent_tree.child(id).is_some(), "{parent:?} does not list its child {id:?}");
        }
        // Up to the root, never twice through one member.
        let (mut at, mut seen) = (id, vec![id]);
        while let Some(Some(up)) = parents.get(&at) {
            assert!(!seen.contains(up), "a loop through {up:?}");
            seen.push(*up);
            at = *up;
        }
        assert_eq!(&at, roots[0], "{id:?} does not lead to the root");
        assert_eq!(tree.path.len(), seen.len() - 1, "{id:?}'s path is its depth");
    }
}

#[test]
fn invitations_answers_and_a_degree_bounded_tree() {
    let mut overlay = overlay(16, 1600, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..9]);
    let since = overlay.network.events().len();
    let session = conference(&mut overlay, creator, invitees, 6);
    // The creator heard every answer; its roster holds those who joined.
    let answers = conference_events(&overlay, creator, since);
    let joined = answers.iter().filter(|e| matches!(e, ConferenceEvent::Answered { joined: true, .. })).count();
    let declined = answers.iter().filter(|e| matches!(e, ConferenceEvent::Answered { joined: false, .. })).count();
    assert_eq!((joined, declined), (6, 1));
    let roster = overlay.network.node(creator).conferences().get(session).expect("created");
    assert_eq!(roster.joined().count(), 7, "the creator and six members");
    assert!(roster.members().iter().all(|m| m.standing == Standing::Joined), "the decliner is gone");
    assert!(overlay.network.node(invitees[6]).conferences().get(session).is_none(), "the decliner keeps nothing");
    // Each member holds the creator's certificate for its own key.
    for &member in &invitees[..6] {
        let node = overlay.network.node(member);
        let conference = node.conferences().get(session).expect("a member");
        let Role::Member(certificate) = conference.role else { panic!("admitted") };
        assert_eq!((certificate.member, certificate.key), (node.id(), node.public_key()));
        let creator_key = overlay.network.node(creator).public_key();
        assert!(certificate.verify(session, overlay.network.locator(creator).id, &creator_key).is_ok());
    }
    // Seven members, two children each: a tree at least two deep.
    let members: Vec<NodeIndex> = std::iter::once(creator).chain(invitees[..6].iter().copied()).collect();
    overlay.network.run_for(Duration::from_secs(10));
    check_tree(&overlay, &members, session, 2);
    let deepest = members
        .iter()
        .filter_map(|&n| overlay.network.node(n).conferences().get(session).map(|c| c.tree.depth()))
        .max();
    assert!(deepest >= Some(2), "two children each cannot hold six members one level down");
}

#[test]
fn orphans_reattach_within_two_liveness_periods() {
    let mut overlay = overlay(20, 1610, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..12]);
    let session = conference(&mut overlay, creator, invitees, 10);
    overlay.network.run_for(Duration::from_secs(10));
    // An interior member with children crashes.
    let interior = *invitees
        .iter()
        .find(|&&n| overlay.network.node(n).conferences().get(session).is_some_and(|c| !c.tree.children.is_empty()))
        .expect("some member forwards to others");
    let orphans: Vec<Id> = overlay
        .network
        .node(interior)
        .conferences()
        .get(session)
        .expect("in it")
        .tree
        .children
        .iter()
        .map(|c| c.locator.id)
        .collect();
    let since = overlay.network.events().len();
    let crashed_at = overlay.network.now();
    overlay.network.crash(interior);
    let period = Config::default().tree_heartbeat;
    overlay.network.run_for(period * 2);
    let by_id: BTreeMap<Id, NodeIndex> = m.iter().map(|&n| (overlay.network.locator(n).id, n)).collect();
    for orphan in &orphans {
        let events = conference_events(&overlay, by_id[orphan], since);
        assert!(events.iter().any(|e| matches!(e, ConferenceEvent::Orphaned { .. })), "{orphan:?} noticed");
        let attached = overlay.network.events()[since..].iter().find(|e| {
            e.node == by_id[orphan] && matches!(e.event, Event::Conference(ConferenceEvent::Attached { .. }))
        });
        let at = attached.unwrap_or_else(|| panic!("{orphan:?} never re-attached")).at;
        assert!(
            at.saturating_duration_since(crashed_at) <= period * 2,
            "{orphan:?} took {:?}",
            at.saturating_duration_since(crashed_at)
        );
    }
    let survivors: Vec<NodeIndex> =
        std::iter::once(creator).chain(invitees.iter().copied()).filter(|&n| n != interior).collect();
    // The crashed member's parent drops it after three silent periods.
    overlay.network.run_for(period * 2);
    check_tree(&overlay, &survivors, session, 2);
}

#[test]
fn members_leave_the_creator_removes_and_ends() {
    let mut overlay = overlay(16, 1620, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..8]);
    let session = conference(&mut overlay, creator, invitees, 6);
    let creator_id = overlay.network.locator(creator).id;
    // A member leaves: the creator is told, the tree closes over the gap.
    let (leaver, removed) = (invitees[0], invitees[1]);
    let (leaver_id, removed_id) = (overlay.network.locator(leaver).id, overlay.network.locator(removed).id);
    let since = overlay.network.events().len();
    overlay.network.command(leaver, |n, now| n.leave_conference(now, session)).expect("left");
    overlay.network.run_for(Duration::from_secs(10));
    let told = conference_events(&overlay, creator, since);
    assert!(told.contains(&ConferenceEvent::MemberLeft { session, member: leaver_id, removed: false }), "{told:?}");
    // The creator removes another: it is told and leaves the tree.
    overlay.network.command(creator, |n, now| n.remove_from_conference(now, session, removed_id)).expect("removed");
    overlay.network.run_for(Duration::from_secs(10));
    let events = conference_events(&overlay, removed, since);
    assert!(events.contains(&ConferenceEvent::Left { session, reason: LeftReason::Removed }), "{events:?}");
    let rest: Vec<NodeIndex> = std::iter::once(creator).chain(invitees[2..].iter().copied()).collect();
    let roster = overlay.network.node(creator).conferences().get(session).expect("created");
    assert!(roster.member(leaver_id).is_none() && roster.member(removed_id).is_none());
    check_tree(&overlay, &rest, session, 2);
    // The creator ends it for everyone.
    let since = overlay.network.events().len();
    overlay.network.command(creator, |n, now| n.leave_conference(now, session)).expect("ended");
    overlay.network.run_for(Duration::from_secs(5));
    for &member in &invitees[2..] {
        let events = conference_events(&overlay, member, since);
        assert!(events.contains(&ConferenceEvent::Left { session, reason: LeftReason::Ended }), "{events:?}");
        assert!(overlay.network.node(member).conferences().get(session).is_none());
    }
    assert_ne!(creator_id, Id(0));
}

#[test]
fn chat_reaches_every_member_once_and_in_order_under_loss() {
    let mut overlay = overlay(16, 1640, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..10]);
    let session = conference(&mut overlay, creator, invitees, 8);
    overlay.network.run_for(Duration::from_secs(5));
    let members: Vec<NodeIndex> = std::iter::once(creator).chain(invitees.iter().copied()).collect();
    let config = overlay.network.config();
    overlay.network.set_config(mmp2p_memory::NetworkConfig { loss: 0.05, duplicate: 0.02, reorder: 0.1, ..config });
    let since = overlay.network.events().len();
    // Three members say five things each, all at once.
    let speakers = [creator, invitees[3], invitees[7]];
    for round in 0..5 {
        for &speaker in &speakers {
            let text = format!("message {round}");
            overlay.network.command(speaker, |n, now| n.conference_say(now, session, &text)).expect("said");
        }
    }
    overlay.network.run_for(Duration::from_secs(60));
    for &member in &members {
        let heard = conference_events(&overlay, member, since);
        for &speaker in speakers.iter().filter(|&&s| s != member) {
            let speaker_id = overlay.network.locator(speaker).id;
            let seqs: Vec<u32> = heard
                .iter()
                .filter_map(|e| match e {
                    ConferenceEvent::Chat { from, seq, text, .. } if *from == speaker_id => {
                        assert_eq!(text.as_str(), format!("message {}", seq - 1));
                        Some(*seq)
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(seqs, [1, 2, 3, 4, 5], "{member:?} heard {speaker:?}'s messages once each, in order");
        }
    }
}

#[test]
fn a_message_whose_predecessor_is_lost_is_given_alone_after_the_hold_limit() {
    let mut overlay = overlay(12, 1650, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..6]);
    let session = conference(&mut overlay, creator, invitees, 4);
    overlay.network.run_for(Duration::from_secs(5));
    // A member's second message reaches its parent; its first never does.
    let speaker = invitees[0];
    let node = overlay.network.node(speaker);
    let conference = node.conferences().get(session).expect("a member");
    let Role::Member(certificate) = conference.role else { panic!("a member") };
    let parent = conference.tree.parent.expect("attached").locator;
    let (speaker_locator, identity) = (overlay.network.locator(speaker), node.identity().clone());
    let text = "second".try_into().expect("short");
    let sender = speaker_locator.id;
    let mut chat =
        ConfChat { session, sender, certificate: Some(certificate), seq: 2, text, signature: Signature([0; 64]) };
    chat.signature = identity.sign(&chat.signing_bytes());
    let repr = Repr {
        header: Header { flags: 0, hop_limit: 64, txid: 77, sender: speaker_locator },
        message: Message::ConfChat(chat),
    };
    let parent_node = m.iter().copied().find(|&n| overlay.network.locator(n).id == parent.id).expect("a member");
    let since = overlay.network.events().len();
    overlay.network.inject(speaker, parent.addr, datagram(&repr));
    let heard = |overlay: &Overlay| {
        conference_events(overlay, parent_node, since)
            .into_iter()
            .filter(|e| matches!(e, ConferenceEvent::Chat { from, .. } if *from == sender))
            .count()
    };
    overlay.network.run_for(Duration::from_secs(20));
    assert_eq!(heard(&overlay), 0, "held while its predecessor may still come");
    overlay.network.run_for(Duration::from_secs(15));
    assert_eq!(heard(&overlay), 1, "given alone after the hold limit");
}

/// `len` bytes of a file to send.
fn file_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed).collect()
}

/// The file node `node` received in transfer `transfer`, if it was offered one.
fn received(
    overlay: &Overlay,
    node: NodeIndex,
    since: usize,
    transfer: u64,
) -> Option<&mmp2p_memory::files::DownloadFile> {
    let request = conference_events(overlay, node, since).into_iter().find_map(|e| match e {
        ConferenceEvent::Offered { transfer: t, request, .. } if t == transfer => Some(request),
        _ => None,
    })?;
    overlay.network.files(node).downloads.get(&request)
}

/// A conference of nine on a network that then loses 5 % of datagrams and
/// holds `reorder` of them back: the overlay, its creator, the eight
/// others, the session.
fn lossy_conference(seed: u64, reorder: f64) -> (Overlay, NodeIndex, Vec<NodeIndex>, SessionId) {
    let mut overlay = overlay(16, seed, 3);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], m[2..10].to_vec());
    let session = conference(&mut overlay, creator, &invitees, 8);
    overlay.network.run_for(Duration::from_secs(5));
    let config = overlay.network.config();
    overlay.network.set_config(mmp2p_memory::NetworkConfig { loss: 0.05, reorder, ..config });
    (overlay, creator, invitees, session)
}

#[test]
fn a_file_sent_to_the_conference_arrives_intact_at_every_member_under_loss() {
    let (mut overlay, creator, invitees, session) = lossy_conference(1660, 0.05);
    let invitees = &invitees[..];
    // A member, not the root, sends 1 MiB and a bit at 512 KiB/s: it flows up and down the tree.
    let sender = invitees[2];
    let bytes = file_bytes((1 << 20) + 12_345, 7);
    let since = overlay.network.events().len();
    let transfer =
        overlay.network.conference_send(sender, session, ("talk.pdf", bytes.clone()), 512 * 1024, false).expect("sent");
    overlay.network.run_for(Duration::from_secs(30));
    let content = mmp2p_core::content::ContentId::of(&bytes);
    for &member in std::iter::once(&creator).chain(invitees).filter(|&&n| n != sender) {
        let events = conference_events(&overlay, member, since);
        assert!(
            events.iter().any(|e| matches!(e, ConferenceEvent::Received { transfer: t, .. } if *t == transfer)),
            "{member:?}"
        );
        let file = received(&overlay, member, since, transfer).expect("a file");
        assert_eq!(mmp2p_core::content::ContentId::of(&file.bytes), content, "{member:?}'s copy is intact");
    }
    let sent = conference_events(&overlay, sender, since);
    assert!(sent.iter().any(|e| matches!(e, ConferenceEvent::Sent { transfer: t, .. } if *t == transfer)));
}

#[test]
fn a_stream_plays_at_every_member_with_few_leaves_missed() {
    let (mut overlay, creator, invitees, session) = lossy_conference(1670, 0.0);
    let invitees = &invitees[..];
    // 64 leaves (1 MiB) at 64 KiB/s: a 16 s stream from the root.
    let bytes = file_bytes(1 << 20, 9);
    let since = overlay.network.events().len();
    let transfer =
        overlay.network.conference_send(creator, session, ("film.webm", bytes), 64 * 1024, true).expect("sent");
    overlay.network.run_for(Duration::from_secs(25));
    for &member in invitees {
        let events = conference_events(&overlay, member, since);
        let startup = events.iter().find_map(|e| match e {
            ConferenceEvent::StreamStarted { transfer: t, startup, .. } if *t == transfer => Some(*startup),
            _ => None,
        });
        let startup = startup.unwrap_or_else(|| panic!("{member:?} never started: {events:?}"));
        assert!(startup <= Duration::from_secs(2), "{member:?} started after {startup:?}");
        let (played, missed) = events
            .iter()
            .find_map(|e| match e {
                ConferenceEvent::StreamEnded { transfer: t, played, missed, .. } if *t == transfer => {
                    Some((*played, *missed))
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{member:?} never ended: {events:?}"));
        assert_eq!(played + missed, 64);
        assert!(missed <= 1, "{member:?} missed {missed} of 64 leaves");
    }
}

/// What a node's conference table says, without clocks and round trips:
/// its role, roster, parent and children per conference.
fn snapshot(overlay: &Overlay, nodes: &[NodeIndex]) -> Vec<String> {
    nodes
        .iter()
        .flat_map(|&n| {
            overlay.network.node(n).conferences().iter().map(move |c| {
                let roster: Vec<(Id, Standing)> = c.members().iter().map(|m| (m.locator.id, m.standing)).collect();
                let children: Vec<Id> = c.tree.children.iter().map(|l| l.locator.id).collect();
                let role = match c.role {
                    Role::Member(_) => "member".to_owned(),
                    other => format!("{other:?}"),
                };
                format!(
                    "{n:?} {role} {roster:?} parent={:?} children={children:?}",
                    c.tree.parent.map(|p| p.locator.id)
                )
            })
        })
        .collect()
}

/// Forgeries of every conference message type, by whom they claim to be:
/// a stranger (no friend, no certificate), a source spoofing a member's
/// address, and a lying member (a real certificate, statements of others).
fn forgeries(
    kind: MessageType,
    session: SessionId,
    liar: (ResourceLocator, Certificate, &Identity),
    (victim, creator): (Id, Id),
) -> Vec<Message> {
    let signature = Signature([0x55; 64]);
    let fake = Certificate { member: liar.0.id, key: PublicKey([0x55; 32]), signature };
    let state = |certificate| TreeState {
        session,
        status: TreeStatus::Child,
        root_delay_us: 0,
        spare: 9,
        weakest: u8::MAX,
        weakest_delay_us: 0,
        path: Default::default(),
        candidates: [liar.0].into_iter().collect(),
        certificate,
    };
    match kind {
        MessageType::ConfInvite => vec![Message::ConfInvite(ConfInvite {
            session,
            nonce: 7,
            name: "weekly".try_into().expect("short"),
            signature,
        })],
        MessageType::ConfAnswer => vec![
            Message::ConfAnswer(ConfAnswer { session, join: true, signature }),
            Message::ConfAnswer(ConfAnswer { session, join: false, signature }),
        ],
        MessageType::ConfAdmit => vec![
            Message::ConfAdmit(ConfAdmit { session, certificate: Some(liar.1) }),
            Message::ConfAdmit(ConfAdmit { session, certificate: None }),
        ],
        MessageType::ConfLeave => vec![
            Message::ConfLeave(ConfLeave { session, member: victim, removed: false, signature }),
            Message::ConfLeave(ConfLeave { session, member: victim, removed: true, signature }),
            // The creator's end, signed by no one.
            Message::ConfLeave(ConfLeave { session, member: Id(1), removed: false, signature }),
        ],
        MessageType::TreeJoin => vec![
            Message::TreeJoin(TreeJoin {
                session,
                mode: TreeMode::Attach,
                capacity: 16,
                delay_us: 0,
                certificate: Some(fake),
            }),
            Message::TreeJoin(TreeJoin {
                session,
                mode: TreeMode::Attach,
                capacity: 16,
                delay_us: 0,
                certificate: None,
            }),
        ],
        MessageType::TreeState => vec![Message::TreeState(state(Some(liar.1))), Message::TreeState(state(None))],
        MessageType::ConfChat => {
            // In the victim's and the creator's names: with the liar's own
            // certificate, with none, signed by the liar or by no one.
            let chat = |sender, certificate| {
                let text = "forged".try_into().expect("short");
                let mut chat = ConfChat { session, sender, certificate, seq: 1, text, signature };
                chat.signature = liar.2.sign(&chat.signing_bytes());
                chat
            };
            vec![
                Message::ConfChat(chat(victim, Some(liar.1))),
                Message::ConfChat(chat(creator, None)),
                Message::ConfChat(ConfChat { signature, ..chat(victim, Some(fake)) }),
            ]
        }
        MessageType::ConfProof | MessageType::ConfData | MessageType::ConfPull => {
            forged_transfer(kind, session, liar, victim)
        }
        other => panic!("no conference forgery for {other}: add one"),
    }
}

/// Transfer pieces: an announcement in the victim's name (signed by the
/// liar), the liar's own announcement with a proof that does not hash to
/// its root, a chunk of no transfer, a pull of no transfer.
fn forged_transfer(
    kind: MessageType,
    session: SessionId,
    liar: (ResourceLocator, Certificate, &Identity),
    victim: Id,
) -> Vec<Message> {
    use mmp2p_core::content::ContentId;
    use mmp2p_core::wire::{Announcement, BlockProof, ConfData, ConfProof, ConfPull, Data};
    let content = ContentId { root: [0x55; 32], size: 300_000 };
    let announce = |sender, certificate| {
        let name = "forged.bin".try_into().expect("short");
        let mut a = Announcement {
            sender,
            certificate,
            content,
            rate: 1 << 20,
            stream: false,
            name,
            signature: Signature([0; 64]),
        };
        a.signature = liar.2.sign(&a.signing_bytes(session, 77));
        a
    };
    let proof = BlockProof {
        pn: 0,
        block: 0,
        values: (0..8).map(|_| [0x55; 32]).collect(),
        siblings: (0..2).map(|_| [0x55; 32]).collect(),
    };
    match kind {
        MessageType::ConfProof => vec![
            Message::ConfProof(ConfProof {
                session,
                transfer: 77,
                announcement: announce(victim, Some(liar.1)),
                proof: proof.clone(),
            }),
            Message::ConfProof(ConfProof {
                session,
                transfer: 77,
                announcement: announce(liar.0.id, Some(liar.1)),
                proof,
            }),
        ],
        MessageType::ConfData => {
            let data = Data { pn: 1, leaf: 0, chunk: 0, bytes: (&[0x55u8; 1024][..]).try_into().expect("fits") };
            vec![Message::ConfData(ConfData { session, transfer: 77, data })]
        }
        _ => vec![Message::ConfPull(ConfPull { session, transfer: 77, ranges: [(0, 64)].into_iter().collect() })],
    }
}

#[test]
fn strangers_spoofers_and_lying_members_change_nothing() {
    let mut overlay = overlay(16, 1630, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees, stranger) = (m[1], &m[2..7], m[10]);
    let session = conference(&mut overlay, creator, invitees, 5);
    overlay.network.run_for(Duration::from_secs(10));
    let members: Vec<NodeIndex> = std::iter::once(creator).chain(invitees.iter().copied()).collect();
    let before = snapshot(&overlay, &members);
    let liar = invitees[0];
    let liar_locator = overlay.network.locator(liar);
    let Role::Member(liar_certificate) = overlay.network.node(liar).conferences().get(session).expect("in").role else {
        panic!("a member")
    };
    let kinds: Vec<MessageType> = MessageType::ALL.into_iter().filter(|k| (0x60..0x70).contains(&(*k as u8))).collect();
    assert_eq!(kinds.len(), 10, "every conference type is forged below");
    let creator_id = overlay.network.locator(creator).id;
    let liar_identity = overlay.network.node(liar).identity().clone();
    let since = overlay.network.events().len();
    let mut txid = 0xc0_0000;
    for kind in kinds {
        for &target in &members {
            let victim = invitees.iter().copied().find(|&v| v != target && v != liar).expect("another member");
            let victim_locator = overlay.network.locator(victim);
            let liar_parts = (liar_locator, liar_certificate, &liar_identity);
            for message in forgeries(kind, session, liar_parts, (victim_locator.id, creator_id)) {
                txid += 1;
                let senders = [
                    // A stranger, as itself.
                    (stranger, overlay.network.locator(stranger), None),
                    // A spoofed source: the victim's address and ID.
                    (stranger, victim_locator, Some(victim_locator.addr)),
                    // A lying member, as itself.
                    (liar, liar_locator, None),
                ];
                for (from, sender, spoofed) in senders {
                    let repr =
                        Repr { header: Header { flags: 0, hop_limit: 64, txid, sender }, message: message.clone() };
                    let to = Network::addr(target);
                    match spoofed {
                        Some(source) => overlay.network.inject_spoofed(from, source, to, datagram(&repr)),
                        None => overlay.network.inject(from, to, datagram(&repr)),
                    }
                }
            }
        }
        overlay.network.run_for(Duration::from_secs(1));
        assert_eq!(snapshot(&overlay, &members), before, "after forged {kind}");
    }
    // The creator's signature alone ends it: a statement signed by the liar does not.
    let forged_end = Statement::Leave { session, member: overlay.network.locator(creator).id };
    let signature = forged_end.sign(overlay.network.node(liar).identity());
    let end = ConfLeave { session, member: overlay.network.locator(creator).id, removed: false, signature };
    for &target in &members[1..] {
        let repr = Repr {
            header: Header { flags: 0, hop_limit: 64, txid: 1, sender: liar_locator },
            message: Message::ConfLeave(end),
        };
        overlay.network.inject(liar, Network::addr(target), datagram(&repr));
    }
    overlay.network.run_for(Duration::from_secs(5));
    assert_eq!(snapshot(&overlay, &members), before, "after a forged end");
    let chats = overlay.network.events()[since..]
        .iter()
        .filter(|e| matches!(e.event, Event::Conference(ConferenceEvent::Chat { .. })));
    assert_eq!(chats.count(), 0, "no forged chat reached a user");
    let offers = overlay.network.events()[since..]
        .iter()
        .filter(|e| matches!(e.event, Event::Conference(ConferenceEvent::Offered { .. })));
    assert_eq!(offers.count(), 0, "no forged transfer was taken");
    for &member in &members {
        assert!(overlay.network.node(member).conference_transfers().iter().next().is_none());
    }
    assert!(overlay.network.node(stranger).conferences().iter().next().is_none(), "the stranger got nothing");
}

/// A sender's pieces are paced by its timer: once `handle_timeout(now)`
/// has run, nothing is due at `now` any more — the pieces it released go
/// out at the next drain — and the transfer ends with `Sent`.
#[test]
fn a_senders_pace_is_kept_by_handle_timeout() {
    use mmp2p_core::content::ContentId;
    use mmp2p_core::{Instant, Node, Output};
    let me = ResourceLocator::new(Id(7), "[fd00::7]:4000".parse().unwrap());
    let mut node = Node::new(Config::default(), me, Instant::ZERO, 1).unwrap();
    let session = node.create_conference(Instant::ZERO, "pace").unwrap();
    let content = ContentId { root: [3; 32], size: 256 * 1024 };
    let transfer = node.conference_send(Instant::ZERO, session, (content, "clip"), 64 * 1024, true).unwrap();
    let mut buf = vec![0u8; mmp2p_core::MAX_DATAGRAM];
    let (mut sent, mut wakes) = (false, 0);
    let mut now = Instant::ZERO;
    while !sent {
        loop {
            match node.poll_output(&mut buf) {
                Output::Event(Event::Conference(ConferenceEvent::Sent { transfer: t, .. })) if t == transfer => {
                    sent = true
                }
                Output::Timeout(_) => break,
                _ => {}
            }
        }
        let Some(next) = node.poll_timeout() else { break };
        assert!(next > now || wakes == 0, "drained at {now:?}, yet due at {next:?}");
        now = next;
        node.handle_timeout(now);
        wakes += 1;
        assert!(node.poll_timeout().is_none_or(|at| at > now), "after handle_timeout({now:?}) still due");
        assert!(wakes < 10_000, "the transfer never ended");
    }
    assert!(sent, "the sender's transfer ends with Sent");
    // 256 KiB at 64 KiB/s: about four seconds of pacing.
    assert!(now >= Instant::ZERO + Duration::from_millis(3900), "paced, not sent at once: done at {now:?}");
}

/// The tree's delay from the root to each of `members`, along the tree,
/// summed (with the network's true latencies).
fn tree_delay(overlay: &Overlay, members: &[NodeIndex], session: SessionId) -> Duration {
    let by_id: BTreeMap<Id, NodeIndex> = members.iter().map(|&m| (overlay.network.locator(m).id, m)).collect();
    let parents = parents(overlay, members, session);
    let mut total = Duration::ZERO;
    for &member in members {
        let mut at = overlay.network.locator(member).id;
        while let Some(Some(up)) = parents.get(&at) {
            total += overlay.network.latency(by_id[up], by_id[&at]);
            at = *up;
        }
    }
    total
}

/// Members placed while the root had room for one child look again, now
/// and then, for parents nearer the root: once the root takes more, some
/// move up, each to a place nearer the root (as it measured); the old
/// parent lets it go; the tree stays one tree within its bounds, with less
/// delay from the root than it had.
#[test]
fn members_move_to_parents_nearer_the_root() {
    let mut overlay = transit_stub_overlay(20, 1700, 3);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..14]);
    overlay.network.command(creator, |n, _| n.set_tree_children(1)).expect("a valid bound");
    let since = overlay.network.events().len();
    let session = conference(&mut overlay, creator, invitees, invitees.len());
    let members: Vec<NodeIndex> = std::iter::once(creator).chain(invitees.iter().copied()).collect();
    overlay.network.run_for(Duration::from_secs(10));
    let placed = tree_delay(&overlay, &members, session);
    overlay.network.command(creator, |n, _| n.set_tree_children(6)).expect("a valid bound");
    overlay.network.run_for(Duration::from_secs(150));
    let mut moves = 0;
    for &member in invitees {
        let mut last: Option<u32> = None;
        for event in conference_events(&overlay, member, since) {
            match event {
                ConferenceEvent::Attached { root_delay_us, .. } => {
                    if let Some(before) = last {
                        assert!(root_delay_us < before, "a move away from the root: {before} → {root_delay_us} µs");
                        moves += 1;
                    }
                    last = Some(root_delay_us);
                }
                ConferenceEvent::Orphaned { .. } => last = None,
                _ => {}
            }
        }
    }
    assert!(moves > 0, "no member moved up once the root had room");
    check_tree(&overlay, &members, session, 6);
    // The old parents let the movers go: a member's children are exactly those that name it.
    let parents = parents(&overlay, &members, session);
    for &member in &members {
        let id = overlay.network.locator(member).id;
        let tree = &overlay.network.node(member).conferences().get(session).expect("in it").tree;
        let named: Vec<Id> = parents.iter().filter(|(_, p)| **p == Some(id)).map(|(child, _)| *child).collect();
        let mut listed: Vec<Id> = tree.children.iter().map(|c| c.locator.id).collect();
        listed.sort();
        assert_eq!(listed, named, "{id:?}'s children");
    }
    let root_children = overlay.network.node(creator).conferences().get(session).expect("created").tree.children.len();
    assert!(root_children > 1, "the root took more children");
    let refined = tree_delay(&overlay, &members, session);
    assert!(refined < placed, "the tree's delay from the root went from {placed:?} to {refined:?}");
}

/// A member that joins mid-stream gets pieces of a transfer it has no
/// announcement for (the block's proof went by before it came): it asks
/// the neighbour they came from for that block's proof at once, instead
/// of waiting for the next block's, and starts to play within 2 s of
/// attaching. At 16 KiB/s a block is 8 s long, so waiting would not do.
#[test]
fn a_newcomer_mid_stream_asks_for_the_proof_it_missed() {
    let mut overlay = overlay(12, 1710, 3);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees, newcomer) = (m[1], &m[2..6], m[6]);
    let session = conference(&mut overlay, creator, invitees, invitees.len());
    overlay.network.run_for(Duration::from_secs(5));
    let bytes = file_bytes(512 * 1024, 3);
    let since = overlay.network.events().len();
    let transfer =
        overlay.network.conference_send(creator, session, ("late.webm", bytes), 16 * 1024, true).expect("sent");
    overlay.network.run_for(Duration::from_secs(1));
    befriend(&mut overlay, creator, newcomer);
    let joined = overlay.network.events().len();
    let id = overlay.network.locator(newcomer).id;
    overlay.network.command(creator, |n, now| n.invite_to_conference(now, session, id)).expect("invited");
    let invited =
        |e: &Event| matches!(e, Event::Conference(ConferenceEvent::Invited { session: s, .. }) if *s == session);
    wait_for(&mut overlay, newcomer, joined, Duration::from_secs(10), invited);
    overlay.network.command(newcomer, |n, now| n.answer_invitation(now, session, true)).expect("answered");
    overlay.network.run_for(Duration::from_secs(10));
    let at = |wanted: &dyn Fn(&ConferenceEvent) -> bool| {
        overlay.network.events()[since..]
            .iter()
            .find(|e| e.node == newcomer && matches!(&e.event, Event::Conference(c) if wanted(c)))
            .map(|e| e.at)
    };
    let attached = at(&|c| matches!(c, ConferenceEvent::Attached { .. })).expect("the newcomer attached");
    let checked = at(&|c| matches!(c, ConferenceEvent::StreamStarted { transfer: t, .. } if *t == transfer))
        .expect("the newcomer plays the stream");
    let playing = checked + mmp2p_core::tables::conference_transfer::PLAYOUT_BUFFER;
    let startup = playing.saturating_duration_since(attached);
    assert!(startup <= Duration::from_secs(2), "playing {startup:?} after attaching");
}

/// A member pulling what it lost asks again for a piece only once the
/// answer was due, not while it may still wait in the neighbour's uplink
/// queue: over a transit-stub internet (round trips up to some 300 ms)
/// with 5 % loss, the creator's repairs to its eight children stay near
/// the loss, under a tenth more than the file itself.
#[test]
fn a_piece_asked_for_is_not_asked_for_again_before_its_answer_is_due() {
    let mut overlay = transit_stub_overlay(16, 1720, 8);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..10]);
    let session = conference(&mut overlay, creator, invitees, invitees.len());
    overlay.network.run_for(Duration::from_secs(10));
    let children = overlay.network.node(creator).conferences().get(session).expect("created").tree.children.len();
    assert_eq!(children, invitees.len(), "every member under the creator");
    let config = overlay.network.config();
    overlay.network.set_config(mmp2p_memory::NetworkConfig { loss: 0.05, ..config });
    overlay.network.set_uplink(creator, mmp2p_memory::Uplink::new(10_000_000, Duration::from_millis(200)));
    let bytes = file_bytes(2 << 20, 5);
    let since = overlay.network.events().len();
    let before = overlay.network.node(creator).stats().sent(mmp2p_core::wire::MessageType::ConfData).0;
    let transfer =
        overlay.network.conference_send(creator, session, ("deck.pdf", bytes.clone()), 1_000_000, false).expect("sent");
    overlay.network.run_for(Duration::from_secs(20));
    for &member in invitees {
        let file = received(&overlay, member, since, transfer).expect("a file");
        assert_eq!(file.bytes, bytes, "{member:?}'s copy is intact");
    }
    // Chunks sent, over the chunks of one copy to each member.
    let sent = overlay.network.node(creator).stats().sent(mmp2p_core::wire::MessageType::ConfData).0 - before;
    let once = (invitees.len() * bytes.len().div_ceil(mmp2p_core::content::CHUNK_LEN)) as f64;
    let overhead = sent as f64 / once;
    assert!(overhead < 1.10, "the creator sent each member {overhead:.3} copies of each chunk");
}

/// A parent silent mid-transfer is asked at once whether it is still
/// there; the silence after a transfer's last piece is not. A blackout
/// right after every member has the file (the quick check and its answer
/// lost alike) orphans nobody: the heartbeats that follow are retried past it.
#[test]
fn the_silence_after_a_transfers_end_orphans_nobody() {
    let mut overlay = overlay(12, 1730, 2);
    let m: Vec<NodeIndex> = overlay.members().collect();
    let (creator, invitees) = (m[1], &m[2..8]);
    let session = conference(&mut overlay, creator, invitees, invitees.len());
    overlay.network.run_for(Duration::from_secs(5));
    let bytes = file_bytes(256 * 1024, 6);
    let since = overlay.network.events().len();
    let transfer =
        overlay.network.conference_send(creator, session, ("notes.txt", bytes), 1_000_000, false).expect("sent");
    let all_have_it = |overlay: &Overlay| {
        let have = |member: NodeIndex| {
            conference_events(overlay, member, since)
                .iter()
                .any(|e| matches!(e, ConferenceEvent::Received { transfer: t, .. } if *t == transfer))
        };
        invitees.iter().all(|&member| have(member))
    };
    for _ in 0..1000 {
        if all_have_it(&overlay) {
            break;
        }
        overlay.network.run_for(Duration::from_millis(5));
    }
    assert!(all_have_it(&overlay), "every member has the file");
    let config = overlay.network.config();
    overlay.network.set_config(mmp2p_memory::NetworkConfig { loss: 1.0, ..config });
    overlay.network.run_for(Duration::from_millis(600));
    overlay.network.set_config(config);
    overlay.network.run_for(Duration::from_secs(5));
    for &member in invitees {
        let events = conference_events(&overlay, member, since);
        assert!(
            !events.iter().any(|e| matches!(e, ConferenceEvent::Orphaned { .. })),
            "{member:?} was orphaned: {events:?}"
        );
    }
}
