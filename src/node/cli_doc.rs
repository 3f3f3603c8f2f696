//! Checks `docs/cli.md` against the code, so the reference cannot drift.
//!
//! Every ```` ```json command ```` block must be a line the node accepts as a
//! command, and every command must have one. Every ```` ```json event ````
//! block must name a [`Report`] variant and carry exactly the fields that a
//! real report of that variant serializes to (nested objects and array
//! elements included), and every variant must have one.

use super::conference_report::ConferenceMember;
use super::control::{self, COMMANDS};
use super::report::{
    ConferenceEntry, ContactEntry, ContentEntry, Counters, FriendEntry, GroupEntry, HelpEntry, HistoryLine, Peer,
    Report, RequestEntry, SocketCounters, TransferEntry,
};
use mmp2p_core::{DropReason, Stats};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../../docs/cli.md");
const REPORT_SOURCE: &str = include_str!("report.rs");

/// The BLAKE3 root of the sample download.
const ROOT: &str = "5b9e7e2d0bd86a56c1b4b36e4eb31ec1ec5bdc4a7bc11afe1a5c2b32e3d1b4cc";

/// The session of the sample conference.
const SESSION: &str = "6f1c0e4a9b2d7e3f8a5c1b0d2e4f6a8c";
/// The number of the sample conference transfer.
const TRANSFER: &str = "9f3a5c7e1b2d4f60";

/// The info string of command examples.
const COMMAND_BLOCK: &str = "json command";
/// The info string of report examples.
const EVENT_BLOCK: &str = "json event";

/// Fields a documented example may show as `null` (they are `Option`s).
const NULLABLE: &[&str] = &["req", "left", "right", "neighbour", "email", "eta_ms", "member", "parent"];
/// Fields whose keys are data, not names: reason → count.
const MAPS: &[&str] = &["dropped"];

/// A fenced code block of the document.
struct Block {
    /// Its info string, e.g. `json event`.
    info: String,
    /// The line of its opening fence, from 1.
    line: usize,
    /// Its contents.
    text: String,
}

impl Block {
    /// The block's one non-blank line: a command or a report is one line.
    fn single_line(&self) -> Result<&str, String> {
        let lines: Vec<&str> = self.text.lines().filter(|l| !l.trim().is_empty()).collect();
        match lines[..] {
            [line] => Ok(line.trim()),
            _ => Err(format!("docs/cli.md:{}: a `{}` block must hold exactly one line", self.line, self.info)),
        }
    }
}

/// The fenced code blocks of `doc`, in order.
fn blocks(doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in doc.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block { info: info.trim().to_owned(), line: index + 1, text: String::new() })
            }
            (None, None) => {}
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
        }
    }
    assert!(open.is_none(), "docs/cli.md ends inside a code block");
    blocks
}

/// The JSON blocks with info string `info`; any other `json…` info string is
/// a mistake (the test would silently skip the block).
fn json_blocks(info: &str) -> Vec<Block> {
    let all = blocks(DOC);
    for block in &all {
        assert!(
            !block.info.starts_with("json") || block.info == COMMAND_BLOCK || block.info == EVENT_BLOCK,
            "docs/cli.md:{}: info string `{}`: JSON examples are `{COMMAND_BLOCK}` or `{EVENT_BLOCK}`",
            block.line,
            block.info
        );
    }
    all.into_iter().filter(|b| b.info == info).collect()
}

/// The sample report after `previous` (the first one for `None`), `None`
/// after the last. The match has no wildcard arm, so a new [`Report`] variant
/// does not compile until it has an arm here; give it a sample and link it
/// into the chain.
fn next_sample(previous: Option<&Report>) -> Option<Report> {
    let peer = || Peer { id: "10ac39056a4b6f1f6804d724518ff2dc".to_owned(), addr: "[::1]:4001".to_owned() };
    let req = Some(1);
    let email = || Some("bob@example.org".to_owned());
    Some(match previous {
        None => Report::Listening {
            addr: "[::1]:4001".to_owned(),
            id: peer().id,
            key: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c".to_owned(),
            key_node: false,
        },
        Some(Report::Listening { .. }) => Report::Joined { left: Some(peer()), right: Some(peer()), hops: 1 },
        Some(Report::Joined { .. }) => Report::JoinFailed { reason: "timeout", retry_in_ms: 10_000 },
        Some(Report::JoinFailed { .. }) => Report::Help {
            req,
            commands: COMMANDS.iter().map(|&(cmd, args, about)| HelpEntry { cmd, args, about }).collect(),
        },
        Some(Report::Help { .. }) => Report::Status {
            req,
            id: peer().id,
            addr: peer().addr,
            state: "joined",
            left: Some(peer()),
            right: Some(peer()),
            friends: 1,
            shared: 2,
            stored: 3,
        },
        Some(Report::Status { .. }) => Report::Neighbours { req, left: vec![peer()], right: vec![peer()] },
        Some(Report::Neighbours { .. }) => Report::Friends {
            req,
            friends: vec![FriendEntry {
                email: Some("alice@example.org".to_owned()),
                id: peer().id,
                addr: peer().addr,
                alive: true,
            }],
        },
        Some(Report::Friends { .. }) => {
            Report::FriendAdded { req, email: "alice@example.org".to_owned(), friend: peer() }
        }
        Some(Report::FriendAdded { .. }) => Report::Shared { req, names: vec!["song.mp3".to_owned()] },
        Some(Report::Shared { .. }) => Report::SearchResult {
            req,
            name: "song.mp3".to_owned(),
            key: "b3ba91ed867f9a6a9442974d22f9e7df".to_owned(),
            owner: peer(),
            hops: 1,
        },
        Some(Report::SearchResult { .. }) => Report::SearchDone { req, name: "song.mp3".to_owned(), owners: 1, ms: 2 },
        Some(Report::SearchDone { .. }) => Report::SearchFailed { req, name: "song.mp3".to_owned() },
        Some(Report::SearchFailed { .. }) => {
            Report::File { req, friend: "alice@example.org".to_owned(), name: "song.mp3".to_owned() }
        }
        Some(Report::File { .. }) => Report::FilesDone { req, friend: "alice@example.org".to_owned(), files: 1 },
        Some(Report::FilesDone { .. }) => Report::FilesFailed { req, friend: "alice@example.org".to_owned() },
        Some(Report::FilesFailed { .. }) => {
            Report::LookupResult { req, key: peer().id, responsible: peer(), hops: 1, ms: 2 }
        }
        Some(Report::LookupResult { .. }) => Report::LookupFailed { req, key: peer().id },
        Some(Report::LookupFailed { .. }) => Report::Pong { req, addr: peer().addr, rtt_us: 150 },
        Some(Report::Pong { .. }) => Report::PingFailed { req, addr: peer().addr },
        Some(Report::PingFailed { .. }) => Report::Stats {
            req,
            counters: Box::new(Counters {
                core: Stats::default(),
                dropped: BTreeMap::from([(DropReason::HopLimitExceeded.to_string(), 1)]),
                socket: SocketCounters {
                    socket_sent: 1,
                    socket_received: 2,
                    send_errors: 0,
                    receive_errors: 0,
                    oversized: 0,
                    not_ipv6: 0,
                },
            }),
        },
        Some(Report::Stats { .. }) => Report::Left { req },
        Some(Report::Left { .. }) => Report::Bye { req },
        Some(Report::Bye { .. }) => Report::PeerDown { peer: peer() },
        Some(Report::PeerDown { .. }) => Report::PeerUp { peer: peer() },
        Some(Report::PeerUp { .. }) => Report::LinkDown,
        Some(Report::LinkDown) => Report::LinkUp,
        Some(Report::LinkUp) => Report::IdentityClaimed { claimant: "[::1]:4002".to_owned() },
        Some(Report::IdentityClaimed { .. }) => Report::TakenOver { by: "[::1]:4003".to_owned() },
        Some(Report::TakenOver { .. }) => Report::NeighbourChanged { side: "left", neighbour: Some(peer()) },
        Some(Report::NeighbourChanged { .. }) => Report::NeighbourUnreachable { peer: peer() },
        Some(Report::NeighbourUnreachable { .. }) => Report::Error { req, message: "not a friend".to_owned() },
        Some(Report::Error { .. }) => Report::FriendRequest { from: peer(), text: "hi, it's bob".to_owned() },
        Some(Report::FriendRequest { .. }) => Report::FriendAccepted { friend: peer().id, email: email() },
        Some(Report::FriendAccepted { .. }) => Report::FriendDeclined { friend: peer().id, email: email() },
        Some(Report::FriendDeclined { .. }) => Report::Unfriended { friend: peer().id, email: email() },
        Some(Report::Unfriended { .. }) => Report::Done { req, cmd: "accept", friend: peer().id },
        Some(Report::Done { .. }) => Report::Requests {
            req,
            incoming: vec![RequestEntry { id: peer().id, email: email(), text: "hi, it's bob".to_owned() }],
            outgoing: vec![RequestEntry { id: peer().id, email: email(), text: "hello".to_owned() }],
            blocked: vec![peer().id],
        },
        Some(Report::Requests { .. }) => Report::Contacts {
            req,
            contacts: vec![ContactEntry {
                email: email(),
                id: peer().id,
                addr: peer().addr,
                status: "away",
                text: "lunch".to_owned(),
                group: Some("family".to_owned()),
                undelivered: 0,
            }],
        },
        Some(Report::Contacts { .. }) => {
            Report::Presence { friend: peer().id, email: email(), status: "away", text: "lunch".to_owned() }
        }
        Some(Report::Presence { .. }) => Report::PresenceSet { req, status: "busy", text: "writing".to_owned() },
        Some(Report::PresenceSet { .. }) => Report::Said { req, friend: peer().id, seq: 1 },
        Some(Report::Said { .. }) => {
            Report::Message { from: peer().id, email: email(), seq: 1, text: "hello".to_owned() }
        }
        Some(Report::Message { .. }) => Report::Delivered { friend: peer().id, seq: 1 },
        Some(Report::Delivered { .. }) => Report::History {
            req,
            friend: peer().id,
            messages: vec![HistoryLine {
                outgoing: true,
                seq: 1,
                text: "hello".to_owned(),
                at_ms: 1_764_590_400_000,
                delivered: true,
            }],
        },
        Some(Report::History { .. }) => Report::Groups {
            req,
            groups: vec![GroupEntry { name: "family".to_owned(), members: vec!["bob@example.org".to_owned()] }],
            ungrouped: vec![peer().id],
        },
        Some(Report::Groups { .. }) => Report::Contents {
            req,
            name: "movie.bin".to_owned(),
            contents: vec![ContentEntry { root: ROOT.to_owned(), size: 33_554_432, owners: 2 }],
        },
        Some(Report::Contents { .. }) => Report::GetStarted {
            req,
            id: 1,
            name: "movie.bin".to_owned(),
            root: ROOT.to_owned(),
            size: 33_554_432,
            owners: 2,
            path: "out/movie.bin".to_owned(),
            resumed: 0,
        },
        Some(Report::GetStarted { .. }) => Report::GetProgress {
            id: 1,
            name: "movie.bin".to_owned(),
            bytes: 16_777_216,
            size: 33_554_432,
            rate: 8_388_608,
            eta_ms: Some(2000),
            owners: 2,
        },
        Some(Report::GetProgress { .. }) => Report::LeafRejected { id: 1, leaf: 17, from: peer().addr },
        Some(Report::LeafRejected { .. }) => Report::GetDone {
            req,
            id: 1,
            name: "movie.bin".to_owned(),
            path: "out/movie.bin".to_owned(),
            root: ROOT.to_owned(),
            size: 33_554_432,
            ms: 4000,
        },
        Some(Report::GetDone { .. }) => {
            Report::GetFailed { req, name: "movie.bin".to_owned(), reason: "no owner found".to_owned() }
        }
        Some(Report::GetFailed { .. }) => Report::Transfers {
            req,
            downloads: vec![TransferEntry {
                id: 1,
                name: "movie.bin".to_owned(),
                bytes: 16_777_216,
                size: 33_554_432,
                owners: 2,
            }],
            uploads: 1,
        },
        Some(Report::Transfers { .. }) => Report::Conferences {
            req,
            conferences: vec![ConferenceEntry {
                session: SESSION.to_owned(),
                name: "weekly".to_owned(),
                role: "member",
                creator: peer().id,
                members: vec![ConferenceMember { id: peer().id, email: email(), joined: true }],
                parent: Some(peer().id),
                depth: 1,
                children: vec![peer().id],
                transfers: 1,
            }],
        },
        Some(Report::Conferences { .. }) => {
            Report::ConferenceCreated { req, session: SESSION.to_owned(), name: "weekly".to_owned() }
        }
        Some(Report::ConferenceCreated { .. }) => {
            Report::ConferenceDone { req, cmd: "conf-invite", session: SESSION.to_owned(), member: email() }
        }
        Some(Report::ConferenceDone { .. }) => Report::ConferenceSaid { req, session: SESSION.to_owned(), seq: 1 },
        Some(Report::ConferenceSaid { .. }) => Report::ConferenceSending {
            req,
            session: SESSION.to_owned(),
            transfer: TRANSFER.to_owned(),
            name: "talk.pdf".to_owned(),
            size: 1_048_576,
            rate: 1_048_576,
            stream: false,
        },
        Some(Report::ConferenceSending { .. }) => Report::ConferenceInvited {
            session: SESSION.to_owned(),
            name: "weekly".to_owned(),
            creator: peer().id,
            email: email(),
        },
        Some(Report::ConferenceInvited { .. }) => {
            Report::ConferenceInviteFailed { session: SESSION.to_owned(), member: peer().id }
        }
        Some(Report::ConferenceInviteFailed { .. }) => {
            Report::ConferenceAnswered { session: SESSION.to_owned(), member: peer().id, email: email(), joined: true }
        }
        Some(Report::ConferenceAnswered { .. }) => Report::ConferenceAdmitted { session: SESSION.to_owned() },
        Some(Report::ConferenceAdmitted { .. }) => {
            Report::ConferenceMemberLeft { session: SESSION.to_owned(), member: peer().id, removed: false }
        }
        Some(Report::ConferenceMemberLeft { .. }) => {
            Report::ConferenceLeft { session: SESSION.to_owned(), reason: "ended" }
        }
        Some(Report::ConferenceLeft { .. }) => Report::ConferenceAttached {
            session: SESSION.to_owned(),
            parent: peer().id,
            depth: 2,
            root_delay_us: 41_000,
        },
        Some(Report::ConferenceAttached { .. }) => {
            Report::ConferenceOrphaned { session: SESSION.to_owned(), parent: peer().id }
        }
        Some(Report::ConferenceOrphaned { .. }) => Report::ConferenceChat {
            session: SESSION.to_owned(),
            from: peer().id,
            email: email(),
            seq: 1,
            text: "hello all".to_owned(),
        },
        Some(Report::ConferenceChat { .. }) => Report::ConferenceOffered {
            session: SESSION.to_owned(),
            transfer: TRANSFER.to_owned(),
            from: peer().id,
            name: "talk.pdf".to_owned(),
            size: 1_048_576,
            rate: 1_048_576,
            stream: false,
            path: "out/talk.pdf".to_owned(),
        },
        Some(Report::ConferenceOffered { .. }) => Report::ConferenceReceived {
            session: SESSION.to_owned(),
            transfer: TRANSFER.to_owned(),
            path: "out/talk.pdf".to_owned(),
            size: 1_048_576,
            ms: 1100,
        },
        Some(Report::ConferenceReceived { .. }) => Report::ConferenceStreamStarted {
            session: SESSION.to_owned(),
            transfer: TRANSFER.to_owned(),
            startup_ms: 1250,
        },
        Some(Report::ConferenceStreamStarted { .. }) => Report::ConferenceStreamEnded {
            session: SESSION.to_owned(),
            transfer: TRANSFER.to_owned(),
            played: 512,
            missed: 0,
            path: "out/clip.webm".to_owned(),
        },
        Some(Report::ConferenceStreamEnded { .. }) => {
            Report::ConferenceSent { session: SESSION.to_owned(), transfer: TRANSFER.to_owned() }
        }
        Some(Report::ConferenceSent { .. }) => return None,
    })
}

/// One sample of every report, serialized, by event name.
fn samples() -> BTreeMap<String, Value> {
    let mut reports: Vec<Report> = Vec::new();
    while let Some(next) = next_sample(reports.last()) {
        let kind = std::mem::discriminant(&next);
        assert!(
            reports.iter().all(|r| std::mem::discriminant(r) != kind),
            "the sample chain comes back to {next:?}: link every variant once"
        );
        reports.push(next);
    }
    reports
        .iter()
        .map(|report| {
            let value = serde_json::to_value(report).expect("a report serializes");
            let name = value["event"].as_str().expect("a report has an event name").to_owned();
            (name, value)
        })
        .collect()
}

/// The event names of the variants declared in `report.rs`, as serde names
/// them (`rename_all = "snake_case"`): a cross-check that the sample chain
/// reaches every variant.
fn declared_events() -> BTreeSet<String> {
    let body = REPORT_SOURCE.split_once("pub enum Report {").expect("report.rs declares Report").1;
    let body = body.split_once("\n}").expect("Report's declaration ends").0;
    body.lines()
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| {
            let name: String = line.chars().take_while(char::is_ascii_alphanumeric).collect();
            let mut snake = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            snake
        })
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Notes every way `doc` (a documented value at `path`) differs in shape from
/// `sample` (the same field of a real report).
fn compare(doc: &Value, sample: &Value, path: &str, problems: &mut Vec<String>) {
    let field = path.rsplit(['.', '[']).next().unwrap_or(path);
    let at = if path.is_empty() { "the report" } else { path };
    match (doc, sample) {
        (_, Value::Null) => problems.push(format!("{at}: the test's sample is null; give it a value")),
        (Value::Null, sample) if NULLABLE.contains(&field) && !sample.is_array() => {}
        (Value::Object(doc), Value::Object(_)) if MAPS.contains(&field) => {
            let reasons: BTreeSet<String> = DropReason::all().map(|r| r.to_string()).collect();
            for (key, count) in doc {
                if !reasons.contains(key) {
                    problems.push(format!("{at}: {key:?} is not a drop reason"));
                }
                if !count.is_u64() {
                    problems.push(format!("{at}.{key}: a count is a number"));
                }
            }
        }
        (Value::Object(doc), Value::Object(sample)) => {
            for key in sample.keys().filter(|k| !doc.contains_key(*k)) {
                problems.push(format!("{at}: field {key:?} is missing"));
            }
            for (key, value) in doc {
                let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match sample.get(key) {
                    Some(expected) => compare(value, expected, &inner, problems),
                    None => problems.push(format!("{at}: field {key:?} is not in this report")),
                }
            }
        }
        (Value::Array(doc), Value::Array(sample)) => match sample.first() {
            Some(first) => {
                for (i, element) in doc.iter().enumerate() {
                    compare(element, first, &format!("{path}[{i}]"), problems);
                }
            }
            None => problems.push(format!("{at}: the test's sample has an empty array; give it an element")),
        },
        (doc, sample) if kind(doc) != kind(sample) => {
            problems.push(format!("{at}: {} where the report has {}", kind(doc), kind(sample)));
        }
        _ => {}
    }
}

#[test]
fn every_report_variant_has_a_sample() {
    let sampled: BTreeSet<String> = samples().into_keys().collect();
    assert_eq!(
        declared_events(),
        sampled,
        "the variants declared in report.rs and the samples of next_sample() differ (link new variants into the chain)"
    );
}

#[test]
fn documented_commands_are_accepted() {
    let mut problems = Vec::new();
    let mut documented = BTreeSet::new();
    for block in json_blocks(COMMAND_BLOCK) {
        let line = match block.single_line() {
            Ok(line) => line,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        match control::parse_json(line) {
            Some(Ok(_)) => {}
            other => problems.push(format!("docs/cli.md:{}: {line} is refused: {other:?}", block.line)),
        }
        if let Some(cmd) = serde_json::from_str::<Value>(line).ok().and_then(|v| v["cmd"].as_str().map(str::to_owned)) {
            documented.insert(cmd);
        }
    }
    for (cmd, _, _) in COMMANDS {
        if !documented.contains(*cmd) {
            problems.push(format!("command {cmd:?} has no `{COMMAND_BLOCK}` example"));
        }
    }
    assert!(problems.is_empty(), "docs/cli.md and the commands differ:\n{}", problems.join("\n"));
}

#[test]
fn documented_events_match_the_reports() {
    let samples = samples();
    let mut problems = Vec::new();
    let mut documented = BTreeSet::new();
    for block in json_blocks(EVENT_BLOCK) {
        let at = format!("docs/cli.md:{}", block.line);
        let line = match block.single_line() {
            Ok(line) => line,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(e) => {
                problems.push(format!("{at}: not JSON ({e}): {line}"));
                continue;
            }
        };
        let Some(name) = value.get("event").and_then(Value::as_str) else {
            problems.push(format!("{at}: not an object with a string \"event\": {line}"));
            continue;
        };
        let Some(sample) = samples.get(name) else {
            problems.push(format!("{at}: no report is called {name:?}"));
            continue;
        };
        let mut found = Vec::new();
        compare(&value, sample, "", &mut found);
        problems.extend(found.into_iter().map(|p| format!("{at}: {name}: {p}")));
        documented.insert(name.to_owned());
    }
    for name in samples.keys().filter(|n| !documented.contains(*n)) {
        problems.push(format!("report {name:?} has no `{EVENT_BLOCK}` example"));
    }
    assert!(problems.is_empty(), "docs/cli.md and the reports differ:\n{}", problems.join("\n"));
}
