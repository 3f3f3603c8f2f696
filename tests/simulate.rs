//! `mmp2p simulate scale` builds the largest overlay that fits its memory
//! budget through real JOINs and reports what it measured.

use std::process::Command;

#[test]
fn scale_builds_what_fits_the_budget_and_reports() {
    let args = ["simulate", "scale", "--nodes", "400", "--lookups", "300", "--memory-gib", "0.02"];
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(args).output().expect("simulate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "scale failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // A node's core state alone is over 100 KB: 0.02 GiB holds fewer than 400.
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
    assert_eq!(core, std::mem::size_of::<mmp2p_core::Node>());
    let measures = [
        "wall time",
        "peak memory",
        "simulated datagrams per second",
        "hops mean / median / p99",
        "Chord on the same nodes and queries: hops mean / p99",
    ];
    for measure in measures {
        assert!(!value(measure).is_empty(), "{measure}");
    }
}
