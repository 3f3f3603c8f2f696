//! LIST_FILES: browsing a friend's shared files (the paper's Figure 9).
//!
//! A node asks a friend directly for its shared-file names, a page at a time;
//! the friend answers only requests from the address it knows for that
//! friend, and each page stays within 3× the (padded) request. Each name is
//! one [`Event::FileListed`], then [`Event::FileListComplete`].

use crate::config::MAX_NAME_LEN;
use crate::event::{CommandError, Event, RequestId};
use crate::id::{Id, ResourceLocator};
use crate::node::Node;
use crate::profile::Profile;
use crate::stats::DropReason;
use crate::tables::outbox::Outgoing;
use crate::tables::transactions::Purpose;
use crate::time::Instant;
use crate::wire::{Header, Message, MessageType, HEADER_LEN, MAX_NAMES_PER_PAGE, PADDED_REQUEST_LEN};
use core::net::SocketAddrV6;

/// Bytes of names a FILE_LIST page may carry: 3× its 160-byte request, less
/// the header, page, pages and count.
const PAGE_BYTES: usize = 3 * PADDED_REQUEST_LEN - HEADER_LEN - 3;

impl<P: Profile> Node<P> {
    /// Asks friend `friend` for its shared-file names.
    pub fn list_files(&mut self, now: Instant, friend: Id) -> Result<RequestId, CommandError> {
        self.now = now;
        let friend = *self.liveness.friends.get(friend).ok_or(CommandError::NotAFriend)?;
        let request = self.next_request_id();
        self.start_request(friend.addr, Purpose::ListFiles { request, friend: friend.id, page: 0, listed: 0 })?;
        Ok(request)
    }

    pub(crate) fn handle_list_files(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        page: u8,
    ) -> Result<(), DropReason> {
        let asker = ResourceLocator::new(header.sender.id, from);
        if self.liveness.friends.get(asker.id) != Some(&asker) {
            return Err(DropReason::NotAFriend);
        }
        self.send(Outgoing::FileList { to: from, txid: header.txid, page });
        Ok(())
    }

    /// Where page `page` of our names starts (an index in ID order; past the
    /// end if there is no such page), and how many pages there are.
    fn page_start(&self, page: u8) -> (usize, u8) {
        let (mut pages, mut bytes, mut count) = (1u8, 0, 0);
        let mut start = if page == 0 { Some(0) } else { None };
        for (index, (_, name)) in self.dht.shared.iter().enumerate() {
            let len = 1 + name.len();
            if bytes + len > PAGE_BYTES || count == MAX_NAMES_PER_PAGE {
                pages = pages.saturating_add(1);
                (bytes, count) = (0, 0);
                if pages - 1 == page {
                    start = Some(index);
                }
            }
            bytes += len;
            count += 1;
        }
        (start.unwrap_or(self.dht.shared.len()), pages)
    }

    /// Page `page` of our shared-file names (a page past the end comes back as the last, empty).
    pub(crate) fn file_list(&self, page: u8) -> Message {
        let (start, pages) = self.page_start(page);
        let page = page.min(pages - 1);
        let mut names: heapless::Vec<heapless::String<MAX_NAME_LEN>, MAX_NAMES_PER_PAGE> = heapless::Vec::new();
        let mut bytes = 0;
        for (_, name) in self.dht.shared.iter().skip(start) {
            if bytes + 1 + name.len() > PAGE_BYTES || names.is_full() {
                break;
            }
            bytes += 1 + name.len();
            // Cannot fail: shared names are at most MAX_NAME_LEN bytes and the page has room.
            let _ = names.push(heapless::String::try_from(name).unwrap_or_default());
        }
        Message::FileList { page, pages, names }
    }

    pub(crate) fn handle_file_list(
        &mut self,
        from: SocketAddrV6,
        header: &Header,
        reply: &Message,
    ) -> Result<(), DropReason> {
        let Message::FileList { page, pages, ref names } = *reply else { return Ok(()) };
        // A page past the end (the list shrank meanwhile) comes back as the last one.
        let same_page = |p: &Purpose| matches!(p, Purpose::ListFiles { page: want, .. } if *want == page || (page + 1 == pages && *want > page));
        let tx = self.complete_request(header, MessageType::FileList, from, same_page)?;
        let Purpose::ListFiles { request, friend, listed, .. } = tx.purpose else { return Ok(()) };
        for name in names {
            self.emit(Event::FileListed { request, friend, name: name.clone() });
        }
        let listed = listed.saturating_add(names.len() as u16);
        if page.saturating_add(1) < pages {
            let next = Purpose::ListFiles { request, friend, page: page + 1, listed };
            if self.start_request(from, next).is_err() {
                self.emit(Event::FileListFailed { request, friend });
            }
        } else {
            self.emit(Event::FileListComplete { request, friend, files: listed });
        }
        Ok(())
    }
}
