//! Who is who: registrations follow responsibility for their IDs
//! (`copies.rs`); other nodes fetch them (`fetch.rs`); a candidate
//! neighbour proves its registered identity before it is adopted
//! (`vetting.rs`). Admission under a registered ID is
//! part of JOIN (`ring/join.rs`).

mod copies;
mod fetch;
mod vetting;

pub(crate) use vetting::Verdict;
