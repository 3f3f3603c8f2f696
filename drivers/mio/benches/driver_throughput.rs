//! Datagram throughput of the mio driver over `[::1]` UDP, against a bare
//! `std::net::UdpSocket` echo pair as the ceiling.
//!
//! - `driver_throughput/mio_driver`: one [`Driver`] hosting two nodes on
//!   `[::1]:0` (maintenance off, default request timeout, so a healthy run
//!   sends nothing but PINGs and PONGs), its loop in its own thread. The bench
//!   thread keeps [`WINDOW`] pings from node A to node B outstanding: it issues
//!   each through [`Handle::command`] and issues the next on every
//!   `PingSucceeded` from the event channel. A ping is two datagrams (PING and
//!   PONG), so the driver's thread does all the socket work and the bench thread
//!   only commands and collects events.
//! - `driver_throughput/std_udp_echo`: two blocking `std::net::UdpSocket`s on
//!   `[::1]:0`, an echo thread that `recv_from`s each datagram and `send_to`s it
//!   back, and the bench thread keeping the same window of 48-byte datagrams
//!   (the size of a PING: a header with no body, see `docs/wire.md`) in flight.
//!   A round trip is two datagrams. A datagram not echoed within
//!   [`ECHO_TIMEOUT`] counts as lost and the window is refilled, so a loss
//!   cannot hang the bench.
//!
//! - After the fixed run, the same pings with [`IDLE_NODES`] more nodes
//!   hosted that only wait (the loop's cost per wake in hosted nodes).
//!
//! Criterion reports elements/s, i.e. datagrams/s; one iteration is
//! [`ROUND_TRIPS_PER_ITER`] round trips. After criterion's report, one plain
//! timed run of [`FIXED_DATAGRAMS`] datagrams each prints both rates, their
//! ratio, and the failed pings, retransmissions and lost echoes (all 0 in a
//! healthy run).
//!
//! Run: `cargo bench -p mmp2p-mio --bench driver_throughput`.
//!
//! Without `--bench` (as under `cargo test -p mmp2p-mio --benches`) each side
//! runs once over [`SMOKE_DATAGRAMS`] datagrams and the program exits.

use criterion::{Criterion, Throughput};
use mmp2p_core::config::MAX_PENDING_REQUESTS;
use mmp2p_core::Event;
use mmp2p_mio::{IoStats, NodeKey};
use std::io;
use std::net::{SocketAddr, SocketAddrV6, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Round trips kept in flight on both sides.
const WINDOW: u64 = 24;
const _: () = assert!(WINDOW as usize <= MAX_PENDING_REQUESTS, "the window must fit a node's pending requests");
/// Length of the echoed datagrams: a PING is a 48-byte header with no body.
const DATAGRAM_LEN: usize = 48;
/// Round trips per criterion iteration (each is two datagrams).
const ROUND_TRIPS_PER_ITER: u64 = 1_000;
/// Datagrams of the fixed measurement printed after criterion's report.
const FIXED_DATAGRAMS: u64 = 200_000;
/// Nodes that only wait, hosted beside A and B in the crowded run.
const IDLE_NODES: usize = 1_000;
/// Datagrams of each run in smoke mode (without `--bench`).
const SMOKE_DATAGRAMS: u64 = 1_000;
/// Longest wait for any one ping to complete; a lost datagram is retransmitted
/// after the default request timeout (2 s), so this only catches a dead loop.
const EVENT_WAIT: Duration = Duration::from_secs(60);
/// Silence after which the echo client counts what is in flight as lost.
const ECHO_TIMEOUT: Duration = Duration::from_millis(200);

fn loopback() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 0))
}

mod pair;
use pair::TwoNodes;

/// One driver hosting nodes A and B, its loop in its own thread.
struct MioPair {
    nodes: TwoNodes,
    a: NodeKey,
    b: NodeKey,
    b_addr: SocketAddrV6,
    /// Pings issued so far, over all runs.
    issued: u64,
    /// `PingFailed` events so far, over all runs.
    failed: u64,
}

/// What the pair's sockets went through, once its loop has stopped.
struct MioReport {
    issued: u64,
    failed: u64,
    a: IoStats,
    b: IoStats,
}

impl MioPair {
    /// A and B alone in their driver, or (`idle`) beside that many more
    /// nodes that only wait: the loop's cost per wake in hosted nodes shows.
    fn start(idle: usize) -> MioPair {
        let nodes = TwoNodes::start(|driver, _, _| {
            let config = mmp2p_core::Config::default();
            for i in 0..idle {
                let id = mmp2p_core::Id::from_email(&format!("idle{i}@bench"));
                driver.add_node(loopback(), id, config, 100 + i as u64).expect("an idle node binds a socket on [::1]");
            }
        });
        let (a, (b, b_locator)) = (nodes.a.0, nodes.b);
        MioPair { nodes, a, b, b_addr: b_locator.addr, issued: 0, failed: 0 }
    }

    /// Has node A ping node B.
    fn ping(&mut self) {
        let peer = self.b_addr;
        let queued = self.nodes.handle.command(self.a, move |node, now| {
            node.ping(now, peer).expect("a ping starts (the window is below MAX_PENDING_REQUESTS)");
        });
        assert!(queued, "the driver loop is running");
        self.issued += 1;
    }

    /// Completes `round_trips` pings with [`WINDOW`] outstanding; a failed
    /// ping is counted and issued again. Returns the time taken.
    fn run(&mut self, round_trips: u64) -> Duration {
        let start = Instant::now();
        let mut started = 0;
        let mut completed = 0;
        while started < round_trips.min(WINDOW) {
            self.ping();
            started += 1;
        }
        while completed < round_trips {
            let event = match self.nodes.events.recv_timeout(EVENT_WAIT) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => panic!("no ping completed within {EVENT_WAIT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the driver loop stopped"),
            };
            if event.node != self.a {
                continue;
            }
            match event.event {
                Event::PingSucceeded { .. } => {
                    completed += 1;
                    if started < round_trips {
                        self.ping();
                        started += 1;
                    }
                }
                Event::PingFailed { .. } => {
                    self.failed += 1;
                    self.ping();
                }
                _ => {}
            }
        }
        start.elapsed()
    }

    fn finish(self) -> MioReport {
        let driver = self.nodes.finish();
        MioReport {
            issued: self.issued,
            failed: self.failed,
            a: driver.io_stats(self.a).expect("node A is still hosted"),
            b: driver.io_stats(self.b).expect("node B is still hosted"),
        }
    }
}

/// A client socket and an echo thread, both blocking `std` sockets.
struct StdEcho {
    /// Connected to the echo socket.
    client: UdpSocket,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
    /// Sequence number of the next datagram; it is the first 8 bytes of each.
    next_seq: u64,
    /// Echoes of datagrams numbered below this were given up as lost and are ignored.
    abandoned_before: u64,
    /// Datagrams given up as lost, over all runs.
    lost: u64,
}

/// What the echo pair went through.
struct EchoReport {
    sent: u64,
    echoed: u64,
    lost: u64,
}

impl StdEcho {
    fn start() -> StdEcho {
        let echo = UdpSocket::bind(loopback()).expect("the echo socket binds on [::1]");
        echo.set_read_timeout(Some(ECHO_TIMEOUT)).expect("the echo socket takes a read timeout");
        let echo_addr = echo.local_addr().expect("the echo socket has an address");
        let client = UdpSocket::bind(loopback()).expect("the client socket binds on [::1]");
        client.set_read_timeout(Some(ECHO_TIMEOUT)).expect("the client socket takes a read timeout");
        client.connect(echo_addr).expect("the client socket connects to the echo socket");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("udp-echo".into())
            .spawn(move || {
                let mut buf = [0u8; 2048];
                let mut echoed = 0;
                while !stopped.load(Ordering::Relaxed) {
                    match echo.recv_from(&mut buf) {
                        Ok((0, _)) => break,
                        Ok((len, from)) => {
                            if echo.send_to(&buf[..len], from).is_ok() {
                                echoed += 1;
                            }
                        }
                        // A timeout (to look at `stopped`), or an error the client will see as a loss.
                        Err(_) => {}
                    }
                }
                echoed
            })
            .expect("the echo thread starts");
        StdEcho { client, stop, thread, next_seq: 0, abandoned_before: 0, lost: 0 }
    }

    fn send(&mut self) {
        let mut datagram = [0u8; DATAGRAM_LEN];
        datagram[..8].copy_from_slice(&self.next_seq.to_le_bytes());
        self.next_seq += 1;
        let sent = self.client.send(&datagram).expect("the client sends to the echo socket");
        assert_eq!(sent, DATAGRAM_LEN, "the whole datagram is sent");
    }

    /// Completes `round_trips` echoes with [`WINDOW`] in flight. Returns the time taken.
    fn run(&mut self, round_trips: u64) -> Duration {
        let mut buf = [0u8; 2 * DATAGRAM_LEN];
        let start = Instant::now();
        let (mut started, mut completed, mut in_flight) = (0, 0, 0);
        while completed < round_trips {
            while in_flight < WINDOW && started < round_trips {
                self.send();
                started += 1;
                in_flight += 1;
            }
            match self.client.recv(&mut buf) {
                Ok(len) if len == DATAGRAM_LEN => {
                    let seq = u64::from_le_bytes(buf[..8].try_into().expect("a datagram starts with 8 bytes"));
                    if seq >= self.abandoned_before {
                        completed += 1;
                        in_flight -= 1;
                    }
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    // Nothing for a while: whatever is in flight is lost; send it again.
                    self.lost += in_flight;
                    self.abandoned_before = self.next_seq;
                    started -= in_flight;
                    in_flight = 0;
                }
                Err(e) => panic!("the client could not receive: {e}"),
            }
        }
        start.elapsed()
    }

    fn finish(self) -> EchoReport {
        self.stop.store(true, Ordering::Relaxed);
        // An empty datagram wakes the echo thread at once; the timeout is the fallback.
        let _ = self.client.send(&[]);
        let echoed = self.thread.join().expect("the echo thread ends without panicking");
        EchoReport { sent: self.next_seq, echoed, lost: self.lost }
    }
}

fn per_second(datagrams: u64, elapsed: Duration) -> f64 {
    datagrams as f64 / elapsed.as_secs_f64()
}

fn criterion_benches(c: &mut Criterion, mio: &mut MioPair, echo: &mut StdEcho) {
    let mut group = c.benchmark_group("driver_throughput");
    group.throughput(Throughput::Elements(2 * ROUND_TRIPS_PER_ITER));
    group.bench_function("mio_driver", |b| b.iter_custom(|iters| mio.run(iters * ROUND_TRIPS_PER_ITER)));
    group.bench_function("std_udp_echo", |b| b.iter_custom(|iters| echo.run(iters * ROUND_TRIPS_PER_ITER)));
    group.finish();
}

/// One timed run of `datagrams` on each side; returns both rates.
fn fixed_run(mio: &mut MioPair, echo: &mut StdEcho, datagrams: u64) -> (f64, f64) {
    let round_trips = datagrams / 2;
    let mio_rate = per_second(2 * round_trips, mio.run(round_trips));
    let echo_rate = per_second(2 * round_trips, echo.run(round_trips));
    (mio_rate, echo_rate)
}

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let mut mio = MioPair::start(0);
    let mut echo = StdEcho::start();
    if !bench {
        let (mio_rate, echo_rate) = fixed_run(&mut mio, &mut echo, SMOKE_DATAGRAMS);
        let (mio, echo) = (mio.finish(), echo.finish());
        assert_eq!(mio.issued - mio.failed, SMOKE_DATAGRAMS / 2, "every ping completed");
        assert!(echo.echoed >= SMOKE_DATAGRAMS / 2, "every datagram was echoed");
        println!("smoke run: mio driver {mio_rate:.0} datagrams/s, std UdpSocket echo {echo_rate:.0} datagrams/s");
        return;
    }

    let mut criterion = pair::criterion();
    criterion_benches(&mut criterion, &mut mio, &mut echo);
    criterion.final_summary();

    let (mio_rate, echo_rate) = fixed_run(&mut mio, &mut echo, FIXED_DATAGRAMS);
    let (mio, echo) = (mio.finish(), echo.finish());
    println!();
    println!("fixed run: {FIXED_DATAGRAMS} datagrams each over [::1], {WINDOW} round trips in flight");
    println!("mio driver: {mio_rate:.0} datagrams/s");
    println!("std UdpSocket echo: {echo_rate:.0} datagrams/s");
    println!("ratio (mio driver / std echo): {:.3}", mio_rate / echo_rate);
    let mut crowded = MioPair::start(IDLE_NODES);
    let crowded_rate = per_second(FIXED_DATAGRAMS, crowded.run(FIXED_DATAGRAMS / 2));
    let crowded = crowded.finish();
    assert_eq!(crowded.issued - crowded.failed, FIXED_DATAGRAMS / 2, "every ping completed");
    println!("mio driver hosting {IDLE_NODES} idle nodes besides A and B: {crowded_rate:.0} datagrams/s");
    println!();
    println!(
        "whole run: mio driver {} pings, {} failed, {} retransmissions (node A sent {}, node B received {} sent {}, \
         {} send errors)",
        mio.issued,
        mio.failed,
        mio.a.sent.saturating_sub(mio.issued),
        mio.a.sent,
        mio.b.received,
        mio.b.sent,
        mio.a.send_errors + mio.b.send_errors,
    );
    println!(
        "whole run: std echo {} datagrams sent, {} echoed, {} given up as lost",
        echo.sent, echo.echoed, echo.lost
    );
}
