//! The pieces of a receiver's window it asked a neighbour for lately, so
//! that a pull does not ask again for what is on its way: a piece asked
//! for is left out of the pulls that follow for one to two periods (two
//! generations of marks; each new period forgets the older one).

use crate::time::Instant;
use core::time::Duration;

/// Chunks of a window of `LEAVES` leaves asked for lately, by leaf.
#[derive(Clone, Debug)]
pub struct Asked<const LEAVES: usize> {
    /// Per leaf of the window, the chunks asked for: this period, and the one before.
    marks: [[u16; LEAVES]; 2],
    /// When this period began.
    since: Instant,
}

impl<const LEAVES: usize> Asked<LEAVES> {
    /// Nothing asked for yet.
    pub fn new(now: Instant) -> Self {
        Asked { marks: [[0; LEAVES]; 2], since: now }
    }

    /// Starts a new period once `period` has passed since this one began:
    /// the older marks are forgotten (both, after two periods).
    pub fn age(&mut self, now: Instant, period: Duration) {
        if self.since + period * 2 <= now {
            self.marks = [[0; LEAVES]; 2];
            self.since = now;
        } else if self.since + period <= now {
            self.marks[1] = self.marks[0];
            self.marks[0] = [0; LEAVES];
            self.since = now;
        }
    }

    /// When the next period begins, if periods last `period`.
    pub fn next_age(&self, period: Duration) -> Instant {
        self.since + period
    }

    /// True if chunk `chunk` of the window's leaf `slot` was asked for lately.
    pub fn contains(&self, slot: usize, chunk: u8) -> bool {
        let mask = 1u16.checked_shl(u32::from(chunk)).unwrap_or(0);
        self.marks.iter().any(|marks| marks.get(slot).is_some_and(|m| m & mask != 0))
    }

    /// Notes that chunk `chunk` of the window's leaf `slot` is asked for now.
    pub fn mark(&mut self, slot: usize, chunk: u8) {
        if let Some(m) = self.marks[0].get_mut(slot) {
            *m |= 1u16.checked_shl(u32::from(chunk)).unwrap_or(0);
        }
    }

    /// Forgets what was asked of the window's leaf `slot` (it did not
    /// check: all of it is asked for again at once).
    pub fn forget(&mut self, slot: usize) {
        for marks in &mut self.marks {
            if let Some(m) = marks.get_mut(slot) {
                *m = 0;
            }
        }
    }

    /// The window moved on by one leaf.
    pub fn shift(&mut self) {
        for marks in &mut self.marks {
            marks.copy_within(1.., 0);
            if let Some(last) = marks.last_mut() {
                *last = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_asked_for_is_left_out_for_one_to_two_periods() {
        let period = Duration::from_millis(100);
        let at = |ms| Instant::ZERO + Duration::from_millis(ms);
        let mut asked = Asked::<64>::new(at(0));
        asked.mark(3, 5);
        asked.age(at(99), period);
        assert!(asked.contains(3, 5) && !asked.contains(3, 4) && !asked.contains(2, 5));
        asked.age(at(100), period);
        assert!(asked.contains(3, 5), "one period on: still on its way");
        asked.age(at(200), period);
        assert!(!asked.contains(3, 5), "two periods on: asked for again");
        asked.mark(3, 5);
        asked.age(at(500), period);
        assert!(!asked.contains(3, 5), "a long pause forgets both generations");
        asked.mark(3, 5);
        asked.shift();
        assert!(asked.contains(2, 5) && !asked.contains(3, 5), "the window moved on by a leaf");
        asked.forget(2);
        assert!(!asked.contains(2, 5));
    }
}
