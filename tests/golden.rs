//! Runs fixed, seeded workloads and compares what they produce, byte for
//! byte, with output committed under `tests/golden/`: the files of
//! `mmp2p simulate fig5 --nodes 100,1000 --lookups 2000`, and a transcript of
//! a memory-driver run that joins, befriends, publishes, searches, looks up,
//! lists a friend's files and survives crashes, ending with a fingerprint of
//! every datagram the network carried.
//!
//! A change to the protocol's behaviour shows up here as a difference. When
//! the change is intended, regenerate the files with
//! `MMP2P_BLESS=1 cargo test --release --test golden` and commit them with it.

use mmp2p_core::{Event, Id, ResourceLocator};
use mmp2p_memory::overlay::{Overlay, OverlaySpec};
use mmp2p_memory::{NodeIndex, Step};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the committed file `name`, or writes it when blessing.
fn check(name: &str, actual: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("MMP2P_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        let (expected, actual) = (String::from_utf8_lossy(&expected), String::from_utf8_lossy(actual));
        let first = expected.lines().zip(actual.lines()).position(|(e, a)| e != a);
        let line = first.unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the committed output, first at line {}:\n  expected: {:?}\n  actual:   {:?}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn simulate_fig5_writes_the_committed_files() {
    let out = tempfile::tempdir().unwrap();
    let args = ["simulate", "fig5", "--nodes", "100,1000", "--lookups", "2000", "--out"];
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(args).arg(out.path()).output().expect("simulate runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["fig5-hops.svg", "fig5-stretch.svg", "fig5.csv", "fig5.md"]);
    for name in names {
        check(&format!("fig5/{name}"), &std::fs::read(out.path().join(&name)).unwrap());
    }
}

/// A short, stable name for a node in the transcript.
fn label(id: Id) -> String {
    format!("{:08x}", (id.0 >> 96) as u32)
}

fn describe_event(event: &Event) -> Option<String> {
    let who = |l: &ResourceLocator| label(l.id);
    Some(match event {
        Event::PeerDown { peer } => format!("peer down {}", who(peer)),
        Event::NeighbourChanged { side, neighbour } => {
            format!("neighbour {side:?} {}", neighbour.as_ref().map_or("-".to_owned(), who))
        }
        Event::FileListed { name, .. } => format!("file listed {name}"),
        Event::FileListComplete { .. } => "file list complete".to_owned(),
        _ => return None,
    })
}

#[test]
fn memory_run_matches_the_committed_transcript() {
    let spec = OverlaySpec { nodes: 48, friends: 6, seed: 11, ..OverlaySpec::default() };
    let mut overlay = Overlay::build(&spec).expect("the overlay settles");
    let mut out = String::new();
    writeln!(out, "built {} nodes at {} ms", spec.nodes, overlay.now().as_micros() / 1000).unwrap();
    let members: Vec<NodeIndex> = overlay.members().collect();
    for &m in &members {
        let node = overlay.network.node(m);
        let s = node.stats();
        let (left, right) = (node.neighbours().left().unwrap().id, node.neighbours().right().unwrap().id);
        writeln!(
            out,
            "node {} left {} right {} friends {} in {} out {} bytes {}/{} maintenance {} relayed {} retransmits {}",
            label(node.id()),
            label(left),
            label(right),
            node.friends().len(),
            s.datagrams_in,
            s.datagrams_out,
            s.bytes_in,
            s.bytes_out,
            s.maintenance_out,
            s.relayed,
            s.retransmits
        )
        .unwrap();
    }

    overlay.network.set_tracing(true);
    let names = ["thesis.pdf", "song.mp3", "map.png", "notes.txt", "talk.mkv", "debian.iso"];
    for (i, &owner) in members.iter().enumerate().step_by(5) {
        let mine: Vec<&str> = names.iter().copied().cycle().skip(i % names.len()).take(3).collect();
        overlay.share(owner, &mine).expect("shared");
    }
    overlay.network.run_for(Duration::from_secs(5));
    for (i, name) in names.iter().enumerate() {
        let origin = members[(i * 7 + 3) % members.len()];
        let found = overlay.search(origin, Id::from_file_name(name), Duration::from_secs(30));
        let mut owners: Vec<String> = found.owners.iter().map(|o| label(o.id)).collect();
        owners.sort();
        writeln!(out, "search {name} from {}: hops {:?} owners {owners:?}", label(id_of(&overlay, origin)), found.hops)
            .unwrap();
    }
    let report = overlay.run_lookups(200);
    writeln!(
        out,
        "lookups 200: answered {} wrong {} failed {} hops mean {:.4} max {}",
        report.samples.len(),
        report.wrong,
        report.failed,
        report.mean_hops(),
        report.max_hops()
    )
    .unwrap();
    let lister = members[1];
    let friend = overlay.network.node(lister).friends().iter().next().map(|f| f.id).expect("a friend");
    overlay.network.command(lister, |n, now| n.list_files(now, friend)).expect("listing starts");
    overlay.network.run_for(Duration::from_secs(5));

    for &gone in &members[10..14] {
        writeln!(out, "crash {}", label(id_of(&overlay, gone))).unwrap();
        overlay.network.crash(gone);
    }
    overlay.network.run_for(Duration::from_secs(60));
    overlay.refresh_ring();
    writeln!(out, "ring after crashes: {:?}", overlay.check_ring().map(|_| "consistent")).unwrap();
    for (i, name) in names.iter().enumerate() {
        let origin = members[(i * 11 + 20) % members.len()];
        let found = overlay.search(origin, Id::from_file_name(name), Duration::from_secs(30));
        writeln!(out, "search after crashes {name}: hops {:?} owners {}", found.hops, found.owners.len()).unwrap();
    }
    let mut steps = 0u64;
    while steps < 2000 {
        match overlay.network.step() {
            Some(Step::Delivered { .. } | Step::Timer { .. } | Step::Undeliverable { .. }) => steps += 1,
            None => break,
        }
    }

    for e in overlay.network.events() {
        if let Some(text) = describe_event(&e.event) {
            writeln!(out, "{:>9} ms {} {text}", e.at.as_micros() / 1000, label(overlay.network.node(e.node).id()))
                .unwrap();
        }
    }
    let mut per_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for entry in overlay.network.trace() {
        let name = entry.repr().map(|r| r.message.message_type().name().to_owned()).unwrap_or("?".to_owned());
        let slot = per_type.entry(name).or_default();
        slot.0 += 1;
        slot.1 += entry.bytes.len() as u64;
    }
    for (name, (count, bytes)) in per_type {
        writeln!(out, "traced {name}: {count} datagrams, {bytes} bytes").unwrap();
    }
    writeln!(
        out,
        "trace fingerprint {:016x} at {} ms",
        overlay.network.trace_digest(),
        overlay.now().as_micros() / 1000
    )
    .unwrap();
    check("memory-run.txt", out.as_bytes());
}

/// The ID of node `index`.
fn id_of(overlay: &Overlay, index: NodeIndex) -> Id {
    overlay.network.node(index).id()
}
