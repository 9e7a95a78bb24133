//! Architecture invariants of the services layer that a scan of its source
//! can check, as rust-analyzer's tidy tests do:
//!
//! - the services' modules import each other without a loop: the graph of
//!   `use super::…`, `self::…` and `crate::services::…` paths between the
//!   module files is acyclic (a module naming an item of a module that
//!   encloses it is no edge: `SiteServices` is everyone's, and a folder's
//!   `mod.rs` names its own files);
//! - nothing under `services/` imports the HTTP layer;
//! - nothing under `services/` (tests included) names a contract version's
//!   generated types (`wit::…`): the services speak the runtime's
//!   version-neutral contract API, so a new contract version changes
//!   nothing here.
//!
//! Paths are read, not resolved: an item a folder re-exports counts as the
//! folder's, and methods of the shared `SiteServices` that other modules
//! define are not seen. Test code (`tests/`, `testing.rs`, a file's
//! `#[cfg(test)] mod`) may use anything and is left out of the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/services");

/// Every source file under `services/` but the tests' folder, in path
/// order.
pub(super) fn service_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("services source folder") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "tests") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new(ROOT), &mut files);
    files.sort();
    files
}

/// The module a file under `services/` holds: `groups.rs` is
/// `services::groups`, `ops/mod.rs` is `services::ops`.
fn module_of(relative: &str) -> Vec<String> {
    let mut segments = vec!["services".to_owned()];
    let trimmed = relative.trim_end_matches(".rs");
    segments.extend(trimmed.split('/').map(str::to_owned));
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    segments
}

/// The source without line comments (docs name modules in prose) and
/// without its trailing `#[cfg(test)] mod … { … }`.
fn code_of(source: &str) -> String {
    let mut out = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'))
        {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every path the code names after `super::`, `self::` or `crate::`,
/// resolved against `module` to a path from the crate
/// root (`["crate", "services", "ops", "groups", "load_group"]`).
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if !code.is_char_boundary(at) {
            at += 1;
            continue;
        }
        let starts_word = at == 0 || !is_path_char(bytes[at - 1]);
        let rest = &code[at..];
        let base: Option<(Vec<String>, usize)> = if !starts_word {
            None
        } else if rest.starts_with("crate::") {
            Some((vec!["crate".into()], "crate::".len()))
        } else if rest.starts_with("super::") {
            let mut base = crate_path(module);
            base.pop();
            Some((base, "super::".len()))
        } else if rest.starts_with("self::") {
            Some((crate_path(module), "self::".len()))
        } else {
            None
        };
        match base {
            Some((base, skip)) => {
                let mut parser = PathParser {
                    code,
                    at: at + skip,
                };
                for tail in parser.tree() {
                    out.push(resolve(&base, &tail));
                }
                at = parser.at.max(at + skip);
            }
            None => at += 1,
        }
    }
    out
}

fn crate_path(module: &[String]) -> Vec<String> {
    std::iter::once("crate".to_owned())
        .chain(module.iter().cloned())
        .collect()
}

/// `base` followed by `tail`, each leading `super` going one module up.
fn resolve(base: &[String], tail: &[String]) -> Vec<String> {
    let mut path = base.to_vec();
    let mut rest = tail;
    while let Some((first, more)) = rest.split_first() {
        if first != "super" {
            break;
        }
        path.pop();
        rest = more;
    }
    path.extend(rest.iter().filter(|s| *s != "self").cloned());
    path
}

fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Reads a use tree (`a::b`, `a::{b, c::d as e}`, `*`) into its paths.
struct PathParser<'a> {
    code: &'a str,
    at: usize,
}

impl PathParser<'_> {
    fn skip_space(&mut self) {
        while let Some(c) = self.code[self.at..]
            .chars()
            .next()
            .filter(|c| c.is_whitespace())
        {
            self.at += c.len_utf8();
        }
    }

    fn word(&mut self) -> Option<String> {
        self.skip_space();
        let len = self.code[self.at..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'*')
            .count();
        (len > 0).then(|| {
            let word = self.code[self.at..self.at + len].to_owned();
            self.at += len;
            word
        })
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let found = self.code[self.at..].starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn tree(&mut self) -> Vec<Vec<String>> {
        if self.eat("{") {
            let mut out = Vec::new();
            while !self.eat("}") {
                let before = self.at;
                out.extend(self.tree());
                self.eat(",");
                if self.at == before {
                    // Not a use tree after all; stop rather than spin.
                    break;
                }
            }
            return out;
        }
        let Some(first) = self.word() else {
            return Vec::new();
        };
        if self.code[self.at..].starts_with("::") {
            self.at += 2;
            let mut out = self.tree();
            if out.is_empty() {
                out.push(Vec::new());
            }
            for path in &mut out {
                path.insert(0, first.clone());
            }
            return out;
        }
        let save = self.at;
        if !(self.eat("as") && self.word().is_some()) {
            self.at = save;
        }
        vec![vec![first]]
    }
}

/// Which module files name which others: `module → modules it names`.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The import graph of `files` (`(path under services/, source)`), and
/// every path that leaves `services` for the HTTP layer.
fn graph(files: &[(String, String)]) -> (Graph, Vec<String>) {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| module_of(p)).collect();
    let mut edges = Graph::new();
    let mut http = Vec::new();
    for (path, source) in files {
        let module = module_of(path);
        let name = module.join("::");
        edges.entry(name.clone()).or_default();
        for named in named_paths(&module, &code_of(source)) {
            if named.get(1).is_some_and(|s| s == "http") {
                http.push(format!("{path}: {}", named.join("::")));
                continue;
            }
            // The longest module the path starts with.
            let Some(target) = (1..=named.len())
                .rev()
                .map(|n| named[1..n].to_vec())
                .find(|prefix| modules.contains(prefix))
            else {
                continue;
            };
            // An enclosing module's items (and the module itself) are no
            // dependency of the inside.
            if module.starts_with(&target) {
                continue;
            }
            edges
                .entry(name.clone())
                .or_default()
                .insert(target.join("::"));
        }
    }
    // A folder stands for its files: naming it may reach any of them.
    let folders: Vec<Vec<String>> = modules.iter().cloned().collect();
    for folder in &folders {
        for inner in &folders {
            if inner.len() == folder.len() + 1 && inner.starts_with(folder) {
                edges
                    .entry(folder.join("::"))
                    .or_default()
                    .insert(inner.join("::"));
            }
        }
    }
    (edges, http)
}

/// A loop of the graph, as the modules along it, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit<'g>(
        node: &'g str,
        graph: &'g Graph,
        done: &mut BTreeSet<&'g str>,
        stack: &mut Vec<&'g str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut found: Vec<String> = stack[at..].iter().map(|n| n.to_string()).collect();
            found.push(node.to_owned());
            return Some(found);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, stack) {
                return Some(found);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// The services' source files as `(path under services/, source)`, the
/// tests' folder left out.
fn service_and_testing_files() -> Vec<(String, String)> {
    service_sources()
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(ROOT)
                .expect("under services/")
                .to_string_lossy()
                .replace('\\', "/");
            let source = std::fs::read_to_string(&path).expect("source file");
            (relative, source)
        })
        .collect()
}

/// The services' source files, test code left out.
fn service_files() -> Vec<(String, String)> {
    let mut files = service_and_testing_files();
    files.retain(|(relative, _)| relative != "testing.rs");
    files
}

/// The files of the services' tests folder as `(tests/<name>, source)`,
/// but this one, which names what the others must not in its examples.
fn test_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for path in std::fs::read_dir(format!("{ROOT}/tests")).expect("tests folder") {
        let path = path.expect("dir entry").path();
        let name = path.file_name().expect("a file").to_string_lossy();
        if name != "tidy.rs" {
            let source = std::fs::read_to_string(&path).expect("test source");
            files.push((format!("tests/{name}"), source));
        }
    }
    files
}

#[test]
fn the_services_modules_import_each_other_without_a_loop() {
    let (graph, _) = graph(&service_files());
    assert_eq!(cycle(&graph), None, "an import loop among the services");
    // Guards the scan: the edges every service module has must be seen.
    for (from, to) in [
        ("services::groups", "services::ops::groups"),
        ("services::plans::actions", "services::ops::methods"),
        ("services::ops::methods", "services::ops::enrolments"),
        (
            "services::execution::reconcile",
            "services::execution::pager",
        ),
        ("services::bulk::formats::apply", "services::ops::users"),
    ] {
        assert!(
            graph.get(from).is_some_and(|to_set| to_set.contains(to)),
            "{from} → {to} not found in {graph:#?}"
        );
    }
}

#[test]
fn nothing_in_the_services_imports_the_http_layer() {
    let mut files = service_files();
    // Test code too: a service test reaching for HTTP belongs in `http`.
    files.extend(test_files());
    let (_, http) = graph(&files);
    assert_eq!(http, Vec::<String>::new());
}

#[test]
fn the_scan_finds_a_loop_and_an_import_of_http() {
    let files = [
        (
            "a.rs".to_owned(),
            "use super::b::{self, Thing};\n// super::c is prose\n".to_owned(),
        ),
        (
            "b/mod.rs".to_owned(),
            "mod inner;\npub use inner::Thing;\n".to_owned(),
        ),
        (
            "b/inner.rs".to_owned(),
            "use crate::services::{\n    c::{f, g as h},\n};\nuse crate::{domain::Site, http::{self, App}};\n"
                .to_owned(),
        ),
        (
            "c.rs".to_owned(),
            "fn f() { super::super::http::x(); super::a::y(); }\n".to_owned(),
        ),
    ];
    let (graph, http) = graph(&files);
    assert_eq!(
        cycle(&graph),
        Some(
            [
                "services::a",
                "services::b",
                "services::b::inner",
                "services::c",
                "services::a"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    assert_eq!(
        http,
        [
            "b/inner.rs: crate::http",
            "b/inner.rs: crate::http::App",
            "c.rs: crate::http::x",
        ]
        .map(String::from)
        .to_vec()
    );
    // Without c's call back into a, no loop remains.
    let mut acyclic = files.clone();
    acyclic[3].1 = "fn f() {}\n".to_owned();
    assert_eq!(cycle(&self::graph(&acyclic).0), None);
}

/// Whether a line of code (comments already cut) names a generated
/// contract type: `wit::` as a path segment of its own (`wit::Plan`,
/// `runtime::wit::Plan`), not the end of a longer name.
fn names_wit(code: &str) -> bool {
    code.match_indices("wit::").any(|(at, _)| {
        at == 0 || {
            let before = code.as_bytes()[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_')
        }
    })
}

/// Every `path:line` of `files` whose code names a generated contract type.
fn wit_uses(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, source) in files {
        for (n, line) in source.lines().enumerate() {
            let code = line.find("//").map_or(line, |at| &line[..at]);
            if names_wit(code) {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn nothing_in_the_services_names_a_contract_versions_types() {
    let mut files = service_and_testing_files();
    files.extend(test_files());
    // Guards the scan: it read the services, the contract module included.
    assert!(
        files.iter().any(|(path, _)| path == "contract.rs"),
        "{} files",
        files.len()
    );
    assert_eq!(wit_uses(&files), Vec::<String>::new());
}

#[test]
fn the_scan_finds_a_generated_contract_type_in_code_only() {
    let files = [(
        "a.rs".to_owned(),
        "use crate::runtime::wit;\n\
         fn f(p: wit::Plan) {}\n\
         // wit::Plan in prose\n\
         let plan: crate::runtime::wit::Plan = x; // and a comment\n\
         let kit::Plan = toolkit::Plan;\n"
            .to_owned(),
    )];
    assert_eq!(
        wit_uses(&files),
        [
            "a.rs:2: fn f(p: wit::Plan) {}",
            "a.rs:4: let plan: crate::runtime::wit::Plan = x; // and a comment",
        ]
        .map(String::from)
        .to_vec()
    );
}
