//! The conferences' reports: the `conferences` listing built from the
//! core's tables, and each conference report's text for a person.

use super::report::Report;
use mmp2p_core::conference::LeftReason;
use mmp2p_core::tables::conferences::{Role, Standing};
use mmp2p_core::{Id, Node};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A conference in the `conferences` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConferenceEntry {
    /// Its session, 32 hex digits.
    pub session: String,
    /// Its name.
    pub name: String,
    /// Ours: `creator`, `invited`, `answering` or `member`.
    pub role: &'static str,
    /// Its creator's ID.
    pub creator: String,
    /// The members we know of (the creator knows them all).
    pub members: Vec<ConferenceMember>,
    /// Our parent in the delivery tree (none at the root, or while we look for one).
    pub parent: Option<String>,
    /// Our depth below the root.
    pub depth: usize,
    /// Our children in the tree.
    pub children: Vec<String>,
    /// Files and streams sent or received in it, running or done.
    pub transfers: usize,
}

/// A member in a [`ConferenceEntry`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConferenceMember {
    /// Its ID.
    pub id: String,
    /// Its e-mail address, if known.
    pub email: Option<String>,
    /// False while it has not answered its invitation.
    pub joined: bool,
}

/// The `conferences` entries of `node`, with the e-mail addresses in `emails`.
pub fn entries(node: &Node, emails: &HashMap<Id, String>) -> Vec<ConferenceEntry> {
    node.conferences()
        .iter()
        .map(|c| ConferenceEntry {
            session: c.session.to_string(),
            name: c.name.as_str().to_owned(),
            role: match c.role {
                Role::Creator => "creator",
                Role::Invited => "invited",
                Role::Answering { .. } => "answering",
                Role::Member(_) => "member",
            },
            creator: c.creator.to_string(),
            members: c
                .members()
                .iter()
                .map(|m| ConferenceMember {
                    id: m.locator.id.to_string(),
                    email: emails.get(&m.locator.id).cloned(),
                    joined: m.standing == Standing::Joined,
                })
                .collect(),
            parent: c.tree.parent.as_ref().map(|p| p.locator.id.to_string()),
            depth: c.tree.depth(),
            children: c.tree.children.iter().map(|l| l.locator.id.to_string()).collect(),
            transfers: node.conference_transfers().iter().filter(|t| t.session == c.session).count(),
        })
        .collect()
}

/// The name a reason to be out of a conference has in reports.
pub fn left_reason_name(reason: LeftReason) -> &'static str {
    match reason {
        LeftReason::Left => "left",
        LeftReason::Removed => "removed",
        LeftReason::Ended => "ended",
        LeftReason::NotAdmitted => "not_admitted",
    }
}

/// The first 8 hex digits of a session, for text.
fn short(session: &str) -> &str {
    session.get(..8).unwrap_or(session)
}

/// `id`, or its e-mail address when known.
fn who<'a>(id: &'a str, email: &'a Option<String>) -> &'a str {
    email.as_deref().unwrap_or(id)
}

impl Report {
    /// The text of a conference report (empty for the others).
    pub(super) fn conference_text(&self) -> String {
        match self {
            Report::Conferences { conferences, .. } if conferences.is_empty() => "no conferences".to_owned(),
            Report::Conferences { conferences, .. } => {
                let mut out = format!("{} conferences:", conferences.len());
                for c in conferences {
                    let joined = c.members.iter().filter(|m| m.joined).count();
                    let place = match &c.parent {
                        Some(parent) => format!("depth {} under {parent}", c.depth),
                        None if c.role == "creator" => "the root".to_owned(),
                        None => "no place in the tree yet".to_owned(),
                    };
                    let _ = write!(
                        out,
                        "\n  {} {:?} ({}): {joined} of {} members joined; {place}, {} children; {} transfers",
                        c.session,
                        c.name,
                        c.role,
                        c.members.len(),
                        c.children.len(),
                        c.transfers
                    );
                }
                out
            }
            Report::ConferenceCreated { session, name, .. } => format!("conference {name:?} created: {session}"),
            Report::ConferenceDone { cmd, session, member, .. } => match member {
                Some(member) => format!("{cmd} {member}: done in conference {}", short(session)),
                None => format!("{cmd}: done in conference {}", short(session)),
            },
            Report::ConferenceSaid { session, seq, .. } => {
                format!("conference {}: message {seq} on its way", short(session))
            }
            Report::ConferenceSending { session, transfer, name, size, rate, stream, .. } => format!(
                "conference {}: {} {name} ({size} bytes at {rate} B/s) as transfer {transfer}",
                short(session),
                if *stream { "streaming" } else { "sending" }
            ),
            Report::ConferenceInvited { session, name, creator, email } => format!(
                "{} invites you to conference {name:?} ({session}): conf-join or conf-decline",
                who(creator, email)
            ),
            Report::ConferenceInviteFailed { session, member } => {
                format!("conference {}: the invitation did not reach {member}", short(session))
            }
            Report::ConferenceAnswered { session, member, email, joined } => format!(
                "conference {}: {} {}",
                short(session),
                who(member, email),
                if *joined { "joined" } else { "declined" }
            ),
            Report::ConferenceAdmitted { session } => format!("conference {}: admitted", short(session)),
            Report::ConferenceMemberLeft { session, member, removed } => {
                format!("conference {}: {member} {}", short(session), if *removed { "was removed" } else { "left" })
            }
            Report::ConferenceLeft { session, reason } => format!("conference {}: out ({reason})", short(session)),
            Report::ConferenceAttached { session, parent, depth, root_delay_us } => format!(
                "conference {}: in the tree at depth {depth} under {parent}, {:.1} ms from the root",
                short(session),
                *root_delay_us as f64 / 1000.0
            ),
            Report::ConferenceOrphaned { session, parent } => {
                format!("conference {}: parent {parent} went; looking for another", short(session))
            }
            Report::ConferenceChat { session, from, email, text, .. } => {
                format!("[{}] {}: {text}", short(session), who(from, email))
            }
            Report::ConferenceOffered { session, from, name, size, stream, path, .. } => format!(
                "conference {}: {from} {} {name} ({size} bytes) into {path}",
                short(session),
                if *stream { "streams" } else { "sends" }
            ),
            Report::ConferenceReceived { session, path, size, ms, .. } => {
                format!("conference {}: {path} received ({size} bytes, {ms} ms), every leaf checked", short(session))
            }
            Report::ConferenceStreamStarted { session, transfer, startup_ms } => {
                format!("conference {}: stream {transfer} playing after {startup_ms} ms", short(session))
            }
            Report::ConferenceStreamEnded { session, played, missed, path, .. } => format!(
                "conference {}: stream into {path} ended: {played} leaves played, {missed} missed",
                short(session)
            ),
            Report::ConferenceSent { session, transfer } => {
                format!("conference {}: transfer {transfer} sent", short(session))
            }
            _ => String::new(),
        }
    }
}
