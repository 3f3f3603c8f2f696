//! `mmp2p simulate scale` builds the largest overlay that fits its memory
//! budget through real JOINs and reports what it measured; `mmp2p simulate
//! compare` puts each routing mode's clockwise row beside its either-way row.

use std::process::Command;

#[test]
fn scale_builds_what_fits_the_budget_and_reports() {
    let args = ["simulate", "scale", "--nodes", "400", "--lookups", "300", "--memory-gib", "0.005"];
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(args).output().expect("simulate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "scale failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // A node's core state alone is over 25 KB: 0.005 GiB holds fewer than 400.
    assert!(stdout.contains("the most that fit"), "{stdout}");
    let value = |measure: &str| -> String {
        let row = stdout.lines().find(|l| l.starts_with(&format!("| {measure} |"))).unwrap_or_else(|| {
            panic!("no {measure:?} row:\n{stdout}");
        });
        row.split('|').nth(2).unwrap().trim().to_owned()
    };
    let built: usize = value("nodes built through real JOINs").parse().unwrap();
    assert!((2..400).contains(&built), "built {built} nodes");
    assert_eq!(value("lookups (failed)"), "300 (0)");
    let core: usize = value("core state per node").trim_end_matches(" bytes").parse().unwrap();
    assert_eq!(core, std::mem::size_of::<mmp2p_core::Node<mmp2p_core::profile::OverlayOnly>>());
    let measures = [
        "wall time",
        "drops by reason",
        "peak memory",
        "simulated datagrams per second",
        "hops mean / median / p99",
        "Chord on the same nodes and queries: hops mean / p99",
    ];
    for measure in measures {
        assert!(!value(measure).is_empty(), "{measure}");
    }
}

#[test]
fn compare_shows_each_mode_either_way_and_clockwise() {
    let out = tempfile::tempdir().unwrap();
    let args = ["simulate", "compare", "--nodes", "200", "--lookups", "200", "--can-dims", "2", "--out"];
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(args).arg(out.path()).output().expect("simulate runs");
    assert!(output.status.success(), "compare failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let csv = std::fs::read_to_string(out.path().join("compare.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let systems: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    let expected = [
        "MMP2P",
        "MMP2P clockwise",
        "MMP2P lookahead",
        "MMP2P lookahead clockwise",
        "MMP2P lookahead+proximity",
        "MMP2P lookahead+proximity clockwise",
        "Chord",
        "CAN d=2",
    ];
    assert_eq!(systems, expected);
    assert!(rows.iter().all(|r| r[6] == "0"), "no failed lookups:\n{csv}");
    let hops = |system: &str| -> f64 { rows.iter().find(|r| r[0] == system).unwrap()[7].parse().unwrap() };
    assert!(hops("MMP2P") < hops("MMP2P clockwise"), "either way takes fewer hops:\n{csv}");
}

#[test]
fn multicast_measures_a_small_conference_and_writes_its_figures() {
    let out = tempfile::tempdir().unwrap();
    let args = ["simulate", "multicast", "--members", "12", "--stream-secs", "20", "--file", "2097152", "--out"];
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(args).arg(out.path()).output().expect("simulate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let csv = std::fs::read_to_string(out.path().join("multicast.csv")).expect("the CSV is written");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).expect("one row").split(',').collect();
    let column = |name: &str| -> f64 { row[header.iter().position(|h| *h == name).unwrap()].parse().unwrap() };
    assert_eq!(column("members"), 12.0);
    assert_eq!(column("push_intact"), 11.0, "every member holds the file intact:\n{stdout}");
    assert!(column("rdp_mean") >= 1.0, "a tree is never faster than the direct path:\n{stdout}");
    assert!(column("children_over_bound") <= 1.0, "no member over its degree bound:\n{stdout}");
    assert!(column("continuity_mean") >= 0.95, "the stream plays:\n{stdout}");
    assert!(column("startup_max_s") <= 2.0, "{stdout}");
    for file in ["multicast.md", "multicast-rdp.svg", "multicast-stream.svg"] {
        assert!(out.path().join(file).exists(), "{file} is written");
    }
    // The verdict names each target; a target missed is an error exit.
    assert!(stdout.contains("RDP mean ≤ 1.5") && stdout.contains("control ≤ 1 kbit/s per member"), "{stdout}");
    assert_eq!(output.status.success(), !stdout.contains("FAIL"), "{stdout}");
}
