//! The rule alone: parsing, matching and describing, without a host.

use charon_sdk::{ProfileValue, User};

use super::*;

fn parse(text: &str) -> Rule {
    Rule::parse(Match::All, text).expect("the rule parses")
}

/// The messages of a rule that does not parse, each checked to be on
/// the `rule` field.
fn errors(text: &str) -> Vec<String> {
    let errors = Rule::parse(Match::All, text).expect_err("the rule is refused");
    assert!(errors.iter().all(|e| e.field == "rule"), "{errors:?}");
    errors.into_iter().map(|e| e.message).collect()
}

fn condition(subject: Subject, operator: Operator, values: &[&str]) -> Condition {
    Condition {
        subject,
        operator,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn profile(name: &str) -> Subject {
    Subject::Profile(name.into())
}

/// A user with an e-mail address and these profile values.
fn person(email: &str, profile: &[(&str, &str)]) -> User {
    User {
        id: 1,
        username: "ada".into(),
        firstname: "Ada".into(),
        lastname: "Lovelace".into(),
        email: email.into(),
        suspended: false,
        site_admin: false,
        profile: profile
            .iter()
            .map(|(field, value)| ProfileValue {
                field: (*field).into(),
                value: (*value).into(),
            })
            .collect(),
    }
}

// --- Parsing -------------------------------------------------------------

#[test]
fn parses_each_operator() {
    let rule = parse(
        "profile.department equals HR\n\
         profile.job_title contains manager\n\
         profile.room starts-with B2\n\
         profile.leaving_date is-empty\n\
         profile.site in-list Paris,  Lyon , Nice",
    );
    assert_eq!(
        rule,
        Rule {
            all: true,
            conditions: vec![
                condition(profile("department"), Operator::Equals, &["HR"]),
                condition(profile("job_title"), Operator::Contains, &["manager"]),
                condition(profile("room"), Operator::StartsWith, &["B2"]),
                condition(profile("leaving_date"), Operator::IsEmpty, &[]),
                condition(
                    profile("site"),
                    Operator::InList,
                    &["Paris", "Lyon", "Nice"]
                ),
            ],
        }
    );
}

#[test]
fn parses_each_subject() {
    let rule =
        parse("profile.dept_2 equals x\nemail-domain equals acme.example\nsite-role equals admin");
    let subjects: Vec<Subject> = rule.conditions.into_iter().map(|c| c.subject).collect();
    assert_eq!(
        subjects,
        [profile("dept_2"), Subject::EmailDomain, Subject::SiteRole]
    );
}

#[test]
fn the_value_is_the_rest_of_the_line_trimmed() {
    let rule = parse("  profile.job_title\tequals   Head of  HR  ");
    assert_eq!(rule.conditions[0].values, ["Head of  HR"]);
    // A `#` inside a value is part of it: only whole lines are comments.
    let rule = parse("profile.room equals #12");
    assert_eq!(rule.conditions[0].values, ["#12"]);
}

#[test]
fn skips_comments_and_blank_lines() {
    let rule = parse("# HR staff\n\n   \n  # at acme\r\nemail-domain equals acme.example\r\n");
    assert_eq!(
        rule.conditions,
        [condition(
            Subject::EmailDomain,
            Operator::Equals,
            &["acme.example"]
        )]
    );
}

#[test]
fn any_matches_one_condition() {
    let rule = Rule::parse(Match::Any, "site-role equals admin").expect("parses");
    assert!(!rule.all);
    assert!(parse("site-role equals admin").all);
}

#[test]
fn an_unknown_operator_is_named_with_its_line() {
    assert_eq!(
        errors("profile.department equals HR\nprofile.department equal HR"),
        [
            "line 2: unknown operator \"equal\"; use equals, contains, starts-with, is-empty or in-list"
        ]
    );
}

#[test]
fn operators_that_compare_need_a_value() {
    assert_eq!(
        errors("profile.department equals"),
        ["line 1: \"equals\" needs a value"]
    );
    assert_eq!(
        errors("email-domain contains   "),
        ["line 1: \"contains\" needs a value"]
    );
    assert_eq!(
        errors("profile.room starts-with"),
        ["line 1: \"starts-with\" needs a value"]
    );
    assert_eq!(
        errors("profile.site in-list"),
        ["line 1: \"in-list\" needs a value"]
    );
    assert_eq!(
        errors("profile.site in-list , ,"),
        ["line 1: \"in-list\" needs at least one value, separated by commas"]
    );
}

#[test]
fn is_empty_takes_no_value() {
    assert_eq!(
        errors("profile.leaving_date is-empty yes"),
        ["line 1: \"is-empty\" takes no value (found \"yes\")"]
    );
}

#[test]
fn an_unknown_subject_is_named_with_its_line() {
    assert_eq!(
        errors("# comment\n\ndept equals HR"),
        ["line 3: unknown subject \"dept\"; use profile.<field>, email-domain or site-role"]
    );
}

#[test]
fn a_profile_field_needs_a_short_name() {
    assert_eq!(
        errors("profile.Department equals HR"),
        [
            "line 1: \"Department\" is not a profile field's short name (lowercase letters, digits and _)"
        ]
    );
    assert_eq!(
        errors("profile. equals HR"),
        ["line 1: \"\" is not a profile field's short name (lowercase letters, digits and _)"]
    );
}

#[test]
fn a_condition_needs_an_operator() {
    assert_eq!(
        errors("email-domain"),
        [
            "line 1: no operator after \"email-domain\"; use equals, contains, starts-with, is-empty or in-list"
        ]
    );
}

#[test]
fn every_error_is_reported_at_once() {
    assert_eq!(
        errors(
            "# the rule\n\
             dept equals HR\n\
             profile.department equals HR\n\
             \n\
             email-domain is acme.example\n\
             site-role equals\n\
             salary over 3"
        ),
        [
            "line 2: unknown subject \"dept\"; use profile.<field>, email-domain or site-role",
            "line 5: unknown operator \"is\"; use equals, contains, starts-with, is-empty or in-list",
            "line 6: \"equals\" needs a value",
            "line 7: unknown subject \"salary\"; use profile.<field>, email-domain or site-role",
            "line 7: unknown operator \"over\"; use equals, contains, starts-with, is-empty or in-list",
        ]
    );
}

#[test]
fn a_rule_needs_a_condition() {
    for text in ["", "   \n\n", "# only a comment\n# and another"] {
        assert_eq!(errors(text), ["write at least one condition"], "{text:?}");
    }
}

// --- Matching ------------------------------------------------------------

#[test]
fn all_needs_every_condition_and_any_one() {
    let text = "profile.department equals HR\nemail-domain equals acme.example";
    let all = Rule::parse(Match::All, text).expect("parses");
    let any = Rule::parse(Match::Any, text).expect("parses");
    let both = person("ada@acme.example", &[("department", "HR")]);
    let one = person("ada@elsewhere.example", &[("department", "HR")]);
    let none = person("ada@elsewhere.example", &[("department", "Sales")]);
    assert!(all.matches(&both) && any.matches(&both));
    assert!(!all.matches(&one) && any.matches(&one));
    assert!(!all.matches(&none) && !any.matches(&none));
}

#[test]
fn comparisons_ignore_case() {
    let user = person("Ada@ACME.Example", &[("department", "Human Resources")]);
    assert!(parse("profile.department equals human RESOURCES").matches(&user));
    assert!(parse("profile.department contains RESOURCE").matches(&user));
    assert!(parse("profile.department starts-with hUMAN").matches(&user));
    assert!(parse("profile.department in-list Sales, HUMAN resources").matches(&user));
    assert!(parse("email-domain equals acme.example").matches(&user));
    assert!(!parse("profile.department equals Human").matches(&user));
}

#[test]
fn contains_and_starts_with_look_inside_the_value() {
    let user = person("ada@mail.acme.example", &[("room", "B2-114")]);
    assert!(parse("profile.room contains -11").matches(&user));
    assert!(!parse("profile.room contains C3").matches(&user));
    assert!(parse("profile.room starts-with b2").matches(&user));
    assert!(!parse("profile.room starts-with 114").matches(&user));
    assert!(parse("email-domain starts-with mail.").matches(&user));
    assert!(!parse("email-domain equals acme.example").matches(&user));
}

#[test]
fn is_empty_holds_for_an_absent_or_blank_field() {
    let rule = parse("profile.leaving_date is-empty");
    assert!(rule.matches(&person("a@b.example", &[])));
    assert!(rule.matches(&person("a@b.example", &[("leaving_date", "")])));
    assert!(rule.matches(&person("a@b.example", &[("leaving_date", "  ")])));
    assert!(!rule.matches(&person("a@b.example", &[("leaving_date", "2030-01-01")])));
    // An absent field equals, contains and starts with nothing.
    let user = person("a@b.example", &[]);
    for op in ["equals x", "contains x", "starts-with x", "in-list x, y"] {
        assert!(
            !parse(&format!("profile.leaving_date {op}")).matches(&user),
            "{op}"
        );
    }
}

#[test]
fn in_list_matches_one_of_its_items_whole() {
    let rule = parse("profile.site in-list Paris, Lyon");
    assert!(rule.matches(&person("a@b.example", &[("site", "lyon")])));
    assert!(!rule.matches(&person("a@b.example", &[("site", "Lyon 2")])));
    assert!(!rule.matches(&person("a@b.example", &[("site", "Nice")])));
}

#[test]
fn email_domain_is_what_follows_the_at() {
    let rule = parse("email-domain is-empty");
    assert!(rule.matches(&person("no-address", &[])));
    assert!(rule.matches(&person("", &[])));
    assert!(!rule.matches(&person("ada@acme.example", &[])));
    assert!(!parse("email-domain equals no-address").matches(&person("no-address", &[])));
}

#[test]
fn site_role_is_admin_or_user() {
    let mut admin = person("a@b.example", &[]);
    admin.site_admin = true;
    let user = person("a@b.example", &[]);
    assert!(parse("site-role equals admin").matches(&admin));
    assert!(!parse("site-role equals admin").matches(&user));
    assert!(parse("site-role equals USER").matches(&user));
    assert!(parse("site-role in-list admin, user").matches(&user));
    assert!(!parse("site-role is-empty").matches(&user));
}

#[test]
fn describes_the_rule_in_words() {
    assert_eq!(
        parse("profile.department equals HR\nemail-domain equals acme.example").describe(),
        "department equals HR and e-mail domain equals acme.example"
    );
    let any = Rule::parse(
        Match::Any,
        "profile.site in-list Paris,Lyon\nsite-role equals admin\nprofile.room starts-with B\n\
         profile.job contains lead\nprofile.end is-empty",
    )
    .expect("parses");
    assert_eq!(
        any.describe(),
        "site is one of Paris, Lyon or site role equals admin or room starts with B or job contains lead or end is empty"
    );
}
