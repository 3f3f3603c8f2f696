//! A transfer's round-trip estimate and congestion window: RFC 9002's RTT
//! estimator and loss thresholds, with a delay-based window after LEDBAT
//! (RFC 6817) and LEDBAT++ (draft-irtf-iccrg-ledbat-plus-plus).
//!
//! The window follows the queue the transfer builds at the bottleneck,
//! measured as the round trip above the lowest one seen (the base):
//!
//! - **Slow start** doubles the window each round trip until the queuing
//!   delay reaches ¾ of [`TARGET`] or a loss (LEDBAT++ §4.1).
//! - **Below the target** the window grows by up to one packet per round
//!   trip, in proportion to how far below it is (RFC 6817, GAIN 1).
//! - **Above the target** it shrinks by up to half per round trip, in
//!   proportion to the excess (multiplicative, as LEDBAT++ §4.2 argues), so
//!   an overshoot drains within a few round trips and chat sharing the
//!   path waits at most about [`TARGET`] behind a download.
//! - **Loss**: delay, not loss, is the congestion signal. A round trip that
//!   loses more than 1 packet in [`HEAVY_LOSS`] of those sent in it (and at
//!   least [`HEAVY_LOSS_MIN`]) halves
//!   the window (a full buffer drops many); rarer losses — a lossy link —
//!   cost their retransmission only. (On a bottleneck whose buffer holds
//!   less than [`TARGET`] the delay never reaches the target, so the window
//!   settles where losses turn heavy.) Three probe timeouts in a row (RFC
//!   9002's persistent congestion) drop the window to its minimum.
//!
//! The base is the lowest round trip over [`BASE_HISTORY`] minutes, kept
//! per minute (RFC 6817 §3.4.2), so a route change is forgotten; the
//! current delay is the lowest of the last [`CURRENT_FILTER`] samples.

use crate::time::Instant;
use core::time::Duration;

/// The queuing delay the window aims for.
pub const TARGET: Duration = Duration::from_millis(25);
/// Minutes of base-delay history.
pub const BASE_HISTORY: usize = 10;
/// Round-trip samples the current delay is the minimum of.
pub const CURRENT_FILTER: usize = 4;
/// A round trip losing more than one packet in this many (and at least
/// [`HEAVY_LOSS_MIN`]) halves the window.
pub const HEAVY_LOSS: u32 = 8;
/// The fewest losses in a round trip that can count as heavy.
pub const HEAVY_LOSS_MIN: u32 = 3;
/// The packet size the window counts in (a DATA datagram).
pub const PACKET: u32 = 1100;
/// The window never falls below this many packets.
pub const MIN_WINDOW: u32 = 2;
/// The window a transfer starts with, in packets.
pub const INITIAL_WINDOW: u32 = 4;
/// RFC 9002's initial round trip, before any sample.
pub const INITIAL_RTT: Duration = Duration::from_millis(333);
/// RFC 9002's packet threshold: a packet is lost once this many later ones are acknowledged.
pub const PACKET_THRESHOLD: u32 = 3;
/// The lowest loss-time and probe granularity (RFC 9002's kGranularity).
pub const GRANULARITY: Duration = Duration::from_millis(1);

/// RFC 9002 §5: the latest, lowest and smoothed round trip and its variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    latest: Duration,
    min: Duration,
    smoothed: Duration,
    variation: Duration,
    sampled: bool,
}

impl Default for RttEstimator {
    fn default() -> RttEstimator {
        RttEstimator {
            latest: INITIAL_RTT,
            min: INITIAL_RTT,
            smoothed: INITIAL_RTT,
            variation: INITIAL_RTT / 2,
            sampled: false,
        }
    }
}

impl RttEstimator {
    /// Takes in a round trip measured on the highest packet an ack newly
    /// acknowledged, `ack_delay` of which the peer says it held the ack.
    pub fn sample(&mut self, rtt: Duration, ack_delay: Duration) {
        let rtt = rtt.max(Duration::from_micros(1));
        self.latest = rtt;
        if !self.sampled {
            (self.min, self.smoothed, self.variation, self.sampled) = (rtt, rtt, rtt / 2, true);
            return;
        }
        self.min = self.min.min(rtt);
        let adjusted = if rtt >= self.min + ack_delay { rtt - ack_delay } else { rtt };
        let deviation = self.smoothed.abs_diff(adjusted);
        self.variation = (self.variation * 3 + deviation) / 4;
        self.smoothed = (self.smoothed * 7 + adjusted) / 8;
    }

    /// The smoothed round trip.
    pub fn smoothed(&self) -> Duration {
        self.smoothed
    }

    /// The latest round trip.
    pub fn latest(&self) -> Duration {
        self.latest
    }

    /// How long after a later packet was acknowledged an unacknowledged one
    /// is declared lost: 9/8 of the larger of smoothed and latest round trip.
    pub fn loss_delay(&self) -> Duration {
        (self.smoothed.max(self.latest) * 9 / 8).max(GRANULARITY)
    }

    /// The probe timeout: smoothed + 4 × variation (at least the granularity).
    pub fn probe_timeout(&self) -> Duration {
        self.smoothed + (self.variation * 4).max(GRANULARITY)
    }
}

/// A transfer's congestion window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Congestion {
    /// The window, in bytes.
    window: u32,
    slow_start: bool,
    /// Lowest round trip (µs) per minute, the current minute's at `base_minute % BASE_HISTORY`.
    base: [u32; BASE_HISTORY],
    base_minute: u64,
    /// The latest round trips (µs).
    current: [u32; CURRENT_FILTER],
    current_next: usize,
    /// The round trip in progress: when it ends, and its sent and lost packets.
    round_ends: Instant,
    round_sent: u32,
    round_lost: u32,
    /// The window was halved for loss in the round ending here.
    reduced_until: Instant,
}

impl Default for Congestion {
    fn default() -> Congestion {
        Congestion {
            window: INITIAL_WINDOW * PACKET,
            slow_start: true,
            base: [u32::MAX; BASE_HISTORY],
            base_minute: 0,
            current: [u32::MAX; CURRENT_FILTER],
            current_next: 0,
            round_ends: Instant::ZERO,
            round_sent: 0,
            round_lost: 0,
            reduced_until: Instant::ZERO,
        }
    }
}

impl Congestion {
    /// The window: bytes that may be in flight.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// True while still in slow start.
    pub fn in_slow_start(&self) -> bool {
        self.slow_start
    }

    /// The queuing delay: the current round trip above the base.
    pub fn queuing_delay(&self) -> Duration {
        let base = self.base.iter().copied().min().unwrap_or(u32::MAX);
        let current = self.current.iter().copied().min().unwrap_or(u32::MAX);
        if base == u32::MAX || current == u32::MAX {
            return Duration::ZERO;
        }
        Duration::from_micros(u64::from(current.saturating_sub(base)))
    }

    /// A packet of `bytes` went out at `now`; `rtt` is the smoothed round trip.
    pub fn on_sent(&mut self, now: Instant, rtt: Duration) {
        if now >= self.round_ends {
            (self.round_ends, self.round_sent, self.round_lost) = (now + rtt, 0, 0);
        }
        self.round_sent = self.round_sent.saturating_add(1);
    }

    /// `bytes` were newly acknowledged at `now`, the highest with round trip `rtt`.
    pub fn on_ack(&mut self, now: Instant, bytes: u32, rtt: Option<Duration>) {
        if let Some(rtt) = rtt {
            self.delay_sample(now, rtt);
        }
        let delay = self.queuing_delay();
        if self.slow_start {
            if delay * 4 >= TARGET * 3 {
                self.slow_start = false;
            } else {
                self.window = self.window.saturating_add(bytes).min(MAX_WINDOW);
                return;
            }
        }
        let target = TARGET.as_micros() as i64;
        // How far off the target, in millionths of it, within ±1.
        let off = ((target - delay.as_micros() as i64) * 1_000_000 / target).clamp(-1_000_000, 1_000_000);
        let window = i64::from(self.window);
        let change = if off >= 0 {
            off * i64::from(bytes) * i64::from(PACKET) / window / 1_000_000
        } else {
            // Up to half the window per window's worth of acknowledged bytes.
            off * i64::from(bytes) / 2 / 1_000_000
        };
        self.window = (window + change).clamp(i64::from(MIN_WINDOW * PACKET), i64::from(MAX_WINDOW)) as u32;
    }

    /// A packet sent at `sent` was declared lost at `now`.
    pub fn on_loss(&mut self, now: Instant, sent: Instant) {
        self.round_lost = self.round_lost.saturating_add(1);
        self.slow_start = false;
        let heavy = self.round_lost >= HEAVY_LOSS_MIN && self.round_lost * HEAVY_LOSS > self.round_sent.max(1);
        if heavy && sent >= self.reduced_until {
            self.window = (self.window / 2).max(MIN_WINDOW * PACKET);
            self.reduced_until = now;
        }
    }

    /// Three probe timeouts in a row: the path is presumed congested.
    pub fn on_persistent_congestion(&mut self) {
        self.window = MIN_WINDOW * PACKET;
        self.slow_start = false;
    }

    fn delay_sample(&mut self, now: Instant, rtt: Duration) {
        let micros = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
        let minute = now.as_micros() / 60_000_000;
        if minute != self.base_minute {
            // Forget the minutes that passed (all of them after a long pause).
            let passed = (minute.saturating_sub(self.base_minute)).min(BASE_HISTORY as u64);
            for step in 1..=passed {
                self.base[((self.base_minute + step) % BASE_HISTORY as u64) as usize] = u32::MAX;
            }
            self.base_minute = minute;
        }
        let slot = &mut self.base[(minute % BASE_HISTORY as u64) as usize];
        *slot = (*slot).min(micros);
        self.current[self.current_next] = micros;
        self.current_next = (self.current_next + 1) % CURRENT_FILTER;
    }
}

/// The most packets a window holds (what a stream tracks in flight).
pub const MAX_WINDOW_PACKETS: u32 = 256;
/// The largest window, in bytes.
pub const MAX_WINDOW: u32 = MAX_WINDOW_PACKETS * PACKET;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn rtt_estimate_follows_rfc_9002() {
        let mut rtt = RttEstimator::default();
        assert_eq!(rtt.smoothed(), INITIAL_RTT);
        rtt.sample(Duration::from_millis(100), Duration::ZERO);
        assert_eq!((rtt.smoothed(), rtt.probe_timeout()), (Duration::from_millis(100), Duration::from_millis(300)));
        rtt.sample(Duration::from_millis(140), Duration::from_millis(20));
        assert_eq!(rtt.smoothed(), Duration::from_micros(102_500));
        assert_eq!(rtt.loss_delay(), Duration::from_micros(157_500));
    }

    #[test]
    fn slow_start_doubles_until_the_queue_grows() {
        let mut cc = Congestion::default();
        let start = cc.window();
        cc.on_ack(at(10), start, Some(Duration::from_millis(50)));
        assert_eq!(cc.window(), 2 * start);
        for i in 0..CURRENT_FILTER as u64 {
            assert!(cc.in_slow_start());
            cc.on_ack(at(60 + i), PACKET, Some(Duration::from_millis(70)));
        }
        assert!(!cc.in_slow_start(), "20 ms of queue ends slow start");
    }

    #[test]
    fn the_window_grows_below_target_and_shrinks_above() {
        let mut cc = Congestion::default();
        cc.on_ack(at(0), PACKET, Some(Duration::from_millis(50)));
        cc.on_persistent_congestion();
        let floor = cc.window();
        for i in 0..100 {
            cc.on_ack(at(i), PACKET, Some(Duration::from_millis(50)));
        }
        let grown = cc.window();
        assert!(grown > floor + 10 * PACKET, "{grown}");
        for i in 0..100 {
            cc.on_ack(at(100 + i), PACKET, Some(Duration::from_millis(150)));
        }
        assert!(cc.window() < grown / 2, "{}", cc.window());
        assert!(cc.window() >= MIN_WINDOW * PACKET);
    }

    #[test]
    fn rare_loss_is_noise_heavy_loss_halves_once_per_round() {
        let mut cc = Congestion::default();
        cc.on_ack(at(0), 40 * PACKET, Some(Duration::from_millis(50)));
        let window = cc.window();
        for _ in 0..64 {
            cc.on_sent(at(1), Duration::from_millis(50));
        }
        cc.on_loss(at(2), at(1));
        assert_eq!(cc.window(), window, "one loss in 64 is noise");
        cc.on_loss(at(2), at(1));
        assert_eq!(cc.window(), window, "two losses in 64 are noise");
        for _ in 0..8 {
            cc.on_loss(at(3), at(1));
        }
        assert_eq!(cc.window(), window / 2, "halved once for the round");
    }

    #[test]
    fn base_delay_forgets_old_minutes() {
        let mut cc = Congestion::default();
        cc.on_ack(at(0), PACKET, Some(Duration::from_millis(10)));
        cc.on_ack(at(11 * 60_000), PACKET, Some(Duration::from_millis(50)));
        assert_eq!(cc.queuing_delay(), Duration::ZERO);
    }
}
