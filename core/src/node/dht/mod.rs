//! The locator DHT: publishing, return-routability checks, searching,
//! replication, and friends' file lists.

mod files;
mod owners;
mod publish;
mod replicate;
mod search;
mod verify;
