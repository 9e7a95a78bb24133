//! Page tests through the in-process application: the route walk (every
//! page route refuses whom it must, every form needs its CSRF token), and
//! sign-in, sessions and the pages themselves.

mod announcements;
mod assignments;
mod audit;
mod content;
mod courses;
mod discussions;
mod gradebook;
mod groups;
mod imports;
mod mail;
mod mass_enrolments;
mod methods;
mod operator;
mod profile_fields;
mod segment_rules;
mod segments;
mod separate_groups;

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};

use super::{Access, PageRoute, operator_page_routes, site_page_routes};
use crate::domain::{SessionSubject, SiteId, UserId};
use crate::http::{AppState, app};
use crate::services::mass_enrolments::{MassEnrolmentRequest, MassGroupChoice};
use crate::services::testing::TestSite;

/// Site "acme" of [`TestSite`] (reached as `/s/acme/…`), a second site
/// "beta" with its own admin, the first operator, and a session for each
/// kind of visitor.
pub(crate) struct Pages {
    pub fx: TestSite,
    pub beta: TestSite,
    pub admin: String,
    pub teacher: String,
    pub learner: String,
    /// learner5: a user of the site outside the fixture's course.
    pub outsider: String,
    pub beta_admin: String,
    pub operator: String,
    /// A CSV file the admin uploaded (its preview), for `{import}`.
    pub import: String,
    /// An announcement the admin scheduled to the course, for
    /// `{announcement}` (the sender's pages, which edit it).
    pub scheduled: crate::domain::AnnouncementId,
    /// One the admin sent to the course, for `{message}` (the inbox).
    pub sent: crate::domain::AnnouncementId,
    /// A mass enrolment, for `{id}` under `/mass-enrolments`: none (an id
    /// no site has) unless [`Pages::with_mass_enrolment`] made one.
    pub mass_enrolment: u64,
    /// A forum in the fixture's section holding an all-participants
    /// discussion (by the teacher) with a reply, for `{forum}`,
    /// `{discussion}` and `{post}`.
    pub content: Content,
    /// An assignment in the fixture's section, for `{assignment}`.
    pub assignment: crate::domain::ActivityId,
    /// The learner's submission to it with one file, for `{submission}`
    /// and `{file}` (the file's digest).
    pub submission: crate::domain::SubmissionId,
    pub file: String,
    /// The gradebook sample's items and grades, for `{item}` (its
    /// "Practical check").
    pub grades: crate::services::gradebook::sample::GradebookSample,
}

pub(crate) struct Content {
    pub forum: crate::domain::ActivityId,
    pub discussion: crate::domain::DiscussionId,
    pub post: crate::domain::PostId,
}

impl Content {
    fn of(fx: &TestSite) -> Self {
        let t = &fx.teacher;
        let forum = fx
            .site
            .create_forum(
                t,
                fx.section,
                &crate::services::content::ActivityDraft {
                    name: "Questions".into(),
                    visible: true,
                    ..Default::default()
                },
            )
            .expect("a forum")
            .id;
        let discussion = fx
            .site
            .start_discussion(
                t,
                forum,
                crate::services::discussions::NewDiscussion {
                    group: None,
                    subject: "Welcome".into(),
                    body: "Ask **anything**.".into(),
                },
            )
            .expect("a discussion");
        let post = fx
            .site
            .reply(t, discussion.first_post, "Even this.")
            .expect("a reply")
            .id;
        Self {
            forum,
            discussion: discussion.id,
            post,
        }
    }
}

impl Pages {
    pub fn new() -> Self {
        let fx = TestSite::new();
        fx.services.first_run().expect("first run");
        let beta = fx.another_site("beta");
        let session = |site: SiteId, user: UserId| {
            fx.services
                .test_session(SessionSubject::SiteUser { site, user })
        };
        let operator = fx
            .services
            .console_operator()
            .expect("operator")
            .operator_id()
            .expect("operator id");
        let import = fx
            .site
            .stage_import(
                &fx.admin,
                crate::services::bulk::ImportKind::SegmentMembers,
                "members.csv",
                b"username,segment\nlearner4,hr\n".to_vec(),
            )
            .expect("staged import")
            .id;
        let announce = |send_at| {
            fx.site
                .create_announcement(
                    &fx.admin,
                    crate::services::announcements::AnnouncementDraft {
                        audience: crate::domain::Audience::Course(fx.course),
                        subject: "Welcome".into(),
                        body: "Hello **all**.".into(),
                        send_at,
                    },
                )
                .expect("announcement")
                .id
        };
        let scheduled = announce(Some(crate::domain::Timestamp(
            crate::domain::Timestamp::now().0 + 86_400_000,
        )));
        let sent = announce(None);
        let content = Content::of(&fx);
        let sample = fx.assignment_sample();
        let grades = fx.gradebook_sample();
        Self {
            grades,
            content,
            assignment: sample.assignment,
            submission: sample.submission,
            file: sample.file,
            import,
            scheduled,
            sent,
            mass_enrolment: 999,
            admin: session(fx.id(), fx.admin_id),
            teacher: session(fx.id(), fx.teacher_id),
            learner: session(fx.id(), fx.learners[0]),
            outsider: session(fx.id(), fx.learners[4]),
            beta_admin: session(beta.id(), beta.admin_id),
            operator: fx.services.test_session(SessionSubject::Operator(operator)),
            fx,
            beta,
        }
    }

    /// These pages with a mass enrolment of Finance into the course, done
    /// and undone by the admin: its pages exist, and the course's people
    /// are as the fixture made them.
    pub fn with_mass_enrolment(mut self) -> Self {
        let done = self
            .fx
            .site
            .apply_mass_enrolment(
                &self.fx.admin,
                self.fx.finance,
                &MassEnrolmentRequest {
                    course: self.fx.course,
                    role: crate::domain::Role::Learner,
                    group: MassGroupChoice::None,
                },
            )
            .expect("a mass enrolment");
        self.fx
            .site
            .undo_mass_enrolment(&self.fx.admin, done.id)
            .expect("its undo");
        self.mass_enrolment = done.id.0;
        self
    }

    pub fn csrf(&self, secret: &str) -> String {
        self.fx.services.test_csrf(secret)
    }

    /// `path` with each `{param}` replaced by an id of the fixture.
    pub fn sample(&self, path: &str) -> String {
        let fx = &self.fx;
        let mut out = path.to_owned();
        // The fixture's `department` profile field.
        let field = || {
            fx.site
                .list_profile_fields(&fx.admin)
                .expect("profile fields")
                .into_iter()
                .find(|f| f.shortname == "department")
                .expect("the fixture's department field")
                .id
                .to_string()
        };
        if path.contains("{field}") {
            out = out.replace("{field}", &field());
        }
        for (param, value) in [
            ("{user}", fx.learners[1].to_string()),
            ("{segment}", fx.hr.to_string()),
            ("{course}", fx.course.to_string()),
            ("{group}", fx.team_a.to_string()),
            ("{method}", fx.manual.to_string()),
            ("{plugin}", "noop".to_owned()),
            ("{site}", "beta".to_owned()),
            ("{kind}", "segment-members".to_owned()),
            ("{import}", self.import.clone()),
            ("{announcement}", self.scheduled.to_string()),
            ("{message}", self.sent.to_string()),
            ("{id}", self.mass_enrolment.to_string()),
            ("{section}", fx.section.to_string()),
            ("{activity}", fx.page.to_string()),
            ("{grouping}", fx.grouping.to_string()),
            ("{forum}", self.content.forum.to_string()),
            ("{discussion}", self.content.discussion.to_string()),
            ("{post}", self.content.post.to_string()),
            ("{assignment}", self.assignment.to_string()),
            ("{submission}", self.submission.to_string()),
            ("{file}", self.file.clone()),
            ("{item}", self.grades.check.to_string()),
        ] {
            out = out.replace(param, &value);
        }
        assert!(
            !out.contains('{'),
            "route {path}: add a sample value for its parameter to Pages::sample"
        );
        out
    }

    pub async fn call(&self, req: TestRequest) -> Answer {
        let state = AppState::new(self.fx.services.clone());
        let service = test::init_service(app(state)).await;
        let response = test::call_service(&service, req.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A GET of a page of acme as the holder of `secret` (site cookie, or
    /// operator cookie for the operator).
    pub async fn get(&self, path: &str, secret: Option<&str>) -> Answer {
        self.call(self.with_cookie(TestRequest::get().uri(path), secret))
            .await
    }

    /// A form POST as the holder of `secret`, with `csrf` as its token.
    pub async fn post(&self, path: &str, secret: Option<&str>, body: &str) -> Answer {
        let req = TestRequest::post()
            .uri(path)
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned());
        self.call(self.with_cookie(req, secret)).await
    }

    fn with_cookie(&self, req: TestRequest, secret: Option<&str>) -> TestRequest {
        match secret {
            Some(s) if s == self.operator => {
                req.cookie(Cookie::new("charon_operator", s.to_owned()))
            }
            Some(s) => req.cookie(Cookie::new("charon_session", s.to_owned())),
            None => req,
        }
    }
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn sends_to_sign_in(&self) -> bool {
        self.status == StatusCode::SEE_OTHER && self.location().contains("sign-in")
    }

    /// Asserts the answer has `status` and its page shows `text`; on
    /// failure the page is printed.
    #[track_caller]
    pub fn assert_shows(&self, status: StatusCode, text: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(self.body.contains(text), "{text:?} not in {}", self.body);
    }

    /// Asserts a form the service refused for its content came back on its
    /// own page: 422, the summary saying nothing was saved, and `text`
    /// (the refusal, or the mark on the refused field).
    #[track_caller]
    pub fn assert_form_refused(&self, text: &str) {
        self.assert_shows(StatusCode::UNPROCESSABLE_ENTITY, text);
        assert!(self.body.contains("Nothing was saved"), "{}", self.body);
    }
}

fn site_url(route: &PageRoute, pages: &Pages) -> String {
    format!("/s/acme{}", pages.sample(route.path))
}

// ------------------------------------------------------------ route walk

/// Every site page, visited by everyone: anonymous visitors are sent to
/// sign in, a site admin of another site too (their session does not count
/// here), a teacher or learner is refused site-admin pages, and the site's
/// admin and the operator get them.
#[actix_web::test]
async fn every_site_page_refuses_whom_it_must() {
    let p = Pages::new().with_mass_enrolment();
    let mut walked = 0;
    for route in site_page_routes().iter().filter(|r| r.method == "get") {
        let url = site_url(route, &p);
        let anonymous = p.get(&url, None).await;
        let stranger = p.get(&url, Some(&p.beta_admin)).await;
        if route.access == Access::Public {
            assert_eq!(anonymous.status, StatusCode::OK, "{url} is public");
            continue;
        }
        assert!(
            anonymous.sends_to_sign_in(),
            "{url}: anonymous gets {}",
            anonymous.status
        );
        assert!(
            stranger.sends_to_sign_in(),
            "{url}: another site's admin gets {}",
            stranger.status
        );
        let learner = p.get(&url, Some(&p.learner)).await;
        let teacher = p.get(&url, Some(&p.teacher)).await;
        match route.access {
            Access::SiteAdmin => {
                assert_eq!(learner.status, StatusCode::FORBIDDEN, "{url} as learner");
                assert_eq!(teacher.status, StatusCode::FORBIDDEN, "{url} as teacher");
            }
            Access::CourseStaff => {
                assert_eq!(learner.status, StatusCode::FORBIDDEN, "{url} as learner");
                assert_eq!(
                    teacher.status,
                    StatusCode::OK,
                    "{url} as teacher: {}",
                    teacher.body
                );
            }
            Access::SignedIn => {
                assert_eq!(learner.status, StatusCode::OK, "{url} as learner");
            }
            Access::CourseMember => {
                assert_eq!(learner.status, StatusCode::OK, "{url} as learner");
                assert_eq!(teacher.status, StatusCode::OK, "{url} as teacher");
                let outsider = p.get(&url, Some(&p.outsider)).await;
                assert_eq!(
                    outsider.status,
                    StatusCode::FORBIDDEN,
                    "{url} as a user outside the course"
                );
            }
            Access::Public | Access::Operator => unreachable!("{url}: not a site page access"),
        }
        for (who, secret) in [("admin", &p.admin), ("operator", &p.operator)] {
            let answer = p.get(&url, Some(secret)).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{url} as {who}: {}",
                answer.body
            );
        }
        walked += 1;
    }
    assert!(
        walked >= 3,
        "the walk visited only {walked} signed-in pages"
    );
}

/// Every site form: without a token, with another session's token, and
/// with a wrong one it is refused with 403 and the site file does not
/// change by a byte. Anonymous posts go to sign-in, writing nothing.
#[actix_web::test]
async fn every_site_form_refuses_a_missing_or_wrong_csrf_token() {
    let p = Pages::new();
    let other_token = p.csrf(&p.teacher);
    let mut walked = 0;
    for route in site_page_routes().iter().filter(|r| r.method == "post") {
        let url = site_url(route, &p);
        let before = p.fx.snapshot();
        let bodies = [
            "name=x".to_owned(),
            "csrf=&name=x".to_owned(),
            format!("csrf={other_token}&name=x"),
            "csrf=0000000000000000000000000000000000000000000000000000000000000000".to_owned(),
        ];
        for body in &bodies {
            let secret = if route.access == Access::Public {
                None
            } else {
                Some(p.admin.as_str())
            };
            let answer = p.post(&url, secret, body).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "POST {url} with {body:?}: {}",
                answer.body
            );
            assert!(
                answer.body.contains("nothing was changed"),
                "POST {url} says why"
            );
        }
        if route.access != Access::Public {
            let token = p.csrf(&p.admin);
            let anonymous = p.post(&url, None, &format!("csrf={token}")).await;
            assert!(
                anonymous.sends_to_sign_in(),
                "POST {url} anonymous: {}",
                anonymous.status
            );
            let stranger = p
                .post(
                    &url,
                    Some(&p.beta_admin),
                    &format!("csrf={}", p.csrf(&p.beta_admin)),
                )
                .await;
            assert!(
                stranger.sends_to_sign_in(),
                "POST {url} by another site's admin: {}",
                stranger.status
            );
        }
        p.fx.assert_unchanged(&before);
        walked += 1;
    }
    assert!(walked >= 3, "the walk posted to only {walked} forms");
}

/// A site admin's own form posted by a teacher with the teacher's valid
/// token is refused by the services and writes nothing.
#[actix_web::test]
async fn site_admin_forms_refuse_a_teacher_with_a_valid_token() {
    let p = Pages::new();
    let token = p.csrf(&p.teacher);
    for route in site_page_routes()
        .iter()
        .filter(|r| r.method == "post" && r.access == Access::SiteAdmin)
    {
        let url = site_url(route, &p);
        let before = p.fx.snapshot();
        let answer = p.post(&url, Some(&p.teacher), &format!("csrf={token}&name=x&username=x&email=x%40example.org&firstname=x&lastname=x&shortname=x&fullname=x")).await;
        assert!(
            answer.status == StatusCode::FORBIDDEN,
            "POST {url} as teacher: {} {}",
            answer.status,
            answer.body
        );
        p.fx.assert_unchanged(&before);
    }
}

/// Issue 16, finding 8: a teacher or a learner posting a form that does not
/// fit (a field missing, an unknown one) to a site admin page hears 403,
/// never which fields the form has.
#[actix_web::test]
async fn site_admin_forms_refuse_garbage_from_those_who_may_not_post_them() {
    let p = Pages::new();
    for who in [&p.teacher, &p.learner] {
        let token = p.csrf(who);
        for route in site_page_routes()
            .iter()
            .filter(|r| r.method == "post" && r.access == Access::SiteAdmin)
        {
            let url = site_url(route, &p);
            for body in [format!("csrf={token}"), format!("csrf={token}&x=1&page=-1")] {
                let answer = p.post(&url, Some(who), &body).await;
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "POST {url} {body}: {}",
                    answer.body
                );
            }
        }
    }
}

/// Operator pages: only an operator's session opens them.
#[actix_web::test]
async fn operator_pages_refuse_everyone_else() {
    let p = Pages::new();
    for route in operator_page_routes().iter() {
        let url = p.sample(route.path);
        if route.method == "get" {
            let anonymous = p.get(&url, None).await;
            if route.access == Access::Public {
                assert_eq!(anonymous.status, StatusCode::OK, "{url} is public");
                continue;
            }
            assert!(anonymous.sends_to_sign_in(), "{url} anonymous");
            assert!(
                p.get(&url, Some(&p.admin)).await.sends_to_sign_in(),
                "{url} as site admin"
            );
            let op = p.get(&url, Some(&p.operator)).await;
            assert_eq!(op.status, StatusCode::OK, "{url} as operator: {}", op.body);
        } else {
            let secret = (route.access != Access::Public).then_some(p.operator.as_str());
            for body in ["x=1", "csrf=wrong"] {
                let answer = p.post(&url, secret, body).await;
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "POST {url} with {body:?}"
                );
            }
        }
    }
}

// -------------------------------------------------------------- sign-in

pub(crate) fn cookie_of(answer: &Answer, name: &str) -> Option<String> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub(crate) fn value_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// The sign-in page's token, and its cookie.
async fn sign_in_token(p: &Pages, path: &str) -> String {
    let page = p.get(path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie =
        cookie_of(&page, "charon_sign_in").expect("the sign-in page sets its token cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = value_of(&cookie);
    assert!(
        page.body.contains(&format!("value=\"{token}\"")),
        "the form carries the token"
    );
    token
}

async fn sign_in(p: &Pages, username: &str, password: &str) -> Answer {
    let token = sign_in_token(p, "/s/acme/sign-in").await;
    let req = TestRequest::post()
        .uri("/s/acme/sign-in")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .cookie(Cookie::new("charon_sign_in", token.clone()))
        .set_payload(format!(
            "csrf={token}&username={username}&password={password}&next=%2Fs%2Facme%2Fusers"
        ));
    p.call(req).await
}

#[actix_web::test]
async fn a_user_signs_in_with_the_right_password_only_and_gets_a_safe_cookie() {
    let p = Pages::new();
    p.fx.site
        .set_user_password(&p.fx.operator, p.fx.admin_id, "correct horse battery")
        .unwrap();
    let wrong = sign_in(&p, "admin", "wrong password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong username or password"));
    assert!(cookie_of(&wrong, "charon_session").is_none());
    let unknown = sign_in(&p, "nobody", "wrong password").await;
    assert!(
        unknown.body.contains("Wrong username or password"),
        "one answer for unknown names"
    );

    let ok = sign_in(&p, "admin", "correct%20horse%20battery").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        ok.location(),
        "/s/acme/users",
        "back to where the visitor was going"
    );
    let cookie = cookie_of(&ok, "charon_session").expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/s/acme/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP in tests: {cookie}");
    let secret = value_of(&cookie);
    let users = p.get("/s/acme/users", Some(&secret)).await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(users.body.contains("learner1"));
}

#[actix_web::test]
async fn the_session_cookie_is_secure_over_https() {
    let p = Pages::new();
    p.fx.site
        .set_user_password(&p.fx.operator, p.fx.admin_id, "correct horse battery")
        .unwrap();
    let token = sign_in_token(&p, "/s/acme/sign-in").await;
    let req = TestRequest::post()
        .uri("/s/acme/sign-in")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header(("x-forwarded-proto", "https"))
        .cookie(Cookie::new("charon_sign_in", token.clone()))
        .set_payload(format!(
            "csrf={token}&username=admin&password=correct+horse+battery"
        ));
    let ok = p.call(req).await;
    let cookie = cookie_of(&ok, "charon_session").expect("session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[actix_web::test]
async fn a_suspended_user_cannot_sign_in_even_with_the_right_password() {
    let p = Pages::new();
    let id = p.fx.learners[1];
    p.fx.site
        .set_user_password(&p.fx.operator, id, "a good password")
        .unwrap();
    p.fx.site.suspend_user(&p.fx.operator, id).unwrap();
    let answer = sign_in(&p, "learner2", "a+good+password").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("suspended"));
    assert!(cookie_of(&answer, "charon_session").is_none());
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let p = Pages::new();
    p.fx.site
        .set_user_password(&p.fx.operator, p.fx.admin_id, "correct horse battery")
        .unwrap();
    for _ in 0..5 {
        assert_eq!(
            sign_in(&p, "admin", "nope").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = sign_in(&p, "admin", "correct+horse+battery").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(locked.headers.contains_key(header::RETRY_AFTER));
    assert!(cookie_of(&locked, "charon_session").is_none());
}

#[actix_web::test]
async fn a_sign_in_without_its_token_cookie_is_refused() {
    let p = Pages::new();
    let answer = p
        .post(
            "/s/acme/sign-in",
            None,
            "csrf=abc&username=admin&password=x",
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn signing_out_ends_the_session_on_the_server() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let out = p
        .post("/s/acme/sign-out", Some(&p.admin), &format!("csrf={token}"))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let removal = cookie_of(&out, "charon_session").expect("the cookie is cleared");
    assert!(
        removal.contains("Max-Age=0") || removal.contains("expires"),
        "{removal}"
    );
    // The old secret is worth nothing now, even if a copy survives.
    assert!(
        p.get("/s/acme/users", Some(&p.admin))
            .await
            .sends_to_sign_in()
    );
}

#[actix_web::test]
async fn an_idle_session_times_out() {
    let p = Pages::new();
    p.fx.services
        .set_session_policy(crate::services::sessions::SessionPolicy {
            idle_timeout: std::time::Duration::from_millis(1),
            ..Default::default()
        });
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(
        p.get("/s/acme/users", Some(&p.admin))
            .await
            .sends_to_sign_in()
    );
}

#[actix_web::test]
async fn a_session_of_a_user_suspended_since_counts_no_more() {
    let p = Pages::new();
    p.fx.site
        .suspend_user(&p.fx.operator, p.fx.learners[0])
        .unwrap();
    assert!(
        p.get("/s/acme/dashboard", Some(&p.learner))
            .await
            .sends_to_sign_in()
    );
}

// ---------------------------------------------------------------- users

pub(crate) fn form_of(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", super::session::url_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[actix_web::test]
async fn a_site_admin_creates_a_user_and_sees_the_flash() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let body = form_of(&[
        ("csrf", &token),
        ("username", "dana"),
        ("email", "dana@example.org"),
        ("firstname", "Dana"),
        ("lastname", "Scully"),
        ("profile_field_department", "HR"),
        ("password", "trust no one"),
    ]);
    let created = p.post("/s/acme/users", Some(&p.admin), &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let flash = cookie_of(&created, "charon_flash").expect("flash");
    let next = p
        .call(
            TestRequest::get()
                .uri(created.location())
                .cookie(Cookie::new("charon_session", p.admin.clone()))
                .cookie(Cookie::new("charon_flash", value_of(&flash))),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK);
    assert!(
        next.body.contains("User Dana Scully created."),
        "{}",
        next.body
    );
    assert!(
        cookie_of(&next, "charon_flash").is_some(),
        "a shown flash is cleared"
    );
    let list = p.get("/s/acme/users?q=scully", Some(&p.admin)).await;
    assert!(list.body.contains("dana@example.org"));
}

#[actix_web::test]
async fn bad_user_input_is_answered_on_the_form_and_writes_nothing() {
    let p = Pages::new();
    let token = p.csrf(&p.admin);
    let before = p.fx.snapshot();
    let body = form_of(&[
        ("csrf", &token),
        ("username", "learner1"),
        ("email", "not-an-email"),
        ("firstname", "X"),
        ("lastname", "Y"),
    ]);
    let answer = p.post("/s/acme/users", Some(&p.admin), &body).await;
    // The field is marked.
    answer.assert_form_refused("aria-invalid=\"true\"");
    assert!(
        answer.body.contains("value=\"learner1\""),
        "the input is kept"
    );
    p.fx.assert_unchanged(&before);
}
