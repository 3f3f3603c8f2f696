//! The shape of `core/src`: no file over 500 lines, and no import cycles
//! between files.
//!
//! A file imports another when its code (comments and literals stripped)
//! names a path into it: `use crate::a::b…`, `use super::…`, `use x::…` for a
//! child module `x`, grouped trees such as `use crate::{a::X, b::Y}`, and the
//! same paths written inline (`crate::a::f()`, `super::x::Y`). `mod x;`
//! declarations are not imports. A path resolves to the longest prefix that
//! names a module file (`a/b.rs` or `a/b/mod.rs`; `lib.rs` and `mod.rs` are
//! their folder's module), so `crate::X` for a non-module `X` is `lib.rs`.
//!
//! `MMP2P_PRINT_IMPORTS=1 cargo test -p mmp2p-core --test architecture -- --nocapture`
//! prints the whole graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The most lines a source file may have.
const MAX_LINES: usize = 500;

/// A module path (`["wire", "message"]`), the crate root being empty.
type ModPath = Vec<String>;

/// Every `.rs` file under `dir`, as paths relative to `root` with `/` separators.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("readable source folder").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under the root");
            out.push(relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
}

/// The module a file is: `lib.rs` the root, `a/mod.rs` and `a.rs` module `a`.
fn module_of(file: &str) -> ModPath {
    let mut parts: ModPath = file.trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// A token of Rust code, as far as paths need.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A name or keyword.
    Ident(String),
    /// `::`
    PathSep,
    /// Any other punctuation.
    Punct(char),
}

/// The code's tokens, without comments, string, char and number literals, or lifetimes.
fn tokens(source: &str) -> Vec<Token> {
    let s: Vec<char> = source.chars().collect();
    let (mut out, mut i) = (Vec::new(), 0);
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    while i < s.len() {
        let c = s[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= s.len() {
                    break;
                } else if s[i] == '/' && at(i + 1) == '*' {
                    (depth, i) = (depth + 1, i + 2);
                } else if s[i] == '*' && at(i + 1) == '/' {
                    (depth, i) = (depth - 1, i + 2);
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if let Some((body, hashes)) = raw_string(&s, i) {
            // A raw string: r"…", r#"…"#, br"…".
            i = body;
            while i < s.len() && !(s[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#')) {
                i += 1;
            }
            i += 1 + hashes;
        } else if c == 'b' && (at(i + 1) == '"' || at(i + 1) == '\'') {
            i += 1; // A byte string or byte: the quote is handled next.
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                i += 2;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or label: skip its name.
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            if word == "r" && at(i) == '#' {
                i += 1; // A raw identifier: the name follows.
                continue;
            }
            out.push(Token::Ident(word));
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token::PathSep);
            i += 2;
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// If a raw string starts at `i`: where its body starts, and its number of `#`.
fn raw_string(s: &[char], i: usize) -> Option<(usize, usize)> {
    let j = match (s.get(i), s.get(i + 1)) {
        (Some('r'), _) => i + 1,
        (Some('b'), Some('r')) => i + 2,
        _ => return None,
    };
    let hashes = s[j.min(s.len())..].iter().take_while(|&&h| h == '#').count();
    (s.get(j + hashes) == Some(&'"')).then_some((j + hashes + 1, hashes))
}

/// Expands a `use` tree (the tokens after `use`, before `;`) into paths.
fn use_paths(tokens: &[Token], prefix: &[String], out: &mut Vec<ModPath>) -> usize {
    let mut path: ModPath = prefix.to_vec();
    let mut i = 0;
    if tokens.first() == Some(&Token::PathSep) {
        i += 1;
    }
    loop {
        match tokens.get(i) {
            Some(Token::Ident(name)) if name == "self" && path.len() == prefix.len() && !prefix.is_empty() => i += 1,
            Some(Token::Ident(name)) => {
                path.push(name.clone());
                i += 1;
            }
            Some(Token::Punct('*')) => {
                out.push(path);
                return i + 1;
            }
            Some(Token::Punct('{')) => {
                i += 1;
                while !matches!(tokens.get(i), None | Some(Token::Punct('}'))) {
                    i += use_paths(&tokens[i..], &path, out);
                    if tokens.get(i) == Some(&Token::Punct(',')) {
                        i += 1;
                    }
                }
                return i + 1;
            }
            _ => break,
        }
        match tokens.get(i) {
            Some(Token::PathSep) => i += 1,
            Some(Token::Ident(kw)) if kw == "as" => {
                i += 2;
                break;
            }
            _ => break,
        }
    }
    out.push(path);
    i
}

/// The file a path used in module `current` resolves to; `None` for paths outside the crate.
fn resolve(path: &[String], current: &[String], modules: &BTreeMap<ModPath, String>) -> Option<String> {
    let (mut base, mut rest): (ModPath, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (current.to_vec(), &path[1..]),
        "super" => (current.to_vec(), path),
        first => {
            let child: ModPath = current.iter().cloned().chain([first.to_string()]).collect();
            if !modules.contains_key(&child) {
                return None;
            }
            (current.to_vec(), path)
        }
    };
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    let full: ModPath = base.into_iter().chain(rest.iter().cloned()).collect();
    (0..=full.len()).rev().find_map(|n| modules.get(&full[..n])).cloned()
}

/// The files that `source`, the file of module `module`, imports.
fn imports(module: &[String], source: &str, modules: &BTreeMap<ModPath, String>) -> BTreeSet<String> {
    let tokens = tokens(source);
    let mut paths: Vec<(ModPath, ModPath)> = Vec::new();
    // Inline `mod x { … }` blocks: (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let current: ModPath = module.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect();
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                inline.retain(|&(_, d)| d <= depth);
            }
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                let end = (i..tokens.len()).find(|&j| tokens[j] == Token::Punct(';')).unwrap_or(tokens.len());
                let mut found = Vec::new();
                use_paths(&tokens[i + 1..end], &[], &mut found);
                paths.extend(found.into_iter().map(|p| (current.clone(), p)));
                i = end + 1;
                continue;
            }
            Token::Ident(first)
                if tokens.get(i + 1) == Some(&Token::PathSep)
                    && !matches!(i.checked_sub(1).map(|j| &tokens[j]), Some(Token::PathSep | Token::Punct('$'))) =>
            {
                let mut path = vec![first.clone()];
                while let (Some(Token::PathSep), Some(Token::Ident(next))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                    path.push(next.clone());
                    i += 2;
                }
                paths.push((current, path));
            }
            _ => {}
        }
        i += 1;
    }
    let own = modules.get(module);
    paths.iter().filter_map(|(current, path)| resolve(path, current, modules)).filter(|f| Some(f) != own).collect()
}

/// Strongly connected components of more than one file (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(st: &mut State<'a>, v: &'a str) {
        let n = st.index.len();
        st.index.insert(v, n);
        st.low.insert(v, n);
        st.stack.push(v);
        for w in st.graph.get(v).into_iter().flatten() {
            if !st.index.contains_key(w.as_str()) {
                visit(st, w);
                let low = st.low[v].min(st.low[w.as_str()]);
                st.low.insert(v, low);
            } else if st.stack.contains(&w.as_str()) {
                let low = st.low[v].min(st.index[w.as_str()]);
                st.low.insert(v, low);
            }
        }
        if st.low[v] == st.index[v] {
            let at = st.stack.iter().rposition(|&x| x == v).expect("on the stack");
            let mut component: Vec<String> = st.stack.drain(at..).map(String::from).collect();
            if component.len() > 1 {
                component.sort();
                st.found.push(component);
            }
        }
    }
    let mut st = State { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !st.index.contains_key(v.as_str()) {
            visit(&mut st, v);
        }
    }
    st.found
}

/// The source files of `core/src`, with their text.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    assert!(files.iter().any(|f| f == "lib.rs"), "found core/src");
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(root.join(&f)).expect("a readable source file");
            (f, text)
        })
        .collect()
}

/// Which core file imports which.
fn import_graph(sources: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeMap<ModPath, String> = sources.iter().map(|(f, _)| (module_of(f), f.clone())).collect();
    sources.iter().map(|(file, text)| (file.clone(), imports(&module_of(file), text, &modules))).collect()
}

#[test]
fn no_file_over_500_lines() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(file, text)| format!("core/src/{file}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines:\n  {}", long.join("\n  "));
}

#[test]
fn no_import_cycles() {
    let graph = import_graph(&sources());
    if std::env::var_os("MMP2P_PRINT_IMPORTS").is_some() {
        for (file, to) in &graph {
            println!("{file} -> {}", to.iter().map(String::as_str).collect::<Vec<_>>().join(", "));
        }
    }
    let found = cycles(&graph);
    let report: Vec<String> = found
        .iter()
        .map(|component| {
            let edges: Vec<String> = component
                .iter()
                .map(|f| {
                    let to: Vec<&str> = graph[f].iter().filter(|t| component.contains(t)).map(String::as_str).collect();
                    format!("    {f} -> {}", to.join(", "))
                })
                .collect();
            format!("cycle of {} files: {}\n{}", component.len(), component.join(", "), edges.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "{} import cycles in core/src:\n{}", found.len(), report.join("\n"));
}

#[test]
fn the_resolver_reads_paths_as_rustc_would() {
    let files = ["lib.rs", "id.rs", "config.rs", "time.rs", "a/mod.rs", "a/b.rs", "wire/mod.rs", "wire/message.rs"];
    let modules: BTreeMap<ModPath, String> = files.iter().map(|f| (module_of(f), f.to_string())).collect();
    let check = |file: &str, source: &str, expected: &[&str]| {
        let got = imports(&module_of(file), source, &modules);
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "imports of {file} from {source:?}");
    };
    assert_eq!(module_of("lib.rs"), ModPath::new());
    assert_eq!(module_of("wire/mod.rs"), ["wire"]);
    check("id.rs", "use crate::wire::{Side, message::Message};", &["wire/mod.rs", "wire/message.rs"]);
    check("id.rs", "use crate::Config;\nuse core::net::SocketAddrV6;", &["lib.rs"]);
    check("id.rs", "use crate::a::b::c::D;", &["a/b.rs"]);
    check("id.rs", "pub(crate) use crate::{config as c, a::{self, b::X}};", &["config.rs", "a/mod.rs", "a/b.rs"]);
    check("id.rs", "// use crate::config::X;\n/// crate::a::X\n//! crate::time\nmod a;", &[]);
    check("id.rs", "/* crate::a::X /* nested */ crate::time::Y */ let s = \"crate::config::Z\";", &[]);
    check("id.rs", "let q = '\"'; let r = r#\"crate::a\"#; use crate::time::Instant;", &["time.rs"]);
    check("id.rs", "fn f<'a>(x: &'a str) -> usize { crate::config::MAX + $crate::a::X }", &["config.rs"]);
    check("wire/message.rs", "use super::{Chain, message};\nuse super::super::id::Id;", &["wire/mod.rs", "id.rs"]);
    check("wire/mod.rs", "pub use message::Message;\nuse super::time::Instant;", &["wire/message.rs", "time.rs"]);
    check("wire/mod.rs", "fn f() { message::decode(); heapless::Vec::new(); }", &["wire/message.rs"]);
    check("time.rs", "#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::id::Id;\n}", &["id.rs"]);
    check("a/b.rs", "fn f() -> super::X { self::g(); super::super::config::Y }", &["a/mod.rs", "config.rs"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [("x", &["y"][..]), ("y", &["z"]), ("z", &["x"]), ("w", &["x"])]
        .into_iter()
        .map(|(f, to)| (f.to_string(), to.iter().map(|t| t.to_string()).collect()))
        .collect();
    assert_eq!(cycles(&graph), [["x", "y", "z"]]);
}
