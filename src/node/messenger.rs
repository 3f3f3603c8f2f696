//! The messenger in the program: its commands, its events as reports, and
//! its state kept in the data directory between runs (see [`data_dir`]).
//!
//! The core holds contacts, pending requests and undelivered messages while
//! the node runs; this side keeps what a person sees of them — e-mail
//! addresses, contact groups, the conversations — and saves each kind of
//! state after every change. At start it gives the core back what it had:
//! contacts, undelivered messages under their old numbers, requests and
//! the user's presence.
//!
//! [`data_dir`]: super::data_dir

use super::control::{self, Command, ContactAction, GroupChange};
use super::data_dir::{
    DataDir, DataFile, HistoryEntry, SavedContact, SavedGroups, SavedMessage, SavedPresence, SavedRequest,
    SavedRequests, HISTORY_PER_FRIEND,
};
use super::report::{ContactEntry, GroupEntry, HistoryLine, Peer, Report, RequestEntry};
use super::{reply, Input, Session};
use mmp2p_core::identity::PublicKey;
use mmp2p_core::tables::contacts::ContactRecord;
use mmp2p_core::wire::{Status, MAX_MESSAGE};
use mmp2p_core::{CommandError, Event, Id, Node, ResourceLocator};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the session keeps of the messenger.
#[derive(Default)]
pub(super) struct Messenger {
    data: Option<DataDir>,
    groups: SavedGroups,
    outbox: Vec<SavedMessage>,
    history: Vec<HistoryEntry>,
    requests: SavedRequests,
    presence: SavedPresence,
}

/// What a command or event run inside the loop hands back to the messenger.
pub(super) enum MessengerInput {
    /// The contacts as they stand, to save.
    Contacts(Vec<(ContactRecord, String)>),
    /// Messages read: (from, seq, text).
    Read(Vec<(Id, u32, String)>),
    /// A confirmed friend request.
    Request { from: ResourceLocator, key: PublicKey, nonce: u64, text: String },
    /// A message went out.
    Said { req: u64, friend: Id, seq: u32, text: String },
    /// A request, answer, block or unfriending was carried out.
    Done { req: u64, cmd: &'static str, friend: String, id: Id, note: String },
    /// Our presence was set at `version`.
    PresenceSet { req: u64, status: Status, text: String, version: u64 },
}

impl Messenger {
    /// The state kept in `dir` (none without one), and an error per file that did not read.
    pub(super) fn load(dir: Option<DataDir>) -> (Messenger, Vec<SavedContact>, Vec<String>) {
        let mut errors = Vec::new();
        let Some(data) = dir else { return (Messenger::default(), Vec::new(), errors) };
        let mut read = |file| -> Option<serde_json::Value> {
            match data.load::<serde_json::Value>(file) {
                Ok(serde_json::Value::Null) => None,
                Ok(value) => Some(value),
                Err(e) => {
                    errors.push(format!("{e}; starting without it"));
                    None
                }
            }
        };
        let values = [DataFile::Contacts, DataFile::Groups, DataFile::Outbox, DataFile::History, DataFile::Requests]
            .map(|file| (file, read(file)));
        let presence = read(DataFile::Presence);
        let mut contacts = Vec::new();
        let mut messenger = Messenger { data: None, ..Messenger::default() };
        for (file, value) in values {
            let Some(value) = value else { continue };
            let path = data.path(file);
            let shape =
                |e: serde_json::Error| format!("data file {} is corrupt: {e}; starting without it", path.display());
            let result = match file {
                DataFile::Contacts => serde_json::from_value(value).map(|c| contacts = c),
                DataFile::Groups => serde_json::from_value(value).map(|g| messenger.groups = g),
                DataFile::Outbox => serde_json::from_value(value).map(|o| messenger.outbox = o),
                DataFile::History => serde_json::from_value(value).map(|h| messenger.history = h),
                DataFile::Requests => serde_json::from_value(value).map(|r| messenger.requests = r),
                DataFile::Presence | DataFile::Downloads => Ok(()),
            };
            if let Err(e) = result {
                errors.push(shape(e));
            }
        }
        if let Some(value) = presence {
            match serde_json::from_value(value) {
                Ok(presence) => messenger.presence = presence,
                Err(e) => errors.push(format!(
                    "data file {} is corrupt: {e}; starting without it",
                    data.path(DataFile::Presence).display()
                )),
            }
        }
        messenger.data = Some(data);
        (messenger, contacts, errors)
    }

    fn save<T: Serialize>(&self, file: DataFile, value: &T) -> Result<(), String> {
        match &self.data {
            Some(data) => data.save(file, value).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// Milliseconds since the Unix epoch.
fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn parse_id(hex: &str) -> Option<Id> {
    hex.parse().ok()
}

fn parse_key(hex: &str) -> Option<PublicKey> {
    super::identity::parse_key(hex).map(PublicKey)
}

impl Session {
    /// Gives the core back what the data directory kept: contacts,
    /// undelivered messages, requests and our presence.
    pub(super) fn restore_messenger(&mut self, contacts: Vec<SavedContact>) {
        for saved in contacts {
            let (Some(id), Some(key), Ok(addr)) =
                (parse_id(&saved.id), parse_key(&saved.key), control::parse_address(&saved.addr))
            else {
                self.error(None, format!("contacts.json: contact {} is unreadable; skipped", saved.id));
                continue;
            };
            if let Some(email) = &saved.email {
                self.emails.insert(id, email.clone());
            }
            let (since, next_seq, receipted, delivered) =
                (saved.since, saved.next_seq, saved.receipted, saved.delivered);
            let record = ContactRecord { id, key, since, next_seq, receipted, delivered };
            self.command(move |node, now| {
                let _ = node.restore_contact(now, ResourceLocator::new(id, addr), record);
            });
        }
        for message in self.messenger.outbox.clone() {
            let Some(friend) = parse_id(&message.friend) else { continue };
            self.command(move |node, now| {
                let _ = node.restore_message(now, friend, message.seq, message.text.as_bytes());
            });
        }
        for request in self.messenger.requests.outgoing.clone() {
            let Some(to) = parse_id(&request.id) else { continue };
            if let Some(email) = &request.email {
                self.emails.insert(to, email.clone());
            }
            self.command(move |node, now| {
                let _ = node.request_friend(now, to, &request.text);
            });
        }
        for request in self.messenger.requests.incoming.clone() {
            let (Some(id), Some(key), Ok(addr)) =
                (parse_id(&request.id), parse_key(&request.key), control::parse_address(&request.addr))
            else {
                continue;
            };
            self.command(move |node, now| {
                let from = ResourceLocator::new(id, addr);
                let _ = node.restore_friend_request(now, from, key, request.nonce, &request.text);
            });
        }
        let presence = self.messenger.presence.clone();
        let status = control::parse_status(&presence.status).unwrap_or(Status::Online);
        // Friends take only a newer version: past the saved one, and past any earlier run's.
        let version = presence.version.saturating_add(1).max(unix_ms());
        self.command(move |node, now| {
            let _ = node.restore_presence(now, status, &presence.text, version);
        });
    }

    /// Runs a messenger command.
    pub(super) fn messenger_command(&mut self, req: u64, command: Command) {
        match command {
            Command::Request { email, note } => {
                let id = Id::from_email(&email);
                self.emails.insert(id, email.clone());
                self.ask(move |node, _, now| match node.request_friend(now, id, &note) {
                    Ok(()) => Input::Messenger(MessengerInput::Done { req, cmd: "request", friend: email, id, note }),
                    Err(e) => refused(req, "request", &email, e),
                });
            }
            Command::Contact { action, friend, id } => self.ask(move |node, _, now| {
                let found = |found: bool| if found { Ok(()) } else { Err(CommandError::NoSuchRequest) };
                let result = match action {
                    ContactAction::Cancel => found(node.cancel_friend_request(now, id)),
                    ContactAction::Accept => node.accept_friend(now, id),
                    ContactAction::Decline => node.decline_friend(now, id),
                    ContactAction::Block => node.block(now, id),
                    ContactAction::Unblock => found(node.unblock(now, id)),
                    ContactAction::Unfriend => node.unfriend(now, id),
                };
                match result {
                    Ok(()) => {
                        let (cmd, note) = (action.name(), String::new());
                        Input::Messenger(MessengerInput::Done { req, cmd, friend, id, note })
                    }
                    Err(e) => refused(req, action.name(), &friend, e),
                }
            }),
            Command::Requests => {
                let emails = self.emails.clone();
                self.ask(move |node, _, _| {
                    let requests = node.friend_requests();
                    let entry = |id: Id, text: &str| RequestEntry {
                        id: id.to_string(),
                        email: emails.get(&id).cloned(),
                        text: text.to_owned(),
                    };
                    let incoming =
                        requests.incoming().iter().filter(|r| r.verified).map(|r| entry(r.from.id, &r.text)).collect();
                    let outgoing = requests.outgoing().iter().map(|r| entry(r.to, &r.text)).collect();
                    let blocked = requests.blocked().iter().map(Id::to_string).collect();
                    reply(Report::Requests { req: Some(req), incoming, outgoing, blocked })
                });
            }
            Command::Contacts => {
                let emails = self.emails.clone();
                let groups = self.messenger.groups.members.clone();
                self.ask(move |node, _, _| {
                    let contacts = node
                        .contacts()
                        .iter()
                        .map(|c| ContactEntry {
                            email: emails.get(&c.id).cloned(),
                            id: c.id.to_string(),
                            addr: node.friends().get(c.id).map_or_else(String::new, |f| f.addr.to_string()),
                            status: control::status_name(c.presence.status),
                            text: c.presence.text.as_str().to_owned(),
                            group: groups.get(&c.id.to_string()).cloned(),
                            undelivered: node.undelivered().filter(|(friend, _)| *friend == c.id).count(),
                        })
                        .collect();
                    reply(Report::Contacts { req: Some(req), contacts })
                });
            }
            Command::Presence { status, text } => {
                self.ask(move |node, _, now| match node.set_presence(now, status, &text) {
                    Ok(()) => {
                        let version = node.presence().2;
                        Input::Messenger(MessengerInput::PresenceSet { req, status, text, version })
                    }
                    Err(e) => reply(Report::Error { req: Some(req), message: format!("presence: {e}") }),
                })
            }
            Command::Say { friend, id, text } => {
                self.ask(move |node, _, now| match node.say(now, id, text.as_bytes()) {
                    Ok(seq) => Input::Messenger(MessengerInput::Said { req, friend: id, seq, text }),
                    Err(e) => refused(req, "say", &friend, e),
                })
            }
            Command::History { id, count, .. } => {
                let hex = id.to_string();
                let lines: Vec<HistoryLine> = self
                    .messenger
                    .history
                    .iter()
                    .filter(|h| h.friend == hex)
                    .map(|h| HistoryLine {
                        outgoing: h.outgoing,
                        seq: h.seq,
                        text: h.text.clone(),
                        at_ms: h.at_ms,
                        delivered: h.delivered,
                    })
                    .collect();
                let messages = lines[lines.len().saturating_sub(count)..].to_vec();
                self.report(Report::History { req: Some(req), friend: hex, messages });
            }
            Command::Groups => self.report_groups(req),
            Command::Group(change) => self.change_groups(req, change),
            _ => {}
        }
    }

    /// Turns a messenger event into its report, with what the core knows of it.
    pub(super) fn messenger_event(&mut self, event: Event) {
        let email = |session: &Session, id: Id| session.emails.get(&id).cloned();
        match event {
            Event::FriendRequest { from } => self.ask(move |node, _, _| {
                let request = node.friend_requests().incoming().iter().find(|r| r.from.id == from.id).cloned();
                match request {
                    Some(r) => Input::Messenger(MessengerInput::Request {
                        from: r.from,
                        key: r.key,
                        nonce: r.nonce,
                        text: r.text.as_str().to_owned(),
                    }),
                    None => reply(Report::FriendRequest { from: Peer::from(from), text: String::new() }),
                }
            }),
            Event::FriendAccepted { friend } => {
                self.forget_request(friend, false);
                self.report(Report::FriendAccepted { friend: friend.to_string(), email: email(self, friend) });
                self.save_contacts();
            }
            Event::FriendDeclined { friend } => {
                self.forget_request(friend, false);
                self.report(Report::FriendDeclined { friend: friend.to_string(), email: email(self, friend) });
            }
            Event::Unfriended { friend } => {
                self.forget_contact(friend);
                self.report(Report::Unfriended { friend: friend.to_string(), email: email(self, friend) });
            }
            Event::PresenceChanged { friend, status } => {
                let email = email(self, friend);
                self.ask(move |node, _, _| {
                    let text = node.contacts().get(friend).map_or_else(String::new, |c| c.presence.text.to_string());
                    let status = control::status_name(status);
                    reply(Report::Presence { friend: friend.to_string(), email, status, text })
                });
            }
            Event::Message { .. } => self.ask(|node, _, _| {
                let mut buf = Box::new([0u8; MAX_MESSAGE]);
                let mut read = Vec::new();
                while let Some(m) = node.read_message(&mut buf) {
                    read.push((m.from, m.seq, String::from_utf8_lossy(&buf[..m.len]).into_owned()));
                }
                Input::Messenger(MessengerInput::Read(read))
            }),
            Event::Delivered { friend, seq } => {
                let hex = friend.to_string();
                self.messenger.outbox.retain(|m| !(m.friend == hex && m.seq == seq));
                for h in self.messenger.history.iter_mut().filter(|h| h.friend == hex && h.outgoing && h.seq == seq) {
                    h.delivered = true;
                }
                self.save_file(DataFile::Outbox);
                self.save_file(DataFile::History);
                self.save_contacts();
                self.report(Report::Delivered { friend: hex, seq });
            }
            other => tracing::debug!(?other, "event not reported"),
        }
    }

    /// Handles what a messenger command or event hands back from the loop.
    pub(super) fn messenger_input(&mut self, input: MessengerInput) {
        match input {
            MessengerInput::Contacts(records) => {
                let contacts: Vec<SavedContact> = records
                    .into_iter()
                    .map(|(r, addr)| SavedContact {
                        email: self.emails.get(&r.id).cloned(),
                        id: r.id.to_string(),
                        addr,
                        key: r.key.to_string(),
                        since: r.since,
                        next_seq: r.next_seq,
                        receipted: r.receipted,
                        delivered: r.delivered,
                    })
                    .collect();
                if let Err(e) = self.messenger.save(DataFile::Contacts, &contacts) {
                    self.error(None, e);
                }
            }
            MessengerInput::Read(messages) => {
                for (from, seq, text) in messages {
                    self.remember(from, false, seq, &text);
                    let email = self.emails.get(&from).cloned();
                    self.report(Report::Message { from: from.to_string(), email, seq, text });
                }
                self.save_file(DataFile::History);
                self.save_contacts();
            }
            MessengerInput::Request { from, key, nonce, text } => {
                let hex = from.id.to_string();
                self.messenger.requests.incoming.retain(|r| r.id != hex);
                self.messenger.requests.incoming.push(SavedRequest {
                    id: hex,
                    email: self.emails.get(&from.id).cloned(),
                    addr: from.addr.to_string(),
                    key: key.to_string(),
                    nonce,
                    text: text.clone(),
                });
                self.save_file(DataFile::Requests);
                self.report(Report::FriendRequest { from: Peer::from(from), text });
            }
            MessengerInput::Said { req, friend, seq, text } => {
                let hex = friend.to_string();
                self.messenger.outbox.push(SavedMessage { friend: hex.clone(), seq, text: text.clone() });
                self.remember(friend, true, seq, &text);
                self.save_file(DataFile::Outbox);
                self.save_file(DataFile::History);
                self.save_contacts();
                self.report(Report::Said { req: Some(req), friend: hex, seq });
            }
            MessengerInput::Done { req, cmd, friend, id, note } => {
                match cmd {
                    "request" => {
                        let hex = id.to_string();
                        self.messenger.requests.outgoing.retain(|r| r.id != hex);
                        let email = self.emails.get(&id).cloned();
                        let saved = SavedRequest {
                            id: hex,
                            email,
                            addr: String::new(),
                            key: String::new(),
                            nonce: 0,
                            text: note,
                        };
                        self.messenger.requests.outgoing.push(saved);
                        self.save_file(DataFile::Requests);
                    }
                    "accept" => {
                        self.forget_request(id, true);
                        self.save_contacts();
                    }
                    "decline" | "block" => self.forget_request(id, true),
                    "cancel" => self.forget_request(id, false),
                    "unfriend" => self.forget_contact(id),
                    _ => {}
                }
                self.report(Report::Done { req: Some(req), cmd, friend });
            }
            MessengerInput::PresenceSet { req, status, text, version } => {
                let status = control::status_name(status);
                self.messenger.presence = SavedPresence { status: status.to_owned(), text: text.clone(), version };
                self.save_file(DataFile::Presence);
                self.report(Report::PresenceSet { req: Some(req), status, text });
            }
        }
    }

    /// Keeps a message of the conversation with `friend`.
    fn remember(&mut self, friend: Id, outgoing: bool, seq: u32, text: &str) {
        let hex = friend.to_string();
        let entry = HistoryEntry {
            friend: hex.clone(),
            outgoing,
            seq,
            text: text.to_owned(),
            at_ms: unix_ms(),
            delivered: false,
        };
        self.messenger.history.push(entry);
        let kept = self.messenger.history.iter().filter(|h| h.friend == hex).count();
        if kept > HISTORY_PER_FRIEND {
            if let Some(oldest) = self.messenger.history.iter().position(|h| h.friend == hex) {
                self.messenger.history.remove(oldest);
            }
        }
    }

    /// Forgets the request from (`incoming`) or to `id`.
    fn forget_request(&mut self, id: Id, incoming: bool) {
        let hex = id.to_string();
        let list = if incoming { &mut self.messenger.requests.incoming } else { &mut self.messenger.requests.outgoing };
        list.retain(|r| r.id != hex);
        self.save_file(DataFile::Requests);
    }

    /// A friendship ended: its group membership and undelivered messages go.
    fn forget_contact(&mut self, id: Id) {
        let hex = id.to_string();
        self.messenger.groups.members.remove(&hex);
        self.messenger.outbox.retain(|m| m.friend != hex);
        self.save_file(DataFile::Groups);
        self.save_file(DataFile::Outbox);
        self.save_contacts();
    }

    /// Saves the contacts as the core holds them.
    fn save_contacts(&self) {
        self.ask(|node, _, _| Input::Messenger(MessengerInput::Contacts(contact_records(node))));
    }

    /// Saves one of the files the session keeps.
    fn save_file(&self, file: DataFile) {
        let m = &self.messenger;
        let result = match file {
            DataFile::Groups => m.save(file, &m.groups),
            DataFile::Outbox => m.save(file, &m.outbox),
            DataFile::History => m.save(file, &m.history),
            DataFile::Requests => m.save(file, &m.requests),
            DataFile::Presence => m.save(file, &m.presence),
            // The core holds the contacts: see save_contacts; the transfers keep their own.
            DataFile::Contacts | DataFile::Downloads => Ok(()),
        };
        if let Err(e) = result {
            self.error(None, e);
        }
    }

    fn report_groups(&self, req: u64) {
        let groups = &self.messenger.groups;
        let name_of = |hex: &String| {
            let id = parse_id(hex);
            id.and_then(|id| self.emails.get(&id).cloned()).unwrap_or_else(|| hex.clone())
        };
        let entries = groups
            .groups
            .iter()
            .map(|g| GroupEntry {
                name: g.clone(),
                members: groups.members.iter().filter(|(_, group)| *group == g).map(|(id, _)| name_of(id)).collect(),
            })
            .collect();
        let grouped: Vec<String> = groups.members.keys().cloned().collect();
        let emails = self.emails.clone();
        self.ask(move |node, _, _| {
            let ungrouped = node
                .contacts()
                .iter()
                .filter(|c| !grouped.contains(&c.id.to_string()))
                .map(|c| emails.get(&c.id).cloned().unwrap_or_else(|| c.id.to_string()))
                .collect();
            reply(Report::Groups { req: Some(req), groups: entries, ungrouped })
        });
    }

    fn change_groups(&mut self, req: u64, change: GroupChange) {
        let groups = &mut self.messenger.groups;
        let exists = |groups: &SavedGroups, name: &str| groups.groups.iter().any(|g| g == name);
        let refused = match change {
            GroupChange::Create(name) if exists(groups, &name) => Some(format!("group {name:?} exists")),
            GroupChange::Create(name) => {
                groups.groups.push(name);
                None
            }
            GroupChange::Rename(from, _) if !exists(groups, &from) => Some(format!("no group {from:?}")),
            GroupChange::Rename(_, to) if exists(groups, &to) => Some(format!("group {to:?} exists")),
            GroupChange::Rename(from, to) => {
                for name in groups.groups.iter_mut().chain(groups.members.values_mut()).filter(|g| **g == from) {
                    name.clone_from(&to);
                }
                None
            }
            GroupChange::Delete(name) if !exists(groups, &name) => Some(format!("no group {name:?}")),
            GroupChange::Delete(name) => {
                groups.groups.retain(|g| *g != name);
                groups.members.retain(|_, g| *g != name);
                None
            }
            GroupChange::Move { group: Some(group), .. } if !exists(groups, &group) => {
                Some(format!("no group {group:?}"))
            }
            GroupChange::Move { id, group, .. } => {
                match group {
                    Some(group) => groups.members.insert(id.to_string(), group),
                    None => groups.members.remove(&id.to_string()),
                };
                None
            }
        };
        match refused {
            Some(message) => self.error(Some(req), message),
            None => {
                self.save_file(DataFile::Groups);
                self.report_groups(req);
            }
        }
    }
}

/// The contacts as the core holds them, with where each is.
fn contact_records(node: &Node) -> Vec<(ContactRecord, String)> {
    let addr = |id| node.friends().get(id).map_or_else(String::new, |f| f.addr.to_string());
    node.contacts().iter().map(|c| (c.record(), addr(c.id))).collect()
}

/// A refused messenger command as an error report.
fn refused(req: u64, cmd: &str, friend: &str, e: CommandError) -> Input {
    reply(Report::Error { req: Some(req), message: format!("{cmd} {friend}: {e}") })
}
