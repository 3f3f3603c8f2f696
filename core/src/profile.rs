//! Deployment profiles: how large a [`Node`](crate::Node)'s tables are.
//!
//! A node's state is inline and bounded (no allocator), so its size is the
//! sum of its tables' capacities. A [`Profile`] chooses them: [`Desktop`]
//! (the default) keeps a messenger's, a file sharer's and a conference
//! member's tables at the sizes documented on each table; [`OverlayOnly`] is a
//! node of the overlay alone — the ring, friends as routing shortcuts
//! with their digests, the locator DHT — as the simulations build by the
//! million and as a small device may run, with the messenger, transfers
//! and conferences left out ([`WithoutApps`]: every table of theirs holds
//! nothing, so their commands fail with a typed error and their datagrams
//! are dropped and counted). Any other mix is a type implementing
//! [`Profile`].
//!
//! ```
//! use mmp2p_core::profile::{Desktop, OverlayOnly};
//! use mmp2p_core::Node;
//!
//! // The overlay's profile is a fraction of the desktop's.
//! assert!(core::mem::size_of::<Node<OverlayOnly>>() * 10 < core::mem::size_of::<Node<Desktop>>());
//! ```

use crate::capacity::{Cap, Capacity};
use crate::config::{EVENT_QUEUE_CAPACITY, OUTBOX_CAPACITY, STORE_RELAY_SLOTS};
use crate::config::{MAX_FRIENDS, MAX_PENDING_REQUESTS, MAX_REGISTRATIONS, MAX_STORE_ENTRIES};
use crate::tables::budgets::{BUDGET_CAPACITY, PROVEN_CAPACITY};
use crate::tables::digests::{DIGEST_KEEP, DIGEST_OWNERS};
use crate::tables::known_keys::MAX_KNOWN_KEYS;
use crate::tables::rtts::RTT_SLOTS;
use core::fmt::Debug;

/// The capacities of a node's tables (see the [module](self) documentation).
pub trait Profile: Clone + Copy + Debug + Default + PartialEq + Eq + 'static {
    /// Friends ([`Friends`](crate::tables::friends::Friends)).
    type Friends: Capacity;
    /// Senders whose digests are kept: friends and both neighbour chains ([`Digests`](crate::tables::digests::Digests)).
    type DigestOwners: Capacity;
    /// IDs kept of each digest.
    type DigestIds: Capacity;
    /// Contacts with a measured round trip ([`Rtts`](crate::tables::rtts::Rtts)).
    type Rtts: Capacity;
    /// Locators kept for others ([`LocatorStore`](crate::tables::store::LocatorStore)).
    type Store: Capacity;
    /// Requests outstanding at once.
    type Requests: Capacity;
    /// Addresses remembered as proven ([`Budgets`](crate::tables::budgets::Budgets)).
    type Proven: Capacity;
    /// Unproven addresses whose bytes are counted at once (at least 1).
    type Counted: Capacity;
    /// Registration records kept ([`Registry`](crate::tables::registry::Registry)).
    type Registrations: Capacity;
    /// Other IDs' registrations remembered ([`KnownKeys`](crate::tables::known_keys::KnownKeys)).
    type KnownKeys: Capacity;
    /// Datagrams waiting to be polled (at least 1).
    type Outbox: Capacity;
    /// Datagrams encoded from their input, waiting for the outbox (at least 1).
    type Relayed: Capacity;
    /// Events waiting to be polled (at least 1).
    type Events: Capacity;
    /// The messenger's, the transfers' and the conferences' tables.
    type Apps: Apps;
}

/// The applications' tables, all at once: [`WithApps`] at their documented
/// capacities, or [`WithoutApps`].
pub trait Apps: Clone + Copy + Debug + Default + PartialEq + Eq + 'static {
    /// A list the application layer sizes at `N` entries.
    type List<const N: usize>: Capacity;
    /// A queue the application layer sizes at `N` entries (`N` ≥ 1).
    type Queue<const N: usize>: Capacity;
}

/// The applications at their documented capacities.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithApps;

impl Apps for WithApps {
    type List<const N: usize> = Cap<N>;
    type Queue<const N: usize> = Cap<N>;
}

/// No applications: every list of theirs holds nothing, every queue one entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithoutApps;

impl Apps for WithoutApps {
    type List<const N: usize> = Cap<0>;
    type Queue<const N: usize> = Cap<1>;
}

/// A messenger, file-sharing and conference node: every table at its documented capacity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Desktop;

impl Profile for Desktop {
    type Friends = Cap<MAX_FRIENDS>;
    type DigestOwners = Cap<DIGEST_OWNERS>;
    type DigestIds = Cap<DIGEST_KEEP>;
    type Rtts = Cap<RTT_SLOTS>;
    type Store = Cap<MAX_STORE_ENTRIES>;
    type Requests = Cap<MAX_PENDING_REQUESTS>;
    type Proven = Cap<PROVEN_CAPACITY>;
    type Counted = Cap<BUDGET_CAPACITY>;
    type Registrations = Cap<MAX_REGISTRATIONS>;
    type KnownKeys = Cap<MAX_KNOWN_KEYS>;
    type Outbox = Cap<OUTBOX_CAPACITY>;
    type Relayed = Cap<STORE_RELAY_SLOTS>;
    type Events = Cap<EVENT_QUEUE_CAPACITY>;
    type Apps = WithApps;
}

/// Most friends an [`OverlayOnly`] node keeps: the paper's 50.
pub const OVERLAY_ONLY_FRIENDS: usize = 50;
/// Most digest senders an [`OverlayOnly`] node keeps: its friends and two chains of a neighbour and five backups.
pub const OVERLAY_ONLY_DIGEST_OWNERS: usize = OVERLAY_ONLY_FRIENDS + 2 * crate::wire::MAX_CHAIN;

/// A node of the overlay alone: 50 friends and chains of up to five
/// backups, with digests of all of them; small tables for the rest; no
/// applications. `simulate scale` builds its nodes. Each size was chosen by
/// running `mmp2p simulate scale --nodes 20000` and reading its drops:
///
/// - 16 IDs kept of each digest (the desktop keeps 64): over 20 000 nodes
///   lookups take 3.85 hops against 4.47 with 8 IDs (Chord: 7.57);
/// - 16 outstanding requests: with 8, routed messages and probes were
///   refused by the thousand per node while the overlay was built;
/// - 8 registrations: a node keeps its own and copies for its chains;
///   with 4, tens of thousands were refused;
/// - 16 round trips and 16 proven addresses, the most recently used: among
///   next hops of near-equal progress the nearer is preferred when known;
/// - a 12-datagram outbox (a stabilisation round probes both chains at
///   once), 4 events, 4 stored locators, 2 fetched registrations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OverlayOnly;

impl Profile for OverlayOnly {
    type Friends = Cap<OVERLAY_ONLY_FRIENDS>;
    type DigestOwners = Cap<OVERLAY_ONLY_DIGEST_OWNERS>;
    type DigestIds = Cap<16>;
    type Rtts = Cap<16>;
    type Store = Cap<4>;
    type Requests = Cap<16>;
    type Proven = Cap<16>;
    type Counted = Cap<4>;
    type Registrations = Cap<8>;
    type KnownKeys = Cap<2>;
    type Outbox = Cap<12>;
    type Relayed = Cap<1>;
    type Events = Cap<4>;
    type Apps = WithoutApps;
}
