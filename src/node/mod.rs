//! `mmp2p node`: one node on a real IPv6 UDP socket, run by the mio driver
//! and controlled by text or JSON lines on standard input.
//!
//! Three threads: the driver's loop (the socket and the core), a reader of
//! standard input, and this session, which turns lines into commands for the
//! loop and the core's events into reports. Everything the session learns
//! arrives as one [`Input`] stream, so reports come out in the order things
//! happened.

mod access;
mod args;
#[cfg(test)]
mod cli_doc;
mod conference;
mod conference_report;
pub mod control;
mod data_dir;
mod events;
pub(crate) mod files;
mod identity;
mod messenger;
mod messenger_report;
pub mod report;
mod report_text;
mod shares;
mod transfer_report;
mod transfers;

pub use args::NodeArgs;
use control::{Command, Request, COMMANDS};
use mmp2p_core::config::MAX_SHARED_FILES;
use mmp2p_core::{CommandError, Event, Id, Node, RequestId, ResourceLocator};
use mmp2p_mio::{Driver, DriverError, Handle, IoStats, NodeKey};
use report::{FriendEntry, HelpEntry, Peer, Report};
use std::collections::HashMap;
use std::io::{self, BufRead, Write as _};
use std::net::{SocketAddr, SocketAddrV6};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Clock};

/// Longest control line read; longer lines are refused whole.
const MAX_LINE: usize = 64 * 1024;
/// Wait before a failed join is tried again.
const JOIN_RETRY: Duration = Duration::from_secs(10);
/// Longest wait for the neighbours to acknowledge our LEAVE when quitting.
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// Exit status when the identity is registered to another key.
const EXIT_ID_REGISTERED: u8 = 3;
/// Exit status when the identity's owner took over from another address.
const EXIT_TAKEN_OVER: u8 = 4;

/// Runs a node until `quit`: exit status 0, 2 if it could not start, 3 if
/// its identity is registered with another key, 4 if its owner took over.
pub fn run(args: &NodeArgs) -> ExitCode {
    let printer = Printer { json: args.json };
    match Session::start(args, printer) {
        Ok(session) => session.run(),
        Err(message) => {
            printer.report(&Report::Error { req: None, message: message.clone() });
            if args.json {
                eprintln!("error: {message}");
            }
            ExitCode::from(2)
        }
    }
}

/// Writes reports to standard output, one per line.
#[derive(Clone, Copy)]
struct Printer {
    json: bool,
}

impl Printer {
    /// Prints one report. A closed standard output (the reader went away)
    /// is not the node's problem: it keeps running, and the write is dropped.
    fn report(&self, report: &Report) {
        let (line, to_stderr) =
            if self.json { (report.json(), false) } else { (report.text(), matches!(report, Report::Error { .. })) };
        let _ =
            if to_stderr { writeln!(io::stderr().lock(), "{line}") } else { writeln!(io::stdout().lock(), "{line}") };
    }
}

/// Everything the session reacts to, in the order it happened.
enum Input {
    /// A control line (invalid UTF-8 replaced).
    Line(String),
    /// A control line longer than [`MAX_LINE`].
    LineTooLong,
    /// Standard input is closed; the node runs on until killed or told to quit.
    StdinClosed,
    /// An event from the core.
    Event(Event),
    /// A report computed inside the loop.
    Report(Box<Report>),
    /// A command that completes later was started (or refused).
    Started { req: u64, pending: Pending, result: Result<RequestId, CommandError> },
    /// The shared names were set (or refused).
    Shared { req: Option<u64>, added: Vec<String>, names: Vec<String>, result: Result<usize, CommandError> },
    /// The bootstrap list, to save.
    Bootstrap(Vec<ResourceLocator>),
    /// What a messenger command or event found in the loop.
    Messenger(messenger::MessengerInput),
    /// What a transfer command found in the loop.
    Transfer(transfers::TransferInput),
    /// A file we send to conference `session`, to keep readable.
    ConferenceSending(mmp2p_core::conference::SessionId, std::sync::Arc<files::SharedFile>),
}

/// A command waiting for the core's events.
enum Pending {
    Join,
    Search {
        name: String,
        started: Clock,
    },
    Lookup {
        started: Clock,
    },
    Files {
        friend: String,
    },
    /// The search of a `get` (its number).
    Get {
        get: u64,
    },
    Ping,
    Leave {
        quit: bool,
    },
}

/// A running node and what its control session knows.
struct Session {
    printer: Printer,
    handle: Handle,
    key: NodeKey,
    inputs: Receiver<Input>,
    sender: Sender<Input>,
    loop_thread: JoinHandle<io::Result<()>>,
    next_req: u64,
    pending: HashMap<RequestId, (u64, Pending)>,
    emails: HashMap<Id, String>,
    access_file: PathBuf,
    bootstrap: Vec<ResourceLocator>,
    join_retry: Option<Clock>,
    share_dir: Option<PathBuf>,
    dir_names: Vec<String>,
    dir_error: Option<String>,
    extra_names: Vec<String>,
    rescan_period: Duration,
    next_rescan: Clock,
    /// When to exit even if the LEAVE is not acknowledged, and the quit command's tag.
    quit_deadline: Option<(Option<u64>, Clock)>,
    /// Why the session ended early, as its exit status: the identity is
    /// registered to another key (3), or its owner took over (4).
    ended: Option<u8>,
    /// The messenger's state and data directory.
    messenger: messenger::Messenger,
    /// Shared files, downloads and their files.
    transfers: transfers::Transfers,
    /// The files of our conferences.
    conferences: conference::Conferences,
}

impl Session {
    /// Binds the socket, starts the loop and the reader, prints `listening`
    /// and starts joining. Errors are the messages for exit status 2.
    fn start(args: &NodeArgs, printer: Printer) -> Result<Session, String> {
        // First, while nothing reads standard input: a prompt may ask for the password.
        let identity = match &args.email {
            Some(email) => identity::of_user(email, args.password_file.as_deref())?,
            None => identity::from_key_file(&args.identity_file())?,
        };
        let public_key = identity.public_key();
        let (mut driver, handle, events) = Driver::new().map_err(|e| format!("cannot start the event loop: {e}"))?;
        let seed = match args.seed {
            Some(seed) => seed,
            None => random_seed()?,
        };
        let (key, me) =
            driver.add_node(SocketAddr::V6(args.listen), args.id(), args.config(), seed).map_err(|e| match e {
                DriverError::Io(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    format!("cannot listen on {}: the port is in use", args.listen)
                }
                DriverError::Io(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {
                    format!("cannot listen on {}: no interface of this host has that address", args.listen)
                }
                other => format!("cannot listen on {}: {other}", args.listen),
            })?;
        driver.set_identity(key, identity);
        tracing::info!(%me.addr, id = %me.id, "listening");
        let mut bootstrap = Vec::new();
        let mut access_error = None;
        if !args.key {
            match access::load(&args.access_file) {
                Ok(entries) => bootstrap = entries,
                Err(e) => access_error = Some(e),
            }
            // The key node named on the command line goes first, so a full list never crowds it out.
            if let Some(addr) = args.key_node {
                bootstrap.retain(|entry| entry.addr != addr);
                bootstrap.insert(0, ResourceLocator::new(Id::KEY_NODE, addr));
            }
            if bootstrap.is_empty() {
                let why = access_error.map_or_else(String::new, |e| format!(" ({e})"));
                return Err(format!(
                    "nothing to join through: give --key-node [ADDR]:PORT or an access file with entries{why}"
                ));
            }
        }
        let data_dir = data_dir::DataDir::open(&args.data_dir(me.id));
        let (data_error, data_dir) = match data_dir {
            Ok(dir) => (None, Some(dir)),
            Err(e) => (Some(format!("{e}; the messenger keeps nothing between runs")), None),
        };
        let mut transfers = transfers::Transfers::new(data_dir.clone(), args.out.clone(), args.audience());
        driver.set_storage(key, Box::new(transfers.disk.clone()));
        let (resume, resume_error) = transfers.saved();
        transfers.resume = resume;
        let (messenger, contacts, data_errors) = messenger::Messenger::load(data_dir);
        let (sender, inputs) = channel();
        let forward = sender.clone();
        std::thread::spawn(move || {
            for event in events {
                if forward.send(Input::Event(event.event)).is_err() {
                    return;
                }
            }
        });
        let reader = sender.clone();
        std::thread::spawn(move || read_lines(io::stdin().lock(), &reader));
        let loop_thread = std::thread::spawn(move || driver.run());
        let mut session = Session {
            printer,
            handle,
            key,
            inputs,
            sender,
            loop_thread,
            next_req: 0,
            pending: HashMap::new(),
            emails: HashMap::new(),
            access_file: args.access_file.clone(),
            bootstrap,
            join_retry: None,
            ended: None,
            share_dir: args.share.clone(),
            dir_names: Vec::new(),
            dir_error: None,
            extra_names: Vec::new(),
            rescan_period: args.store_period,
            next_rescan: Clock::now(),
            quit_deadline: None,
            messenger,
            transfers,
            conferences: conference::Conferences::default(),
        };
        session.report(Report::Listening {
            addr: me.addr.to_string(),
            id: me.id.to_string(),
            key: public_key.to_string(),
            key_node: args.key,
        });
        if let Some(e) = access_error {
            session.report(Report::Error { req: None, message: format!("{e}; falling back to --key-node") });
        }
        for message in data_error.into_iter().chain(data_errors).chain(resume_error) {
            session.report(Report::Error { req: None, message });
        }
        session.restore_messenger(contacts);
        for (email, addr) in &args.friends {
            let req = session.next_req();
            session.add_friend(req, email.clone(), *addr);
        }
        if args.key {
            session.command(|node, _| node.found_ring());
            session.report(Report::Joined { left: None, right: None, hops: 0 });
            session.resume_downloads();
        } else {
            session.join();
        }
        // After founding the ring, so the key node publishes its files at once.
        session.rescan();
        Ok(session)
    }

    /// Handles inputs until the node quits.
    fn run(mut self) -> ExitCode {
        loop {
            let now = Clock::now();
            let wake = [
                self.join_retry,
                Some(self.next_rescan),
                self.quit_deadline.map(|(_, at)| at),
                self.transfers.next_progress,
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_secs(3600));
            match self.inputs.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(input) => {
                    if self.handle_input(input) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = Clock::now();
            if self.join_retry.is_some_and(|at| at <= now) {
                self.join_retry = None;
                self.join();
            }
            if self.next_rescan <= now {
                self.rescan();
            }
            if self.transfers.next_progress.is_some_and(|at| at <= now) {
                self.report_progress();
            }
            if let Some((req, at)) = self.quit_deadline {
                if at <= now {
                    tracing::warn!("neighbours did not acknowledge our LEAVE in time; exiting anyway");
                    self.finish(req);
                    break;
                }
            }
        }
        self.handle.shutdown();
        match self.loop_thread.join() {
            Ok(Ok(())) => self.ended.map_or(ExitCode::SUCCESS, ExitCode::from),
            Ok(Err(e)) => {
                eprintln!("error: the event loop failed: {e}");
                ExitCode::FAILURE
            }
            Err(_) => ExitCode::FAILURE,
        }
    }

    fn report(&self, report: Report) {
        self.printer.report(&report);
    }

    fn error(&self, req: Option<u64>, message: impl ToString) {
        self.report(Report::Error { req, message: message.to_string() });
    }

    fn next_req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    /// Runs `f` on the node inside the loop.
    fn command(&self, f: impl FnOnce(&mut Node, mmp2p_core::Instant) + Send + 'static) {
        self.handle.command(self.key, f);
    }

    /// Runs `f` on the node inside the loop and handles what it returns as input.
    fn ask(&self, f: impl FnOnce(&mut Node, &IoStats, mmp2p_core::Instant) -> Input + Send + 'static) {
        let sender = self.sender.clone();
        self.handle.command_with_io(self.key, move |node, io, now| {
            let _ = sender.send(f(node, io, now));
        });
    }

    /// Starts a command that completes with the core's events.
    fn begin(
        &self,
        req: u64,
        pending: Pending,
        f: impl FnOnce(&mut Node, mmp2p_core::Instant) -> Result<RequestId, CommandError> + Send + 'static,
    ) {
        self.ask(move |node, _, now| Input::Started { req, pending, result: f(node, now) });
    }

    /// Returns true when the session is over.
    fn handle_input(&mut self, input: Input) -> bool {
        match input {
            Input::Line(line) => return self.handle_line(&line),
            Input::LineTooLong => self.error(None, format!("line longer than {MAX_LINE} bytes ignored")),
            Input::StdinClosed => tracing::info!("standard input closed; running until killed"),
            Input::Event(event) => return self.handle_event(event),
            Input::Report(report) => self.report(*report),
            Input::Started { req, pending, result } => match result {
                Ok(request) => {
                    self.pending.insert(request, (req, pending));
                }
                Err(e) => match pending {
                    Pending::Leave { quit: true } => {
                        self.finish(Some(req));
                        return true;
                    }
                    Pending::Join => {
                        self.error(Some(req), format!("cannot join: {e}"));
                        self.retry_join();
                    }
                    _ => self.error(Some(req), e),
                },
            },
            Input::Shared { req, added, names, result } => match result {
                Ok(_) => {
                    for name in added {
                        if !self.extra_names.contains(&name) {
                            self.extra_names.push(name);
                        }
                    }
                    self.report(Report::Shared { req, names });
                }
                Err(e) => self.error(req, e),
            },
            // A node with no list (the key node never joins) leaves the file alone.
            Input::Bootstrap(entries) if entries.is_empty() => {}
            Input::Messenger(input) => self.messenger_input(input),
            Input::Transfer(input) => self.transfer_input(input),
            Input::ConferenceSending(session, shared) => self.conference_sending(session, shared),
            Input::Bootstrap(entries) => match access::save(&self.access_file, &entries) {
                Ok(()) => {
                    tracing::info!(path = %self.access_file.display(), entries = entries.len(), "access file written")
                }
                Err(e) => self.error(None, e),
            },
        }
        false
    }

    fn handle_line(&mut self, line: &str) -> bool {
        let parsed = if self.printer.json { control::parse_json(line) } else { control::parse_text(line) };
        match parsed {
            None => false,
            Some(Err(e)) => {
                self.error(json_req(line), e);
                false
            }
            Some(Ok(request)) => self.handle_command(request),
        }
    }

    /// Returns true when the session is over.
    fn handle_command(&mut self, Request { req, command }: Request) -> bool {
        let req = req.unwrap_or_else(|| self.next_req());
        match command {
            Command::Help => self.report(Report::Help {
                req: Some(req),
                commands: COMMANDS.iter().map(|&(cmd, args, about)| HelpEntry { cmd, args, about }).collect(),
            }),
            Command::Status => self.ask(move |node, _, _| reply(Report::status(req, node))),
            Command::Neighbours => self.ask(move |node, _, _| {
                let chain = |side| node.neighbours().chain(side).iter().map(Peer::from).collect();
                let (left, right) = (chain(mmp2p_core::Side::Left), chain(mmp2p_core::Side::Right));
                reply(Report::Neighbours { req: Some(req), left, right })
            }),
            Command::Friends => {
                let emails = self.emails.clone();
                self.ask(move |node, _, _| {
                    let friends = node
                        .friends()
                        .entries()
                        .iter()
                        .map(|f| FriendEntry {
                            email: emails.get(&f.locator.id).cloned(),
                            id: f.locator.id.to_string(),
                            addr: f.locator.addr.to_string(),
                            alive: f.alive,
                        })
                        .collect();
                    reply(Report::Friends { req: Some(req), friends })
                });
            }
            Command::AddFriend { email, addr } => self.add_friend(req, email, addr),
            Command::Share { names } if names.is_empty() => {
                self.ask(move |node, _, _| {
                    let names = node.shared().iter().map(|(_, name)| name.to_owned()).collect();
                    reply(Report::Shared { req: Some(req), names })
                });
            }
            Command::Share { names } => self.publish(Some(req), names),
            Command::Search { name } => {
                let pending = Pending::Search { name: name.clone(), started: Clock::now() };
                self.begin(req, pending, move |node, now| node.search(now, &name));
            }
            Command::Files { friend, id } => {
                self.begin(req, Pending::Files { friend }, move |node, now| node.list_files(now, id));
            }
            Command::Lookup { key } => {
                self.begin(req, Pending::Lookup { started: Clock::now() }, move |node, now| node.lookup(now, key));
            }
            Command::Ping { addr } => self.begin(req, Pending::Ping, move |node, now| node.ping(now, addr)),
            Command::Get { target } => self.get(req, target),
            Command::Transfers => self.report_transfers(req),
            Command::GetCancel { id } => self.cancel_get(req, id),
            Command::Stats => self.ask(move |node, io, _| reply(Report::stats(req, node, io))),
            Command::Conference(command) => self.conference_command(req, command),
            messenger @ (Command::Request { .. }
            | Command::Contact { .. }
            | Command::Requests
            | Command::Contacts
            | Command::Presence { .. }
            | Command::Say { .. }
            | Command::History { .. }
            | Command::Groups
            | Command::Group(_)) => self.messenger_command(req, messenger),
            Command::Leave => self.leave(req, false),
            Command::Quit => self.leave(req, true),
        }
        false
    }

    fn add_friend(&mut self, req: u64, email: String, addr: SocketAddrV6) {
        let friend = ResourceLocator::new(Id::from_email(&email), addr);
        self.emails.insert(friend.id, email.clone());
        self.ask(move |node, _, now| {
            reply(match node.add_friend(now, friend) {
                Ok(()) => Report::FriendAdded { req: Some(req), email, friend: Peer::from(friend) },
                Err(e) => Report::Error { req: Some(req), message: format!("cannot add friend {email}: {e}") },
            })
        });
    }

    /// Shares the directory's names, the names shared by command and `added`.
    fn publish(&mut self, req: Option<u64>, added: Vec<String>) {
        let mut names: Vec<String> = self.dir_names.clone();
        for name in self.extra_names.iter().chain(&added) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        self.ask(move |node, _, now| {
            let result = node.share(now, names.iter().map(String::as_str));
            Input::Shared { req, added, names, result }
        });
    }

    /// Reads the shared directory again and republishes if it changed.
    fn rescan(&mut self) {
        self.next_rescan = Clock::now() + self.rescan_period;
        let Some(dir) = self.share_dir.clone() else { return };
        match shares::scan(&dir) {
            Ok(mut names) => {
                self.dir_error = None;
                if names.len() > MAX_SHARED_FILES {
                    tracing::warn!(files = names.len(), "only the first {MAX_SHARED_FILES} file names are shared");
                    names.truncate(MAX_SHARED_FILES);
                }
                if names != self.dir_names {
                    self.dir_names = names;
                    self.publish(None, Vec::new());
                }
                let names = self.dir_names.clone();
                self.serve_shared(&dir, &names);
            }
            Err(e) => {
                // Reported once per failure, not every period.
                let message = e.to_string();
                if self.dir_error.as_ref() != Some(&message) {
                    self.error(None, format!("{message}; sharing nothing from it until it can be read"));
                    self.dir_error = Some(message);
                }
                if !self.dir_names.is_empty() {
                    self.dir_names.clear();
                    self.publish(None, Vec::new());
                }
            }
        }
    }

    fn join(&mut self) {
        let list = mmp2p_core::BootstrapList::new(self.bootstrap.iter().copied());
        let req = self.next_req();
        self.begin(req, Pending::Join, move |node, now| {
            if node.bootstrap().is_empty() {
                node.set_bootstrap(list);
            }
            node.join_bootstrap(now)
        });
    }

    fn retry_join(&mut self) {
        self.join_retry = Some(Clock::now() + JOIN_RETRY);
    }

    fn leave(&mut self, req: u64, quit: bool) {
        if quit {
            // Contacts see us go offline at once (the data directory keeps the presence set by command).
            self.command(|node, now| {
                let text = node.presence().1.to_owned();
                let _ = node.set_presence(now, mmp2p_core::wire::Status::Offline, &text);
            });
            self.quit_deadline = Some((Some(req), Clock::now() + QUIT_GRACE));
            self.ask(|node, _, _| Input::Bootstrap(node.bootstrap().entries().to_vec()));
        }
        self.begin(req, Pending::Leave { quit }, |node, now| node.leave(now));
    }

    fn finish(&self, req: Option<u64>) {
        self.report(Report::Bye { req });
    }
}

/// The `req` of a JSON line that could not be read as a command, if it has one.
fn json_req(line: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(line).ok()?.get("req")?.as_u64()
}

fn elapsed_ms(since: Clock) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A seed from the operating system's random source: the node's transaction
/// ids are the nonces others must echo, so nobody may predict them.
fn random_seed() -> Result<u64, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the node's seed: {e}"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// Reads control lines from `input` until it closes, each at most [`MAX_LINE`] bytes.
fn read_lines(mut input: impl BufRead, inputs: &Sender<Input>) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut too_long = false;
        let ended = loop {
            let buffer = match input.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break true,
            };
            if buffer.is_empty() {
                break true;
            }
            let (take, newline) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (buffer.len(), false),
            };
            if line.len() + take <= MAX_LINE {
                line.extend_from_slice(&buffer[..take]);
            } else {
                too_long = true;
            }
            input.consume(take);
            if newline {
                break false;
            }
        };
        let input_line = if too_long {
            Some(Input::LineTooLong)
        } else if !line.is_empty() {
            Some(Input::Line(String::from_utf8_lossy(&line).into_owned()))
        } else {
            None
        };
        if let Some(input_line) = input_line {
            if inputs.send(input_line).is_err() {
                return;
            }
        }
        if ended {
            let _ = inputs.send(Input::StdinClosed);
            return;
        }
    }
}

/// A report computed inside the loop, as input for the session.
fn reply(report: Report) -> Input {
    Input::Report(Box::new(report))
}

#[cfg(test)]
mod seed_tests {
    #[test]
    fn unseeded_nodes_draw_unpredictable_seeds() {
        let seeds: std::collections::HashSet<u64> = (0..8).map(|_| super::random_seed().expect("randomness")).collect();
        assert_eq!(seeds.len(), 8, "eight draws, eight seeds");
    }
}
