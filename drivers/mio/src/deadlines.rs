//! The hosted nodes' deadlines, earliest first, so that a wake costs
//! O(log n) in hosted nodes rather than a scan of them all. Each node's
//! current deadline is kept beside a heap of the deadlines ever set;
//! an entry that no longer matches its node's current one is stale and
//! skipped (lazy deletion), and the heap is rebuilt from the current
//! deadlines once stale entries outnumber them.

use mmp2p_core::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Deadlines by node index.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    current: Vec<Option<Instant>>,
}

impl Deadlines {
    /// Node `index`'s deadline is now `at` (`None`: it has none).
    pub fn set(&mut self, index: usize, at: Option<Instant>) {
        if self.current.len() <= index {
            self.current.resize(index + 1, None);
        }
        if self.current[index] == at {
            return;
        }
        self.current[index] = at;
        if let Some(at) = at {
            self.heap.push(Reverse((at, index)));
        }
        if self.heap.len() > 2 * self.current.len() + 64 {
            self.rebuild();
        }
    }

    /// The earliest deadline of any node.
    pub fn next(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, index))) = self.heap.peek() {
            if self.current.get(index).copied().flatten() == Some(at) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes every node whose deadline is at or before `now`, earliest
    /// first; their deadlines are cleared until set again.
    pub fn take_due(&mut self, now: Instant) -> Vec<usize> {
        let mut due = Vec::new();
        while let Some(at) = self.next() {
            if at > now {
                break;
            }
            if let Some(Reverse((_, index))) = self.heap.pop() {
                self.current[index] = None;
                due.push(index);
            }
        }
        due
    }

    fn rebuild(&mut self) {
        let current = self.current.iter().enumerate();
        self.heap = current.filter_map(|(index, at)| at.map(|at| Reverse((at, index)))).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_current_deadline_comes_first_and_stale_ones_never() {
        let at = Instant::from_micros;
        let mut deadlines = Deadlines::default();
        deadlines.set(0, Some(at(50)));
        deadlines.set(1, Some(at(20)));
        deadlines.set(2, Some(at(30)));
        deadlines.set(1, Some(at(90)));
        assert_eq!(deadlines.next(), Some(at(30)), "node 1's earlier deadline was replaced");
        deadlines.set(2, None);
        assert_eq!(deadlines.next(), Some(at(50)));
        assert_eq!(deadlines.take_due(at(60)), [0]);
        assert_eq!(deadlines.take_due(at(60)), Vec::<usize>::new(), "taken once");
        assert_eq!(deadlines.next(), Some(at(90)));
        for round in 0..1000 {
            deadlines.set(3, Some(at(100 + round)));
        }
        assert!(deadlines.heap.len() <= 2 * deadlines.current.len() + 64, "stale entries are swept");
        assert_eq!(deadlines.take_due(at(2000)), [1, 3]);
        assert_eq!(deadlines.next(), None);
    }
}
