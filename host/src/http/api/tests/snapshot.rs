//! The public API pinned: the served OpenAPI document, byte for byte, is
//! the committed `openapi.snapshot.json`. A change to a view, a handler's
//! attribute or (through a careless view) a stored record shows up here as
//! a diff to review; `UPDATE_EXPECT=1 cargo test … snapshot` accepts it
//! (rust-analyzer's `expect-test` habit).
//!
//! The file holds the document indented, one value a line, so a review
//! diff points at the field that changed; the test compares the served
//! bytes with the file's text without that indentation, so the document a
//! client downloads is what is pinned, key order and all.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use super::ApiTest;
use super::support::call;
use crate::http::AppState;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/http/api/tests/openapi.snapshot.json")
}

#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_snapshot() {
    let t = ApiTest::new();
    let req = TestRequest::get().uri("/api/v1/openapi.json");
    let (status, _, body) = call(AppState::new(t.fx.services.clone()), req).await;
    assert_eq!(status, StatusCode::OK);
    let served = std::str::from_utf8(&body).expect("the document is UTF-8");
    let indented = indent(served);
    assert_eq!(
        compact(&indented),
        served,
        "indenting and compacting round-trips"
    );

    let path = snapshot_path();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &indented).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if compact(&committed) != served {
        panic!(
            "the served OpenAPI document is not {}:\n{}\n\
             If the change to the public API is intended, run the test again \
             with UPDATE_EXPECT=1 and commit the file.",
            path.display(),
            short_diff(&committed, &indented, 40)
        );
    }
}

/// Compact JSON (no whitespace outside strings, as serde_json writes it)
/// indented by two spaces, one value or member a line; `{}` and `[]` stay
/// on one line.
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// The JSON text without whitespace outside strings.
fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// The lines between the common head and the common tail of `old` and
/// `new`, with three lines of context, at most `max` lines of each side.
fn short_diff(old: &str, new: &str, max: usize) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let context = head.saturating_sub(3);
    let mut out = format!("@@ line {} @@\n", context + 1);
    for line in &old[context..head] {
        out.push_str(&format!("  {line}\n"));
    }
    let side = |out: &mut String, lines: &[&str], mark: char| {
        for line in lines.iter().take(max) {
            out.push_str(&format!("{mark} {line}\n"));
        }
        if lines.len() > max {
            out.push_str(&format!("{mark} … {} more lines\n", lines.len() - max));
        }
    };
    side(&mut out, &old[head..old.len() - tail], '-');
    side(&mut out, &new[head..new.len() - tail], '+');
    for line in new[new.len() - tail..].iter().take(3) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

#[test]
fn indenting_keeps_strings_and_empty_containers_whole() {
    let text = r#"{"a":[],"b":{},"c":"x, {y}: \"z\"","d":[1,{"e":null}]}"#;
    let indented = indent(text);
    assert_eq!(
        indented,
        "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": \"x, {y}: \\\"z\\\"\",\n  \"d\": [\n    1,\n    {\n      \"e\": null\n    }\n  ]\n}\n"
    );
    assert_eq!(compact(&indented), text);
}

#[test]
fn the_short_diff_shows_the_changed_lines_with_context() {
    let old = "a\nb\nc\nd\ne\nf\n";
    let new = "a\nb\nc\nD\ne\nf\n";
    assert_eq!(
        short_diff(old, new, 40),
        "@@ line 1 @@\n  a\n  b\n  c\n- d\n+ D\n  e\n  f\n"
    );
}
