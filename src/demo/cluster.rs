//! Many nodes on [::1] in one mio driver, driven step by step from this thread.

use crate::node::files::DiskStorage;
use mmp2p_core::{Config, Event, Id, Instant, Node, RequestId, ResourceLocator};
use mmp2p_mio::{Driver, DriverEvent, Handle, IoStats, NodeKey};
use std::collections::HashSet;
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Clock};

/// How long the cluster waits for any single answer from the loop.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// A running driver and what this thread knows of its nodes.
pub struct Cluster {
    handle: Handle,
    events: Receiver<DriverEvent>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
    /// Every node, by index: its key and locator.
    pub nodes: Vec<(NodeKey, ResourceLocator)>,
    /// Indexes of nodes removed (crashed).
    pub removed: HashSet<usize>,
    /// Indexes of nodes bound but kept out of the ring's truth (an impostor).
    standby: HashSet<usize>,
    /// Each node's files (shared and downloaded), read and written by the loop.
    pub disks: Vec<DiskStorage>,
    /// `PeerDown` events seen so far: (reporting node index, peer).
    pub peers_down: Vec<(usize, ResourceLocator)>,
    /// The live nodes in ring order: (ID, index).
    ring: Vec<(Id, usize)>,
}

/// Why the cluster could not go on.
pub type ClusterError = String;

impl Cluster {
    /// Binds one node per ID on `[::1]:0` — `ids`, then `standby`, which
    /// the ring's truth leaves out — and starts the loop in its own thread.
    pub fn start(ids: &[Id], standby: &[Id], config: Config, seed: u64) -> Result<Cluster, ClusterError> {
        let (mut driver, handle, events) = Driver::new().map_err(|e| format!("event loop: {e}"))?;
        let loopback = "[::1]:0".parse().expect("a valid address");
        let mut nodes = Vec::new();
        for (index, &id) in ids.iter().chain(standby).enumerate() {
            let node_seed = seed.wrapping_mul(1_000_003).wrapping_add(index as u64);
            let added = driver.add_node(loopback, id, config, node_seed).map_err(|e| format!("[::1]: {e}"))?;
            nodes.push(added);
        }
        let disks: Vec<DiskStorage> = nodes.iter().map(|_| DiskStorage::default()).collect();
        for ((key, _), disk) in nodes.iter().zip(&disks) {
            driver.set_storage(*key, Box::new(disk.clone()));
        }
        let thread = std::thread::spawn(move || driver.run());
        let mut ring: Vec<(Id, usize)> =
            nodes.iter().take(ids.len()).enumerate().map(|(i, (_, l))| (l.id, i)).collect();
        ring.sort();
        let (removed, peers_down) = (HashSet::new(), Vec::new());
        let standby = (ids.len()..nodes.len()).collect();
        Ok(Cluster { handle, events, thread: Some(thread), nodes, removed, standby, disks, peers_down, ring })
    }

    /// Indexes of the nodes still running, in the ring's truth.
    pub fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|i| !self.removed.contains(i) && !self.standby.contains(i))
    }

    /// Closes standby node `index`'s socket (it stays out of the ring's truth).
    pub fn dismiss(&mut self, index: usize) {
        self.handle.remove(self.nodes[index].0);
    }

    /// The locator of node `index`.
    pub fn locator(&self, index: usize) -> ResourceLocator {
        self.nodes[index].1
    }

    /// Runs `f` on node `index` inside the loop and returns its result.
    pub fn query<T: Send + 'static>(
        &self,
        index: usize,
        f: impl FnOnce(&mut Node, &IoStats, Instant) -> T + Send + 'static,
    ) -> Result<T, ClusterError> {
        let (tx, rx) = channel();
        self.handle.command_with_io(self.nodes[index].0, move |node, io, now| {
            let _ = tx.send(f(node, io, now));
        });
        rx.recv_timeout(ANSWER_WAIT).map_err(|_| format!("node {index} did not answer its command"))
    }

    /// Crashes node `index`: its socket closes without a LEAVE.
    pub fn remove(&mut self, index: usize) {
        self.handle.remove(self.nodes[index].0);
        self.removed.insert(index);
        self.ring.retain(|&(_, i)| i != index);
    }

    /// Waits up to `limit` for an event `wanted` picks out (from node index,
    /// event); other events are dropped, `PeerDown`s are recorded.
    pub fn wait_event<T>(&mut self, limit: Duration, mut wanted: impl FnMut(usize, &Event) -> Option<T>) -> Option<T> {
        let deadline = Clock::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Clock::now());
            let DriverEvent { node, event } = self.events.recv_timeout(left).ok()?;
            if let Event::PeerDown { peer } = event {
                self.peers_down.push((node.0, peer));
            }
            if let Some(found) = wanted(node.0, &event) {
                return Some(found);
            }
        }
    }

    /// Starts a request on node `index` (`f` returns its id) and returns the id.
    pub fn request(
        &self,
        index: usize,
        f: impl FnOnce(&mut Node, Instant) -> Result<RequestId, mmp2p_core::CommandError> + Send + 'static,
    ) -> Result<RequestId, ClusterError> {
        self.command(index, f)
    }

    /// Runs command `f` on node `index`; its result, or why it was refused.
    pub fn command<T: Send + 'static>(
        &self,
        index: usize,
        f: impl FnOnce(&mut Node, Instant) -> Result<T, mmp2p_core::CommandError> + Send + 'static,
    ) -> Result<T, ClusterError> {
        self.query(index, move |node, _, now| f(node, now))?.map_err(|e| format!("node {index}: {e}"))
    }

    /// Datagrams sent so far by each node's socket (0 for removed nodes).
    pub fn datagrams_sent(&self) -> Result<Vec<u64>, ClusterError> {
        let mut sent = vec![0; self.nodes.len()];
        for index in self.live() {
            sent[index] = self.query(index, |_, io, _| io.sent)?;
        }
        Ok(sent)
    }

    /// Polls `check` every 20 ms until it holds or `limit` passes; the time it took.
    pub fn wait_until(
        &mut self,
        limit: Duration,
        mut check: impl FnMut(&Cluster) -> Result<bool, ClusterError>,
    ) -> Result<Option<Duration>, ClusterError> {
        let start = Clock::now();
        loop {
            if check(self)? {
                return Ok(Some(start.elapsed()));
            }
            if start.elapsed() >= limit {
                return Ok(None);
            }
            // Record what happens meanwhile (peer failures) instead of sleeping blind.
            self.wait_event(Duration::from_millis(20), |_, _| None::<()>);
        }
    }

    /// True if every live node's right neighbour is the next live node on the ring.
    pub fn ring_is_consistent(&self) -> Result<bool, ClusterError> {
        for index in self.live() {
            let successor = self.locator(self.successor(index));
            let right = self.query(index, |node, _, _| node.neighbours().right().copied())?;
            if right != Some(successor) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The live node responsible for `key`: its successor among live nodes.
    pub fn responsible(&self, key: Id) -> usize {
        self.ring[self.ring.partition_point(|(id, _)| *id < key) % self.ring.len()].1
    }

    /// The live node after live node `index` on the ring.
    pub fn successor(&self, index: usize) -> usize {
        let position = self.ring.partition_point(|(id, _)| *id < self.locator(index).id);
        self.ring[(position + 1) % self.ring.len()].1
    }

    /// Stops the loop and waits for its thread.
    pub fn shutdown(&mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}
