//! Rate limits: a token bucket (a burst, refilled one token per interval),
//! and buckets kept per peer for the most recently heard peers.

use crate::capacity::{Capacity, Table};
use crate::time::Instant;
use core::time::Duration;

/// A limit: at most `burst` at once, one more each `refill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Tokens a full bucket holds.
    pub burst: u32,
    /// Time to earn one token back.
    pub refill: Duration,
}

/// One token bucket, full when created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens taken since the bucket was last full.
    spent: u32,
    /// When tokens were last earned back.
    refilled: Instant,
}

impl TokenBucket {
    /// Takes one token at `now` under `limit`; false if none is left.
    pub fn take(&mut self, now: Instant, limit: Limit) -> bool {
        let refill = limit.refill.as_micros().max(1);
        let earned =
            u32::try_from(now.saturating_duration_since(self.refilled).as_micros() / refill).unwrap_or(u32::MAX);
        if earned > 0 {
            self.spent = self.spent.saturating_sub(earned);
            self.refilled = if self.spent == 0 { now } else { self.refilled + limit.refill.saturating_mul(earned) };
        }
        if self.spent >= limit.burst {
            return false;
        }
        if self.spent == 0 {
            self.refilled = now;
        }
        self.spent += 1;
        true
    }
}

/// A token bucket for each of the `C::MAX` peers heard from most recently; a
/// new peer takes the place of the one heard from longest ago (and starts
/// with a full bucket). With no room at all, no peer gets a token.
#[derive(Clone, Debug)]
pub struct PeerBuckets<K, C: Capacity> {
    peers: Table<(K, TokenBucket, Instant), C>,
}

impl<K, C: Capacity> Default for PeerBuckets<K, C> {
    fn default() -> Self {
        PeerBuckets { peers: Table::new() }
    }
}

impl<K: PartialEq, C: Capacity> PeerBuckets<K, C> {
    /// Takes one of `peer`'s tokens at `now` under `limit`; false if none is left.
    pub fn take(&mut self, peer: K, now: Instant, limit: Limit) -> bool {
        let index = match self.peers.iter().position(|(k, _, _)| *k == peer) {
            Some(index) => index,
            None => {
                if self.peers.is_full() {
                    let Some(oldest) = (0..self.peers.len()).min_by_key(|&i| self.peers[i].2) else {
                        return false;
                    };
                    self.peers.swap_remove(oldest);
                }
                // Cannot fail: a place was freed above if needed.
                let _ = self.peers.push((peer, TokenBucket::default(), now));
                self.peers.len() - 1
            }
        };
        let (_, bucket, heard) = &mut self.peers[index];
        *heard = now;
        bucket.take(now, limit)
    }

    /// Peers with a bucket.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True if no peer has a bucket.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::Cap;

    const LIMIT: Limit = Limit { burst: 3, refill: Duration::from_secs(1) };

    fn at(ms: u64) -> Instant {
        Instant::from_micros(1_000_000 + ms * 1000)
    }

    #[test]
    fn a_bucket_gives_its_burst_then_one_per_refill() {
        let mut bucket = TokenBucket::default();
        assert!((0..3).all(|_| bucket.take(at(0), LIMIT)));
        assert!(!bucket.take(at(999), LIMIT), "empty until a refill");
        assert!(bucket.take(at(1000), LIMIT));
        assert!(!bucket.take(at(1500), LIMIT));
        assert!((0..3).all(|_| bucket.take(at(10_000), LIMIT)), "full again after a long pause");
        assert!(!bucket.take(at(10_000), LIMIT), "never more than the burst");
    }

    #[test]
    fn peers_have_their_own_buckets_and_the_longest_silent_gives_way() {
        let mut peers = PeerBuckets::<u8, Cap<2>>::default();
        assert!((0..3).all(|_| peers.take(1, at(0), LIMIT)));
        assert!(!peers.take(1, at(0), LIMIT), "peer 1 spent its burst");
        assert!(peers.take(2, at(1), LIMIT), "peer 2 has its own");
        assert!(!peers.take(1, at(2), LIMIT), "peer 1 still has none");
        assert!(peers.take(3, at(3), LIMIT), "peer 3 takes peer 2's place");
        assert_eq!(peers.len(), 2);
        assert!(!peers.take(1, at(4), LIMIT), "peer 1, heard recently, kept its empty bucket");
        assert!(!PeerBuckets::<u8, Cap<0>>::default().take(1, at(0), LIMIT), "no room, no token");
    }
}
