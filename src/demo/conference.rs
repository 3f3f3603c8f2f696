//! The demo's conference step: alice holds a conference of six with
//! selected friends — invitations, joins, the delivery tree, a message
//! from one member read once by all, a file pushed to every member and
//! checked against its hash, and a short stream played by all.

use super::{ms, Demo, STEP_LIMIT};
use crate::node::files::SharedFile;
use mmp2p_core::conference::{ConferenceEvent, SessionId};
use mmp2p_core::{Event, Id, RequestId};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

/// The creator, and how many are in the conference with it.
const CREATOR: usize = 1;
const MEMBERS: usize = 5;
/// Children the creator takes: the others go deeper.
const CREATOR_CHILDREN: u8 = 2;
/// The file pushed: its size and pace.
const PUSH_SIZE: usize = 1 << 20;
const PUSH_RATE: u32 = 4 << 20;
/// The stream: its size and bitrate.
const STREAM_SIZE: usize = 256 << 10;
const STREAM_RATE: u32 = 512 << 10;

/// What one member saw of a file or stream sent to the conference.
#[derive(Default)]
struct Arrival {
    request: Option<RequestId>,
    done: Option<Duration>,
    startup: Option<Duration>,
    missed: Option<u32>,
}

impl Demo {
    /// Alice and five friends: invitations, the tree, chat, a push and a stream.
    pub(super) fn conference(&mut self) -> Result<(), String> {
        let (mut figures, before) = self.begin("conference")?;
        let members: Vec<usize> = (CREATOR + 1..self.users.len()).take(MEMBERS).collect();
        for &member in &members {
            self.befriend(CREATOR, member)?;
        }
        let dir = std::env::temp_dir().join(format!("mmp2p-demo-conference-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let result = self.hold_conference(&members, &dir, &mut figures);
        let _ = std::fs::remove_dir_all(&dir);
        result?;
        self.end(figures, before)
    }

    /// `a` asks `b` to be friends, unless they are; `b` accepts.
    fn befriend(&mut self, a: usize, b: usize) -> Result<(), String> {
        let (a_id, b_id) = (self.cluster.locator(a).id, self.cluster.locator(b).id);
        if self.cluster.query(a, move |node, _, _| node.contacts().get(b_id).is_some())? {
            return Ok(());
        }
        self.cluster.command(a, move |node, now| node.request_friend(now, b_id, "join my conference?"))?;
        self.cluster.wait_event(STEP_LIMIT, |node, event| {
            matches!(event, Event::FriendRequest { from } if node == b && from.id == a_id).then_some(())
        });
        self.cluster.command(b, move |node, now| node.accept_friend(now, a_id))?;
        self.cluster.wait_event(STEP_LIMIT, |node, event| {
            matches!(event, Event::FriendAccepted { friend } if node == a && *friend == b_id).then_some(())
        });
        Ok(())
    }

    fn hold_conference(
        &mut self,
        members: &[usize],
        dir: &Path,
        figures: &mut super::table::StepFigures,
    ) -> Result<(), String> {
        let started = Clock::now();
        // A small upload budget: the creator feeds two children, who feed the rest.
        self.cluster
            .query(CREATOR, |node, _, _| node.set_tree_children(CREATOR_CHILDREN).map_err(|e| e.to_string()))??;
        let session = self.cluster.command(CREATOR, |node, now| node.create_conference(now, "demo call"))?;
        let names: Vec<&str> = members.iter().map(|&m| self.users[m].name.as_str()).collect();
        println!(
            "  {} creates \"demo call\" (session {}…), feeding at most {CREATOR_CHILDREN} children, and invites {} (signed invitations)",
            self.users[CREATOR].name,
            &session.to_string()[..8],
            names.join(", ")
        );
        for &member in members {
            let id = self.cluster.locator(member).id;
            self.cluster.command(CREATOR, move |node, now| node.invite_to_conference(now, session, id))?;
        }
        // Each invitee joins; each admitted member finds its place in the tree.
        let mut places: BTreeMap<usize, (Id, u8, u32)> = BTreeMap::new();
        while places.len() < members.len() {
            let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match event {
                Event::Conference(e) if members.contains(&node) => Some((node, e.clone())),
                _ => None,
            });
            match event {
                Some((node, ConferenceEvent::Invited { session: s, .. })) if s == session => {
                    self.cluster.command(node, move |n, now| n.answer_invitation(now, session, true))?;
                }
                Some((node, ConferenceEvent::Attached { session: s, parent, depth, root_delay_us }))
                    if s == session =>
                {
                    places.insert(node, (parent, depth, root_delay_us));
                }
                Some(_) => {}
                None => break,
            }
        }
        for &member in members {
            figures.record_result(places.contains_key(&member), None, started.elapsed());
        }
        let tree: Vec<String> = places
            .iter()
            .map(|(&m, &(parent, depth, delay))| {
                let user = (0..self.users.len()).find(|&i| self.cluster.locator(i).id == parent);
                let parent = user.map_or_else(|| parent.to_string(), |p| self.users[p].name.clone());
                format!("{} under {parent} (depth {depth}, {:.2} ms)", self.users[m].name, delay as f64 / 1000.0)
            })
            .collect();
        println!(
            "  {} of {} joined, admitted under certificates, in the tree in {:.0} ms: {}",
            places.len(),
            members.len(),
            ms(started.elapsed()),
            tree.join("; ")
        );
        self.conference_chat(session, members, figures)?;
        self.conference_push(session, members, dir, false, figures)?;
        self.conference_push(session, members, dir, true, figures)
    }

    /// The first member says something; everyone else reads it once.
    fn conference_chat(
        &mut self,
        session: SessionId,
        members: &[usize],
        figures: &mut super::table::StepFigures,
    ) -> Result<(), String> {
        let speaker = members[0];
        let speaker_id = self.cluster.locator(speaker).id;
        let started = Clock::now();
        self.cluster.command(speaker, move |node, now| node.conference_say(now, session, "can you all hear me?"))?;
        let mut heard: HashMap<usize, u32> = HashMap::new();
        let listeners: Vec<usize> = [CREATOR].into_iter().chain(members.iter().copied().skip(1)).collect();
        while heard.values().sum::<u32>() < listeners.len() as u32 {
            let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match event {
                Event::Conference(ConferenceEvent::Chat { session: s, from, .. })
                    if *s == session && *from == speaker_id =>
                {
                    Some(node)
                }
                _ => None,
            });
            let Some(node) = event else { break };
            *heard.entry(node).or_default() += 1;
        }
        let took = started.elapsed();
        // Anything read twice would show in the next moments.
        let _ = self.cluster.wait_event(Duration::from_millis(200), |node, event| match event {
            Event::Conference(ConferenceEvent::Chat { from, .. }) if *from == speaker_id => {
                *heard.entry(node).or_default() += 1;
                None::<()>
            }
            _ => None,
        });
        let once = listeners.iter().filter(|l| heard.get(l) == Some(&1)).count();
        for listener in &listeners {
            figures.record_result(heard.get(listener) == Some(&1), None, took);
        }
        println!(
            "  {} says \"can you all hear me?\" (signed, along the tree): {once} of {} read it once, in {:.1} ms",
            self.users[speaker].name,
            listeners.len(),
            ms(took)
        );
        Ok(())
    }

    /// The creator pushes a file (or streams one); every member gets it
    /// whole, checked leaf by leaf, and a stream plays without a gap.
    fn conference_push(
        &mut self,
        session: SessionId,
        members: &[usize],
        dir: &Path,
        stream: bool,
        figures: &mut super::table::StepFigures,
    ) -> Result<(), String> {
        let (name, size, rate) =
            if stream { ("clip.webm", STREAM_SIZE, STREAM_RATE) } else { ("slides.pdf", PUSH_SIZE, PUSH_RATE) };
        let bytes: Vec<u8> = (0..size).map(|i| (self.rng.next_u64() >> (i % 56)) as u8).collect();
        let source = dir.join(format!("sent-{name}"));
        std::fs::write(&source, &bytes).map_err(|e| format!("{}: {e}", source.display()))?;
        let shared = SharedFile::hash(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let content = shared.content;
        self.cluster.disks[CREATOR].lock().served.insert(content, Arc::new(shared));
        for &member in members {
            let out = dir.join(&self.users[member].name);
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            self.cluster.disks[member].lock().conference_dir = Some(out);
        }
        let started = Clock::now();
        let transfer = self
            .cluster
            .command(CREATOR, move |node, now| node.conference_send(now, session, (content, name), rate, stream))?;
        let mut arrivals: HashMap<usize, Arrival> = members.iter().map(|&m| (m, Arrival::default())).collect();
        let finished = |a: &Arrival| if stream { a.missed.is_some() } else { a.done.is_some() };
        while !arrivals.values().all(finished) {
            let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match event {
                Event::Conference(e) if members.contains(&node) => Some((node, e.clone())),
                _ => None,
            });
            let Some((node, event)) = event else { break };
            let Some(arrival) = arrivals.get_mut(&node) else { continue };
            match event {
                ConferenceEvent::Offered { transfer: t, request, .. } if t == transfer => {
                    arrival.request = Some(request)
                }
                ConferenceEvent::Received { transfer: t, .. } if t == transfer => {
                    arrival.done = Some(started.elapsed())
                }
                ConferenceEvent::StreamStarted { transfer: t, startup, .. } if t == transfer => {
                    arrival.startup = Some(startup)
                }
                ConferenceEvent::StreamEnded { transfer: t, missed, .. } if t == transfer => {
                    (arrival.missed, arrival.done) = (Some(missed), Some(started.elapsed()))
                }
                _ => {}
            }
        }
        let mut intact = 0;
        for &member in members {
            let arrival = &arrivals[&member];
            let partial = arrival.request.and_then(|r| self.cluster.disks[member].lock().downloads.remove(&r));
            let written = partial.filter(|_| finished(arrival)).and_then(|p| p.finish().ok());
            let whole = written.and_then(|path| std::fs::read(path).ok()).is_some_and(|w| w == bytes);
            let ok = whole && (!stream || arrival.missed == Some(0));
            intact += usize::from(ok);
            figures.record_result(ok, None, arrival.done.unwrap_or(started.elapsed()));
        }
        self.cluster.disks[CREATOR].lock().served.remove(&content);
        let last = arrivals.values().filter_map(|a| a.done).max().unwrap_or_default();
        let kib = size / 1024;
        if stream {
            let startup = arrivals.values().filter_map(|a| a.startup).max().unwrap_or_default();
            let missed: u32 = arrivals.values().filter_map(|a| a.missed).sum();
            println!(
                "  {} streams {name} ({kib} KiB at {} KiB/s): {intact} of {} played it whole, start-up at most {:.0} ms (a 1 s playout buffer), {missed} leaves missed",
                self.users[CREATOR].name,
                rate / 1024,
                members.len(),
                ms(startup)
            );
        } else {
            println!(
                "  {} pushes {name} ({kib} KiB at {} MiB/s) down the tree: {intact} of {} have it, BLAKE3 intact, the last after {:.0} ms",
                self.users[CREATOR].name,
                rate >> 20,
                members.len(),
                ms(last)
            );
        }
        Ok(())
    }
}
