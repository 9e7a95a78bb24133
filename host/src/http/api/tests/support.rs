//! `ApiTest`: a populated site, tokens for its people, and one helper per
//! HTTP verb that returns the status and the JSON body.

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use serde_json::Value;

use crate::domain::{TokenScope, UserId};
use crate::http::{AppState, app};
use crate::services::testing::TestSite;
use crate::services::tokens::NewToken;

/// Site "acme" of [`TestSite`] with API tokens for its site admin, its
/// teacher, a learner and the operator.
pub(crate) struct ApiTest {
    pub fx: TestSite,
    pub admin: String,
    pub teacher: String,
    pub learner: String,
    pub operator: String,
}

/// One API client: a token (or none) and the path prefix of its site.
pub(crate) struct Api<'a> {
    test: &'a ApiTest,
    token: Option<&'a str>,
    prefix: String,
}

impl ApiTest {
    pub fn new() -> Self {
        Self::with(TestSite::new())
    }

    /// Tokens for the people of `fx`, a site of its host (e.g. the first
    /// of [`TestSite::two_sites`]).
    pub fn with(fx: TestSite) -> Self {
        fx.services.first_run().expect("first run");
        let site = fx.site.site().id;
        let token = |user: UserId| {
            fx.services
                .create_token(
                    &fx.operator,
                    NewToken {
                        name: "test".into(),
                        scope: TokenScope::SiteUser { site, user },
                    },
                )
                .expect("token")
                .secret
        };
        let admin = token(fx.admin_id);
        let teacher = token(fx.teacher_id);
        let learner = token(fx.learners[0]);
        let operator_principal = fx.services.console_operator().expect("operator");
        let operator_id = operator_principal.operator_id().expect("operator id");
        let operator = fx
            .services
            .create_token(
                &operator_principal,
                NewToken {
                    name: "ops".into(),
                    scope: TokenScope::Operator {
                        operator: operator_id,
                    },
                },
            )
            .expect("operator token")
            .secret;
        Self {
            fx,
            admin,
            teacher,
            learner,
            operator,
        }
    }

    /// A new API token acting as `user` of the fixture's site: its secret.
    pub fn token_of(&self, user: UserId) -> String {
        let scope = TokenScope::SiteUser {
            site: self.fx.id(),
            user,
        };
        let new = NewToken {
            name: format!("user #{user}"),
            scope,
        };
        self.fx
            .services
            .create_token(&self.fx.operator, new)
            .expect("token")
            .secret
    }

    /// The site admin on `/s/acme/api/v1`.
    pub fn admin(&self) -> Api<'_> {
        self.client(Some(&self.admin))
    }

    pub fn teacher(&self) -> Api<'_> {
        self.client(Some(&self.teacher))
    }

    pub fn learner(&self) -> Api<'_> {
        self.client(Some(&self.learner))
    }

    pub fn operator(&self) -> Api<'_> {
        self.client(Some(&self.operator))
    }

    pub fn anonymous(&self) -> Api<'_> {
        self.client(None)
    }

    pub fn client<'a>(&'a self, token: Option<&'a str>) -> Api<'a> {
        Api {
            test: self,
            token,
            prefix: format!("/s/{}/api/v1", self.fx.site.site().slug),
        }
    }
}

impl Api<'_> {
    /// The same client on another path prefix (`""` for host routing).
    pub fn at(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = TestRequest::default()
            .method(method)
            .uri(&format!("{}{path}", self.prefix));
        if let Some(body) = body {
            req = req.set_json(body);
        }
        self.send(req).await
    }

    /// Sends a hand-made request (raw bodies, odd headers) with this
    /// client's token.
    pub async fn send(&self, mut req: TestRequest) -> (StatusCode, Value) {
        if let Some(token) = self.token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let (status, _, bytes) = call(AppState::new(self.test.fx.services.clone()), req).await;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        (status, json)
    }
}

/// Sends `req` to the application over `state`: the status, the headers
/// and the body of the answer.
pub(crate) async fn call(
    state: AppState,
    req: TestRequest,
) -> (StatusCode, HeaderMap, actix_web::web::Bytes) {
    let service = test::init_service(app(state)).await;
    let response = test::call_service(&service, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, test::read_body(response).await)
}

/// What the registry holds that an API call could change: the sites, the
/// tokens (without their last-used times, which any request touches) and
/// the plugins with their pins.
pub(crate) fn registry_state(
    fx: &TestSite,
) -> (
    Vec<crate::domain::Site>,
    Vec<String>,
    Vec<crate::services::plugins::InstalledPlugin>,
) {
    let system = crate::services::Principal::system();
    let sites = fx.services.list_sites(&system).expect("sites");
    let tokens = fx
        .services
        .list_tokens(&system, None)
        .expect("tokens")
        .into_iter()
        .map(|t| format!("{} {:?} {:?} {:?}", t.id, t.name, t.scope, t.revoked_at))
        .collect();
    let plugins = fx.services.list_plugins(&system).expect("plugins");
    (sites, tokens, plugins)
}

/// The error code of a JSON error body.
pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
