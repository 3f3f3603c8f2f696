//! The ring: joining, leaving, stabilising, liveness and neighbour updates.

mod cookie;
mod join;
mod leave;
mod liveness;
mod neighbour_update;
mod stabilise;
