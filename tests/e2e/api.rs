//! End-to-end: the JSON API as a script uses it, against the real binary,
//! with tokens minted by `charon token …` while the server runs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::support::{ApiClient, TestServer, arg, charon};

const SITE: &str = "/s/default/api/v1";

/// `charon token create … --json` against the running server: the token's
/// id and its secret, and whom it acts as.
pub(crate) fn create_token(data: &str, args: &[&str]) -> Result<(u64, String, Value)> {
    let mut all = vec!["token", "create", "--data", data, "--json"];
    all.extend_from_slice(args);
    let out = charon(&all)?;
    ensure!(out.status.success(), "token create: {}", out.stderr);
    ensure!(
        !out.stderr.contains("one-time password"),
        "through the running server, not a data dir of its own: {}",
        out.stderr
    );
    let created: Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("token create --json: {}", out.stdout))?;
    let secret = created["secret"].as_str().context("secret")?.to_owned();
    ensure!(secret.starts_with("chr_"), "{secret}");
    let id = created["token"]["id"].as_u64().context("token id")?;
    Ok((id, secret, created["token"]["scope"].clone()))
}

fn revoke_token(data: &str, id: u64) -> Result<()> {
    let out = charon(&["token", "revoke", "--data", data, &id.to_string()])?;
    ensure!(out.status.success(), "token revoke: {}", out.stderr);
    ensure!(
        out.stdout.contains(&format!("revoked API token #{id}")),
        "{}",
        out.stdout
    );
    Ok(())
}

fn id(value: &Value) -> Result<u64> {
    value["id"]
        .as_u64()
        .with_context(|| format!("no id in {value}"))
}

/// Reads a group's members back, page by page, as usernames, and checks
/// each membership is manual.
fn group_usernames(api: &ApiClient, group: u64) -> Result<BTreeSet<String>> {
    let members = api.all(&format!("/groups/{group}/members?limit=7"))?;
    let mut names = BTreeSet::new();
    for m in members {
        ensure!(m["owner"] == json!({"kind": "manual"}), "{m}");
        names.insert(
            m["user"]["username"]
                .as_str()
                .context("username")?
                .to_owned(),
        );
    }
    Ok(names)
}

/// Runs now, on this branch's routes: the demo organisation, a token made
/// with the CLI, new groups per department filled from the segments in
/// bulk, the members read back, and the token cut off by `token revoke`.
#[test]
fn a_script_with_a_cli_token_groups_segment_members_and_is_cut_off_when_revoked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let server = TestServer::start_with(&data, &["--demo"])?;

    let (token_id, secret, scope) = create_token(d, &["--name", "HR sync", "--user", "siteadmin"])?;
    let me = scope["site_user"]["user"]
        .as_u64()
        .context("acts as a user")?;
    let api = server.api(&secret, SITE);

    // Which course did the demo create? The audit log says.
    let created = api.expect(200, "GET", "/audit?action=course.created", Value::Null)?;
    let target = created["items"][0]["target"].as_str().context("target")?;
    let course: u64 = target
        .strip_prefix("course #")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("course in {target:?}"))?;
    let existing = api.all(&format!("/courses/{course}/groups"))?;
    let names: Vec<&str> = existing.iter().filter_map(|g| g["name"].as_str()).collect();
    ensure!(names == ["Finance", "HR", "IT", "Operations"], "{names:?}");

    let segments = api.all("/segments")?;
    ensure!(segments.len() == 4, "{segments:?}");
    let mut expected = BTreeMap::new();
    for segment in &segments {
        let name = segment["name"].as_str().context("name")?;
        let members = api.all(&format!("/segments/{}/members?limit=100", id(segment)?))?;
        // The first ten of each department mentor the others.
        let mentors: Vec<&Value> = members.iter().take(10).collect();
        let group = api.expect(
            201,
            "POST",
            &format!("/courses/{course}/groups"),
            json!({"name": format!("{name} mentors"), "idnumber": format!("{name}-mentors").to_lowercase()}),
        )?;
        let ids: Vec<u64> = mentors.iter().map(|u| id(u)).collect::<Result<_>>()?;
        let change = api.expect(
            200,
            "POST",
            &format!("/groups/{}/members", id(&group)?),
            json!({ "users": ids }),
        )?;
        ensure!(change == json!({"changed": 10, "unchanged": 0}), "{change}");
        let usernames: BTreeSet<String> = mentors
            .iter()
            .filter_map(|u| u["username"].as_str().map(str::to_owned))
            .collect();
        expected.insert(id(&group)?, usernames);
    }
    for (group, usernames) in &expected {
        ensure!(
            &group_usernames(&api, *group)? == usernames,
            "group #{group}"
        );
        let read = api.expect(200, "GET", &format!("/groups/{group}"), Value::Null)?;
        ensure!(read["members"] == 10, "{read}");
    }

    // The audit log names the script's user for every change it made.
    let mine = api.all(&format!("/audit?action=group.&actor=user:{me}&limit=100"))?;
    let by_action = |a: &str| mine.iter().filter(|e| e["action"] == a).count();
    ensure!(
        (by_action("group.created"), by_action("group.member_added")) == (4, 40),
        "{mine:?}"
    );

    // The token is listed (never its secret), then revoked: 401 at once.
    let listed = charon(&["token", "list", "--data", d, "--site", "default", "--json"])?;
    ensure!(listed.status.success(), "token list: {}", listed.stderr);
    ensure!(!listed.stdout.contains(&secret), "no secret in the list");
    let tokens: Value = serde_json::from_str(&listed.stdout)?;
    ensure!(tokens[0]["id"] == token_id, "{tokens}");
    ensure!(tokens[0]["last_used_at"].is_number(), "{tokens}");
    revoke_token(d, token_id)?;
    let (status, body) = api.get("/segments")?;
    ensure!(status == 401, "a revoked token: {status} {body}");

    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(())
}

/// The seed's use case from an empty host, through the API alone: the
/// departments HR, Finance, IT and Operations as segments, their people,
/// a course with one group per department, everyone enrolled through the
/// course's manual method and grouped by department, read back.
///
/// It needs the users, courses and enrolments routes, which are built on
/// another branch (api-a); it was run against a merge of both branches.
#[test]
fn the_seed_use_case_through_the_api_alone() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let server = TestServer::start(&data)?;

    // The operator mints a token for the set-up, then one for the HR
    // system's own account, which does the rest.
    let (operator_token, operator_secret, _) =
        create_token(d, &["--name", "bootstrap", "--operator"])?;
    let operator = server.api(&operator_secret, SITE);
    operator.expect(
        201,
        "POST",
        "/users",
        json!({"username": "hrsync", "email": "hrsync@example.org", "firstname": "HR",
               "lastname": "Sync", "site_admin": true}),
    )?;
    let (admin_token, admin_secret, _) =
        create_token(d, &["--name", "HR sync", "--user", "hrsync"])?;
    let api = server.api(&admin_secret, SITE);

    let departments = ["HR", "Finance", "IT", "Operations"];
    let mut segment = BTreeMap::new();
    for dept in departments {
        let s = api.expect(
            201,
            "POST",
            "/segments",
            json!({"name": dept, "idnumber": dept.to_lowercase()}),
        )?;
        segment.insert(dept, id(&s)?);
    }

    // The department each person has: a profile field of the site, as a
    // menu of the four.
    api.expect(
        201,
        "POST",
        "/profile-fields",
        json!({"shortname": "department", "name": "Department",
               "kind": {"menu": {"choices": departments}}}),
    )?;

    // Five people per department, one call each.
    let mut people: BTreeMap<&str, Vec<(u64, String)>> = BTreeMap::new();
    for dept in departments {
        for i in 1..=5 {
            let username = format!("{}{i}", dept.to_lowercase());
            let user = api.expect(
                201,
                "POST",
                "/users",
                json!({"username": username, "email": format!("{username}@example.org"),
                       "firstname": dept, "lastname": format!("Person {i}"),
                       "profile": {"department": dept}}),
            )?;
            people.entry(dept).or_default().push((id(&user)?, username));
        }
    }
    let everyone: Vec<u64> = people.values().flatten().map(|(id, _)| *id).collect();
    for dept in departments {
        let ids: Vec<u64> = people[dept].iter().map(|(id, _)| *id).collect();
        let change = api.expect(
            200,
            "POST",
            &format!("/segments/{}/members", segment[dept]),
            json!({ "users": ids }),
        )?;
        ensure!(change["changed"] == 5, "{change}");
    }

    let course = api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": "COMPLIANCE", "fullname": "Mandatory Compliance Training",
               "group_mode": "separate"}),
    )?;
    let course = id(&course)?;
    let mut group = BTreeMap::new();
    for dept in departments {
        let g = api.expect(
            201,
            "POST",
            &format!("/courses/{course}/groups"),
            json!({"name": dept, "idnumber": dept.to_lowercase()}),
        )?;
        group.insert(dept, id(&g)?);
    }

    let methods = api.all(&format!("/courses/{course}/methods"))?;
    let manual = methods
        .iter()
        .find(|m| m["plugin"] == "manual")
        .with_context(|| format!("a manual method in {methods:?}"))?;
    api.expect(
        200,
        "POST",
        &format!("/methods/{}/enrolments", id(manual)?),
        json!({"users": everyone, "role": "learner"}),
    )?;
    for dept in departments {
        let ids: Vec<u64> = people[dept].iter().map(|(id, _)| *id).collect();
        let change = api.expect(
            200,
            "POST",
            &format!("/groups/{}/members", group[dept]),
            json!({ "users": ids }),
        )?;
        ensure!(change == json!({"changed": 5, "unchanged": 0}), "{change}");
    }

    for dept in departments {
        let want: BTreeSet<String> = people[dept].iter().map(|(_, u)| u.clone()).collect();
        ensure!(group_usernames(&api, group[dept])? == want, "group {dept}");
    }
    let groups = api.all(&format!("/courses/{course}/groups"))?;
    ensure!(
        groups.iter().all(|g| g["members"] == 5) && groups.len() == 4,
        "{groups:?}"
    );

    // Revoked tokens are refused at once: one by the CLI, the operator's
    // by the operator API.
    revoke_token(d, admin_token)?;
    ensure!(api.get("/segments")?.0 == 401, "revoked site token");
    let ops = server.api(&operator_secret, "/api/v1");
    ops.expect(
        200,
        "DELETE",
        &format!("/operator/tokens/{operator_token}"),
        Value::Null,
    )?;
    ensure!(ops.get("/sites")?.0 == 401, "revoked operator token");

    ensure!(server.terminate()?.success(), "graceful stop");
    Ok(())
}
