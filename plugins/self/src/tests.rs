//! Self enrolment, rule by rule, against the mock host.

use super::*;
use charon_sdk::mock::{self, MockHost};

const METHOD: MethodId = 1;
const ADA: UserId = 10;
/// 2026-12-01 09:00 UTC.
const DEC_1: Timestamp = 1_796_115_600_000;
const DAY: Timestamp = 86_400_000;

fn ctx(config: Config) -> Context<Config> {
    Context {
        method: METHOD,
        course: 2,
        config,
        settings: Default::default(),
        enabled: true,
        now: DEC_1,
    }
}

fn site() -> MockHost {
    MockHost::new()
        .user(ADA, "ada")
        .user(11, "bob")
        .suspended_user(12, "cy")
        .group(3, "Team A")
        .group(4, "Team B")
        .only(&SelfEnrolment::manifest().capabilities)
}

fn keyed() -> Config {
    Config {
        enrolment_key: Some("open sesame".into()),
        group_keys: BTreeMap::from([(3, "alpha".into()), (4, "beta".into())]),
        ..Config::default()
    }
}

fn enrol(
    host: &MockHost,
    config: Config,
    user: UserId,
    key: Option<&str>,
) -> Result<Vec<String>, Refusal> {
    let request = Request::SelfEnrol(SelfEnrol {
        user,
        key: key.map(Into::into),
    });
    SelfEnrolment::handle_request(&ctx(config), request, host).map(|p| p.lines())
}

fn refused(result: Result<Vec<String>, Refusal>) -> Refusal {
    result.expect_err("should be refused")
}

fn field_errors(json: &str) -> Vec<(String, String)> {
    mock::validate::<SelfEnrolment>(2, json, &site())
        .expect_err("should be refused")
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

mod config {
    use super::*;

    #[test]
    fn an_empty_config_is_open_self_enrolment_as_learner() {
        assert_eq!(
            mock::validate::<SelfEnrolment>(2, "{}", &site()).unwrap(),
            r#"{"allow_new":true,"role":"learner","allow_unenrol":true}"#
        );
    }

    #[test]
    fn a_blank_enrolment_key_means_no_key() {
        let stored =
            mock::validate::<SelfEnrolment>(2, r#"{"enrolment_key":"  "}"#, &site()).unwrap();
        assert!(!stored.contains("enrolment_key"), "{stored}");
    }

    #[test]
    fn group_keys_must_name_groups_of_the_course() {
        assert_eq!(
            field_errors(r#"{"group_keys":{"3":"alpha","99":"omega"}}"#),
            [(
                "group_keys".to_owned(),
                "group #99 is not a group of this course".to_owned()
            )]
        );
    }

    #[test]
    fn group_keys_must_be_non_empty_and_unique() {
        assert_eq!(
            field_errors(r#"{"group_keys":{"3":" "}}"#),
            [(
                "group_keys".to_owned(),
                "the key of group #3 is empty".to_owned()
            )]
        );
        assert_eq!(
            field_errors(r#"{"group_keys":{"3":"alpha","4":"alpha"}}"#),
            [(
                "group_keys".to_owned(),
                "groups #3 and #4 have the same key".to_owned()
            )]
        );
        assert_eq!(
            field_errors(r#"{"enrolment_key":"alpha","group_keys":{"3":"alpha"}}"#)[0].1,
            "the key of group #3 is the course's enrolment key; a key must say which group"
        );
    }

    #[test]
    fn the_maximum_cannot_be_negative() {
        assert_eq!(
            field_errors(r#"{"max_enrolled":-1}"#),
            [(
                "max_enrolled".to_owned(),
                "must be 0 (unlimited) or more".to_owned()
            )]
        );
    }

    #[test]
    fn enrolment_must_open_before_it_closes() {
        let json = format!(r#"{{"enrol_start":{DEC_1},"enrol_end":{DEC_1}}}"#);
        assert_eq!(
            field_errors(&json),
            [(
                "enrol_end".to_owned(),
                "must be after the opening (2026-12-01 09:00 UTC); it is 2026-12-01 09:00 UTC"
                    .to_owned()
            )]
        );
        let json = format!(r#"{{"enrol_start":{DEC_1},"enrol_end":{}}}"#, DEC_1 + DAY);
        assert!(mock::validate::<SelfEnrolment>(2, &json, &site()).is_ok());
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        assert_eq!(field_errors(r#"{"password":"x"}"#)[0].0, "password");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let json = format!(
            r#"{{"max_enrolled":-2,"enrol_start":{DEC_1},"enrol_end":0,"group_keys":{{"9":"x"}}}}"#
        );
        let fields: Vec<String> = field_errors(&json).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["group_keys", "max_enrolled", "enrol_end"]);
    }
}

mod enrolling {
    use super::*;

    #[test]
    fn without_keys_anyone_enrols_with_the_configured_role() {
        let config = Config {
            role: Role::NonEditingTeacher,
            ..Config::default()
        };
        assert_eq!(
            enrol(&site(), config, ADA, None).unwrap(),
            ["enrol #10 as non-editing-teacher: enrolled themselves as Non-editing teacher"]
        );
    }

    #[test]
    fn the_course_key_enrols_without_a_group() {
        assert_eq!(
            enrol(&site(), keyed(), ADA, Some(" open sesame ")).unwrap(),
            ["enrol #10 as learner: enrolled themselves as Learner with the enrolment key"]
        );
    }

    #[test]
    fn a_group_key_enrols_and_places_in_that_group() {
        assert_eq!(
            enrol(&site(), keyed(), ADA, Some("beta")).unwrap(),
            [
                "enrol #10 as learner: enrolled themselves as Learner with the key of group Team B",
                "add #10 to group #4: typed the enrolment key of group Team B",
            ]
        );
    }

    #[test]
    fn a_missing_key_is_required_on_the_key_field() {
        let r = refused(enrol(&site(), keyed(), ADA, None));
        assert_eq!(
            (r.code.as_str(), r.field.as_deref()),
            ("key-required", Some("key"))
        );
        assert_eq!(r.message, "this course needs an enrolment key");
        let r = refused(enrol(&site(), keyed(), ADA, Some("   ")));
        assert_eq!(r.code, "key-required");
    }

    #[test]
    fn a_wrong_key_is_refused_on_the_key_field() {
        let r = refused(enrol(&site(), keyed(), ADA, Some("open says me")));
        assert_eq!(
            (r.code.as_str(), r.field.as_deref()),
            ("wrong-key", Some("key"))
        );
        assert_eq!(r.message, "the enrolment key is wrong");
    }

    #[test]
    fn with_only_group_keys_a_group_key_is_required() {
        let config = Config {
            enrolment_key: None,
            ..keyed()
        };
        let r = refused(enrol(&site(), config.clone(), ADA, None));
        assert_eq!(
            (r.code.as_str(), r.message.as_str()),
            ("key-required", "this course needs a group enrolment key")
        );
        assert_eq!(
            refused(enrol(&site(), config.clone(), ADA, Some("open sesame"))).code,
            "wrong-key"
        );
        assert_eq!(enrol(&site(), config, ADA, Some("alpha")).unwrap().len(), 2);
    }

    #[test]
    fn a_key_typed_where_none_is_needed_is_ignored() {
        assert_eq!(
            enrol(&site(), Config::default(), ADA, Some("whatever"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn before_the_opening_the_message_says_when_it_opens() {
        let config = Config {
            enrol_start: Some(DEC_1 + DAY + 30 * 60_000),
            ..Config::default()
        };
        let r = refused(enrol(&site(), config, ADA, None));
        assert_eq!(
            (r.code.as_str(), r.message.as_str()),
            ("not-open", "enrolment opens on 2026-12-02 09:30 UTC")
        );
    }

    #[test]
    fn at_the_closing_time_enrolment_is_closed() {
        let config = Config {
            enrol_end: Some(DEC_1),
            ..Config::default()
        };
        let r = refused(enrol(&site(), config, ADA, None));
        assert_eq!(
            (r.code.as_str(), r.message.as_str()),
            ("closed", "enrolment closed on 2026-12-01 09:00 UTC")
        );
        let open = Config {
            enrol_start: Some(DEC_1),
            enrol_end: Some(DEC_1 + 1),
            ..Config::default()
        };
        assert!(
            enrol(&site(), open, ADA, None).is_ok(),
            "open from the opening millisecond"
        );
    }

    #[test]
    fn a_full_course_refuses_and_zero_means_unlimited() {
        let host = site()
            .enrolled(11, METHOD, Role::Learner)
            .enrolled(20, 5, Role::Learner);
        let full = Config {
            max_enrolled: Some(1),
            ..Config::default()
        };
        let r = refused(enrol(&host, full, ADA, None));
        assert_eq!(
            (r.code.as_str(), r.message.as_str()),
            (
                "course-full",
                "the course is full: 1 users have enrolled themselves"
            )
        );
        // Only this method's enrolments count: #20 came in another way.
        assert!(
            enrol(
                &host,
                Config {
                    max_enrolled: Some(2),
                    ..Config::default()
                },
                ADA,
                None
            )
            .is_ok()
        );
        assert!(
            enrol(
                &host,
                Config {
                    max_enrolled: Some(0),
                    ..Config::default()
                },
                ADA,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn an_active_enrolment_in_the_course_is_already_enrolled() {
        for method in [METHOD, 5] {
            let host = site().enrolled(ADA, method, Role::Learner);
            let r = refused(enrol(&host, Config::default(), ADA, None));
            assert_eq!(
                (r.code.as_str(), r.message.as_str()),
                (
                    "already-enrolled",
                    "you are already enrolled in this course"
                )
            );
        }
    }

    #[test]
    fn a_suspended_enrolment_is_not_reactivated_by_the_user() {
        let host = site().enrolment(ADA, METHOD, Some(Role::Learner), EnrolmentStatus::Suspended);
        assert_eq!(
            refused(enrol(&host, Config::default(), ADA, None)).code,
            "enrolment-suspended"
        );
    }

    #[test]
    fn a_suspended_account_cannot_enrol() {
        let r = refused(enrol(&site(), Config::default(), 12, None));
        assert_eq!(
            (r.code.as_str(), r.message.as_str()),
            (
                "user-suspended",
                "your account is suspended, so you cannot enrol"
            )
        );
    }

    #[test]
    fn new_enrolments_can_be_stopped_and_a_disabled_method_refuses() {
        let r = refused(enrol(
            &site(),
            Config {
                allow_new: false,
                ..Config::default()
            },
            ADA,
            None,
        ));
        assert_eq!(r.code, "not-accepting");
        let disabled = Context {
            enabled: false,
            ..ctx(Config::default())
        };
        let request = Request::SelfEnrol(SelfEnrol {
            user: ADA,
            key: None,
        });
        assert_eq!(
            SelfEnrolment::handle_request(&disabled, request, &site())
                .unwrap_err()
                .code,
            "disabled"
        );
    }

    #[test]
    fn enrolling_converges_once_applied() {
        let mut host = site();
        let request = Request::SelfEnrol(SelfEnrol {
            user: ADA,
            key: Some("alpha".into()),
        });
        let plan = SelfEnrolment::handle_request(&ctx(keyed()), request, &host).unwrap();
        host.apply(METHOD, &plan).unwrap();
        assert!(host.group_membership(3, ADA).unwrap().is_some());
        assert_eq!(
            refused(enrol(&host, keyed(), ADA, Some("alpha"))).code,
            "already-enrolled"
        );
    }

    #[test]
    fn a_group_deleted_after_its_key_was_set_still_enrols() {
        let mut host = site();
        host.groups.remove(&3);
        assert_eq!(
            enrol(&host, keyed(), ADA, Some("alpha")).unwrap(),
            ["enrol #10 as learner: enrolled themselves as Learner with a group key"]
        );
        assert_eq!(host.logs.borrow().len(), 1);
    }

    #[test]
    fn others_cannot_be_enrolled_through_self_enrolment() {
        let request = Request::EnrolUsers(EnrolUsers {
            users: vec![ADA],
            role: None,
            group: None,
            requested_by: 1,
        });
        assert_eq!(
            SelfEnrolment::handle_request(&ctx(Config::default()), request, &site())
                .unwrap_err()
                .code,
            "not-manual"
        );
    }
}

mod unenrolling {
    use super::*;

    fn leave(host: &MockHost, config: Config, user: UserId) -> Result<Vec<String>, Refusal> {
        SelfEnrolment::handle_request(&ctx(config), Request::SelfUnenrol(user), host)
            .map(|p| p.lines())
    }

    #[test]
    fn a_user_who_enrolled_themselves_may_leave() {
        let host = site().enrolled(ADA, METHOD, Role::Learner);
        assert_eq!(
            leave(&host, Config::default(), ADA).unwrap(),
            ["unenrol #10: unenrolled themselves (self enrolment)"]
        );
    }

    #[test]
    fn leaving_can_be_forbidden() {
        let host = site().enrolled(ADA, METHOD, Role::Learner);
        let r = leave(
            &host,
            Config {
                allow_unenrol: false,
                ..Config::default()
            },
            ADA,
        )
        .unwrap_err();
        assert_eq!(r.code, "unenrol-not-allowed");
    }

    #[test]
    fn only_this_methods_enrolment_can_be_left() {
        let host = site().enrolled(ADA, 5, Role::Learner);
        assert_eq!(
            leave(&host, Config::default(), ADA).unwrap_err().code,
            "not-enrolled"
        );
    }

    #[test]
    fn a_teacher_may_unenrol_self_enrolled_users_all_or_none() {
        let host = site()
            .enrolled(ADA, METHOD, Role::Learner)
            .enrolled(11, 5, Role::Learner);
        let ok = SelfEnrolment::handle_request(
            &ctx(Config::default()),
            Request::UnenrolUsers(vec![ADA]),
            &host,
        );
        assert_eq!(
            ok.unwrap().lines(),
            ["unenrol #10: unenrolled by a teacher or administrator (self enrolment)"]
        );
        let r = SelfEnrolment::handle_request(
            &ctx(Config::default()),
            Request::UnenrolUsers(vec![ADA, 11]),
            &host,
        )
        .unwrap_err();
        assert_eq!(
            r.message,
            "did not enrol themselves here, so not unenrolled: #11; nobody was unenrolled"
        );
    }
}

#[test]
fn dates_are_formatted_in_utc_without_a_time_crate() {
    assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc(DEC_1), "2026-12-01 09:00 UTC");
    assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");
    assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
    assert_eq!(utc(4_107_542_400_000), "2100-03-01 00:00 UTC");
}

#[test]
fn the_manifest_describes_the_form() {
    let m = SelfEnrolment::manifest();
    let keys: Vec<&str> = m.config.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "enrolment_key",
            "group_keys",
            "max_enrolled",
            "enrol_start",
            "enrol_end",
            "allow_new",
            "role",
            "allow_unenrol"
        ]
    );
    assert_eq!(m.config[0].kind, FieldKind::Secret);
    assert_eq!(m.config[1].kind, FieldKind::GroupTexts);
}
