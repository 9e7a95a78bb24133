//! Page tests of `segments`: the list, the form, the segment's page with
//! its members, the members picker, removal and deletion after their
//! confirmations, and a managed segment that says why it cannot be edited.

use actix_web::http::StatusCode;
use serde_json::json;

use super::{Answer, Pages, cookie_of, form_of, value_of};
use crate::domain::{SegmentId, UserId};
use crate::services::enrolments::NewMethod;
use crate::services::segments::NewSegment;

/// The text of the flash an answer sets.
pub(super) fn flash(answer: &Answer) -> String {
    let raw = cookie_of(answer, "charon_flash")
        .map(|c| value_of(&c))
        .unwrap_or_default();
    let mut bytes = Vec::new();
    let mut i = 0;
    let b = raw.as_bytes();
    while i < b.len() {
        if b[i] == b'%' {
            bytes.push(u8::from_str_radix(&raw[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    // The first character is the kind of flash.
    String::from_utf8(bytes).unwrap().chars().skip(1).collect()
}

fn members(p: &Pages, segment: SegmentId) -> Vec<UserId> {
    p.fx.site
        .segment_members(&p.fx.admin, segment, None, 100)
        .unwrap()
        .items
        .iter()
        .map(|u| u.id)
        .collect()
}

fn users_body(token: &str, users: &[UserId], extra: &str) -> String {
    let mut body = format!("csrf={token}");
    for u in users {
        body.push_str(&format!("&user={u}"));
    }
    body.push_str(extra);
    body
}

fn managed(p: &Pages) -> SegmentId {
    let id =
        p.fx.site
            .create_segment(
                &p.fx.operator,
                NewSegment {
                    name: "Payroll feed".into(),
                    managed_by: Some("segment-sync".into()),
                    ..Default::default()
                },
            )
            .unwrap()
            .id;
    // The host may still put members in while setting up.
    p.fx.site
        .write(|t| {
            t.insert_segment_member(id, p.fx.learners[4])?;
            Ok(())
        })
        .unwrap();
    id
}

#[actix_web::test]
async fn the_list_shows_segments_with_counts_and_searches_names_idnumbers_and_descriptions() {
    let p = Pages::new();
    p.fx.site
        .create_segment(
            &p.fx.operator,
            NewSegment {
                name: "Night shift".into(),
                description: "Everyone on the payroll night rota".into(),
                visible: false,
                ..Default::default()
            },
        )
        .unwrap();
    managed(&p);
    let all = p.get("/s/acme/segments", Some(&p.admin)).await;
    assert_eq!(all.status, StatusCode::OK);
    for text in [
        "HR",
        "Finance",
        "Night shift",
        ">hr<",
        ">3<",
        "Hidden",
        "Visible",
        "segment-sync",
        "By hand",
    ] {
        assert!(
            all.body.contains(text),
            "the list shows {text:?}: {}",
            all.body
        );
    }
    let by_idnumber = p.get("/s/acme/segments?q=finance", Some(&p.admin)).await;
    assert!(by_idnumber.body.contains("Finance") && !by_idnumber.body.contains(">HR<"));
    let by_description = p.get("/s/acme/segments?q=ROTA", Some(&p.admin)).await;
    assert!(by_description.body.contains("Night shift"));
    assert!(!by_description.body.contains("Finance"));
    let none = p.get("/s/acme/segments?q=zzz", Some(&p.admin)).await;
    assert!(none.body.contains("No user segment matches “zzz”"));
}

#[actix_web::test]
async fn the_list_pages_with_first_and_next_links() {
    let p = Pages::new();
    for i in 0..55 {
        p.fx.site
            .create_segment(
                &p.fx.operator,
                NewSegment {
                    name: format!("Team {i:02}"),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let first = p.get("/s/acme/segments?q=team", Some(&p.admin)).await;
    assert!(first.body.contains("Team 00") && !first.body.contains("Team 54"));
    assert!(
        first
            .body
            .contains("href=\"/s/acme/segments?q=team&#38;after=50\""),
        "{}",
        first.body
    );
    let second = p
        .get("/s/acme/segments?q=team&after=50", Some(&p.admin))
        .await;
    assert!(second.body.contains("Team 54") && !second.body.contains("Team 00"));
    assert!(second.body.contains("First page"));
}

#[actix_web::test]
async fn a_site_admin_creates_a_segment_visible_by_default() {
    let p = Pages::new();
    let form = p.get("/s/acme/segments/new", Some(&p.admin)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("name=\"visible\" type=\"checkbox\" value=\"1\" checked"),
        "{}",
        form.body
    );
    let token = p.csrf(&p.admin);
    let body = form_of(&[
        ("csrf", &token),
        ("name", "Sales"),
        ("idnumber", "sales"),
        ("description", "The sales team"),
        ("visible", "1"),
    ]);
    let created = p.post("/s/acme/segments", Some(&p.admin), &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(flash(&created), "User segment Sales created.");
    let segment = p.fx.site.segment_by_idnumber(&p.fx.admin, "sales").unwrap();
    assert!(segment.visible);
    assert_eq!(segment.description, "The sales team");
    assert_eq!(
        created.location(),
        format!("/s/acme/segments/{}", segment.id)
    );

    let hidden = form_of(&[("csrf", &token), ("name", "Quiet")]);
    assert_eq!(
        p.post("/s/acme/segments", Some(&p.admin), &hidden)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let quiet =
        p.fx.site
            .list_segments(&p.fx.admin, Some("quiet"), 0, 10)
            .unwrap();
    assert!(
        !quiet.items[0].segment.visible,
        "an unticked box means hidden"
    );
}

#[actix_web::test]
async fn bad_segment_input_is_answered_on_the_form_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let nameless = form_of(&[("csrf", &token), ("name", "  "), ("idnumber", "new-one")]);
    let answer = p.post("/s/acme/segments", Some(&p.admin), &nameless).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("Nothing was saved"));
    assert!(
        answer.body.contains(
            "id=\"f-name\" name=\"name\" type=\"text\" value=\"  \" required aria-invalid=\"true\""
        ),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("value=\"new-one\""),
        "the input is kept"
    );

    let taken = form_of(&[
        ("csrf", &token),
        ("name", "Human resources"),
        ("idnumber", "hr"),
    ]);
    let answer = p.post("/s/acme/segments", Some(&p.admin), &taken).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.body.contains("already has the idnumber"),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("name=\"idnumber\" type=\"text\" value=\"hr\" aria-invalid=\"true\""),
        "{}",
        answer.body
    );
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn the_segment_page_shows_details_and_searches_its_members() {
    let p = Pages::new();
    let url = format!("/s/acme/segments/{}", p.fx.hr);
    let page = p.get(&url, Some(&p.admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>HR</h1>"));
    assert!(page.body.contains("3 members"));
    assert!(
        page.body.contains("value=\"hr\""),
        "the edit form holds the idnumber"
    );
    for name in ["learner1", "learner2", "learner3"] {
        assert!(page.body.contains(name), "{name} is listed");
    }
    assert!(!page.body.contains("learner4"));
    assert!(page.body.contains("Add members"));
    assert!(page.body.contains("Remove selected"));
    assert!(
        page.body
            .contains(&format!("name=\"user\" value=\"{}\"", p.fx.learners[0]))
    );
    assert!(
        page.body
            .contains(&format!("/members/remove?user={}", p.fx.learners[1])),
        "a per-row remove"
    );

    let searched = p.get(&format!("{url}?q=LEARNER2"), Some(&p.admin)).await;
    assert!(searched.body.contains("learner2@example.org"));
    assert!(!searched.body.contains("learner1@example.org"));
    let none = p.get(&format!("{url}?q=learner5"), Some(&p.admin)).await;
    assert!(none.body.contains("No member matches “learner5”"));
}

#[actix_web::test]
async fn a_site_admin_edits_a_segment_and_bad_input_stays_on_the_page() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let url = format!("/s/acme/segments/{}", p.fx.hr);
    let before = p.fx.snapshot();
    let taken = form_of(&[
        ("csrf", &token),
        ("name", "Human resources"),
        ("idnumber", "finance"),
    ]);
    let answer = p.post(&url, Some(&p.admin), &taken).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("aria-invalid=\"true\""));
    assert!(
        answer.body.contains("value=\"Human resources\""),
        "the typed name is kept"
    );
    assert!(
        answer.body.contains("learner1"),
        "the members are still shown"
    );
    p.fx.assert_unchanged(&before);

    let ok = form_of(&[
        ("csrf", &token),
        ("name", "Human resources"),
        ("idnumber", ""),
        ("visible", "1"),
    ]);
    let answer = p.post(&url, Some(&p.admin), &ok).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(flash(&answer), "Changes to Human resources saved.");
    let hr = p.fx.site.get_segment(&p.fx.admin, p.fx.hr).unwrap().segment;
    assert_eq!(hr.name, "Human resources");
    assert_eq!(hr.idnumber, None, "an emptied idnumber is cleared");
}

#[actix_web::test]
async fn the_picker_lists_only_non_members_and_adds_the_selected() {
    let p = Pages::new();
    let url = format!("/s/acme/segments/{}/members/add", p.fx.hr);
    let picker = p.get(&format!("{url}?q=learner"), Some(&p.admin)).await;
    assert_eq!(picker.status, StatusCode::OK);
    assert!(picker.body.contains("learner4") && picker.body.contains("learner5"));
    assert!(
        !picker.body.contains("learner1@"),
        "members are not offered"
    );
    assert!(picker.body.contains("Add selected"));
    let narrowed = p.get(&format!("{url}?q=learner5"), Some(&p.admin)).await;
    assert!(narrowed.body.contains("learner5") && !narrowed.body.contains("learner4"));

    let token = p.csrf(&p.admin);
    let (l4, l5) = (p.fx.learners[3], p.fx.learners[4]);
    let added = p
        .post(&url, Some(&p.admin), &users_body(&token, &[l4, l5], ""))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(flash(&added), "2 users added to the segment.");
    assert!(members(&p, p.fx.hr).contains(&l5));
    let none = p
        .post(&url, Some(&p.admin), &users_body(&token, &[], ""))
        .await;
    assert_eq!(flash(&none), "No user was selected; nobody was added.");
}

#[actix_web::test]
async fn removing_members_is_confirmed_first_and_lists_who_goes() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let url = format!("/s/acme/segments/{}/members/remove", p.fx.hr);
    let [l1, l2, l3, l4, _] = p.fx.learners[..] else {
        unreachable!()
    };
    let before = p.fx.snapshot();
    // "Remove selected": the confirmation, naming members only.
    let confirm = p
        .post(&url, Some(&p.admin), &users_body(&token, &[l1, l2, l4], ""))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Remove members from HR?"));
    assert!(confirm.body.contains("learner1 Test (learner1)"));
    assert!(confirm.body.contains("learner2 Test (learner2)"));
    assert!(
        !confirm.body.contains("learner4"),
        "a non-member is not listed"
    );
    assert!(confirm.body.contains("name=\"confirm\" value=\"1\""));
    assert!(confirm.body.contains("Remove 2 members"));
    p.fx.assert_unchanged(&before);
    // A row's "Remove": the same confirmation for one.
    let one = p.get(&format!("{url}?user={l3}"), Some(&p.admin)).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.contains("learner3 Test (learner3)") && one.body.contains("Remove 1 member"));
    let nobody = p.get(&url, Some(&p.admin)).await;
    assert!(nobody.body.contains("there is nobody to remove"));

    let removed = p
        .post(
            &url,
            Some(&p.admin),
            &users_body(&token, &[l1, l2], "&confirm=1"),
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(flash(&removed), "2 users removed from the segment.");
    assert_eq!(members(&p, p.fx.hr), vec![l3]);
}

#[actix_web::test]
async fn a_managed_segment_says_why_its_members_cannot_be_changed_here() {
    let p = Pages::new();
    let id = managed(&p);
    let page = p
        .get(&format!("/s/acme/segments/{id}"), Some(&p.admin))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("The plugin “segment-sync” manages this segment"),
        "{}",
        page.body
    );
    assert!(page.body.contains("learner5"), "its members are shown");
    assert!(!page.body.contains("Add members"));
    assert!(!page.body.contains("Remove selected"));
    assert!(!page.body.contains("name=\"user\""));
    let picker = p
        .get(
            &format!("/s/acme/segments/{id}/members/add"),
            Some(&p.admin),
        )
        .await;
    assert!(
        picker.body.contains("nobody can be added here") && !picker.body.contains("Add selected")
    );

    // The service refuses anyway, and nothing is written.
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let add = p
        .post(
            &format!("/s/acme/segments/{id}/members/add"),
            Some(&p.admin),
            &users_body(&token, &[p.fx.learners[0]], ""),
        )
        .await;
    assert_eq!(add.status, StatusCode::CONFLICT);
    assert!(add.body.contains("managed by"), "{}", add.body);
    let remove = p
        .post(
            &format!("/s/acme/segments/{id}/members/remove"),
            Some(&p.admin),
            &users_body(&token, &[p.fx.learners[4]], "&confirm=1"),
        )
        .await;
    assert_eq!(remove.status, StatusCode::CONFLICT);
    p.fx.assert_unchanged(&before);
}

#[actix_web::test]
async fn deleting_a_segment_is_confirmed_with_what_it_does_to_the_methods_that_use_it() {
    let p = Pages::new();
    let add = |plugin: &str, config: serde_json::Value| {
        p.fx.site
            .add_method(
                &p.fx.operator,
                p.fx.course,
                NewMethod {
                    plugin: plugin.into(),
                    name: String::new(),
                    config,
                    enabled: true,
                },
            )
            .unwrap()
    };
    add("segment-sync", json!({"segment": p.fx.hr.0}));
    add(
        "segment-group",
        json!({"segment": p.fx.hr.0, "group": p.fx.team_a.0}),
    );
    add(
        "segment-sync",
        json!({"segment": p.fx.finance.0, "removal-action": "suspend"}),
    );
    // The methods have enrolled and grouped their segments' members.
    while p.fx.site.dispatch_pending().unwrap().events > 0 {}

    let before = p.fx.snapshot();
    let confirm = p
        .get(
            &format!("/s/acme/segments/{}/delete", p.fx.hr),
            Some(&p.admin),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Delete the user segment HR?"));
    assert!(confirm.body.contains("3 members"));
    assert!(confirm.body.contains("Compliance 101"));
    assert!(confirm.body.contains(">segment-sync<") && confirm.body.contains(">segment-group<"));
    assert!(
        confirm
            .body
            .contains("Deletes this enrolment method and its 3 enrolments, with the group memberships it added."),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains("Disables this enrolment method, removes 3 group memberships."),
        "{}",
        confirm.body
    );
    assert!(
        !confirm.body.contains("suspends"),
        "Finance's method is not listed"
    );
    let finance = p
        .get(
            &format!("/s/acme/segments/{}/delete", p.fx.finance),
            Some(&p.admin),
        )
        .await;
    assert!(
        finance
            .body
            .contains("Disables this enrolment method, suspends 2 enrolments."),
        "{}",
        finance.body
    );
    assert_eq!(finance.body.matches("<th scope=\"row\">").count(), 1);
    p.fx.assert_unchanged(&before);

    let token = p.csrf(&p.admin);
    let deleted = p
        .post(
            &format!("/s/acme/segments/{}/delete", p.fx.hr),
            Some(&p.admin),
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), "/s/acme/segments");
    assert_eq!(flash(&deleted), "User segment deleted.");
    let gone = p
        .get(&format!("/s/acme/segments/{}", p.fx.hr), Some(&p.admin))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_segment_no_instance_uses_says_so_on_its_deletion() {
    let p = Pages::new();
    let confirm = p
        .get(
            &format!("/s/acme/segments/{}/delete", p.fx.finance),
            Some(&p.admin),
        )
        .await;
    assert!(
        confirm
            .body
            .contains("no enrolment method uses this segment")
    );
}
