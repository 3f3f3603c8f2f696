//! The conference commands of the control language: what they are, how a
//! text line's arguments are read, and how they are checked.

use super::{parse_key, split_first, ControlError, Fields};
use mmp2p_core::conference::{MAX_CONF_TEXT, MAX_NAME_LEN};
use mmp2p_core::Id;

/// A conference command; `conf` names a conference by its session in hex
/// or by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConferenceCommand {
    /// Report our conferences.
    List,
    /// Create one.
    Create {
        /// Its name.
        name: String,
    },
    /// Invite (`true`) or remove (`false`) a contact.
    Member {
        /// The conference.
        conf: String,
        /// The contact, as typed.
        friend: String,
        /// Its ID.
        id: Id,
        /// True: invite; false: remove.
        invite: bool,
    },
    /// Join (`Some(true)`), decline (`Some(false)`) or leave (`None`).
    Answer {
        /// The conference.
        conf: String,
        /// The answer to an invitation, or leave.
        join: Option<bool>,
    },
    /// Say something to the members.
    Say {
        /// The conference.
        conf: String,
        /// The message.
        text: String,
    },
    /// Send a file, or stream it.
    Send {
        /// The conference.
        conf: String,
        /// The file.
        path: String,
        /// Bytes a second.
        rate: u32,
        /// True: a stream.
        stream: bool,
    },
}

impl ConferenceCommand {
    /// The command's name.
    pub fn name(&self) -> &'static str {
        match self {
            ConferenceCommand::List => "conferences",
            ConferenceCommand::Create { .. } => "conf-create",
            ConferenceCommand::Member { invite: true, .. } => "conf-invite",
            ConferenceCommand::Member { invite: false, .. } => "conf-remove",
            ConferenceCommand::Answer { join: Some(true), .. } => "conf-join",
            ConferenceCommand::Answer { join: Some(false), .. } => "conf-decline",
            ConferenceCommand::Answer { join: None, .. } => "conf-leave",
            ConferenceCommand::Say { .. } => "conf-say",
            ConferenceCommand::Send { stream: false, .. } => "conf-send",
            ConferenceCommand::Send { stream: true, .. } => "conf-stream",
        }
    }
}

/// The pace of `conf-send` unless told: 1 MiB a second.
pub const CONF_SEND_RATE: u32 = 1 << 20;

/// Reads the arguments of text command `name` (a `conf-…` one) into `fields`.
pub(super) fn read_text(name: &str, rest: &str, fields: &mut Fields) -> Result<(), ControlError> {
    match name {
        "conf-create" => fields.name = Some(rest.to_owned()),
        "conf-join" | "conf-decline" | "conf-leave" => fields.conf = Some(rest.to_owned()),
        "conf-invite" | "conf-remove" => (fields.conf, fields.friend) = split_first(rest),
        "conf-say" => (fields.conf, fields.text) = split_first(rest),
        "conf-send" => (fields.conf, fields.path) = split_first(rest),
        "conf-stream" => {
            let (conf, tail) = split_first(rest);
            let (rate, path) = split_first(tail.as_deref().unwrap_or(""));
            (fields.conf, fields.path) = (conf, path);
            if let Some(rate) = rate {
                match rate.parse() {
                    Ok(rate) => fields.rate = Some(rate),
                    Err(_) => return Err(ControlError::BadCount(rate)),
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks conference command `name`'s arguments; `required` reads an
/// argument that must be there.
pub(super) fn command(
    name: &str,
    fields: Fields,
    required: &dyn Fn(Option<String>) -> Result<String, ControlError>,
) -> Result<ConferenceCommand, ControlError> {
    Ok(match name {
        "conferences" => ConferenceCommand::List,
        "conf-create" => {
            let name = required(fields.name)?;
            if name.len() > MAX_NAME_LEN {
                return Err(ControlError::TooLong { command: "conf-create", limit: MAX_NAME_LEN });
            }
            ConferenceCommand::Create { name }
        }
        "conf-invite" | "conf-remove" => {
            let conf = required(fields.conf)?;
            let friend = required(fields.friend)?;
            let id = parse_key(&friend)?;
            ConferenceCommand::Member { conf, friend, id, invite: name == "conf-invite" }
        }
        "conf-join" | "conf-decline" | "conf-leave" => {
            let join = match name {
                "conf-join" => Some(true),
                "conf-decline" => Some(false),
                _ => None,
            };
            ConferenceCommand::Answer { conf: required(fields.conf)?, join }
        }
        "conf-say" => {
            let conf = required(fields.conf)?;
            let text = required(fields.text)?;
            if text.len() > MAX_CONF_TEXT {
                return Err(ControlError::TooLong { command: "conf-say", limit: MAX_CONF_TEXT });
            }
            ConferenceCommand::Say { conf, text }
        }
        "conf-send" | "conf-stream" => {
            let stream = name == "conf-stream";
            let conf = required(fields.conf)?;
            let rate = match (fields.rate, stream) {
                (Some(rate), _) => rate,
                (None, false) => u64::from(CONF_SEND_RATE),
                (None, true) => return Err(ControlError::Missing { command: "conf-stream", usage: "CONF RATE PATH" }),
            };
            let rate = u32::try_from(rate).ok().filter(|&r| r > 0).ok_or(ControlError::BadCount(rate.to_string()))?;
            ConferenceCommand::Send { conf, path: required(fields.path)?, rate, stream }
        }
        other => return Err(ControlError::UnknownCommand(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{json, text};
    use super::super::Command;
    use super::*;

    #[test]
    fn conference_commands_read_the_same_as_text_and_json() {
        let bob = Id::from_email("bob@example.org");
        let conf = |line: &str| json(line).map(|r| r.command);
        let invite = ConferenceCommand::Member {
            conf: "weekly".into(),
            friend: "bob@example.org".into(),
            id: bob,
            invite: true,
        };
        assert_eq!(text("conf-invite weekly bob@example.org"), Ok(Command::Conference(invite.clone())));
        assert_eq!(
            conf(r#"{"cmd":"conf-invite","conf":"weekly","friend":"bob@example.org"}"#),
            Ok(Command::Conference(invite))
        );
        let say = ConferenceCommand::Say { conf: "weekly".into(), text: "hello all".into() };
        assert_eq!(text("conf-say weekly hello all"), Ok(Command::Conference(say)));
        let send = ConferenceCommand::Send {
            conf: "weekly".into(),
            path: "my talk.pdf".into(),
            rate: CONF_SEND_RATE,
            stream: false,
        };
        assert_eq!(text("conf-send weekly my talk.pdf"), Ok(Command::Conference(send)));
        let stream =
            ConferenceCommand::Send { conf: "weekly".into(), path: "clip.webm".into(), rate: 65536, stream: true };
        assert_eq!(text("conf-stream weekly 65536 clip.webm"), Ok(Command::Conference(stream.clone())));
        assert_eq!(
            conf(r#"{"cmd":"conf-stream","conf":"weekly","path":"clip.webm","rate":65536}"#),
            Ok(Command::Conference(stream))
        );
        assert_eq!(
            text("conf-leave weekly"),
            Ok(Command::Conference(ConferenceCommand::Answer { conf: "weekly".into(), join: None }))
        );
        assert_eq!(text("conf-stream weekly fast clip.webm"), Err(ControlError::BadCount("fast".into())));
        assert_eq!(text("conf-stream weekly 0 clip.webm"), Err(ControlError::BadCount("0".into())));
        assert_eq!(text("conf-send weekly"), Err(ControlError::Missing { command: "conf-send", usage: "CONF PATH" }));
        assert_eq!(
            text(&format!("conf-create {}", "n".repeat(MAX_NAME_LEN + 1))),
            Err(ControlError::TooLong { command: "conf-create", limit: MAX_NAME_LEN })
        );
        assert_eq!(
            text(&format!("conf-say weekly {}", "x".repeat(MAX_CONF_TEXT + 1))),
            Err(ControlError::TooLong { command: "conf-say", limit: MAX_CONF_TEXT })
        );
    }
}
