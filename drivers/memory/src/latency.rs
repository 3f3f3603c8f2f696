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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A transit-stub internet in the style of GT-ITM: the unit square is
    /// a grid of transit domains, each a grid of stub domains, and a node
    /// belongs to the stub domain its position falls in. Within a stub
    /// domain a datagram takes `intra_stub`; between stub domains it also
    /// climbs to the transit domain and back down (`2 × stub_link`), and
    /// between transit domains it crosses the backbone as well
    /// (`per_unit` × the distance between the two transit domains' centres).
    TransitStub {
        /// Transit domains per side of the square.
        transit_grid: u32,
        /// Stub domains per side of a transit domain.
        stub_grid: u32,
        /// Latency between two nodes of one stub domain.
        intra_stub: Duration,
        /// Latency of a stub domain's link to its transit domain.
        stub_link: Duration,
        /// Backbone latency per unit of distance between transit domains.
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
    /// The default transit-stub internet: 4 × 4 transit domains of 3 × 3
    /// stub domains each (144 stub domains), 2 ms within a stub domain,
    /// 10 ms stub links, 100 ms per unit of backbone distance.
    pub fn transit_stub() -> LatencyModel {
        LatencyModel::TransitStub {
            transit_grid: 4,
            stub_grid: 3,
            intra_stub: Duration::from_millis(2),
            stub_link: Duration::from_millis(10),
            per_unit: Duration::from_millis(100),
        }
    }

    /// One-way latency between two positions, rounded to whole microseconds.
    pub fn latency(&self, a: &Position, b: &Position) -> Duration {
        match *self {
            LatencyModel::Constant(d) => d,
            LatencyModel::Plane { base, per_unit } => base + scaled(per_unit, a.distance(b)),
            LatencyModel::TransitStub { transit_grid, stub_grid, intra_stub, stub_link, per_unit } => {
                let cells = transit_grid.max(1) * stub_grid.max(1);
                let (stub_a, stub_b) = (cell(a, cells), cell(b, cells));
                if stub_a == stub_b {
                    return intra_stub;
                }
                let transit = |(x, y): (u32, u32)| (x / stub_grid.max(1), y / stub_grid.max(1));
                let (transit_a, transit_b) = (transit(stub_a), transit(stub_b));
                let climb = intra_stub + stub_link * 2;
                if transit_a == transit_b {
                    return climb;
                }
                let centre = |(x, y): (u32, u32)| {
                    let side = f64::from(transit_grid.max(1));
                    Position { x: (f64::from(x) + 0.5) / side, y: (f64::from(y) + 0.5) / side }
                };
                climb + scaled(per_unit, centre(transit_a).distance(&centre(transit_b)))
            }
        }
    }
}

/// A link of the transit-stub internet a datagram crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    /// Inside one stub domain (the domain's grid cell).
    Stub((u32, u32)),
    /// A stub domain's link to its transit domain.
    Access((u32, u32)),
    /// The backbone between two transit domains (the lower one first).
    Backbone((u32, u32), (u32, u32)),
}

impl LatencyModel {
    /// The links a datagram from `a` to `b` crosses under a transit-stub
    /// model, for counting link stress; empty under the other models.
    pub fn links(&self, a: &Position, b: &Position) -> Vec<Link> {
        let LatencyModel::TransitStub { transit_grid, stub_grid, .. } = *self else { return Vec::new() };
        let cells = transit_grid.max(1) * stub_grid.max(1);
        let (stub_a, stub_b) = (cell(a, cells), cell(b, cells));
        if stub_a == stub_b {
            return vec![Link::Stub(stub_a)];
        }
        let transit = |(x, y): (u32, u32)| (x / stub_grid.max(1), y / stub_grid.max(1));
        let (transit_a, transit_b) = (transit(stub_a), transit(stub_b));
        let mut links = vec![Link::Access(stub_a), Link::Access(stub_b)];
        if transit_a != transit_b {
            links.push(Link::Backbone(transit_a.min(transit_b), transit_a.max(transit_b)));
        }
        links
    }
}

/// `per_unit × distance`, rounded to whole microseconds.
fn scaled(per_unit: Duration, distance: f64) -> Duration {
    Duration::from_micros((per_unit.as_micros() as f64 * distance).round() as u64)
}

/// The cell of a `cells × cells` grid over the unit square that `p` falls in.
fn cell(p: &Position, cells: u32) -> (u32, u32) {
    let index = |v: f64| ((v * f64::from(cells)) as u32).min(cells - 1);
    (index(p.x), index(p.y))
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

    #[test]
    fn transit_stub_latency_depends_on_the_domains() {
        let model = LatencyModel::transit_stub();
        let at = |x: f64, y: f64| Position { x, y };
        // One stub domain (each is 1/12 of the side).
        assert_eq!(model.latency(&at(0.01, 0.01), &at(0.08, 0.05)), Duration::from_millis(2));
        // Two stub domains of one transit domain (each is 1/4 of the side).
        assert_eq!(model.latency(&at(0.01, 0.01), &at(0.2, 0.2)), Duration::from_millis(22));
        // Neighbouring transit domains: centres 0.25 apart, 25 ms of backbone.
        assert_eq!(model.latency(&at(0.01, 0.01), &at(0.26, 0.01)), Duration::from_millis(47));
        // Symmetric.
        assert_eq!(model.latency(&at(0.9, 0.9), &at(0.1, 0.3)), model.latency(&at(0.1, 0.3), &at(0.9, 0.9)));
    }
}
