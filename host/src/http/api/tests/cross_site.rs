//! Sites are isolated (PRODUCT §2): a token of site A reaches nothing of
//! site B, on any route. The walk is driven by the OpenAPI document, so a
//! route added later is walked without touching this file; a path
//! parameter it does not know fails the walk with a message saying where
//! to teach it.

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Map, Value, json};

use super::ApiTest;
use super::support::{code, registry_state};
use crate::domain::TokenScope;
use crate::http::api::{openapi, operator_paths};
use crate::services::Principal;
use crate::services::testing::TestSite;
use crate::services::tokens::NewToken;

/// Real ids of site B, which equal site A's: both sites are populated
/// alike, so a handler that forgot which site it serves would find them.
struct SiteB {
    fx: TestSite,
    token: u64,
}

impl SiteB {
    fn new(fx: TestSite) -> Self {
        let token = fx
            .services
            .create_token(
                &Principal::system(),
                NewToken {
                    name: "B's own".into(),
                    scope: TokenScope::SiteUser {
                        site: fx.id(),
                        user: fx.admin_id,
                    },
                },
            )
            .expect("token of site B")
            .token
            .id
            .0;
        Self { fx, token }
    }

    /// The id a path parameter or body field of this name stands for.
    fn id_named(&self, name: &str) -> Option<u64> {
        let fx = &self.fx;
        Some(match name {
            "user" | "users" => fx.learners[0].0,
            "course" | "courses" => fx.course.0,
            "group" | "groups" => fx.team_a.0,
            "segment" | "segments" => fx.hr.0,
            "method" | "methods" | "enrolment-methods" | "enrolment_methods" => fx.manual.0,
            "token" | "tokens" => self.token,
            _ => return None,
        })
    }

    /// `path` with every `{param}` replaced by a real value of site B: an
    /// `{id}` by the id of the resource named just before it.
    fn concrete(&self, path: &str) -> String {
        let mut out = Vec::new();
        let mut previous = "";
        for segment in path.split('/') {
            let value = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                None => segment.to_owned(),
                Some("key") => self.fx.site.site().slug.clone(),
                Some(param) => {
                    let name = if param == "id" { previous } else { param };
                    self.id_named(name)
                        .unwrap_or_else(|| {
                            panic!(
                                "the cross-site walk does not know which id of site B to put \
                                 for {{{param}}} in {path}; teach `SiteB::id_named` about {name:?}"
                            )
                        })
                        .to_string()
                }
            };
            previous = segment;
            out.push(value);
        }
        out.join("/")
    }

    /// A plausible value of `schema` (its `example` where it has one):
    /// required fields only, ids of site B for fields named after a
    /// resource, the first choice of enums and unions.
    fn example(&self, doc: &Value, schema: &Value, name: Option<&str>) -> Value {
        if let Some(example) = schema.get("example") {
            return example.clone();
        }
        if let Some(example) = schema["examples"].as_array().and_then(|e| e.first()) {
            return example.clone();
        }
        if let Some(reference) = schema["$ref"].as_str() {
            let target = reference
                .strip_prefix("#/components/schemas/")
                .map(|n| &doc["components"]["schemas"][n])
                .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
            return self.example(doc, target, name);
        }
        if let Some(all) = schema["allOf"].as_array() {
            let mut merged = Map::new();
            for part in all {
                if let Value::Object(fields) = self.example(doc, part, name) {
                    merged.extend(fields);
                }
            }
            return Value::Object(merged);
        }
        for union in ["oneOf", "anyOf"] {
            if let Some(variants) = schema[union].as_array() {
                let variant = variants
                    .iter()
                    .find(|v| v["type"] != "null")
                    .unwrap_or(&Value::Null);
                return self.example(doc, variant, name);
            }
        }
        if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            return first.clone();
        }
        let kind = match &schema["type"] {
            Value::String(t) => t.as_str(),
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if schema.get("properties").is_some() => "object",
            _ => "null",
        };
        match kind {
            "object" => {
                let required: BTreeSet<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut fields = Map::new();
                if let Some(properties) = schema["properties"].as_object() {
                    for (field, s) in properties {
                        if required.contains(field.as_str()) {
                            fields.insert(field.clone(), self.example(doc, s, Some(field)));
                        }
                    }
                }
                Value::Object(fields)
            }
            "array" => json!([self.example(doc, &schema["items"], name)]),
            "integer" | "number" => json!(name.and_then(|n| self.id_named(n)).unwrap_or(1)),
            "boolean" => json!(true),
            "string" => json!(match name.unwrap_or("") {
                "email" => "walker@example.org",
                "brand_colour" => "#123456",
                "slug" | "username" => "walker",
                "shortname" => "WALK101",
                "idnumber" => "walk",
                _ => "Walk",
            }),
            _ => Value::Null,
        }
    }
}

/// One operation of the document: method, path (without `/api/v1`) and
/// a plausible body.
struct Operation {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn operations(b: &SiteB, operator: bool) -> Vec<Operation> {
    let doc = serde_json::to_value(openapi()).expect("document as JSON");
    let operator_paths = operator_paths();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if operator_paths.contains(path) != operator {
            continue;
        }
        let relative = path.strip_prefix("/api/v1").expect("under /api/v1");
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let body = op
                .get("requestBody")
                .map(|rb| b.example(&doc, &rb["content"]["application/json"]["schema"], None));
            out.push(Operation {
                method,
                path: b.concrete(relative),
                body,
            });
        }
    }
    out
}

/// What is wrong with an answer to a cross-site call, if anything. A 404
/// must come from a service (nothing of that id *here*), not from the
/// router or a path that failed to parse, which would hide a route the
/// walk never reached.
fn refusal_problem(status: StatusCode, body: &Value, want: &[StatusCode]) -> Option<String> {
    let message = body["error"]["message"].as_str().unwrap_or("");
    let unreached = status == StatusCode::NOT_FOUND
        && (message.starts_with("no such resource") || message.starts_with("there is no page"));
    if want.contains(&status) && !unreached {
        None
    } else {
        Some(format!("{status} {body}"))
    }
}

#[actix_web::test]
async fn a_site_admin_token_reaches_nothing_of_another_site_on_any_site_route() {
    let (a, b) = TestSite::two_sites();
    let t = ApiTest::with(a);
    let b = SiteB::new(b);
    let before = (b.fx.snapshot(), registry_state(&b.fx));
    let slug = b.fx.site.site().slug.clone();
    let host = b.fx.site.site().hostnames[0].clone();
    let ops = operations(&b, false);
    let mut failures = Vec::new();
    for op in &ops {
        let by_prefix = TestRequest::default()
            .method(op.method.clone())
            .uri(&format!("/s/{slug}/api/v1{}", op.path));
        let by_host = TestRequest::default()
            .method(op.method.clone())
            .uri(&format!("/api/v1{}", op.path))
            .insert_header(("Host", host.as_str()));
        for (how, mut req) in [("by prefix", by_prefix), ("by host name", by_host)] {
            if let Some(body) = &op.body {
                req = req.set_json(body);
            }
            let (status, body) = t.admin().send(req).await;
            let want = [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
            if let Some(problem) = refusal_problem(status, &body, &want) {
                failures.push(format!("{} {} ({how}): {problem}", op.method, op.path));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "reached site B:\n{}",
        failures.join("\n")
    );
    let walked: BTreeSet<String> = ops
        .iter()
        .map(|o| format!("{} {}", o.method, o.path))
        .collect();
    for known in [
        format!("GET /segments/{}", b.fx.hr),
        format!(
            "DELETE /groups/{}/members/{}",
            b.fx.team_a, b.fx.learners[0]
        ),
        format!("POST /courses/{}/groups", b.fx.course),
        "GET /audit".to_owned(),
        format!("DELETE /tokens/{}", b.token),
    ] {
        assert!(
            walked.contains(&known),
            "{known} was not walked: {walked:#?}"
        );
    }
    assert_eq!((b.fx.snapshot(), registry_state(&b.fx)), before);
}

#[actix_web::test]
async fn site_user_tokens_are_refused_on_every_operator_route() {
    let (a, b) = TestSite::two_sites();
    let t = ApiTest::with(a);
    let b = SiteB::new(b);
    let before = (t.fx.snapshot(), b.fx.snapshot(), registry_state(&b.fx));
    let ops = operations(&b, true);
    assert!(ops.len() >= 9, "the operator routes are in the document");
    let mut failures = Vec::new();
    for op in &ops {
        let mut req = TestRequest::default()
            .method(op.method.clone())
            .uri(&format!("/api/v1{}", op.path));
        if let Some(body) = &op.body {
            req = req.set_json(body);
        }
        let (status, body) = t.admin().send(req).await;
        if let Some(problem) = refusal_problem(status, &body, &[StatusCode::FORBIDDEN]) {
            failures.push(format!("{} {}: {problem}", op.method, op.path));
        } else {
            assert_eq!(code(&body), "forbidden");
        }
    }
    assert!(
        failures.is_empty(),
        "a site admin reached operator routes:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        (t.fx.snapshot(), b.fx.snapshot(), registry_state(&b.fx)),
        before
    );
}
