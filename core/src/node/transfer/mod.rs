//! File transfer: serving leaves of shared content to downloaders
//! (`serve.rs`, and `send.rs` for the packets the window lets out), and
//! fetching a file from its owners (`fetch.rs` for the commands and what
//! arrives, `schedule.rs` for which owner is asked for which leaf and
//! when GETs and acks go out).
//!
//! The protocol (`docs/wire.md`, *Transfers*): a downloader sends each
//! owner a GET listing the leaves it wants of that owner; the owner sends
//! each leaf's BLOCK_PROOF and then its DATA chunks, numbering its packets;
//! the downloader acknowledges them in ranges (DATA_ACK), checks each
//! complete leaf against the file's root, and asks for more. The owner's
//! loss recovery and window are RFC 9002's and LEDBAT's (see
//! [`congestion`](crate::tables::congestion)); the downloader's window is
//! the leaves it asks for.

mod fetch;
mod schedule;
mod send;
mod serve;
