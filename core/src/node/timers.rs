//! The timer table walked: each [`Timer`]'s deadline, and the work each
//! does when `handle_timeout` serves it.

use crate::node::Node;
use crate::profile::Profile;
use crate::tables::timers::Timer;
use crate::time::Instant;

impl<P: Profile> Node<P> {
    /// When `timer` next has work, if ever.
    pub(crate) fn deadline(&self, timer: Timer) -> Option<Instant> {
        let maintenance = self.config.maintenance;
        match timer {
            Timer::Retransmit => self.requests.transactions.next_deadline(),
            Timer::Maintenance => self.next_maintenance(),
            Timer::Digest => self.timers.get(Timer::Digest).filter(|_| maintenance),
            Timer::Publish => self.timers.get(Timer::Publish).filter(|_| maintenance),
            Timer::PublishRetry => self.timers.get(Timer::PublishRetry),
            Timer::Replicate => self.timers.get(Timer::Replicate),
            Timer::StoreExpiry => self.dht.store.next_expiry(),
            Timer::JoinRetry => self.ring.campaign.as_ref().and_then(|c| c.retry_at),
            Timer::FriendRequests => self.messenger.requests.next_send(),
            Timer::Presence => self.next_presence_push(),
            Timer::Chat => self.next_chat_send(),
            Timer::Mail => self.next_mail_work(),
            Timer::Transfer => {
                [self.transfers.uploads.deadline(), self.download_deadline()].into_iter().flatten().min()
            }
            Timer::Tree => self.tree_deadline(),
        }
    }

    /// Does `timer`'s work; `handle_timeout` calls it once `timer`'s
    /// deadline has come, so the work need not check that again.
    pub(crate) fn serve(&mut self, timer: Timer, now: Instant) {
        match timer {
            Timer::Retransmit => self.retransmit_due(now),
            Timer::Maintenance => self.maintain(now),
            Timer::Digest => self.send_digests(now),
            Timer::Publish => self.refresh_store(now),
            Timer::PublishRetry => self.retry_publish(),
            Timer::Replicate => self.replicate_fresh(),
            Timer::StoreExpiry => {
                self.dht.store.expire(now);
            }
            Timer::JoinRetry => self.continue_campaign(now),
            Timer::FriendRequests => self.send_friend_requests(now),
            Timer::Presence => self.push_presence(now),
            Timer::Chat => self.send_chat(now),
            Timer::Mail => self.mail_work(now),
            Timer::Transfer => {
                self.upload_timers(now);
                self.download_timers(now);
            }
            Timer::Tree => self.tree_timers(now),
        }
    }
}
