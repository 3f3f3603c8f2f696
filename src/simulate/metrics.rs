//! What a batch of lookups measured: hops and latency stretch.
//!
//! For one lookup, the **overlay path latency** is the one-way latency along
//! the hops it took, the **direct latency** the one-way latency from the
//! origin straight to the responsible node, and its **stretch** the first
//! over the second. A lookup its origin answers itself (0 hops) has no
//! stretch. Over a batch: the mean and p99 of per-lookup stretch, and the
//! **ratio of sums** — total path latency over total direct latency — which
//! weighs long trips more and is what a user waiting on many lookups feels.

use std::time::Duration;

/// One lookup's route, as measured or modelled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trip {
    /// Overlay hops.
    pub hops: u32,
    /// One-way latency along the path.
    pub path: Duration,
    /// One-way latency straight to the responsible node.
    pub direct: Duration,
}

/// Summary of a batch of lookups.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Lookups that reached the responsible node.
    pub lookups: usize,
    /// Lookups that failed or reached the wrong node.
    pub failed: usize,
    /// Mean hops.
    pub hops_mean: f64,
    /// Median hops.
    pub hops_median: u32,
    /// 99th percentile of hops.
    pub hops_p99: u32,
    /// Mean per-lookup stretch (lookups with a direct latency only).
    pub stretch_mean: f64,
    /// 99th percentile of per-lookup stretch.
    pub stretch_p99: f64,
    /// Total path latency over total direct latency.
    pub stretch_ratio_of_sums: f64,
}

impl Metrics {
    /// The summary of `trips` (the successful lookups) with `failed` others.
    pub fn of(trips: &[Trip], failed: usize) -> Metrics {
        if trips.is_empty() {
            return Metrics { failed, ..Metrics::default() };
        }
        let mut hops: Vec<u32> = trips.iter().map(|t| t.hops).collect();
        hops.sort_unstable();
        let mut stretch: Vec<f64> = trips
            .iter()
            .filter(|t| !t.direct.is_zero())
            .map(|t| t.path.as_secs_f64() / t.direct.as_secs_f64())
            .collect();
        stretch.sort_by(f64::total_cmp);
        let path: f64 = trips.iter().map(|t| t.path.as_secs_f64()).sum();
        let direct: f64 = trips.iter().map(|t| t.direct.as_secs_f64()).sum();
        Metrics {
            lookups: trips.len(),
            failed,
            hops_mean: hops.iter().map(|&h| f64::from(h)).sum::<f64>() / hops.len() as f64,
            hops_median: quantile(&hops, 0.5).copied().unwrap_or(0),
            hops_p99: quantile(&hops, 0.99).copied().unwrap_or(0),
            stretch_mean: if stretch.is_empty() { 0.0 } else { stretch.iter().sum::<f64>() / stretch.len() as f64 },
            stretch_p99: quantile(&stretch, 0.99).copied().unwrap_or(0.0),
            stretch_ratio_of_sums: if direct > 0.0 { path / direct } else { 0.0 },
        }
    }
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile<T>(sorted: &[T], q: f64) -> Option<&T> {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip(hops: u32, path_ms: u64, direct_ms: u64) -> Trip {
        Trip { hops, path: Duration::from_millis(path_ms), direct: Duration::from_millis(direct_ms) }
    }

    #[test]
    fn stretch_is_per_lookup_and_as_a_ratio_of_sums() {
        let trips = [trip(1, 10, 10), trip(3, 90, 30), trip(0, 0, 0), trip(2, 40, 10)];
        let m = Metrics::of(&trips, 1);
        assert_eq!((m.lookups, m.failed), (4, 1));
        assert!((m.hops_mean - 1.5).abs() < 1e-9);
        assert_eq!((m.hops_median, m.hops_p99), (1, 3));
        // Per lookup: 1, 3 and 4 (the local one has none).
        assert!((m.stretch_mean - 8.0 / 3.0).abs() < 1e-9, "{m:?}");
        assert!((m.stretch_p99 - 4.0).abs() < 1e-9);
        assert!((m.stretch_ratio_of_sums - 140.0 / 50.0).abs() < 1e-9);
        assert_eq!(Metrics::of(&[], 3), Metrics { failed: 3, ..Metrics::default() });
    }
}
