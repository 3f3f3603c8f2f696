//! `mmp2p demo`: a key node and 15 more nodes on [::1], real UDP sockets in
//! one process, taken through joins, an impostor refused, friends, shared files, searches,
//! lookups, a friend's file list, the messenger (requests, presence, chat
//! with receipts, a message delivered after a restart), a file fetched from
//! two owners and checked against its hash, a conference of six (chat, a
//! file pushed to all, a short stream), and two crashes, with a readable transcript
//! and a summary table. Every step checks its results against the true ring;
//! the exit status is 0 only if every step succeeded.

mod cluster;
mod conference;
mod messenger;
mod table;
mod transfer;

use clap::Args;
use cluster::{Cluster, ClusterError};
use mmp2p_core::rng::Rng;
use mmp2p_core::{Config, Event, Id, JoinFailure, RequestId, ResourceLocator};
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::{Duration, Instant as Clock};
use table::StepFigures;

/// Options of `mmp2p demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Nodes to start, the key node included.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(7..=64))]
    nodes: u16,
    /// Seed for friends, shared files, queries and the nodes' random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Friends each user adds (both ways).
const FRIENDS_PER_USER: usize = 3;
/// File names each user shares.
const FILES_PER_USER: usize = 3;
/// Nodes crashed in the failure step.
const CRASHES: usize = 2;
/// Longest wait for any step to converge.
const STEP_LIMIT: Duration = Duration::from_secs(6);

const USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia",
    "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda",
];

const FILES: &[&str] = &[
    "abbey-road.flac",
    "cat-video.mp4",
    "thesis-draft.pdf",
    "holiday-photos.zip",
    "rust-book.epub",
    "mixtape-1998.mp3",
    "recipe-lasagne.txt",
    "debian-13.iso",
    "budget-2026.ods",
    "lecture-07.mkv",
    "wedding-speech.odt",
    "map-of-berlin.png",
];

/// Timers scaled down for loopback, where a round trip takes microseconds:
/// a dead neighbour is noticed within about a second.
fn demo_config() -> Config {
    Config {
        request_timeout: Duration::from_millis(300),
        stabilise_interval: Duration::from_millis(250),
        probe_timeout: Duration::from_millis(150),
        hop_timeout: Duration::from_millis(100),
        friend_probe_interval: Duration::from_secs(2),
        dead_friend_probe_interval: Duration::from_secs(4),
        store_interval: Duration::from_secs(1),
        store_lifetime: Duration::from_secs(3),
        ..Config::default()
    }
}

/// Runs the demo; exit status 0 only if every step succeeded.
pub fn run(args: &DemoArgs) -> ExitCode {
    match Demo::new(args).and_then(|mut demo| demo.run()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("\ndemo FAILED: see the steps marked FAILED above");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A user of the demo: a node, its e-mail address, friends and files.
struct User {
    name: String,
    email: String,
    friends: Vec<usize>,
    files: Vec<&'static str>,
}

/// A search under way: who asked, for what, since when, and what came back.
struct OpenSearch {
    searcher: usize,
    file: &'static str,
    started: Clock,
    found: Vec<ResourceLocator>,
    hops: u8,
}

struct Demo {
    cluster: Cluster,
    users: Vec<User>,
    rng: Rng,
    steps: Vec<StepFigures>,
    started: Clock,
    seed: u64,
}

impl Demo {
    fn new(args: &DemoArgs) -> Result<Demo, ClusterError> {
        let started = Clock::now();
        let count = usize::from(args.nodes);
        let users: Vec<User> = (0..count)
            .map(|i| {
                let name = if i == 0 {
                    "key".to_owned()
                } else {
                    USERS.get(i - 1).map_or_else(|| format!("user{i}"), |n| (*n).to_owned())
                };
                let email = format!("{name}@example.org");
                User { name, email, friends: Vec::new(), files: Vec::new() }
            })
            .collect();
        let ids: Vec<Id> =
            (0..count).map(|i| if i == 0 { Id::KEY_NODE } else { Id::from_email(&users[i].email) }).collect();
        // One standby node: an impostor claiming alice's address with another key.
        let cluster = Cluster::start(&ids, &[ids[1]], demo_config(), args.seed)?;
        let steps = Vec::new();
        Ok(Demo { cluster, users, rng: Rng::new(args.seed), steps, started, seed: args.seed })
    }

    fn run(&mut self) -> Result<bool, ClusterError> {
        let n = self.users.len();
        println!("MMP2P demo: {n} nodes on [::1], real UDP sockets in one process (seed {})", self.seed);
        let key = self.cluster.locator(0);
        println!("key node listening on {} (ID 0); users listen on ports {}..", key.addr, self.port_range());
        self.join()?;
        self.impostor()?;
        self.friends()?;
        self.share()?;
        self.search("search", (1..n).collect())?;
        self.lookup()?;
        self.file_list()?;
        self.friend_requests()?;
        self.presence()?;
        self.chat()?;
        self.offline_message()?;
        self.transfer()?;
        self.conference()?;
        self.crash()?;
        let live: Vec<usize> = self.cluster.live().filter(|&i| i != 0).collect();
        self.search("search after crash", live)?;
        let elapsed = self.started.elapsed();
        println!();
        println!("{}", table::render(&self.steps));
        let datagrams: u64 = self.steps.iter().map(|s| s.datagrams).sum();
        println!(
            "{} nodes ({} crashed), {} datagrams, {:.2} s",
            n,
            self.cluster.removed.len(),
            datagrams,
            elapsed.as_secs_f64()
        );
        self.cluster.shutdown();
        Ok(self.steps.iter().all(StepFigures::succeeded))
    }

    fn port_range(&self) -> String {
        let ports: Vec<u16> = self.cluster.nodes.iter().skip(1).map(|(_, l)| l.addr.port()).collect();
        format!("{}-{}", ports.iter().min().unwrap_or(&0), ports.iter().max().unwrap_or(&0))
    }

    /// A name for the node at `locator`, for the transcript.
    fn who(&self, locator: &ResourceLocator) -> String {
        match self.cluster.nodes.iter().position(|(_, l)| l == locator) {
            Some(index) => self.users[index].name.clone(),
            None => format!("{}", locator.addr),
        }
    }

    /// Starts a step: its heading and figures, with the datagram count so far.
    fn begin(&self, title: &str) -> Result<(StepFigures, Vec<u64>), ClusterError> {
        println!("\n== {title} ==");
        Ok((StepFigures::new(title), self.cluster.datagrams_sent()?))
    }

    /// Ends a step: counts the datagrams live nodes sent during it.
    fn end(&mut self, mut figures: StepFigures, before: Vec<u64>) -> Result<(), ClusterError> {
        let after = self.cluster.datagrams_sent()?;
        figures.datagrams = self.cluster.live().map(|i| after[i].saturating_sub(before[i])).sum();
        if !figures.succeeded() {
            println!("  step FAILED: {} of {} succeeded", figures.ok, figures.ops);
        }
        self.steps.push(figures);
        Ok(())
    }

    fn join(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("join")?;
        self.cluster.query(0, |node, _, _| node.found_ring())?;
        let key = self.cluster.locator(0).addr;
        for index in 1..self.users.len() {
            let started = Clock::now();
            let request = self.cluster.request(index, move |node, now| node.join(now, key))?;
            let joined = self.cluster.wait_event(STEP_LIMIT, |node, event| match *event {
                Event::Joined { request: r, left, right, hops } if node == index && r == request => {
                    Some(Some((left, right, hops)))
                }
                Event::JoinFailed { request: r, .. } if node == index && r == request => Some(None),
                _ => None,
            });
            match joined.flatten() {
                Some((left, right, hops)) => {
                    figures.record(Some(hops), started.elapsed());
                    println!(
                        "  {:<8} joined in {hops} hops, {:>6.2} ms: between {} and {}",
                        self.users[index].name,
                        ms(started.elapsed()),
                        self.who(&left),
                        self.who(&right)
                    );
                }
                None => {
                    figures.fail();
                    println!("  {} could not join", self.users[index].name);
                }
            }
        }
        let settled = self.cluster.wait_until(STEP_LIMIT, |c| c.ring_is_consistent())?;
        match settled {
            Some(took) => {
                println!("  ring checked: every node's right neighbour is its true successor ({:.1} ms)", ms(took))
            }
            None => {
                figures.fail();
                println!("  ring NOT consistent after {} s", STEP_LIMIT.as_secs());
            }
        }
        self.end(figures, before)
    }

    /// A node with alice's ID but another key (her e-mail address, another
    /// password) tries to join: it is refused as a duplicated identifier,
    /// and alice is told.
    fn impostor(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("impostor refused")?;
        let (impostor, alice) = (self.users.len(), 1);
        let key = self.cluster.locator(0).addr;
        let started = Clock::now();
        let request = self.cluster.request(impostor, move |node, now| node.join(now, key))?;
        let (mut refused, mut told) = (None, false);
        self.cluster.wait_event(STEP_LIMIT, |node, event| {
            match *event {
                Event::JoinFailed { request: r, reason } if node == impostor && r == request => {
                    refused = Some(reason == JoinFailure::IdRegistered)
                }
                Event::Joined { request: r, .. } if node == impostor && r == request => refused = Some(false),
                Event::IdentityClaimed { .. } if node == alice => told = true,
                _ => {}
            }
            (refused.is_some() && told || refused == Some(false)).then_some(())
        });
        let ok = refused == Some(true) && told;
        figures.record_result(ok, None, started.elapsed());
        println!(
            "  {}@example.org claimed with another password: {} in {:.2} ms; {} {}",
            self.users[alice].name,
            if refused == Some(true) { "refused as a duplicated identifier" } else { "NOT refused" },
            ms(started.elapsed()),
            self.users[alice].name,
            if told { "was told" } else { "was NOT told" }
        );
        self.cluster.dismiss(impostor);
        self.end(figures, before)
    }

    fn friends(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("friends")?;
        let n = self.users.len();
        for index in 1..n {
            while self.users[index].friends.len() < FRIENDS_PER_USER.min(n - 2) {
                let other = 1 + self.rng.below(n as u64 - 1) as usize;
                if other != index && !self.users[index].friends.contains(&other) {
                    self.users[index].friends.push(other);
                    self.users[other].friends.push(index);
                }
            }
        }
        for index in 1..n {
            for &friend in &self.users[index].friends.clone() {
                let locator = self.cluster.locator(friend);
                let added = self.cluster.query(index, move |node, _, now| node.add_friend(now, locator))?;
                figures.record_result(added.is_ok(), None, Duration::ZERO);
            }
            let names: Vec<&str> = self.users[index].friends.iter().map(|&f| self.users[f].name.as_str()).collect();
            println!("  {:<8} friends: {}", self.users[index].name, names.join(", "));
        }
        self.end(figures, before)
    }

    fn share(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("share")?;
        for index in 1..self.users.len() {
            while self.users[index].files.len() < FILES_PER_USER {
                let file = FILES[self.rng.below(FILES.len() as u64) as usize];
                if !self.users[index].files.contains(&file) {
                    self.users[index].files.push(file);
                }
            }
            let files = self.users[index].files.clone();
            let shared = self.cluster.query(index, move |node, _, now| node.share(now, files.iter().copied()))?;
            figures.record_result(shared.is_ok(), None, Duration::ZERO);
            println!("  {:<8} shares {}", self.users[index].name, self.users[index].files.join(", "));
        }
        let ready = self.wait_for_verified_stores(false)?;
        match ready {
            Some(took) => println!(
                "  every (file, owner) pair is stored, owner address verified, at the responsible node ({:.1} ms)",
                ms(took)
            ),
            None => {
                figures.fail();
                println!("  STOREs NOT all verified after {} s", STEP_LIMIT.as_secs());
            }
        }
        self.end(figures, before)
    }

    /// Waits until the responsible node of every live owner's file holds that
    /// owner's locator, verified (with `copies`, its successor holds a copy too).
    fn wait_for_verified_stores(&mut self, copies: bool) -> Result<Option<Duration>, ClusterError> {
        let pairs: Vec<(Id, ResourceLocator)> = self
            .cluster
            .live()
            .flat_map(|i| self.users[i].files.iter().map(move |f| (Id::from_file_name(f), i)))
            .map(|(key, i)| (key, self.cluster.locator(i)))
            .collect();
        self.cluster.wait_until(STEP_LIMIT, |c| {
            for &(key, owner) in &pairs {
                let responsible = c.responsible(key);
                let holders = if copies { vec![responsible, c.successor(responsible)] } else { vec![responsible] };
                for holder in holders {
                    let held = c.query(holder, move |node, _, _| {
                        node.store().owners(key).any(|e| e.owner == owner && e.verified)
                    })?;
                    if !held {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        })
    }

    /// The live owners of `file`.
    fn owners(&self, file: &str) -> HashSet<ResourceLocator> {
        self.cluster.live().filter(|&i| self.users[i].files.contains(&file)).map(|i| self.cluster.locator(i)).collect()
    }

    /// Every searcher searches a file someone else shares; each must find
    /// every live owner.
    fn search(&mut self, title: &str, searchers: Vec<usize>) -> Result<(), ClusterError> {
        if title != "search" {
            // Owners whose files the crashed nodes held must be back at their new responsible nodes.
            let ready = self.wait_for_verified_stores(false)?;
            if let Some(took) = ready {
                println!(
                    "  every live owner's files are held, verified, by their new responsible nodes ({:.1} ms)",
                    ms(took)
                );
            }
        }
        let (mut figures, before) = self.begin(title)?;
        let shared: Vec<&'static str> = FILES.iter().copied().filter(|f| !self.owners(f).is_empty()).collect();
        let mut open: HashMap<(usize, RequestId), OpenSearch> = HashMap::new();
        for (turn, &searcher) in searchers.iter().enumerate() {
            let file = shared[(turn + self.rng.below(shared.len() as u64) as usize) % shared.len()];
            let request = self.cluster.request(searcher, move |node, now| node.search(now, file))?;
            open.insert(
                (searcher, request),
                OpenSearch { searcher, file, started: Clock::now(), found: Vec::new(), hops: 0 },
            );
        }
        while !open.is_empty() {
            let outcome = self.cluster.wait_event(STEP_LIMIT, |node, event| match *event {
                Event::SearchResult { request, owner, hops, .. } => Some((node, request, Some((owner, hops)), false)),
                Event::SearchComplete { request, .. } => Some((node, request, None, true)),
                Event::SearchFailed { request, .. } => Some((node, request, None, false)),
                _ => None,
            });
            let Some((node, request, result, complete)) = outcome else { break };
            let Some(entry) = open.get_mut(&(node, request)) else { continue };
            if let Some((owner, hops)) = result {
                entry.found.push(owner);
                entry.hops = entry.hops.max(hops);
                continue;
            }
            let OpenSearch { searcher, file, started, found, hops } = open.remove(&(node, request)).expect("present");
            let expected = self.owners(file);
            let found_set: HashSet<ResourceLocator> = found.iter().copied().collect();
            let ok = complete && expected.is_subset(&found_set);
            figures.record_result(ok, Some(hops), started.elapsed());
            // A crashed owner stays listed until its locator expires (three STORE periods).
            let names: Vec<String> = found
                .iter()
                .map(|o| if expected.contains(o) { self.who(o) } else { format!("{} (crashed)", self.who(o)) })
                .collect();
            let verdict = if ok { "" } else { "  FAILED: expected every live owner" };
            println!(
                "  {:<8} search {:<20} {} hops {:>6.2} ms: {}{verdict}",
                self.users[searcher].name,
                file,
                hops,
                ms(started.elapsed()),
                names.join(", ")
            );
        }
        for OpenSearch { searcher, file, .. } in open.into_values() {
            figures.fail();
            println!("  {:<8} search {file}: no answer  FAILED", self.users[searcher].name);
        }
        self.end(figures, before)
    }

    /// Every user looks up the next user's ID: the answer must be that user.
    fn lookup(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("lookup")?;
        let n = self.users.len();
        for index in 1..n {
            let target = if index + 1 < n { index + 1 } else { 1 };
            let key = self.cluster.locator(target).id;
            let started = Clock::now();
            let request = self.cluster.request(index, move |node, now| node.lookup(now, key))?;
            let answer = self.cluster.wait_event(STEP_LIMIT, |node, event| match *event {
                Event::LookupSucceeded { request: r, responsible, hops, .. } if node == index && r == request => {
                    Some(Some((responsible, hops)))
                }
                Event::LookupFailed { request: r, .. } if node == index && r == request => Some(None),
                _ => None,
            });
            let expected = self.cluster.locator(target);
            let ok = matches!(answer, Some(Some((responsible, _))) if responsible == expected);
            let hops = answer.flatten().map(|(_, hops)| hops);
            figures.record_result(ok, hops, started.elapsed());
            println!(
                "  {:<8} lookup {:<22} {} hops {:>6.2} ms: {}{}",
                self.users[index].name,
                self.users[target].email,
                hops.map_or("-".to_owned(), |h| h.to_string()),
                ms(started.elapsed()),
                answer.flatten().map_or("no answer".to_owned(), |(r, _)| self.who(&r)),
                if ok { "" } else { "  FAILED" }
            );
        }
        self.end(figures, before)
    }

    /// The first user lists each friend's shared files.
    fn file_list(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("friend's file list")?;
        let asker = 1;
        for friend in self.users[asker].friends.clone() {
            let id = self.cluster.locator(friend).id;
            let started = Clock::now();
            let request = self.cluster.request(asker, move |node, now| node.list_files(now, id))?;
            let mut names = Vec::new();
            let complete = loop {
                let event = self.cluster.wait_event(STEP_LIMIT, |node, event| match event {
                    Event::FileListed { request: r, name, .. } if node == asker && *r == request => {
                        Some(Some(name.as_str().to_owned()))
                    }
                    Event::FileListComplete { request: r, .. } if node == asker && *r == request => Some(None),
                    Event::FileListFailed { request: r, .. } if node == asker && *r == request => {
                        Some(Some(String::new()))
                    }
                    _ => None,
                });
                match event {
                    Some(Some(name)) if !name.is_empty() => names.push(name),
                    Some(None) => break true,
                    _ => break false,
                }
            };
            let mut expected: Vec<String> = self.users[friend].files.iter().map(|f| (*f).to_owned()).collect();
            expected.sort();
            names.sort();
            let ok = complete && names == expected;
            figures.record_result(ok, None, started.elapsed());
            println!(
                "  {} lists {}'s files in {:.2} ms: {}{}",
                self.users[asker].name,
                self.users[friend].name,
                ms(started.elapsed()),
                names.join(", "),
                if ok { "" } else { "  FAILED" }
            );
        }
        self.end(figures, before)
    }

    /// Two users' nodes crash (no LEAVE); the ring must repair itself.
    fn crash(&mut self) -> Result<(), ClusterError> {
        let (mut figures, before) = self.begin("crash two nodes")?;
        let n = self.users.len();
        let mut victims = Vec::new();
        while victims.len() < CRASHES {
            // Never the key node or the first user (whose friends were listed).
            let victim = 2 + self.rng.below(n as u64 - 2) as usize;
            if !victims.contains(&victim) {
                victims.push(victim);
            }
        }
        match self.wait_for_verified_stores(true)? {
            Some(took) => println!(
                "  every locator is copied to the responsible node's successor by replication ({:.0} ms)",
                ms(took)
            ),
            None => {
                figures.fail();
                println!("  locators NOT replicated after {} s", STEP_LIMIT.as_secs());
            }
        }
        let started = Clock::now();
        for &victim in &victims {
            self.cluster.remove(victim);
            println!("  {} ({}) crashed", self.users[victim].name, self.cluster.locator(victim).addr);
        }
        let repaired = self.cluster.wait_until(STEP_LIMIT, |c| c.ring_is_consistent())?.map(|_| started.elapsed());
        for (reporter, peer) in self.cluster.peers_down.clone() {
            println!("  {:<8} reports peer down: {}", self.users[reporter].name, self.who(&peer));
        }
        for _ in &victims {
            figures.record_result(repaired.is_some(), None, started.elapsed());
        }
        match repaired {
            Some(took) => {
                println!(
                    "  ring repaired in {:.0} ms: every live node's right neighbour is its true successor",
                    ms(took)
                )
            }
            None => println!("  ring NOT repaired after {} s", STEP_LIMIT.as_secs()),
        }
        self.end(figures, before)
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
