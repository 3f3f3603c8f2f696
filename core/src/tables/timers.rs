//! The node's timers: one [`Timer`] per kind of work that waits for a
//! deadline, and a [`TimerTable`] of the deadlines the node schedules itself.
//!
//! [`Node::poll_timeout`](crate::Node::poll_timeout) is the earliest deadline
//! over [`Timer::ALL`]; [`Node::handle_timeout`](crate::Node::handle_timeout)
//! serves, in the same order, every timer whose deadline has come.

use crate::time::Instant;

macro_rules! timers {
    ($( $(#[$doc:meta])* $variant:ident, )*) => {
        /// A kind of work that waits for a deadline, in the order
        /// `handle_timeout` serves them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Timer {
            $( $(#[$doc])* $variant, )*
        }

        impl Timer {
            /// Every timer, in serving order.
            pub const ALL: [Timer; [$(stringify!($variant)),*].len()] = [$(Timer::$variant),*];
        }
    };
}

timers! {
    /// Outstanding requests to retransmit or fail (deadlines kept in the request table).
    Retransmit,
    /// Periodic maintenance: the next stabilisation round with the
    /// neighbours (its slot) or a friend's liveness probe (kept per friend).
    Maintenance,
    /// Our digest to the next friend in turn (lookahead).
    Digest,
    /// The periodic STORE refresh of our shared files, and replication.
    Publish,
    /// Publishing again the files whose locators no VERIFY confirmed.
    PublishRetry,
    /// Copying the entries that changed since the last copy to our backup
    /// successors, batched, a quarter of a liveness period after the first
    /// such change.
    Replicate,
    /// Stored locators that expire (deadlines kept in the store).
    StoreExpiry,
    /// The next entry of a join campaign through the bootstrap list.
    JoinRetry,
    /// Friend requests of ours to send again (deadlines kept in the request table).
    FriendRequests,
    /// Our presence to push to friends that have not acknowledged it.
    Presence,
    /// Chat fragments to send or send again (deadlines kept with the messages).
    Chat,
    /// Offline mail: letters to deliver or drop, our own to mail again
    /// (deadlines kept with the letters and the contacts).
    Mail,
    /// File transfers: streams' loss and probe timers, downloads' GETs and
    /// acks (deadlines kept with the streams and sources).
    Transfer,
    /// Conference trees: heartbeats to parents, searches to start again,
    /// silent children to drop (deadlines kept with each tree).
    Tree,
}

/// The deadlines the node schedules itself, one slot per [`Timer`]; timers
/// whose deadlines live in another table leave their slot empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    /// When `timer` is due, if scheduled.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    /// Schedules `timer` at `at` (or cancels it with `None`).
    pub fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.deadlines[timer as usize] = at;
    }
}
