//! Routed messages: relaying towards a key, lookups, and friends' digests
//! for looking one hop ahead.

mod lookahead;
mod lookup;
mod relay;
