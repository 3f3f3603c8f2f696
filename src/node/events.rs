//! The core's events as the session reports them: each [`Event`] becomes a
//! [`Report`], completing the command it answers; a duplicated identifier
//! or a takeover ends the session with its exit status.

use super::report::{self, Peer, Report};
use super::{elapsed_ms, Input, Pending, Session, EXIT_ID_REGISTERED, EXIT_TAKEN_OVER, JOIN_RETRY, QUIT_GRACE};
use mmp2p_core::{Event, JoinFailure, RequestId};
use std::time::Instant as Clock;

impl Session {
    /// Returns true when the session is over.
    pub(super) fn handle_event(&mut self, event: Event) -> bool {
        let report = match event {
            Event::Joined { request, left, right, hops } => {
                self.pending.remove(&request);
                self.resume_downloads();
                self.join_retry = None;
                self.ask(|node, _, _| Input::Bootstrap(node.bootstrap().entries().to_vec()));
                Report::Joined { left: Some(left.into()), right: Some(right.into()), hops }
            }
            Event::JoinFailed { request, reason: JoinFailure::IdRegistered } => {
                self.pending.remove(&request);
                self.report(Report::JoinFailed { reason: "id_registered", retry_in_ms: 0 });
                let message = "this identity is registered with another key: the e-mail address is registered \
                               with another password (duplicated identifier)";
                self.report(Report::Error { req: None, message: message.to_owned() });
                self.ended = Some(EXIT_ID_REGISTERED);
                self.finish(None);
                return true;
            }
            Event::JoinFailed { request, reason } => {
                self.pending.remove(&request);
                self.retry_join();
                let reason = match reason {
                    JoinFailure::Timeout => "timeout",
                    JoinFailure::IdInUse => "id_in_use",
                    JoinFailure::NotMember => "not_member",
                    JoinFailure::CookieRefused => "cookie_refused",
                    JoinFailure::IdRegistered => "id_registered",
                };
                Report::JoinFailed { reason, retry_in_ms: JOIN_RETRY.as_millis() as u64 }
            }
            Event::IdentityClaimed { claimant } => Report::IdentityClaimed { claimant: claimant.to_string() },
            Event::TakenOver { by } => {
                // The core is leaving the ring; exit once it has, or after the grace period.
                self.ended = Some(EXIT_TAKEN_OVER);
                self.quit_deadline = Some((None, Clock::now() + QUIT_GRACE));
                Report::TakenOver { by: by.to_string() }
            }
            Event::NoKnownPeers { request } => {
                self.pending.remove(&request);
                self.retry_join();
                Report::JoinFailed { reason: "no_known_peers", retry_in_ms: JOIN_RETRY.as_millis() as u64 }
            }
            Event::Left { .. } if self.ended == Some(EXIT_TAKEN_OVER) => {
                self.report(Report::Left { req: None });
                self.finish(None);
                return true;
            }
            Event::Left { request } => match self.pending.remove(&request) {
                Some((req, Pending::Leave { quit: true })) => {
                    self.report(Report::Left { req: Some(req) });
                    self.finish(Some(req));
                    return true;
                }
                other => Report::Left { req: other.map(|(req, _)| req) },
            },
            Event::PeerDown { peer } => Report::PeerDown { peer: peer.into() },
            Event::PeerUp { peer } => Report::PeerUp { peer: peer.into() },
            Event::LinkDown => Report::LinkDown,
            Event::LinkUp => Report::LinkUp,
            Event::NeighbourChanged { side, neighbour } => {
                Report::NeighbourChanged { side: report::side_name(side), neighbour: neighbour.map(Peer::from) }
            }
            Event::NeighbourUnreachable { peer } => Report::NeighbourUnreachable { peer: peer.into() },
            Event::LookupSucceeded { request, key, responsible, hops } => {
                let (req, ms) = match self.pending.remove(&request) {
                    Some((req, Pending::Lookup { started })) => (Some(req), elapsed_ms(started)),
                    _ => (None, 0),
                };
                Report::LookupResult { req, key: key.to_string(), responsible: responsible.into(), hops, ms }
            }
            Event::LookupFailed { request, key } => {
                Report::LookupFailed { req: self.finished(request), key: key.to_string() }
            }
            Event::SearchResult { request, owner, .. }
                if matches!(self.pending.get(&request), Some((_, Pending::Get { .. }))) =>
            {
                if let Some((_, Pending::Get { get })) = self.pending.get(&request) {
                    let get = *get;
                    self.get_owner(get, owner.addr);
                }
                return false;
            }
            Event::SearchComplete { request, .. } | Event::SearchFailed { request, .. }
                if matches!(self.pending.get(&request), Some((_, Pending::Get { .. }))) =>
            {
                if let Some((_, Pending::Get { get })) = self.pending.remove(&request) {
                    self.get_searched(get);
                }
                return false;
            }
            Event::SearchResult { request, key, owner, hops } => {
                let (req, name) = match self.pending.get(&request) {
                    Some((req, Pending::Search { name, .. })) => (Some(*req), name.clone()),
                    _ => (None, String::new()),
                };
                Report::SearchResult { req, name, key: key.to_string(), owner: owner.into(), hops }
            }
            Event::SearchComplete { request, owners, .. } => match self.pending.remove(&request) {
                Some((req, Pending::Search { name, started })) => {
                    Report::SearchDone { req: Some(req), name, owners, ms: elapsed_ms(started) }
                }
                _ => return false,
            },
            Event::SearchFailed { request, .. } => match self.pending.remove(&request) {
                Some((req, Pending::Search { name, .. })) => Report::SearchFailed { req: Some(req), name },
                _ => return false,
            },
            Event::FileListed { request, name, .. } => match self.pending.get(&request) {
                Some((req, Pending::Files { friend })) => {
                    Report::File { req: Some(*req), friend: friend.clone(), name: name.as_str().to_owned() }
                }
                _ => return false,
            },
            Event::FileListComplete { request, files, .. } => match self.pending.remove(&request) {
                Some((req, Pending::Files { friend })) => Report::FilesDone { req: Some(req), friend, files },
                _ => return false,
            },
            Event::FileListFailed { request, .. } => match self.pending.remove(&request) {
                Some((req, Pending::Files { friend })) => Report::FilesFailed { req: Some(req), friend },
                _ => return false,
            },
            Event::PingSucceeded { request, peer, rtt } => Report::Pong {
                req: self.finished(request),
                addr: peer.to_string(),
                rtt_us: u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX),
            },
            Event::PingFailed { request, peer } => {
                Report::PingFailed { req: self.finished(request), addr: peer.to_string() }
            }
            transfer @ (Event::ContentInfo { .. }
            | Event::ContentQueryFailed { .. }
            | Event::LeafVerified { .. }
            | Event::LeafRejected { .. }
            | Event::SourceRefused { .. }
            | Event::SourceLost { .. }
            | Event::DownloadComplete { .. }
            | Event::DownloadStalled { .. }) => {
                self.transfer_event(transfer);
                return false;
            }
            Event::Conference(event) => {
                self.conference_event(event);
                return false;
            }
            // The messenger's events, and (the enum is non-exhaustive) any
            // this program does not know yet, which it logs.
            other => {
                self.messenger_event(other);
                return false;
            }
        };
        self.report(report);
        false
    }

    /// Forgets a completed request; the tag of its command.
    fn finished(&mut self, request: RequestId) -> Option<u64> {
        self.pending.remove(&request).map(|(req, _)| req)
    }
}
