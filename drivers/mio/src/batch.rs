//! Datagrams in batches: a node's outgoing datagrams to one address, of one
//! length, leave in one system call with UDP segmentation offload (GSO), and
//! a socket is read many datagrams per call (`recvmmsg`, with generic receive
//! offload, GRO, coalescing a peer's equal-length datagrams into one buffer).
//! Where the kernel offers neither, each batch holds one datagram and each
//! buffer one datagram: the wire sees the same datagrams either way.

use mmp2p_core::MAX_DATAGRAM;
use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV6};

/// The most bytes one GSO send or GRO buffer holds: an IPv6 payload of
/// 65 535 bytes less the 8-byte UDP header.
pub(crate) const SEGMENTED_MAX: usize = u16::MAX as usize - 8;

/// Buffers one receive call fills; each holds one datagram, or up to 64 of
/// a peer's equal-length datagrams with GRO.
pub(crate) const RECEIVE_BUFFERS: usize = 8;

/// One GRO buffer's size.
const RECEIVE_BUFFER_LEN: usize = 1 << 16;

/// Where a node's outgoing datagrams wait until they are sent together.
///
/// The next datagram is written straight into [`tail`](SendBatch::tail);
/// [`push`](SendBatch::push) then keeps it in the batch or sends the batch
/// first. A batch holds datagrams of one node to one address, all of the
/// first one's length but the last, which may be shorter — the shape GSO
/// sends in one call.
pub(crate) struct SendBatch {
    buf: Box<[u8]>,
    /// Bytes of datagrams in the batch, from the front of `buf`.
    len: usize,
    /// The node whose datagrams these are.
    node: usize,
    /// Where they go.
    to: SocketAddrV6,
    /// Every datagram's length but the last's.
    segment: usize,
    /// Datagrams in the batch.
    count: usize,
}

/// What became of a batch that was sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Datagrams the kernel took.
    pub sent: u64,
    /// Datagrams lost to a send error.
    pub failed: u64,
}

impl SendBatch {
    /// An empty batch.
    pub(crate) fn new() -> SendBatch {
        SendBatch {
            buf: vec![0; SEGMENTED_MAX + MAX_DATAGRAM].into_boxed_slice(),
            len: 0,
            node: 0,
            to: SocketAddrV6::new(std::net::Ipv6Addr::UNSPECIFIED, 0, 0, 0),
            segment: 0,
            count: 0,
        }
    }

    /// The node whose datagrams wait, if any do.
    pub(crate) fn waiting(&self) -> Option<usize> {
        (self.count > 0).then_some(self.node)
    }

    /// Room for the next datagram, after those waiting.
    pub(crate) fn tail(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..self.len + MAX_DATAGRAM]
    }

    /// Takes the `len`-byte datagram written at the tail, node `node`'s to
    /// `to`, into the batch; sends what waits first if it cannot join them,
    /// and sends the batch once no further datagram could join it.
    /// `max_segments` is what the socket can send in one call.
    pub(crate) fn push(
        &mut self,
        node: usize,
        to: SocketAddrV6,
        len: usize,
        max_segments: usize,
        mut send: impl FnMut(&Transmit<'_>) -> bool,
    ) -> Sent {
        let mut sent = Sent::default();
        let joins = self.node == node && self.to == to && len <= self.segment;
        if self.count > 0 && !joins {
            let waiting = self.len;
            sent += self.flush(&mut send);
            self.buf.copy_within(waiting..waiting + len, 0);
        }
        if self.count == 0 {
            (self.node, self.to, self.segment) = (node, to, len);
        }
        self.len += len;
        self.count += 1;
        if len < self.segment || self.count >= max_segments || self.len + self.segment > SEGMENTED_MAX {
            sent += self.flush(send);
        }
        sent
    }

    /// Sends every datagram waiting.
    pub(crate) fn flush(&mut self, mut send: impl FnMut(&Transmit<'_>) -> bool) -> Sent {
        if self.count == 0 {
            return Sent::default();
        }
        let transmit = Transmit {
            destination: SocketAddr::V6(self.to),
            ecn: None,
            contents: &self.buf[..self.len],
            segment_size: (self.count > 1).then_some(self.segment),
            src_ip: None,
        };
        let count = self.count as u64;
        let sent = if send(&transmit) { Sent { sent: count, failed: 0 } } else { Sent { sent: 0, failed: count } };
        self.discard();
        sent
    }

    /// Drops every datagram waiting (their node is gone).
    pub(crate) fn discard(&mut self) {
        self.len = 0;
        self.count = 0;
    }
}

impl core::ops::AddAssign for Sent {
    fn add_assign(&mut self, more: Sent) {
        self.sent += more.sent;
        self.failed += more.failed;
    }
}

/// Sends `transmit` on `socket`; false if the kernel refused it.
pub(crate) fn send_on(state: &UdpSocketState, socket: &mio::net::UdpSocket, transmit: &Transmit<'_>) -> bool {
    state.try_send(UdpSockRef::from(socket), transmit).is_ok()
}

/// The buffers one receive call fills.
pub(crate) struct ReceiveBuffers {
    buf: Box<[u8]>,
    meta: [RecvMeta; RECEIVE_BUFFERS],
}

impl ReceiveBuffers {
    /// Buffers for [`RECEIVE_BUFFERS`] GRO buffers.
    pub(crate) fn new() -> ReceiveBuffers {
        ReceiveBuffers {
            buf: vec![0; RECEIVE_BUFFERS * RECEIVE_BUFFER_LEN].into_boxed_slice(),
            meta: [RecvMeta::default(); RECEIVE_BUFFERS],
        }
    }

    /// No buffers: a stand-in while the real ones are lent out.
    pub(crate) fn empty() -> ReceiveBuffers {
        ReceiveBuffers { buf: Box::new([]), meta: [RecvMeta::default(); RECEIVE_BUFFERS] }
    }

    /// Reads what `socket` holds into the buffers: how many were filled.
    pub(crate) fn receive(&mut self, state: &UdpSocketState, socket: &mio::net::UdpSocket) -> io::Result<usize> {
        let mut slices: [IoSliceMut<'_>; RECEIVE_BUFFERS] = {
            let mut chunks = self.buf.chunks_exact_mut(RECEIVE_BUFFER_LEN);
            std::array::from_fn(|_| IoSliceMut::new(chunks.next().expect("RECEIVE_BUFFERS chunks")))
        };
        state.recv(UdpSockRef::from(socket), &mut slices, &mut self.meta)
    }

    /// Buffer `index`'s sender and its datagrams, each at most `stride` long.
    pub(crate) fn datagrams(&self, index: usize) -> (SocketAddr, std::slice::Chunks<'_, u8>) {
        let meta = &self.meta[index];
        let bytes = &self.buf[index * RECEIVE_BUFFER_LEN..][..meta.len];
        (meta.addr, bytes.chunks(meta.stride.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one send call carried: destination, bytes, segment size.
    type Call = (SocketAddr, Vec<u8>, Option<usize>);

    fn addr(port: u16) -> SocketAddrV6 {
        SocketAddrV6::new(std::net::Ipv6Addr::LOCALHOST, port, 0, 0)
    }

    /// A send that records each call and succeeds.
    fn recorder(calls: &mut Vec<Call>) -> impl FnMut(&Transmit<'_>) -> bool + '_ {
        |t| {
            calls.push((t.destination, t.contents.to_vec(), t.segment_size));
            true
        }
    }

    /// Writes `len` bytes of `byte` at the tail and pushes them.
    fn push(batch: &mut SendBatch, calls: &mut Vec<Call>, node: usize, to: u16, len: usize, byte: u8) -> Sent {
        batch.tail()[..len].fill(byte);
        batch.push(node, addr(to), len, 64, recorder(calls))
    }

    #[test]
    fn equal_datagrams_to_one_address_leave_in_one_call() {
        let (mut batch, mut calls) = (SendBatch::new(), Vec::new());
        for i in 0..10 {
            assert_eq!(push(&mut batch, &mut calls, 0, 7, 100, i), Sent::default(), "nothing leaves before the flush");
        }
        assert_eq!(batch.waiting(), Some(0));
        let sent = batch.flush(recorder(&mut calls));
        assert_eq!(sent, Sent { sent: 10, failed: 0 });
        assert_eq!(calls.len(), 1);
        let (to, bytes, segment) = &calls[0];
        assert_eq!((*to, bytes.len(), *segment), (SocketAddr::V6(addr(7)), 1000, Some(100)));
        assert!(bytes.chunks(100).enumerate().all(|(i, d)| d.iter().all(|&b| b == i as u8)), "in order, intact");
        assert_eq!(batch.waiting(), None);
    }

    #[test]
    fn a_shorter_datagram_ends_the_batch() {
        let (mut batch, mut calls) = (SendBatch::new(), Vec::new());
        push(&mut batch, &mut calls, 0, 7, 100, 1);
        let sent = push(&mut batch, &mut calls, 0, 7, 40, 2);
        assert_eq!(sent.sent, 2);
        assert_eq!(calls, vec![(SocketAddr::V6(addr(7)), [vec![1; 100], vec![2; 40]].concat(), Some(100))]);
    }

    #[test]
    fn another_address_node_or_longer_datagram_sends_what_waits_first() {
        let (mut batch, mut calls) = (SendBatch::new(), Vec::new());
        push(&mut batch, &mut calls, 0, 7, 100, 1);
        assert_eq!(push(&mut batch, &mut calls, 0, 8, 100, 2).sent, 1, "another address");
        assert_eq!(push(&mut batch, &mut calls, 1, 8, 100, 3).sent, 1, "another node");
        assert_eq!(push(&mut batch, &mut calls, 1, 8, 120, 4).sent, 1, "a longer datagram");
        batch.flush(recorder(&mut calls));
        let alone = |to, len, byte| (SocketAddr::V6(addr(to)), vec![byte; len], None);
        assert_eq!(calls, vec![alone(7, 100, 1), alone(8, 100, 2), alone(8, 100, 3), alone(8, 120, 4)]);
    }

    #[test]
    fn a_batch_leaves_at_the_segment_and_byte_limits() {
        let (mut batch, mut calls) = (SendBatch::new(), Vec::new());
        let sent: u64 = (0..64).map(|i| push(&mut batch, &mut calls, 0, 7, 10, i).sent).sum();
        assert_eq!((sent, calls.len(), batch.waiting()), (64, 1, None), "64 segments");
        calls.clear();
        let per_call = SEGMENTED_MAX / MAX_DATAGRAM;
        let sent: u64 = (0..per_call).map(|i| push(&mut batch, &mut calls, 0, 7, MAX_DATAGRAM, i as u8).sent).sum();
        assert_eq!((sent as usize, calls.len()), (per_call, 1), "{per_call} full datagrams fill 64 KiB");
        assert!(calls[0].1.len() <= SEGMENTED_MAX);
    }

    #[test]
    fn a_refused_send_counts_every_datagram_it_carried() {
        let mut batch = SendBatch::new();
        for _ in 0..3 {
            batch.tail()[..50].fill(9);
            batch.push(0, addr(7), 50, 64, |_| true);
        }
        assert_eq!(batch.flush(|_| false), Sent { sent: 0, failed: 3 });
        batch.tail()[..50].fill(9);
        batch.push(0, addr(7), 50, 64, |_| true);
        batch.discard();
        assert_eq!(batch.waiting(), None);
    }
}
