//! `charon segment enrol`: a segment's members enrolled once in a course
//! through the running server's API (a dry run writes nothing), then,
//! with the server stopped, through the console's own in-process server,
//! which refuses a second enrolment that would change nothing.

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::api::create_token;
use crate::support::{TestServer, arg, charon};

const SITE: &str = "/s/default/api/v1";

fn id(value: &Value) -> Result<u64> {
    value["id"]
        .as_u64()
        .with_context(|| format!("no id in {value}"))
}

#[test]
fn segment_enrol_previews_then_enrols_the_members_once_and_refuses_a_second_time() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let d = arg(&data)?;
    let server = TestServer::start(&data)?;
    let (_, secret, _) = create_token(d, &["--name", "mass", "--operator"])?;
    let api = server.api(&secret, SITE);

    let mut users = Vec::new();
    for name in ["ann", "bob", "cid"] {
        let user = api.expect(
            201,
            "POST",
            "/users",
            json!({"username": name, "email": format!("{name}@example.org"),
                   "firstname": name, "lastname": "Test"}),
        )?;
        users.push(id(&user)?);
    }
    api.expect(
        200,
        "POST",
        &format!("/users/{}/suspend", users[2]),
        Value::Null,
    )?;
    let segment = id(&api.expect(201, "POST", "/segments", json!({"name": "Sales"}))?)?;
    api.expect(
        200,
        "POST",
        &format!("/segments/{segment}/members"),
        json!({ "users": users }),
    )?;
    let course = id(&api.expect(
        201,
        "POST",
        "/courses",
        json!({"shortname": "SALES1", "fullname": "Selling"}),
    )?)?;
    let participants = || api.all(&format!("/courses/{course}/participants"));
    let (segment_arg, course_arg) = (segment.to_string(), course.to_string());
    let enrol = |extra: &[&str]| {
        let mut args = vec![
            "segment",
            "enrol",
            "--data",
            d,
            "--site",
            "default",
            "--segment",
            &segment_arg,
            "--course",
            &course_arg,
        ];
        args.extend_from_slice(extra);
        charon(&args)
    };

    let dry = enrol(&["--new-group", "Sales team", "--dry-run"])?;
    ensure!(dry.status.success(), "dry run: {}", dry.stderr);
    ensure!(
        dry.stdout.contains(
            "preview: 3 member(s): 2 to enrol, 0 already enrolled, 1 suspended account(s) and 0 \
             suspended enrolment(s) skipped, 2 into the group"
        ) && dry.stdout.contains("dry run: nothing was written"),
        "{}",
        dry.stdout
    );
    ensure!(participants()?.is_empty(), "a dry run writes nothing");

    let done = enrol(&["--new-group", "Sales team", "--role", "non-editing-teacher"])?;
    ensure!(
        done.status.success(),
        "enrol: {}\n{}",
        done.stderr,
        server.stderr()
    );
    ensure!(
        done.stdout.contains("into a new group \"Sales team\"")
            && done.stdout.contains("applied: 3 member(s): 2 to enrol")
            && done.stdout.contains("mass enrolment #1 done"),
        "{}",
        done.stdout
    );
    let enrolled = participants()?;
    let roles: Vec<&Value> = enrolled
        .iter()
        .flat_map(|p| p["enrolments"].as_array().into_iter().flatten())
        .map(|e| &e["role"])
        .collect();
    ensure!(
        enrolled.len() == 2 && roles.iter().all(|r| *r == "non_editing_teacher"),
        "{enrolled:?}"
    );
    let record = api.expect(200, "GET", "/mass-enrolments/1", Value::Null)?;
    ensure!(record["figures"]["grouped"] == 2, "{record}");
    server.terminate()?;

    // No server: the console serves the same API in-process.
    let again = enrol(&[])?;
    ensure!(
        !again.status.success(),
        "nothing left to do: {}",
        again.stdout
    );
    ensure!(
        again.stderr.contains("nothing to do"),
        "a clear refusal: {}",
        again.stderr
    );
    Ok(())
}
