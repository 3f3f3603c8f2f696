//! The mio driver over real UDP sockets on [::1]: joins, lookups and searches;
//! refused addresses; oversized datagrams and send errors counted, never fatal.

use mmp2p_core::{Config, Event, Id, ResourceLocator};
use mmp2p_mio::{Driver, DriverError, DriverEvent, Handle, NodeKey};
use std::net::{SocketAddr, SocketAddrV6, UdpSocket};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn loopback() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// A running driver: its nodes (key and locator), handle, events and thread.
type Running = (Vec<(NodeKey, ResourceLocator)>, Handle, Receiver<DriverEvent>, JoinHandle<Driver>);

/// A driver with `count` nodes (the first the key node), running in its own thread.
fn start(count: usize) -> Running {
    let (mut driver, handle, events) = Driver::new().expect("driver");
    let nodes: Vec<(NodeKey, ResourceLocator)> = (0..count)
        .map(|i| {
            let id = if i == 0 { Id::KEY_NODE } else { Id::from_email(&format!("user{i}@example.org")) };
            driver.add_node(loopback(), id, Config::default(), i as u64).expect("bound on [::1]")
        })
        .collect();
    let thread = std::thread::spawn(move || {
        driver.run().expect("loop runs");
        driver
    });
    (nodes, handle, events, thread)
}

/// Waits (without sleeping) for an event that `wanted` picks out.
fn wait_for<T>(events: &Receiver<DriverEvent>, mut wanted: impl FnMut(&DriverEvent) -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events.recv_timeout(left).expect("the event came in time");
        if let Some(found) = wanted(&event) {
            return found;
        }
    }
}

/// Every node after the first joins through it, one at a time.
fn join_all(nodes: &[(NodeKey, ResourceLocator)], handle: &Handle, events: &Receiver<DriverEvent>) {
    let key_addr = nodes[0].1.addr;
    for &(node, _) in &nodes[1..] {
        handle.command(node, move |n, now| {
            n.join(now, key_addr).expect("join starts");
        });
        wait_for(events, |e| (e.node == node && matches!(e.event, Event::Joined { .. })).then_some(()));
    }
}

#[test]
fn nodes_join_look_up_and_search_over_loopback() {
    let (nodes, handle, events, thread) = start(6);
    join_all(&nodes, &handle, &events);
    // Every node finds the node responsible for every other node's ID.
    let owner = nodes[3];
    handle.command(owner.0, |n, now| {
        n.share(now, ["loopback.txt"]).expect("shared");
    });
    for &(node, _) in &nodes {
        let key = owner.1.id;
        handle.command(node, move |n, now| {
            n.lookup(now, key).expect("lookup starts");
        });
        let responsible = wait_for(&events, |e| match e.event {
            Event::LookupSucceeded { key: k, responsible, .. } if e.node == node && k == key => Some(responsible),
            _ => None,
        });
        assert_eq!(responsible, owner.1, "a node is responsible for its own ID");
    }
    // A search from another node finds the owner once its STORE is verified.
    let searcher = nodes[5].0;
    let found = (0..20).any(|_| {
        handle.command(searcher, |n, now| {
            n.search(now, "loopback.txt").expect("search starts");
        });
        let (mut owners, deadline) = (Vec::new(), Instant::now() + WAIT);
        loop {
            match events.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("in time") {
                DriverEvent { node, event: Event::SearchResult { owner, .. } } if node == searcher => {
                    owners.push(owner)
                }
                DriverEvent { node, event: Event::SearchComplete { .. } } if node == searcher => break,
                _ => {}
            }
        }
        owners.contains(&owner.1)
    });
    assert!(found, "the search found the owner");
    handle.shutdown();
    let driver = thread.join().expect("loop thread");
    let stats = driver.io_stats(nodes[0].0).expect("node");
    assert!(stats.received > 0 && stats.sent > 0);
    assert_eq!(stats.send_errors, 0);
}

#[test]
fn ipv4_and_mapped_addresses_are_refused() {
    let (mut driver, _handle, _events) = Driver::new().expect("driver");
    for addr in ["127.0.0.1:0", "[::ffff:127.0.0.1]:0"] {
        let err = driver.add_node(addr.parse().unwrap(), Id(1), Config::default(), 1).expect_err(addr);
        assert!(matches!(err, DriverError::NotIpv6(_)), "{addr}: {err}");
        assert!(err.to_string().contains("not an IPv6 address"));
    }
}

#[test]
fn oversized_datagrams_and_send_errors_are_counted_not_fatal() {
    const OVERSIZED: u64 = 40;
    let (nodes, handle, events, thread) = start(2);
    let (node, me) = nodes[0];
    let other = nodes[1].1.addr;
    let raw = UdpSocket::bind("[::1]:0").expect("raw socket");
    // In one segmented send where the kernel offers it, so they may arrive
    // in one buffer (GRO): each is counted.
    let state = quinn_udp::UdpSocketState::new((&raw).into()).expect("socket state");
    let burst = [0x4d; 1300 * OVERSIZED as usize];
    for segments in burst.chunks(1300 * state.max_gso_segments().min(OVERSIZED as usize)) {
        let transmit = quinn_udp::Transmit {
            destination: SocketAddr::V6(me.addr),
            ecn: None,
            contents: segments,
            segment_size: (segments.len() > 1300).then_some(1300),
            src_ip: None,
        };
        state.try_send((&raw).into(), &transmit).expect("sent");
    }
    // Port 0 cannot be sent to: the send fails, the loop goes on.
    let unroutable: SocketAddrV6 = "[::1]:0".parse().unwrap();
    handle.command(node, move |n, now| {
        n.ping(now, unroutable).expect("ping starts");
    });
    // The loop is alive: a ping to the other node is answered.
    handle.command(node, move |n, now| {
        n.ping(now, other).expect("ping starts");
    });
    wait_for(&events, |e| match e.event {
        Event::PingSucceeded { peer, .. } if peer == other => Some(()),
        _ => None,
    });
    handle.shutdown();
    let driver = thread.join().expect("loop thread");
    let stats = driver.io_stats(node).expect("node");
    assert_eq!(stats.oversized, OVERSIZED, "{stats:?}");
    assert!(stats.send_errors >= 1, "{stats:?}");
}

#[test]
fn a_removed_node_is_gone_and_its_neighbours_notice() {
    let (nodes, handle, events, thread) = start(3);
    join_all(&nodes, &handle, &events);
    let (victim, victim_locator) = nodes[2];
    handle.remove(victim);
    // Its neighbours probe it, get no answer and report it down.
    let reporter =
        wait_for(&events, |e| matches!(e.event, Event::PeerDown { peer } if peer == victim_locator).then_some(e.node));
    assert_ne!(reporter, victim);
    // Commands for the removed node are ignored; the loop runs on.
    handle.command(victim, |_, _| panic!("a removed node runs no commands"));
    let other = nodes[1].1.addr;
    handle.command(nodes[0].0, move |n, now| {
        n.ping(now, other).expect("ping starts");
    });
    wait_for(&events, |e| matches!(e.event, Event::PingSucceeded { peer, .. } if peer == other).then_some(()));
    handle.shutdown();
    let driver = thread.join().expect("loop thread");
    assert!(driver.node(victim).is_none() && driver.io_stats(victim).is_none());
}
