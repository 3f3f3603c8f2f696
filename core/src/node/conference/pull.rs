//! Pieces a member missed: a gap behind the transfer's front, a leaf that
//! did not check, or a front that stopped short of the end. The member asks
//! the neighbour the transfer came from (CONF_PULL) for what its window
//! lacks, [`PULL_DELAY`] after it first notices (reordered pieces come
//! meanwhile), then every [`PULL_RETRY`] while something is missing; a
//! piece asked for is asked for again only once its answer was due (about
//! a round trip later, [`REASK_MARGIN`]), so a neighbour whose uplink
//! queue holds the answers is not asked for them twice. A
//! neighbour answers with the pieces it has, at most [`PULL_BUDGET`] per
//! pull, and only to a neighbour proven at its address; pieces it does not
//! have yet, it asks for itself and sends on as they come (a proof it no
//! longer keeps, it asks its own upstream for on purpose).

use crate::conference::SessionId;
use crate::content::BLOCK_LEAVES;
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::conference_out::Resend;
use crate::tables::conference_transfer::{piece_at, piece_count, piece_number, Piece, MAX_CONF_TRANSFERS};
use crate::tables::outbox::{ConferenceOutgoing, Outgoing};
use crate::time::Instant;
use crate::wire::{ConfPull, Header, MAX_PULL_RANGES};
use core::net::SocketAddrV6;
use core::time::Duration;

/// How long a gap may close by itself before it is asked for.
pub const PULL_DELAY: Duration = Duration::from_millis(40);
/// How often a member asks for what newly went missing.
pub const PULL_RETRY: Duration = Duration::from_millis(120);
/// A piece asked for is not asked for again for one to two periods, each
/// half the round trip to the neighbour asked plus this: another ask goes
/// about when the answer was due (and one asked at once would only add to
/// the neighbour's uplink queue)...
pub const REASK_MARGIN: Duration = Duration::from_millis(20);
/// ...and each at least this.
pub const REASK_LEAST: Duration = Duration::from_millis(50);
/// Pieces a pull asks for, and a neighbour answers, at most.
pub const PULL_BUDGET: u32 = 128;
/// Silence from upstream, in pieces at the transfer's rate, after which a
/// member asks for the pieces past the front too (the transfer's end went
/// missing)...
const TAIL_PIECES: u64 = 16;
/// ...but never less than this.
const TAIL_SILENCE: Duration = Duration::from_millis(100);

/// How long a front may stay still at `rate` bytes a second before the
/// transfer's end counts as lost.
fn tail_silence(rate: u32) -> Duration {
    let micros = TAIL_PIECES * crate::content::CHUNK_LEN as u64 * 1_000_000 / u64::from(rate.max(1));
    TAIL_SILENCE.max(Duration::from_micros(micros))
}

impl<P: Profile> Node<P> {
    /// When a transfer next asks for missing pieces.
    pub(crate) fn next_pull(&self) -> Option<Instant> {
        self.conference_transfers.iter().filter(|t| t.finished.is_none() && !t.source).filter_map(|t| t.pull_at).min()
    }

    /// Asks for what each transfer is missing, where a pull is due.
    pub(crate) fn send_pulls(&mut self, now: Instant) {
        let mut pulls: heapless::Vec<(SocketAddrV6, SessionId, u64), MAX_CONF_TRANSFERS> = heapless::Vec::new();
        let conferences = &self.conferences;
        for t in self.conference_transfers.iter_mut() {
            let wanting = !t.wanted_proofs.is_empty();
            if t.source || (t.finished.is_some() && !wanting) || t.pull_at.is_none_or(|at| at > now) {
                continue;
            }
            // The neighbour the transfer came from, while it is one; else our parent.
            let tree = conferences.get(t.session).map(|c| &c.tree);
            let neighbour = |addr: &SocketAddrV6| tree.is_some_and(|tree| tree.is_neighbour(*addr, true));
            let parent = tree.and_then(|tree| tree.parent).map(|p| p.locator.addr);
            let Some(upstream) = t.upstream.filter(neighbour).or(parent) else {
                t.pull_at = Some(now + PULL_RETRY);
                continue;
            };
            t.upstream = Some(upstream);
            let rtt = tree.and_then(|tree| tree.neighbours().find(|l| l.locator.addr == upstream)).map(|l| l.rtt);
            // Past a front silent too long, up to the end: the tail may be lost too.
            let tail = tail_silence(t.announcement.rate);
            let silent = t.front_at + tail <= now;
            let until = if silent { piece_count(t.content()) } else { t.front };
            let period = REASK_LEAST.max(rtt.unwrap_or_default() / 2 + REASK_MARGIN);
            t.asked.age(now, period);
            let ranges = t.missing(until, MAX_PULL_RANGES, PULL_BUDGET, true);
            if ranges.is_empty() && !silent && !wanting {
                // Nothing behind the front but what is on its way: look again
                // soon; nothing at all: wait for the front to move, or go silent.
                let waiting = !t.missing(until, 1, 1, false).is_empty();
                t.pull_at = Some(if waiting { t.asked.next_age(period) } else { t.front_at + tail });
                continue;
            }
            t.pull_at = Some(now + PULL_RETRY);
            t.pull_until = until;
            if !ranges.is_empty() || wanting {
                // Cannot overflow: one pull per transfer.
                let _ = pulls.push((upstream, t.session, t.transfer));
            }
        }
        for (to, session, transfer) in pulls {
            let what = ConferenceOutgoing::Pull { transfer };
            self.send(Outgoing::Conference { to, txid: transfer, session, what });
        }
    }

    /// A piece of leaf `leaf` of transfer `transfer`, unknown to us, came
    /// from tree neighbour `from`: its first proof (and so its announcement)
    /// was lost or is late, so `from` is asked for the proof of the leaf's
    /// block at once — at most every [`PULL_RETRY`] per conference, and
    /// only while there is room to take the transfer.
    pub(crate) fn ask_announcement(&mut self, session: SessionId, transfer: u64, leaf: u32, from: SocketAddrV6) {
        let now = self.now;
        let room = self.conference_transfers.has_room();
        let Ok(conference) = self.conferences.get_mut(session) else { return };
        let asked = conference.unannounced.is_some_and(|(t, at)| t == transfer && at + PULL_RETRY > now);
        if asked || !room {
            return;
        }
        conference.unannounced = Some((transfer, now));
        let what = ConferenceOutgoing::ProofPull { transfer, block: leaf / BLOCK_LEAVES };
        self.send(Outgoing::Conference { to: from, txid: transfer, session, what });
    }

    /// Our pull for what transfer `transfer` of `session` lacks, as it
    /// stands; the chunks it asks for count as on their way.
    pub(crate) fn pull_message(&mut self, session: SessionId, transfer: u64) -> Option<ConfPull> {
        let t = self.conference_transfers.get_mut(session, transfer)?;
        let mut ranges: heapless::Vec<(u32, u16), MAX_PULL_RANGES> = heapless::Vec::new();
        for block in &t.wanted_proofs {
            // Cannot overflow: at most 4 wanted, fewer than the ranges' bound.
            let _ = ranges.push((piece_number(Piece::Proof(*block)), 1));
        }
        let room = MAX_PULL_RANGES - ranges.len();
        let budget = PULL_BUDGET - ranges.len() as u32;
        let missing = t.missing(t.pull_until, room, budget, true);
        t.mark_asked(&missing);
        ranges.extend(missing.iter().copied());
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
        if !conference.tree.is_neighbour(from, true) {
            return Err(DropReason::NotInConference);
        }
        let t = self.conference_transfers.get(session, pull.transfer).ok_or(DropReason::UnknownStream)?;
        let content = *t.content();
        // Each piece asked for, and whether we have it.
        let mut asked: heapless::Vec<(u32, bool), { PULL_BUDGET as usize }> = heapless::Vec::new();
        'ranges: for &(first, count) in &pull.ranges {
            for pn in first..first.saturating_add(u32::from(count)) {
                let Some(piece) = piece_at(&content, pn) else { break };
                if asked.push((pn, t.has(piece))).is_err() {
                    break 'ranges;
                }
            }
        }
        let now = self.now;
        for (pn, had) in asked {
            let resend = Resend { to: from, session, transfer: pull.transfer, pn };
            if !had {
                // We lack it too, and ask for it ourselves: it goes on when it comes.
                self.conference_out.await_piece(resend);
                if let (Some(Piece::Proof(block)), Some(t)) =
                    (piece_at(&content, pn), self.conference_transfers.get_mut(session, pull.transfer))
                {
                    // A proof we no longer keep, below our window: asked for on purpose.
                    if !t.source && !t.wanted_proofs.contains(&block) && t.wanted_proofs.push(block).is_ok() {
                        let due = now + PULL_DELAY;
                        t.pull_at = Some(t.pull_at.map_or(due, |at| at.min(due)));
                    }
                }
            } else if self.conference_out.resends.push_back(resend).is_err() {
                self.stats.count_drop(DropReason::OutboxFull);
                break;
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
