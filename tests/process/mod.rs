//! A harness for end-to-end tests: `mmp2p node --json` processes driven
//! through their standard input, their reports read from standard output.
//!
//! A reader thread per stream parses each stdout line as JSON and keeps it;
//! stderr lines are kept (the last few hundred) for failure messages. Every
//! change to any node's output rings one process-wide [`Bell`], so a test can
//! block until a condition over several nodes holds, with a deadline, and
//! never sleeps to synchronise.
//!
//! Both `tests/e2e.rs` and `tests/e2e_netns.rs` include this module, and
//! neither uses all of it.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The program under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_mmp2p");

/// Short timers so failures are noticed within seconds (the core's other
/// timers: probe timeout 1 s with 3 misses, hop timeout 500 ms, requests
/// sent 4 times 2 s apart, doubling).
pub const FAST: [&str; 4] = ["--liveness-period", "1", "--store-period", "2"];
/// Timeouts are generous: the machine may be busy compiling.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// For the answer to a command.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// A search ends at the latest when its four transmissions (2 + 4 + 8 + 16 s) go unanswered.
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(45);
/// Rounds of searches before a search that misses its owner counts as
/// failed, and the pause before each retry: together 30 s, fifteen STORE
/// periods of [`FAST`].
pub const SEARCH_ROUNDS: u32 = 100;
/// See [`SEARCH_ROUNDS`].
pub const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// Stderr lines kept per node.
const STDERR_KEPT: usize = 400;
/// Lines of each stream shown when a wait fails.
const SHOWN: usize = 30;
/// The first `req` this harness tags commands with, far above the numbers a
/// node gives its own commands (startup friends, joins), so tags never collide.
const FIRST_REQ: u64 = 1000;

/// Rung whenever any node's output changes.
struct Bell {
    rings: Mutex<u64>,
    cond: Condvar,
}

fn bell() -> &'static Bell {
    static BELL: OnceLock<Bell> = OnceLock::new();
    BELL.get_or_init(|| Bell { rings: Mutex::new(0), cond: Condvar::new() })
}

impl Bell {
    fn ring(&self) {
        *lock(&self.rings) += 1;
        self.cond.notify_all();
    }

    fn count(&self) -> u64 {
        *lock(&self.rings)
    }

    /// Blocks until the bell rings after `seen` or `until` passes.
    fn wait(&self, seen: u64, until: Instant) {
        let rings = lock(&self.rings);
        let left = until.saturating_duration_since(Instant::now());
        if *rings == seen && !left.is_zero() {
            drop(self.cond.wait_timeout(rings, left).unwrap_or_else(PoisonError::into_inner));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Blocks until `done()` holds; panics after `timeout` with `what` and `context()`.
/// `done` is checked again whenever any node prints something.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = bell().count();
        if done() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}\n{}", context());
        }
        bell().wait(seen, deadline);
    }
}

/// One stdout line.
struct Line {
    value: Value,
    /// Returned by a wait already: later waits skip it.
    taken: bool,
}

/// Everything a node printed.
#[derive(Default)]
struct Output {
    stdout: Vec<Line>,
    /// Stdout lines that are not JSON (there must be none).
    not_json: Vec<String>,
    stderr: VecDeque<String>,
    stdout_closed: bool,
    stderr_closed: bool,
}

/// The end of a search: its results and the line that ended it.
#[derive(Debug)]
pub struct SearchOutcome {
    /// The `search_result` lines.
    pub results: Vec<Value>,
    /// `search_done` or `search_failed`.
    pub end: Value,
}

impl SearchOutcome {
    /// The owners' addresses.
    pub fn owner_addrs(&self) -> Vec<&str> {
        self.results.iter().filter_map(|r| r["owner"]["addr"].as_str()).collect()
    }

    /// Whether the owner at `addr` was found.
    pub fn found(&self, addr: &str) -> bool {
        self.owner_addrs().contains(&addr)
    }
}

/// A running `mmp2p node --json`, killed and reaped on drop.
pub struct NodeProcess {
    /// A name for messages.
    pub name: String,
    /// The address from its `listening` line.
    pub addr: String,
    /// The ID from its `listening` line.
    pub id: String,
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<Output>>,
    next_req: u64,
    status: Option<ExitStatus>,
}

/// `mmp2p node --json ARGS`.
pub fn node_command<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let mut command = Command::new(BINARY);
    command.args(["node", "--json"]).args(args).env("MMP2P_PASSWORD", TEST_PASSWORD);
    command
}

/// The password every test user's identity key is derived from, unless a test says otherwise.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

impl NodeProcess {
    /// Starts `mmp2p node --json ARGS` and waits for its `listening` line.
    pub fn spawn<S: AsRef<OsStr>>(name: &str, args: impl IntoIterator<Item = S>) -> NodeProcess {
        NodeProcess::spawn_command(name, node_command(args))
    }

    /// Starts `command` (a node in JSON mode) and waits for its `listening` line.
    pub fn spawn_command(name: &str, command: Command) -> NodeProcess {
        let mut node = NodeProcess::start(name, command);
        let first = node.wait_for("the listening line", Duration::from_secs(30), |_| true);
        if first["event"] != "listening" {
            node.fail(&format!("the first line is not `listening`: {first}"));
        }
        node.addr = first["addr"].as_str().unwrap_or_default().to_owned();
        node.id = first["id"].as_str().unwrap_or_default().to_owned();
        node
    }

    /// Starts `command` without waiting for anything (for programs that
    /// should fail at startup).
    pub fn start(name: &str, mut command: Command) -> NodeProcess {
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        let output = Arc::new(Mutex::new(Output::default()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            read_lines(stdout, |line| {
                let mut output = lock(&sink);
                match line {
                    Some(line) => match serde_json::from_str::<Value>(&line) {
                        Ok(value) => output.stdout.push(Line { value, taken: false }),
                        Err(_) => output.not_json.push(line),
                    },
                    None => output.stdout_closed = true,
                }
            })
        });
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            read_lines(stderr, |line| {
                let mut output = lock(&sink);
                match line {
                    Some(line) => {
                        if output.stderr.len() == STDERR_KEPT {
                            output.stderr.pop_front();
                        }
                        output.stderr.push_back(line);
                    }
                    None => output.stderr_closed = true,
                }
            })
        });
        NodeProcess {
            name: name.to_owned(),
            addr: String::new(),
            id: String::new(),
            stdin: child.stdin.take(),
            child,
            output,
            next_req: FIRST_REQ,
            status: None,
        }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one line to the node's standard input.
    pub fn send_line(&mut self, line: &str) {
        let Some(stdin) = self.stdin.as_mut() else { self.fail(&format!("cannot send {line:?}: stdin is closed")) };
        if let Err(e) = stdin.write_all(format!("{line}\n").as_bytes()).and_then(|()| stdin.flush()) {
            self.fail(&format!("cannot send {line:?}: {e}"));
        }
    }

    /// Writes one JSON command.
    pub fn send(&mut self, command: &Value) {
        self.send_line(&command.to_string());
    }

    /// A fresh `req` tag.
    pub fn next_req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    /// The first line not yet returned that matches `pred`, marking it returned.
    pub fn take(&self, mut pred: impl FnMut(&Value) -> bool) -> Option<Value> {
        let mut output = lock(&self.output);
        let line = output.stdout.iter_mut().find(|l| !l.taken && pred(&l.value))?;
        line.taken = true;
        Some(line.value.clone())
    }

    /// Whether any line printed so far (returned or not) matches `pred`.
    pub fn seen(&self, mut pred: impl FnMut(&Value) -> bool) -> bool {
        lock(&self.output).stdout.iter().any(|l| pred(&l.value))
    }

    /// Whether standard output is closed (the process is exiting or gone).
    pub fn stdout_closed(&self) -> bool {
        lock(&self.output).stdout_closed
    }

    /// Waits for a line not yet returned that matches `pred` and returns it.
    /// Panics after `timeout`, or if the node exits first, showing its output.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let mut found = None;
        let mut closed = false;
        wait_until(
            &format!("{what} from {}", self.name),
            timeout,
            || {
                // Read `closed` first: a line printed just before exit is still found.
                closed = self.stdout_closed();
                found = self.take(&mut pred);
                found.is_some() || closed
            },
            || self.describe(),
        );
        match found {
            Some(value) => value,
            None => self.fail(&format!("exited while waiting for {what}")),
        }
    }

    /// Waits for the line of `event` (a name) for which `pred` holds.
    pub fn wait_event(&self, event: &str, timeout: Duration, mut pred: impl FnMut(&Value) -> bool) -> Value {
        self.wait_for(&format!("a `{event}` line"), timeout, |v| v["event"] == event && pred(v))
    }

    /// Sends `command` tagged with a fresh `req` (unless it has one) and
    /// returns its lines up to and including the first one that ends it
    /// (anything but `search_result` and `file`).
    pub fn request(&mut self, mut command: Value, timeout: Duration) -> Vec<Value> {
        let req = match command.get("req").and_then(Value::as_u64) {
            Some(req) => req,
            None => {
                let req = self.next_req();
                command["req"] = json!(req);
                req
            }
        };
        self.send(&command);
        let mut lines = Vec::new();
        loop {
            let line = self.wait_for(&format!("the answer to {command}"), timeout, |v| v["req"] == req);
            let end = !matches!(line["event"].as_str(), Some("search_result" | "file"));
            lines.push(line);
            if end {
                return lines;
            }
        }
    }

    /// Sends `command` and returns the line that ends it.
    pub fn ask(&mut self, command: Value, timeout: Duration) -> Value {
        self.request(command, timeout).pop().expect("at least one line")
    }

    /// The node's `status` report.
    pub fn status(&mut self) -> Value {
        let status = self.ask(json!({"cmd": "status"}), Duration::from_secs(20));
        if status["event"] != "status" {
            self.fail(&format!("status answered {status}"));
        }
        status
    }

    /// Starts a search; [`NodeProcess::search_outcome`] collects it.
    pub fn start_search(&mut self, name: &str) -> u64 {
        let req = self.next_req();
        self.send(&json!({"cmd": "search", "name": name, "req": req}));
        req
    }

    /// The results of the search tagged `req`, once it ends.
    pub fn search_outcome(&mut self, req: u64, timeout: Duration) -> SearchOutcome {
        let mut results = Vec::new();
        loop {
            let line = self.wait_for(&format!("the end of search {req}"), timeout, |v| v["req"] == req);
            match line["event"].as_str() {
                Some("search_result") => results.push(line),
                Some("search_done" | "search_failed") => return SearchOutcome { results, end: line },
                _ => self.fail(&format!("unexpected answer to search {req}: {line}")),
            }
        }
    }

    /// Searches for `name` and waits for the end of the search.
    pub fn search(&mut self, name: &str, timeout: Duration) -> SearchOutcome {
        let req = self.start_search(name);
        self.search_outcome(req, timeout)
    }

    /// Sends `quit`, waits for `bye` and for the process to exit.
    pub fn quit(&mut self, timeout: Duration) -> ExitStatus {
        let req = self.next_req();
        self.send(&json!({"cmd": "quit", "req": req}));
        self.wait_event("bye", timeout, |v| v["req"] == req);
        self.wait_exit(timeout)
    }

    /// Waits for the process to exit (both its output streams close) and reaps it.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let output = Arc::clone(&self.output);
        wait_until(
            &format!("{} to exit", self.name),
            timeout,
            || {
                let output = lock(&output);
                output.stdout_closed && output.stderr_closed
            },
            || self.describe(),
        );
        // Both streams closed: the process has exited, so this returns at once.
        let status = self.child.wait().unwrap_or_else(|e| panic!("cannot reap {}: {e}", self.name));
        self.status = Some(status);
        status
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
        self.stdin = None;
    }

    /// Everything the node printed to stderr so far (the last lines kept).
    pub fn stderr_text(&self) -> String {
        lock(&self.output).stderr.iter().map(|l| format!("{l}\n")).collect()
    }

    /// Every stdout line so far.
    pub fn stdout_lines(&self) -> Vec<Value> {
        lock(&self.output).stdout.iter().map(|l| l.value.clone()).collect()
    }

    /// Stdout lines that were not JSON.
    pub fn not_json(&self) -> Vec<String> {
        lock(&self.output).not_json.clone()
    }

    /// Panics unless every stdout line was JSON.
    pub fn assert_only_json(&self) {
        let bad = self.not_json();
        if !bad.is_empty() {
            self.fail(&format!("stdout has lines that are not JSON: {bad:?}"));
        }
    }

    /// The last lines of both streams.
    pub fn describe(&self) -> String {
        let output = lock(&self.output);
        let mut text = format!("--- {} ({}, pid {}) stdout, last lines:\n", self.name, self.addr, self.child.id());
        let skip = output.stdout.len().saturating_sub(SHOWN);
        for line in &output.stdout[skip..] {
            text.push_str(&format!("  {}\n", line.value));
        }
        for line in &output.not_json {
            text.push_str(&format!("  NOT JSON: {line}\n"));
        }
        text.push_str(&format!("--- {} stderr, last lines:\n", self.name));
        let skip = output.stderr.len().saturating_sub(SHOWN);
        for line in output.stderr.iter().skip(skip) {
            text.push_str(&format!("  {line}\n"));
        }
        if output.stdout_closed {
            text.push_str("  (stdout closed)\n");
        }
        text
    }

    /// Panics with `message` and the node's recent output.
    pub fn fail(&self, message: &str) -> ! {
        panic!("{}: {message}\n{}", self.name, self.describe())
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Calls `sink` with each line of `input` (without its newline), then with `None` at the end.
fn read_lines(input: impl Read, mut sink: impl FnMut(Option<String>)) {
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    line.pop();
                }
                sink(Some(String::from_utf8_lossy(&line).into_owned()));
                bell().ring();
            }
        }
    }
    sink(None);
    bell().ring();
}

/// The recent output of several nodes, for failure messages.
pub fn describe_all<'a>(nodes: impl IntoIterator<Item = &'a NodeProcess>) -> String {
    nodes.into_iter().map(NodeProcess::describe).collect()
}

/// Waits until, for each of `gone`, one of `watchers` reports `peer_down` for it.
pub fn wait_for_peer_down(nodes: &[NodeProcess], gone: &[usize], watchers: &[usize], timeout: Duration) {
    for &g in gone {
        let addr = nodes[g].addr.clone();
        let reported = |v: &Value| v["event"] == "peer_down" && v["peer"]["addr"] == addr.as_str();
        wait_until(
            &format!("a watching node to report peer_down for {} ({addr})", nodes[g].name),
            timeout,
            || watchers.iter().any(|&n| nodes[n].seen(reported)),
            || describe_all(watchers.iter().map(|&n| &nodes[n])),
        );
    }
}

/// A search that should find `owner_addr`, and how it went.
pub struct Query {
    /// Index of the searching node.
    pub from: usize,
    /// The file name.
    pub name: String,
    /// The listening address of the node sharing it.
    pub owner_addr: String,
    /// Searches sent for it.
    pub attempts: u32,
    /// The last outcome.
    pub last: Option<SearchOutcome>,
}

impl Query {
    /// A query not yet sent.
    pub fn new(from: usize, name: impl Into<String>, owner_addr: impl Into<String>) -> Query {
        Query { from, name: name.into(), owner_addr: owner_addr.into(), attempts: 0, last: None }
    }

    /// Whether the last search found the owner.
    pub fn succeeded(&self) -> bool {
        self.last.as_ref().is_some_and(|o| o.found(&self.owner_addr))
    }
}

/// Waits out a node's timer (the STORE period, say) before acting again.
/// Never used to wait for something to happen: that is what the waits on
/// output are for. Only the retries of searches pause like this, so that a
/// bounded number of retries spans the time a STORE needs to arrive.
pub fn wait_out(period: Duration) {
    std::thread::sleep(period);
}

/// Runs `queries` on `nodes` in rounds: every query not yet answered with its
/// owner is searched again, all in parallel, and each round waits for every
/// search to end (`search_timeout` each). Before each retry round it waits
/// out `pause`, a fraction of the STORE period. After `rounds` rounds,
/// panics listing the queries that never found their owner. Returns the
/// rounds run.
pub fn search_until_found(
    nodes: &mut [NodeProcess],
    queries: &mut [Query],
    rounds: u32,
    pause: Duration,
    search_timeout: Duration,
) -> u32 {
    for round in 1..=rounds {
        let open: Vec<usize> = (0..queries.len()).filter(|&q| !queries[q].succeeded()).collect();
        if open.is_empty() {
            return round - 1;
        }
        if round > 1 {
            wait_out(pause);
        }
        let reqs: Vec<u64> = open
            .iter()
            .map(|&q| {
                queries[q].attempts += 1;
                nodes[queries[q].from].start_search(&queries[q].name)
            })
            .collect();
        for (&q, req) in open.iter().zip(reqs) {
            let node = &mut nodes[queries[q].from];
            let outcome = node.search_outcome(req, search_timeout);
            // Missing the owner may be a STORE still on its way; a wrong owner is a bug.
            let wrong: Vec<&str> = outcome.owner_addrs().into_iter().filter(|&a| a != queries[q].owner_addr).collect();
            if !wrong.is_empty() {
                node.fail(&format!(
                    "search {req} for {:?} names owners {wrong:?}, not only {}: {:?}",
                    queries[q].name, queries[q].owner_addr, outcome.results
                ));
            }
            queries[q].last = Some(outcome);
        }
    }
    let failed: Vec<String> = queries
        .iter()
        .filter(|q| !q.succeeded())
        .map(|q| {
            format!(
                "  {} searching {:?} (owner {}): {} attempts, last {:?}",
                nodes[q.from].name,
                q.name,
                q.owner_addr,
                q.attempts,
                q.last.as_ref().map(|o| (o.owner_addrs(), o.end.clone()))
            )
        })
        .collect();
    if failed.is_empty() {
        return rounds;
    }
    panic!("{} searches never found their owner after {rounds} rounds:\n{}", failed.len(), failed.join("\n"));
}
