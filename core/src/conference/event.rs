//! What a node reports of its conferences: invitations, answers, members
//! coming and going, and its place in each delivery tree.

use super::session::{SessionId, MAX_CONF_TEXT, MAX_NAME_LEN};
use crate::id::Id;

/// Why this node is no longer in a conference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LeftReason {
    /// We left (or declined).
    Left,
    /// The creator removed us.
    Removed,
    /// The creator ended it.
    Ended,
    /// The creator did not admit us (no room), or never answered.
    NotAdmitted,
}

/// Something that happened in one of the node's conferences.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
#[allow(clippy::large_enum_variant, reason = "no allocator to box a chat message; an event is short-lived")]
pub enum ConferenceEvent {
    /// A friend invites us (answer with [`Node::answer_invitation`](crate::Node::answer_invitation)).
    Invited {
        /// The conference.
        session: SessionId,
        /// Its creator, the friend who invites.
        creator: Id,
        /// Its name.
        name: heapless::String<MAX_NAME_LEN>,
    },
    /// An invitation of ours never reached the friend.
    InviteFailed {
        /// The conference.
        session: SessionId,
        /// The friend.
        invitee: Id,
    },
    /// An invitee answered (we are the creator).
    Answered {
        /// The conference.
        session: SessionId,
        /// The invitee.
        member: Id,
        /// True: it joined; false: it declined.
        joined: bool,
    },
    /// The creator admitted us: we are a member and look for a place in its tree.
    Admitted {
        /// The conference.
        session: SessionId,
    },
    /// A member left, or we removed it (we are the creator).
    MemberLeft {
        /// The conference.
        session: SessionId,
        /// The member.
        member: Id,
        /// True if we removed it.
        removed: bool,
    },
    /// We are no longer in the conference.
    Left {
        /// The conference.
        session: SessionId,
        /// Why.
        reason: LeftReason,
    },
    /// We took a place in the delivery tree, under `parent`.
    Attached {
        /// The conference.
        session: SessionId,
        /// Our parent.
        parent: Id,
        /// Our depth (ancestors, the root included).
        depth: u8,
        /// Our delay from the root along the tree, in microseconds.
        root_delay_us: u32,
    },
    /// A member's chat message, given in order per sender, once.
    Chat {
        /// The conference.
        session: SessionId,
        /// Who said it.
        from: Id,
        /// Its number among the sender's messages.
        seq: u32,
        /// The message.
        text: heapless::String<MAX_CONF_TEXT>,
    },
    /// A member sends a file or a stream: we receive it into a file of
    /// our own, whose writes carry `request`.
    Offered {
        /// The conference.
        session: SessionId,
        /// The transfer.
        transfer: u64,
        /// The id the file's writes carry.
        request: crate::request_id::RequestId,
        /// Who sends it.
        sender: Id,
        /// The file.
        content: crate::content::ContentId,
        /// Its name, as the sender gave it (a name from the network: make
        /// it safe before it names a file).
        name: heapless::String<MAX_NAME_LEN>,
        /// The sender's pace, in bytes a second (a stream's bitrate).
        rate: u32,
        /// True: a stream, played as it comes.
        stream: bool,
    },
    /// Every leaf of a file sent to the conference is in and checked.
    Received {
        /// The conference.
        session: SessionId,
        /// The transfer.
        transfer: u64,
        /// The id the file's writes carried.
        request: crate::request_id::RequestId,
    },
    /// A stream's first leaf played, a playout buffer after it came.
    StreamStarted {
        /// The conference.
        session: SessionId,
        /// The transfer.
        transfer: u64,
        /// From our first word of the stream to its first leaf playing.
        startup: core::time::Duration,
    },
    /// A stream played to its end.
    StreamEnded {
        /// The conference.
        session: SessionId,
        /// The transfer.
        transfer: u64,
        /// Leaves there by their time.
        played: u32,
        /// Leaves missing at their time, skipped.
        missed: u32,
    },
    /// We sent every piece of a transfer of ours once.
    Sent {
        /// The conference.
        session: SessionId,
        /// The transfer.
        transfer: u64,
    },
    /// Our parent went silent, refused us or left: we look for another.
    Orphaned {
        /// The conference.
        session: SessionId,
        /// The parent we lost.
        parent: Id,
    },
}
