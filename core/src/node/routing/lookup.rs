//! LOOKUP: find the node responsible for a key.
//!
//! The origin routes a LOOKUP towards the key's successor (see `routing` and
//! `relay`); each hop is acknowledged, and each relay decrements the hop limit
//! and counts the hop. The responsible node answers the origin directly with
//! a LOOKUP_REPLY carrying the hop count; its header names it, so the origin
//! learns its locator.

use crate::event::{CommandError, Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::{bump, DropReason};
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::{Asker, Purpose};
use crate::time::Instant;
use crate::wire::{Header, MessageType};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Looks up the node responsible for `key`.
    ///
    /// Completes with [`Event::LookupSucceeded`] (at once, with 0 hops, if this
    /// node is responsible) or [`Event::LookupFailed`].
    pub fn lookup(&mut self, now: Instant, key: Id) -> Result<RequestId, CommandError> {
        let (request, local) =
            self.originate(now, key, |request| Purpose::Lookup { asker: Asker::User(request), key })?;
        if local {
            self.answer_own(&Purpose::Lookup { asker: Asker::User(request), key });
        }
        Ok(request)
    }

    /// Answers a lookup this node is responsible for.
    pub(crate) fn answer_lookup(&mut self, txid: u64, origin: ResourceLocator, key: Id, hops: u8) {
        self.send(Outgoing::LookupReply { to: origin.addr, txid, key, hops });
    }

    pub(crate) fn handle_lookup_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        key: Id,
        hops: u8,
    ) -> Result<(), DropReason> {
        let same_key = |p: &Purpose| matches!(p, Purpose::Lookup { key: k, .. } if *k == key);
        let tx = self.complete_request(header, MessageType::LookupReply, from, same_key)?;
        self.forget_first_hop(tx.txid);
        if let Purpose::Lookup { asker, .. } = tx.purpose {
            self.lookup_completed(asker, key, header.sender, hops);
        }
        Ok(())
    }

    pub(crate) fn lookup_completed(&mut self, asker: Asker, key: Id, responsible: ResourceLocator, hops: u8) {
        match asker {
            Asker::User(request) => {
                bump(&mut self.stats.lookups_completed);
                self.stats.lookup_hops = self.stats.lookup_hops.saturating_add(u64::from(hops));
                self.emit(Event::LookupSucceeded { request, key, responsible, hops });
            }
            Asker::Mail => self.mail_holder_found(key, responsible),
        }
    }
}
