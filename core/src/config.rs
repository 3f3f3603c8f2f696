//! Node configuration and the fixed capacities of its tables.

use crate::id::Id;
use core::fmt;
use core::time::Duration;

/// Most friends a node keeps (the paper assumes about 50).
pub const MAX_FRIENDS: usize = 128;
/// Most requests a node has outstanding at once (joins, lookups, pings, neighbour updates).
pub const MAX_PENDING_REQUESTS: usize = 32;
/// Children a member takes in a conference's tree at most, whatever its upload budget.
pub const MAX_TREE_CHILDREN: usize = 16;
/// Most datagrams waiting to be polled; further sends are dropped and counted.
pub const OUTBOX_CAPACITY: usize = 64;
/// Most events waiting to be polled; further events are dropped and counted.
pub const EVENT_QUEUE_CAPACITY: usize = 16;
/// Datagrams whose contents come from the input (relayed STOREs, VERIFY_REPLYs)
/// wait already encoded; at most this many at once, further ones are dropped and counted.
pub const STORE_RELAY_SLOTS: usize = 4;
/// Most entries in the bootstrap list (the paper's `access.dat`).
pub const BOOTSTRAP_CAPACITY: usize = 16;
/// Fewest and most backup branches per side.
pub const BACKUPS_RANGE: core::ops::RangeInclusive<u8> = 1..=5;
/// Most distinct files a node shares.
pub const MAX_SHARED_FILES: usize = 512;
/// Longest shared file name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 64;
/// Bytes for all shared file names together.
pub const SHARED_NAME_BYTES: usize = 16 * 1024;
/// Most resource locators a node stores for the keys it is responsible for.
pub const MAX_STORE_ENTRIES: usize = 256;
/// Most stored locators per owner locator; its fair share may be less (see `tables::store::fair`).
pub const MAX_ENTRIES_PER_OWNER: usize = 64;
/// Most registration records a node keeps (see `tables::registry`).
pub const MAX_REGISTRATIONS: usize = 32;
/// Longest file name, in bytes, kept with a stored locator; a longer one is dropped.
pub const STORE_NAME_LEN: usize = 32;

/// How a node behaves. [`Config::default`] gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Backup branches kept per side beyond the neighbour (1–5; default 2).
    pub backups: u8,
    /// Hop limit put on routed messages this node originates (default 255).
    pub hop_limit: u8,
    /// Wait before the first retransmission of a request (default 2 s); doubles on each retry.
    pub request_timeout: Duration,
    /// Transmissions of a request before it fails with an event (default 4).
    pub max_attempts: u8,
    /// Run periodic ring maintenance: stabilisation and liveness probes
    /// (default true). Step-by-step tests of a single exchange turn it off.
    pub maintenance: bool,
    /// The liveness period: how often a node stabilises with each neighbour,
    /// which also probes the neighbour's liveness (default 5 s, jittered ±25 %).
    pub stabilise_interval: Duration,
    /// Every this many stabilisation rounds the backups are probed too (default 6: every 30 s).
    pub backup_probe_rounds: u8,
    /// How often a friend not heard from is probed (default 60 s, jittered).
    pub friend_probe_interval: Duration,
    /// How often a friend believed dead is probed again (default 120 s, jittered).
    pub dead_friend_probe_interval: Duration,
    /// Wait for each liveness probe's answer (default 1 s; retries do not back off).
    pub probe_timeout: Duration,
    /// Unanswered probes in a row that declare a contact dead (default 3).
    pub liveness_misses: u8,
    /// Wait for the next hop to acknowledge a routed message before it is
    /// re-sent to the next-best contact (default 500 ms).
    pub hop_timeout: Duration,
    /// How often a node publishes its shared files with STORE (default 60 s, jittered).
    pub store_interval: Duration,
    /// How long a stored locator lives without a refresh from its owner
    /// (default 180 s, three STORE periods).
    pub store_lifetime: Duration,
    /// Route by looking one hop ahead through friends' digests of their
    /// contacts (default true); false is the paper's plain greedy routing.
    pub lookahead: bool,
    /// How often each friend gets our digest, in turn (default 120 s).
    pub digest_interval: Duration,
    /// Measure contacts' round-trip times and, among next hops that make
    /// near-equal progress, route through the nearest (default true).
    pub proximity: bool,
    /// Which way round the ring routed messages close in on their key
    /// (default [`RoutingRule::EitherWay`], the paper's rule).
    pub routing: RoutingRule,
    /// Children this node takes in a conference's delivery tree: its
    /// upload budget divided by the conference's rate, which the program
    /// works out (default 8, at most
    /// [`MAX_TREE_CHILDREN`]; 0: a leaf only).
    pub tree_children: u8,
    /// How often a conference member tells its tree parent it is there
    /// (default 2 s): the tree's liveness period. A parent that answers
    /// none of a heartbeat's four transmissions, an eighth of a period
    /// apart, is presumed gone, so an orphan starts looking for a new
    /// parent within 1.5 periods of its parent's end; a child not heard for
    /// three periods is dropped.
    pub tree_heartbeat: Duration,
}

/// How a node measures a contact's closeness to a key when it routes.
///
/// Either way, the node responsible for a key is its successor, and a
/// message ends there: the rule only decides which contacts count as
/// closer (see [`routing`](crate::routing)). The nodes of one ring use
/// the same rule: between nodes of different rules a message may circle
/// until its hop limit runs out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RoutingRule {
    /// The paper's Figure 4: forward to the friend or neighbour closest to
    /// the key around the ring in either direction, by
    /// [`Id::ring_distance`]; a route may close in from past the key.
    #[default]
    EitherWay,
    /// Chord's closest preceding node: only contacts clockwise between the
    /// node and the key count, by clockwise distance ([`Id::distance_to`]).
    Clockwise,
}

impl RoutingRule {
    /// How far `from` is from `key` by this rule: every hop but a detour
    /// makes it strictly smaller.
    pub fn distance(self, from: Id, key: Id) -> u128 {
        match self {
            RoutingRule::EitherWay => from.ring_distance(key),
            RoutingRule::Clockwise => from.distance_to(key),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            backups: 2,
            hop_limit: 255,
            request_timeout: Duration::from_secs(2),
            max_attempts: 4,
            maintenance: true,
            stabilise_interval: Duration::from_secs(5),
            backup_probe_rounds: 6,
            friend_probe_interval: Duration::from_secs(60),
            dead_friend_probe_interval: Duration::from_secs(120),
            probe_timeout: Duration::from_secs(1),
            liveness_misses: 3,
            hop_timeout: Duration::from_millis(500),
            store_interval: Duration::from_secs(60),
            store_lifetime: Duration::from_secs(180),
            lookahead: true,
            digest_interval: Duration::from_secs(120),
            proximity: true,
            routing: RoutingRule::EitherWay,
            tree_children: 8,
            tree_heartbeat: Duration::from_secs(2),
        }
    }
}

impl Config {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !BACKUPS_RANGE.contains(&self.backups) {
            return Err(ConfigError::Backups);
        }
        if self.hop_limit == 0 {
            return Err(ConfigError::HopLimit);
        }
        let periods = [
            self.request_timeout,
            self.stabilise_interval,
            self.friend_probe_interval,
            self.dead_friend_probe_interval,
            self.probe_timeout,
            self.hop_timeout,
            self.store_interval,
            self.store_lifetime,
            self.digest_interval,
            self.tree_heartbeat,
        ];
        if periods.iter().any(|p| p.is_zero()) {
            return Err(ConfigError::ZeroPeriod);
        }
        if self.max_attempts == 0 || self.liveness_misses == 0 || self.backup_probe_rounds == 0 {
            return Err(ConfigError::ZeroCount);
        }
        if usize::from(self.tree_children) > MAX_TREE_CHILDREN {
            return Err(ConfigError::TreeChildren);
        }
        Ok(())
    }

    /// Entries per neighbour chain: the neighbour plus its backups.
    pub fn chain_len(&self) -> usize {
        1 + usize::from(self.backups)
    }
}

/// A [`Config`] field outside its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `backups` is not within 1–5.
    Backups,
    /// `hop_limit` is 0.
    HopLimit,
    /// A timeout or period is zero.
    ZeroPeriod,
    /// `max_attempts`, `liveness_misses` or `backup_probe_rounds` is 0.
    ZeroCount,
    /// `tree_children` is over [`MAX_TREE_CHILDREN`].
    TreeChildren,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::Backups => "backups must be between 1 and 5",
            ConfigError::HopLimit => "hop limit must be at least 1",
            ConfigError::ZeroPeriod => "timeouts and periods must be positive",
            ConfigError::ZeroCount => "attempt, miss and round counts must be at least 1",
            ConfigError::TreeChildren => "a tree node takes at most 16 children",
        })
    }
}

impl core::error::Error for ConfigError {}
