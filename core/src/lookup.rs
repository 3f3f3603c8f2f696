//! LOOKUP: find the node responsible for a key.
//!
//! The origin routes a LOOKUP towards the key's successor (see `routing`);
//! each relay decrements the hop limit and counts the hop. The responsible
//! node answers the origin directly with a LOOKUP_REPLY carrying the hop
//! count; its header names it, so the origin learns its locator.

use crate::event::{CommandError, Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::outbox::Outgoing;
use crate::routing::NextHop;
use crate::stats::{bump, DropReason};
use crate::time::Instant;
use crate::transactions::Purpose;
use crate::wire::{Header, MessageType};
use core::net::SocketAddrV6;

impl Node {
    /// Looks up the node responsible for `key`.
    ///
    /// Completes with [`Event::LookupSucceeded`] (at once, with 0 hops, if this
    /// node is responsible) or [`Event::LookupFailed`].
    pub fn lookup(&mut self, now: Instant, key: Id) -> Result<RequestId, CommandError> {
        self.now = now;
        if self.is_joining() {
            return Err(CommandError::NotJoined);
        }
        let request = self.next_request_id();
        match self.route(key, None) {
            NextHop::Local => {
                let responsible = self.me;
                self.lookup_completed(request, key, responsible, 0);
            }
            NextHop::Forward(next) => {
                self.start_request(next.addr, Purpose::Lookup { request, key })?;
            }
        }
        Ok(request)
    }

    pub(crate) fn handle_lookup(
        &mut self,
        header: &Header,
        origin: ResourceLocator,
        key: Id,
        hops: u8,
    ) -> Result<(), DropReason> {
        if self.is_joining() {
            return Err(DropReason::NotJoined);
        }
        let txid = header.txid;
        match self.route(key, None) {
            NextHop::Local => self.send(Outgoing::LookupReply { to: origin.addr, txid, key, hops }),
            NextHop::Forward(next) => {
                let hop_limit = self.relay_hop_limit(header.hop_limit)?;
                let hops = hops.saturating_add(1);
                self.send(Outgoing::Lookup { to: next.addr, txid, hop_limit, origin, key, hops });
            }
        }
        Ok(())
    }

    pub(crate) fn handle_lookup_reply(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        key: Id,
        hops: u8,
    ) -> Result<(), DropReason> {
        let same_key = |p: &Purpose| matches!(p, Purpose::Lookup { key: k, .. } if *k == key);
        let tx =
            self.transactions.complete(header.txid, MessageType::LookupReply, from, header.sender.addr, same_key)?;
        if let Purpose::Lookup { request, .. } = tx.purpose {
            self.lookup_completed(request, key, header.sender, hops);
        }
        Ok(())
    }

    fn lookup_completed(&mut self, request: RequestId, key: Id, responsible: ResourceLocator, hops: u8) {
        bump(&mut self.stats.lookups_completed);
        self.stats.lookup_hops = self.stats.lookup_hops.saturating_add(u64::from(hops));
        self.emit(Event::LookupSucceeded { request, key, responsible, hops });
    }
}
