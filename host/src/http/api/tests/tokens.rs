use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::ApiTest;
use super::support::{code, registry_state};

fn secret(created: &Value) -> String {
    created["secret"].as_str().expect("secret").to_owned()
}

#[actix_web::test]
async fn a_site_admin_mints_a_token_for_themselves_uses_it_and_revokes_it() {
    let t = ApiTest::new();
    let site = t.fx.id();
    let (status, created) = t.admin().post("/tokens", json!({"name": "HR sync"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = secret(&created);
    assert!(secret.starts_with("chr_") && secret.len() > 40, "{secret}");
    let token = &created["token"];
    let id = token["id"].as_u64().unwrap();
    assert_eq!(token["name"], "HR sync");
    assert_eq!(
        token["acts_as"],
        json!({"kind": "site_user", "site": site.0, "user": t.fx.admin_id.0}),
        "by default the token acts as its creator"
    );
    assert_eq!(
        token["created_by"],
        json!({"kind": "user", "id": t.fx.admin_id.0})
    );
    assert!(secret.starts_with(token["prefix"].as_str().unwrap()));
    assert_eq!(token["revoked_at"], Value::Null);

    let (status, _) = t.client(Some(&secret)).get("/segments").await;
    assert_eq!(status, StatusCode::OK, "the new token works at once");

    let (status, page) = t.admin().get("/tokens").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .expect("listed")
        .clone();
    assert!(listed["last_used_at"].as_i64().is_some(), "{listed}");
    assert!(
        !page.to_string().contains(&secret[4..]),
        "the secret is never listed"
    );

    let (status, revoked) = t.admin().delete(&format!("/tokens/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].as_i64().is_some());
    let (status, body) = t.client(Some(&secret)).get("/segments").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        "a revoked token is refused at once"
    );
    let (status, again) = t.admin().delete(&format!("/tokens/{id}")).await;
    assert_eq!(status, StatusCode::OK, "revoking twice is harmless");
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
}

#[actix_web::test]
async fn a_token_for_another_user_has_that_users_rights_only() {
    let t = ApiTest::new();
    let learner = t.fx.learners[2];
    let (status, created) = t
        .admin()
        .post("/tokens", json!({"name": "kiosk", "user": learner.0}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["token"]["acts_as"]["user"], learner.0);
    let (status, _) = t.client(Some(&secret(&created))).get("/segments").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn an_operator_mints_site_tokens_for_a_named_user_only() {
    let t = ApiTest::new();
    let (status, body) = t.operator().post("/tokens", json!({"name": "x"})).await;
    assert_eq!(
        (status, code(&body), body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("user")),
        "{body}"
    );
    let (status, created) = t
        .operator()
        .post("/tokens", json!({"name": "x", "user": t.fx.admin_id.0}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["token"]["created_by"]["kind"], "operator");
}

#[actix_web::test]
async fn each_way_a_site_token_request_goes_wrong_has_its_own_status_and_writes_nothing() {
    let t = ApiTest::new();
    // An operator token and a token of another site are not this site's.
    let (_, op) = t
        .operator()
        .at("/api/v1")
        .post("/operator/tokens", json!({"name": "ops"}))
        .await;
    let op_id = op["token"]["id"].as_u64().unwrap();
    let other = t.fx.another_site("globex");
    let (_, theirs) = t
        .operator()
        .at("/s/globex/api/v1")
        .post(
            "/tokens",
            json!({"name": "theirs", "user": other.admin_id.0}),
        )
        .await;
    let theirs_id = theirs["token"]["id"].as_u64().unwrap();

    let before = (t.fx.snapshot(), registry_state(&t.fx));
    let cases = [
        (
            t.anonymous().get("/tokens").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            t.teacher().get("/tokens").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().post("/tokens", json!({"name": "me"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.learner().delete(&format!("/tokens/{theirs_id}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            t.admin()
                .post("/tokens", json!({"name": "x", "user": 999}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().post("/tokens", json!({"name": " "})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            t.admin().post("/tokens", json!({"user": 1})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            t.admin()
                .post("/tokens", json!({"name": "x", "scope": "operator"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            t.admin().delete("/tokens/999").await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete(&format!("/tokens/{op_id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().delete(&format!("/tokens/{theirs_id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            t.admin().get("/tokens?cursor=x").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            t.admin().get("/tokens?q=x").await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    }
    assert_eq!((t.fx.snapshot(), registry_state(&t.fx)), before);
}

#[actix_web::test]
async fn an_operator_mints_lists_and_revokes_operator_tokens() {
    let t = ApiTest::new();
    let ops = || t.operator().at("/api/v1");
    let (status, created) = ops()
        .post("/operator/tokens", json!({"name": "backup job"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["token"]["id"].as_u64().unwrap();
    let operator = created["token"]["acts_as"]["operator"].as_u64().unwrap();
    assert_eq!(
        created["token"]["acts_as"],
        json!({"kind": "operator", "operator": operator})
    );
    let secret = secret(&created);
    let mine = || t.client(Some(&secret)).at("/api/v1");
    assert_eq!(mine().get("/sites").await.0, StatusCode::OK);

    let (_, page) = ops().get("/operator/tokens?limit=1000").await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["test", "test", "test", "ops", "backup job"],
        "every token of the host, in id order"
    );
    let (_, first) = ops().get("/operator/tokens?limit=2").await;
    assert_eq!(first["next_cursor"], "2");

    let (status, revoked) = ops().delete(&format!("/operator/tokens/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(mine().get("/sites").await.0, StatusCode::UNAUTHORIZED);
    // Operators revoke site tokens too.
    let (_, site_token) = t.admin().post("/tokens", json!({"name": "x"})).await;
    let site_id = site_token["token"]["id"].as_u64().unwrap();
    let (status, _) = ops().delete(&format!("/operator/tokens/{site_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let site_secret = site_token["secret"].as_str().unwrap();
    let (status, _) = t.client(Some(site_secret)).get("/tokens").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn site_users_are_refused_on_the_operator_token_routes() {
    let t = ApiTest::new();
    let (_, own) = t.admin().post("/tokens", json!({"name": "own"})).await;
    let own_id = own["token"]["id"].as_u64().unwrap();
    let before = (t.fx.snapshot(), registry_state(&t.fx));
    let admin = || t.admin().at("/api/v1");
    for (status, body) in [
        admin().get("/operator/tokens").await,
        admin()
            .post("/operator/tokens", json!({"name": "root"}))
            .await,
        // Even a token of the admin's own site: the operator route is
        // for operators.
        admin().delete(&format!("/operator/tokens/{own_id}")).await,
    ] {
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{body}"
        );
    }
    let (status, _) = t.anonymous().at("/api/v1").get("/operator/tokens").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = t
        .operator()
        .at("/api/v1")
        .delete("/operator/tokens/999")
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!((t.fx.snapshot(), registry_state(&t.fx)), before);
}
