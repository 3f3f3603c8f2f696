//! The text a person reads for each report: one or more lines, the
//! messenger's and the transfers' in their own files.

use super::report::{Counters, Peer, Report};
use std::fmt::Write as _;

impl Report {
    /// The report as text for a person (one or more lines, no trailing newline).
    pub fn text(&self) -> String {
        match self {
            Report::Listening { addr, id, key, key_node } => {
                let role = if *key_node { " (key node)" } else { "" };
                format!("listening on {addr} as {id}{role}, identity key {key}")
            }
            Report::Joined { left, right, hops } => {
                format!("joined in {hops} hops: left {}, right {}", peer_text(left), peer_text(right))
            }
            Report::JoinFailed { reason, retry_in_ms } => {
                format!("join failed ({reason}); trying again in {:.1} s", *retry_in_ms as f64 / 1000.0)
            }
            Report::Help { commands, .. } => {
                let mut out = String::from("commands:");
                for c in commands {
                    let usage = format!("{} {}", c.cmd, c.args);
                    let _ = write!(out, "\n  {usage:<24} {}", c.about);
                }
                out
            }
            Report::Status { id, addr, state, left, right, friends, shared, stored, .. } => format!(
                "node {id} at {addr}: {state}\n  left {}\n  right {}\n  {friends} friends, {shared} shared files, {stored} stored locators",
                peer_text(left),
                peer_text(right)
            ),
            Report::Neighbours { left, right, .. } => {
                format!("left: {}\nright: {}", chain_text(left), chain_text(right))
            }
            Report::Friends { friends, .. } if friends.is_empty() => "no friends".to_owned(),
            Report::Friends { friends, .. } => {
                let mut out = format!("{} friends:", friends.len());
                for f in friends {
                    let state = if f.alive { "alive" } else { "not answering" };
                    let _ = write!(out, "\n  {} {} {} ({state})", f.email.as_deref().unwrap_or("-"), f.addr, f.id);
                }
                out
            }
            Report::FriendAdded { email, friend, .. } => format!("friend {email} added at {}", friend.addr),
            Report::Shared { names, .. } if names.is_empty() => "sharing nothing".to_owned(),
            Report::Shared { names, .. } => format!("sharing {} files: {}", names.len(), names.join(", ")),
            Report::SearchResult { name, owner, hops, .. } => {
                format!("{name}: owner {} {} ({hops} hops)", owner.addr, owner.id)
            }
            Report::SearchDone { name, owners, ms, .. } => format!("{name}: {owners} owners found in {ms} ms"),
            Report::SearchFailed { name, .. } => format!("{name}: search got no answer"),
            Report::File { friend, name, .. } => format!("{friend}: {name}"),
            Report::FilesDone { friend, files, .. } => format!("{friend} shares {files} files"),
            Report::FilesFailed { friend, .. } => format!("{friend}: file list got no answer (is it a friend both ways?)"),
            Report::LookupResult { key, responsible, hops, ms, .. } => {
                format!("{key}: responsible node {} {} ({hops} hops, {ms} ms)", responsible.addr, responsible.id)
            }
            Report::LookupFailed { key, .. } => format!("{key}: lookup got no answer"),
            Report::Pong { addr, rtt_us, .. } => format!("{addr} answered in {:.3} ms", *rtt_us as f64 / 1000.0),
            Report::PingFailed { addr, .. } => format!("{addr} did not answer"),
            Report::Stats { counters, .. } => {
                let Counters { core: c, dropped, socket: io } = &**counters;
                let mut out = format!(
                    "core: {} datagrams in ({} bytes), {} out ({} bytes), {} maintenance, {} STORE, {} relayed, {} retransmits, {} requests failed\nsocket: {} sent, {} received, {} send errors, {} receive errors, {} oversized, {} IPv4",
                    c.datagrams_in, c.bytes_in, c.datagrams_out, c.bytes_out, c.maintenance_out, c.store_out,
                    c.relayed, c.retransmits, c.requests_failed, io.socket_sent, io.socket_received, io.send_errors,
                    io.receive_errors, io.oversized, io.not_ipv6
                );
                for (reason, count) in dropped {
                    let _ = write!(out, "\ndropped: {count} {reason}");
                }
                out
            }
            Report::Left { .. } => "left the ring".to_owned(),
            Report::Bye { .. } => "bye".to_owned(),
            Report::PeerDown { peer } => format!("peer down: {} {}", peer.addr, peer.id),
            Report::PeerUp { peer } => format!("peer up: {} {}", peer.addr, peer.id),
            Report::LinkDown => "link down: no contact answers".to_owned(),
            Report::LinkUp => "link up".to_owned(),
            Report::IdentityClaimed { claimant } => {
                format!("{claimant} tried to join under our identity with another key and was refused")
            }
            Report::TakenOver { by } => format!("our identity joined from {by}: leaving the ring to it"),
            Report::NeighbourChanged { side, neighbour } => format!("{side} neighbour now {}", peer_text(neighbour)),
            Report::NeighbourUnreachable { peer } => format!("neighbour unreachable: {} {}", peer.addr, peer.id),
            Report::FriendRequest { .. }
            | Report::FriendAccepted { .. }
            | Report::FriendDeclined { .. }
            | Report::Unfriended { .. }
            | Report::Done { .. }
            | Report::Requests { .. }
            | Report::Contacts { .. }
            | Report::Presence { .. }
            | Report::PresenceSet { .. }
            | Report::Said { .. }
            | Report::Message { .. }
            | Report::Delivered { .. }
            | Report::History { .. }
            | Report::Groups { .. } => self.messenger_text(),
            Report::Contents { .. }
            | Report::GetStarted { .. }
            | Report::GetProgress { .. }
            | Report::LeafRejected { .. }
            | Report::GetDone { .. }
            | Report::GetFailed { .. }
            | Report::Transfers { .. } => self.transfer_text(),
            Report::Conferences { .. }
            | Report::ConferenceCreated { .. }
            | Report::ConferenceDone { .. }
            | Report::ConferenceSaid { .. }
            | Report::ConferenceSending { .. }
            | Report::ConferenceInvited { .. }
            | Report::ConferenceInviteFailed { .. }
            | Report::ConferenceAnswered { .. }
            | Report::ConferenceAdmitted { .. }
            | Report::ConferenceMemberLeft { .. }
            | Report::ConferenceLeft { .. }
            | Report::ConferenceAttached { .. }
            | Report::ConferenceOrphaned { .. }
            | Report::ConferenceChat { .. }
            | Report::ConferenceOffered { .. }
            | Report::ConferenceReceived { .. }
            | Report::ConferenceStreamStarted { .. }
            | Report::ConferenceStreamEnded { .. }
            | Report::ConferenceSent { .. } => self.conference_text(),
            Report::Error { message, .. } => format!("error: {message}"),
        }
    }
}

fn peer_text(peer: &Option<Peer>) -> String {
    peer.as_ref().map_or_else(|| "none".to_owned(), |p| format!("{} {}", p.addr, p.id))
}

fn chain_text(chain: &[Peer]) -> String {
    if chain.is_empty() {
        return "none".to_owned();
    }
    chain.iter().map(|p| format!("{} {}", p.addr, p.id)).collect::<Vec<_>>().join(", ")
}
