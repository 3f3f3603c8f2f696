//! What the node prints: one [`Report`] per line, as JSON or as readable text.

pub use super::conference_report::ConferenceEntry;
pub use super::messenger_report::{ContactEntry, GroupEntry, HistoryLine, RequestEntry};
pub use super::transfer_report::{ContentEntry, TransferEntry};
use mmp2p_core::wire::Side;
use mmp2p_core::{Node, ResourceLocator, Stats};
use mmp2p_mio::IoStats;
use serde::Serialize;
use std::collections::BTreeMap;

/// A node as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// Its ID, 32 hex digits.
    pub id: String,
    /// Where it listens, `[ADDR]:PORT`.
    pub addr: String,
}

impl From<&ResourceLocator> for Peer {
    fn from(locator: &ResourceLocator) -> Peer {
        Peer { id: locator.id.to_string(), addr: locator.addr.to_string() }
    }
}

impl From<ResourceLocator> for Peer {
    fn from(locator: ResourceLocator) -> Peer {
        Peer::from(&locator)
    }
}

/// A friend in the `friends` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FriendEntry {
    /// The friend's e-mail address, if this node was told it.
    pub email: Option<String>,
    /// Its ID.
    pub id: String,
    /// Its address.
    pub addr: String,
    /// False once it missed its probes (routing avoids it).
    pub alive: bool,
}

/// A command in the `help` report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HelpEntry {
    /// The command's name.
    pub cmd: &'static str,
    /// Its arguments.
    pub args: &'static str,
    /// What it does.
    pub about: &'static str,
}

/// The `stats` report's counters: the core's and the socket's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// The core's counters.
    #[serde(flatten)]
    pub core: Stats,
    /// Datagrams dropped by the core, by reason (only reasons that occurred).
    pub dropped: BTreeMap<String, u64>,
    /// The socket's counters.
    #[serde(flatten)]
    pub socket: SocketCounters,
}

/// What the node's socket went through (see [`mmp2p_mio::IoStats`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocketCounters {
    /// Datagrams the socket sent.
    pub socket_sent: u64,
    /// Datagrams the socket received.
    pub socket_received: u64,
    /// Failed sends.
    pub send_errors: u64,
    /// Failed receives.
    pub receive_errors: u64,
    /// Datagrams over 1232 bytes, dropped unread.
    pub oversized: u64,
    /// Datagrams from IPv4 addresses, dropped.
    pub not_ipv6: u64,
}

impl From<&IoStats> for SocketCounters {
    fn from(io: &IoStats) -> SocketCounters {
        SocketCounters {
            socket_sent: io.sent,
            socket_received: io.received,
            send_errors: io.send_errors,
            receive_errors: io.receive_errors,
            oversized: io.oversized,
            not_ipv6: io.not_ipv6,
        }
    }
}

impl Counters {
    /// The counters of `stats` and `io`.
    pub fn new(stats: &Stats, io: &IoStats) -> Counters {
        let dropped = stats.drops().map(|(reason, count)| (reason.to_string(), count)).collect();
        Counters { core: stats.clone(), dropped, socket: SocketCounters::from(io) }
    }
}

/// One line of output. In JSON, `{"event":"<name>", ...fields}`; `req` is the
/// tag of the command that caused it, absent for the core's own events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Report {
    /// The socket is bound: always the first line.
    Listening {
        /// The bound address.
        addr: String,
        /// This node's ID.
        id: String,
        /// The public key of the node's identity, in hex.
        key: String,
        /// True for the key node (ID 0).
        key_node: bool,
    },
    /// In the ring (the key node founds it, with no neighbours yet).
    Joined {
        /// Predecessor.
        left: Option<Peer>,
        /// Successor.
        right: Option<Peer>,
        /// Overlay hops the JOIN took.
        hops: u8,
    },
    /// A join attempt failed; the node tries again after `retry_in_ms`.
    JoinFailed {
        /// `timeout`, `id_in_use`, `not_member` or `no_known_peers`.
        reason: &'static str,
        /// When it tries again.
        retry_in_ms: u64,
    },
    /// The commands.
    Help {
        /// The command's tag.
        req: Option<u64>,
        /// Every command.
        commands: Vec<HelpEntry>,
    },
    /// This node's state.
    Status {
        /// The command's tag.
        req: Option<u64>,
        /// This node's ID.
        id: String,
        /// Its address.
        addr: String,
        /// `joining`, `joined`, `alone`, `link_down` or `not_joined`.
        state: &'static str,
        /// Predecessor.
        left: Option<Peer>,
        /// Successor.
        right: Option<Peer>,
        /// Friends known.
        friends: usize,
        /// File names shared.
        shared: usize,
        /// Locators stored for others.
        stored: usize,
    },
    /// Both neighbour chains, nearest first.
    Neighbours {
        /// The command's tag.
        req: Option<u64>,
        /// Predecessor, then its backups.
        left: Vec<Peer>,
        /// Successor, then its backups.
        right: Vec<Peer>,
    },
    /// The friends.
    Friends {
        /// The command's tag.
        req: Option<u64>,
        /// Each friend.
        friends: Vec<FriendEntry>,
    },
    /// A friend was added.
    FriendAdded {
        /// The command's tag.
        req: Option<u64>,
        /// Its e-mail address.
        email: String,
        /// Its ID and address.
        friend: Peer,
    },
    /// The shared names (after adding any given).
    Shared {
        /// The command's tag (absent after a directory rescan).
        req: Option<u64>,
        /// Every name shared.
        names: Vec<String>,
    },
    /// One owner of a searched name.
    SearchResult {
        /// The command's tag.
        req: Option<u64>,
        /// The name.
        name: String,
        /// Its ID.
        key: String,
        /// The owner.
        owner: Peer,
        /// Overlay hops of the search.
        hops: u8,
    },
    /// A search finished.
    SearchDone {
        /// The command's tag.
        req: Option<u64>,
        /// The name.
        name: String,
        /// Owners found.
        owners: u16,
        /// Milliseconds from command to last page.
        ms: u64,
    },
    /// A search got no answer.
    SearchFailed {
        /// The command's tag.
        req: Option<u64>,
        /// The name.
        name: String,
    },
    /// One of a friend's file names.
    File {
        /// The command's tag.
        req: Option<u64>,
        /// The friend as asked.
        friend: String,
        /// The name.
        name: String,
    },
    /// A friend's file list is complete.
    FilesDone {
        /// The command's tag.
        req: Option<u64>,
        /// The friend as asked.
        friend: String,
        /// Names listed.
        files: u16,
    },
    /// A friend did not answer (or refused) its file list.
    FilesFailed {
        /// The command's tag.
        req: Option<u64>,
        /// The friend as asked.
        friend: String,
    },
    /// A lookup reached the responsible node.
    LookupResult {
        /// The command's tag.
        req: Option<u64>,
        /// The key.
        key: String,
        /// The node responsible for it.
        responsible: Peer,
        /// Overlay hops.
        hops: u8,
        /// Milliseconds from command to answer.
        ms: u64,
    },
    /// A lookup got no answer.
    LookupFailed {
        /// The command's tag.
        req: Option<u64>,
        /// The key.
        key: String,
    },
    /// A ping was answered.
    Pong {
        /// The command's tag.
        req: Option<u64>,
        /// Who answered.
        addr: String,
        /// Round-trip time in microseconds.
        rtt_us: u64,
    },
    /// A ping got no answer.
    PingFailed {
        /// The command's tag.
        req: Option<u64>,
        /// Who was pinged.
        addr: String,
    },
    /// Counters.
    Stats {
        /// The command's tag.
        req: Option<u64>,
        /// The counters (boxed: they outweigh every other report).
        #[serde(flatten)]
        counters: Box<Counters>,
    },
    /// The node left the ring.
    Left {
        /// The command's tag.
        req: Option<u64>,
    },
    /// The node is exiting: always the last line.
    Bye {
        /// The command's tag.
        req: Option<u64>,
    },
    /// A contact missed its probes and is believed dead.
    PeerDown {
        /// The contact.
        peer: Peer,
    },
    /// A friend believed dead answered again.
    PeerUp {
        /// The friend.
        peer: Peer,
    },
    /// Every probe failed: this node's own link is presumed down.
    LinkDown,
    /// Datagrams arrive again after `link_down`.
    LinkUp,
    /// Someone tried to join under this node's ID (its e-mail address) with
    /// another key, and was refused.
    IdentityClaimed {
        /// Where the claimant joined from.
        claimant: String,
    },
    /// The identity's owner joined from another address with the right key:
    /// this node leaves the ring to it and exits (status 4).
    TakenOver {
        /// The owner's new address.
        by: String,
    },
    /// A neighbour changed.
    NeighbourChanged {
        /// `left` or `right`.
        side: &'static str,
        /// The new neighbour (`null`: alone on that side).
        neighbour: Option<Peer>,
    },
    /// A neighbour did not acknowledge an update.
    NeighbourUnreachable {
        /// The neighbour.
        peer: Peer,
    },
    /// A friend request arrived, its sender's registration confirmed.
    FriendRequest {
        /// Who asks.
        from: Peer,
        /// Its note.
        text: String,
    },
    /// A friend request of ours was accepted: the user is now a contact.
    FriendAccepted {
        /// The new contact's ID.
        friend: String,
        /// Its e-mail address, if known.
        email: Option<String>,
    },
    /// A friend request of ours was declined.
    FriendDeclined {
        /// The user's ID.
        friend: String,
        /// Its e-mail address, if known.
        email: Option<String>,
    },
    /// A contact ended the friendship.
    Unfriended {
        /// The former contact's ID.
        friend: String,
        /// Its e-mail address, if known.
        email: Option<String>,
    },
    /// A messenger command was carried out: `request`, `cancel`, `accept`,
    /// `decline`, `block`, `unblock` or `unfriend`.
    Done {
        /// The command's tag.
        req: Option<u64>,
        /// The command.
        cmd: &'static str,
        /// The other user, as given.
        friend: String,
    },
    /// The friend requests.
    Requests {
        /// The command's tag.
        req: Option<u64>,
        /// Received and waiting for an answer.
        incoming: Vec<RequestEntry>,
        /// Sent and not yet answered.
        outgoing: Vec<RequestEntry>,
        /// Blocked IDs.
        blocked: Vec<String>,
    },
    /// The contacts.
    Contacts {
        /// The command's tag.
        req: Option<u64>,
        /// Each contact.
        contacts: Vec<ContactEntry>,
    },
    /// A contact's presence changed (`offline` also once its probes fail).
    Presence {
        /// The contact's ID.
        friend: String,
        /// Its e-mail address, if known.
        email: Option<String>,
        /// `online`, `away`, `busy` or `offline`.
        status: &'static str,
        /// Its status text.
        text: String,
    },
    /// Our presence was set.
    PresenceSet {
        /// The command's tag.
        req: Option<u64>,
        /// The state.
        status: &'static str,
        /// The status text.
        text: String,
    },
    /// A chat message went out (or waits, as mail, for an offline contact).
    Said {
        /// The command's tag.
        req: Option<u64>,
        /// The contact's ID.
        friend: String,
        /// The message's number in the conversation (its receipt carries it).
        seq: u32,
    },
    /// A contact's chat message.
    Message {
        /// The contact's ID.
        from: String,
        /// Its e-mail address, if known.
        email: Option<String>,
        /// Its number in the conversation.
        seq: u32,
        /// The message.
        text: String,
    },
    /// A message of ours reached the contact: the delivery receipt.
    Delivered {
        /// The contact's ID.
        friend: String,
        /// The message's number.
        seq: u32,
    },
    /// A conversation, oldest first.
    History {
        /// The command's tag.
        req: Option<u64>,
        /// The contact's ID.
        friend: String,
        /// The messages.
        messages: Vec<HistoryLine>,
    },
    /// The contact groups.
    Groups {
        /// The command's tag.
        req: Option<u64>,
        /// Each group with its members.
        groups: Vec<GroupEntry>,
        /// Contacts in no group.
        ungrouped: Vec<String>,
    },
    /// `get`: the owners found name these contents (the first is fetched).
    Contents {
        /// The command's tag.
        req: Option<u64>,
        /// The name searched.
        name: String,
        /// Each content with the owners naming it, most owners first.
        contents: Vec<ContentEntry>,
    },
    /// A download began (or resumed).
    GetStarted {
        /// The command's tag (absent for a download resumed at start).
        req: Option<u64>,
        /// The download's number (for `get-cancel`).
        id: u64,
        /// The file's name.
        name: String,
        /// Its BLAKE3 root, in hex.
        root: String,
        /// Its size in bytes.
        size: u64,
        /// The owners fetched from.
        owners: usize,
        /// Where it is written.
        path: String,
        /// Bytes verified before (a resumed download).
        resumed: u64,
    },
    /// A download's progress, every half second.
    GetProgress {
        /// The download's number.
        id: u64,
        /// The file's name.
        name: String,
        /// Bytes verified.
        bytes: u64,
        /// The file's size.
        size: u64,
        /// Bytes per second lately.
        rate: u64,
        /// Milliseconds left at that rate, if it moves.
        eta_ms: Option<u64>,
        /// Owners still serving.
        owners: usize,
    },
    /// A leaf did not match its hash: fetched again, its sender counted.
    LeafRejected {
        /// The download's number.
        id: u64,
        /// The leaf.
        leaf: u32,
        /// The owner that sent it.
        from: String,
    },
    /// A download finished: every leaf verified, the file in place.
    GetDone {
        /// The command's tag.
        req: Option<u64>,
        /// The download's number.
        id: u64,
        /// The file's name.
        name: String,
        /// Where it is.
        path: String,
        /// Its BLAKE3 root, in hex.
        root: String,
        /// Its size.
        size: u64,
        /// Milliseconds the download took (this run).
        ms: u64,
    },
    /// A `get` could not start or go on (the partial file stays for a later `get`).
    GetFailed {
        /// The command's tag.
        req: Option<u64>,
        /// The file's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The downloads running, and the streams served.
    Transfers {
        /// The command's tag.
        req: Option<u64>,
        /// The downloads.
        downloads: Vec<TransferEntry>,
        /// Streams being served to downloaders.
        uploads: usize,
    },
    /// `conferences`: the conferences we are in or invited to.
    Conferences {
        /// The command's tag.
        req: Option<u64>,
        /// Each conference.
        conferences: Vec<ConferenceEntry>,
    },
    /// `conf-create`: a conference of ours, with us at its tree's root.
    ConferenceCreated {
        /// The command's tag.
        req: Option<u64>,
        /// Its session, 32 hex digits.
        session: String,
        /// Its name.
        name: String,
    },
    /// `conf-invite`, `conf-remove`, `conf-join`, `conf-decline` or `conf-leave` was carried out.
    ConferenceDone {
        /// The command's tag.
        req: Option<u64>,
        /// The command.
        cmd: &'static str,
        /// The conference's session.
        session: String,
        /// The member invited or removed, if the command names one.
        member: Option<String>,
    },
    /// `conf-say`: our message is on its way to every member.
    ConferenceSaid {
        /// The command's tag.
        req: Option<u64>,
        /// The conference's session.
        session: String,
        /// The message's number among ours.
        seq: u32,
    },
    /// `conf-send` or `conf-stream`: the file goes out at its pace.
    ConferenceSending {
        /// The command's tag.
        req: Option<u64>,
        /// The conference's session.
        session: String,
        /// The transfer, 16 hex digits.
        transfer: String,
        /// The file's name.
        name: String,
        /// Its size.
        size: u64,
        /// Bytes a second.
        rate: u32,
        /// True: a stream.
        stream: bool,
    },
    /// A friend invites us to a conference (answer with `conf-join` or `conf-decline`).
    ConferenceInvited {
        /// The conference's session.
        session: String,
        /// Its name.
        name: String,
        /// Its creator's ID.
        creator: String,
        /// The creator's e-mail address, if known.
        email: Option<String>,
    },
    /// An invitation of ours did not reach the friend.
    ConferenceInviteFailed {
        /// The conference's session.
        session: String,
        /// The friend's ID.
        member: String,
    },
    /// An invitee answered our invitation.
    ConferenceAnswered {
        /// The conference's session.
        session: String,
        /// The invitee's ID.
        member: String,
        /// Its e-mail address, if known.
        email: Option<String>,
        /// True: it joined.
        joined: bool,
    },
    /// The creator admitted us: we look for our place in the tree.
    ConferenceAdmitted {
        /// The conference's session.
        session: String,
    },
    /// A member left, or was removed.
    ConferenceMemberLeft {
        /// The conference's session.
        session: String,
        /// The member's ID.
        member: String,
        /// True if the creator removed it.
        removed: bool,
    },
    /// We are no longer in a conference.
    ConferenceLeft {
        /// The conference's session.
        session: String,
        /// `left`, `removed`, `ended` or `not_admitted`.
        reason: &'static str,
    },
    /// We took a place in a conference's delivery tree.
    ConferenceAttached {
        /// The conference's session.
        session: String,
        /// Our parent's ID.
        parent: String,
        /// Our depth below the root.
        depth: u8,
        /// Our delay from the root along the tree, in microseconds.
        root_delay_us: u32,
    },
    /// Our parent in the tree went; we look for another.
    ConferenceOrphaned {
        /// The conference's session.
        session: String,
        /// The parent lost.
        parent: String,
    },
    /// A member said something in a conference.
    ConferenceChat {
        /// The conference's session.
        session: String,
        /// The sender's ID.
        from: String,
        /// Its e-mail address, if known.
        email: Option<String>,
        /// The message's number among the sender's.
        seq: u32,
        /// The message.
        text: String,
    },
    /// A member sends a file or a stream to the conference: it is written to `path`.
    ConferenceOffered {
        /// The conference's session.
        session: String,
        /// The transfer, 16 hex digits.
        transfer: String,
        /// The sender's ID.
        from: String,
        /// The file's name, as the sender gave it.
        name: String,
        /// Its size.
        size: u64,
        /// Bytes a second.
        rate: u32,
        /// True: a stream, played as it comes.
        stream: bool,
        /// Where it is written.
        path: String,
    },
    /// A file sent to the conference is in, every leaf checked.
    ConferenceReceived {
        /// The conference's session.
        session: String,
        /// The transfer.
        transfer: String,
        /// Where the file is.
        path: String,
        /// Its size.
        size: u64,
        /// Milliseconds from its offer.
        ms: u64,
    },
    /// A stream began to play, a playout buffer after its first leaf.
    ConferenceStreamStarted {
        /// The conference's session.
        session: String,
        /// The transfer.
        transfer: String,
        /// Milliseconds from the stream's first word to its first leaf playing.
        startup_ms: u64,
    },
    /// A stream played to its end.
    ConferenceStreamEnded {
        /// The conference's session.
        session: String,
        /// The transfer.
        transfer: String,
        /// Leaves there by their time.
        played: u32,
        /// Leaves missing at their time (their bytes are zeros in the file).
        missed: u32,
        /// Where the stream was written.
        path: String,
    },
    /// We sent every piece of a file or stream of ours once.
    ConferenceSent {
        /// The conference's session.
        session: String,
        /// The transfer.
        transfer: String,
    },
    /// Bad input or a refused command; the node keeps running.
    Error {
        /// The command's tag, if the line was a command.
        req: Option<u64>,
        /// What went wrong.
        message: String,
    },
}

/// The name a side has in reports.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
    }
}

impl Report {
    /// The `status` report of `node`.
    pub fn status(req: u64, node: &Node) -> Report {
        let state = if node.is_link_down() {
            "link_down"
        } else if node.is_joined() {
            "joined"
        } else if node.is_member() {
            "alone"
        } else if node.is_joining() {
            "joining"
        } else {
            "not_joined"
        };
        let me = node.locator();
        Report::Status {
            req: Some(req),
            id: me.id.to_string(),
            addr: me.addr.to_string(),
            state,
            left: node.neighbours().left().map(Peer::from),
            right: node.neighbours().right().map(Peer::from),
            friends: node.friends().len(),
            shared: node.shared().len(),
            stored: node.store().len(),
        }
    }

    /// The `stats` report of `node` and its socket.
    pub fn stats(req: u64, node: &Node, io: &IoStats) -> Report {
        Report::Stats { req: Some(req), counters: Box::new(Counters::new(node.stats(), io)) }
    }

    /// The report as one JSON object.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"event\":\"error\",\"message\":\"{e}\"}}"))
    }
}
