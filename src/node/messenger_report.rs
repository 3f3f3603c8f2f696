//! The messenger's reports: the entries they list, and their text for a person.

use super::report::Report;
use serde::Serialize;
use std::fmt::Write as _;

/// A friend request in the `requests` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestEntry {
    /// The other user's ID.
    pub id: String,
    /// Its e-mail address, if known.
    pub email: Option<String>,
    /// The note.
    pub text: String,
}

/// A contact in the `contacts` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContactEntry {
    /// Its e-mail address, if known.
    pub email: Option<String>,
    /// Its ID.
    pub id: String,
    /// Where it was last heard.
    pub addr: String,
    /// `online`, `away`, `busy` or `offline`.
    pub status: &'static str,
    /// Its status text.
    pub text: String,
    /// Its contact group.
    pub group: Option<String>,
    /// Our messages to it not yet delivered.
    pub undelivered: usize,
}

/// A message in the `history` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryLine {
    /// True if we sent it.
    pub outgoing: bool,
    /// Its number in its direction of the conversation.
    pub seq: u32,
    /// The message.
    pub text: String,
    /// When it was sent or read, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Sent messages: the receipt came.
    pub delivered: bool,
}

/// A contact group in the `groups` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupEntry {
    /// Its name.
    pub name: String,
    /// Its members (e-mail if known, else ID).
    pub members: Vec<String>,
}

/// A user as text: its e-mail if known, else its ID.
fn who(friend: &str, email: &Option<String>) -> String {
    email.clone().unwrap_or_else(|| friend.to_owned())
}

impl Report {
    /// The text of a messenger report (empty for the others).
    pub(super) fn messenger_text(&self) -> String {
        match self {
            Report::FriendRequest { from, text } => {
                format!("friend request from {} at {}: {text:?} (accept or decline {})", from.id, from.addr, from.id)
            }
            Report::FriendAccepted { friend, email } => format!("{} accepted: now a contact", who(friend, email)),
            Report::FriendDeclined { friend, email } => format!("{} declined the friend request", who(friend, email)),
            Report::Unfriended { friend, email } => format!("{} ended the friendship", who(friend, email)),
            Report::Done { cmd, friend, .. } => format!("{cmd} {friend}: done"),
            Report::Requests { incoming, outgoing, blocked, .. } => {
                let mut out =
                    format!("{} received, {} sent, {} blocked", incoming.len(), outgoing.len(), blocked.len());
                for r in incoming {
                    let _ = write!(out, "\n  from {}: {:?}", who(&r.id, &r.email), r.text);
                }
                for r in outgoing {
                    let _ = write!(out, "\n  to {}: {:?}", who(&r.id, &r.email), r.text);
                }
                for id in blocked {
                    let _ = write!(out, "\n  blocked {id}");
                }
                out
            }
            Report::Contacts { contacts, .. } if contacts.is_empty() => "no contacts".to_owned(),
            Report::Contacts { contacts, .. } => {
                let mut out = format!("{} contacts:", contacts.len());
                for c in contacts {
                    let text = if c.text.is_empty() { String::new() } else { format!(" \"{}\"", c.text) };
                    let group = c.group.as_deref().map_or_else(String::new, |g| format!(" [{g}]"));
                    let waiting =
                        if c.undelivered > 0 { format!(", {} undelivered", c.undelivered) } else { String::new() };
                    let _ = write!(out, "\n  {} {}{text}{group}{waiting}", who(&c.id, &c.email), c.status);
                }
                out
            }
            Report::Presence { friend, email, status, text } if text.is_empty() => {
                format!("{} is {status}", who(friend, email))
            }
            Report::Presence { friend, email, status, text } => format!("{} is {status}: {text}", who(friend, email)),
            Report::PresenceSet { status, text, .. } => format!("you are {status} {text}").trim_end().to_owned(),
            Report::Said { friend, seq, .. } => format!("to {friend} #{seq}: sent"),
            Report::Message { from, email, seq, text } => format!("{} #{seq}: {text}", who(from, email)),
            Report::Delivered { friend, seq } => format!("to {friend} #{seq}: delivered"),
            Report::History { friend, messages, .. } => {
                let mut out = format!("{} messages with {friend}", messages.len());
                for m in messages {
                    let mark = match (m.outgoing, m.delivered) {
                        (false, _) => "<",
                        (true, true) => "> (delivered)",
                        (true, false) => ">",
                    };
                    let _ = write!(out, "\n  {mark} #{}: {}", m.seq, m.text);
                }
                out
            }
            Report::Groups { groups, ungrouped, .. } => {
                let mut out = format!("{} groups", groups.len());
                for g in groups {
                    let _ = write!(out, "\n  {}: {}", g.name, g.members.join(", "));
                }
                if !ungrouped.is_empty() {
                    let _ = write!(out, "\n  (no group): {}", ungrouped.join(", "));
                }
                out
            }
            _ => String::new(),
        }
    }
}
