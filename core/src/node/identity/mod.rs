//! Who is who: registrations follow responsibility for their IDs
//! (`copies.rs`). Admission under a registered ID is part of JOIN
//! (`ring/join.rs`).

mod copies;
