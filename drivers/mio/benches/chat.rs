//! End-to-end encrypted chat between two MMP2P nodes over `[::1]` UDP,
//! through the mio driver: messages per second of a steady one-way stream,
//! and the latency of single messages.
//!
//! Setup: one [`Driver`] hosting nodes A and B on `[::1]:0` (maintenance
//! off), its loop in its own thread, each node with its own identity
//! ([`Identity::from_seed`]). Each is made the other's contact directly with
//! [`Node::restore_contact`](mmp2p_core::Node::restore_contact), without the
//! friend-request flow, so no ring is needed: chat goes straight to the
//! friend's address, each message sealed under the conversation key the two
//! identities agree.
//!
//! - `chat/stream`: A says [`MESSAGE_LEN`]-byte messages to B and the bench
//!   thread keeps A's outbox ([`CHAT_SLOTS`] messages) full: it issues each
//!   `say` through [`Handle::command`], and one more on every
//!   [`Event::Delivered`] receipt A reports. On every [`Event::Message`] B
//!   reports it has B read what it delivered (B's inbox is bounded: a
//!   delivered message holds its room until read). Of the outbox, at most
//!   [`CHAT_WINDOW`] messages past the last receipted one are in flight, and
//!   no more fragments than the room B last reported; reading tells A of
//!   the room made.
//! - `chat/stream_reader_paced`: the same, except that A says no more than
//!   [`SLOTS_PER_FRIEND`] messages ahead of the last `Message` the bench saw
//!   B deliver: the rate when the sender never outruns the reader, against
//!   which `chat/stream` shows what the flow control costs (its fixed run
//!   prints the retransmissions and the fragments left unacknowledged for
//!   want of room, 0 when the reported room is kept).
//! - `chat/one_message`: one message at a time: A says it, the bench waits
//!   for B's [`Event::Message`] (and A's receipt, so the next starts idle),
//!   and B reads it. Criterion reports the mean time from issuing the `say`
//!   to seeing B's `Message` event.
//!
//! Criterion reports elements/s, i.e. messages delivered at B per second; one
//! iteration of a stream is [`MESSAGES_PER_ITER`] messages. After criterion's
//! report, one plain timed run of each stream over [`FIXED_MESSAGES`] messages
//! prints its messages/s with the retransmissions and unacknowledged
//! fragments during it, and [`LATENCY_MESSAGES`] single messages print the
//! latency (from the `say` being issued to B's `Message` being seen on the
//! event channel, and to A's receipt) as mean, p50, p99 and max. The whole
//! run's counters follow.
//!
//! Run: `cargo bench -p mmp2p-mio --bench chat`.
//!
//! Without `--bench` (as under `cargo test -p mmp2p-mio --benches`) each
//! stream and the single messages run once over [`SMOKE_MESSAGES`] messages
//! and the program exits.

use criterion::{Criterion, Throughput};
use mmp2p_core::identity::{Identity, PublicKey};
use mmp2p_core::stats::DropReason;
use mmp2p_core::tables::chat::{CHAT_SLOTS, CHAT_WINDOW, SLOTS_PER_FRIEND};
use mmp2p_core::tables::contacts::ContactRecord;
use mmp2p_core::wire::MAX_MESSAGE;
use mmp2p_core::{CommandError, Event, Id, ResourceLocator, Stats};
use mmp2p_mio::{DriverEvent, IoStats, NodeKey};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Length of each chat message (one fragment).
const MESSAGE_LEN: usize = 100;
/// What A says, every time.
const TEXT: [u8; MESSAGE_LEN] = [b'm'; MESSAGE_LEN];
/// Messages A's outbox holds (one slot each: they are one fragment long).
const OUTBOX: u64 = CHAT_SLOTS as u64;
/// Messages per criterion iteration of each stream.
const MESSAGES_PER_ITER: u64 = 1_000;
/// Messages of each fixed stream printed after criterion's report.
const FIXED_MESSAGES: u64 = 20_000;
/// Single messages whose latency is printed after criterion's report.
const LATENCY_MESSAGES: u64 = 2_000;
/// Messages of each run in smoke mode (without `--bench`).
const SMOKE_MESSAGES: u64 = 200;
/// Longest wait for any one event; the core retransmits a lost fragment
/// after its retransmission timeout (at most 1 s at first), so this only
/// catches a dead loop or a stuck conversation.
const EVENT_WAIT: Duration = Duration::from_secs(30);

mod pair;
use pair::TwoNodes;

/// One driver hosting nodes A and B, contacts of each other, its loop in
/// its own thread; and where their conversation stands, as the bench thread
/// has seen it.
struct ChatPair {
    nodes: TwoNodes,
    a: NodeKey,
    b: NodeKey,
    a_id: Id,
    b_id: Id,
    /// Messages A was told to say, over all runs.
    said: u64,
    /// `Delivered` receipts A reported, over all runs.
    receipted: u64,
    /// `Message` events B reported, over all runs.
    received: u64,
    /// Messages B read, counted inside the driver's loop.
    read: Arc<AtomicU64>,
}

/// How far ahead of B A may say.
#[derive(Clone, Copy, Debug)]
enum Pace {
    /// As far as A's outbox holds: [`OUTBOX`] messages not yet receipted.
    OutboxFull,
    /// No further than B's inbox holds unread: [`SLOTS_PER_FRIEND`] messages
    /// whose `Message` event the bench has not yet seen (B reads each seen one
    /// before A's next `say` runs, as the loop takes commands in order).
    Reader,
}

/// What the pair's nodes and sockets went through, once its loop has stopped.
struct ChatReport {
    said: u64,
    receipted: u64,
    received: u64,
    read: u64,
    a: (Stats, IoStats),
    b: (Stats, IoStats),
}

impl ChatPair {
    fn start() -> ChatPair {
        let (a_identity, b_identity) = (Identity::from_seed([1; 32]), Identity::from_seed([2; 32]));
        let (a_key, b_key) = (a_identity.public_key(), b_identity.public_key());
        let nodes = TwoNodes::start(|driver, a, b| {
            assert!(driver.set_identity(a, a_identity), "node A is hosted");
            assert!(driver.set_identity(b, b_identity), "node B is hosted");
        });
        let ((a, a_locator), (b, b_locator)) = (nodes.a, nodes.b);
        let pair = ChatPair {
            nodes,
            a,
            b,
            a_id: a_locator.id,
            b_id: b_locator.id,
            said: 0,
            receipted: 0,
            received: 0,
            read: Arc::new(AtomicU64::new(0)),
        };
        pair.befriend(a, b_locator, b_key);
        pair.befriend(b, a_locator, a_key);
        pair
    }

    /// Makes `friend`, holding `key`, a contact of node `node`, as if restored
    /// from an earlier run with nothing said yet either way.
    fn befriend(&self, node: NodeKey, friend: ResourceLocator, key: PublicKey) {
        let record = ContactRecord { id: friend.id, key, since: 1, next_seq: 1, receipted: 0, delivered: 0 };
        let (done, result) = channel();
        let queued = self.nodes.handle.command(node, move |node, now| {
            let _ = done.send(node.restore_contact(now, friend, record));
        });
        assert!(queued, "the driver loop is running");
        match result.recv_timeout(EVENT_WAIT) {
            Ok(restored) => restored.expect("the contact is restored"),
            Err(_) => panic!("the driver loop did not restore the contact within {EVENT_WAIT:?}"),
        }
    }

    /// Has A say [`TEXT`] to B.
    fn say(&mut self) {
        let b_id = self.b_id;
        let queued = self.nodes.handle.command(self.a, move |node, now| match node.say(now, b_id, &TEXT) {
            Ok(_) => {}
            Err(CommandError::ChatFull) => {
                panic!("A's outbox is full: the bench keeps at most {OUTBOX} messages unreceipted")
            }
            Err(e) => panic!("A cannot say a message to B: {e}"),
        });
        assert!(queued, "the driver loop is running");
        self.said += 1;
    }

    /// Has B read every message it delivered.
    fn read(&self) {
        let read = Arc::clone(&self.read);
        let queued = self.nodes.handle.command(self.b, move |node, _| {
            let mut buf = [0u8; MAX_MESSAGE];
            while let Some(message) = node.read_message(&mut buf) {
                assert_eq!(&buf[..message.len], &TEXT[..], "B reads what A said");
                read.fetch_add(1, Ordering::Relaxed);
            }
        });
        assert!(queued, "the driver loop is running");
    }

    /// Waits for the next chat event (B's `Message` or A's `Delivered`),
    /// counts it, and has B read on a `Message`; other events are skipped.
    /// Returns the event.
    fn next_chat_event(&mut self) -> Event {
        loop {
            let DriverEvent { node, event } = match self.nodes.events.recv_timeout(EVENT_WAIT) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no chat event within {EVENT_WAIT:?} ({} said, {} received at B, {} receipted at A)",
                    self.said, self.received, self.receipted
                ),
                Err(RecvTimeoutError::Disconnected) => panic!("the driver loop stopped"),
            };
            match event {
                Event::Message { from, seq, len } if node == self.b => {
                    assert_eq!(from, self.a_id, "B's messages come from A");
                    assert_eq!(u64::from(seq), self.received + 1, "B delivers A's messages in order, each once");
                    assert_eq!(usize::from(len), MESSAGE_LEN, "B delivers whole messages");
                    self.received += 1;
                    self.read();
                    return event;
                }
                Event::Delivered { friend, seq } if node == self.a => {
                    assert_eq!(friend, self.b_id, "A's receipts come from B");
                    assert_eq!(u64::from(seq), self.receipted + 1, "A's receipts come in order, each once");
                    self.receipted += 1;
                    return event;
                }
                _ => {}
            }
        }
    }

    /// Streams `messages` from A to B, as many said ahead as `pace` lets.
    /// Returns the time until B delivered the last (its receipt may still be
    /// on its way).
    fn stream(&mut self, messages: u64, pace: Pace) -> Duration {
        let start = Instant::now();
        let target = self.received + messages;
        let last = self.said + messages;
        let ahead = match pace {
            Pace::OutboxFull => u64::MAX,
            Pace::Reader => SLOTS_PER_FRIEND as u64,
        };
        loop {
            while self.said < last && self.said - self.receipted < OUTBOX && self.said - self.received < ahead {
                self.say();
            }
            if self.received >= target {
                return start.elapsed();
            }
            self.next_chat_event();
        }
    }

    /// A's retransmissions and B's fragments left unacknowledged for want of
    /// room so far, asked of the running loop.
    fn stalls(&self) -> (u64, u64) {
        let ask = |key, count: fn(&Stats) -> u64| {
            let (done, result) = channel();
            let queued = self.nodes.handle.command(key, move |node, _| {
                let _ = done.send(count(node.stats()));
            });
            assert!(queued, "the driver loop is running");
            result.recv_timeout(EVENT_WAIT).expect("the driver loop answers within EVENT_WAIT")
        };
        (ask(self.a, |s| s.retransmits), ask(self.b, |s| s.dropped(DropReason::ChatNoRoom)))
    }

    /// Waits until everything said was delivered and receipted.
    fn settle(&mut self) {
        while self.received < self.said || self.receipted < self.said {
            self.next_chat_event();
        }
    }

    /// Sends one message from an idle conversation; returns the time from
    /// issuing the `say` to B's `Message` and to A's receipt.
    fn one_message(&mut self) -> (Duration, Duration) {
        self.settle();
        let start = Instant::now();
        self.say();
        let (mut delivered, mut receipted) = (None, None);
        while delivered.is_none() || receipted.is_none() {
            match self.next_chat_event() {
                Event::Message { .. } => delivered = Some(start.elapsed()),
                _ => receipted = Some(start.elapsed()),
            }
        }
        (delivered.unwrap_or_default(), receipted.unwrap_or_default())
    }

    /// `messages` single messages: their latencies to B's `Message` and to A's receipt.
    fn latencies(&mut self, messages: u64) -> (Vec<Duration>, Vec<Duration>) {
        (0..messages).map(|_| self.one_message()).unzip()
    }

    fn finish(mut self) -> ChatReport {
        self.settle();
        let driver = self.nodes.finish();
        let node = |key| {
            let node = driver.node(key).expect("the node is still hosted");
            (node.stats().clone(), driver.io_stats(key).expect("the node is still hosted"))
        };
        ChatReport {
            said: self.said,
            receipted: self.receipted,
            received: self.received,
            read: self.read.load(Ordering::Relaxed),
            a: node(self.a),
            b: node(self.b),
        }
    }
}

fn per_second(messages: u64, elapsed: Duration) -> f64 {
    messages as f64 / elapsed.as_secs_f64()
}

/// The `percent` percentile of `sorted` (nearest rank).
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Mean, p50, p99 and max of `latencies`, in microseconds, for printing.
fn summary(mut latencies: Vec<Duration>) -> String {
    latencies.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    format!(
        "mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        micros(mean),
        micros(percentile(&latencies, 50)),
        micros(percentile(&latencies, 99)),
        micros(latencies[latencies.len() - 1]),
    )
}

fn criterion_benches(c: &mut Criterion, pair: &mut ChatPair) {
    let mut group = c.benchmark_group("chat");
    group.throughput(Throughput::Elements(MESSAGES_PER_ITER));
    group.bench_function("stream", |b| b.iter_custom(|iters| pair.stream(iters * MESSAGES_PER_ITER, Pace::OutboxFull)));
    group.bench_function("stream_reader_paced", |b| {
        b.iter_custom(|iters| pair.stream(iters * MESSAGES_PER_ITER, Pace::Reader))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_message", |b| b.iter_custom(|iters| (0..iters).map(|_| pair.one_message().0).sum()));
    group.finish();
}

/// One timed stream of `messages` paced by `pace`, from an idle
/// conversation: its messages/s, and A's retransmissions and B's fragments
/// left unacknowledged for want of room during it.
fn fixed_stream(pair: &mut ChatPair, messages: u64, pace: Pace) -> (f64, u64, u64) {
    pair.settle();
    let before = pair.stalls();
    let rate = per_second(messages, pair.stream(messages, pace));
    pair.settle();
    let after = pair.stalls();
    (rate, after.0 - before.0, after.1 - before.1)
}

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let mut pair = ChatPair::start();
    if !bench {
        let (full, ..) = fixed_stream(&mut pair, SMOKE_MESSAGES, Pace::OutboxFull);
        let (paced, ..) = fixed_stream(&mut pair, SMOKE_MESSAGES, Pace::Reader);
        let (delivered, _) = pair.latencies(SMOKE_MESSAGES);
        let report = pair.finish();
        assert_eq!(report.received, 3 * SMOKE_MESSAGES, "every message was delivered");
        assert_eq!(report.receipted, report.said, "every message was receipted");
        assert_eq!(report.read, report.received, "B read every message");
        println!(
            "smoke run: stream {full:.0} messages/s (outbox full), {paced:.0} messages/s (reader paced); single \
             messages {}",
            summary(delivered)
        );
        return;
    }

    let mut criterion = pair::criterion();
    criterion_benches(&mut criterion, &mut pair);
    criterion.final_summary();

    let full = fixed_stream(&mut pair, FIXED_MESSAGES, Pace::OutboxFull);
    let paced = fixed_stream(&mut pair, FIXED_MESSAGES, Pace::Reader);
    let (delivered, receipted) = pair.latencies(LATENCY_MESSAGES);
    let report = pair.finish();
    println!();
    println!("fixed run: {FIXED_MESSAGES} messages of {MESSAGE_LEN} bytes from A to B over [::1] per stream");
    println!(
        "stream, A's outbox of {OUTBOX} kept full ({CHAT_WINDOW} in flight past the last receipt): {:.0} messages/s \
         ({} retransmissions, {} fragments left unacknowledged for want of room)",
        full.0, full.1, full.2
    );
    println!(
        "stream, at most {SLOTS_PER_FRIEND} said ahead of what B was seen to deliver: {:.0} messages/s \
         ({} retransmissions, {} fragments left unacknowledged for want of room)",
        paced.0, paced.1, paced.2
    );
    println!("single messages ({LATENCY_MESSAGES}), say issued to B's Message seen: {}", summary(delivered));
    println!("single messages ({LATENCY_MESSAGES}), say issued to A's receipt seen: {}", summary(receipted));
    println!();
    let (a, b) = (&report.a, &report.b);
    println!(
        "whole run: {} said, {} delivered, {} read, {} receipted; {} retransmissions (A), {} fragments left \
         unacknowledged for want of room (B), {} withheld by the 3x rule, {} send errors",
        report.said,
        report.received,
        report.read,
        report.receipted,
        a.0.retransmits,
        b.0.dropped(DropReason::ChatNoRoom),
        a.0.dropped(DropReason::AmplificationLimit) + b.0.dropped(DropReason::AmplificationLimit),
        a.1.send_errors + b.1.send_errors,
    );
    println!(
        "whole run: node A sent {} datagrams, received {}; node B sent {}, received {}",
        a.1.sent, a.1.received, b.1.sent, b.1.received
    );
}
