//! The run loop is written twice — in the README for readers of the
//! repository, in the crate's documentation for readers of the API — and
//! both are run as doctests; this test keeps the two the same code.

/// The lines of the first ```` ```rust ```` block (or plain block, in
/// `//!` comments) after `marker` in `text`.
fn code_after(text: &str, marker: &str) -> Vec<String> {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker:?}"));
    text[start..]
        .lines()
        .map(|l| l.strip_prefix("//!").map_or(l, |rest| rest.strip_prefix(' ').unwrap_or(rest)))
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_run_loop_is_the_crate_level_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let lib = std::fs::read_to_string(format!("{root}/core/src/lib.rs")).unwrap();
    let in_readme = code_after(&readme, "## Driving a node: the run loop");
    let in_crate = code_after(&lib, "//! ## The run loop");
    assert!(in_readme.len() > 20, "the README's loop: {in_readme:?}");
    assert_eq!(in_readme, in_crate, "README.md and core/src/lib.rs show different run loops");
}
