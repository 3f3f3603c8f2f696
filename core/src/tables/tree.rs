//! One conference's delivery tree, as one member sees it: its parent, its
//! children, its path from the root and delay along it, and the search for
//! a parent under way.
//!
//! Bounded: at most [`MAX_CHILDREN`] children (a member's own bound, the
//! configured `tree_children`, may be lower), a path of at most
//! [`MAX_DEPTH`] ancestors, and a search that probes at most
//! [`MAX_PROBES`] members and keeps the [`MAX_OFFERS`] best answers.

use crate::id::{Id, ResourceLocator};
use crate::identity::PublicKey;
use crate::time::Instant;
use crate::wire::MAX_DEPTH;
use core::net::SocketAddrV6;
use core::time::Duration;

/// The addresses of a member's tree neighbours: its parent and children.
pub type Addresses = heapless::Vec<SocketAddrV6, { MAX_CHILDREN + 1 }>;

/// Children a member takes at most, whatever its upload budget.
pub const MAX_CHILDREN: usize = crate::config::MAX_TREE_CHILDREN;
/// Members one search for a parent probes at most.
pub const MAX_PROBES: u8 = 32;
/// Answers a search keeps (the best by delay from the root).
pub const MAX_OFFERS: usize = 8;
/// Members a search has yet to probe, at most.
pub const MAX_QUEUED: usize = 16;
/// Probes a search keeps outstanding at once.
pub const PROBES_AT_ONCE: u8 = 4;

/// A tree neighbour: parent or child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Its ID and address.
    pub locator: ResourceLocator,
    /// Its identity key, from its certificate (the root's: the creator's).
    pub key: PublicKey,
    /// The round trip to it, smoothed.
    pub rtt: Duration,
    /// When it was last heard.
    pub heard: Instant,
    /// It answered a nonce of ours at its address (a parent, by answering
    /// our TREE_JOIN; a child, our PING): transfers go to it.
    pub proven: bool,
    /// Children it takes (a child's, as its TREE_JOIN says).
    pub capacity: u8,
    /// When it became our parent or child.
    pub since: Instant,
}

/// A member that answered a probe, and what joining under it would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// The member.
    pub locator: ResourceLocator,
    /// Our delay from the root through it: its delay plus half our round trip to it.
    pub delay_us: u32,
    /// Half our round trip to it, in microseconds.
    pub distance_us: u32,
    /// It takes more children, we are not its ancestor, and it is not too deep.
    pub eligible: bool,
}

/// Where a member stands in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The root, or attached to a parent.
    Placed,
    /// Probing members for the best parent.
    Searching,
    /// Asked the best offer to take us; waiting for its answer.
    Attaching,
    /// Nobody took us: searching again at this instant.
    Waiting(Instant),
    /// Attached, probing members for a better parent than ours.
    Refining,
    /// Attached, and asked a better parent to take us; waiting for its answer.
    Moving,
}

/// One conference's tree, as this member sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    /// Where we stand.
    pub phase: Phase,
    /// Our parent (none: the root, or detached).
    pub parent: Option<Link>,
    /// Our children.
    pub children: heapless::Vec<Link, MAX_CHILDREN>,
    /// Our ancestors, the root first.
    pub path: heapless::Vec<Id, MAX_DEPTH>,
    /// Our delay from the root along the tree, in microseconds.
    pub root_delay_us: u32,
    /// When our next heartbeat to the parent is due.
    pub heartbeat_at: Option<Instant>,
    /// Heartbeats left out in a row because transfer pieces came from the parent.
    pub skipped: u8,
    /// When a transfer piece last came from the parent, while one flows.
    pub data_at: Option<Instant>,
    /// The parent went silent mid-transfer: since when, and by when it must answer.
    pub suspect: Option<(Instant, Instant)>,
    /// A search's answers, best first.
    pub offers: heapless::Vec<Offer, MAX_OFFERS>,
    /// Members a search has yet to probe.
    pub queue: heapless::Vec<ResourceLocator, MAX_QUEUED>,
    /// Probes sent by the search so far.
    pub probed: u8,
    /// Probes outstanding.
    pub outstanding: u8,
    /// The search must end soon (an orphan): it takes the best place on
    /// offer without waiting for every answer.
    pub hurry: bool,
    /// Members probed by the search, by ID, not to probe them twice.
    pub seen: heapless::Vec<Id, { MAX_PROBES as usize }>,
    /// Members the search under way may probe in all.
    pub budget: u8,
    /// When we next look for a better parent (attached members only).
    pub refine_at: Option<Instant>,
    /// Looks for a better parent since we last moved: each waits longer.
    pub refinements: u8,
    /// Half our round trip to the root, as a probe of it measured (0: not
    /// measured): the delay a direct path would give.
    pub root_distance_us: u32,
}

impl Tree {
    /// The tree of the root: placed, with no parent.
    pub fn root() -> Tree {
        Tree::with_phase(Phase::Placed)
    }

    /// The tree of a member about to search for a parent.
    pub fn detached() -> Tree {
        Tree::with_phase(Phase::Searching)
    }

    fn with_phase(phase: Phase) -> Tree {
        Tree {
            phase,
            parent: None,
            children: heapless::Vec::new(),
            path: heapless::Vec::new(),
            root_delay_us: 0,
            heartbeat_at: None,
            skipped: 0,
            data_at: None,
            suspect: None,
            offers: heapless::Vec::new(),
            queue: heapless::Vec::new(),
            probed: 0,
            outstanding: 0,
            hurry: false,
            seen: heapless::Vec::new(),
            budget: MAX_PROBES,
            refine_at: None,
            refinements: 0,
            root_distance_us: 0,
        }
    }

    /// True if we have our place: the root, or attached (looking for a
    /// better parent or not).
    pub fn is_placed(&self) -> bool {
        matches!(self.phase, Phase::Placed | Phase::Refining | Phase::Moving)
    }

    /// When we next look for a better parent: attached and settled (not
    /// looking or moving already), at `refine_at`.
    pub fn next_look(&self) -> Option<Instant> {
        self.refine_at.filter(|_| self.phase == Phase::Placed && self.parent.is_some())
    }

    /// True while probes go out: a search, or a look for a better parent.
    pub fn is_probing(&self) -> bool {
        matches!(self.phase, Phase::Searching | Phase::Refining)
    }

    /// Our depth: ancestors on our path.
    pub fn depth(&self) -> usize {
        self.path.len()
    }

    /// The child whose place a stronger or nearer member may take, among
    /// those that have been our children for `settle` by `now` (a child
    /// still settling in — its first pieces coming — keeps its place): the
    /// least capacity among them (255: none), and of those with that
    /// capacity the farthest one's delay to us, in microseconds.
    pub fn weakest(&self, now: Instant, settle: Duration) -> (u8, u32) {
        self.weakest_child(now, settle).map_or((u8::MAX, 0), |(_, c)| (c.capacity, half_micros(c.rtt)))
    }

    /// The child [`weakest`](Tree::weakest) describes, with its index.
    pub fn weakest_child(&self, now: Instant, settle: Duration) -> Option<(usize, &Link)> {
        let settled = self.children.iter().enumerate().filter(|(_, c)| c.since + settle <= now);
        settled.min_by_key(|(_, c)| (c.capacity, core::cmp::Reverse(c.rtt)))
    }

    /// Half our round trip to the member at `addr` as we measured it: our
    /// parent, or a member our search probed (0: not measured).
    pub fn distance_to(&self, addr: core::net::SocketAddrV6) -> u32 {
        if let Some(parent) = self.parent.filter(|p| p.locator.addr == addr) {
            return half_micros(parent.rtt);
        }
        self.offers.iter().find(|o| o.locator.addr == addr).map_or(0, |o| o.distance_us)
    }

    /// The child with this ID.
    pub fn child(&self, id: Id) -> Option<&Link> {
        self.children.iter().find(|c| c.locator.id == id)
    }

    /// Our tree neighbours: the parent, then the children.
    pub fn neighbours(&self) -> impl Iterator<Item = &Link> {
        self.parent.iter().chain(self.children.iter())
    }

    /// The neighbours transfers go to: those proven at their address.
    pub fn proven_neighbours(&self) -> impl Iterator<Item = &Link> {
        self.neighbours().filter(|link| link.proven)
    }

    /// The addresses of our tree neighbours (`proven`: only those proven),
    /// but `except`.
    pub fn addresses(&self, proven: bool, except: Option<SocketAddrV6>) -> Addresses {
        let links = self.neighbours().filter(|link| link.proven || !proven);
        links.map(|link| link.locator.addr).filter(|addr| Some(*addr) != except).collect()
    }

    /// True if `addr` is a tree neighbour's (`proven`: a proven one's).
    pub fn is_neighbour(&self, addr: SocketAddrV6, proven: bool) -> bool {
        self.neighbours().any(|link| link.locator.addr == addr && (link.proven || !proven))
    }

    /// Starts a search afresh from `first` (the grandparent of an orphan,
    /// then the root).
    pub fn start_search(&mut self, first: &[ResourceLocator], hurry: bool) {
        self.phase = Phase::Searching;
        self.hurry = hurry;
        self.parent = None;
        self.heartbeat_at = None;
        (self.data_at, self.suspect, self.skipped) = (None, None, 0);
        self.refine_at = None;
        self.probe_afresh(first, MAX_PROBES);
    }

    /// Starts looking for a better parent than ours, from `root`, with at
    /// most `budget` probes; our parent stays until a better one takes us.
    pub fn start_refinement(&mut self, root: ResourceLocator, budget: u8) {
        self.phase = Phase::Refining;
        self.hurry = false;
        self.probe_afresh(&[root], budget);
    }

    fn probe_afresh(&mut self, first: &[ResourceLocator], budget: u8) {
        self.offers.clear();
        self.queue.clear();
        self.seen.clear();
        (self.probed, self.outstanding, self.budget) = (0, 0, budget.min(MAX_PROBES));
        for locator in first {
            self.enqueue(*locator);
        }
    }

    /// Adds `locator` to the members to probe, unless probed or queued
    /// already, or the search's budget is spent.
    pub fn enqueue(&mut self, locator: ResourceLocator) {
        let known = self.seen.contains(&locator.id) || self.queue.iter().any(|q| q.id == locator.id);
        if !known && usize::from(self.probed) + self.queue.len() < usize::from(self.budget) {
            // A full queue drops the candidate: the budget bounds it anyway.
            let _ = self.queue.push(locator);
        }
    }

    /// The next member to probe, if the search may send one now.
    pub fn next_probe(&mut self) -> Option<ResourceLocator> {
        if !self.is_probing() || self.outstanding >= PROBES_AT_ONCE || self.queue.is_empty() {
            return None;
        }
        let locator = self.queue.remove(0);
        // Cannot overflow: at most MAX_PROBES are ever queued.
        let _ = self.seen.push(locator.id);
        self.probed += 1;
        self.outstanding += 1;
        Some(locator)
    }

    /// Records an answer, keeping the best [`MAX_OFFERS`] by delay; true if
    /// it is now the best eligible one.
    pub fn offer(&mut self, offer: Offer) -> bool {
        self.offers.retain(|o| o.locator.id != offer.locator.id);
        let at = self.offers.iter().position(|o| (o.delay_us, o.locator.id) > (offer.delay_us, offer.locator.id));
        let at = at.unwrap_or(self.offers.len());
        if at == MAX_OFFERS {
            return false;
        }
        if self.offers.is_full() {
            self.offers.pop();
        }
        // Cannot fail: a slot was freed above if needed.
        let _ = self.offers.insert(at, offer);
        offer.eligible && self.best().is_some_and(|b| b.locator.id == offer.locator.id)
    }

    /// The best eligible offer.
    pub fn best(&self) -> Option<&Offer> {
        self.offers.iter().find(|o| o.eligible)
    }

    /// True once the search has nothing left to wait for.
    pub fn search_done(&self) -> bool {
        self.is_probing() && self.outstanding == 0 && self.queue.is_empty()
    }

    /// Takes `link` as our parent, with its path and delay from the root.
    pub fn attach(&mut self, link: Link, parent_path: &[Id], parent_delay_us: u32, now: Instant, heartbeat: Duration) {
        self.phase = Phase::Placed;
        self.path.clear();
        for id in parent_path.iter().chain(core::iter::once(&link.locator.id)).take(MAX_DEPTH) {
            // Cannot overflow: at most MAX_DEPTH are taken.
            let _ = self.path.push(*id);
        }
        self.root_delay_us = parent_delay_us.saturating_add(half_micros(link.rtt));
        self.parent = Some(link);
        self.heartbeat_at = Some(now + heartbeat);
        (self.data_at, self.suspect, self.skipped) = (None, None, 0);
        self.offers.clear();
        self.queue.clear();
    }
}

/// How much nearer than a child a member must be to take its place, or a
/// better parent than ours must bring us to the root, at least: delays
/// that differ by less are measurement noise (on a LAN, all of them).
pub const NEARER_BY_US: u32 = 5_000;

/// True if a member that takes `capacity` children, `delay_us` from a
/// parent, may take the place of the parent's child that takes
/// `weakest` children, `weakest_delay_us` from it: it takes more children,
/// or as many and is less than two thirds as far (and [`NEARER_BY_US`]
/// nearer) — so members that forward to many, and then the nearer ones,
/// stay near the root.
pub fn displaces(capacity: u8, delay_us: u32, weakest: u8, weakest_delay_us: u32) -> bool {
    let nearer = delay_us > 0
        && u64::from(delay_us) * 3 < u64::from(weakest_delay_us) * 2
        && weakest_delay_us - delay_us >= NEARER_BY_US;
    capacity > weakest || (capacity == weakest && nearer)
}

/// Half of `rtt`, in microseconds: the one-way delay it implies.
pub fn half_micros(rtt: Duration) -> u32 {
    u32::try_from(rtt.as_micros() / 2).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tables::test_locator as who;

    /// Node 7 as a parent 40 ms away (round trip).
    fn parent_link() -> Link {
        Link {
            locator: who(7),
            key: PublicKey([0; 32]),
            rtt: Duration::from_millis(40),
            heard: Instant::ZERO,
            proven: true,
            capacity: 0,
            since: Instant::ZERO,
        }
    }

    fn offer(n: u16, delay_us: u32, eligible: bool) -> Offer {
        Offer { locator: who(n), delay_us, distance_us: delay_us, eligible }
    }

    #[test]
    fn a_search_probes_each_member_once_within_its_budget() {
        let mut tree = Tree::detached();
        tree.start_search(&[who(1), who(1), who(2)], false);
        assert_eq!(tree.queue.len(), 2, "no member queued twice");
        let mut sent = Vec::new();
        while let Some(next) = tree.next_probe() {
            sent.push(next.id);
        }
        assert_eq!(sent, [Id(1), Id(2)]);
        tree.enqueue(who(1));
        assert!(tree.queue.is_empty(), "probed already");
        for n in 3..40 {
            tree.enqueue(who(n));
            tree.outstanding = 0;
            while tree.next_probe().is_some() {}
        }
        assert_eq!(tree.probed, MAX_PROBES, "the budget bounds the probes");
    }

    #[test]
    fn offers_are_kept_best_first_and_bounded() {
        let mut tree = Tree::detached();
        assert!(tree.offer(offer(1, 900, true)));
        assert!(!tree.offer(offer(2, 950, true)), "not the best");
        assert!(!tree.offer(offer(3, 100, false)), "the lowest delay but not eligible");
        assert_eq!(tree.best().map(|o| o.locator.id), Some(Id(1)));
        assert!(tree.offer(offer(4, 500, true)));
        for n in 10..30 {
            tree.offer(offer(n, 2000 + u32::from(n), true));
        }
        assert_eq!(tree.offers.len(), MAX_OFFERS);
        let delays: Vec<u32> = tree.offers.iter().map(|o| o.delay_us).collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(tree.best().map(|o| o.locator.id), Some(Id(4)));
    }

    #[test]
    fn a_stronger_or_much_nearer_member_displaces_the_weakest_child() {
        // (capacity, delay) of the joiner against the weakest child's.
        let cases = [
            ((3, 90_000), (0, 10_000), true),  // takes more children: however far
            ((3, 59_999), (3, 90_000), true),  // as strong, under two thirds as far
            ((3, 60_000), (3, 90_000), false), // two thirds exactly: not near enough
            ((3, 60_000), (3, 90_001), true),
            ((3, 60_000), (9, 900_000), false), // weaker: never
            ((3, 0), (3, 90_000), false),       // its distance unmeasured
            ((3, 200), (3, 900), false),        // under two thirds, but by less than NEARER_BY_US
        ];
        for ((capacity, delay), (weakest, weakest_delay), expected) in cases {
            assert_eq!(
                displaces(capacity, delay, weakest, weakest_delay),
                expected,
                "{capacity} {delay} {weakest} {weakest_delay}"
            );
        }
        let mut tree = Tree::root();
        for (n, capacity, rtt_ms) in [(1, 3, 20), (2, 0, 50), (3, 0, 90), (4, 9, 200)] {
            let child = Link {
                locator: who(n),
                key: PublicKey([0; 32]),
                rtt: Duration::from_millis(rtt_ms),
                heard: Instant::ZERO,
                proven: true,
                capacity,
                since: Instant::ZERO + Duration::from_secs(u64::from(n)),
            };
            tree.children.push(child).unwrap();
        }
        let (now, settle) = (Instant::ZERO + Duration::from_secs(10), Duration::from_secs(4));
        assert_eq!(tree.weakest(now, settle), (0, 45_000), "the least capacity, the farthest of those");
        assert_eq!(tree.weakest_child(now, settle).map(|(i, c)| (i, c.locator.id)), Some((2, Id(3))));
        let early = Instant::ZERO + Duration::from_secs(6);
        assert_eq!(tree.weakest(early, settle), (0, 25_000), "child 3 is still settling in");
        assert_eq!(tree.weakest(Instant::ZERO, settle), (u8::MAX, 0), "every child settling in: none to displace");
    }

    #[test]
    fn a_look_for_a_better_parent_keeps_the_parent_and_its_own_budget() {
        let mut tree = Tree::detached();
        let parent = parent_link();
        tree.attach(parent, &[Id(1)], 30_000, Instant::ZERO, Duration::from_secs(1));
        tree.start_refinement(who(1), 3);
        assert_eq!((tree.phase, tree.parent.map(|p| p.locator.id)), (Phase::Refining, Some(Id(7))));
        assert!(tree.is_placed() && tree.is_probing());
        for n in 2..10 {
            tree.enqueue(who(n));
        }
        let mut probed = 0;
        while tree.next_probe().is_some() {
            probed += 1;
            tree.outstanding = 0;
        }
        assert_eq!(probed, 3, "the look's budget bounds its probes");
        assert_eq!(tree.distance_to(who(7).addr), 20_000, "half the round trip to the parent");
    }

    #[test]
    fn attaching_extends_the_parents_path_and_delay() {
        let mut tree = Tree::detached();
        let parent = parent_link();
        tree.attach(parent, &[Id(1), Id(5)], 30_000, Instant::ZERO, Duration::from_secs(1));
        assert_eq!(tree.phase, Phase::Placed);
        assert_eq!(tree.path.as_slice(), [Id(1), Id(5), Id(7)]);
        assert_eq!(tree.root_delay_us, 50_000);
        assert_eq!(tree.depth(), 3);
    }
}
