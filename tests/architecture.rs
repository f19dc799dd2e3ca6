//! The module import graph (issue 8): computed from the `crate::…` paths in
//! `src/**/*.rs` (every `use crate::…` line, and paths written inline), one
//! node per file. It must have no cycle, and no import may climb from a
//! lower layer to a higher one:
//!
//! - the ground floor: state ([`app`]), `db`, `domain`, `auth`, `clients`,
//!   `events`, `service`, `config`, `clock`, `error` and the other leaves;
//! - `graphql` (schema and resolvers) on top of it;
//! - `http` (handlers, layers) and `rest` (the legacy REST layer over the
//!   schema) on top of that;
//! - `router` and `server` at the top, imported by nobody (but `main`).
//!
//! Relative paths (`super::`, `self::`, a child module by name) are the
//! module tree's own business and are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module's `crate::` paths, each split into its segments.
type Paths = Vec<Vec<String>>;

/// The layer of a top-level module: an import may only go to a module of
/// the same layer or a lower one.
fn layer(top: &str) -> u8 {
    match top {
        "graphql" => 1,
        "http" | "rest" => 2,
        "router" | "server" => 3,
        _ => 0,
    }
}

/// The module path of a file under `src/` (`http/graphql.rs` is
/// `http::graphql`, `db/mod.rs` is `db`); `None` for the crate roots.
fn module_of(relative: &Path) -> Option<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop()?;
    let stem = file.strip_suffix(".rs")?;
    if parts.is_empty() && (stem == "lib" || stem == "main") {
        return None;
    }
    if stem != "mod" {
        parts.push(stem.to_owned());
    }
    Some(parts.join("::"))
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The code of a source: comments (doc comments included) dropped, and
/// string and character literals emptied, so that neither a doc link nor a
/// string is taken for an import.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        if c == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            at += 2;
            while at < chars.len() && !(chars[at - 1] == '*' && chars[at] == '/') {
                at += 1;
            }
            at += 1;
        } else if c == '"' {
            at += 1;
            while at < chars.len() && chars[at] != '"' {
                at += if chars[at] == '\\' { 2 } else { 1 };
            }
            at += 1;
            out.push_str("\"\"");
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && raw_string_start(&chars, at)
        {
            // A raw string: r"…", r#"…"#, br#"…"#.
            let mut hashes = 0;
            at += 1;
            while chars.get(at) == Some(&'#') {
                hashes += 1;
                at += 1;
            }
            at += 1;
            while at < chars.len() {
                if chars[at] == '"' && (1..=hashes).all(|i| chars.get(at + i) == Some(&'#')) {
                    at += 1 + hashes;
                    break;
                }
                at += 1;
            }
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{…}'.
            at += 3;
            while at < chars.len() && chars[at] != '\'' {
                at += 1;
            }
            at += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(at + 2) == Some(&'\'') {
            at += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            at += 1;
        }
    }
    out
}

/// Whether the `r` at `at` starts a raw string (`r"`, `br#"`), not an
/// identifier that ends in `r`.
fn raw_string_start(chars: &[char], at: usize) -> bool {
    let free = |index: Option<usize>| index.is_none_or(|i| !is_ident(chars[i]));
    let before = at.checked_sub(1);
    free(before)
        || (before.is_some_and(|i| chars[i] == 'b') && free(before.and_then(|i| i.checked_sub(1))))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses a use tree (`a::b`, `a::{b, c::d}`, `a::{self, b as c}`, `a::*`)
/// at the start of `text`, appending every full path under `prefix`.
/// Returns how many bytes it read.
fn parse_tree(text: &str, prefix: &[String], out: &mut Paths) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut path = prefix.to_vec();
    loop {
        while at < bytes.len() && (bytes[at] as char).is_whitespace() {
            at += 1;
        }
        if at < bytes.len() && bytes[at] == b'{' {
            at += 1;
            loop {
                while at < bytes.len() && (bytes[at] as char).is_whitespace() {
                    at += 1;
                }
                if at >= bytes.len() || bytes[at] == b'}' {
                    at += 1;
                    break;
                }
                if bytes[at] == b',' {
                    at += 1;
                    continue;
                }
                at += parse_tree(&text[at..], &path, out);
            }
            return at;
        }
        let start = at;
        while at < bytes.len() && (is_ident(bytes[at] as char) || bytes[at] == b'*') {
            at += 1;
        }
        let segment = &text[start..at];
        if !segment.is_empty() && segment != "self" && segment != "*" {
            path.push(segment.to_owned());
        }
        if text[at..].starts_with("::") {
            at += 2;
            continue;
        }
        // `x as y`: the rename does not change what is imported.
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        if let Some(renamed) = trimmed.strip_prefix("as ") {
            let name = renamed.trim_start();
            let name_len = name.find(|c: char| !is_ident(c)).unwrap_or(name.len());
            at += rest.len() - name.len() + name_len;
        }
        out.push(path);
        return at;
    }
}

/// Every `crate::` path in a (comment-free) source, in use trees or inline.
fn crate_paths(source: &str) -> Paths {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = source[from..].find("crate::") {
        let at = from + found;
        let before = source[..at].chars().next_back();
        from = at + "crate::".len();
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue;
        }
        from += parse_tree(&source[from..], &[], &mut out);
    }
    out
}

/// The longest known module that `path` lies in.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|len| path[..len].join("::"))
        .find(|candidate| modules.contains(candidate))
}

/// The import graph: module → the modules it imports (itself excluded).
fn graph(sources: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(module, source)| {
            let targets = crate_paths(&code_only(source))
                .iter()
                .filter_map(|path| resolve(path, &modules))
                .filter(|target| target != module)
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// A cycle of the graph, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

/// Imports that climb from a lower layer to a higher one.
fn climbing(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let top = |module: &str| module.split("::").next().unwrap_or("").to_owned();
    graph
        .iter()
        .flat_map(|(from, targets)| {
            targets
                .iter()
                .filter(|to| layer(&top(to)) > layer(&top(from)))
                .map(move |to| format!("{from} -> {to}"))
        })
        .collect()
}

fn project_sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(&src).expect("a file under src");
            let module = module_of(relative)?;
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            Some((module, source))
        })
        .collect()
}

fn sources(modules: &[(&str, &str)]) -> BTreeMap<String, String> {
    modules
        .iter()
        .map(|(module, source)| ((*module).to_owned(), (*source).to_owned()))
        .collect()
}

#[test]
fn the_module_import_graph_has_no_cycle() {
    let sources = project_sources();
    assert!(sources.len() > 30, "found only {} modules", sources.len());
    let graph = graph(&sources);
    // The graph is really read: the router imports the state and handlers.
    assert!(graph["router"].contains("app"), "{:?}", graph["router"]);
    assert!(graph["router"].contains("http::graphql"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn no_import_climbs_to_a_higher_layer() {
    let graph = graph(&project_sources());
    let climbing = climbing(&graph);
    assert!(climbing.is_empty(), "imports that climb: {climbing:#?}");
    // State and the layers below it know nothing of GraphQL or HTTP.
    for (module, targets) in &graph {
        if layer(module.split("::").next().unwrap_or("")) == 0 {
            assert!(
                targets
                    .iter()
                    .all(|t| layer(t.split("::").next().unwrap_or("")) == 0),
                "{module} imports {targets:?}"
            );
        }
    }
}

#[test]
fn the_checks_catch_a_cycle_and_a_climb() {
    // A use tree with a group, `self`, a rename and an inline path.
    let graph = graph(&sources(&[
        (
            "app",
            "use crate::http::{self, graphql::Thing as Other};\n/// [`crate::db`]\n",
        ),
        ("http", "fn f() { crate::app::g(); }"),
        ("http::graphql", "use crate::db::{Row, *};"),
        ("db", "use crate::error::AppError; // crate::app"),
        ("error", "const URL: &str = \"crate::db\";"),
    ]));
    assert_eq!(
        graph["app"],
        BTreeSet::from(["http".to_owned(), "http::graphql".to_owned()])
    );
    assert_eq!(graph["db"], BTreeSet::from(["error".to_owned()]));
    assert!(graph["error"].is_empty(), "a string is not an import");
    let cycle = find_cycle(&graph).expect("app -> http -> app is a cycle");
    assert!(cycle.contains(&"app".to_owned()) && cycle.contains(&"http".to_owned()));
    assert_eq!(climbing(&graph), ["app -> http", "app -> http::graphql"]);

    let acyclic = self::graph(&sources(&[
        ("router", "use crate::app::AppState;"),
        ("app", "use crate::db::Pool;"),
        ("db", ""),
    ]));
    assert_eq!(find_cycle(&acyclic), None);
    assert!(climbing(&acyclic).is_empty());
}
