//! Pieces a member missed: a gap behind the transfer's front, a leaf that
//! did not check, or a front that stopped short of the end. The member asks
//! the neighbour the transfer came from (CONF_PULL) for what its window
//! lacks, [`PULL_DELAY`] after it first notices (reordered pieces come
//! meanwhile), then every [`PULL_RETRY`] while something is missing. A
//! neighbour answers with the pieces it has, at most [`PULL_BUDGET`] per
//! pull, and only to a neighbour proven at its address; pieces it does not
//! have yet, it has asked for itself.

use crate::conference::SessionId;
use crate::node::Node;
use crate::stats::DropReason;
use crate::tables::conference_out::Resend;
use crate::tables::conference_transfer::{piece_at, piece_count, MAX_CONF_TRANSFERS};
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::time::Instant;
use crate::wire::{ConfPull, Header, MAX_PULL_RANGES};
use core::net::SocketAddrV6;
use core::time::Duration;

/// How long a gap may close by itself before it is asked for.
pub const PULL_DELAY: Duration = Duration::from_millis(40);
/// How often a member asks again for what is still missing.
pub const PULL_RETRY: Duration = Duration::from_millis(200);
/// Pieces a pull asks for, and a neighbour answers, at most.
pub const PULL_BUDGET: u32 = 64;
/// Silence from upstream after which a member asks for the pieces past
/// the front too (the transfer's end went missing).
const TAIL_SILENCE: Duration = Duration::from_millis(300);

impl Node {
    /// When a transfer next asks for missing pieces.
    pub(crate) fn next_pull(&self) -> Option<Instant> {
        self.conference_transfers.iter().filter(|t| t.finished.is_none() && !t.source).filter_map(|t| t.pull_at).min()
    }

    /// Asks for what each transfer is missing, where a pull is due.
    pub(crate) fn send_pulls(&mut self, now: Instant) {
        let mut pulls: heapless::Vec<(SocketAddrV6, SessionId, u64), MAX_CONF_TRANSFERS> = heapless::Vec::new();
        for t in self.conference_transfers.iter_mut() {
            if t.source || t.finished.is_some() || t.pull_at.is_none_or(|at| at > now) {
                continue;
            }
            let Some(upstream) = t.upstream else {
                t.pull_at = None;
                continue;
            };
            // Past a front silent too long, up to the end: the tail may be lost too.
            let silent = t.front_at + TAIL_SILENCE <= now;
            let until = if silent { piece_count(t.content()) } else { t.front };
            let ranges = t.missing(until, MAX_PULL_RANGES, PULL_BUDGET);
            if ranges.is_empty() && !silent {
                // Nothing behind the front: wait for the front to move, or go silent.
                t.pull_at = Some(t.front_at + TAIL_SILENCE);
                continue;
            }
            t.pull_at = Some(now + PULL_RETRY);
            t.pull_until = until;
            if !ranges.is_empty() {
                // Cannot overflow: one pull per transfer.
                let _ = pulls.push((upstream, t.session, t.transfer));
            }
        }
        for (to, session, transfer) in pulls {
            let what = ConferenceOutgoing::Pull { transfer };
            self.send(Outgoing::Conference { to, txid: transfer, session, what });
        }
    }

    /// Our pull for what transfer `transfer` of `session` lacks, as it stands.
    pub(crate) fn pull_message(&self, session: SessionId, transfer: u64) -> Option<ConfPull> {
        let t = self.conference_transfers.get(session, transfer)?;
        let ranges = t.missing(t.pull_until, MAX_PULL_RANGES, PULL_BUDGET).iter().copied().collect();
        Some(ConfPull { session, transfer, ranges })
    }

    pub(crate) fn handle_conf_pull(
        &mut self,
        from: SocketAddrV6,
        _header: &Header,
        pull: ConfPull,
    ) -> Result<(), DropReason> {
        let session = pull.session;
        let conference = self.conferences.get(session).ok_or(DropReason::NotInConference)?;
        if !conference.tree.proven_neighbours().any(|l| l.locator.addr == from) {
            return Err(DropReason::NotInConference);
        }
        let t = self.conference_transfers.get(session, pull.transfer).ok_or(DropReason::UnknownStream)?;
        let content = *t.content();
        let mut budget = PULL_BUDGET;
        for &(first, count) in &pull.ranges {
            for pn in first..first.saturating_add(u32::from(count)) {
                if budget == 0 {
                    return Ok(());
                }
                let Some(piece) = piece_at(&content, pn) else { break };
                if !t.has(piece) {
                    continue;
                }
                budget -= 1;
                let resend = Resend { to: from, session, transfer: pull.transfer, pn };
                if self.conference_out.resends.push_back(resend).is_err() {
                    self.stats.count_drop(DropReason::OutboxFull);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Forgets transfers finished long enough ago, and those of conferences we left.
    pub(crate) fn expire_transfers(&mut self, now: Instant) {
        let conferences = &self.conferences;
        self.conference_transfers.expire(now, |session: SessionId| conferences.get(session).is_none());
    }
}
