//! Node configuration and the fixed capacities of its tables.

use core::fmt;
use core::time::Duration;

/// Most friends a node keeps (the paper assumes about 50).
pub const MAX_FRIENDS: usize = 64;
/// Most requests a node has outstanding at once (joins, lookups, pings, neighbour updates).
pub const MAX_PENDING_REQUESTS: usize = 32;
/// Most datagrams waiting to be polled; further sends are dropped and counted.
pub const OUTBOX_CAPACITY: usize = 32;
/// Most events waiting to be polled; further events are dropped and counted.
pub const EVENT_QUEUE_CAPACITY: usize = 16;
/// Fewest and most backup branches per side.
pub const BACKUPS_RANGE: core::ops::RangeInclusive<u8> = 1..=5;

/// How a node behaves. [`Config::default`] gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Backup branches kept per side beyond the neighbour (1–5; default 2).
    pub backups: u8,
    /// Hop limit put on routed messages this node originates (default 255).
    pub hop_limit: u8,
    /// Wait before the first retransmission of a request (default 1 s); doubles on each retry.
    pub request_timeout: Duration,
    /// Transmissions of a request before it fails with an event (default 4).
    pub max_attempts: u8,
}

impl Default for Config {
    fn default() -> Config {
        Config { backups: 2, hop_limit: 255, request_timeout: Duration::from_secs(1), max_attempts: 4 }
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
        if self.request_timeout.is_zero() {
            return Err(ConfigError::RequestTimeout);
        }
        if self.max_attempts == 0 {
            return Err(ConfigError::MaxAttempts);
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
    /// `request_timeout` is zero.
    RequestTimeout,
    /// `max_attempts` is 0.
    MaxAttempts,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::Backups => "backups must be between 1 and 5",
            ConfigError::HopLimit => "hop limit must be at least 1",
            ConfigError::RequestTimeout => "request timeout must be positive",
            ConfigError::MaxAttempts => "max attempts must be at least 1",
        })
    }
}

impl core::error::Error for ConfigError {}
