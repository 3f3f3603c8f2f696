//! `mmp2p demo` runs its whole scenario over real sockets on [::1] and
//! reports success only when every step succeeded.

use std::process::Command;

#[test]
fn demo_succeeds_and_prints_its_summary() {
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(["demo", "--seed", "7"]).output().expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for step in [
        "join",
        "impostor refused",
        "friends",
        "share",
        "search",
        "lookup",
        "friend's file list",
        "friend requests",
        "presence",
        "chat with receipts",
        "offline message",
        "file transfer",
        "conference",
        "crash two nodes",
        "search after crash",
    ] {
        let row = stdout.lines().find(|l| l.starts_with(step) && l.ends_with("ok"));
        assert!(row.is_some(), "no successful summary row for {step:?}:\n{stdout}");
    }
    assert!(stdout.contains("16 nodes (2 crashed)"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
}

#[test]
fn demo_options_are_checked() {
    let output = Command::new(env!("CARGO_BIN_EXE_mmp2p")).args(["demo", "--nodes", "2"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(2), "too few nodes is a usage error");
}
