//! End-to-end: rule-based segments against the real binary (issue 20's
//! acceptance). Two segments kept by `profile-field-rules` rules, each
//! synced into its own group of a course; a user whose department changes
//! moves from one segment to the other, and from one group to the other,
//! live: the profile change is an event, the rule's plan another, the
//! segment syncs follow — all through the server's JSON API, waiting only
//! on what the host reports.

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::support::{ApiClient, TestServer, arg};

const SITE: &str = "/s/default/api/v1";

/// A debug build on a busy machine may need more than the default second
/// for one plugin call, which is not what this test is about.
const SERVE: &[&str] = &["--plugin-deadline-ms", "10000"];

/// How long the move may take before the test gives up.
const DEADLINE: Duration = Duration::from_secs(60);

const POLL: Duration = Duration::from_millis(100);

fn id(value: &Value) -> Result<u64> {
    value["id"]
        .as_u64()
        .with_context(|| format!("no id in {value}"))
}

/// `PUT path` with a JSON body as `token` (the test client of `support`
/// sends no PUT): the status and the JSON answer.
fn put(server: &TestServer, token: &str, path: &str, body: &Value) -> Result<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .put(format!("{}{SITE}{path}", server.url))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(body)
        .with_context(|| format!("PUT {path}"))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string()?;
    let json = serde_json::from_str(&text).with_context(|| format!("PUT {path}: {text}"))?;
    Ok((status, json))
}

/// The usernames of a segment's members.
fn segment_members(api: &ApiClient, segment: u64) -> Result<BTreeSet<String>> {
    usernames(api.all(&format!("/segments/{segment}/members"))?.iter())
}

/// The usernames of a group's members.
fn group_members(api: &ApiClient, group: u64) -> Result<BTreeSet<String>> {
    let members = api.all(&format!("/groups/{group}/members"))?;
    usernames(members.iter().map(|m| &m["user"]))
}

fn usernames<'a>(users: impl Iterator<Item = &'a Value>) -> Result<BTreeSet<String>> {
    users
        .map(|u| {
            u["username"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no username in {u}"))
        })
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Calls `check` until it says yes; fails after [`DEADLINE`] with what
/// `check` saw last.
fn wait_until(what: &str, mut check: impl FnMut() -> Result<Option<String>>) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let Some(seen) = check()? else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            bail!("timed out after {DEADLINE:?} waiting for {what}; last seen: {seen}");
        }
        thread::sleep(POLL);
    }
}

#[test]
fn a_department_change_moves_the_user_between_rule_segments_and_their_groups() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let server = TestServer::start_with(&data, SERVE)?;

    // The operator sets up the people office's account; it does the rest.
    let (_, operator_secret, _) = create_token(d, &["--name", "bootstrap", "--operator"])?;
    server.api(&operator_secret, SITE).expect(
        201,
        "POST",
        "/users",
        json!({"username": "peopleops", "email": "peopleops@example.org",
               "firstname": "People", "lastname": "Ops", "site_admin": true}),
    )?;
    let (_, secret, _) = create_token(d, &["--name", "people office", "--user", "peopleops"])?;
    let api = server.api(&secret, SITE);

    // The department each person has: a profile field (a fresh site has
    // none; a demo site has it as text, which serves as well).
    let fields = api.expect(200, "GET", "/profile-fields", Value::Null)?;
    let has_department = fields["items"]
        .as_array()
        .context("profile fields")?
        .iter()
        .any(|f| f["shortname"] == "department");
    if !has_department {
        api.expect(
            201,
            "POST",
            "/profile-fields",
            json!({"shortname": "department", "name": "Department",
                   "kind": {"menu": {"choices": ["HR", "Finance", "IT"]}}}),
        )?;
    }
    let mut user = std::collections::BTreeMap::new();
    for (username, department) in [("hanna", "HR"), ("henrik", "HR"), ("fiona", "Finance")] {
        let created = api.expect(
            201,
            "POST",
            "/users",
            json!({"username": username, "email": format!("{username}@example.org"),
                   "firstname": username, "lastname": "Person",
                   "profile": {"department": department}}),
        )?;
        user.insert(username, id(&created)?);
    }

    // Two segments, each kept by a rule of the bundled plugin.
    let plugins = api.expect(200, "GET", "/rule-plugins", Value::Null)?;
    ensure!(
        plugins["items"]
            .as_array()
            .context("rule plugins")?
            .iter()
            .any(|p| p["id"] == "profile-field-rules"),
        "{plugins}"
    );
    let mut segment = std::collections::BTreeMap::new();
    for (name, department, joined) in [("HR people", "HR", 2), ("Finance people", "Finance", 1)] {
        let created = api.expect(201, "POST", "/segments", json!({ "name": name }))?;
        let seg = id(&created)?;
        let (status, set) = put(
            &server,
            &secret,
            &format!("/segments/{seg}/rule"),
            &json!({"plugin": "profile-field-rules",
                    "config": {"match": "all", "rule": format!("profile.department equals {department}")}}),
        )?;
        ensure!(status == 200, "PUT rule of {name}: {status} {set}");
        ensure!(
            set["first_run"]
                == json!({"outcome": "done", "joined": joined, "left": 0, "error": null}),
            "{name}: {set}"
        );
        segment.insert(department, seg);
    }
    ensure!(segment_members(&api, segment["HR"])? == names(&["hanna", "henrik"]));
    ensure!(segment_members(&api, segment["Finance"])? == names(&["fiona"]));
    let (status, hr) = api.get(&format!("/segments/{}", segment["HR"]))?;
    ensure!(
        status == 200 && hr["managed_by"] == "profile-field-rules",
        "{hr}"
    );

    // A course with a segment sync per segment, each into a new group.
    let course = id(&api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": "ONBOARD", "fullname": "Onboarding", "group_mode": "separate"}),
    )?)?;
    for department in ["HR", "Finance"] {
        let added = api.expect(
            201,
            "POST",
            &format!("/courses/{course}/methods"),
            json!({"plugin": "segment-sync",
                   "config": {"segment": segment[department], "group": "new"},
                   "wait_for_first_run": true}),
        )?;
        ensure!(
            added["first_run"]["outcome"] == "done",
            "{department}: {added}"
        );
    }
    let groups = api.all(&format!("/courses/{course}/groups"))?;
    let group_named = |name: &str| -> Result<u64> {
        let found = groups
            .iter()
            .find(|g| g["name"] == name)
            .with_context(|| format!("no group {name:?} in {groups:?}"))?;
        id(found)
    };
    let hr_group = group_named("HR people segment")?;
    let finance_group = group_named("Finance people segment")?;
    ensure!(group_members(&api, hr_group)? == names(&["hanna", "henrik"]));
    ensure!(group_members(&api, finance_group)? == names(&["fiona"]));

    // Hanna moves to Finance: one profile change, nothing else.
    api.expect(
        200,
        "PATCH",
        &format!("/users/{}", user["hanna"]),
        json!({"profile": {"department": "Finance"}}),
    )?;
    wait_until(
        "hanna to move from the HR group to the Finance group",
        || {
            let (hr, finance) = (
                group_members(&api, hr_group)?,
                group_members(&api, finance_group)?,
            );
            let moved = hr == names(&["henrik"]) && finance == names(&["fiona", "hanna"]);
            Ok((!moved).then(|| format!("HR group {hr:?}, Finance group {finance:?}")))
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}\nstderr: {}", server.stderr()))?;
    ensure!(segment_members(&api, segment["HR"])? == names(&["henrik"]));
    ensure!(segment_members(&api, segment["Finance"])? == names(&["fiona", "hanna"]));

    // The segment changes are the rules', as the audit log says.
    let entries = api.all("/audit?action=segment.member_&limit=100")?;
    let about_hanna = |action: &str, seg: u64| {
        entries.iter().find(|e| {
            e["action"] == action
                && e["target"] == format!("user #{} in segment #{seg}", user["hanna"])
        })
    };
    let left = about_hanna("segment.member_removed", segment["HR"])
        .with_context(|| format!("hanna leaving HR people in {entries:?}"))?;
    ensure!(
        left["actor"] == json!({"kind": "rule", "segment": segment["HR"]}),
        "{left}"
    );
    let joined = about_hanna("segment.member_added", segment["Finance"])
        .with_context(|| format!("hanna joining Finance people in {entries:?}"))?;
    ensure!(
        joined["actor"] == json!({"kind": "rule", "segment": segment["Finance"]}),
        "{joined}"
    );

    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(())
}
