//! Manual enrolment, rule by rule, against the mock host.

use super::*;
use charon_sdk::mock::{self, MockHost};

const METHOD: MethodId = 1;
const TEACHER: UserId = 7;

fn ctx(role: Role) -> Context<Config> {
    Context {
        method: METHOD,
        course: 2,
        config: Config { role },
        settings: Default::default(),
        enabled: true,
        now: 0,
    }
}

fn site() -> MockHost {
    MockHost::new()
        .user(TEACHER, "teacher")
        .user(10, "ada")
        .user(11, "bob")
        .user(12, "cy")
        .group(3, "Team A")
        .only(&Manual::manifest().capabilities)
}

fn enrol_users(users: &[UserId], role: Option<Role>, group: Option<GroupId>) -> Request {
    Request::EnrolUsers(EnrolUsers {
        users: users.to_vec(),
        role,
        group,
        requested_by: TEACHER,
    })
}

fn request(host: &MockHost, request: Request) -> Result<Vec<String>, Refusal> {
    Manual::handle_request(&ctx(Role::Learner), request, host).map(|p| p.lines())
}

#[test]
fn the_default_role_is_learner_and_the_config_takes_only_a_role() {
    let host = site();
    assert_eq!(
        mock::validate::<Manual>(2, "{}", &host).unwrap(),
        r#"{"role":"learner"}"#
    );
    assert_eq!(
        mock::validate::<Manual>(2, r#"{"role":"teacher"}"#, &host).unwrap(),
        r#"{"role":"teacher"}"#
    );
    let errors = mock::validate::<Manual>(2, r#"{"role":"boss"}"#, &host).unwrap_err();
    assert!(errors[0].message.contains("unknown role"), "{errors:?}");
    let errors = mock::validate::<Manual>(2, r#"{"expiry":3}"#, &host).unwrap_err();
    assert_eq!(errors[0].field, "expiry");
}

#[test]
fn enrolling_users_enrols_each_with_the_config_role_and_says_who_asked() {
    let plan = Manual::handle_request(
        &ctx(Role::NonEditingTeacher),
        enrol_users(&[10, 11], None, None),
        &site(),
    )
    .unwrap();
    assert_eq!(
        plan.lines(),
        [
            "enrol #10 as non-editing-teacher: enrolled by user #7 as Non-editing teacher",
            "enrol #11 as non-editing-teacher: enrolled by user #7 as Non-editing teacher",
        ]
    );
}

#[test]
fn the_role_of_the_request_wins_over_the_config() {
    assert_eq!(
        request(&site(), enrol_users(&[10], Some(Role::Teacher), None)).unwrap(),
        ["enrol #10 as teacher: enrolled by user #7 as Teacher"]
    );
}

#[test]
fn a_user_listed_twice_is_enrolled_once() {
    assert_eq!(
        request(&site(), enrol_users(&[10, 10], None, None))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn enrolling_into_a_group_of_the_course_adds_each_user_to_it() {
    assert_eq!(
        request(&site(), enrol_users(&[10, 11], None, Some(3))).unwrap(),
        [
            "enrol #10 as learner: enrolled by user #7 as Learner",
            "add #10 to group #3: added to group Team A by user #7 when enrolled",
            "enrol #11 as learner: enrolled by user #7 as Learner",
            "add #11 to group #3: added to group Team A by user #7 when enrolled",
        ]
    );
}

#[test]
fn a_group_of_another_course_is_refused_on_the_group_field() {
    let refusal = request(&site(), enrol_users(&[10], None, Some(99))).unwrap_err();
    assert_eq!(refusal.code, "unknown-group");
    assert_eq!(refusal.field.as_deref(), Some("group"));
    assert_eq!(refusal.message, "group #99 is not a group of this course");
}

#[test]
fn users_that_do_not_exist_refuse_the_whole_request_naming_them() {
    let refusal = request(&site(), enrol_users(&[10, 40, 41, 42], None, None)).unwrap_err();
    assert_eq!(refusal.code, "unknown-users");
    assert_eq!(refusal.field.as_deref(), Some("users"));
    assert_eq!(
        refusal.message,
        "these users do not exist: #40, #41 and #42"
    );
    let refusal = request(&site(), enrol_users(&[40], None, None)).unwrap_err();
    assert_eq!(refusal.message, "this user does not exist: #40");
}

#[test]
fn an_empty_request_is_refused() {
    assert_eq!(
        request(&site(), enrol_users(&[], None, None))
            .unwrap_err()
            .code,
        "no-users"
    );
    assert_eq!(
        request(&site(), Request::UnenrolUsers(vec![]))
            .unwrap_err()
            .code,
        "no-users"
    );
}

#[test]
fn enrolling_is_idempotent_once_the_plan_is_applied() {
    let mut host = site();
    let plan = Manual::handle_request(
        &ctx(Role::Learner),
        enrol_users(&[10, 11], None, Some(3)),
        &host,
    )
    .unwrap();
    host.apply(METHOD, &plan).unwrap();
    assert_eq!(
        request(&host, enrol_users(&[10, 11], None, Some(3))).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn an_existing_enrolment_is_reactivated_or_given_the_new_role() {
    let host = site()
        .enrolment(10, METHOD, Some(Role::Learner), EnrolmentStatus::Suspended)
        .enrolled(11, METHOD, Role::Learner);
    assert_eq!(
        request(&host, enrol_users(&[10, 11], Some(Role::Teacher), None)).unwrap(),
        [
            "enrol #10 as teacher: re-activated by user #7 as Teacher",
            "enrol #11 as teacher: role set by user #7 to Teacher",
        ]
    );
}

#[test]
fn a_user_already_in_the_group_is_not_added_again() {
    let host = site()
        .enrolled(10, METHOD, Role::Learner)
        .member(3, 10, MembershipOwner::Manual);
    assert_eq!(
        request(&host, enrol_users(&[10], None, Some(3))).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn unenrolling_removes_this_methods_enrolments() {
    let host = site()
        .enrolled(10, METHOD, Role::Learner)
        .enrolled(11, METHOD, Role::Teacher);
    assert_eq!(
        request(&host, Request::UnenrolUsers(vec![10, 11])).unwrap(),
        [
            "unenrol #10: unenrolled by a teacher or administrator (manual enrolment)",
            "unenrol #11: unenrolled by a teacher or administrator (manual enrolment)",
        ]
    );
}

#[test]
fn unenrolling_users_enrolled_otherwise_refuses_naming_them() {
    // #11 came in through another method (#5), #12 is not enrolled at all.
    let host = site()
        .enrolled(10, METHOD, Role::Learner)
        .enrolled(11, 5, Role::Learner);
    let refusal = request(&host, Request::UnenrolUsers(vec![10, 11, 12])).unwrap_err();
    assert_eq!(refusal.code, "not-enrolled");
    assert_eq!(refusal.field.as_deref(), Some("users"));
    assert_eq!(
        refusal.message,
        "not enrolled through this manual enrolment, so not unenrolled: #11 and #12; nobody was unenrolled"
    );
}

#[test]
fn unenrolling_then_applying_leaves_the_method_empty() {
    let mut host =
        site()
            .enrolled(10, METHOD, Role::Learner)
            .member(3, 10, MembershipOwner::Method(METHOD));
    let plan = Manual::handle_request(&ctx(Role::Learner), Request::UnenrolUsers(vec![10]), &host)
        .unwrap();
    host.apply(METHOD, &plan).unwrap();
    assert_eq!(host.method_enrolment_count().unwrap(), 0);
    assert!(
        host.memberships.is_empty(),
        "the method's membership goes with the enrolment"
    );
}

#[test]
fn self_requests_are_refused() {
    for r in [
        Request::SelfEnrol(SelfEnrol {
            user: 10,
            key: None,
        }),
        Request::SelfUnenrol(10),
    ] {
        let refusal = request(&site(), r).unwrap_err();
        assert_eq!(refusal.code, "no-self-enrolment");
        assert!(
            refusal
                .message
                .starts_with("manual enrolment takes no self-enrolment")
        );
    }
}

#[test]
fn the_manifest_declares_what_the_method_queries() {
    // `site()` restricts the mock to the manifest's capabilities: every
    // test above would fail with `host-error` if one were missing.
    let m = Manual::manifest();
    assert_eq!(m.id, "manual");
    assert_eq!(m.config[0].key, "role");
    assert!(m.events.is_empty());
}

#[test]
fn an_operators_request_says_an_operator_did_it() {
    let by_operator = Request::EnrolUsers(EnrolUsers {
        users: vec![10],
        role: None,
        group: None,
        requested_by: 0,
    });
    assert_eq!(
        request(&site(), by_operator).unwrap(),
        ["enrol #10 as learner: enrolled by an operator as Learner"]
    );
}
