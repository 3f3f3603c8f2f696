//! End to end: real `mmp2p node --json` processes on [::1], driven through
//! their standard input and output.

mod process;

use process::{
    node_command, search_until_found, wait_for_peer_down, NodeProcess, Query, ANSWER_TIMEOUT, FAST, JOIN_TIMEOUT,
    RETRY_PAUSE, SEARCH_ROUNDS, SEARCH_TIMEOUT,
};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn email(n: usize) -> String {
    format!("user{n}@example.org")
}

/// Files shared by node `n`.
fn files(n: usize) -> [String; 2] {
    [format!("file{n}-a.txt"), format!("file{n}-b.txt")]
}

/// A node's directory: `share/` with its files, and its access file beside it.
struct NodeDir {
    share: PathBuf,
    access: PathBuf,
}

fn node_dir(root: &Path, name: &str, shared: &[String]) -> NodeDir {
    let dir = root.join(name);
    let share = dir.join("share");
    fs::create_dir_all(&share).unwrap();
    for file in shared {
        fs::write(share.join(file), file.as_bytes()).unwrap();
    }
    NodeDir { share, access: dir.join("access.dat") }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn path_arg(path: &Path) -> String {
    path.to_str().expect("UTF-8 temporary path").to_owned()
}

/// Starts the key node.
fn key_node(name: &str, dir: &NodeDir, extra: &[String]) -> NodeProcess {
    let mut list = args(&["--listen", "[::1]:0", "--key", "--access-file"]);
    list.push(path_arg(&dir.access));
    list.extend(args(&FAST));
    list.extend(extra.iter().cloned());
    NodeProcess::spawn(name, list)
}

/// Starts user `n`'s node, joining through `key_addr`.
fn user_node(name: &str, n: usize, key_addr: &str, dir: &NodeDir, extra: &[String]) -> NodeProcess {
    let mut list = args(&["--listen", "[::1]:0", "--email", &email(n), "--key-node", key_addr, "--access-file"]);
    list.push(path_arg(&dir.access));
    list.extend(args(&FAST));
    list.extend(extra.iter().cloned());
    NodeProcess::spawn(name, list)
}

fn wait_joined(node: &NodeProcess) -> Value {
    node.wait_event("joined", JOIN_TIMEOUT, |_| true)
}

#[test]
fn e2e_loopback_20_nodes() {
    const NODES: usize = 20;
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let mut nodes: Vec<NodeProcess> = Vec::new();
    let dirs: Vec<NodeDir> = (0..NODES).map(|n| node_dir(root.path(), &format!("node{n}"), &files(n))).collect();

    let share = |n: usize| vec!["--share".to_owned(), path_arg(&dirs[n].share)];
    nodes.push(key_node("node0 (key)", &dirs[0], &share(0)));
    let key_addr = nodes[0].addr.clone();
    for (n, dir) in dirs.iter().enumerate().skip(1) {
        let mut extra = share(n);
        // Friends among the earlier users (the key node has no e-mail address).
        let mut friends = vec![n - 1, n / 2];
        friends.retain(|&f| f >= 1);
        friends.dedup();
        for f in friends {
            extra.push("--friend".to_owned());
            extra.push(format!("{}={}", email(f), nodes[f].addr));
        }
        nodes.push(user_node(&format!("node{n}"), n, &key_addr, dir, &extra));
    }
    for node in &nodes {
        wait_joined(node);
    }
    let joined = started.elapsed();

    // Every node searches for a file of another node.
    let mut queries: Vec<Query> = (0..NODES)
        .map(|n| {
            let owner = (n + 7) % NODES;
            Query::new(n, files(owner)[n % 2].clone(), nodes[owner].addr.clone())
        })
        .collect();
    let rounds_before = search_until_found(&mut nodes, &mut queries, SEARCH_ROUNDS, RETRY_PAUSE, SEARCH_TIMEOUT);
    let attempts_before: u32 = queries.iter().map(|q| q.attempts).sum();
    let found = started.elapsed();

    // SIGKILL five nodes, never the key node.
    let killed: Vec<usize> = vec![3, 7, 11, 14, 18];
    for &k in &killed {
        nodes[k].kill();
    }
    let killed_at = Instant::now();
    let live: Vec<usize> = (0..NODES).filter(|n| !killed.contains(n)).collect();
    wait_for_peer_down(&nodes, &killed, &live, Duration::from_secs(30));
    let detected = killed_at.elapsed();

    // Every live node searches for files of live owners.
    let mut queries: Vec<Query> = live
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let owner = live[(i + 5) % live.len()];
            Query::new(n, files(owner)[(n + 1) % 2].clone(), nodes[owner].addr.clone())
        })
        .collect();
    let rounds_after = search_until_found(&mut nodes, &mut queries, SEARCH_ROUNDS, RETRY_PAUSE, SEARCH_TIMEOUT);
    let attempts_after: u32 = queries.iter().map(|q| q.attempts).sum();

    for node in &nodes {
        node.assert_only_json();
    }
    println!(
        "e2e_loopback_20_nodes: {NODES} nodes joined in {joined:.1?}; {NODES} searches found their owners after {} \
         retries in {rounds_before} rounds, by {found:.1?}; {} nodes killed, all reported down after {detected:.1?}; \
         {} searches among the {} live nodes found their owners after {} retries in {rounds_after} rounds; total \
         {:.1?}",
        attempts_before - NODES as u32,
        killed.len(),
        live.len(),
        live.len(),
        attempts_after - live.len() as u32,
        started.elapsed()
    );
}

/// The entries of an access file: `(ID, address)` per line, comments skipped.
fn access_entries(path: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, addr) = l.split_once(' ').unwrap_or_else(|| panic!("bad access file line {l:?}"));
            (id.to_owned(), addr.trim().to_owned())
        })
        .collect()
}

const KEY_ID: &str = "00000000000000000000000000000000";

#[test]
fn access_file() {
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let (k_dir, a_dir, b_dir) =
        (node_dir(root.path(), "k", &[]), node_dir(root.path(), "a", &[]), node_dir(root.path(), "b", &[]));
    let mut k = key_node("K (key)", &k_dir, &[]);
    let a = user_node("A", 1, &k.addr, &a_dir, &[]);
    wait_joined(&a);
    let mut b = user_node("B", 2, &k.addr, &b_dir, &[]);
    wait_joined(&b);
    // The access file is written after the join, before the next command's answer.
    b.status();
    let entries = access_entries(&b_dir.access);
    assert!(
        entries.contains(&(KEY_ID.to_owned(), k.addr.clone())),
        "B's access file {} lacks the key node {}: {entries:?}",
        b_dir.access.display(),
        k.addr
    );
    assert!(entries.len() >= 2, "B's access file lists only {entries:?}");

    // B quits gracefully; the key node dies.
    let status = b.quit(ANSWER_TIMEOUT);
    assert!(status.success(), "B exited with {status}\n{}", b.describe());
    let entries = access_entries(&b_dir.access);
    assert!(entries.iter().any(|(_, addr)| *addr == a.addr), "B's access file at exit lacks A {}: {entries:?}", a.addr);
    let dead_key = k.addr.clone();
    k.kill();

    // B comes back with the same access file and the dead key node: it joins through A.
    let restarted = Instant::now();
    let b = user_node("B (restarted)", 2, &dead_key, &b_dir, &[]);
    let joined = wait_joined(&b);
    let neighbours = [&joined["left"]["addr"], &joined["right"]["addr"]];
    assert!(neighbours.contains(&&json!(a.addr)), "B joined without A as a neighbour: {joined}");
    let rejoin = restarted.elapsed();

    // A corrupt access file: an error naming the file, then the join through --key-node.
    let k2_dir = node_dir(root.path(), "k2", &[]);
    let k2 = key_node("K2 (key)", &k2_dir, &[]);
    let c_dir = node_dir(root.path(), "c", &[]);
    fs::write(&c_dir.access, "garbage line\n").unwrap();
    let mut c = user_node("C", 3, &k2.addr, &c_dir, &[]);
    let error = c.wait_event("error", ANSWER_TIMEOUT, |_| true);
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&path_arg(&c_dir.access)) && message.contains("falling back to --key-node"),
        "the error does not name {} and the fallback: {error}",
        c_dir.access.display()
    );
    wait_joined(&c);
    let events: Vec<Value> = c.stdout_lines().iter().map(|v| v["event"].clone()).collect();
    assert_eq!(events[..2], [json!("listening"), json!("error")], "the error comes first: {events:?}");
    c.status();
    let entries = access_entries(&c_dir.access);
    assert!(entries.contains(&(KEY_ID.to_owned(), k2.addr.clone())), "C's rewritten access file: {entries:?}");
    for node in [&a, &b, &c, &k2] {
        node.assert_only_json();
    }
    println!("access_file: B rejoined through A in {rejoin:.1?}; total {:.1?}", started.elapsed());
}

/// The message of an `error` line, or a panic if the line is something else.
fn error_message(line: &Value) -> &str {
    match (line["event"].as_str(), line["message"].as_str()) {
        (Some("error"), Some(message)) => message,
        _ => panic!("expected an error line, got {line}"),
    }
}

#[test]
fn cli_bad_input_keeps_running() {
    let root = tempfile::tempdir().unwrap();
    let (k_dir, a_dir) = (node_dir(root.path(), "k", &["song.mp3".to_owned()]), node_dir(root.path(), "a", &[]));
    let missing = path_arg(&root.path().join("missing-dir"));
    // Debug logs on: they must all go to stderr, stdout stays JSON.
    let spawn = |name: &str, list: Vec<String>| {
        let mut command = node_command(list);
        command.env("RUST_LOG", "debug");
        NodeProcess::spawn_command(name, command)
    };
    let mut list = args(&["--listen", "[::1]:0", "--key", "--access-file", &path_arg(&k_dir.access), "--share"]);
    list.push(path_arg(&k_dir.share));
    list.extend(args(&FAST));
    let k = spawn("K (key)", list);
    // A shares a directory that does not exist: an error naming it, and A runs on.
    let mut list = args(&["--listen", "[::1]:0", "--email", &email(1), "--key-node", &k.addr, "--access-file"]);
    list.extend([path_arg(&a_dir.access), "--share".to_owned(), missing.clone()]);
    list.extend(args(&FAST));
    let mut a = spawn("A", list);
    let error = a.wait_event("error", ANSWER_TIMEOUT, |_| true);
    assert!(error_message(&error).contains(&missing), "the error does not name {missing}: {error}");
    wait_joined(&a);

    let error = a.ask(json!({"cmd": "dance", "req": 4242}), ANSWER_TIMEOUT);
    assert!(error_message(&error).contains("unknown command \"dance\""), "{error}");
    assert_eq!(error["req"], 4242, "{error}");
    a.send_line("{\"cmd\":");
    let error = a.wait_event("error", ANSWER_TIMEOUT, |_| true);
    assert!(error_message(&error).contains("bad JSON"), "{error}");
    a.send_line("not json at all");
    let error = a.wait_event("error", ANSWER_TIMEOUT, |_| true);
    assert!(error_message(&error).contains("bad JSON"), "{error}");
    let error = a.ask(json!({"cmd": "add-friend", "email": "bob@example.org", "addr": "nowhere"}), ANSWER_TIMEOUT);
    assert!(error_message(&error).contains("bad address \"nowhere\""), "{error}");
    let error =
        a.ask(json!({"cmd": "add-friend", "email": "bob@example.org", "addr": "127.0.0.1:4000"}), ANSWER_TIMEOUT);
    assert!(error_message(&error).contains("IPv6"), "{error}");
    let error = a.ask(json!({"cmd": "search"}), ANSWER_TIMEOUT);
    assert!(error_message(&error).contains("usage: search"), "{error}");
    for bad in ["nul\u{0}name", "../etc/passwd"] {
        let error = a.ask(json!({"cmd": "share", "names": [bad]}), ANSWER_TIMEOUT);
        assert!(error_message(&error).contains("control character or a path separator"), "{bad:?}: {error}");
    }
    let status = a.status();
    assert_eq!(status["state"], "joined", "{status}");
    assert_eq!(status["shared"], 0, "{status}");
    assert_eq!(status["friends"], 0, "{status}");

    // Still working: A finds the key node's file.
    let mut nodes = vec![k, a];
    let mut queries = vec![Query::new(1, "song.mp3", nodes[0].addr.clone())];
    search_until_found(&mut nodes, &mut queries, SEARCH_ROUNDS, RETRY_PAUSE, SEARCH_TIMEOUT);
    for node in nodes.iter_mut().rev() {
        let status = node.quit(ANSWER_TIMEOUT);
        assert!(status.success(), "{} exited with {status}\n{}", node.name, node.describe());
        node.assert_only_json();
        let stderr = node.stderr_text();
        // The default filter shows warnings only: info lines come from RUST_LOG.
        assert!(stderr.contains(" INFO "), "{}: no logs on stderr:\n{stderr}", node.name);
    }
}

/// Runs a node that must fail at startup: its exit status, stdout lines and stderr.
fn start_failure(name: &str, list: Vec<String>) -> (std::process::ExitStatus, Vec<Value>, String) {
    let mut node = NodeProcess::start(name, node_command(list));
    let status = node.wait_exit(ANSWER_TIMEOUT);
    node.assert_only_json();
    (status, node.stdout_lines(), node.stderr_text())
}

#[test]
fn cli_startup_errors_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let access = path_arg(&root.path().join("access.dat"));

    let (status, _, stderr) =
        start_failure("IPv4", args(&["--listen", "127.0.0.1:0", "--key", "--access-file", &access]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("IPv6"), "{stderr}");

    let held = std::net::UdpSocket::bind("[::1]:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let listen = format!("[::1]:{port}");
    let (status, stdout, stderr) =
        start_failure("in use", args(&["--listen", &listen, "--key", "--access-file", &access]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in use"), "{stderr}");
    assert!(stdout.iter().all(|v| v["event"] == "error"), "{stdout:?}");
    drop(held);

    let list = args(&["--listen", "[::1]:0", "--email", "x@example.org", "--access-file", &access]);
    let (status, _, stderr) = start_failure("nothing to join", list);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--key-node"), "{stderr}");
}

/// The public key a node started with `list` (and `password`, if any) shows, after which it quits.
fn listening_key(name: &str, list: &[String], password: Option<&str>) -> String {
    let mut command = node_command(list);
    command.env_remove("MMP2P_PASSWORD");
    if let Some(password) = password {
        command.env("MMP2P_PASSWORD", password);
    }
    let mut node = NodeProcess::spawn_command(name, command);
    let listening = node.stdout_lines().first().cloned().expect("the listening line");
    let status = node.quit(ANSWER_TIMEOUT);
    assert!(status.success(), "{name} exited with {status}\n{}", node.describe());
    listening["key"].as_str().expect("a key").to_owned()
}

#[test]
fn identity_keys_come_from_the_password_or_the_key_file() {
    let root = tempfile::tempdir().unwrap();
    let access = path_arg(&root.path().join("access.dat"));
    let user = args(&["--listen", "[::1]:0", "--email", "carol@example.org", "--key-node", "[::1]:9", "--access-file"]);
    let user: Vec<String> = user.into_iter().chain([access.clone()]).collect();
    // The same address and password give the same key, from the environment or a file.
    let first = listening_key("carol", &user, Some("carol's secret"));
    assert_eq!(first.len(), 64, "{first}");
    assert_eq!(listening_key("carol again", &user, Some("carol's secret")), first);
    let password_file = root.path().join("password");
    fs::write(&password_file, "carol's secret\n").unwrap();
    let mut from_file = user.clone();
    from_file.extend(["--password-file".to_owned(), path_arg(&password_file)]);
    assert_eq!(listening_key("carol from a file", &from_file, None), first);
    // Another password, another identity.
    assert_ne!(listening_key("carol mistyped", &user, Some("carol's secreT")), first);
    // No password and no terminal to ask on: a clear refusal, status 2.
    let mut command = node_command(&user);
    command.env_remove("MMP2P_PASSWORD");
    let mut node = NodeProcess::start("carol without a password", command);
    let status = node.wait_exit(ANSWER_TIMEOUT);
    assert_eq!(status.code(), Some(2), "{}", node.describe());
    assert!(node.stderr_text().contains("a password is needed for carol@example.org"), "{}", node.describe());

    // The key node keeps a random key beside its access file, the same after a restart.
    let key_dir = root.path().join("key");
    fs::create_dir(&key_dir).unwrap();
    let key_node = args(&["--listen", "[::1]:0", "--key", "--access-file", &path_arg(&key_dir.join("k.dat"))]);
    let made = listening_key("key node", &key_node, None);
    assert_eq!(listening_key("key node again", &key_node, None), made);
    assert_ne!(made, first);
    // A corrupt key file stops it, named, and is left as it was.
    let identity_file = key_dir.join("identity.key");
    fs::write(&identity_file, "garbage\n").unwrap();
    let (status, _, stderr) = start_failure("corrupt key", key_node);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&path_arg(&identity_file)) && stderr.contains("not a key"), "{stderr}");
    assert_eq!(fs::read_to_string(&identity_file).unwrap(), "garbage\n");
}

/// Starts user 1's node with `password`, joining through `key_addr`.
fn alice_with(name: &str, password: &str, key_addr: &str, dir: &NodeDir) -> NodeProcess {
    let mut list = args(&["--listen", "[::1]:0", "--email", &email(1), "--key-node", key_addr, "--access-file"]);
    list.push(path_arg(&dir.access));
    list.extend(args(&FAST));
    let mut command = node_command(&list);
    command.env("MMP2P_PASSWORD", password);
    NodeProcess::spawn_command(name, command)
}

/// Runs an impostor of user 1 (another password) until it exits: status 3,
/// with the reason and a clear message.
fn impostor_is_refused(name: &str, key_addr: &str, dir: &NodeDir) {
    let mut impostor = alice_with(name, "not alice's password", key_addr, dir);
    let status = impostor.wait_exit(JOIN_TIMEOUT);
    assert_eq!(status.code(), Some(3), "{}", impostor.describe());
    assert!(
        impostor.seen(|l| l["event"] == "join_failed" && l["reason"] == "id_registered"),
        "{}",
        impostor.describe()
    );
    let error = impostor.seen(|l| {
        l["event"] == "error" && l["message"].as_str().is_some_and(|m| m.contains("registered with another password"))
    });
    assert!(error, "{}", impostor.describe());
}

#[test]
fn a_registered_email_refuses_another_password_and_its_owner_takes_over() {
    let root = tempfile::tempdir().unwrap();
    let mut key = key_node("key node", &node_dir(root.path(), "key", &[]), &[]);
    let key_addr = key.addr.clone();
    let mut alice = alice_with("alice", process::TEST_PASSWORD, &key_addr, &node_dir(root.path(), "alice", &[]));
    alice.wait_event("joined", JOIN_TIMEOUT, |_| true);

    // Another password while alice runs: refused, and alice is told.
    impostor_is_refused("impostor", &key_addr, &node_dir(root.path(), "impostor", &[]));
    alice.wait_event("identity_claimed", ANSWER_TIMEOUT, |_| true);

    // Alice on a second device, with her password: the first steps aside and exits with status 4.
    let mut laptop =
        alice_with("alice's laptop", process::TEST_PASSWORD, &key_addr, &node_dir(root.path(), "laptop", &[]));
    alice.wait_event("taken_over", JOIN_TIMEOUT, |l| l["by"] == laptop.addr.as_str());
    let status = alice.wait_exit(JOIN_TIMEOUT);
    assert_eq!(status.code(), Some(4), "{}", alice.describe());
    laptop.wait_event("joined", JOIN_TIMEOUT, |_| true);

    // After alice's last device stops, her registration stays: still refused.
    assert!(laptop.quit(ANSWER_TIMEOUT).success(), "{}", laptop.describe());
    impostor_is_refused("impostor again", &key_addr, &node_dir(root.path(), "impostor2", &[]));

    // And with the right password she is back.
    let mut phone =
        alice_with("alice's phone", process::TEST_PASSWORD, &key_addr, &node_dir(root.path(), "phone", &[]));
    phone.wait_event("joined", JOIN_TIMEOUT, |_| true);
    assert!(phone.quit(ANSWER_TIMEOUT).success(), "{}", phone.describe());
    assert!(key.quit(ANSWER_TIMEOUT).success(), "{}", key.describe());
}

/// User `a` asks user `b` to be friends and `b` accepts; returns when `a` is told.
fn befriend(a: &mut NodeProcess, b: &mut NodeProcess, b_email: &str) {
    let done = a.ask(json!({"cmd": "request", "email": b_email, "text": "hi, it's me"}), ANSWER_TIMEOUT);
    assert_eq!(done["event"], "done", "{}", a.describe());
    let a_id = a.id.clone();
    b.wait_event("friend_request", JOIN_TIMEOUT, |l| l["from"]["id"] == a_id.as_str());
    let accepted = b.ask(json!({"cmd": "accept", "friend": a_id}), ANSWER_TIMEOUT);
    assert_eq!(accepted["event"], "done", "{}", b.describe());
    let b_id = b.id.clone();
    a.wait_event("friend_accepted", ANSWER_TIMEOUT, |l| l["friend"] == b_id.as_str());
}

/// `node`'s `message` reports from `from`, in order: their texts.
fn messages_from(node: &NodeProcess, from: &str) -> Vec<String> {
    let lines = node.stdout_lines();
    let from_friend = lines.iter().filter(|l| l["event"] == "message" && l["from"] == from);
    from_friend.map(|l| l["text"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Starts user `n`, its data directory beside its access file.
fn messenger_user(root: &Path, n: usize, key_addr: &str) -> NodeProcess {
    let dir = node_dir(root, &format!("user{n}"), &[]);
    user_node(&format!("user{n}"), n, key_addr, &dir, &[])
}

/// Two users befriend, chat with receipts; one quits; messages to it wait
/// as mail; it comes back (the same data directory) and reads them once.
#[test]
fn e2e_messenger_chat_and_offline_messages() {
    let root = tempfile::tempdir().unwrap();
    let key = key_node("key node", &node_dir(root.path(), "key", &[]), &[]);
    let key_addr = key.addr.clone();
    let mut users: Vec<NodeProcess> = (1..=3).map(|n| messenger_user(root.path(), n, &key_addr)).collect();
    for user in &users {
        wait_joined(user);
    }
    let (alice_slot, rest) = users.split_at_mut(1);
    let (alice, bob) = (&mut alice_slot[0], &mut rest[0]);
    befriend(alice, bob, &email(2));
    let (alice_id, bob_id) = (alice.id.clone(), bob.id.clone());
    let said = alice.ask(json!({"cmd": "say", "friend": email(2), "text": "hello bob"}), ANSWER_TIMEOUT);
    assert_eq!((said["event"].as_str(), said["seq"].as_u64()), (Some("said"), Some(1)), "{}", alice.describe());
    bob.wait_event("message", ANSWER_TIMEOUT, |l| l["from"] == alice_id.as_str() && l["text"] == "hello bob");
    alice.wait_event("delivered", ANSWER_TIMEOUT, |l| l["friend"] == bob_id.as_str() && l["seq"] == 1);
    let reply = bob.ask(json!({"cmd": "say", "friend": alice_id, "text": "hi alice"}), ANSWER_TIMEOUT);
    assert_eq!(reply["event"], "said", "{}", bob.describe());
    alice.wait_event("message", ANSWER_TIMEOUT, |l| l["text"] == "hi alice");

    // Bob quits; Alice sees him go offline, and what she says waits.
    assert!(bob.quit(ANSWER_TIMEOUT).success(), "{}", bob.describe());
    alice.wait_event("presence", ANSWER_TIMEOUT, |l| l["friend"] == bob_id.as_str() && l["status"] == "offline");
    let waiting = ["are you there?", "call me when you are back"];
    for text in waiting {
        let said = alice.ask(json!({"cmd": "say", "friend": bob_id, "text": text}), ANSWER_TIMEOUT);
        assert_eq!(said["event"], "said", "{}", alice.describe());
    }
    std::thread::sleep(Duration::from_secs(3));

    // Bob comes back with the same data directory: the mail is delivered, once.
    let mut bob = messenger_user(root.path(), 2, &key_addr);
    wait_joined(&bob);
    for text in waiting {
        bob.wait_event("message", JOIN_TIMEOUT, |l| l["from"] == alice_id.as_str() && l["text"] == text);
    }
    for seq in [2, 3] {
        alice.wait_event("delivered", JOIN_TIMEOUT, |l| l["friend"] == bob_id.as_str() && l["seq"] == seq);
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(messages_from(&bob, &alice_id), waiting, "each waiting message once: {}", bob.describe());
    let history = bob.ask(json!({"cmd": "history", "friend": alice_id}), ANSWER_TIMEOUT);
    let texts: Vec<&str> =
        history["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["hello bob", "hi alice", "are you there?", "call me when you are back"], "{history}");
    alice.assert_only_json();
    bob.assert_only_json();
}

/// Contact groups, contacts and the conversation survive a restart.
#[test]
fn groups_persist_across_restart() {
    let root = tempfile::tempdir().unwrap();
    let key = key_node("key node", &node_dir(root.path(), "key", &[]), &[]);
    let key_addr = key.addr.clone();
    let mut alice = messenger_user(root.path(), 1, &key_addr);
    let mut bob = messenger_user(root.path(), 2, &key_addr);
    wait_joined(&alice);
    wait_joined(&bob);
    befriend(&mut alice, &mut bob, &email(2));
    for command in [
        json!({"cmd": "group-create", "group": "family"}),
        json!({"cmd": "group-create", "group": "work"}),
        json!({"cmd": "group-rename", "group": "work", "to": "office"}),
        json!({"cmd": "group-move", "friend": email(2), "group": "family"}),
    ] {
        let answer = alice.ask(command.clone(), ANSWER_TIMEOUT);
        assert_eq!(answer["event"], "groups", "{command}: {answer}");
    }
    let said = alice.ask(json!({"cmd": "say", "friend": email(2), "text": "see you"}), ANSWER_TIMEOUT);
    assert_eq!(said["event"], "said");
    alice.wait_event("delivered", ANSWER_TIMEOUT, |_| true);
    let before = alice.ask(json!({"cmd": "groups"}), ANSWER_TIMEOUT);
    assert!(alice.quit(ANSWER_TIMEOUT).success(), "{}", alice.describe());
    // One file of the data directory is damaged meanwhile: named, and left out.
    let data_dir = root.path().join("user1").join(format!("mmp2p-{}", &alice.id[..8]));
    let requests = data_dir.join("requests.json");
    fs::write(&requests, "{\"incoming\": [").unwrap();

    let mut alice = messenger_user(root.path(), 1, &key_addr);
    let named = alice.wait_event("error", ANSWER_TIMEOUT, |l| {
        l["message"].as_str().is_some_and(|m| m.contains(&path_arg(&requests)) && m.contains("corrupt"))
    });
    assert!(named["message"].as_str().is_some_and(|m| m.contains("starting without it")), "{named}");
    let after = alice.ask(json!({"cmd": "groups"}), ANSWER_TIMEOUT);
    assert_eq!(after["groups"], before["groups"], "the groups and their members, as they were");
    assert_eq!(after["groups"][0]["name"], "family");
    assert_eq!(after["groups"][0]["members"], json!([email(2)]));
    assert_eq!(after["groups"][1]["name"], "office");
    let contacts = alice.ask(json!({"cmd": "contacts"}), ANSWER_TIMEOUT);
    assert_eq!(contacts["contacts"][0]["id"], bob.id.as_str(), "{contacts}");
    assert_eq!(contacts["contacts"][0]["group"], "family", "{contacts}");
    let history = alice.ask(json!({"cmd": "history", "friend": email(2)}), ANSWER_TIMEOUT);
    assert_eq!(history["messages"][0]["text"], "see you", "{history}");
    assert_eq!(history["messages"][0]["delivered"], true, "{history}");
    // The conversation goes on where it stopped.
    wait_joined(&alice);
    let said = alice.ask(json!({"cmd": "say", "friend": email(2), "text": "back again"}), ANSWER_TIMEOUT);
    assert_eq!(said["seq"], 2, "{said}");
    bob.wait_event("message", JOIN_TIMEOUT, |l| l["text"] == "back again");
    assert_eq!(messages_from(&bob, &alice.id), ["see you", "back again"]);
}

/// `mmp2p node` processes on [::1]: two owners share the same 32 MiB file, a
/// third user `get`s it by name — from both owners, with progress — and the
/// file it writes hashes to the root. A second `get` is killed halfway and
/// restarted: it resumes from its bitmap and finishes.
#[test]
fn e2e_get_from_two_owners_and_resume() {
    let root = tempfile::tempdir().unwrap();
    let key = key_node("key node", &node_dir(root.path(), "key", &[]), &[]);
    let key_addr = key.addr.clone();
    let bytes: Vec<u8> = (0..32u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut owners = Vec::new();
    for n in 1..=2 {
        let dir = node_dir(root.path(), &format!("owner{n}"), &[]);
        fs::write(dir.share.join("movie.bin"), &bytes).unwrap();
        let extra = vec!["--share".to_owned(), path_arg(&dir.share)];
        owners.push(user_node(&format!("owner{n}"), n, &key_addr, &dir, &extra));
    }
    let out = root.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let getter = |root: &Path| {
        let dir = node_dir(root, "getter", &[]);
        let extra = vec!["--out".to_owned(), path_arg(&out)];
        user_node("getter", 3, &key_addr, &dir, &extra)
    };
    let mut downloader = getter(root.path());
    for node in owners.iter().chain([&downloader]) {
        wait_joined(node);
    }
    // The owners publish at once; a search may still miss one for a moment.
    let until = Instant::now() + JOIN_TIMEOUT;
    while downloader.search("movie.bin", JOIN_TIMEOUT).owner_addrs().len() < 2 {
        assert!(Instant::now() < until, "both owners published: {}", downloader.describe());
        std::thread::sleep(Duration::from_millis(500));
    }
    let req = downloader.next_req();
    downloader.send(&json!({"cmd": "get", "name": "movie.bin", "req": req}));
    let started = downloader.wait_event("get_started", JOIN_TIMEOUT, |l| l["req"] == req);
    assert_eq!(started["owners"], 2, "{started}");
    let done = downloader.wait_event("get_done", JOIN_TIMEOUT, |l| l["req"] == req);
    let expected = blake3::hash(&bytes).to_hex().to_string();
    assert_eq!(done["root"], expected.as_str(), "{done}");
    let written = fs::read(done["path"].as_str().expect("a path")).unwrap();
    assert_eq!(blake3::hash(&written).to_hex().to_string(), expected);
    assert!(downloader.seen(|l| l["event"] == "get_progress"), "progress was reported");

    // Again (into movie.bin.1): killed once some leaves are in, then restarted.
    let req = downloader.next_req();
    downloader.send(&json!({"cmd": "get", "name": "movie.bin", "req": req}));
    let size = bytes.len() as u64;
    downloader.wait_event("get_progress", JOIN_TIMEOUT, |l| {
        l["id"] == req && l["bytes"].as_u64().is_some_and(|b| b > 0 && b < size)
    });
    downloader.kill();
    let downloader = getter(root.path());
    let resumed = downloader.wait_event("get_started", JOIN_TIMEOUT, |l| l["req"].is_null());
    assert!(resumed["resumed"].as_u64().is_some_and(|b| b > 0), "the leaves verified before stay: {resumed}");
    let done = downloader.wait_event("get_done", JOIN_TIMEOUT, |_| true);
    assert_eq!(done["root"], expected.as_str(), "resumed {resumed}; done {done}");
    let written = fs::read(done["path"].as_str().expect("a path")).unwrap();
    assert_eq!(written, bytes);
    downloader.assert_only_json();
}

/// A conference over real processes: alice creates it and invites her two
/// contacts, who join and take their places in its tree; bob's message
/// reaches the others once; alice pushes a file and streams another, each
/// written intact at every member; a member that leaves is seen to go.
#[test]
fn e2e_conference_chat_push_and_stream() {
    let root = tempfile::tempdir().unwrap();
    let key = key_node("key node", &node_dir(root.path(), "key", &[]), &[]);
    let key_addr = key.addr.clone();
    let mut users: Vec<NodeProcess> = (1..=3)
        .map(|n| {
            let dir = node_dir(root.path(), &format!("user{n}"), &[]);
            let out = root.path().join(format!("user{n}")).join("out");
            fs::create_dir_all(&out).unwrap();
            user_node(&format!("user{n}"), n, &key_addr, &dir, &["--out".to_owned(), path_arg(&out)])
        })
        .collect();
    for user in &users {
        wait_joined(user);
    }
    let (alice_slot, members) = users.split_at_mut(1);
    let alice = &mut alice_slot[0];
    for (i, member) in members.iter_mut().enumerate() {
        befriend(alice, member, &email(i + 2));
    }
    let created = alice.ask(json!({"cmd": "conf-create", "name": "weekly"}), ANSWER_TIMEOUT);
    assert_eq!(created["event"], "conference_created", "{}", alice.describe());
    let session = created["session"].as_str().expect("a session").to_owned();
    let alice_id = alice.id.clone();
    for (i, member) in members.iter_mut().enumerate() {
        let invited =
            alice.ask(json!({"cmd": "conf-invite", "conf": "weekly", "friend": email(i + 2)}), ANSWER_TIMEOUT);
        assert_eq!(invited["event"], "conference_done", "{}", alice.describe());
        member.wait_event("conference_invited", JOIN_TIMEOUT, |l| l["session"] == session.as_str());
        let joined = member.ask(json!({"cmd": "conf-join", "conf": "weekly"}), ANSWER_TIMEOUT);
        assert_eq!(joined["event"], "conference_done", "{}", member.describe());
        member.wait_event("conference_admitted", JOIN_TIMEOUT, |l| l["session"] == session.as_str());
        alice.wait_event("conference_answered", ANSWER_TIMEOUT, |l| l["member"] == member.id.as_str());
    }
    for member in members.iter() {
        member.wait_event("conference_attached", JOIN_TIMEOUT, |l| l["session"] == session.as_str());
    }
    let listed = alice.ask(json!({"cmd": "conferences"}), ANSWER_TIMEOUT);
    let entry = &listed["conferences"][0];
    assert_eq!(
        (entry["role"].as_str(), entry["members"].as_array().map(Vec::len)),
        (Some("creator"), Some(3)),
        "{listed}"
    );

    // Chat: bob's message reaches alice and carol, once.
    let bob_id = members[0].id.clone();
    let said = members[0].ask(json!({"cmd": "conf-say", "conf": session, "text": "hello all"}), ANSWER_TIMEOUT);
    assert_eq!((said["event"].as_str(), said["seq"].as_u64()), (Some("conference_said"), Some(1)), "{said}");
    let heard = |node: &NodeProcess| {
        node.wait_event("conference_chat", ANSWER_TIMEOUT, |l| {
            l["from"] == bob_id.as_str() && l["text"] == "hello all"
        });
    };
    heard(alice);
    heard(&members[1]);

    // A file pushed, and a stream played, at every member.
    let talk: Vec<u8> = (0..600_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let clip: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(40_503) >> 7) as u8).collect();
    let sent_dir = root.path().join("to-send");
    fs::create_dir_all(&sent_dir).unwrap();
    fs::write(sent_dir.join("talk.pdf"), &talk).unwrap();
    fs::write(sent_dir.join("clip.webm"), &clip).unwrap();
    let send =
        json!({"cmd": "conf-send", "conf": "weekly", "path": path_arg(&sent_dir.join("talk.pdf")), "rate": 4_000_000});
    let sending = alice.ask(send, ANSWER_TIMEOUT);
    assert_eq!(sending["event"], "conference_sending", "{}", alice.describe());
    let stream =
        json!({"cmd": "conf-stream", "conf": "weekly", "path": path_arg(&sent_dir.join("clip.webm")), "rate": 400_000});
    let streaming = alice.ask(stream, ANSWER_TIMEOUT);
    assert_eq!((streaming["event"].as_str(), streaming["stream"].as_bool()), (Some("conference_sending"), Some(true)));
    for member in members.iter() {
        let received = member.wait_event("conference_received", JOIN_TIMEOUT, |l| l["transfer"] == sending["transfer"]);
        let written = fs::read(received["path"].as_str().expect("a path")).unwrap();
        assert!(written == talk, "the pushed file arrives intact at {}", member.describe());
        member.wait_event("conference_stream_started", JOIN_TIMEOUT, |l| l["transfer"] == streaming["transfer"]);
        let ended =
            member.wait_event("conference_stream_ended", JOIN_TIMEOUT, |l| l["transfer"] == streaming["transfer"]);
        assert_eq!(ended["missed"], 0, "{ended}");
        let written = fs::read(ended["path"].as_str().expect("a path")).unwrap();
        assert!(written == clip, "the stream is written whole at {}", member.describe());
    }

    // Carol leaves; alice sees her go.
    let carol_id = members[1].id.clone();
    let left = members[1].ask(json!({"cmd": "conf-leave", "conf": "weekly"}), ANSWER_TIMEOUT);
    assert_eq!(left["event"], "conference_done", "{}", members[1].describe());
    members[1].wait_event("conference_left", ANSWER_TIMEOUT, |l| l["reason"] == "left");
    alice.wait_event("conference_member_left", ANSWER_TIMEOUT, |l| l["member"] == carol_id.as_str());
    let unknown = members[1].ask(json!({"cmd": "conf-say", "conf": "weekly", "text": "still here?"}), ANSWER_TIMEOUT);
    assert_eq!(unknown["event"], "error", "{unknown}");
    assert_eq!(alice_id, alice.id);
    for user in users.iter() {
        user.assert_only_json();
    }
}
