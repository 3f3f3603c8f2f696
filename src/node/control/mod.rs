//! The node's control language: one command per line, as text or as JSON.
//!
//! Text and JSON lines are read into the same [`Fields`] and checked by the
//! same code, so both modes accept exactly the same commands. The
//! conference commands are read in `conference.rs`.

mod conference;

pub use conference::ConferenceCommand;

use mmp2p_core::wire::Status;
use mmp2p_core::Id;
use serde::Deserialize;
use std::fmt;
use std::net::{SocketAddr, SocketAddrV6};

/// Every command: its name, its arguments and what it does (for `help`).
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("help", "", "list the commands"),
    ("status", "", "this node: ID, address, state, neighbours, counts"),
    ("neighbours", "", "both neighbour chains (neighbour first, then backups)"),
    ("friends", "", "friends with their addresses and whether they answer"),
    ("add-friend", "EMAIL ADDR", "add a friend (a routing shortcut) at [ADDR]:PORT"),
    ("share", "[NAME...]", "share more file names; without names, list what is shared"),
    ("search", "NAME", "find the owners of a file name"),
    ("files", "FRIEND", "list a friend's shared files (FRIEND: e-mail or ID)"),
    (
        "get",
        "NAME|ROOT",
        "download NAME from every owner of the content most of them have, or a content a get found by its ROOT (hex)",
    ),
    ("transfers", "", "downloads with their progress, and how many streams are served"),
    ("get-cancel", "ID", "stop download ID and delete its partial file"),
    ("lookup", "KEY", "find the node responsible for KEY (an ID in hex or an e-mail)"),
    ("ping", "ADDR", "ping the node at [ADDR]:PORT"),
    ("request", "EMAIL [NOTE...]", "ask the user with this e-mail to be friends, with a note"),
    ("cancel", "FRIEND", "stop sending our friend request to FRIEND (FRIEND: e-mail or ID)"),
    ("accept", "FRIEND", "accept FRIEND's friend request"),
    ("decline", "FRIEND", "decline FRIEND's friend request"),
    ("block", "FRIEND", "drop FRIEND's requests, presence and chat from now on"),
    ("unblock", "FRIEND", "take FRIEND's requests again"),
    ("unfriend", "FRIEND", "end the friendship with FRIEND, and tell it"),
    ("requests", "", "friend requests received and sent, and the blocked IDs"),
    ("contacts", "", "contacts with their presence, group and unread messages"),
    ("presence", "STATUS [TEXT...]", "set your presence: online, away, busy or offline, and a status text"),
    ("say", "FRIEND TEXT...", "send a chat message to a contact"),
    ("history", "FRIEND [COUNT]", "the last COUNT messages with FRIEND (default 20)"),
    ("groups", "", "the contact groups and their members"),
    ("group-create", "GROUP", "create a contact group"),
    ("group-rename", "GROUP NEW", "rename a contact group"),
    ("group-delete", "GROUP", "delete a contact group (its members stay contacts)"),
    ("group-move", "FRIEND GROUP", "move a contact into GROUP (- for none)"),
    ("conferences", "", "our conferences: role, members, place in the delivery tree"),
    ("conf-create", "NAME", "create a conference (NAME: at most 32 bytes); we are its creator"),
    ("conf-invite", "CONF FRIEND", "invite a contact to our conference (CONF: its session in hex, or its name)"),
    ("conf-join", "CONF", "accept a conference's invitation"),
    ("conf-decline", "CONF", "decline a conference's invitation"),
    ("conf-leave", "CONF", "leave a conference (its creator leaving ends it)"),
    ("conf-remove", "CONF FRIEND", "remove a member from our conference"),
    ("conf-say", "CONF TEXT...", "say something to every member of a conference"),
    ("conf-send", "CONF PATH", "push a file to every member (at 1 MiB/s unless JSON gives \"rate\")"),
    ("conf-stream", "CONF RATE PATH", "stream a file to every member at RATE bytes a second, played as it comes"),
    ("stats", "", "datagram, byte, drop and socket counters"),
    ("leave", "", "leave the ring gracefully and stay running"),
    ("quit", "", "leave the ring and exit"),
];

/// A checked command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// List the commands.
    Help,
    /// Report this node's state.
    Status,
    /// Report the neighbour chains.
    Neighbours,
    /// Report the friends.
    Friends,
    /// Add a friend.
    AddFriend {
        /// The friend's e-mail address (its ID is the MD5 of it).
        email: String,
        /// Where the friend's node listens.
        addr: SocketAddrV6,
    },
    /// Share more names (empty: list the shared names).
    Share {
        /// The names to add.
        names: Vec<String>,
    },
    /// Search for a file name.
    Search {
        /// The name.
        name: String,
    },
    /// List a friend's files.
    Files {
        /// The friend, as typed.
        friend: String,
        /// Its ID.
        id: Id,
    },
    /// Look up the node responsible for a key.
    Lookup {
        /// The key.
        key: Id,
    },
    /// Ping a node.
    Ping {
        /// Its address.
        addr: SocketAddrV6,
    },
    /// Ask a user to be friends.
    Request {
        /// Its e-mail address.
        email: String,
        /// A note (at most 256 bytes).
        note: String,
    },
    /// Answer, block, unblock or end a friendship.
    Contact {
        /// What to do.
        action: ContactAction,
        /// The other user, as typed.
        friend: String,
        /// Its ID.
        id: Id,
    },
    /// Report the friend requests.
    Requests,
    /// Report the contacts.
    Contacts,
    /// Set our presence.
    Presence {
        /// The state.
        status: Status,
        /// The status text.
        text: String,
    },
    /// Send a chat message.
    Say {
        /// The contact, as typed.
        friend: String,
        /// Its ID.
        id: Id,
        /// The message.
        text: String,
    },
    /// Report a conversation.
    History {
        /// The contact, as typed.
        friend: String,
        /// Its ID.
        id: Id,
        /// How many of the last messages.
        count: usize,
    },
    /// Report the contact groups.
    Groups,
    /// Change the contact groups.
    Group(GroupChange),
    /// Download a file by name, or a content found earlier by its root.
    Get {
        /// The name, or the root in hex.
        target: String,
    },
    /// Report the downloads and uploads.
    Transfers,
    /// Stop a download.
    GetCancel {
        /// The download's number.
        id: u64,
    },
    /// A conference command.
    Conference(ConferenceCommand),
    /// Report the counters.
    Stats,
    /// Leave the ring.
    Leave,
    /// Leave and exit.
    Quit,
}

/// What `accept`, `decline`, `block`, `unblock` and `unfriend` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactAction {
    /// Stop sending our request to the user.
    Cancel,
    /// Accept the user's friend request.
    Accept,
    /// Decline it.
    Decline,
    /// Block the user.
    Block,
    /// Unblock it.
    Unblock,
    /// End the friendship.
    Unfriend,
}

impl ContactAction {
    /// The command's name.
    pub fn name(self) -> &'static str {
        match self {
            ContactAction::Cancel => "cancel",
            ContactAction::Accept => "accept",
            ContactAction::Decline => "decline",
            ContactAction::Block => "block",
            ContactAction::Unblock => "unblock",
            ContactAction::Unfriend => "unfriend",
        }
    }
}

/// A change to the contact groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupChange {
    /// A new group.
    Create(String),
    /// A group's new name.
    Rename(String, String),
    /// A group deleted; its members stay contacts.
    Delete(String),
    /// A contact into a group (`None`: out of any).
    Move {
        /// The contact, as typed.
        friend: String,
        /// Its ID.
        id: Id,
        /// The group.
        group: Option<String>,
    },
}

/// The longest message `say` sends.
pub const MAX_SAY: usize = mmp2p_core::wire::MAX_MESSAGE;
/// Messages `history` shows unless told.
const HISTORY_COUNT: usize = 20;

/// The status named `name`.
pub fn parse_status(name: &str) -> Option<Status> {
    Some(match name.trim() {
        "online" => Status::Online,
        "away" => Status::Away,
        "busy" => Status::Busy,
        "offline" => Status::Offline,
        _ => return None,
    })
}

/// A status's name.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Online => "online",
        Status::Away => "away",
        Status::Busy => "busy",
        Status::Offline => "offline",
    }
}

/// One line of input: a command and the tag its results carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Chosen by the client (JSON `"req"`) or numbered by the node.
    pub req: Option<u64>,
    /// The command.
    pub command: Command,
}

/// Why a line was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    /// The line is not valid JSON or has a field of the wrong type.
    BadJson(String),
    /// No such command.
    UnknownCommand(String),
    /// A required argument is missing.
    Missing {
        /// The command.
        command: &'static str,
        /// Its usage.
        usage: &'static str,
    },
    /// An address that is not `[IPv6]:PORT`.
    BadAddress(String, AddressError),
    /// A key that is neither an ID nor an e-mail address.
    BadKey(String),
    /// An e-mail address that is empty or has no `@`.
    BadEmail(String),
    /// A status that is not online, away, busy or offline.
    BadStatus(String),
    /// A count that is not a number.
    BadCount(String),
    /// A text longer than its command takes.
    TooLong {
        /// The command.
        command: &'static str,
        /// Its limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::BadJson(e) => write!(f, "bad JSON: {e}"),
            ControlError::UnknownCommand(c) => write!(f, "unknown command {c:?} (try help)"),
            ControlError::Missing { command, usage } => write!(f, "usage: {command} {usage}"),
            ControlError::BadAddress(input, e) => write!(f, "bad address {input:?}: {e}"),
            ControlError::BadKey(k) => {
                write!(f, "bad key {k:?}: expected an ID (1 to 32 hex digits) or an e-mail address")
            }
            ControlError::BadEmail(e) => write!(f, "bad e-mail address {e:?}"),
            ControlError::BadStatus(s) => write!(f, "bad status {s:?}: expected online, away, busy or offline"),
            ControlError::BadCount(c) => write!(f, "bad count {c:?}: expected a number"),
            ControlError::TooLong { command, limit } => write!(f, "{command}: the text is over {limit} bytes"),
        }
    }
}

impl std::error::Error for ControlError {}

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Not of the form `[ADDR]:PORT`.
    Syntax,
    /// An IPv4 or IPv4-mapped address: MMP2P runs over IPv6 only.
    NotIpv6,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressError::Syntax => "expected [IPv6 address]:port, e.g. [::1]:4000",
            AddressError::NotIpv6 => "IPv4 and IPv4-mapped addresses are refused: MMP2P runs over IPv6 only",
        })
    }
}

impl std::error::Error for AddressError {}

/// Parses `[ADDR]:PORT`, refusing IPv4 and IPv4-mapped addresses.
pub fn parse_address(input: &str) -> Result<SocketAddrV6, AddressError> {
    let addr: SocketAddr = input.trim().parse().map_err(|_| AddressError::Syntax)?;
    mmp2p_mio::ipv6_only(addr).map_err(|_| AddressError::NotIpv6)
}

/// Parses `EMAIL=[ADDR]:PORT` (the `--friend` option).
pub fn parse_friend(input: &str) -> Result<(String, SocketAddrV6), ControlError> {
    let (email, addr) =
        input.split_once('=').ok_or(ControlError::Missing { command: "--friend", usage: "EMAIL=[ADDR]:PORT" })?;
    Ok((checked_email(email)?, checked_address(addr)?))
}

/// A node's ID from an e-mail address or from an ID in hex.
pub fn parse_key(input: &str) -> Result<Id, ControlError> {
    let input = input.trim();
    if input.contains('@') {
        return Ok(Id::from_email(&checked_email(input)?));
    }
    input.parse().map_err(|_| ControlError::BadKey(input.to_owned()))
}

/// Checks an e-mail address: `user@host`, no whitespace.
pub fn checked_email(email: &str) -> Result<String, ControlError> {
    let email = email.trim();
    match email.split_once('@') {
        Some((user, host)) if !user.is_empty() && !host.is_empty() && !email.contains(char::is_whitespace) => {
            Ok(email.to_owned())
        }
        _ => Err(ControlError::BadEmail(email.to_owned())),
    }
}

/// The first word of `rest` and the rest after it, each `None` if empty.
fn split_first(rest: &str) -> (Option<String>, Option<String>) {
    let (first, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    (some(first), some(tail))
}

fn checked_address(input: &str) -> Result<SocketAddrV6, ControlError> {
    parse_address(input).map_err(|e| ControlError::BadAddress(input.trim().to_owned(), e))
}

/// A command's arguments as read from a line, before they are checked.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    email: Option<String>,
    addr: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    name: Option<String>,
    friend: Option<String>,
    key: Option<String>,
    text: Option<String>,
    status: Option<String>,
    group: Option<String>,
    to: Option<String>,
    count: Option<u64>,
    id: Option<u64>,
    conf: Option<String>,
    path: Option<String>,
    rate: Option<u64>,
}

/// A JSON command line.
#[derive(Debug, Deserialize)]
struct JsonLine {
    cmd: String,
    req: Option<u64>,
    #[serde(flatten)]
    fields: Fields,
}

/// Reads a text command line: the command's name, then its arguments.
/// Returns `None` for a blank line or a `#` comment.
pub fn parse_text(line: &str) -> Option<Result<Request, ControlError>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let mut fields = Fields::default();
    match name {
        "add-friend" => {
            let (email, addr) =
                rest.split_once('=').or_else(|| rest.split_once(char::is_whitespace)).unwrap_or((rest, ""));
            fields.email = Some(email.to_owned()).filter(|e| !e.is_empty());
            fields.addr = Some(addr.trim().to_owned()).filter(|a| !a.is_empty());
        }
        "share" => fields.names = rest.split_whitespace().map(str::to_owned).collect(),
        "search" | "get" => fields.name = Some(rest.to_owned()),
        "get-cancel" => match rest.parse() {
            Ok(id) => fields.id = Some(id),
            Err(_) if rest.is_empty() => {}
            Err(_) => return Some(Err(ControlError::BadCount(rest.to_owned()))),
        },
        "files" => fields.friend = Some(rest.to_owned()),
        "lookup" => fields.key = Some(rest.to_owned()),
        "request" => (fields.email, fields.text) = split_first(rest),
        "cancel" | "accept" | "decline" | "block" | "unblock" | "unfriend" => fields.friend = Some(rest.to_owned()),
        "presence" => (fields.status, fields.text) = split_first(rest),
        "say" => (fields.friend, fields.text) = split_first(rest),
        "history" => {
            let (friend, count) = split_first(rest);
            fields.friend = friend;
            if let Some(count) = count {
                match count.parse() {
                    Ok(count) => fields.count = Some(count),
                    Err(_) => return Some(Err(ControlError::BadCount(count))),
                }
            }
        }
        "group-create" | "group-delete" => fields.group = Some(rest.to_owned()),
        "group-rename" => (fields.group, fields.to) = split_first(rest),
        "group-move" => (fields.friend, fields.group) = split_first(rest),
        "ping" => fields.addr = Some(rest.to_owned()),
        name if name.starts_with("conf-") => {
            if let Err(e) = conference::read_text(name, rest, &mut fields) {
                return Some(Err(e));
            }
        }
        _ => {}
    }
    Some(command(name, fields).map(|command| Request { req: None, command }))
}

/// Reads a JSON command line such as `{"cmd":"search","name":"a.txt","req":7}`.
/// Returns `None` for a blank line.
pub fn parse_json(line: &str) -> Option<Result<Request, ControlError>> {
    if line.trim().is_empty() {
        return None;
    }
    Some(match serde_json::from_str::<JsonLine>(line) {
        Ok(json) => command(&json.cmd, json.fields).map(|command| Request { req: json.req, command }),
        Err(e) => Err(ControlError::BadJson(e.to_string())),
    })
}

/// Checks a command's arguments.
fn command(name: &str, fields: Fields) -> Result<Command, ControlError> {
    let required = |value: Option<String>| {
        let usage = COMMANDS.iter().find(|(n, _, _)| *n == name).map_or("", |(_, usage, _)| *usage);
        let command = COMMANDS.iter().find(|(n, _, _)| *n == name).map_or("", |(n, _, _)| *n);
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or(ControlError::Missing { command, usage })
    };
    Ok(match name {
        "help" => Command::Help,
        "status" => Command::Status,
        "neighbours" | "neighbors" => Command::Neighbours,
        "friends" => Command::Friends,
        "add-friend" => {
            let email = checked_email(&required(fields.email)?)?;
            Command::AddFriend { email, addr: checked_address(&required(fields.addr)?)? }
        }
        "share" => Command::Share { names: fields.names },
        "search" => Command::Search { name: required(fields.name)? },
        "files" => {
            let friend = required(fields.friend)?;
            Command::Files { id: parse_key(&friend)?, friend }
        }
        "lookup" => Command::Lookup { key: parse_key(&required(fields.key)?)? },
        "ping" => Command::Ping { addr: checked_address(&required(fields.addr)?)? },
        "request" => {
            let note = fields.text.unwrap_or_default();
            let limit = mmp2p_core::wire::MAX_REQUEST_TEXT;
            if note.len() > limit {
                return Err(ControlError::TooLong { command: "request", limit });
            }
            Command::Request { email: checked_email(&required(fields.email)?)?, note }
        }
        "cancel" | "accept" | "decline" | "block" | "unblock" | "unfriend" => {
            let action = match name {
                "cancel" => ContactAction::Cancel,
                "accept" => ContactAction::Accept,
                "decline" => ContactAction::Decline,
                "block" => ContactAction::Block,
                "unblock" => ContactAction::Unblock,
                _ => ContactAction::Unfriend,
            };
            let friend = required(fields.friend)?;
            Command::Contact { action, id: parse_key(&friend)?, friend }
        }
        "requests" => Command::Requests,
        "contacts" => Command::Contacts,
        "presence" => {
            let status = required(fields.status)?;
            let status = parse_status(&status).ok_or(ControlError::BadStatus(status))?;
            let text = fields.text.unwrap_or_default();
            let limit = mmp2p_core::wire::MAX_STATUS_TEXT;
            if text.len() > limit {
                return Err(ControlError::TooLong { command: "presence", limit });
            }
            Command::Presence { status, text }
        }
        "say" => {
            let friend = required(fields.friend)?;
            let id = parse_key(&friend)?;
            let text = required(fields.text)?;
            if text.len() > MAX_SAY {
                return Err(ControlError::TooLong { command: "say", limit: MAX_SAY });
            }
            Command::Say { friend, id, text }
        }
        "history" => {
            let friend = required(fields.friend)?;
            let count = fields.count.map_or(HISTORY_COUNT, |c| usize::try_from(c).unwrap_or(usize::MAX));
            Command::History { id: parse_key(&friend)?, friend, count }
        }
        "groups" => Command::Groups,
        "group-create" => Command::Group(GroupChange::Create(required(fields.group)?)),
        "group-delete" => Command::Group(GroupChange::Delete(required(fields.group)?)),
        "group-rename" => Command::Group(GroupChange::Rename(required(fields.group)?, required(fields.to)?)),
        "group-move" => {
            let friend = required(fields.friend)?;
            let group = required(fields.group)?;
            let group = Some(group).filter(|g| g != "-");
            Command::Group(GroupChange::Move { id: parse_key(&friend)?, friend, group })
        }
        "get" => Command::Get { target: required(fields.name)? },
        "transfers" => Command::Transfers,
        "get-cancel" => {
            let missing = ControlError::Missing { command: "get-cancel", usage: "ID" };
            Command::GetCancel { id: fields.id.ok_or(missing)? }
        }
        name if name == "conferences" || name.starts_with("conf-") => {
            Command::Conference(conference::command(name, fields, &required)?)
        }
        "stats" => Command::Stats,
        "leave" => Command::Leave,
        "quit" | "exit" => Command::Quit,
        other => return Err(ControlError::UnknownCommand(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command a text line reads as.
    pub(super) fn text(line: &str) -> Result<Command, ControlError> {
        parse_text(line).expect("not blank").map(|r| r.command)
    }

    /// The request a JSON line reads as.
    pub(super) fn json(line: &str) -> Result<Request, ControlError> {
        parse_json(line).expect("not blank")
    }

    #[test]
    fn text_and_json_read_the_same_commands() {
        let addr: SocketAddrV6 = "[::1]:4001".parse().unwrap();
        let friend = Command::AddFriend { email: "bob@example.org".into(), addr };
        assert_eq!(text("add-friend bob@example.org [::1]:4001"), Ok(friend.clone()));
        assert_eq!(text("add-friend bob@example.org=[::1]:4001"), Ok(friend.clone()));
        let request = json(r#"{"cmd":"add-friend","email":"bob@example.org","addr":"[::1]:4001","req":3}"#);
        assert_eq!(request, Ok(Request { req: Some(3), command: friend }));
        assert_eq!(text("search my song.mp3"), Ok(Command::Search { name: "my song.mp3".into() }));
        assert_eq!(
            json(r#"{"cmd":"search","name":"a.txt"}"#).map(|r| r.command),
            Ok(Command::Search { name: "a.txt".into() })
        );
        assert_eq!(text("share a b"), Ok(Command::Share { names: vec!["a".into(), "b".into()] }));
        assert_eq!(text("lookup 0"), Ok(Command::Lookup { key: Id::KEY_NODE }));
        assert_eq!(text("lookup Bob@Example.org"), Ok(Command::Lookup { key: Id::from_email("bob@example.org") }));
        assert_eq!(parse_text("   "), None);
        assert_eq!(parse_text("# a comment"), None);
    }

    #[test]
    fn messenger_commands_read_the_same_as_text_and_json() {
        let bob = Id::from_email("bob@example.org");
        let say = Command::Say { friend: "bob@example.org".into(), id: bob, text: "see you at eight".into() };
        assert_eq!(text("say bob@example.org see you at eight"), Ok(say.clone()));
        assert_eq!(
            json(r#"{"cmd":"say","friend":"bob@example.org","text":"see you at eight"}"#).map(|r| r.command),
            Ok(say)
        );
        let request = Command::Request { email: "bob@example.org".into(), note: "hi there".into() };
        assert_eq!(text("request bob@example.org hi there"), Ok(request));
        assert_eq!(
            text("presence away at lunch"),
            Ok(Command::Presence { status: Status::Away, text: "at lunch".into() })
        );
        assert_eq!(
            text("history bob@example.org 5"),
            Ok(Command::History { friend: "bob@example.org".into(), id: bob, count: 5 })
        );
        let moved = GroupChange::Move { friend: "bob@example.org".into(), id: bob, group: None };
        assert_eq!(text("group-move bob@example.org -"), Ok(Command::Group(moved)));
        assert_eq!(
            text("group-rename work office"),
            Ok(Command::Group(GroupChange::Rename("work".into(), "office".into())))
        );
        let cancel = Command::Contact { action: ContactAction::Cancel, friend: "bob@example.org".into(), id: bob };
        assert_eq!(text("cancel bob@example.org"), Ok(cancel));
        assert_eq!(text("presence asleep"), Err(ControlError::BadStatus("asleep".into())));
        assert_eq!(text("history bob@example.org many"), Err(ControlError::BadCount("many".into())));
        assert_eq!(text("say bob@example.org"), Err(ControlError::Missing { command: "say", usage: "FRIEND TEXT..." }));
        let long = format!("say bob@example.org {}", "x".repeat(MAX_SAY + 1));
        assert_eq!(text(&long), Err(ControlError::TooLong { command: "say", limit: MAX_SAY }));
    }

    #[test]
    fn bad_lines_get_typed_errors() {
        assert!(matches!(text("dance"), Err(ControlError::UnknownCommand(c)) if c == "dance"));
        assert!(matches!(json("{\"cmd\":"), Err(ControlError::BadJson(_))));
        assert!(matches!(json("[1,2]"), Err(ControlError::BadJson(_))));
        assert!(matches!(json(r#"{"cmd":"search","name":5}"#), Err(ControlError::BadJson(_))));
        assert_eq!(text("search"), Err(ControlError::Missing { command: "search", usage: "NAME" }));
        assert_eq!(
            text("add-friend bob@example.org 127.0.0.1:4000"),
            Err(ControlError::BadAddress("127.0.0.1:4000".into(), AddressError::NotIpv6))
        );
        assert_eq!(
            text("ping [::ffff:127.0.0.1]:4000"),
            Err(ControlError::BadAddress("[::ffff:127.0.0.1]:4000".into(), AddressError::NotIpv6))
        );
        assert_eq!(text("ping nowhere"), Err(ControlError::BadAddress("nowhere".into(), AddressError::Syntax)));
        assert_eq!(text("lookup xyz"), Err(ControlError::BadKey("xyz".into())));
        assert_eq!(text("add-friend bob [::1]:1"), Err(ControlError::BadEmail("bob".into())));
    }
}
