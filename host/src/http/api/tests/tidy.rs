//! Architecture invariants of the API's edge that a scan of the source can
//! check, as rust-analyzer's tidy tests do:
//!
//! - the OpenAPI schema is the HTTP layer's business: no Rust source of
//!   the workspace outside `host/src/http/` names `utoipa`, so no domain
//!   record or service DTO can be (or become) a public schema;
//! - a handler answers views, never records: every type named in a
//!   `web::Json<…>` of an `http/api` file, and every value a `.json(…)`
//!   answers (written `SomeView::from(…)`), is declared under `http/` and
//!   not imported from below it (`crate::domain`, `crate::services`, …).
//!
//! Sources are read, not compiled: comments are left out, paths are taken
//! as written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const HOST: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file below `dir`, skipping build output, hidden folders and
/// `skip`, in path order.
fn rust_sources(dir: &Path, skip: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path == skip || name == "target" || name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(&path, skip, out);
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, skip, &mut files);
    files.sort();
    files
}

/// The source without its line comments: docs may name anything in prose.
fn code_of(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_source_outside_the_http_layer_names_utoipa() {
    let workspace = Path::new(HOST).parent().expect("the workspace folder");
    let http = Path::new(HOST).join("src/http");
    let files = rust_sources(workspace, &http);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(Path::new(HOST).join("src/services"))),
        "the scan reads the services ({} files)",
        files.len()
    );
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let source = std::fs::read_to_string(f).expect("source");
            code_of(&source).contains("utoipa")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "utoipa outside host/src/http/ (give the API a view in http/api/views/ \
         instead of a schema on the record): {offenders:#?}"
    );
}

/// The names of the types declared under `http/`: every `struct`, `enum`
/// and `type`, and the views a macro declares (`UserIdView as UserId`).
fn http_types() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let none = Path::new("");
    for file in rust_sources(&Path::new(HOST).join("src/http"), none) {
        let code = code_of(&std::fs::read_to_string(&file).expect("source"));
        let words: Vec<&str> = code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(3) {
            if matches!(pair[0], "struct" | "enum" | "type") {
                names.insert(pair[1].to_owned());
            }
            if pair[0].ends_with("View") && pair[1] == "as" {
                names.insert(pair[0].to_owned());
            }
        }
    }
    names
}

/// The type names a file imports from outside the HTTP layer: every
/// capitalised name of a `use crate::…;` that does not start
/// `crate::http`.
fn imported_from_below(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let Some(path) = statement.strip_prefix("use ") else {
            continue;
        };
        let path = path.trim();
        if path.starts_with("crate::") && !path.starts_with("crate::http") {
            names.extend(capitalised(path).map(str::to_owned));
        }
    }
    names
}

fn capitalised(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The text between the brackets that follow each `open` in `code`
/// (`<`…`>` or `(`…`)`, nested ones included).
fn bracketed<'a>(code: &'a str, open: &str) -> Vec<&'a str> {
    let (left, right) = match open.chars().last() {
        Some('<') => ('<', '>'),
        _ => ('(', ')'),
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices(open) {
        let start = at + open.len();
        let mut depth = 1usize;
        for (i, c) in code[start..].char_indices() {
            if c == left {
                depth += 1;
            } else if c == right {
                depth -= 1;
                if depth == 0 {
                    out.push(&code[start..start + i]);
                    break;
                }
            }
        }
    }
    out
}

/// What a handler file answers (or reads) as JSON that is not a view of
/// the HTTP layer, one line each.
fn json_of_records(code: &str, http: &BTreeSet<String>) -> Vec<String> {
    // serde_json's own values and the std containers wrap views.
    const AS_IS: [&str; 5] = ["Vec", "Option", "String", "Map", "Value"];
    let below = imported_from_below(code);
    let is_view = |name: &str| http.contains(name) && !below.contains(name);
    let mut found = Vec::new();
    for argument in bracketed(code, "web::Json<") {
        for name in capitalised(argument) {
            if !AS_IS.contains(&name) && !is_view(name) {
                found.push(format!("web::Json<{argument}> names {name}"));
            }
        }
    }
    for argument in bracketed(code, ".json(") {
        let argument = argument.trim();
        let answered = argument.split("::from(").next().unwrap_or("");
        let answers_a_view = argument.contains("::from(")
            && answered.chars().all(|c| c.is_alphanumeric() || c == '_')
            && is_view(answered);
        if !answers_a_view && argument != "openapi()" {
            found.push(format!(".json({argument}) answers no `SomeView::from(…)`"));
        }
    }
    found
}

#[test]
fn handlers_answer_views_never_records() {
    let http = http_types();
    assert!(
        http.contains("SiteView") && http.contains("UserIdView"),
        "{http:?}"
    );
    let mut answers = 0;
    let mut offences = Vec::new();
    for file in &super::openapi::handler_sources() {
        let code = code_of(&std::fs::read_to_string(file).expect("source"));
        answers += code.matches("web::Json<").count() + code.matches(".json(").count();
        for offence in json_of_records(&code, &http) {
            offences.push(format!("{}: {offence}", file.display()));
        }
    }
    assert!(
        answers >= 60,
        "the scan sees the handlers ({answers} answers)"
    );
    assert!(
        offences.is_empty(),
        "a handler speaks JSON in a type of another layer; make it a view in \
         http/api/views/:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_catches_a_record_answered_as_json() {
    let http: BTreeSet<String> = ["CourseView", "Page", "MembershipChange"]
        .map(str::to_owned)
        .into();
    let handler = "use crate::domain::{Course, CourseId};\n\
        use crate::services::segments::MembershipChange;\n\
        async fn a() -> ApiResult<web::Json<Page<Course>>> {}\n\
        async fn b() -> ApiResult<web::Json<MembershipChange>> {}\n\
        async fn c() { HttpResponse::Created().json(created) }\n\
        async fn d() -> ApiResult<web::Json<Page<CourseView>>> {\n\
            HttpResponse::Created().json(CourseView::from(created))\n\
        }\n";
    let found = json_of_records(handler, &http);
    assert_eq!(
        found,
        [
            "web::Json<Page<Course>> names Course",
            "web::Json<MembershipChange> names MembershipChange",
            ".json(created) answers no `SomeView::from(…)`",
        ],
        "{found:#?}"
    );
}
