//! One line of text per message: its name from the type table, then its
//! fields. IDs below 2¹⁶ (the specification's examples) print in decimal,
//! others as 32 hex digits; locators print as their ID.

use super::fields::Chain;
use super::message::Message;
use crate::id::{Id, ResourceLocator};
use core::fmt;

/// An ID as a transcript shows it.
struct Short(Id);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 .0 < 1 << 16 {
            write!(f, "{}", self.0 .0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// A list of IDs as `[a, b, c]`.
fn ids(f: &mut fmt::Formatter<'_>, ids: impl IntoIterator<Item = Id>) -> fmt::Result {
    f.write_str("[")?;
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", Short(id))?;
    }
    f.write_str("]")
}

fn chain(f: &mut fmt::Formatter<'_>, chain: &Chain) -> fmt::Result {
    ids(f, chain.iter().map(|c: &ResourceLocator| c.id))
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message_type().name())?;
        match self {
            Message::Ping | Message::Pong | Message::Ack | Message::HopAck | Message::Stabilise => Ok(()),
            Message::Join { joiner, hops } => write!(f, " joiner={} hops={hops}", Short(joiner.id)),
            Message::JoinReply { status, hops, left, right } => {
                write!(f, " {status:?} hops={hops} left=")?;
                chain(f, left)?;
                f.write_str(" right=")?;
                chain(f, right)
            }
            Message::NeighbourUpdate { side, chain: c } | Message::Leave { side, chain: c } => {
                write!(f, " {side:?} ")?;
                chain(f, c)
            }
            Message::StabiliseReply { left, right } => {
                f.write_str(" left=")?;
                chain(f, left)?;
                f.write_str(" right=")?;
                chain(f, right)
            }
            Message::FriendDigest { ids: list } => {
                f.write_str(" ")?;
                ids(f, list.iter().copied())
            }
            Message::Lookup { origin, key, hops } | Message::Search { origin, key, hops } => {
                write!(f, " origin={} key={} hops={hops}", Short(origin.id), Short(*key))
            }
            Message::LookupReply { key, hops } => write!(f, " key={} hops={hops}", Short(*key)),
            Message::Store { owner, hops, entries } => {
                write!(f, " owner={} hops={hops} keys=", Short(owner.id))?;
                ids(f, entries.iter().map(|e| e.key))
            }
            Message::Verify { owner, keys } => {
                write!(f, " owner={} keys=", Short(*owner))?;
                ids(f, keys.iter().copied())
            }
            Message::VerifyReply { keys, mask } => {
                f.write_str(" keys=")?;
                ids(f, keys.iter().copied())?;
                write!(f, " mask={mask:#x}")
            }
            Message::SearchPage { key, page } => write!(f, " key={} page={page}", Short(*key)),
            Message::SearchReply { key, hops, page, pages, owners } => {
                write!(f, " key={} hops={hops} page={page}/{pages} owners=", Short(*key))?;
                ids(f, owners.iter().map(|o| o.id))
            }
            Message::Replicate { entries } => {
                f.write_str(" keys=")?;
                ids(f, entries.iter().map(|e| e.key))
            }
            Message::ListFiles { page } => write!(f, " page={page}"),
            Message::FileList { page, pages, names } => {
                write!(f, " page={page}/{pages} names=[")?;
                for (i, name) in names.iter().enumerate() {
                    let comma = if i > 0 { ", " } else { "" };
                    write!(f, "{comma}{name:?}")?;
                }
                f.write_str("]")
            }
        }
    }
}
