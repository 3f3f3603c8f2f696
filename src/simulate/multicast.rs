//! `mmp2p simulate multicast`: conferences of real cores on the memory
//! driver, over a transit-stub internet.
//!
//! For each conference size: the creator befriends and invites the members,
//! who join and build the tree; the tree's relative delay penalty (RDP:
//! delay from the root along the tree over the direct delay) and link
//! stress (copies of one datagram on one link of the transit-stub model)
//! are measured. Then, with datagrams lost, the creator pushes a file to
//! everyone (completion against `1.2 × size ÷ the slowest member's
//! uplink`), and streams a file while members are replaced (crashes and
//! newcomers) and one member with children crashes: start-up delay,
//! continuity, the orphans' re-attachment time, and the tree's control
//! traffic per member are measured. CSV, markdown and SVG go to `--out`.

use super::output::{self, Series};
use clap::Args;
use mmp2p_core::conference::{ConferenceEvent, SessionId};
use mmp2p_core::content::ContentId;
use mmp2p_core::rng::Rng;
use mmp2p_core::tables::conference_transfer::PLAYOUT_BUFFER;
use mmp2p_core::wire::MessageType;
use mmp2p_core::{Config, Event, Instant};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{LatencyModel, NetworkConfig, NodeIndex, Uplink};
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `simulate multicast`.
#[derive(Args, Debug, Clone)]
pub struct MulticastArgs {
    /// Directory for the CSV, markdown and SVG files (created if missing).
    #[arg(long, default_value = "simulate-out")]
    out: PathBuf,
    /// Conference sizes, the creator included (comma-separated, 2 to 64).
    #[arg(long, value_delimiter = ',', default_value = "8,16,32,64")]
    members: Vec<usize>,
    /// Share of datagrams lost once the tree is built.
    #[arg(long, default_value_t = 0.05)]
    loss: f64,
    /// Share of the members replaced per minute while the stream plays.
    #[arg(long, default_value_t = 0.10)]
    churn: f64,
    /// The stream's length, in seconds.
    #[arg(long, default_value_t = 60)]
    stream_secs: u64,
    /// The stream's bitrate, in bytes per second.
    #[arg(long, default_value_t = 64 * 1024)]
    bitrate: u32,
    /// The size of the file pushed to every member, in bytes: large enough
    /// that its bound measures throughput, not the round trips of its last repairs.
    #[arg(long, default_value_t = 16 << 20)]
    file: usize,
    /// Seed for positions, uplinks, churn and the network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The slowest uplink, bytes per second; others are 4 or 10 times faster.
const SLOWEST_UPLINK: u64 = 1_000_000;
/// The file push's rate, as a share of the slowest uplink.
const PUSH_SHARE: f64 = 0.95;
/// Headroom a member keeps on its uplink per child, for repairs and control.
const HEADROOM: f64 = 1.1;
/// Message types that build and keep the tree and membership: the control traffic.
const CONTROL: [MessageType; 6] = [
    MessageType::ConfInvite,
    MessageType::ConfAnswer,
    MessageType::ConfAdmit,
    MessageType::ConfLeave,
    MessageType::TreeJoin,
    MessageType::TreeState,
];

/// What one conference size measured.
#[derive(Clone, Debug, Default)]
struct Measured {
    members: usize,
    rdp_mean: f64,
    rdp_p90: f64,
    stress_mean: f64,
    stress_max: usize,
    unicast_stress_max: usize,
    children_over_bound: f64,
    push_secs: f64,
    push_bound_secs: f64,
    push_intact: usize,
    startup_mean: f64,
    startup_max: f64,
    continuity_mean: f64,
    continuity_min: f64,
    survivors_missed_pct: f64,
    replaced: usize,
    unfinished: usize,
    repair_max_secs: f64,
    orphans: usize,
    control_bps: f64,
    pull_bps: f64,
}

/// Runs every size and writes the tables and plots.
pub fn run(args: &MulticastArgs) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(&args.out)?;
    let mut rows = Vec::new();
    for &members in &args.members {
        if !(2..=64).contains(&members) {
            return Err(format!("a conference has 2 to 64 members, not {members}").into());
        }
        println!("conference of {members} members over a transit-stub internet ...");
        let row = measure(args, members)?;
        print_row(&row);
        rows.push(row);
    }
    write_outputs(args, &rows)?;
    verdict(args, &rows)
}

/// The nodes of one run: the creator, the members, the spares that replace
/// the members that crash.
struct Cast {
    creator: NodeIndex,
    members: Vec<NodeIndex>,
    spares: Vec<NodeIndex>,
    bounds: HashMap<NodeIndex, u8>,
}

fn measure(args: &MulticastArgs, size: usize) -> Result<Measured, Box<dyn Error>> {
    let minutes = args.stream_secs as f64 / 60.0;
    let replacements = (args.churn * (size - 1) as f64 * minutes).round() as usize;
    let spec = OverlaySpec {
        nodes: size + replacements + 4,
        friends: 0,
        config: Config::default(),
        seed: args.seed,
        latency: LatencyModel::transit_stub(),
        join_spacing: Duration::from_millis(100),
    };
    let mut overlay = Overlay::build(&spec)?;
    let nodes: Vec<NodeIndex> = overlay.members().collect();
    let mut rng = Rng::new(args.seed ^ 0x6d75_6c74);
    let cast = Cast {
        creator: nodes[1],
        members: nodes[2..1 + size].to_vec(),
        spares: nodes[1 + size..1 + size + replacements].to_vec(),
        bounds: HashMap::new(),
    };
    let cast = provision(&mut overlay, cast, &mut rng);
    // Spares are befriended when they replace a member: the creator's contacts are bounded.
    for &n in &cast.members {
        befriend(&mut overlay, cast.creator, n)?;
    }
    let session = overlay.network.command(cast.creator, |n, now| n.create_conference(now, "simulated"))?;
    admit(&mut overlay, &cast, session, &cast.members)?;
    overlay.network.run_for(Duration::from_secs(10));
    let mut row = Measured { members: size, ..Measured::default() };
    tree_shape(&overlay, &cast, session, &mut row);
    let config = overlay.network.config();
    overlay.network.set_config(NetworkConfig { loss: args.loss, ..config });
    push_file(args, &mut overlay, &cast, session, &mut row)?;
    stream(args, &mut overlay, cast, session, &mut row, &mut rng)?;
    Ok(row)
}

/// Gives each member an uplink — half the slowest, three in ten four times
/// faster, the rest ten times — and the degree bound that uplink carries at
/// the push rate with headroom (the slowest: none, they are leaves; the
/// creator: the fastest uplink).
fn provision(overlay: &mut Overlay, mut cast: Cast, rng: &mut Rng) -> Cast {
    let push_rate = SLOWEST_UPLINK as f64 * PUSH_SHARE;
    let everyone: Vec<NodeIndex> =
        std::iter::once(cast.creator).chain(cast.members.iter().copied()).chain(cast.spares.iter().copied()).collect();
    for n in everyone {
        let draw = rng.below(10);
        let rate = if n == cast.creator || draw >= 8 {
            10 * SLOWEST_UPLINK
        } else if draw >= 5 {
            4 * SLOWEST_UPLINK
        } else {
            SLOWEST_UPLINK
        };
        overlay.network.set_uplink(n, Uplink::new(rate, Duration::from_millis(200)));
        let bound = ((rate as f64 / (push_rate * HEADROOM)) as u8).min(16);
        // Cannot fail: the bound is within 1 to 16.
        let _ = overlay.network.command(n, |node, _| node.set_tree_children(bound));
        cast.bounds.insert(n, bound);
    }
    cast
}

/// `a` asks `b` to be friends and `b` accepts.
fn befriend(overlay: &mut Overlay, a: NodeIndex, b: NodeIndex) -> Result<(), Box<dyn Error>> {
    let (a_id, b_id) = (overlay.network.locator(a).id, overlay.network.locator(b).id);
    for _ in 0..3 {
        if overlay.network.node(a).contacts().get(b_id).is_some() {
            return Ok(());
        }
        let since = overlay.network.events().len();
        match overlay.network.command(a, |n, now| n.request_friend(now, b_id, "conference")) {
            Ok(()) => {}
            Err(mmp2p_core::CommandError::AlreadyFriends) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if wait(
            overlay,
            Duration::from_secs(20),
            |e| e.node == b && matches!(&e.event, Event::FriendRequest { from } if from.id == a_id),
            since,
        ) {
            overlay.network.command(b, |n, now| n.accept_friend(now, a_id))?;
            let accepted = |e: &mmp2p_memory::NodeEvent| {
                e.node == a && matches!(&e.event, Event::FriendAccepted { friend } if *friend == b_id)
            };
            wait(overlay, Duration::from_secs(10), accepted, since);
        }
    }
    Err(format!("{b:?} never became the creator's friend").into())
}

/// Runs until an event since `since` matches, or `limit` passes; true if one did.
fn wait(
    overlay: &mut Overlay,
    limit: Duration,
    matches: impl Fn(&mmp2p_memory::NodeEvent) -> bool,
    since: usize,
) -> bool {
    let end = overlay.now() + limit;
    while overlay.now() < end {
        if overlay.network.events()[since..].iter().any(&matches) {
            return true;
        }
        overlay.network.run_for(Duration::from_millis(100));
    }
    false
}

/// The creator invites `joiners`, who join; waits until each has a place in the tree.
fn admit(overlay: &mut Overlay, cast: &Cast, session: SessionId, joiners: &[NodeIndex]) -> Result<(), Box<dyn Error>> {
    for batch in joiners.chunks(16) {
        let since = overlay.network.events().len();
        for &n in batch {
            let id = overlay.network.locator(n).id;
            overlay.network.command(cast.creator, |c, now| c.invite_to_conference(now, session, id))?;
        }
        let invited = |n: NodeIndex, since: usize, overlay: &Overlay| {
            overlay.network.events()[since..].iter().any(|e| e.node == n && matches!(&e.event, Event::Conference(ConferenceEvent::Invited { session: s, .. }) if *s == session))
        };
        overlay.network.run_for(Duration::from_secs(3));
        for &n in batch {
            if !invited(n, since, overlay) {
                return Err(format!("{n:?} never got its invitation").into());
            }
            overlay.network.command(n, |m, now| m.answer_invitation(now, session, true))?;
        }
        let attached = |e: &mmp2p_memory::NodeEvent| {
            batch.contains(&e.node) && matches!(e.event, Event::Conference(ConferenceEvent::Attached { .. }))
        };
        let end = overlay.now() + Duration::from_secs(30);
        while overlay.network.events()[since..]
            .iter()
            .filter(|e| attached(e))
            .map(|e| e.node)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            < batch.len()
        {
            if overlay.now() > end {
                return Err("members never took their places in the tree".into());
            }
            overlay.network.run_for(Duration::from_millis(200));
        }
    }
    Ok(())
}

/// Each member's parent and the tree's RDP, link stress and degrees.
fn tree_shape(overlay: &Overlay, cast: &Cast, session: SessionId, row: &mut Measured) {
    let by_id: HashMap<mmp2p_core::Id, NodeIndex> = std::iter::once(cast.creator)
        .chain(cast.members.iter().copied())
        .map(|n| (overlay.network.locator(n).id, n))
        .collect();
    let parent = |n: NodeIndex| -> Option<NodeIndex> {
        let conference = overlay.network.node(n).conferences().get(session)?;
        conference.tree.parent.and_then(|p| by_id.get(&p.locator.id).copied())
    };
    let mut rdps = Vec::new();
    let mut stress: BTreeMap<mmp2p_memory::Link, usize> = BTreeMap::new();
    let mut unicast: BTreeMap<mmp2p_memory::Link, usize> = BTreeMap::new();
    for &m in &cast.members {
        let mut delay = Duration::ZERO;
        let mut at = m;
        for _ in 0..64 {
            let Some(up) = parent(at) else { break };
            delay += overlay.network.latency(up, at);
            at = up;
        }
        let direct = overlay.network.latency(cast.creator, m);
        if at == cast.creator && !direct.is_zero() {
            rdps.push(delay.as_secs_f64() / direct.as_secs_f64());
        }
        if let Some(up) = parent(m) {
            for link in overlay.network.links(up, m) {
                *stress.entry(link).or_default() += 1;
            }
        }
        for link in overlay.network.links(cast.creator, m) {
            *unicast.entry(link).or_default() += 1;
        }
    }
    rdps.sort_by(f64::total_cmp);
    row.rdp_mean = rdps.iter().sum::<f64>() / rdps.len().max(1) as f64;
    row.rdp_p90 = rdps.get((rdps.len() * 9 / 10).min(rdps.len().saturating_sub(1))).copied().unwrap_or(0.0);
    row.stress_mean = stress.values().sum::<usize>() as f64 / stress.len().max(1) as f64;
    row.stress_max = stress.values().copied().max().unwrap_or(0);
    row.unicast_stress_max = unicast.values().copied().max().unwrap_or(0);
    row.children_over_bound = std::iter::once(cast.creator)
        .chain(cast.members.iter().copied())
        .filter_map(|n| {
            let children = overlay.network.node(n).conferences().get(session)?.tree.children.len();
            Some(children as f64 / f64::from(cast.bounds[&n]))
        })
        .fold(0.0, f64::max);
}

/// File bytes no member holds beforehand.
fn file_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The creator pushes a file to everyone at the push rate; measures when the last member has it, intact.
fn push_file(
    args: &MulticastArgs,
    overlay: &mut Overlay,
    cast: &Cast,
    session: SessionId,
    row: &mut Measured,
) -> Result<(), Box<dyn Error>> {
    let bytes = file_bytes(args.file, args.seed);
    let content = ContentId::of(&bytes);
    let rate = (SLOWEST_UPLINK as f64 * PUSH_SHARE) as u32;
    let since = overlay.network.events().len();
    let started = overlay.now();
    let transfer = overlay.network.conference_send(cast.creator, session, ("pushed.bin", bytes), rate, false)?;
    row.push_bound_secs = 1.2 * args.file as f64 / SLOWEST_UPLINK as f64;
    let limit = Duration::from_secs_f64(row.push_bound_secs * 3.0 + 10.0);
    let mut done: HashMap<NodeIndex, Instant> = HashMap::new();
    let end = started + limit;
    while done.len() < cast.members.len() && overlay.now() < end {
        overlay.network.run_for(Duration::from_millis(200));
        for e in &overlay.network.events()[since..] {
            if let Event::Conference(ConferenceEvent::Received { transfer: t, .. }) = e.event {
                if t == transfer {
                    done.entry(e.node).or_insert(e.at);
                }
            }
        }
    }
    let last = done.values().max().copied().unwrap_or(end);
    row.push_secs = last.saturating_duration_since(started).as_secs_f64();
    row.push_intact = cast
        .members
        .iter()
        .filter(|&&m| {
            let request = offered(overlay, m, since, transfer);
            request
                .and_then(|r| overlay.network.files(m).downloads.get(&r))
                .is_some_and(|f| ContentId::of(&f.bytes) == content)
        })
        .count();
    Ok(())
}

/// The id a member's copy of `transfer` is written under.
fn offered(overlay: &Overlay, node: NodeIndex, since: usize, transfer: u64) -> Option<mmp2p_core::RequestId> {
    overlay.network.events()[since..].iter().find_map(|e| match e.event {
        Event::Conference(ConferenceEvent::Offered { transfer: t, request, .. }) if e.node == node && t == transfer => {
            Some(request)
        }
        _ => None,
    })
}

/// Bytes of the control types and of pulls that `nodes` sent so far.
fn traffic(overlay: &Overlay, nodes: &[NodeIndex]) -> (u64, u64) {
    let sent = |n: NodeIndex, kind| overlay.network.node(n).stats().sent(kind).1;
    let control = nodes.iter().map(|&n| CONTROL.iter().map(|&k| sent(n, k)).sum::<u64>()).sum();
    let pulls = nodes.iter().map(|&n| sent(n, MessageType::ConfPull)).sum();
    (control, pulls)
}

/// The creator streams a file while members are replaced and one member
/// with children crashes; measures start-up, continuity, repair and control.
fn stream(
    args: &MulticastArgs,
    overlay: &mut Overlay,
    mut cast: Cast,
    session: SessionId,
    row: &mut Measured,
    rng: &mut Rng,
) -> Result<(), Box<dyn Error>> {
    let bytes = file_bytes(args.stream_secs as usize * args.bitrate as usize, args.seed ^ 1);
    let since = overlay.network.events().len();
    let started = overlay.now();
    let everyone: Vec<NodeIndex> =
        std::iter::once(cast.creator).chain(cast.members.iter().copied()).chain(cast.spares.iter().copied()).collect();
    let traffic_before = traffic(overlay, &everyone);
    let transfer =
        overlay.network.conference_send(cast.creator, session, ("stream.webm", bytes), args.bitrate, true)?;
    // Replacements at even times; the crash of a member with children a third in.
    let length = Duration::from_secs(args.stream_secs);
    let mut churn: Vec<Instant> = (0..cast.spares.len())
        .map(|i| started + length * (2 * i as u32 + 1) / (2 * cast.spares.len() as u32).max(1))
        .collect();
    churn.reverse();
    let crash_at = started + length / 3;
    let mut crashed: Vec<NodeIndex> = Vec::new();
    let mut repair: Option<(Instant, Vec<NodeIndex>, usize)> = None;
    let mut spares = cast.spares.clone();
    let end = started + length + Duration::from_secs(10);
    while overlay.now() < end {
        overlay.network.run_for(Duration::from_millis(250));
        let now = overlay.now();
        if repair.is_none() && now >= crash_at {
            let interior = cast.members.iter().copied().find(|&m| {
                overlay.network.node(m).conferences().get(session).is_some_and(|c| !c.tree.children.is_empty())
            });
            if let Some(victim) = interior {
                let ids: Vec<mmp2p_core::Id> = overlay
                    .network
                    .node(victim)
                    .conferences()
                    .get(session)
                    .map(|c| c.tree.children.iter().map(|l| l.locator.id).collect())
                    .unwrap_or_default();
                let children: Vec<NodeIndex> =
                    cast.members.iter().copied().filter(|&m| ids.contains(&overlay.network.locator(m).id)).collect();
                overlay.network.crash(victim);
                crashed.push(victim);
                cast.members.retain(|&m| m != victim);
                repair = Some((now, children, overlay.network.events().len()));
            }
        }
        if churn.last().is_some_and(|&at| at <= now) {
            churn.pop();
            let candidates: Vec<NodeIndex> = cast.members.clone();
            let leaver = candidates[rng.below(candidates.len() as u64) as usize];
            overlay.network.crash(leaver);
            crashed.push(leaver);
            cast.members.retain(|&m| m != leaver);
            let leaver_id = overlay.network.locator(leaver).id;
            // The creator removes the member that crashed and drops the friend, making room for the newcomer.
            overlay.network.command(cast.creator, |c, now| c.remove_from_conference(now, session, leaver_id))?;
            overlay.network.command(cast.creator, |c, now| c.unfriend(now, leaver_id))?;
            if let Some(newcomer) = spares.pop() {
                befriend(overlay, cast.creator, newcomer)?;
                let id = overlay.network.locator(newcomer).id;
                overlay.network.command(cast.creator, |c, now| c.invite_to_conference(now, session, id))?;
                overlay.network.run_for(Duration::from_secs(1));
                // An invitation lost on the way is not retried here: the newcomer stays out.
                if overlay.network.node(newcomer).conferences().get(session).is_some() {
                    overlay.network.command(newcomer, |m, now| m.answer_invitation(now, session, true))?;
                    cast.members.push(newcomer);
                    row.replaced += 1;
                }
            }
        }
    }
    let elapsed = overlay.now().saturating_duration_since(started).as_secs_f64();
    let present: Vec<NodeIndex> = everyone.iter().copied().filter(|n| !crashed.contains(n)).collect();
    let traffic_after = traffic(overlay, &present);
    let per_member =
        |before: u64, after: u64| (after.saturating_sub(before)) as f64 * 8.0 / elapsed / present.len().max(1) as f64;
    row.control_bps = per_member(traffic_before.0, traffic_after.0);
    row.pull_bps = per_member(traffic_before.1, traffic_after.1);
    // Start-up and continuity, member by member.
    // Start-up counts from when a member could first receive: the stream's
    // start, or a newcomer's first attachment to the tree; it ends when the
    // member starts to play (its first leaf checked, plus the playout buffer).
    let mut startups = Vec::new();
    let mut continuity = Vec::new();
    let mut attached: HashMap<NodeIndex, Instant> = HashMap::new();
    let (mut survivors_played, mut survivors_missed) = (0u64, 0u64);
    for e in &overlay.network.events()[since..] {
        match e.event {
            Event::Conference(ConferenceEvent::Attached { session: s, .. }) if s == session => {
                attached.entry(e.node).or_insert(e.at);
            }
            Event::Conference(ConferenceEvent::StreamStarted { transfer: t, .. }) if t == transfer => {
                let from = if cast.spares.contains(&e.node) { attached.get(&e.node).copied() } else { None };
                let playing = e.at + PLAYOUT_BUFFER;
                startups.push(playing.saturating_duration_since(from.unwrap_or(started)).as_secs_f64())
            }
            Event::Conference(ConferenceEvent::StreamEnded { transfer: t, played, missed, .. }) if t == transfer => {
                continuity.push(f64::from(played) / f64::from((played + missed).max(1)));
                if !cast.spares.contains(&e.node) {
                    survivors_played += u64::from(played);
                    survivors_missed += u64::from(missed);
                }
            }
            _ => {}
        }
    }
    row.startup_mean = startups.iter().sum::<f64>() / startups.len().max(1) as f64;
    row.startup_max = startups.iter().copied().fold(0.0, f64::max);
    row.continuity_mean = continuity.iter().sum::<f64>() / continuity.len().max(1) as f64;
    row.continuity_min = continuity.iter().copied().fold(1.0, f64::min);
    row.survivors_missed_pct = 100.0 * survivors_missed as f64 / (survivors_played + survivors_missed).max(1) as f64;
    // Members offered the stream that did not play it to its end (one that
    // joined after its last proof was never offered it).
    let ended = |m: NodeIndex| {
        overlay.network.events()[since..].iter().any(|e| {
            e.node == m
                && matches!(e.event, Event::Conference(ConferenceEvent::StreamEnded { transfer: t, .. }) if t == transfer)
        })
    };
    let offered_it = |m: &NodeIndex| offered(overlay, *m, since, transfer).is_some();
    row.unfinished = cast.members.iter().filter(|m| offered_it(m)).filter(|&&m| !ended(m)).count();
    if let Some((at, children, mark)) = repair {
        row.orphans = children.len();
        row.repair_max_secs = children
            .iter()
            .map(|&c| {
                overlay.network.events()[mark..]
                    .iter()
                    .find(|e| e.node == c && matches!(e.event, Event::Conference(ConferenceEvent::Attached { .. })))
                    .map_or(f64::INFINITY, |e| e.at.saturating_duration_since(at).as_secs_f64())
            })
            .fold(0.0, f64::max);
    }
    Ok(())
}

const HEADER: &str = "members,rdp_mean,rdp_p90,stress_mean,stress_max,unicast_stress_max,children_over_bound,push_secs,push_bound_secs,push_intact,startup_mean_s,startup_max_s,continuity_mean,continuity_min,survivors_missed_pct,replaced,orphans,repair_max_s,control_bps,pull_bps";

fn cells(r: &Measured) -> String {
    format!(
        "{},{:.3},{:.3},{:.2},{},{},{:.2},{:.2},{:.2},{},{:.3},{:.3},{:.4},{:.4},{:.3},{},{},{:.2},{:.0},{:.0}",
        r.members,
        r.rdp_mean,
        r.rdp_p90,
        r.stress_mean,
        r.stress_max,
        r.unicast_stress_max,
        r.children_over_bound,
        r.push_secs,
        r.push_bound_secs,
        r.push_intact,
        r.startup_mean,
        r.startup_max,
        r.continuity_mean,
        r.continuity_min,
        r.survivors_missed_pct,
        r.replaced,
        r.orphans,
        r.repair_max_secs,
        r.control_bps,
        r.pull_bps
    )
}

fn print_row(r: &Measured) {
    println!(
        "  RDP mean {:.2} p90 {:.2}; link stress mean {:.2} max {} (unicast {}); children/bound ≤ {:.2}",
        r.rdp_mean, r.rdp_p90, r.stress_mean, r.stress_max, r.unicast_stress_max, r.children_over_bound
    );
    println!(
        "  file push {:.1} s (bound {:.1} s), intact at {} of {}",
        r.push_secs,
        r.push_bound_secs,
        r.push_intact,
        r.members - 1
    );
    println!(
        "  stream: start-up mean {:.2} s max {:.2} s; continuity mean {:.4} min {:.4}; survivors missed {:.2} %; {} replaced",
        r.startup_mean, r.startup_max, r.continuity_mean, r.continuity_min, r.survivors_missed_pct, r.replaced
    );
    println!(
        "  crash: {} orphans re-attached within {:.2} s; control {:.0} bit/s per member, pulls {:.0} bit/s",
        r.orphans, r.repair_max_secs, r.control_bps, r.pull_bps
    );
}

fn write_outputs(args: &MulticastArgs, rows: &[Measured]) -> Result<(), Box<dyn Error>> {
    let csv: String = std::iter::once(HEADER.to_owned()).chain(rows.iter().map(cells)).map(|l| l + "\n").collect();
    std::fs::write(args.out.join("multicast.csv"), &csv)?;
    let mut md = format!("| {} |\n|{}\n", HEADER.replace(',', " | "), "---|".repeat(HEADER.split(',').count()));
    for r in rows {
        md.push_str(&format!("| {} |\n", cells(r).replace(',', " | ")));
    }
    std::fs::write(args.out.join("multicast.md"), md)?;
    let series = |label: &str, f: fn(&Measured) -> f64| Series {
        label: label.to_owned(),
        points: rows.iter().map(|r| (r.members as f64, f(r))).collect(),
    };
    output::plot(
        &args.out.join("multicast-rdp.svg"),
        "Conference tree: relative delay penalty and link stress",
        "members",
        "ratio / copies",
        &[
            series("RDP mean", |r| r.rdp_mean),
            series("RDP p90", |r| r.rdp_p90),
            series("link stress max", |r| r.stress_max as f64),
        ],
    )?;
    output::plot(
        &args.out.join("multicast-stream.svg"),
        "Conference stream: start-up (s) and continuity",
        "members",
        "seconds / index",
        &[series("start-up max (s)", |r| r.startup_max), series("continuity min", |r| r.continuity_min)],
    )?;
    println!("\nwrote multicast.csv, multicast.md, multicast-rdp.svg, multicast-stream.svg to {}", args.out.display());
    Ok(())
}

/// Checks the largest run against the targets; an error names those missed.
fn verdict(args: &MulticastArgs, rows: &[Measured]) -> Result<(), Box<dyn Error>> {
    let Some(r) = rows.iter().max_by_key(|r| r.members) else { return Ok(()) };
    let period = Config::default().tree_heartbeat.as_secs_f64();
    let checks = [
        ("RDP mean ≤ 1.5", r.rdp_mean <= 1.5),
        ("RDP p90 ≤ 2.5", r.rdp_p90 <= 2.5),
        ("children within every degree bound", r.children_over_bound <= 1.0),
        ("orphans re-attached within two liveness periods", r.repair_max_secs <= 2.0 * period),
        ("survivors miss ≤ 1 % of leaves", r.survivors_missed_pct <= 1.0),
        ("start-up ≤ 2 s", r.startup_max <= 2.0),
        ("continuity ≥ 0.99", r.continuity_mean >= 0.99),
        ("every member played the stream to its end", r.unfinished == 0),
        ("control ≤ 1 kbit/s per member", r.control_bps <= 1000.0),
        ("file intact at every member", r.push_intact == r.members - 1),
        ("file within 1.2 × size ÷ slowest uplink", r.push_secs <= r.push_bound_secs),
    ];
    println!(
        "\n{} members, {:.0} % loss, {:.0} % replaced per minute:",
        r.members,
        args.loss * 100.0,
        args.churn * 100.0
    );
    for (what, ok) in checks {
        println!("  {} {what}", if ok { "PASS" } else { "FAIL" });
    }
    let failed: Vec<&str> = checks.iter().filter(|(_, ok)| !ok).map(|(what, _)| *what).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("targets missed: {}", failed.join("; ")).into())
    }
}
