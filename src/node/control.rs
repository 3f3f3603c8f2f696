//! The node's control language: one command per line, as text or as JSON.
//!
//! Text and JSON lines are read into the same [`Fields`] and checked by the
//! same code, so both modes accept exactly the same commands.

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
    ("lookup", "KEY", "find the node responsible for KEY (an ID in hex or an e-mail)"),
    ("ping", "ADDR", "ping the node at [ADDR]:PORT"),
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
    /// Report the counters.
    Stats,
    /// Leave the ring.
    Leave,
    /// Leave and exit.
    Quit,
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
        "search" => fields.name = Some(rest.to_owned()),
        "files" => fields.friend = Some(rest.to_owned()),
        "lookup" => fields.key = Some(rest.to_owned()),
        "ping" => fields.addr = Some(rest.to_owned()),
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
        "stats" => Command::Stats,
        "leave" => Command::Leave,
        "quit" | "exit" => Command::Quit,
        other => return Err(ControlError::UnknownCommand(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> Result<Command, ControlError> {
        parse_text(line).expect("not blank").map(|r| r.command)
    }

    fn json(line: &str) -> Result<Request, ControlError> {
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
