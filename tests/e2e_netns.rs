//! End to end across network namespaces: three namespaces joined by a Linux
//! bridge (in a fourth), two `mmp2p node --json` processes in each. Needs
//! root and `ip netns`; without them the test says why and passes.

mod process;

use process::{
    search_until_found, wait_for_peer_down, NodeProcess, Query, BINARY, FAST, JOIN_TIMEOUT, RETRY_PAUSE, SEARCH_ROUNDS,
    SEARCH_TIMEOUT, TEST_PASSWORD,
};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const NAMESPACES: usize = 3;
const NODES_PER_NAMESPACE: usize = 2;

/// Runs `ip ARGS`; the error says what failed.
fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip").args(args).output().map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}: {}", args.join(" "), output.status, String::from_utf8_lossy(&output.stderr).trim()))
    }
}

fn must(result: Result<(), String>) {
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Why the test cannot run here, if it cannot.
fn cannot_run() -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().next());
    if uid != Some("0") {
        return Some(format!("not running as root (uid {})", uid.unwrap_or("unknown")));
    }
    ip(&["netns", "list"]).err().map(|e| format!("`ip netns` is unavailable ({e})"))
}

/// The namespaces and links of one run, deleted on drop (also on panic).
/// Deleting a namespace deletes the veth ends in it, and with them their peers.
struct Topology {
    /// The node namespaces.
    namespaces: Vec<String>,
    /// The namespace holding the bridge.
    bridge: String,
    /// Every namespace created so far, to delete.
    created: Vec<String>,
    /// The node-side veth of each node namespace.
    veths: Vec<String>,
    /// The IPv6 address of each node namespace.
    addrs: Vec<String>,
}

/// Deletes the namespaces left by runs that were killed before their teardown:
/// those named `mmp2p-PID-...` whose process is gone.
fn remove_stale_namespaces() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else { return };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let pid = name.strip_prefix("mmp2p-").and_then(|rest| rest.split('-').next());
        if pid.is_some_and(|pid| pid.parse::<u32>().is_ok() && !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

impl Topology {
    /// Creates the namespaces, the bridge and one veth pair per node namespace.
    /// `Err` if the first namespace cannot even be created (no privileges).
    fn create() -> Result<Topology, String> {
        let pid = std::process::id();
        let mut topology = Topology {
            namespaces: (0..NAMESPACES).map(|i| format!("mmp2p-{pid}-{i}")).collect(),
            bridge: format!("mmp2p-{pid}-br"),
            created: Vec::new(),
            // At most 1 + 7 + 1 + 1 characters: within the 15 allowed.
            veths: (0..NAMESPACES).map(|i| format!("v{pid}n{i}")).collect(),
            addrs: (0..NAMESPACES).map(|i| format!("fd42:{:x}:{:x}::{}", pid & 0xffff, pid >> 16, i + 1)).collect(),
        };
        let bridge = topology.bridge.clone();
        ip(&["netns", "add", &bridge])?;
        topology.created.push(bridge.clone());
        must(ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]));
        must(ip(&["-n", &bridge, "link", "set", "br0", "up"]));
        for i in 0..NAMESPACES {
            let ns = topology.namespaces[i].clone();
            must(ip(&["netns", "add", &ns]));
            topology.created.push(ns.clone());
            let veth = topology.veths[i].clone();
            let port = format!("v{pid}b{i}");
            must(ip(&["link", "add", &veth, "netns", &ns, "type", "veth", "peer", "name", &port, "netns", &bridge]));
            must(ip(&["-n", &bridge, "link", "set", &port, "master", "br0"]));
            must(ip(&["-n", &bridge, "link", "set", &port, "up"]));
            let addr = format!("{}/64", topology.addrs[i]);
            must(ip(&["-n", &ns, "addr", "add", &addr, "dev", &veth, "nodad"]));
            must(ip(&["-n", &ns, "link", "set", "lo", "up"]));
            must(ip(&["-n", &ns, "link", "set", &veth, "up"]));
        }
        Ok(topology)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.created.drain(..).rev() {
            if let Err(e) = ip(&["netns", "del", &ns]) {
                eprintln!("e2e_netns teardown: {e}");
            }
        }
    }
}

fn files(n: usize) -> [String; 2] {
    [format!("ns-file{n}-a.txt"), format!("ns-file{n}-b.txt")]
}

fn email(n: usize) -> String {
    format!("netns-user{n}@example.org")
}

/// Starts node `n` inside namespace `ns`, listening on `addr`.
fn spawn_in(ns: &str, n: usize, addr: &str, dir: &Path, extra: &[String]) -> NodeProcess {
    let share = dir.join("share");
    fs::create_dir_all(&share).unwrap();
    for file in files(n) {
        fs::write(share.join(&file), file.as_bytes()).unwrap();
    }
    let mut command = Command::new("ip");
    command.env("MMP2P_PASSWORD", TEST_PASSWORD);
    command.args(["netns", "exec", ns, BINARY, "node", "--json", "--listen", &format!("[{addr}]:0")]);
    command.arg("--access-file").arg(dir.join("access.dat")).arg("--share").arg(&share).args(FAST).args(extra);
    if n == 0 {
        command.arg("--key");
    } else {
        command.args(["--email", &email(n)]);
    }
    let node = NodeProcess::spawn_command(&format!("node{n} in {ns}"), command);
    // `ip netns exec` enters the namespace and execs the program: the
    // process we started is the node itself, so killing it kills the node.
    let exe = fs::read_link(format!("/proc/{}/exe", node.pid())).unwrap_or_default();
    assert_eq!(
        exe,
        fs::canonicalize(BINARY).unwrap(),
        "the process started by `ip netns exec` is not the node itself\n{}",
        node.describe()
    );
    node
}

#[test]
fn e2e_netns() {
    if let Some(reason) = cannot_run() {
        println!("e2e_netns skipped: {reason}");
        return;
    }
    remove_stale_namespaces();
    let topology = match Topology::create() {
        Ok(topology) => topology,
        Err(e) => {
            println!("e2e_netns skipped: cannot create a network namespace ({e})");
            return;
        }
    };
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    // Declared after the topology, so dropped (killed) before the namespaces are deleted.
    let mut nodes: Vec<NodeProcess> = Vec::new();
    let namespace_of = |n: usize| n / NODES_PER_NAMESPACE;
    for n in 0..NAMESPACES * NODES_PER_NAMESPACE {
        let ns = namespace_of(n);
        let mut extra = Vec::new();
        if n > 0 {
            extra.extend(["--key-node".to_owned(), nodes[0].addr.clone()]);
        }
        // A friend in the previous namespace (not the key node, which has no
        // e-mail address): routing shortcuts across the bridge.
        if n > NODES_PER_NAMESPACE {
            let f = n - NODES_PER_NAMESPACE;
            extra.extend(["--friend".to_owned(), format!("{}={}", email(f), nodes[f].addr)]);
        }
        let dir = root.path().join(format!("node{n}"));
        nodes.push(spawn_in(&topology.namespaces[ns], n, &topology.addrs[ns], &dir, &extra));
    }
    for node in &nodes {
        node.wait_event("joined", JOIN_TIMEOUT, |_| true);
    }
    let joined = started.elapsed();

    // Every node searches for a file of a node in another namespace.
    let count = nodes.len();
    let mut queries: Vec<Query> = (0..count)
        .map(|n| {
            let owner = (n + NODES_PER_NAMESPACE + n % 2) % count;
            assert_ne!(namespace_of(owner), namespace_of(n));
            Query::new(n, files(owner)[n % 2].clone(), nodes[owner].addr.clone())
        })
        .collect();
    let rounds_before = search_until_found(&mut nodes, &mut queries, SEARCH_ROUNDS, RETRY_PAUSE, SEARCH_TIMEOUT);

    // Cut the last namespace off: its link goes down.
    let cut = NAMESPACES - 1;
    must(ip(&["-n", &topology.namespaces[cut], "link", "set", &topology.veths[cut], "down"]));
    let cut_at = Instant::now();
    let (cut_off, remaining): (Vec<usize>, Vec<usize>) = (0..count).partition(|&n| namespace_of(n) == cut);
    wait_for_peer_down(&nodes, &cut_off, &remaining, Duration::from_secs(30));
    let detected = cut_at.elapsed();

    // The remaining four still find each other's files.
    let mut queries: Vec<Query> = remaining
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| {
            let owner = remaining[(i + 1) % remaining.len()];
            let other = remaining[(i + 2) % remaining.len()];
            [
                Query::new(n, files(owner)[0].clone(), nodes[owner].addr.clone()),
                Query::new(n, files(other)[1].clone(), nodes[other].addr.clone()),
            ]
        })
        .collect();
    let rounds_after = search_until_found(&mut nodes, &mut queries, SEARCH_ROUNDS, RETRY_PAUSE, SEARCH_TIMEOUT);
    for node in &nodes {
        node.assert_only_json();
    }
    let link_down = cut_off.iter().filter(|&&c| nodes[c].seen(|v| v["event"] == "link_down")).count();
    println!(
        "e2e_netns: {count} nodes in {NAMESPACES} namespaces joined in {joined:.1?}; cross-namespace searches found \
         their owners in {rounds_before} rounds; {} cut off, reported down after {detected:.1?} ({link_down} of them \
         reported link_down); {} searches among the remaining {} found their owners in {rounds_after} rounds; total \
         {:.1?}",
        cut_off.len(),
        queries.len(),
        remaining.len(),
        started.elapsed()
    );
    // Kill the nodes before the namespaces go.
    drop(nodes);
    drop(topology);
}
