//! Where nodes sit and how long a datagram takes between them.

use core::time::Duration;

/// A node's position on the unit square.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// Horizontal coordinate in `[0, 1)`.
    pub x: f64,
    /// Vertical coordinate in `[0, 1)`.
    pub y: f64,
}

impl Position {
    /// Euclidean distance to `other`.
    pub fn distance(&self, other: &Position) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

/// How one-way latency follows from positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyModel {
    /// Every datagram takes the same time.
    Constant(Duration),
    /// `base + per_unit × distance` on the unit square (the diagonal is √2 units).
    Plane {
        /// Latency between two nodes at the same spot.
        base: Duration,
        /// Added latency per unit of distance.
        per_unit: Duration,
    },
}

impl Default for LatencyModel {
    /// A plane from 5 ms (same spot) to about 146 ms (opposite corners).
    fn default() -> LatencyModel {
        LatencyModel::Plane { base: Duration::from_millis(5), per_unit: Duration::from_millis(100) }
    }
}

impl LatencyModel {
    /// One-way latency between two positions, rounded to whole microseconds.
    pub fn latency(&self, a: &Position, b: &Position) -> Duration {
        match *self {
            LatencyModel::Constant(d) => d,
            LatencyModel::Plane { base, per_unit } => {
                let extra = (per_unit.as_micros() as f64 * a.distance(b)).round() as u64;
                base + Duration::from_micros(extra)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_latency_grows_with_distance() {
        let model = LatencyModel::Plane { base: Duration::from_millis(5), per_unit: Duration::from_millis(100) };
        let origin = Position { x: 0.0, y: 0.0 };
        assert_eq!(model.latency(&origin, &origin), Duration::from_millis(5));
        assert_eq!(model.latency(&origin, &Position { x: 0.3, y: 0.4 }), Duration::from_millis(55));
        assert_eq!(
            LatencyModel::Constant(Duration::from_millis(7)).latency(&origin, &Position { x: 1.0, y: 1.0 }),
            Duration::from_millis(7)
        );
    }
}
