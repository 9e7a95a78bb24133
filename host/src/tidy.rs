//! Architecture invariants of the whole host that a scan of its source can
//! check, as rust-analyzer's tidy tests do (each layer's own scans live
//! beside it: `services/tests/tidy.rs`, `http/api/tests/tidy.rs`).
//!
//! - A source file holds one concern: none outside tests is longer than
//!   [`MAX_LINES`] lines (a module that grows past it becomes a folder).
//! - Layers call only the one below them: nothing in `storage/` names the
//!   services, the HTTP layer, the console or the runtime; nothing in
//!   `http/` or `console/` names `storage` (they reach it through services,
//!   which re-export the one storage type they report, `StorageError`).
//!
//! Paths are read, not resolved, and comments are skipped, so prose may
//! name any layer.

use std::path::{Path, PathBuf};

/// The longest a non-test source file of the host's crates may be.
const MAX_LINES: usize = 800;

/// The source folders of the host's crates, relative to the workspace.
const HOST_SOURCES: &[&str] = &["host/src", "host/runtime/src", "host/domain/src"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf()
}

/// Every `.rs` file below `dir`, in path order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Test code: a `tests/` folder or `tests.rs`, the runtime's tests in the
/// host, and the one-line test site builder.
fn is_test_code(relative: &str) -> bool {
    relative.contains("/tests/")
        || relative.ends_with("/tests.rs")
        || relative.ends_with("/tidy.rs")
        || relative.contains("/runtime_tests/")
        || relative.ends_with("/testing.rs")
}

/// The `.rs` files below `dir` (relative to the workspace) that are not
/// test code, each with its path relative to the workspace.
fn non_test_files(dir: &str) -> Vec<(PathBuf, String)> {
    let root = workspace();
    rust_files(&root.join(dir))
        .into_iter()
        .filter_map(|file| {
            let relative = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            (!is_test_code(&relative)).then_some((file, relative))
        })
        .collect()
}

/// The lines of `source` that are code: line comments and doc comments
/// dropped.
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    source
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
}

/// `(file, line)` of each line of the files under `layer` that names one
/// of `forbidden` (e.g. `crate::storage`). Test code may use anything and
/// is not read.
fn reaches(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, relative) in non_test_files(layer) {
        let source = std::fs::read_to_string(&file).expect("source file");
        for line in code_lines(&source) {
            if forbidden.iter().any(|f| line.contains(f)) {
                found.push(format!("{relative}: {line}"));
            }
        }
    }
    found
}

#[test]
fn no_source_file_outside_tests_is_longer_than_the_limit() {
    let mut long = Vec::new();
    for dir in HOST_SOURCES {
        for (file, relative) in non_test_files(dir) {
            let lines = std::fs::read_to_string(&file)
                .expect("source file")
                .lines()
                .count();
            if lines > MAX_LINES {
                long.push(format!("{relative}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (one concern a file: make a folder):\n{}",
        long.join("\n")
    );
}

#[test]
fn storage_names_no_layer_above_it() {
    let found = reaches(
        "host/src/storage",
        &[
            "crate::services",
            "crate::http",
            "crate::console",
            "crate::runtime",
            "crate::jobs",
        ],
    );
    assert!(
        found.is_empty(),
        "storage reaches up:\n{}",
        found.join("\n")
    );
}

#[test]
fn http_and_the_console_reach_storage_only_through_services() {
    let mut found = reaches("host/src/http", &["crate::storage"]);
    found.extend(reaches("host/src/console", &["crate::storage"]));
    assert!(
        found.is_empty(),
        "the HTTP layer or the console names storage:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scans_see_code_and_skip_prose() {
    let source = "//! crate::storage in prose\nuse crate::storage::StorageError;\n";
    let lines: Vec<&str> = code_lines(source).collect();
    assert_eq!(lines, ["use crate::storage::StorageError;"]);
    assert!(is_test_code("host/src/services/tests/authz.rs"));
    assert!(is_test_code("host/runtime/src/tests.rs"));
    assert!(!is_test_code("host/src/services/execution/reconcile.rs"));
}
