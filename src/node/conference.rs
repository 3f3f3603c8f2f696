//! Conferences in the program: their commands, their events as reports,
//! and their files — a file we send is hashed and read through the disk
//! like a shared one; a file or stream sent to us is written into the
//! output directory (the disk opens it inside the loop as it is offered,
//! see [`DiskStorage`](super::files::DiskStorage)), finished when every
//! leaf is in, or when a stream has played to its end.

use super::control::ConferenceCommand;
use super::files::SharedFile;
use super::report::Report;
use super::{conference_report, elapsed_ms, reply, Session};
use mmp2p_core::conference::{ConferenceEvent, SessionId};
use mmp2p_core::content::ContentId;
use mmp2p_core::{CommandError, Node, RequestId};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant as Clock;

/// What the session keeps of its conferences' files.
#[derive(Default)]
pub(super) struct Conferences {
    /// Files and streams coming in, by the id their writes carry.
    incoming: HashMap<RequestId, Incoming>,
    /// Files we send, by conference (kept readable until we leave it).
    sending: HashMap<SessionId, Vec<Arc<SharedFile>>>,
}

/// A file or stream coming in.
struct Incoming {
    session: SessionId,
    transfer: u64,
    offered: Clock,
}

impl Conferences {
    /// True if a conference of ours still sends `content` (the disk must keep serving it).
    pub(super) fn sends(&self, content: &ContentId) -> bool {
        self.sending.values().flatten().any(|f| f.content == *content)
    }
}

/// The conference `conf` names: its session in hex, or its name if no
/// other conference of ours has it.
fn find(node: &Node, conf: &str) -> Result<SessionId, String> {
    if let Ok(session) = conf.parse::<SessionId>() {
        if node.conferences().get(session).is_some() {
            return Ok(session);
        }
    }
    let mut named = node.conferences().iter().filter(|c| c.name.as_str() == conf).map(|c| c.session);
    match (named.next(), named.next()) {
        (Some(session), None) => Ok(session),
        (Some(_), Some(_)) => Err(format!("several conferences are named {conf:?}: give its session")),
        (None, _) => Err(format!("no conference {conf:?} (see conferences)")),
    }
}

/// A transfer's number as reports show it: 16 hex digits.
fn transfer_hex(transfer: u64) -> String {
    format!("{transfer:016x}")
}

/// The name a file sent to a conference goes by: its file name, cut to
/// the 32 bytes a conference name takes.
fn send_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".to_owned());
    let mut end = name.len().min(mmp2p_core::conference::MAX_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

impl Session {
    /// Runs a conference command.
    pub(super) fn conference_command(&mut self, req: u64, command: ConferenceCommand) {
        let cmd = command.name();
        let refused = move |e: String| reply(Report::Error { req: Some(req), message: format!("{cmd}: {e}") });
        match command {
            ConferenceCommand::List => {
                let emails = self.emails.clone();
                self.ask(move |node, _, _| {
                    reply(Report::Conferences {
                        req: Some(req),
                        conferences: conference_report::entries(node, &emails),
                    })
                });
            }
            ConferenceCommand::Create { name } => {
                self.ask(move |node, _, now| match node.create_conference(now, &name) {
                    Ok(session) => {
                        reply(Report::ConferenceCreated { req: Some(req), session: session.to_string(), name })
                    }
                    Err(e) => refused(e.to_string()),
                })
            }
            ConferenceCommand::Member { conf, friend, id, invite } => self.ask(move |node, _, now| {
                let session = match find(node, &conf) {
                    Ok(session) => session,
                    Err(e) => return refused(e),
                };
                let result = if invite {
                    node.invite_to_conference(now, session, id)
                } else {
                    node.remove_from_conference(now, session, id)
                };
                done(req, cmd, session, Some(friend), result).unwrap_or_else(refused)
            }),
            ConferenceCommand::Answer { conf, join } => self.ask(move |node, _, now| {
                let session = match find(node, &conf) {
                    Ok(session) => session,
                    Err(e) => return refused(e),
                };
                let result = match join {
                    Some(join) => node.answer_invitation(now, session, join),
                    None => node.leave_conference(now, session),
                };
                done(req, cmd, session, None, result).unwrap_or_else(refused)
            }),
            ConferenceCommand::Say { conf, text } => self.ask(move |node, _, now| {
                let result = find(node, &conf).and_then(|session| {
                    node.conference_say(now, session, &text).map_err(|e| e.to_string()).map(|seq| (session, seq))
                });
                match result {
                    Ok((session, seq)) => {
                        reply(Report::ConferenceSaid { req: Some(req), session: session.to_string(), seq })
                    }
                    Err(e) => refused(e),
                }
            }),
            ConferenceCommand::Send { conf, path, rate, stream } => {
                self.conference_send(req, cmd, &conf, &path, rate, stream)
            }
        }
    }

    /// `conf-send` and `conf-stream`: hashes the file, lets the disk read
    /// it, and hands it to the core.
    fn conference_send(&mut self, req: u64, cmd: &'static str, conf: &str, path: &str, rate: u32, stream: bool) {
        let path = Path::new(path);
        let shared = match SharedFile::hash(path) {
            Ok(shared) => Arc::new(shared),
            Err(e) => return self.error(Some(req), format!("{cmd}: cannot read {}: {e}", path.display())),
        };
        let (content, name) = (shared.content, send_name(path));
        self.transfers.disk.lock().served.insert(content, Arc::clone(&shared));
        let conf = conf.to_owned();
        let sender = self.sender.clone();
        self.ask(move |node, _, now| {
            let result = find(node, &conf).and_then(|session| {
                let sent = node.conference_send(now, session, (content, &name), rate, stream);
                sent.map(|transfer| (session, transfer)).map_err(|e| e.to_string())
            });
            match result {
                Ok((session, transfer)) => {
                    let _ = sender.send(super::Input::ConferenceSending(session, shared));
                    let (transfer, size) = (transfer_hex(transfer), content.size);
                    let session = session.to_string();
                    reply(Report::ConferenceSending { req: Some(req), session, transfer, name, size, rate, stream })
                }
                Err(e) => reply(Report::Error { req: Some(req), message: format!("{cmd}: {e}") }),
            }
        });
    }

    /// Keeps a file we send readable while we are in its conference.
    pub(super) fn conference_sending(&mut self, session: SessionId, shared: Arc<SharedFile>) {
        self.conferences.sending.entry(session).or_default().push(shared);
    }

    /// Turns a conference event into its report, and looks after its files.
    pub(super) fn conference_event(&mut self, event: ConferenceEvent) {
        let email = |session: &Session, id: mmp2p_core::Id| session.emails.get(&id).cloned();
        let report = match event {
            ConferenceEvent::Invited { session, creator, name } => Report::ConferenceInvited {
                session: session.to_string(),
                name: name.as_str().to_owned(),
                creator: creator.to_string(),
                email: email(self, creator),
            },
            ConferenceEvent::InviteFailed { session, invitee } => {
                Report::ConferenceInviteFailed { session: session.to_string(), member: invitee.to_string() }
            }
            ConferenceEvent::Answered { session, member, joined } => Report::ConferenceAnswered {
                session: session.to_string(),
                member: member.to_string(),
                email: email(self, member),
                joined,
            },
            ConferenceEvent::Admitted { session } => Report::ConferenceAdmitted { session: session.to_string() },
            ConferenceEvent::MemberLeft { session, member, removed } => {
                Report::ConferenceMemberLeft { session: session.to_string(), member: member.to_string(), removed }
            }
            ConferenceEvent::Left { session, reason } => {
                self.conference_gone(session);
                Report::ConferenceLeft {
                    session: session.to_string(),
                    reason: conference_report::left_reason_name(reason),
                }
            }
            ConferenceEvent::Attached { session, parent, depth, root_delay_us } => Report::ConferenceAttached {
                session: session.to_string(),
                parent: parent.to_string(),
                depth,
                root_delay_us,
            },
            ConferenceEvent::Orphaned { session, parent } => {
                Report::ConferenceOrphaned { session: session.to_string(), parent: parent.to_string() }
            }
            ConferenceEvent::Chat { session, from, seq, text } => Report::ConferenceChat {
                session: session.to_string(),
                from: from.to_string(),
                email: email(self, from),
                seq,
                text: text.as_str().to_owned(),
            },
            ConferenceEvent::Offered { session, transfer, request, sender, content, name, rate, stream } => {
                let opened = {
                    let mut disk = self.transfers.disk.lock();
                    let path = disk.downloads.get(&request).map(|p| p.path.display().to_string());
                    path.ok_or_else(|| {
                        disk.refused.remove(&request).unwrap_or_else(|| "no output directory".to_owned())
                    })
                };
                let path = match opened {
                    Ok(path) => path,
                    Err(why) => return self.error(None, format!("conference {session}: {name} not kept: {why}")),
                };
                self.conferences.incoming.insert(request, Incoming { session, transfer, offered: Clock::now() });
                Report::ConferenceOffered {
                    session: session.to_string(),
                    transfer: transfer_hex(transfer),
                    from: sender.to_string(),
                    name: name.as_str().to_owned(),
                    size: content.size,
                    rate,
                    stream,
                    path,
                }
            }
            ConferenceEvent::Received { session, transfer, request } => {
                let Some((path, incoming)) = self.finish_incoming(request) else { return };
                let (size, ms) = (std::fs::metadata(&path).map_or(0, |m| m.len()), elapsed_ms(incoming.offered));
                let (session, transfer) = (session.to_string(), transfer_hex(transfer));
                Report::ConferenceReceived { session, transfer, path, size, ms }
            }
            ConferenceEvent::StreamStarted { session, transfer, startup } => Report::ConferenceStreamStarted {
                session: session.to_string(),
                transfer: transfer_hex(transfer),
                startup_ms: u64::try_from(startup.as_millis()).unwrap_or(u64::MAX),
            },
            ConferenceEvent::StreamEnded { session, transfer, played, missed } => {
                let request =
                    self.conferences.incoming.iter().find(|(_, i)| i.session == session && i.transfer == transfer);
                let path = match request.map(|(request, _)| *request).and_then(|r| self.finish_incoming(r)) {
                    Some((path, _)) => path,
                    None => String::new(),
                };
                Report::ConferenceStreamEnded {
                    session: session.to_string(),
                    transfer: transfer_hex(transfer),
                    played,
                    missed,
                    path,
                }
            }
            ConferenceEvent::Sent { session, transfer } => {
                Report::ConferenceSent { session: session.to_string(), transfer: transfer_hex(transfer) }
            }
            other => return tracing::debug!(?other, "conference event not reported"),
        };
        self.report(report);
    }

    /// Moves a finished file or stream into place: its path, and what was kept of it.
    fn finish_incoming(&mut self, request: RequestId) -> Option<(String, Incoming)> {
        let incoming = self.conferences.incoming.remove(&request)?;
        let partial = self.transfers.disk.lock().downloads.remove(&request)?;
        match partial.finish() {
            Ok(path) => Some((path.display().to_string(), incoming)),
            Err(e) => {
                self.error(None, format!("conference {}: cannot finish the file: {e}", incoming.session));
                None
            }
        }
    }

    /// We are out of `session`: its unfinished files go, and ours are no longer read for it.
    fn conference_gone(&mut self, session: SessionId) {
        let gone: Vec<RequestId> =
            self.conferences.incoming.iter().filter(|(_, i)| i.session == session).map(|(r, _)| *r).collect();
        let mut disk = self.transfers.disk.lock();
        for request in gone {
            self.conferences.incoming.remove(&request);
            if let Some(partial) = disk.downloads.remove(&request) {
                partial.discard();
            }
        }
        let sent = self.conferences.sending.remove(&session).unwrap_or_default();
        for shared in sent {
            let still_used = self.conferences.sends(&shared.content) || self.transfers.shares(&shared.content);
            if !still_used {
                disk.served.remove(&shared.content);
            }
        }
    }
}

/// The report of a membership command that `result` says was carried out.
fn done(
    req: u64,
    cmd: &'static str,
    session: SessionId,
    member: Option<String>,
    result: Result<(), CommandError>,
) -> Result<super::Input, String> {
    result.map_err(|e| e.to_string())?;
    Ok(reply(Report::ConferenceDone { req: Some(req), cmd, session: session.to_string(), member }))
}
