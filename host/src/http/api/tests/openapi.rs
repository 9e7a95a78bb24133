//! The OpenAPI document: valid OpenAPI 3.1, and exactly the routes the
//! handlers declare (a tidy check over the source).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use serde_json::Value;

use super::ApiTest;

/// The official OpenAPI 3.1 schema; see `schemas/README.md`.
const OPENAPI_31_SCHEMA: &str = include_str!("schemas/openapi-3.1.json");

async fn served_document() -> Value {
    let t = ApiTest::new();
    let (status, doc) = t.anonymous().at("").get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

#[actix_web::test]
async fn the_document_is_valid_openapi_3_1() {
    let doc = served_document().await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    let schema: Value = serde_json::from_str(OPENAPI_31_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OpenAPI 3.1 schema compiles");
    // Server URLs may hold `{variables}` (OpenAPI §4.8.5), which the
    // schema's `uri-reference` format does not allow for: check each URL
    // as a client uses it, with its variables at their defaults.
    let mut expanded = doc.clone();
    for server in expanded["servers"].as_array_mut().into_iter().flatten() {
        let mut url = server["url"].as_str().expect("server url").to_owned();
        for (name, variable) in server["variables"].as_object().into_iter().flatten() {
            let default = variable["default"].as_str().expect("variable default");
            url = url.replace(&format!("{{{name}}}"), default);
        }
        server["url"] = Value::String(url);
    }
    let errors: Vec<String> = validator
        .iter_errors(&expanded)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not OpenAPI 3.1:\n{}", errors.join("\n"));

    // The OpenAPI schema leaves Schema Objects to the JSON Schema dialect.
    for (name, component) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let Err(e) = jsonschema::draft202012::meta::validate(component) {
            panic!("schema {name} is not JSON Schema 2020-12: {e}\n{component}");
        }
    }
}

/// Every `$ref` of the document names something it holds.
#[actix_web::test]
async fn every_reference_resolves_and_every_path_parameter_is_declared() {
    let doc = served_document().await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }

    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().expect("path item") {
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .inspect(|p| assert_eq!(p["required"], true, "{method} {path}: {p}"))
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(declared, in_path, "path parameters of {method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.contains_key("401"),
                "{method} {path} documents its 401"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has a tag"
            );
        }
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The source files of the API's handlers (`http/api/*.rs`, not the
/// views' or the tests' folders), in path order.
pub(super) fn handler_sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/api");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("api dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "found the API's files in {}",
        dir.display()
    );
    files
}

/// `(METHOD, /api/v1 + path)` of every `#[get("…")]`, `#[post("…")]`, …
/// attribute in the API's source files.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for file in handler_sources() {
        let text = std::fs::read_to_string(&file).expect("source");
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) else {
                    continue;
                };
                let path = rest
                    .split('"')
                    .next()
                    .unwrap_or_else(|| panic!("{}: {line}", file.display()));
                out.insert((method.to_uppercase(), format!("/api/v1{path}")));
            }
        }
    }
    out
}

#[actix_web::test]
async fn the_document_lists_every_route_of_the_source_and_nothing_else() {
    let doc = served_document().await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            const METHODS: [&str; 8] = [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ];
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let declared = routes_in_source();
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from the document: {undocumented:#?}\n\
         documented operations no handler declares: {unrouted:#?}"
    );
    assert!(declared.len() >= 30, "{declared:#?}");
}
