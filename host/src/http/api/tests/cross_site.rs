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
use crate::domain::{Role, TokenScope};
use crate::http::api::{openapi, operator_paths};
use crate::services::Principal;
use crate::services::mass_enrolments::{MassEnrolmentRequest, MassGroupChoice};
use crate::services::testing::TestSite;
use crate::services::tokens::NewToken;

/// Real ids of site B, which equal site A's: both sites are populated
/// alike, so a handler that forgot which site it serves would find them.
pub(super) struct SiteB {
    pub(super) fx: TestSite,
    token: u64,
    /// An announcement of B's admin to B's course, sent: in the inbox of
    /// B's learners.
    announcement: u64,
    mass_enrolment: u64,
    forum: ForumIds,
    /// A section, an assignment in it and a learner's submission to it
    /// with one file.
    teaching: crate::services::testing::AssignmentSample,
}

/// A forum in the fixture's section holding a Team A discussion with a reply, by
/// the fixture's teacher.
#[derive(Copy, Clone)]
pub(super) struct ForumIds {
    pub(super) forum: u64,
    pub(super) discussion: u64,
    pub(super) post: u64,
}

impl ForumIds {
    pub(super) fn of(fx: &TestSite) -> Self {
        use crate::services::discussions::{ActivityDraft, NewDiscussion};
        let forum = fx
            .site
            .create_forum(
                &fx.teacher,
                fx.section,
                &ActivityDraft {
                    name: "Questions".into(),
                    visible: true,
                    ..Default::default()
                },
            )
            .expect("a forum");
        let discussion = fx
            .site
            .start_discussion(
                &fx.teacher,
                forum.id,
                NewDiscussion {
                    group: Some(fx.team_a),
                    subject: "Welcome".into(),
                    body: "Hello, Team A.".into(),
                },
            )
            .expect("a discussion");
        let reply = fx
            .site
            .reply(&fx.teacher, discussion.first_post, "And welcome again.")
            .expect("a reply");
        Self {
            forum: forum.id.0,
            discussion: discussion.id.0,
            post: reply.id.0,
        }
    }
}

impl SiteB {
    pub(super) fn new(fx: TestSite) -> Self {
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
        let announcement = fx
            .site
            .create_announcement(
                &fx.admin,
                crate::services::announcements::AnnouncementDraft {
                    audience: crate::domain::Audience::Course(fx.course),
                    subject: "B's news".into(),
                    body: "For B only.".into(),
                    send_at: None,
                },
            )
            .expect("announcement of site B")
            .id
            .0;
        // Site B's HR is all enrolled already: a new group gives the mass
        // enrolment something to do.
        let mass_enrolment = fx
            .site
            .apply_mass_enrolment(
                &Principal::system(),
                fx.hr,
                &MassEnrolmentRequest {
                    course: fx.course,
                    role: Role::Learner,
                    group: MassGroupChoice::New("B's mass enrolment".into()),
                },
            )
            .expect("a mass enrolment of site B")
            .id
            .0;
        let forum = ForumIds::of(&fx);
        let teaching = fx.assignment_sample();
        // B's HR (learners 1–3) is kept by a rule from here on, so the
        // rule routes have one of B's to refuse.
        for &l in &fx.learners[..3] {
            fx.set_department(l, "HR");
        }
        fx.site
            .set_segment_rule(
                &fx.admin,
                fx.hr,
                "profile-field-rules",
                &json!({"match": "all", "rule": "profile.department equals HR"}),
            )
            .expect("a rule of site B")
            .outcome
            .expect("its first run");
        Self {
            fx,
            token,
            announcement,
            mass_enrolment,
            forum,
            teaching,
        }
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
            "announcement" | "announcements" | "inbox" => self.announcement,
            "mass-enrolments" => self.mass_enrolment,
            "sections" => fx.section.0,
            "activities" => fx.page.0,
            "groupings" => fx.grouping.0,
            "forums" => self.forum.forum,
            "discussions" => self.forum.discussion,
            "posts" => self.forum.post,
            "assignments" => self.teaching.assignment.0,
            "submissions" => self.teaching.submission.0,
            "grade-items" => course_total(&self.fx).0,
            // The fixture's `department`.
            "profile-fields" => 1,
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
                // An import kind every site accepts.
                Some("kind") => "segment-members".to_owned(),
                Some("format") => "grades.csv".to_owned(),
                // A plugin every site has, at the version it runs.
                Some("plugin") => "noop".to_owned(),
                Some("version") => "1.0.0".to_owned(),
                // The file of B's submission, by name and by digest.
                Some("name") => "essay.txt".to_owned(),
                Some("sha256") => self.teaching.file.clone(),
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

    /// Plausible bodies for `schema`: its `example` where it has one;
    /// else its required fields only, all its fields, and its required
    /// fields with each optional one (some bodies need one of two
    /// optional fields).
    fn bodies(&self, doc: &Value, schema: &Value) -> Vec<Value> {
        let schema = self.resolve(doc, schema);
        if schema.get("example").is_some() || schema.get("properties").is_none() {
            return vec![self.example(doc, schema, None)];
        }
        let required = self.example(doc, schema, None);
        let mut out = vec![required.clone()];
        let mut all = required.clone();
        for (field, s) in schema["properties"].as_object().into_iter().flatten() {
            if required.get(field).is_some() {
                continue;
            }
            let value = self.example(doc, s, Some(field));
            all[field] = value.clone();
            let mut one = required.clone();
            one[field] = value;
            out.push(one);
        }
        out.push(all);
        out.dedup();
        out
    }

    fn resolve<'d>(&self, doc: &'d Value, schema: &'d Value) -> &'d Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let target = reference
                    .strip_prefix("#/components/schemas/")
                    .map(|n| &doc["components"]["schemas"][n])
                    .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
                self.resolve(doc, target)
            }
            None => schema,
        }
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
        if schema.get("$ref").is_some() {
            return self.example(doc, self.resolve(doc, schema), name);
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
/// the plausible bodies to send (none when it takes no body).
pub(super) struct Operation {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) bodies: Vec<Option<Body>>,
}

/// A request body of the walk, as its operation's document asks for it.
#[derive(Debug)]
pub(super) enum Body {
    Json(Value),
    Csv(String),
}

pub(super) fn operations(b: &SiteB, operator: bool) -> Vec<Operation> {
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
            let bodies = match op.get("requestBody") {
                // A CSV upload: a file naming site B's own user and
                // segment, which an import applied there would change.
                Some(rb) if rb["content"].get("text/csv").is_some() => {
                    vec![Some(Body::Csv(
                        "username,segment\nlearner1,finance\n".into(),
                    ))]
                }
                Some(rb) => b
                    .bodies(&doc, &rb["content"]["application/json"]["schema"])
                    .into_iter()
                    .map(|v| Some(Body::Json(v)))
                    .collect(),
                None => vec![None],
            };
            out.push(Operation {
                method,
                path: b.concrete(relative),
                bodies,
            });
        }
    }
    out
}

/// How an answer to a cross-site call reads.
#[derive(PartialEq)]
enum Answer {
    /// Refused by a service: the call reached it.
    Refused,
    /// The body or query was refused before any lookup, which tells
    /// nothing about the other site; another body must reach the service.
    BadInput,
    /// Anything else: a success, a refusal that depends on the other
    /// site's data (a duplicate, a conflict), a router 404 or a path that
    /// failed to parse (a route the walk never reached).
    Wrong(String),
}

fn answer(status: StatusCode, body: &Value, refusals: &[StatusCode]) -> Answer {
    let message = body["error"]["message"].as_str().unwrap_or("");
    let unreached = status == StatusCode::NOT_FOUND
        && (message.starts_with("no such resource") || message.starts_with("there is no page"));
    if refusals.contains(&status) && !unreached {
        return Answer::Refused;
    }
    let input = [
        "bad_request",
        "missing_field",
        "unknown_field",
        "invalid_body",
        "invalid",
    ];
    if matches!(status.as_u16(), 400 | 422) && input.contains(&code(body)) {
        return Answer::BadInput;
    }
    Answer::Wrong(format!("{status} {body}"))
}

/// Sends every body of `op` with `req` (a fresh request per body) and
/// says what is wrong, if anything.
async fn walk_one(
    t: &ApiTest,
    op: &Operation,
    req: impl Fn() -> TestRequest,
    refusals: &[StatusCode],
) -> Option<String> {
    let mut refused = false;
    for body in &op.bodies {
        let mut r = req();
        match body {
            Some(Body::Json(body)) => r = r.set_json(body),
            Some(Body::Csv(text)) => {
                r = r
                    .insert_header(("Content-Type", "text/csv"))
                    .set_payload(text.clone())
            }
            None => {}
        }
        let (status, answered) = t.admin().send(r).await;
        match answer(status, &answered, refusals) {
            Answer::Refused => refused = true,
            Answer::BadInput => {}
            Answer::Wrong(what) => return Some(format!("{what} (body {body:?})")),
        }
    }
    (!refused).then(|| format!("no body reached the service: {:?}", op.bodies))
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
    let refusals = [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
    for op in &ops {
        let by_prefix = || {
            TestRequest::default()
                .method(op.method.clone())
                .uri(&format!("/s/{slug}/api/v1{}", op.path))
        };
        let by_host = || {
            TestRequest::default()
                .method(op.method.clone())
                .uri(&format!("/api/v1{}", op.path))
                .insert_header(("Host", host.as_str()))
        };
        if let Some(problem) = walk_one(&t, op, by_prefix, &refusals).await {
            failures.push(format!("{} {} (by prefix): {problem}", op.method, op.path));
        }
        if let Some(problem) = walk_one(&t, op, by_host, &refusals).await {
            failures.push(format!(
                "{} {} (by host name): {problem}",
                op.method, op.path
            ));
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
        format!("GET /segments/{}/rule", b.fx.hr),
        format!("PUT /segments/{}/rule", b.fx.hr),
        format!("POST /segments/{}/rule/run", b.fx.hr),
        "GET /rule-plugins".to_owned(),
        format!(
            "DELETE /groups/{}/members/{}",
            b.fx.team_a, b.fx.learners[0]
        ),
        format!("POST /courses/{}/groups", b.fx.course),
        "GET /audit".to_owned(),
        "POST /imports/segment-members".to_owned(),
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
        let req = || {
            TestRequest::default()
                .method(op.method.clone())
                .uri(&format!("/api/v1{}", op.path))
        };
        if let Some(problem) = walk_one(&t, op, req, &[StatusCode::FORBIDDEN]).await {
            failures.push(format!("{} {}: {problem}", op.method, op.path));
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

/// The course total of the fixture's course (every course has one).
pub(super) fn course_total(fx: &TestSite) -> crate::domain::GradeItemId {
    fx.site
        .gradebook_setup(&crate::services::Principal::system(), fx.course)
        .expect("gradebook")
        .items
        .iter()
        .find(|i| i.item.source == crate::domain::GradeSource::Course)
        .expect("course total")
        .item
        .id
}
