//! Serving: which content we serve and to whom, what we share under a file
//! ID (CONTENT_QUERY, answered to anyone: it tells no more than a search),
//! and the rule for a GET —
//! an unknown content, a leaf past the end or a stranger asking for
//! friends-only content gets a typed REFUSE; an unproven address gets a
//! cookie to echo first (so a spoofed GET never draws a stream); a full
//! table gets `Busy`. An accepted GET replaces its stream's wish list.

use crate::content::ContentId;
use crate::event::{CommandError, Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::tables::uploads::{Audience, Served, Upload, ASK_LIMIT};
use crate::time::Instant;
use crate::wire::{ContentInfo, DataAck, Get, Header, MessageType, RefuseReason};
use core::net::SocketAddrV6;

impl<P: Profile> Node<P> {
    /// Serves `content` (hashed by the program, see
    /// [`content`](crate::content)) to `audience`, under file ID `key`
    /// (the MD5 of its name, as [`share`](Node::share) publishes it): a
    /// CONTENT_QUERY for `key` names it. The driver reads its bytes when
    /// asked ([`Fill`](crate::event::Fill)).
    pub fn serve_content(&mut self, key: Id, content: ContentId, audience: Audience) -> Result<(), CommandError> {
        if !content.is_valid() {
            return Err(CommandError::ContentTooLarge);
        }
        if !self.transfers.served.insert(Served { key, content, audience }) {
            return Err(CommandError::TransfersFull);
        }
        Ok(())
    }

    /// Asks `owner` what content it shares under file ID `key` (an owner a
    /// search found): [`Event::ContentInfo`] answers, or
    /// [`Event::ContentQueryFailed`].
    pub fn query_content(&mut self, now: Instant, owner: SocketAddrV6, key: Id) -> Result<RequestId, CommandError> {
        self.now = now;
        if !ResourceLocator::new(key, owner).is_usable() {
            return Err(CommandError::InvalidAddress);
        }
        let request = self.next_request_id();
        self.start_request(owner, Purpose::ContentQuery { request, key })?;
        Ok(request)
    }

    pub(crate) fn handle_content_info(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        info: ContentInfo,
    ) -> Result<(), DropReason> {
        let asked = |p: &Purpose| matches!(p, Purpose::ContentQuery { key, .. } if *key == info.key);
        let tx = self.complete_request(header, MessageType::ContentInfo, from, asked)?;
        let Purpose::ContentQuery { request, key } = tx.purpose else { return Ok(()) };
        let content = info.content.filter(|(c, _)| c.is_valid());
        let content = content.map(|(c, friends)| (c, if friends { Audience::Friends } else { Audience::Anyone }));
        self.emit(Event::ContentInfo { request, owner: from, key, content });
        Ok(())
    }

    /// What we answer a CONTENT_QUERY for `key` with.
    /// Answers a CONTENT_QUERY, within the asker's request rate.
    pub(crate) fn handle_content_query(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        key: Id,
    ) -> Result<(), DropReason> {
        if !self.transfers.askers.take(from, self.now, ASK_LIMIT) {
            return Err(DropReason::AskRateLimited);
        }
        self.send(Outgoing::ContentInfo { to: from, txid: header.txid, key });
        Ok(())
    }

    pub(crate) fn content_info(&self, key: Id) -> ContentInfo {
        let served = self.transfers.served.by_key(key);
        ContentInfo { key, content: served.map(|s| (s.content, s.audience == Audience::Friends)) }
    }

    /// Stops serving `content` and ends its streams; false if it was not served.
    pub fn unserve_content(&mut self, content: &ContentId) -> bool {
        self.transfers.uploads.retain(|u| u.content != *content);
        self.transfers.served.remove(content)
    }

    /// The content served and to whom.
    pub fn served(&self) -> &crate::tables::uploads::ServedContent<P::Apps> {
        &self.transfers.served
    }

    /// The streams served.
    pub fn uploads(&self) -> &crate::tables::uploads::Uploads<P::Apps> {
        &self.transfers.uploads
    }

    pub(crate) fn handle_get(&mut self, from: SocketAddrV6, header: &Header, get: Get) -> Result<(), DropReason> {
        let stream = header.txid;
        let refuse = |node: &mut Self, reason: RefuseReason, cookie: u64| {
            node.send(Outgoing::Refuse { to: from, txid: stream, reason, cookie });
            Ok(())
        };
        if get.ranges.is_empty() {
            // "Stop": whatever we serve now, the stream ends (an unknown one changes nothing).
            self.transfers.uploads.close(from, stream);
            return Ok(());
        }
        let on_stream = self.transfers.uploads.get_mut(from, stream).is_some_and(|u| u.content == get.content);
        if !on_stream && !self.transfers.askers.take(from, self.now, ASK_LIMIT) {
            return Err(DropReason::AskRateLimited);
        }
        let Some(audience) = self.transfers.served.audience(&get.content) else {
            return refuse(self, RefuseReason::UnknownContent, 0);
        };
        let leaves = u64::from(get.content.leaf_count());
        let past_end = |r: &crate::wire::LeafRange| u64::from(r.first) + u64::from(r.count.max(1)) > leaves;
        if get.ranges.iter().any(past_end) {
            return refuse(self, RefuseReason::OutOfRange, 0);
        }
        if audience == Audience::Friends && !self.liveness.friends.iter().any(|f| f.addr == from) {
            return refuse(self, RefuseReason::FriendsOnly, 0);
        }
        if !self.requests.budgets.is_proven(&from, self.now) {
            let asker = crate::id::ResourceLocator::new(header.sender.id, from);
            if get.cookie == 0 || !self.cookie_is_valid(&asker, get.cookie) {
                let cookie = self.join_cookie(&asker);
                return refuse(self, RefuseReason::Retry, cookie);
            }
            self.vouch(from);
        }
        let now = self.now;
        let uploads = &mut self.transfers.uploads;
        let upload = match uploads.get_mut(from, stream) {
            Some(upload) if upload.content == get.content => upload,
            Some(_) => return refuse(self, RefuseReason::OutOfRange, 0),
            None => match uploads.open(Upload::new(from, stream, get.content, now)) {
                Ok(upload) => upload,
                Err(_) => return refuse(self, RefuseReason::Busy, 0),
            },
        };
        upload.want(get.seq, &get.ranges);
        Ok(())
    }

    pub(crate) fn handle_data_ack(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        ack: &DataAck,
    ) -> Result<(), DropReason> {
        let now = self.now;
        let upload = self.transfers.uploads.get_mut(from, header.txid).ok_or(DropReason::UnknownStream)?;
        upload.on_ack(now, ack);
        if upload.is_idle() {
            self.transfers.uploads.close(from, header.txid);
        }
        Ok(())
    }
}
